"""Calibration to observed data: ABC-SMC on the experiment executors, with its diagnostics.

:func:`calibrate` confronts a model with observations — a tidy frame of ``day``,
``variable``, ``value`` (and ``node`` for neighbourhood variables) — and returns a
:class:`CalibrationResult`: the weighted posterior sample, credible intervals, the
effective sample size and tolerance of every generation, posterior predictive bands
and a contraction table showing which parameters the data identify.

The algorithm is ABC-SMC (:mod:`waste_harmony.experiments.abc`): every batch of
particles runs as one :func:`~waste_harmony.experiments.sweep` with explicit points
and seeds, so runs stream to Parquet on any executor, the posterior depends only on
the seed, and an interrupted calibration resumes: finished batches are reloaded,
the unfinished one resumes its sweep.

Layout of ``out``::

    out/calibration.json        manifest: priors, observed, settings, seed, versions
    out/particles.parquet       generation, particle, parameters, weight, distance
    out/generations.parquet     generation, epsilon, ess, runs, proposals, accepted, ...
    out/observed.parquet        the observations
    out/batch-000/ ...          each simulation batch's sweep (an ordinary experiment
                                folder); a generation runs one or more batches

Examples
--------
>>> import pandas as pd
>>> from waste_harmony import experiments
>>> observed = pd.DataFrame({"day": [10], "variable": ["mean_concern"], "value": [0.45]})
>>> cal = experiments.calibrate(priors={"concern_convergence": (0.0, 0.5)},
...                             observed=observed, days=10, n_citizens=60,
...                             budget=16, population_size=8, seed=1,
...                             executor="serial", progress=False)
>>> list(cal.generations.columns)[:3]
['generation', 'epsilon', 'ess']
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

import waste_harmony.experiments.abc as abc
from waste_harmony.batch.executors import SharedProcessPool
from waste_harmony.results import versions
from waste_harmony.schema import read_json

if TYPE_CHECKING:
    from waste_harmony.batch.plan import Task
    from waste_harmony.batch.store import SweepResult
    from waste_harmony.batch.worker import Outcome

__all__ = [
    "CalibrationResult",
    "RunStatistics",
    "calibrate",
    "check_observed",
    "load_calibration",
    "model_violations",
    "weighted_quantile",
]

MANIFEST = "calibration.json"
_KEYS = ["variable", "node", "day"]
_UNRECORDED = "the runs do not record the observed variable(s)"


def weighted_quantile(values: Any, weights: Any, q: Any) -> np.ndarray:
    """Quantiles of a weighted sample (inverse of the weighted empirical CDF, midpoint rule).

    Examples
    --------
    >>> weighted_quantile([1.0, 2.0, 3.0], [1, 1, 1], [0.5]).tolist()
    [2.0]
    """
    v = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    keep = w > 0
    v, w = v[keep], w[keep]
    order = np.argsort(v)
    v, w = v[order], w[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(np.atleast_1d(q), cdf, v)


# ---------------------------------------------------------------------------- observations
def check_observed(
    observed: pd.DataFrame,
    scales: Mapping[str, float] | None = None,
    weights: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Validate observations; one row per (variable, node, day), sorted.

    Observations are matched to the runs by the value of ``day`` (never by row
    position), so a series that starts at day 0 or day 1 is handled alike.

    Parameters
    ----------
    observed : pandas.DataFrame
        ``day``, ``variable``, ``value`` and optionally ``node``.
    scales, weights : mapping, optional
        Variable → fixed scale / relative weight in the distance.

    Returns
    -------
    pandas.DataFrame
        ``variable``, ``node`` ("" at model level), ``day``, ``value``, ``scale``,
        ``weight``.

    Examples
    --------
    >>> check_observed(pd.DataFrame({"day": [5], "variable": ["recycling_rate"],
    ...                              "value": [0.3]}))["node"].tolist()
    ['']
    """
    if not isinstance(observed, pd.DataFrame):
        raise TypeError(
            "observed must be a pandas DataFrame with columns day, variable, value "
            f"(and node for neighbourhood variables), got {type(observed).__name__}"
        )
    missing = {"day", "variable", "value"} - set(observed.columns)
    if missing:
        raise ValueError(
            f"observed lacks the column(s) {sorted(missing)}; it needs day, variable, "
            "value (one row per observation) and optionally node"
        )
    if observed.empty:
        raise ValueError("observed has no rows; give at least one observation")
    frame = observed.copy()
    if "node" not in frame.columns:
        frame["node"] = None
    frame["node"] = [_node_id(v) for v in frame["node"]]
    frame["day"] = frame["day"].astype(int)
    frame["variable"] = frame["variable"].astype(str)
    frame["value"] = frame["value"].astype(float)
    if not np.isfinite(frame["value"]).all():
        raise ValueError("observed values must be finite; drop the missing observations")
    if frame.duplicated(_KEYS).any():
        raise ValueError("observed holds duplicate (variable, node, day) rows; keep one each")
    for label, mapping in (("scales", scales), ("weights", weights)):
        for name, value in (mapping or {}).items():
            if name not in set(frame["variable"]):
                raise KeyError(f"{label} names {name!r}, which is not an observed variable")
            if not float(value) > 0:
                raise ValueError(f"{label}[{name!r}] must be positive, got {value!r}")
    frame["scale"] = frame["variable"].map(dict(scales or {})).astype(float)
    frame["weight"] = frame["variable"].map(dict(weights or {})).fillna(1.0).astype(float)
    return frame.sort_values(_KEYS, ignore_index=True)[[*_KEYS, "value", "scale", "weight"]]


def _node_id(value: Any) -> str:
    """Neighbourhood id as the results store it (a string); ``""`` for model level."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _matched(
    frame: pd.DataFrame, part: pd.DataFrame, node_level: bool, variables: list[str]
) -> pd.DataFrame:
    """The simulated values at the observations ``part``: ``stat``, ``value`` and the ids."""
    id_cols = ["point", "replicate", "day"] + (["node"] if node_level else [])
    long = frame.melt(id_vars=id_cols, value_vars=variables)
    if node_level:
        long["node"] = long["node"].astype(str)
    else:
        long["node"] = ""
    return long.merge(part, on=_KEYS)


def _observation_parts(observed: pd.DataFrame) -> list[tuple[bool, pd.DataFrame, list[str]]]:
    """Observations split into model level and neighbourhood level, with ``stat`` numbers."""
    key = observed[_KEYS].reset_index().rename(columns={"index": "stat"})
    return [
        (bool(node_level), part, sorted(set(part["variable"])))
        for node_level, part in key.groupby(key["node"] != "")
    ]


def _summaries(result: SweepResult, observed: pd.DataFrame, replicates: int) -> np.ndarray:
    """Array ``(points, replicates, n_obs)`` of the simulated values, read from the files."""
    n_points = len(result.manifest["runs"]) // replicates
    out = np.full((n_points, replicates, len(observed)), np.nan)
    if not result.n_finished:
        return out
    for node_level, part, variables in _observation_parts(observed):
        kind = "neighborhoods" if node_level else "model"
        where = {"day": sorted(set(part["day"].tolist()))}
        frame = result.load(variables, kind=kind, where=where)
        merged = _matched(frame, part, node_level, variables)
        out[
            merged["point"].to_numpy(),
            merged["replicate"].to_numpy(),
            merged["stat"].to_numpy(),
        ] = merged["value"].to_numpy(dtype=float)
    return out


class RunStatistics:
    """A run's simulated values at the observations, computed where the run ran.

    Sent with every task of a calibration (it pickles as the observation keys), so
    each worker returns its run's ``n_obs`` statistics with the outcome and the
    parent never reads the run files back; the values equal those read from the
    files (same matching as :func:`_summaries`, on the same tables).

    Parameters
    ----------
    observed : pandas.DataFrame
        The observations (:func:`check_observed`).

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> from waste_harmony.schema import model_tables
    >>> obs = check_observed(pd.DataFrame({"day": [2], "variable": ["mean_concern"],
    ...                                    "value": [0.4]}))
    >>> model = CityModel(n_citizens=50, rng=1)
    >>> model.run_for(2)
    >>> RunStatistics(obs)(model_tables(model)).shape
    (1,)
    """

    def __init__(self, observed: pd.DataFrame) -> None:
        self.keys = observed[_KEYS].reset_index(drop=True)

    def __call__(self, tables: Mapping[str, Any]) -> np.ndarray:
        """The run's statistics (NaN where the run has no value), shape ``(n_obs,)``."""
        from waste_harmony.schema import table_to_frame

        out = np.full(len(self.keys), np.nan)
        for node_level, part, variables in _observation_parts(self.keys):
            kind = "neighborhoods" if node_level else "model"
            table = tables.get(kind)
            names = [] if table is None else table.column_names
            missing = [v for v in variables if v not in names]
            if table is None or missing:
                keys = {"run_id", "label", "point", "replicate", "seed", "day", "node", "zone"}
                available = [c for c in names if c not in keys]
                raise KeyError(
                    f"{_UNRECORDED} {missing} in the {kind} results; available: "
                    f"{', '.join(available) or 'none'}"
                )
            ids = ["point", "replicate", "day"] + (["node"] if node_level else [])
            table = table.select(ids + variables)
            frame = table_to_frame(table)
            frame = frame[frame["day"].isin(set(part["day"].tolist()))]
            merged = _matched(frame, part, node_level, variables)
            out[merged["stat"].to_numpy()] = merged["value"].to_numpy(dtype=float)
        return out


# ---------------------------------------------------------------------------- result
class CalibrationResult:
    """The outcome of :func:`calibrate`: posterior sample, diagnostics, predictive checks.

    Attributes
    ----------
    particles : pandas.DataFrame
        Every proposal of every generation: ``generation``, ``particle``, the
        parameters, ``weight`` (0 = rejected) and ``distance``.
    generations : pandas.DataFrame
        Per generation: ``epsilon``, ``ess``, ``runs``, ``proposals``, ``accepted``,
        ``acceptance_rate``, ``batches``, ``complete``, ``failed``.
    observed : pandas.DataFrame
        The observations (``variable``, ``node``, ``day``, ``value``, ``scale``, ``weight``).
    priors : dict
        Name → frozen scipy distribution.
    manifest : dict
        Settings, seed and versions.
    path : pathlib.Path or None
        The output folder.
    """

    def __init__(
        self,
        *,
        particles: pd.DataFrame,
        generations: pd.DataFrame,
        observed: pd.DataFrame,
        priors: Mapping[str, Any],
        manifest: dict[str, Any],
        path: Path | None = None,
        model: Any = None,
        model_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        self.particles = particles
        self.generations = generations
        self.observed = observed
        self.priors = dict(priors)
        self.manifest = manifest
        self.path = path
        self.model = model
        self.model_kwargs = dict(model_kwargs or {})

    def __repr__(self) -> str:
        last = self.generations.iloc[-1]
        return (
            f"CalibrationResult(parameters={self.names}, generations={len(self.generations)}, "
            f"epsilon={last['epsilon']:.4g}, ess={last['ess']:.1f})"
        )

    @property
    def names(self) -> list[str]:
        """The calibrated parameters."""
        return list(self.priors)

    @property
    def posterior(self) -> pd.DataFrame:
        """The weighted posterior sample: one column per parameter and ``weight``."""
        last = self.particles[self.particles["generation"] == self.particles["generation"].max()]
        last = last[last["weight"] > 0]
        return last[[*self.names, "weight"]].reset_index(drop=True)

    @property
    def ess(self) -> float:
        """Effective sample size of the posterior."""
        return float(self.generations["ess"].iloc[-1])

    def mean(self) -> pd.Series:
        """Posterior means."""
        post = self.posterior
        w = post["weight"].to_numpy()
        return pd.Series({n: float(np.average(post[n], weights=w)) for n in self.names})

    def credible_interval(self, name: str, level: float = 0.9) -> tuple[float, float]:
        """Equal-tailed credible interval of one parameter (weighted quantiles).

        Parameters
        ----------
        name : str
            A calibrated parameter.
        level : float
            Probability mass inside, e.g. 0.9.

        Returns
        -------
        (float, float)
        """
        if name not in self.priors:
            raise KeyError(f"{name!r} was not calibrated; parameters: {', '.join(self.names)}")
        if not 0 < level < 1:
            raise ValueError(f"level must be between 0 and 1, got {level}")
        post = self.posterior
        low, high = weighted_quantile(
            post[name], post["weight"], [(1 - level) / 2, (1 + level) / 2]
        )
        return float(low), float(high)

    def contraction(self, level: float = 0.9, threshold: float = 0.5) -> pd.DataFrame:
        """Posterior against prior width per parameter; which ones the data identify.

        Parameters
        ----------
        level : float
            Level of the intervals compared.
        threshold : float
            A parameter counts as identified when its posterior interval is narrower
            than ``threshold`` × its prior interval.

        Returns
        -------
        pandas.DataFrame
            ``parameter``, ``prior_low``, ``prior_high``, ``posterior_low``,
            ``posterior_high``, ``width_ratio``, ``contraction`` (1 − posterior variance
            / prior variance; Schad, Betancourt & Vasishth 2021) and ``identified``.
        """
        post = self.posterior
        w = post["weight"].to_numpy()
        rows = []
        for name, prior in self.priors.items():
            p_low, p_high = prior.ppf([(1 - level) / 2, (1 + level) / 2])
            low, high = self.credible_interval(name, level)
            mean = np.average(post[name], weights=w)
            var = float(np.average((post[name] - mean) ** 2, weights=w))
            ratio = (high - low) / (p_high - p_low)
            rows.append(
                {
                    "parameter": name,
                    "prior_low": float(p_low),
                    "prior_high": float(p_high),
                    "posterior_low": low,
                    "posterior_high": high,
                    "width_ratio": float(ratio),
                    "contraction": 1.0 - var / float(prior.var()),
                    "identified": bool(ratio < threshold),
                }
            )
        return pd.DataFrame(rows)

    def sample(self, n: int, *, seed: int = 0) -> list[dict[str, float]]:
        """``n`` parameter sets drawn from the posterior by weight (reproducible)."""
        post = self.posterior
        rng = np.random.default_rng(seed)
        idx = rng.choice(len(post), size=n, p=post["weight"] / post["weight"].sum())
        return [{k: float(post.iloc[i][k]) for k in self.names} for i in idx]

    def predictive(
        self,
        n: int = 50,
        *,
        level: float = 0.9,
        seed: int = 0,
        executor: Any = None,
        workers: int | None = None,
        out: str | os.PathLike[str] | None = None,
        progress: bool = True,
        model: Any = None,
        **kwargs: Any,
    ) -> pd.DataFrame:
        """Posterior predictive bands: ``n`` runs at parameter sets drawn from the posterior.

        Parameters
        ----------
        n : int
            Runs.
        level : float
            Width of the band.
        seed : int
            Seed of the draws and of the runs.
        executor, workers, out, progress
            As in :func:`~waste_harmony.experiments.sweep`.
        model, **kwargs
            Model and keyword arguments (default: those of the calibration; after
            :func:`load_calibration` only JSON-storable ones are known).

        Returns
        -------
        pandas.DataFrame
            ``variable``, ``node``, ``day``, ``low``, ``median``, ``high`` for every
            observed variable and day of the runs (``node`` "": model level).
        """
        from waste_harmony.batch.runner import sweep

        config = {**self.model_kwargs, **kwargs}
        days = int(config.pop("days", self.manifest["days"]))
        result = sweep(
            self.model if model is None else model,
            parameters=self.sample(n, seed=seed),
            seeds=1,
            days=days,
            root_seed=seed,
            common_random_numbers=False,
            out=out,
            executor=executor,
            workers=workers,
            progress=progress,
            **config,
        )
        q = [(1 - level) / 2, 0.5, (1 + level) / 2]
        bands = []
        for node_level, part in self.observed.groupby(self.observed["node"] != ""):
            kind = "neighborhoods" if node_level else "model"
            variables = sorted(set(part["variable"]))
            frame = result.load(variables, kind=kind)
            keys = ["day"] + (["node"] if node_level else [])
            if node_level:
                frame = frame[frame["node"].astype(str).isin(set(part["node"]))]
            long = frame.melt(id_vars=keys, value_vars=variables)
            long["node"] = long["node"].astype(str) if node_level else ""
            stats = long.groupby(_KEYS)["value"].quantile(np.array(q)).unstack()
            stats.columns = ["low", "median", "high"]
            bands.append(stats.reset_index())
        return pd.concat(bands, ignore_index=True)

    # ------------------------------------------------------------------ plots
    def plot_marginals(self, *, bins: int = 30) -> Any:
        """Weighted posterior histogram of each parameter against its prior density."""
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, len(self.names), figsize=(3.2 * len(self.names), 2.8))
        axes = np.atleast_1d(axes)
        post = self.posterior
        for ax, name in zip(axes, self.names, strict=True):
            prior = self.priors[name]
            lo, hi = prior.ppf([0.001, 0.999])
            grid = np.linspace(lo, hi, 200)
            ax.hist(post[name], bins=bins, weights=post["weight"], density=True, alpha=0.6,
                    color="C0", label="posterior")  # fmt: skip
            ax.plot(grid, prior.pdf(grid), color="0.3", ls="--", label="prior")
            ax.set_xlabel(name)
        axes[0].set_ylabel("density")
        axes[0].legend(frameon=False)
        fig.tight_layout()
        return fig

    def plot_pairs(self) -> Any:
        """Pairwise scatter of the posterior (point size ∝ weight) within the prior ranges."""
        import matplotlib.pyplot as plt

        k = len(self.names)
        fig, axes = plt.subplots(k, k, figsize=(2.6 * k, 2.6 * k), squeeze=False)
        post = self.posterior
        size = 200 * post["weight"] / post["weight"].max()
        for i, yi in enumerate(self.names):
            for j, xj in enumerate(self.names):
                ax = axes[i][j]
                if i == j:
                    ax.hist(post[xj], bins=25, weights=post["weight"], color="C0", alpha=0.6)
                else:
                    ax.scatter(post[xj], post[yi], s=size, alpha=0.4, color="C0")
                    ax.set_ylim(*self.priors[yi].ppf([0.001, 0.999]))
                ax.set_xlim(*self.priors[xj].ppf([0.001, 0.999]))
                if i == k - 1:
                    ax.set_xlabel(xj)
                if j == 0:
                    ax.set_ylabel(yi)
        fig.tight_layout()
        return fig

    def plot_predictive(self, bands: pd.DataFrame) -> Any:
        """Predictive bands (from :meth:`predictive`) with the observed points."""
        import matplotlib.pyplot as plt

        groups = list(bands.groupby(["variable", "node"]))
        fig, axes = plt.subplots(1, len(groups), figsize=(3.6 * len(groups), 2.8), squeeze=False)
        for ax, ((variable, node), band) in zip(axes[0], groups, strict=True):
            ax.fill_between(band["day"], band["low"], band["high"], alpha=0.3, color="C0",
                            label="predictive band")  # fmt: skip
            ax.plot(band["day"], band["median"], color="C0")
            obs = self.observed[
                (self.observed["variable"] == variable) & (self.observed["node"] == node)
            ]
            ax.plot(obs["day"], obs["value"], "o", color="C3", label="observed")
            ax.set_title(f"{variable} (node {node})" if node else variable)
            ax.set_xlabel("day")
        axes[0][0].legend(frameon=False)
        fig.tight_layout()
        return fig

    # ------------------------------------------------------------------ storage
    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Write the particles, generations, observations and manifest into ``folder``."""
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        self.particles.to_parquet(path / "particles.parquet", index=False)
        self.generations.to_parquet(path / "generations.parquet", index=False)
        self.observed.to_parquet(path / "observed.parquet", index=False)
        (path / MANIFEST).write_text(json.dumps(self.manifest, indent=2, default=repr))
        return path


def _describe_prior(dist: Any) -> dict[str, Any]:
    name = getattr(getattr(dist, "dist", None), "name", type(dist).__name__)
    return {
        "distribution": name,
        "args": [float(a) for a in getattr(dist, "args", ())],
        "kwds": {k: float(v) for k, v in getattr(dist, "kwds", {}).items()},
    }


def _rebuild_prior(spec: Mapping[str, Any]) -> Any:
    from scipy import stats

    return getattr(stats, spec["distribution"])(*spec["args"], **spec["kwds"])


def _json_or_none(value: Any) -> Any:
    try:
        json.dumps(value)
    except TypeError:
        return None
    return value


def load_calibration(path: str | os.PathLike[str]) -> CalibrationResult:
    """Read a calibration saved by :func:`calibrate` (``out``) or :meth:`CalibrationResult.save`.

    Parameters
    ----------
    path : str or os.PathLike
        The folder.

    Returns
    -------
    CalibrationResult
    """
    folder = Path(path)
    if not (folder / MANIFEST).exists():
        raise FileNotFoundError(f"{folder} holds no {MANIFEST}: not a calibration folder")
    manifest = read_json(folder / MANIFEST, "calibration manifest")
    if not (folder / "particles.parquet").exists():
        raise FileNotFoundError(
            f"{folder} holds an unfinished calibration; resume it with calibrate(..., "
            "resume=True) and the same settings"
        )
    priors = {k: _rebuild_prior(v) for k, v in manifest["priors"].items()}
    kwargs = {k: v for k, v in (manifest.get("model_kwargs") or {}).items() if v is not None}
    return CalibrationResult(
        particles=pd.read_parquet(folder / "particles.parquet"),
        generations=pd.read_parquet(folder / "generations.parquet"),
        observed=pd.read_parquet(folder / "observed.parquet"),
        priors=priors,
        manifest=manifest,
        path=folder,
        model_kwargs=kwargs,
    )


# ---------------------------------------------------------------------------- constraints
def model_violations(
    model: Any, fixed: Mapping[str, Any]
) -> Callable[[Mapping[str, float]], list[str]]:
    """The model's declared checks on a calibrated parameter set, as a function.

    Combines :func:`waste_harmony.parameters.violations` (ranges and joint
    constraints of the model parameters) and :meth:`Scenario.violations` for dotted
    scenario parameters ``"scenarios.<name>.<parameter>"``, each evaluated on the
    calibrated values merged with the fixed ones (``fixed`` keyword arguments and a
    run file's parameters and scenarios).

    Parameters
    ----------
    model : class, callable, RunConfig or None
        What the calibration builds (a run file's settings are taken into account).
    fixed : mapping
        The fixed keyword arguments of the runs.

    Returns
    -------
    callable
        ``check(values) -> list of str`` (empty when admissible).

    Examples
    --------
    >>> check = model_violations(None, {"initial_concern_mean": 0.1})
    >>> check({"initial_concern_sd": 0.05}), len(check({"initial_concern_sd": 0.4}))
    ([], 1)
    """
    from waste_harmony.parameters import Parameters
    from waste_harmony.scenarios import available

    config = getattr(model, "config", model)
    base = dict(getattr(config, "parameters", None) or {})
    scenarios = {k: dict(v) for k, v in (getattr(config, "scenarios", None) or {}).items()}
    declared = {spec.name for spec in Parameters.specs()}
    base.update({k: v for k, v in fixed.items() if k in declared})
    for key, value in fixed.items():
        if key.startswith("scenarios.") and key.count(".") >= 2:
            _, name, param = key.split(".", 2)
            scenarios.setdefault(name, {})[param] = value
    registry = available()

    def check(values: Mapping[str, float]) -> list[str]:
        params = dict(base)
        scen = {k: dict(v) for k, v in scenarios.items()}
        for key, value in values.items():
            if key.startswith("scenarios.") and key.count(".") >= 2:
                _, name, param = key.split(".", 2)
                scen.setdefault(name, {})[param] = value
            elif key in declared:
                params[key] = value
        found = Parameters.violations(params)
        for name, given in scen.items():
            if name in registry:
                found += registry[name].violations(given)
        return found

    return check


# ---------------------------------------------------------------------------- calibrate
def _generation_seed(seed: int, generation: int) -> int:
    state = np.random.SeedSequence([seed, 0x5EED, generation]).generate_state(2, dtype=np.uint32)
    return int((int(state[0]) << 31) | (int(state[1]) >> 1))


def calibrate(
    model: Any = None,
    *,
    priors: Mapping[str, Any],
    observed: pd.DataFrame,
    budget: int,
    population_size: int = 200,
    replicates: int = 1,
    days: int | None = None,
    scales: Mapping[str, float] | None = None,
    weights: Mapping[str, float] | None = None,
    constraint: Callable[[Mapping[str, float]], bool] | None = None,
    generations: int | None = None,
    alpha: float = 0.5,
    min_acceptance: float = 0.02,
    min_epsilon_change: float = 0.0,
    seed: int | None = None,
    executor: Any = None,
    workers: int | None = None,
    out: str | os.PathLike[str] | None = None,
    resume: bool = False,
    progress: bool = True,
    **kwargs: Any,
) -> CalibrationResult:
    """Calibrate model parameters to observations by ABC-SMC.

    Parameters
    ----------
    model : class, callable or RunConfig, optional
        What to build, as in :func:`~waste_harmony.experiments.sweep`.
    priors : mapping
        Parameter → ``(low, high)`` (uniform) or a frozen ``scipy.stats`` distribution.
    observed : pandas.DataFrame
        ``day``, ``variable``, ``value`` and optionally ``node`` (neighbourhood
        variables); any subset of days and variables.
    budget : int
        Model runs in total (the main stop rule); a generation runs batches of
        proposals until ``population_size`` particles are accepted.
    population_size : int
        Parameter sets accepted per generation (and simulated from the prior in
        generation 0).
    replicates : int
        Runs per parameter set (seeds); a particle's weight counts the share of its
        replicates within the tolerance (Del Moral et al. 2012).
    days : int, optional
        Days per run (default: the run file's, else the last observed day).
    scales : mapping, optional
        Variable → fixed scale of its observations (default: adaptive, Prangle 2017).
    weights : mapping, optional
        Variable → relative weight in the distance (default 1).
    constraint : callable, optional
        ``constraint(params) -> bool`` on a dict of the calibrated parameters; proposals
        violating it are redrawn. The model's own declared ranges and joint
        constraints (:func:`waste_harmony.parameters.violations`,
        :meth:`Scenario.violations` for ``"scenarios.<name>.<parameter>"``) are
        always applied too (:func:`model_violations`).
    generations : int, optional
        Maximum number of generations (default: until another stop rule).
    alpha : float
        Share of the effective sample size kept when the tolerance shrinks.
    min_acceptance : float
        Stop once a generation accepts less than this share of its proposals.
    min_epsilon_change : float
        Stop once the tolerance shrinks by less than this share (0: never).
    seed : int, optional
        Root seed of proposals and runs (``None``: fresh entropy, recorded).
    executor, workers, progress
        As in :func:`~waste_harmony.experiments.sweep`.
    out : str or os.PathLike, optional
        Output folder (``None``: a temporary folder removed at the end).
    resume : bool
        Continue a calibration interrupted in ``out`` (same settings): finished
        generations are reloaded, the unfinished one resumes its sweep.
    **kwargs
        Keyword arguments of the model shared by all runs (``n_citizens``,
        ``scenarios``, fixed parameters).

    Returns
    -------
    CalibrationResult

    References
    ----------
    Beaumont et al. (2009) *Biometrika* 96, 983–990; Del Moral, Doucet & Jasra (2012)
    *Statistics and Computing* 22, 1009–1020; Prangle (2017) *Bayesian Analysis* 12, 289–309.
    """
    from waste_harmony.batch.runner import Execution, experiment
    from waste_harmony.batch.store import load_experiment

    prior_dists = abc.make_priors(priors)
    overlap = set(prior_dists) & set(kwargs)
    if overlap:
        raise ValueError(
            f"{sorted(overlap)} are both calibrated (priors) and fixed (keyword arguments); "
            "remove them from one of the two"
        )
    obs = check_observed(observed, scales, weights)
    if days is None:
        days = int(getattr(model, "days", None) or obs["day"].max())
    if int(obs["day"].max()) > days:
        raise ValueError(
            f"observations reach day {int(obs['day'].max())} but runs last {days} days"
        )
    for label, value in (("population_size", population_size), ("replicates", replicates)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{label} must be a positive integer, got {value!r}")
    per_generation = population_size * replicates
    if budget < per_generation:
        raise ValueError(
            f"budget = {budget} runs is less than one generation (population_size × "
            f"replicates = {per_generation}); raise the budget or lower population_size"
        )
    if seed is None:
        # (SeedSequence() draws its entropy itself, so it is an int)
        seed = int(cast(int, np.random.SeedSequence().entropy))
    elif isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
    seed = int(seed)
    temporary = out is None
    folder = Path(tempfile.mkdtemp(prefix="waste-harmony-calibration-") if out is None else out)
    manifest: dict[str, Any] = {
        "kind": "calibration",
        "seed": seed,
        "priors": {k: _describe_prior(v) for k, v in prior_dists.items()},
        "observed": obs.drop(columns=["scale", "weight"]).to_dict("records"),
        "scales": dict(scales or {}),
        "weights": dict(weights or {}),
        "budget": budget,
        "population_size": population_size,
        "replicates": replicates,
        "generations": generations,
        "alpha": alpha,
        "min_acceptance": min_acceptance,
        "min_epsilon_change": min_epsilon_change,
        "days": days,
        "constraint": None if constraint is None else repr(constraint),
        "model": None if model is None else repr(model),
        "model_kwargs": {k: _json_or_none(v) for k, v in kwargs.items()},
    }
    existing = folder / MANIFEST
    if existing.exists():
        old = read_json(existing, "calibration manifest")
        ignore = ("versions", "status", "stopped")
        same = {k: v for k, v in old.items() if k not in ignore} == json.loads(
            json.dumps(manifest, default=repr)
        )
        if not same:
            raise ValueError(
                f"{folder} holds a different calibration (its settings differ); choose "
                "another folder"
            )
        if not resume:
            raise FileExistsError(
                f"{folder} already holds this calibration; pass resume=True to continue it"
            )
    elif folder.exists() and any(folder.iterdir()) and not temporary:
        raise FileExistsError(f"{folder} is not empty and holds no calibration; choose another")
    folder.mkdir(parents=True, exist_ok=True)
    manifest["versions"] = versions()
    manifest["status"] = "running"
    existing.write_text(json.dumps(manifest, indent=2, default=repr))
    # One worker pool for every batch (see SharedProcessPool): a new pool per batch
    # spent seconds starting interpreters each time, more than small runs take. Its
    # workers start importing now (after every check of the arguments, so a mistake
    # leaves no processes behind), while this process plans the first batch.
    shared = None
    if executor is None and workers != 1:
        shared = SharedProcessPool(workers or max(1, os.cpu_count() or 1))
        shared.start()
    names = list(prior_dists)
    check = model_violations(model, kwargs)

    def admissible(values: Mapping[str, float]) -> bool:
        return not check(values) and (constraint is None or bool(constraint(values)))

    statistics = RunStatistics(obs)

    def simulate(step: int, thetas: np.ndarray) -> np.ndarray:
        target = folder / f"batch-{step:03d}"
        points = [dict(zip(names, map(float, row), strict=True)) for row in thetas]
        if (target / "experiment.json").exists():
            done = load_experiment(target)
            if done.manifest.get("status") == "complete" and done.n_finished >= len(points):
                return _summaries(done, obs, replicates)
        # The workers compute each run's statistics and send them back with its
        # outcome, so the parent reads no file; only runs finished before a resume
        # (not reported again) are read from their files.
        out = np.full((len(points), replicates, len(obs)), np.nan)
        reported = np.zeros((len(points), replicates), dtype=bool)

        def collect(task: Task, outcome: Outcome) -> None:
            reported[task.point, task.replicate] = True
            error = outcome.error or ""
            if outcome.status == "done" and outcome.statistics is not None:
                out[task.point, task.replicate] = outcome.statistics[0]
            elif error.startswith("KeyError") and _UNRECORDED in error:  # a mistake, not a failure
                raise KeyError(error.split(": ", 1)[1].strip("'\""))

        done = experiment(
            "sweep",
            model,
            points=points,
            seeds=replicates,
            days=days,
            root_seed=_generation_seed(seed, step),
            fixed=kwargs,
            execution=Execution(
                out=target,
                executor=executor if shared is None else shared.executor(),
                workers=workers if shared is None else None,
                resume=True,
                progress=progress,
            ),
            common_random_numbers=False,
            statistics=statistics,
            on_outcome=collect,
        )
        if not reported.all():
            out[~reported] = _summaries(done, obs, replicates)[~reported]
        return out

    try:
        smc = abc.abc_smc(
            simulate,
            prior_dists,
            obs["value"].to_numpy(),
            population_size=population_size,
            generations=generations,
            max_proposals=budget // replicates,
            seed=seed,
            alpha=alpha,
            min_acceptance=min_acceptance,
            min_epsilon_change=min_epsilon_change,
            scales=obs["scale"].to_numpy(),
            weights=obs["weight"].to_numpy(),
            constraint=admissible,
        )
    finally:
        if shared is not None:
            shared.close()
    particles = []
    rows = []
    for t, g in enumerate(smc.generations):
        frame = pd.DataFrame(g.theta, columns=names)
        frame.insert(0, "particle", np.arange(len(frame)))
        frame.insert(0, "generation", t)
        frame["weight"] = g.weight
        frame["distance"] = np.median(g.distance, axis=1)
        particles.append(frame)
        rows.append(
            {
                "generation": t,
                "epsilon": g.epsilon,
                "ess": g.ess,
                "runs": g.n_runs,
                "proposals": len(g.theta),
                "accepted": int(g.accepted.sum()),
                "acceptance_rate": g.acceptance_rate,
                "batches": len(g.batches),
                "complete": g.complete,
                "failed": int(np.isnan(g.summaries).any(axis=2).sum()),
            }
        )
    manifest["status"] = "complete"
    manifest["stopped"] = smc.stopped
    result = CalibrationResult(
        particles=pd.concat(particles, ignore_index=True),
        generations=pd.DataFrame(rows),
        observed=obs,
        priors=prior_dists,
        manifest=manifest,
        path=None if temporary else folder,
        model=model,
        model_kwargs={"days": days, **kwargs},
    )
    if temporary:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    else:
        result.save(folder)
    return result
