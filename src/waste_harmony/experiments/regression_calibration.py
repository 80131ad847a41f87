"""Calibration by regression ABC: a reference table from the prior, then the posterior.

What :func:`~waste_harmony.experiments.calibrate` runs with ``method="abc-reg"`` (the
default): the whole budget is spent on one reference table — parameter sets drawn
from the prior (restricted to the model's declared ranges and joint constraints
and to the user's constraint), ``replicates`` runs each, only their statistics kept
(:mod:`~waste_harmony.experiments.reftable`) — and the posterior is computed from it
by semi-automatic summaries, rejection and regression adjustment
(:mod:`~waste_harmony.experiments.abcreg`). Adjusted parameter sets that break a
constraint get weight 0 (the posterior is 0 there).

The result is laid out as ABC-SMC's, two "generations": generation 0 is the
reference table (the prior sample, equal weights, with each run's distance to the
observations), generation 1 the adjusted posterior sample (the kept simulations,
kernel weights).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["TABLE_FOLDER", "calibrate_by_regression"]

#: Subfolder of a calibration's ``out`` holding the reference table's batch files.
TABLE_FOLDER = "table"


def calibrate_by_regression(
    model: Any,
    *,
    priors: Mapping[str, Any],
    observed: pd.DataFrame,
    statistics: Callable[[dict[str, Any]], np.ndarray],
    budget: int,
    replicates: int,
    days: int,
    fixed: Mapping[str, Any],
    admissible: Callable[[Mapping[str, float]], bool],
    seed: int,
    folder: Path,
    executor: Any = None,
    workers: int | None = None,
    progress: bool = True,
    accept: int | None = None,
    batch_size: int = 500,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Simulate the reference table and compute the regression-adjusted posterior.

    Parameters
    ----------
    model : class, callable or RunConfig
        What to build.
    priors : mapping
        Name → frozen scipy distribution.
    observed : pandas.DataFrame
        Checked observations (:func:`~waste_harmony.experiments.calibration.check_observed`).
    statistics : callable
        Computes a run's statistics at the observations, in the worker.
    budget, replicates : int
        Runs in total; runs per parameter set.
    days : int
        Days per run.
    fixed : mapping
        Fixed keyword arguments of the model.
    admissible : callable
        ``admissible(values) -> bool``: the model's constraints and the user's.
    seed : int
        Root seed (prior draws and runs).
    folder : pathlib.Path
        The calibration folder (the table goes to ``folder / "table"``).
    executor, workers, progress
        As in :func:`~waste_harmony.experiments.sweep`.
    accept : int, optional
        Simulations kept (default: that of
        :func:`~waste_harmony.experiments.abcreg.regression_posterior`).
    batch_size : int
        Parameter sets per batch file.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame, dict)
        Particles, generations and manifest entries (``bandwidth``, ``failed``,
        ``constraint_dropped``).
    """
    from waste_harmony.experiments import abc, abcreg
    from waste_harmony.experiments.reftable import simulate_table

    names = list(priors)
    rng = np.random.default_rng([seed, 0, 0])
    thetas = abc.sample_prior(priors, budget // replicates, rng, admissible)
    table = simulate_table(
        model,
        names=names,
        thetas=thetas,
        statistics=statistics,
        n_statistics=len(observed),
        days=days,
        fixed=fixed,
        seed=seed,
        folder=folder / TABLE_FOLDER,
        replicates=replicates,
        batch_size=batch_size,
        executor=executor,
        workers=workers,
        progress=progress,
    )
    post = abcreg.regression_posterior(
        table.theta, table.statistics, observed["value"].to_numpy(), priors, accept=accept
    )
    weight = post.weight.copy()
    for i, row in enumerate(post.theta):
        if not admissible(dict(zip(names, map(float, row), strict=True))):
            weight[i] = 0.0
    dropped = int((weight == 0).sum() - (post.weight == 0).sum())
    if not weight.sum() > 0:
        raise RuntimeError(
            "every adjusted parameter set breaks a constraint; calibrate with "
            "method='abc-smc', which keeps proposals inside the constraints"
        )
    weight /= weight.sum()
    ok = np.isfinite(table.statistics).all(axis=1)
    prior_sample = pd.DataFrame(table.theta, columns=names)
    prior_sample.insert(0, "particle", np.arange(len(prior_sample)))
    prior_sample.insert(0, "generation", 0)
    prior_sample["weight"] = np.where(ok, 1.0 / max(int(ok.sum()), 1), 0.0)
    prior_sample["distance"] = post.distance
    posterior = pd.DataFrame(post.theta, columns=names)
    posterior.insert(0, "particle", post.rows)
    posterior.insert(0, "generation", 1)
    posterior["weight"] = weight
    posterior["distance"] = post.distance[post.rows]
    particles = pd.concat([prior_sample, posterior], ignore_index=True)
    ess = float(weight.sum() ** 2 / (weight**2).sum())
    generations = pd.DataFrame(
        [
            {
                "generation": 0,
                "epsilon": float("inf"),
                "ess": float(ok.sum()),
                "runs": len(table.theta),
                "proposals": len(table.theta),
                "accepted": int(ok.sum()),
                "acceptance_rate": float(ok.mean()),
                "batches": table.batches,
                "complete": True,
                "failed": table.failed,
            },
            {
                "generation": 1,
                "epsilon": post.bandwidth,
                "ess": ess,
                "runs": 0,
                "proposals": len(table.theta),
                "accepted": int((weight > 0).sum()),
                "acceptance_rate": float((weight > 0).sum() / len(table.theta)),
                "batches": 0,
                "complete": True,
                "failed": 0,
            },
        ]
    )
    extra = {
        "bandwidth": post.bandwidth,
        "failed": table.failed,
        "constraint_dropped": dropped,
        "errors": table.errors[:20],
    }
    return particles, generations, extra
