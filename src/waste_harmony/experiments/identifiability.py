"""Know before you spend: which parameters the chosen observations can inform.

:func:`identifiability` runs a small design — at a few points of the prior, the
point itself and a step up and down in each parameter, a few seeds each, the same
seeds at every point (common random numbers) — and estimates from it, for the
observations given and for others the runs record anyway:

* the **sensitivity** ``J = ∂E[s]/∂θ`` of the expected statistics to each parameter
  (central differences, averaged over the paired seeds);
* the **noise covariance** ``Σ`` of the statistics between runs with the same
  parameters (pooled over the design's points, shrunk towards its diagonal by the
  Schäfer & Strimmer 2005 estimate, since there are more statistics than seeds);
* the **Fisher information** of the Gaussian approximation of the statistics'
  likelihood (the one synthetic likelihood uses, Wood 2010),
  ``I = Jᵀ Σ⁻¹ J``, with the bias of estimated derivatives removed
  (``E[Ĵᵀ Σ⁻¹ Ĵ] = Jᵀ Σ⁻¹ J + tr(Σ⁻¹ Cov Ĵ)``);
* the **predicted posterior width**: the 90 % width of ``(I + P)⁻¹`` with ``P`` the
  prior precision, as a share of the prior's 90 % width (the Cramér–Rao bound
  combined with the prior: a local, Gaussian forecast, like a Fisher forecast in
  survey design).

A parameter whose predicted width stays near the prior's at every design point
cannot be learnt from those observations, however many runs a calibration spends.
The same runs also predict the width for *other* observations — every day of the
observed variables, another model variable, a variable per neighbourhood — so the
report says which data would identify it.

The forecast is local (derivatives at a few points) and Gaussian; it is a guide
before the calibration, whose own contraction table is the answer after it.

References
----------
Schäfer, J. & Strimmer, K. (2005). A shrinkage approach to large-scale covariance
matrix estimation. *Statistical Applications in Genetics and Molecular Biology* 4(1), 32.

Wood, S. N. (2010). Statistical inference for noisy nonlinear ecological dynamic
systems. *Nature* 466, 1102–1104.

Raue, A. et al. (2009). Structural and practical identifiability analysis of
partially observed dynamical models by exploiting the profile likelihood.
*Bioinformatics* 25(15), 1923–1929 (practical identifiability).
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
    "fisher_information",
    "identifiability",
    "predicted_width_ratio",
    "shrunk_covariance",
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
def shrunk_covariance(deviations: np.ndarray, df: int) -> np.ndarray:
    """Covariance from deviations, correlations shrunk towards 0 (Schäfer & Strimmer 2005).

    Parameters
    ----------
    deviations : ndarray, shape (n, k)
        Deviations of each sample from its group mean.
    df : int
        Degrees of freedom (samples minus groups).

    Returns
    -------
    ndarray, shape (k, k)
        ``D^½ R* D^½`` with ``R*`` the correlations multiplied by ``1 − λ``, ``λ`` the
        estimated optimal intensity ("target D" of Schäfer & Strimmer).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(50, 3))
    >>> c = shrunk_covariance(x - x.mean(axis=0), 49)
    >>> c.shape, bool(np.all(np.linalg.eigvalsh(c) > 0))
    ((3, 3), True)
    """
    n, k = deviations.shape
    var = (deviations**2).sum(axis=0) / max(df, 1)
    sd = np.sqrt(np.where(var > 0, var, 1.0))
    x = deviations / sd
    if k == 1 or n < 3:
        return np.diag(var)
    # products w_kij of standardised deviations: r_ij is their mean (× n / df)
    r = (x.T @ x) / max(df, 1)
    w2 = (x**2).T @ (x**2)
    var_r = (n / max(df, 1) ** 3) * (w2 - (r * max(df, 1)) ** 2 / n)
    off = ~np.eye(k, dtype=bool)
    denominator = float((r[off] ** 2).sum())
    lam = 1.0 if denominator <= 0 else float(np.clip(var_r[off].sum() / denominator, 0.0, 1.0))
    corr = r * (1.0 - lam)
    np.fill_diagonal(corr, 1.0)
    # a statistic that never varies between seeds has no row: 0 (see fisher_information)
    return corr * np.outer(sd, sd) * np.outer(var > 0, var > 0)


def _direct_information(
    centre: np.ndarray, plus: np.ndarray, minus: np.ndarray, steps: np.ndarray
) -> np.ndarray:
    """``Jᵀ Σ⁻¹ J`` from paired differences, less the bias of the estimated ``J``."""
    p, r, _ = plus.shape
    groups = [centre, *plus, *minus]
    deviations = np.concatenate([g - g.mean(axis=0) for g in groups])
    sigma = shrunk_covariance(deviations, len(groups) * (r - 1))
    informative = np.diag(sigma) > 0
    if not informative.any():
        return np.zeros((p, p))
    sigma = sigma[np.ix_(informative, informative)]
    diffs = (plus - minus)[:, :, informative] / steps[:, None, None]  # (p, r, k')
    jac = diffs.mean(axis=1)  # (p, k')
    inv = np.linalg.inv(sigma)
    info = jac @ inv @ jac.T
    if r > 1:  # E[Ĵ Σ⁻¹ Ĵᵀ] = J Σ⁻¹ Jᵀ + tr(Σ⁻¹ Cov Ĵ), Cov Ĵ = Cov(D) / r
        centred = diffs - jac[:, None, :]
        info = info - np.einsum("arx,xy,bry->ab", centred, inv, centred) / ((r - 1) * r)
    info = (info + info.T) / 2
    values, vectors = np.linalg.eigh(info)
    return (vectors * np.clip(values, 0.0, None)) @ vectors.T


def fisher_information(
    centre: np.ndarray, plus: np.ndarray, minus: np.ndarray, steps: np.ndarray
) -> np.ndarray:
    """Fisher information of the statistics' best linear summary, from paired differences.

    With many statistics and few seeds, ``Jᵀ Σ⁻¹ J`` over all of them is not
    estimable (``Σ`` has more entries than the runs can tell, and the estimated
    derivatives' noise adds up over the statistics). So the statistics are first
    reduced to ``p`` linear summaries ``t = Ĵ D⁻¹ s`` (``D`` their noise variances),
    the summaries a calibration by semi-automatic ABC would find, and the
    information of ``t`` is estimated in ``p`` dimensions. The summary's direction is
    learnt from one half of the seeds and its information measured on the other
    (then the halves swap, and the two are averaged), so noise in ``Ĵ`` does not pass
    for information. It is a lower bound of the information in all the statistics.

    Parameters
    ----------
    centre : ndarray, shape (r, k)
        Statistics of ``r`` seeds at the design point (``r >= 4``).
    plus, minus : ndarray, shape (p, r, k)
        The same seeds with parameter ``j`` stepped up / down.
    steps : ndarray, shape (p,)
        Distance between the ``plus`` and ``minus`` points of each parameter.

    Returns
    -------
    ndarray, shape (p, p)
        Positive semi-definite.

    Examples
    --------
    Statistics ``s = A θ + N(0, I)``: the information is ``Aᵀ A``.

    >>> rng = np.random.default_rng(1)
    >>> a = np.array([[2.0, 0.0], [0.0, 0.5], [1.0, 1.0]])
    >>> def sim(theta, noise): return theta @ a.T + noise
    >>> noise = rng.normal(size=(400, 3))
    >>> theta0, h = np.array([1.0, 1.0]), 0.2
    >>> plus = np.stack([sim(theta0 + h / 2 * e, noise) for e in np.eye(2)])
    >>> minus = np.stack([sim(theta0 - h / 2 * e, noise) for e in np.eye(2)])
    >>> info = fisher_information(sim(theta0, noise), plus, minus, np.full(2, h))
    >>> np.allclose(info, a.T @ a, rtol=0.15, atol=0.15)
    True
    """
    p, r, _ = plus.shape
    if r < 4:
        raise ValueError(f"the information needs at least 4 seeds per point, got {r}")
    groups = np.concatenate([centre[None], plus, minus])  # (2p + 1, r, k)
    noise = (groups - groups.mean(axis=1, keepdims=True)).reshape(-1, groups.shape[-1])
    var = (noise**2).sum(axis=0) / (len(groups) * (r - 1))
    keep = var > 0  # a statistic that never varies between seeds is left out
    if not keep.any():
        return np.zeros((p, p))
    groups, var = groups[:, :, keep], var[keep]
    halves = (np.arange(r) < r // 2, np.arange(r) >= r // 2)
    total = np.zeros((p, p))
    for learn, measure in (halves, halves[::-1]):
        jac = ((groups[1 : p + 1, learn] - groups[p + 1 :, learn]) / steps[:, None, None]).mean(1)
        summary = groups[:, measure] @ (jac / var).T  # (2p + 1, r', p)
        total += _direct_information(summary[0], summary[1 : p + 1], summary[p + 1 :], steps)
    return total / 2


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
    priors: Mapping[str, Any], points: int = 3, step: float = 0.1
) -> tuple[np.ndarray, np.ndarray]:
    """Design points at prior quantiles and the step of each parameter.

    The points sit on the diagonal of the prior's quantiles, evenly between 0.25 and
    0.75 (the median alone for one point); each parameter is stepped by ``step``
    times its prior 90 % width (half up, half down).

    Returns
    -------
    (ndarray, ndarray)
        Points ``(points, p)`` and steps ``(p,)``.

    Examples
    --------
    >>> from scipy import stats
    >>> pts, steps = design_points({"a": stats.uniform(0, 1)}, 3)
    >>> pts.ravel().round(2).tolist(), steps.round(2).tolist()
    ([0.25, 0.5, 0.75], [0.09])
    """
    levels = [0.5] if points == 1 else np.linspace(0.25, 0.75, points)
    centres = np.array([[float(d.ppf(q)) for d in priors.values()] for q in levels])
    widths = np.array([float(np.subtract(*d.ppf([0.95, 0.05]))) for d in priors.values()])
    return centres, step * widths


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
    """

    table: pd.DataFrame
    candidates: pd.DataFrame
    observations: dict[str, pd.DataFrame] = field(repr=False)
    threshold: float = 0.5
    runs: int = 0

    @property
    def unidentified(self) -> list[str]:
        """Parameters not identified at every design point."""
        return self.table.loc[self.table["verdict"] != "identified", "parameter"].tolist()

    def recommend(self, parameter: str, top: int = 3) -> pd.DataFrame:
        """The candidate observations predicted to narrow ``parameter`` most."""
        cand = self.candidates[self.candidates["candidate"] != "as observed"]
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
        return "\n".join(lines)


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


class _Values:
    """Simulated values of any (variable, node, day) for each (point, replicate)."""

    def __init__(self, model: pd.DataFrame, hoods: pd.DataFrame | None) -> None:
        self.model = model.set_index(["point", "replicate", "day"]).sort_index()
        self.hoods = None
        if hoods is not None:
            hoods = hoods.assign(node=hoods["node"].astype(str))
            self.hoods = hoods.set_index(["point", "replicate", "node", "day"]).sort_index()
        self.points = int(model["point"].max()) + 1
        self.replicates = int(model["replicate"].max()) + 1

    def array(self, keys: pd.DataFrame) -> np.ndarray:
        out = np.full((self.points, self.replicates, len(keys)), np.nan)
        for column, (variable, node, day) in enumerate(keys.itertuples(index=False)):
            if node == "":
                series = self.model[variable].xs(int(day), level="day")
            else:
                assert self.hoods is not None
                series = self.hoods[variable].xs((str(node), int(day)), level=("node", "day"))
            idx = series.index
            out[idx.get_level_values(0), idx.get_level_values(1), column] = series.to_numpy(
                dtype=float
            )
        return out


# ---------------------------------------------------------------------------- the check
def identifiability(
    model: Any = None,
    *,
    priors: Mapping[str, Any],
    observed: pd.DataFrame,
    days: int | None = None,
    points: int = 3,
    replicates: int = 6,
    step: float = 0.1,
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
    replicates : int
        Seeds per design point (shared by all points: common random numbers).
    step : float
        Finite-difference step, as a share of each prior's 90 % width.
    threshold : float
        Predicted width ratio below which a parameter counts as identified.
    seed : int
        Root seed of the design's runs.
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
        ``points × (2 p + 1) × replicates`` runs.

    Examples
    --------
    >>> import pandas as pd
    >>> obs = pd.DataFrame({"day": [4], "variable": ["waste_generated_kg"], "value": [30.0]})
    >>> check = identifiability(priors={"waste_per_capita_kg": (0.3, 1.2),
    ...                                 "concern_convergence": (0.05, 0.5)},
    ...                         observed=obs, n_citizens=40, days=4, points=1,
    ...                         replicates=4, candidates=False, executor="serial",
    ...                         progress=False)
    >>> check.table["verdict"].tolist()
    ['identified', 'not identified']
    """
    from waste_harmony.experiments.abc import make_priors
    from waste_harmony.experiments.calibration import check_observed, model_violations
    from waste_harmony.experiments.runner import sweep
    from waste_harmony.recording import MODEL_VARIABLES, NEIGHBORHOOD_VARIABLES

    prior_dists = make_priors(priors)
    obs = check_observed(observed)
    if days is None:
        days = int(getattr(model, "days", None) or obs["day"].max())
    for label, value, least in (("points", points, 1), ("replicates", replicates, 2)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValueError(f"{label} must be an integer >= {least}, got {value!r}")
    if not 0 < step < 1:
        raise ValueError(f"step must be a share of the prior width in (0, 1), got {step}")
    names = list(prior_dists)
    p = len(names)
    centres, steps = design_points(prior_dists, points, step)
    check = model_violations(model, kwargs)
    rows: list[dict[str, float]] = []
    used_steps = np.empty((points, p))
    for m, centre in enumerate(centres):
        h = steps.copy()
        for j in range(p):  # shrink a step that leaves the support or breaks a constraint
            for _ in range(6):
                ok = all(
                    prior_dists[names[j]].pdf(centre[j] + sign * h[j] / 2) > 0
                    and not check(
                        dict(zip(names, centre + sign * h[j] / 2 * np.eye(p)[j], strict=True))
                    )
                    for sign in (1, -1)
                )
                if ok:
                    break
                h[j] /= 2
        used_steps[m] = h
        rows.append(dict(zip(names, map(float, centre), strict=True)))
        for sign in (1, -1):
            for j in range(p):
                moved = centre + sign * h[j] / 2 * np.eye(p)[j]
                rows.append(dict(zip(names, map(float, moved), strict=True)))
    result = sweep(
        model,
        parameters=rows,
        seeds=replicates,
        days=days,
        root_seed=seed,
        common_random_numbers=True,
        out=out,
        resume=resume,
        executor=executor,
        workers=workers,
        progress=progress,
        **kwargs,
    )
    if result.n_failed:
        raise RuntimeError(
            f"{result.n_failed} of the identifiability check's runs failed; see "
            f"result.failures() in {result.path}"
        )
    model_vars = [
        v
        for v in MODEL_VARIABLES
        if v not in _NOT_OBSERVABLE and (v in set(obs["variable"]) or candidates)
    ]
    obs_days = sorted(set(obs["day"]))
    model_frame = result.load(model_vars, kind="model")
    node_vars = sorted(
        {v for v, n in zip(obs["variable"], obs["node"], strict=True) if n}
        | (
            {_MODEL_TO_NODE[v] for v in obs["variable"] if v in _MODEL_TO_NODE}
            if candidates
            else set()
        )
    )
    node_vars = [v for v in node_vars if v in NEIGHBORHOOD_VARIABLES]
    hoods = None
    if node_vars:
        hoods = result.load(node_vars, kind="neighborhoods", where={"day": list(range(days + 1))})
        observed_nodes = set(obs.loc[obs["node"] != "", "node"])
        keep = hoods["day"].isin(obs_days) | hoods["node"].astype(str).isin(observed_nodes)
        hoods = hoods[keep]
    values = _Values(model_frame, hoods)
    nodes = [] if hoods is None else sorted(set(hoods["node"].astype(str)))
    sets = (
        _candidates(obs, [v for v in model_vars], node_vars, nodes, days)
        if candidates
        else {"as observed": obs[["variable", "node", "day"]].reset_index(drop=True)}
    )
    stride = 2 * p + 1
    widths: dict[str, np.ndarray] = {}
    for label, keys in sets.items():
        y = values.array(keys)
        per_point = []
        for m in range(points):
            block = y[m * stride : (m + 1) * stride]
            info = fisher_information(block[0], block[1 : p + 1], block[p + 1 :], used_steps[m])
            per_point.append(predicted_width_ratio(info, prior_dists))
        widths[label] = np.array(per_point)
    base = widths["as observed"]
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
        runs=len(rows) * replicates,
    )
