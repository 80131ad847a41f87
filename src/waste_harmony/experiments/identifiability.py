"""Know before you spend: which parameters the chosen observations can inform.

:func:`identifiability` runs a small design — around a few points of the prior,
a Latin hypercube of parameter sets in a box of a quarter of each prior's 90 %
width, one run each — and estimates from it, for the observations given and for
others the runs record anyway:

* the **sensitivity** ``J = ∂E[s]/∂θ`` of the expected statistics to the parameters,
  the slopes of a linear regression of the statistics on the parameters around
  each point;
* the **noise covariance** of the statistics, from the regression's residuals;
* the **Fisher information** ``I`` of the Gaussian approximation of the statistics'
  likelihood (the one synthetic likelihood uses, Wood 2010) — of the statistics'
  best *linear summary* ``t = J D⁻¹ s`` (``D`` their noise variances), the summary
  semi-automatic ABC builds: with many statistics and few runs the information of
  all of them is not estimable, and noise in ``Ĵ`` would pass for information. The
  summary's direction is learnt on half of the runs (from the statistics whose
  slope stands out of the noise when there are many) and its information measured
  on the other half, with the bias of an estimated slope removed
  (``E[B̂ Σ⁻¹ B̂ᵀ] = B Σ⁻¹ Bᵀ + q (XᵀX)⁻¹``); the halves swap and the two are
  averaged. This errs on the side of too little information, never too much;
* the **predicted posterior width**: the 90 % width of ``(I + P)⁻¹``, ``P`` the
  prior precision, as a share of the prior's 90 % width (the Cramér–Rao bound
  combined with the prior: a Fisher forecast, as in the design of experiments).

A parameter whose predicted width stays near the prior's at every design point
cannot be learnt from those observations, however many runs a calibration spends.
The same runs also predict the width for *other* observations — every day of the
observed variables, another model variable, a variable per neighbourhood — so the
report says which data would identify it.

The forecast is local and Gaussian; it is a guide before the calibration, whose
own contraction table is the answer after it.

References
----------
Wood, S. N. (2010). Statistical inference for noisy nonlinear ecological dynamic
systems. *Nature* 466, 1102–1104.

Raue, A. et al. (2009). Structural and practical identifiability analysis of
partially observed dynamical models by exploiting the profile likelihood.
*Bioinformatics* 25(15), 1923–1929 (practical identifiability).

Fearnhead, P. & Prangle, D. (2012). Constructing summary statistics for
approximate Bayesian computation: semi-automatic approximate Bayesian computation.
*J. R. Stat. Soc. B* 74(3), 419–474 (the linear summary).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "Identifiability",
    "design_points",
    "identifiability",
    "linear_information",
    "predicted_width_ratio",
]

_Z90 = 1.6448536269514722  # standard normal 95 % quantile: a 90 % interval is ±_Z90 sd
_MODEL_TO_NODE = {
    "mean_concern": "concern",
    "recycling_participation": "recycling_share",
    "protest_share": "protest_share",
    "waste_stock_kg": "waste_stock_kg",
    "mean_pollution": "pollution",
    "organism_biomass": "organism_biomass",
    "biotech_adoption": "biotech_adoption",
}
_NOT_OBSERVABLE = {"facility_status", "waste_balance_error_kg"}


# ---------------------------------------------------------------------------- pure parts
def _slopes(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least-squares slopes of ``y`` on centred ``x``: ``(B (p, k), residuals, (XᵀX)⁻¹)``."""
    xc = x - x.mean(axis=0)
    xtx_inv = np.linalg.inv(xc.T @ xc)
    slopes = xtx_inv @ xc.T @ (y - y.mean(axis=0))
    return slopes, y - y.mean(axis=0) - xc @ slopes, xtx_inv


def linear_information(theta: np.ndarray, statistics: np.ndarray) -> np.ndarray:
    """Fisher information of the statistics' best linear summary, from a local design.

    Parameters
    ----------
    theta : ndarray, shape (m, p)
        Parameter sets of the runs (spread around one point; ``m >= 4 (p + 2)``).
    statistics : ndarray, shape (m, k)
        Their statistics (one run each, independent seeds).

    Returns
    -------
    ndarray, shape (p, p)
        Positive semi-definite; a lower bound (on average) of the information of all
        the statistics under a linear-Gaussian approximation.

    Examples
    --------
    Statistics ``s = A θ + N(0, I)``: the information is ``Aᵀ A``.

    >>> rng = np.random.default_rng(1)
    >>> a = np.array([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> theta = rng.uniform(0, 2, (400, 2))
    >>> info = linear_information(theta, theta @ a.T + rng.normal(size=(400, 3)))
    >>> np.allclose(info, a.T @ a, rtol=0.2, atol=0.2)
    True
    """
    p = theta.shape[1]
    ok = np.isfinite(statistics).all(axis=1)
    theta, statistics = theta[ok], statistics[ok]
    halves = (np.arange(len(theta)) % 2 == 0, np.arange(len(theta)) % 2 == 1)
    if min(h.sum() for h in halves) < 2 * (p + 2):
        raise ValueError(
            f"{int(ok.sum())} finished runs are too few to estimate the information of "
            f"{p} parameters (at least {4 * (p + 2)})"
        )
    total = np.zeros((p, p))
    for learn, measure in (halves, halves[::-1]):
        slopes, residuals, xtx_inv = _slopes(theta[learn], statistics[learn])
        var = (residuals**2).sum(axis=0) / (learn.sum() - p - 1)
        varies = var > 0  # a statistic no run changes carries nothing
        slopes, var = slopes[:, varies], var[varies]
        if slopes.shape[1] > learn.sum() / 6:  # many statistics: keep the clear slopes
            t = np.abs(slopes) / np.sqrt(np.outer(np.diag(xtx_inv), var))
            slopes = np.where(t > 2.5, slopes, 0.0)
        u, sv, _ = np.linalg.svd((slopes / var).T, full_matrices=False)
        basis = u[:, sv > 1e-9 * sv.max()] if sv.size and sv.max() > 0 else u[:, :0]
        q = basis.shape[1]
        if q == 0:
            continue
        summary = statistics[measure][:, varies] @ basis
        b, resid, xtx_inv_b = _slopes(theta[measure], summary)
        df = int(measure.sum()) - p - 1
        sigma = resid.T @ resid / df
        inv = np.linalg.inv(sigma) * max(df - q - 1, 1) / df  # unbiased Σ⁻¹
        total += b @ inv @ b.T - q * xtx_inv_b
    info = total / 2  # clipped only after averaging (clipping each half biases upwards)
    values, vectors = np.linalg.eigh((info + info.T) / 2)
    return (vectors * np.clip(values, 0.0, None)) @ vectors.T


def predicted_width_ratio(info: np.ndarray, priors: Mapping[str, Any]) -> np.ndarray:
    """Predicted 90 % posterior width over the prior's 90 % width, per parameter.

    The posterior covariance is forecast as ``(I + P)⁻¹``, ``P`` the diagonal prior
    precision (1 / prior variance); the width is ``2 × 1.645 × sd`` (capped at 1).

    Examples
    --------
    >>> from scipy import stats
    >>> predicted_width_ratio(np.zeros((1, 1)), {"a": stats.norm(0, 1)}).round(2).tolist()
    [1.0]
    """
    prior_var = np.array([float(d.var()) for d in priors.values()])
    widths = np.array([float(np.subtract(*d.ppf([0.95, 0.05]))) for d in priors.values()])
    cov = np.linalg.inv(info + np.diag(1.0 / prior_var))
    return np.minimum(2 * _Z90 * np.sqrt(np.diag(cov)) / widths, 1.0)


def design_points(
    priors: Mapping[str, Any],
    *,
    points: int = 3,
    runs: int = 40,
    box: float = 0.25,
    rng: np.random.Generator,
    admissible: Any = None,
) -> np.ndarray:
    """Parameter sets of the design: a Latin hypercube in a box around each point.

    The points sit on the diagonal of the prior's quantiles, evenly between 0.25 and
    0.75 (the median alone for one point); around each, ``runs`` parameter sets fill
    a box ``box`` times each prior's 90 % width wide (cut to the prior's support),
    dropping sets that ``admissible`` refuses (then drawing more).

    Returns
    -------
    ndarray, shape (points, runs, p)

    Examples
    --------
    >>> from scipy import stats
    >>> x = design_points({"a": stats.uniform(0, 1)}, points=3, runs=5,
    ...                   rng=np.random.default_rng(0))
    >>> x.shape, bool(np.all(np.abs(x[1] - 0.5) <= 0.1125))
    ((3, 5, 1), True)
    """
    names = list(priors)
    levels = [0.5] if points == 1 else np.linspace(0.25, 0.75, points)
    widths = np.array([float(np.subtract(*d.ppf([0.95, 0.05]))) for d in priors.values()])
    supports = np.array([d.support() for d in priors.values()], dtype=float)
    out = np.empty((len(levels), runs, len(names)))
    for m, q in enumerate(levels):
        centre = np.array([float(d.ppf(q)) for d in priors.values()])
        low = np.maximum(centre - box * widths / 2, supports[:, 0])
        high = np.minimum(centre + box * widths / 2, supports[:, 1])
        kept: list[np.ndarray] = []
        for _ in range(100):
            n = runs - len(kept)
            strata = (rng.permuted(np.tile(np.arange(n), (len(names), 1)), axis=1).T
                      + rng.random((n, len(names)))) / n  # fmt: skip
            for row in low + strata * (high - low):
                if admissible is None or admissible(dict(zip(names, row.tolist(), strict=True))):
                    kept.append(row)
            if len(kept) >= runs:
                break
        else:
            raise RuntimeError(
                f"the constraints leave too few parameter sets near the prior's {q:.2f} "
                "quantiles for the identifiability check"
            )
        out[m] = np.array(kept[:runs])
    return out


# ---------------------------------------------------------------------------- report
@dataclass
class Identifiability:
    """What a set of observations can tell about each parameter, predicted before spending.

    Attributes
    ----------
    table : pandas.DataFrame
        Per parameter: ``width_low``, ``width_median``, ``width_high`` (predicted 90 %
        posterior width as a share of the prior's, over the design points) and
        ``verdict`` (``"identified"``, ``"partly"`` or ``"not identified"``).
    candidates : pandas.DataFrame
        Per candidate set of observations (rows; ``"as observed"`` first): the median
        predicted width of each parameter and ``statistics`` (how many).
    observations : dict
        Candidate name → its observations (``variable``, ``node``, ``day``).
    threshold : float
        Width ratio below which a parameter counts as identified.
    runs : int
        Model runs the check took.
    failed : int
        Those that failed (left out).
    """

    table: pd.DataFrame
    candidates: pd.DataFrame
    observations: dict[str, pd.DataFrame] = field(repr=False)
    threshold: float = 0.5
    runs: int = 0
    failed: int = 0

    @property
    def unidentified(self) -> list[str]:
        """Parameters not identified at every design point."""
        return self.table.loc[self.table["verdict"] != "identified", "parameter"].tolist()

    def recommend(self, parameter: str, top: int = 3) -> pd.DataFrame:
        """The single candidate observations predicted to narrow ``parameter`` most."""
        cand = self.candidates[
            (self.candidates["candidate"] != "as observed")
            & ~self.candidates["candidate"].str.startswith("all recommended")
        ]
        return cand.nsmallest(top, parameter)[["candidate", parameter, "statistics"]]

    def __str__(self) -> str:
        lines = [
            f"Identifiability check ({self.runs} runs; predicted 90% posterior width as a "
            "share of the prior's, over the design points):"
        ]
        for row in self.table.itertuples():
            lines.append(
                f"  {row.parameter}: {row.width_median:.2f} "
                f"[{row.width_low:.2f}-{row.width_high:.2f}] -> {row.verdict}"
            )
        current = self.table.set_index("parameter")["width_median"]
        for name in self.unidentified:
            best = self.recommend(name, 2)
            helpful = [
                f"{candidate} ({width:.2f})"
                for candidate, width in zip(best["candidate"], best[name], strict=True)
                if width < current[name] - 0.05
            ]
            lines.append(
                f"  to inform {name}: "
                + ("; ".join(helpful) if helpful else "none of the recorded outputs would help")
            )
        union = self.candidates[self.candidates["candidate"].str.startswith("all recommended")]
        for record in union.to_dict("records"):
            widths = ", ".join(f"{n} {record[n]:.2f}" for n in self.table["parameter"])
            lines.append(f"  {record['candidate']} ({record['statistics']} statistics): {widths}")
        return "\n".join(lines)

    def recommended(self) -> pd.DataFrame:
        """The observations to collect: the union of the recommendations, else those given.

        Returns
        -------
        pandas.DataFrame
            ``variable``, ``node`` (``""``: model level) and ``day`` of each observation.
        """
        for label in self.observations:
            if label.startswith("all recommended"):
                return self.observations[label]
        best = [self.recommend(name, 1)["candidate"].iloc[0] for name in self.unidentified]
        current = self.table.set_index("parameter")["width_median"]
        for name, label in zip(self.unidentified, best, strict=True):
            row = self.candidates.set_index("candidate").loc[label]
            if row[name] < current[name] - 0.05:
                return self.observations[label]
        return self.observations["as observed"]


def _verdict(low: float, high: float, threshold: float) -> str:
    if high < threshold:
        return "identified"
    return "partly" if low < threshold else "not identified"


# ---------------------------------------------------------------------------- candidates
def _candidates(
    observed: pd.DataFrame, model_vars: list[str], node_vars: list[str], nodes: list[str], days: int
) -> dict[str, pd.DataFrame]:
    """Candidate observation sets built around the observed ones."""
    keys = observed[["variable", "node", "day"]].reset_index(drop=True)
    obs_days = sorted(set(keys["day"]))
    out = {"as observed": keys}
    every = [
        {"variable": v, "node": n, "day": d}
        for (v, n) in keys[["variable", "node"]].drop_duplicates().itertuples(index=False)
        for d in range(1, days + 1)
    ]
    out["observed variables, every day"] = pd.DataFrame(every)
    seen = set(zip(keys["variable"], keys["node"], strict=True))
    for variable in model_vars:
        if (variable, "") not in seen:
            extra = pd.DataFrame({"variable": variable, "node": "", "day": obs_days})
            out[f"+ {variable}"] = pd.concat([keys, extra], ignore_index=True)
    for variable in node_vars:
        extra = pd.DataFrame(
            [{"variable": variable, "node": n, "day": d} for d in obs_days for n in nodes]
        )
        extra = extra[~extra.apply(lambda r: (r["variable"], r["node"]) in seen, axis=1)]
        out[f"+ {variable} per neighbourhood"] = pd.concat([keys, extra], ignore_index=True)
    return out


def _features(statistics: np.ndarray) -> np.ndarray:
    """The statistics and their squared standardised deviations (spread carries information too).

    A parameter may move the spread of the statistics rather than their mean (the
    spread of initial concern shows in how neighbourhood means scatter), which a
    linear summary of the statistics alone cannot see; semi-automatic ABC's summaries
    include the squares for the same reason.
    """
    centre = np.nanmedian(statistics, axis=0)
    spread = np.nanstd(statistics, axis=0)
    z = (statistics - centre) / np.where(spread > 0, spread, 1.0)
    return np.column_stack([statistics, z**2])


class _Values:
    """Simulated values of any (variable, node, day) for each run of the design."""

    def __init__(self, model: pd.DataFrame, hoods: pd.DataFrame | None, runs: int) -> None:
        self.model = model.set_index(["point", "day"]).sort_index()
        self.hoods = None
        if hoods is not None:
            hoods = hoods.assign(node=hoods["node"].astype(str))
            self.hoods = hoods.set_index(["point", "node", "day"]).sort_index()
        self.runs = runs

    def array(self, keys: pd.DataFrame) -> np.ndarray:
        """``(runs, len(keys))``; NaN for a failed run."""
        out = np.full((self.runs, len(keys)), np.nan)
        for column, (variable, node, day) in enumerate(keys.itertuples(index=False)):
            if node == "":
                series = self.model[variable].xs(int(day), level="day")
            else:
                assert self.hoods is not None
                series = self.hoods[variable].xs((str(node), int(day)), level=("node", "day"))
            out[series.index.to_numpy(), column] = series.to_numpy(dtype=float)
        return out


# ---------------------------------------------------------------------------- the check
def identifiability(
    model: Any = None,
    *,
    priors: Mapping[str, Any],
    observed: pd.DataFrame,
    days: int | None = None,
    points: int = 3,
    runs: int | None = None,
    box: float = 0.25,
    threshold: float = 0.5,
    seed: int = 0,
    candidates: bool = True,
    executor: Any = None,
    workers: int | None = None,
    out: str | os.PathLike[str] | None = None,
    resume: bool = False,
    progress: bool = True,
    **kwargs: Any,
) -> Identifiability:
    """Predict, from a small design, which parameters the observations can identify.

    Parameters
    ----------
    model : class, callable or RunConfig, optional
        What to build, as in :func:`~waste_harmony.experiments.calibrate`.
    priors : mapping
        Parameter → ``(low, high)`` or a frozen ``scipy.stats`` distribution.
    observed : pandas.DataFrame
        The observations (``day``, ``variable``, ``value``, optional ``node``); only
        their keys are used.
    days : int, optional
        Days per run (default: the run file's, else the last observed day).
    points : int
        Design points (on the diagonal of the prior quantiles 0.25–0.75).
    runs : int, optional
        Runs around each point (default ``max(30, 15 p)``).
    box : float
        Width of the box around each point, as a share of each prior's 90 % width.
    threshold : float
        Predicted width ratio below which a parameter counts as identified.
    seed : int
        Root seed of the design and its runs.
    candidates : bool
        Also predict for other observations the runs record (more days, other
        variables, per-neighbourhood series).
    executor, workers, out, resume, progress
        As in :func:`~waste_harmony.experiments.sweep` (``out``: the design's runs).
    **kwargs
        Fixed model keyword arguments.

    Returns
    -------
    Identifiability
        After ``points × runs`` model runs.

    Examples
    --------
    >>> import pandas as pd
    >>> obs = pd.DataFrame({"day": [4], "variable": ["waste_generated_kg"], "value": [30.0]})
    >>> check = identifiability(priors={"waste_per_capita_kg": (0.3, 1.2),
    ...                                 "concern_convergence": (0.05, 0.5)},
    ...                         observed=obs, n_citizens=40, days=4, points=1,
    ...                         candidates=False, executor="serial", progress=False)
    >>> check.table["verdict"].tolist()
    ['identified', 'not identified']
    """
    from waste_harmony.batch.runner import sweep
    from waste_harmony.experiments.abc import make_priors
    from waste_harmony.experiments.constraints import model_violations
    from waste_harmony.experiments.observations import check_observed
    from waste_harmony.recording import MODEL_VARIABLES

    prior_dists = make_priors(priors)
    obs = check_observed(observed)
    if days is None:
        days = int(getattr(model, "days", None) or obs["day"].max())
    names = list(prior_dists)
    p = len(names)
    runs = max(30, 15 * p) if runs is None else runs
    for label, value, least in (("points", points, 1), ("runs", runs, 4 * (p + 2))):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValueError(f"{label} must be an integer >= {least}, got {value!r}")
    if not 0 < box <= 1:
        raise ValueError(f"box must be a share of the prior width in (0, 1], got {box}")
    check = model_violations(model, kwargs)
    design = design_points(
        prior_dists,
        points=points,
        runs=runs,
        box=box,
        rng=np.random.default_rng([seed, 0x1D]),
        admissible=lambda values: not check(values),
    )
    rows = [dict(zip(names, map(float, row), strict=True)) for row in design.reshape(-1, p)]
    result = sweep(
        model,
        parameters=rows,
        seeds=1,
        days=days,
        root_seed=seed,
        common_random_numbers=False,
        out=out,
        resume=resume,
        executor=executor,
        workers=workers,
        progress=progress,
        **kwargs,
    )
    model_vars = [
        v
        for v in MODEL_VARIABLES
        if v not in _NOT_OBSERVABLE and (v in set(obs["variable"]) or candidates)
    ]
    # a study's own outputs (model_reporters=) are observable too, though not built in
    model_vars += sorted(set(obs.loc[obs["node"] == "", "variable"]) - set(MODEL_VARIABLES))
    obs_days = sorted(set(obs["day"]))
    model_frame = result.load(model_vars, kind="model")
    node_vars = {v for v, n in zip(obs["variable"], obs["node"], strict=True) if n}
    if candidates:
        node_vars |= {_MODEL_TO_NODE[v] for v in obs["variable"] if v in _MODEL_TO_NODE}
    hoods = None
    if node_vars:
        observed_nodes = set(obs.loc[obs["node"] != "", "node"])
        hoods = result.load(sorted(node_vars), kind="neighborhoods")
        keep = hoods["day"].isin(obs_days) | hoods["node"].astype(str).isin(observed_nodes)
        hoods = hoods[keep]
    values = _Values(model_frame, hoods, len(rows))
    nodes = [] if hoods is None else sorted(set(hoods["node"].astype(str)))
    sets = (
        _candidates(obs, model_vars, sorted(node_vars), nodes, days)
        if candidates
        else {"as observed": obs[["variable", "node", "day"]].reset_index(drop=True)}
    )

    def forecast(keys: pd.DataFrame) -> np.ndarray:
        y = values.array(keys).reshape(points, runs, len(keys))
        return np.array(
            [
                predicted_width_ratio(linear_information(design[m], _features(y[m])), prior_dists)
                for m in range(points)
            ]
        )

    widths = {label: forecast(keys) for label, keys in sets.items()}
    base = widths["as observed"]
    # Every candidate holds the observed keys, and statistics added to a set cannot lower
    # its information (it only grows in the Loewner order), so a candidate's width is at
    # most the observed set's. The estimate can say otherwise when hundreds of statistics
    # meet a few dozen runs (its slope screening drops more); take the sharper bound.
    widths = {label: np.minimum(w, base) for label, w in widths.items()}
    table = pd.DataFrame(
        {
            "parameter": names,
            "width_low": base.min(axis=0),
            "width_median": np.median(base, axis=0),
            "width_high": base.max(axis=0),
        }
    )
    table["verdict"] = [
        _verdict(lo, hi, threshold)
        for lo, hi in zip(table["width_low"], table["width_high"], strict=True)
    ]
    # every unidentified parameter's most helpful candidate, all together
    chosen = []
    for j in range(p):
        if table["verdict"].iloc[j] == "identified":
            continue
        medians = {lab: float(np.median(w[:, j])) for lab, w in widths.items()}
        label = min(medians, key=medians.__getitem__)
        if np.median(widths[label][:, j]) < np.median(base[:, j]) - 0.05 and label not in chosen:
            chosen.append(label)
    if len(chosen) > 1:
        union = pd.concat([sets[label] for label in chosen]).drop_duplicates(ignore_index=True)
        label = "all recommended: " + " & ".join(c.removeprefix("+ ") for c in chosen)
        sets[label] = union
        widths[label] = np.minimum.reduce([forecast(union), *(widths[c] for c in chosen)])
    cand = pd.DataFrame(
        [
            {"candidate": label, **dict(zip(names, np.median(w, axis=0), strict=True)),
             "statistics": len(sets[label])}
            for label, w in widths.items()
        ]
    )  # fmt: skip
    return Identifiability(
        table=table,
        candidates=cand,
        observations=sets,
        threshold=threshold,
        runs=len(rows),
        failed=result.n_failed,
    )
