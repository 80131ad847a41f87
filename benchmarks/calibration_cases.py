"""Calibration problems on the real model, shared by the calibration benchmarks.

Each :class:`Case` names the calibrated parameters with their priors, the fixed model
settings and the observations (model-level variables on given days), simulates one
run in this process (:meth:`Case.simulate`) and, where one exists, gives the exact
posterior (:mod:`waste_harmony.experiments.exact`).

* ``waste``: ``waste_per_capita_kg`` from 6 daily waste totals of a 1,000-citizen
  city (exact: Gamma likelihood);
* ``recycling``: ``recycling_intercept`` alone (other recycling weights 0) from 6
  days of recycling participation of a 1,000-citizen city (exact: binomial);
* ``two``: ``waste_per_capita_kg`` and ``recycling_intercept`` from
  ``waste_generated_kg`` and ``recycling_rate`` on 6 days of a 1,000-citizen run
  (issue 20's second case);
* ``three``: ``recycling_weight_norm``, ``pollution_concern_rate`` and
  ``initial_concern_sd`` from recycling rate and mean concern on days 20–120 of a
  400-citizen run (issue 20's third case: what the user observed);
* ``target``: ``recycling_weight_norm``, ``recyclable_fraction`` and
  ``waste_per_capita_kg`` from the same observations as ``three`` (the
  identifiability check's target case: the recycling rate by weight cannot tell how
  many recycle from how much of their waste is recyclable, nor say how much waste
  there is; ``benchmarks/calibration_target.py`` adds what the check recommends);
* ``ridge``: ``recycling_intercept``, ``recycling_weight_norm`` and
  ``waste_per_capita_kg`` from the same observations: the intercept and the norm
  weight trade off along a ridge no recorded output breaks (the check says so);
* ``sbc``: ``recycling_intercept``, ``recycling_weight_concern`` and
  ``initial_concern_mean`` from recycling participation and mean concern on days
  5–30 of a 200-citizen city (the simulation-based calibration of the default).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from waste_harmony import CityModel
from waste_harmony.experiments import exact


@dataclass(frozen=True)
class Case:
    """A calibration problem: priors, fixed settings, observations, exact posterior."""

    name: str
    priors: dict[str, Any]
    fixed: dict[str, Any]
    days: int
    observations: list[tuple[str, int]]  # (model variable, day)
    exact: Callable[[np.ndarray], exact.GridPosterior] | None = None
    node_observations: list[tuple[str, str, int]] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return list(self.priors)

    def simulate(self, theta: np.ndarray, seed: int) -> np.ndarray:
        """One run's statistics (model-level first, then neighbourhood ones)."""
        params = dict(zip(self.names, map(float, theta), strict=True))
        model = CityModel(rng=int(seed), **self.fixed, **params)
        model.run_for(self.days)
        frame = model.model_frame()
        values = [float(frame.loc[day, variable]) for variable, day in self.observations]
        if self.node_observations:
            hoods = model.neighborhood_frame().set_index(["day", "node"])
            values += [
                float(hoods.loc[(day, _node(hoods, node)), variable])
                for variable, node, day in self.node_observations
            ]
        return np.array(values)

    def observed_frame(self, values: np.ndarray) -> pd.DataFrame:
        """The statistics as ``calibrate``'s observed frame."""
        rows = [
            {"day": day, "variable": variable, "value": float(v), "node": None}
            for (variable, day), v in zip(self.observations, values, strict=False)
        ]
        rows += [
            {"day": day, "variable": variable, "value": float(v), "node": node}
            for (variable, node, day), v in zip(
                self.node_observations, values[len(self.observations) :], strict=True
            )
        ]
        return pd.DataFrame(rows)

    def draw_truth(self, rng: np.random.Generator) -> np.ndarray:
        return np.array([p.rvs(random_state=rng) for p in self.priors.values()])


def _node(hoods: pd.DataFrame, node: str) -> Any:
    """The node label as the frame stores it (ints for grid cities)."""
    labels = hoods.index.get_level_values("node")
    return type(labels[0])(node) if len(labels) else node


NO_RECYCLING_WEIGHTS = {
    "recycling_weight_concern": 0.0,
    "recycling_weight_norm": 0.0,
    "recycling_weight_infrastructure": 0.0,
}

WASTE = Case(
    "waste",
    {"waste_per_capita_kg": stats.uniform(0.2, 1.8)},
    {"n_citizens": 1000},
    6,
    [("waste_generated_kg", d) for d in range(1, 7)],
    exact=lambda v: exact.waste_per_capita_posterior(
        v, n_citizens=1000, cv=0.5, prior=stats.uniform(0.2, 1.8)
    ),
)

RECYCLING = Case(
    "recycling",
    {"recycling_intercept": stats.uniform(-5.0, 6.0)},
    {"n_citizens": 1000, **NO_RECYCLING_WEIGHTS},
    6,
    [("recycling_participation", d) for d in range(1, 7)],
    exact=lambda v: exact.recycling_intercept_posterior(
        v, n_citizens=1000, prior=stats.uniform(-5.0, 6.0)
    ),
)

TWO = Case(
    "two",
    {"waste_per_capita_kg": stats.uniform(0.2, 1.8), "recycling_intercept": stats.uniform(-5, 6)},
    {"n_citizens": 1000},
    6,
    [(v, d) for v in ("waste_generated_kg", "recycling_rate") for d in range(1, 7)],
)

THREE_PRIORS = {
    "recycling_weight_norm": stats.uniform(0.0, 5.0),
    "pollution_concern_rate": stats.uniform(0.0, 0.005),
    "initial_concern_sd": stats.uniform(0.05, 0.35),
}
THREE_OBSERVATIONS = [
    (v, d) for v in ("recycling_rate", "mean_concern") for d in range(20, 121, 20)
]

THREE = Case("three", THREE_PRIORS, {"n_citizens": 400}, 120, THREE_OBSERVATIONS)

TARGET_PRIORS = {
    "recycling_weight_norm": stats.uniform(0.0, 5.0),
    "recyclable_fraction": stats.uniform(0.2, 0.4),
    "waste_per_capita_kg": stats.uniform(0.3, 1.2),
}

TARGET = Case("target", TARGET_PRIORS, {"n_citizens": 400}, 120, THREE_OBSERVATIONS)

RIDGE_PRIORS = {
    "recycling_intercept": stats.uniform(-5.0, 4.0),
    "recycling_weight_norm": stats.uniform(0.0, 5.0),
    "waste_per_capita_kg": stats.uniform(0.3, 1.2),
}

RIDGE = Case("ridge", RIDGE_PRIORS, {"n_citizens": 400}, 120, THREE_OBSERVATIONS)

SBC = Case(
    "sbc",
    {
        "recycling_intercept": stats.uniform(-5.0, 4.0),
        "recycling_weight_concern": stats.uniform(0.0, 6.0),
        "initial_concern_mean": stats.uniform(0.2, 0.5),
    },
    {"n_citizens": 200},
    30,
    [(v, d) for v in ("recycling_participation", "mean_concern") for d in range(5, 31, 5)],
)

CASES = {case.name: case for case in (WASTE, RECYCLING, TWO, THREE, TARGET, RIDGE, SBC)}


def save_figure(fig: Any, path: str | Path) -> None:
    """Lay out ``fig`` and write it to ``path`` (folders made), as every calibration figure."""
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    print(f"figure -> {path}")
