# Over 600 lines: CalibrationResult (about 320 of them: the posterior, its diagnostics and
# plots, each a method users call) with the folder it is stored in; the next split would
# move the folder (calibration_files .. load_calibration) to a module of its own.
"""The outcome of a calibration: posterior sample, diagnostics, predictive checks, storage.

:class:`CalibrationResult` holds every generation's particles of an ABC-SMC
calibration (:func:`~waste_harmony.experiments.calibrate`) and answers the questions
asked of a posterior: credible intervals (weighted quantiles), effective sample
size, which parameters the data identify (:meth:`CalibrationResult.contraction`),
posterior predictive bands and plots. :meth:`CalibrationResult.save` and
:func:`load_calibration` store it in, and read it from, a calibration folder
(``calibration.json``, ``particles.parquet``, ``generations.parquet``,
``observed.parquet``); :func:`prepare_calibration_folder` and
:func:`finish_calibration_folder` create, resume or replace one by the rules of
:mod:`waste_harmony.storage` (only the library's own files are replaced, and the
earlier calibration stays whole until the new one is complete).

Examples
--------
>>> weighted_quantile([1.0, 2.0, 3.0, 4.0], [0, 1, 1, 0], [0.5]).tolist()
[2.5]
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from waste_harmony.batch.store import experiment_files
from waste_harmony.experiments.observations import OBSERVATION_KEYS
from waste_harmony.schema import read_json
from waste_harmony.storage import (
    check_destination,
    check_place,
    remove_files,
    stage,
    staged_in,
    swap_in,
    write_atomic,
    write_errors,
)

__all__ = [
    "FIGURES",
    "MANIFEST",
    "TABLES",
    "CalibrationResult",
    "calibration_files",
    "describe_prior",
    "finish_calibration_folder",
    "load_calibration",
    "prepare_calibration_folder",
    "rebuild_prior",
    "weighted_quantile",
]

#: The manifest of a calibration folder.
MANIFEST = "calibration.json"

#: The tables of a calibration folder: attribute of :class:`CalibrationResult` → file.
TABLES = {
    "particles": "particles.parquet",
    "generations": "generations.parquet",
    "observed": "observed.parquet",
}

#: The figures ``waste-harmony calibrate`` draws beside the tables: plot → file.
FIGURES = {"marginals": "posterior.png", "pairs": "pairs.png"}

#: Manifest entries that change while a calibration runs (not part of its identity).
VOLATILE = (
    "versions",
    "status",
    "stopped",
    # abc-reg's outcomes, and the identifiability check's
    "identifiability",
    "bandwidth",
    "failed",
    "constraint_dropped",
    "errors",
)


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


class CalibrationResult:
    """The outcome of :func:`calibrate`: posterior sample, diagnostics, predictive checks.

    Attributes
    ----------
    particles : pandas.DataFrame
        Every proposal of every generation: ``generation``, ``particle``, the
        parameters, ``weight`` (0 = rejected) and ``distance``. With ``abc-reg``,
        generation 0 is the reference table (the prior sample) and generation 1 the
        regression-adjusted posterior sample (``particle``: its row in the table).
    generations : pandas.DataFrame
        Per generation: ``epsilon`` (``abc-reg``: the kernel's bandwidth), ``ess``,
        ``runs``, ``proposals``, ``accepted``, ``acceptance_rate``, ``batches``,
        ``complete``, ``failed``.
    observed : pandas.DataFrame
        The observations (``variable``, ``node``, ``day``, ``value``, ``scale``, ``weight``).
    priors : dict
        Name → frozen scipy distribution.
    manifest : dict
        Settings, seed and versions.
    path : pathlib.Path or None
        The output folder.
    identifiability : Identifiability or None
        The check run before the calibration (``calibrate(check=True)``); after
        :func:`load_calibration` its table is in ``manifest["identifiability"]``.
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
        identifiability: Any = None,
    ) -> None:
        self.particles = particles
        self.generations = generations
        self.observed = observed
        self.priors = dict(priors)
        self.manifest = manifest
        self.path = path
        self.model = model
        self.model_kwargs = dict(model_kwargs or {})
        self.identifiability = identifiability
        #: What the folder could not store (a model class, arguments that are not
        #: JSON): ``predictive()`` refuses to guess them.
        self.missing: list[str] = []

    def __repr__(self) -> str:
        last = self.generations.iloc[-1]
        return (
            f"CalibrationResult(parameters={self.names}, generations={len(self.generations)}, "
            f"epsilon={last['epsilon']:.4g}, ess={last['ess']:.1f})"
        )

    @property
    def method(self) -> str:
        """``"abc-reg"`` or ``"abc-smc"``."""
        return str(self.manifest.get("method", "abc-smc"))

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

        missing = [m for m in self.missing if m not in kwargs and not (m == "model" and model)]
        if missing:
            raise ValueError(
                f"this calibration was run with {', '.join(missing)} that its folder cannot "
                "store (not JSON); give them again, e.g. predictive(n, model=..., "
                f"{missing[-1]}=...), so the predictive runs are the calibrated model's"
            )
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
            stats = long.groupby(OBSERVATION_KEYS)["value"].quantile(np.array(q)).unstack()
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
        """Write the particles, generations, observations and manifest into ``folder``.

        Each file is written atomically (:func:`waste_harmony.storage.write_atomic`),
        the manifest last.
        """
        path = Path(folder)
        for attribute, name in TABLES.items():
            table = getattr(self, attribute)
            write_atomic(path / name, lambda p, t=table: t.to_parquet(p, index=False))
        text = json.dumps(self.manifest, indent=2, default=repr)
        write_atomic(path / MANIFEST, lambda p: p.write_text(text))
        return path


def calibration_files(folder: Path) -> set[str]:
    """The files of a calibration folder that waste-harmony wrote (relative paths).

    The manifest, the tables (:data:`TABLES`), the figures (:data:`FIGURES`), each
    batch's experiment and the identifiability check's
    (:func:`waste_harmony.batch.store.experiment_files`) and the reference table's batch
    files: what replacing the calibration (``overwrite=True``, ``--force``) may remove.

    Parameters
    ----------
    folder : pathlib.Path
        A calibration folder.

    Returns
    -------
    set of str
        Relative paths.
    """
    owned = {MANIFEST, *TABLES.values(), *FIGURES.values()}
    for batch in [*folder.glob("batch-*"), folder / "identifiability"]:
        if batch.is_dir() and not batch.is_symlink():
            owned.update(f"{batch.name}/{name}" for name in experiment_files(batch))
    table = folder / "table"  # abc-reg's reference table (experiments.reftable)
    if table.is_dir() and not table.is_symlink():
        names = [p.name for p in table.glob("table-[0-9][0-9][0-9][0-9].parquet")]
        owned.update(f"table/{name}" for name in [*names, "timings.jsonl"])
    return owned


def _settings(manifest: Mapping[str, Any]) -> Any:
    """What identifies a calibration: its manifest without the entries that change as it runs."""
    plain = json.loads(json.dumps(dict(manifest), default=repr))
    return {k: v for k, v in plain.items() if k not in VOLATILE}


def prepare_calibration_folder(
    out: str | os.PathLike[str] | None,
    manifest: dict[str, Any],
    *,
    resume: bool,
    overwrite: bool,
) -> tuple[Path, Path | None, bool]:
    """Create, continue or stage the folder a calibration writes into.

    Parameters
    ----------
    out : str, os.PathLike or None
        The folder (``None``: a new temporary folder).
    manifest : dict
        The new calibration's manifest (its settings).
    resume : bool
        Continue a calibration with the same settings interrupted in ``out`` (or
        an interrupted replacement by it).
    overwrite : bool
        Replace the calibration in ``out`` once the new one is complete; only the
        library's files there are replaced (:func:`calibration_files`).

    Returns
    -------
    (pathlib.Path, pathlib.Path or None, bool)
        Where to write now, the folder it replaces when complete (see
        :func:`finish_calibration_folder`), and whether it is temporary.

    Raises
    ------
    ValueError
        If ``out`` holds a calibration with other settings (and not ``overwrite``).
    FileExistsError
        If ``out`` holds this calibration and neither ``resume`` nor ``overwrite`` is
        set, holds something that is not a calibration, or would have files the
        library did not write replaced (named).
    """
    if out is None:
        return Path(tempfile.mkdtemp(prefix="waste-harmony-calibration-")), None, True
    folder = check_place(out)
    how = "pass overwrite=True (--force) to replace it"
    if not (folder / MANIFEST).exists():
        check_destination(
            folder,
            replace=overwrite,
            owned=calibration_files,
            how="it holds no calibration; choose another folder (or pass overwrite=True, --force)",
        )
        if overwrite and folder.is_dir():  # leftovers of an interrupted replacement
            with write_errors(folder, intact=f"nothing was written to {folder}"):
                remove_files(folder, calibration_files(folder))
        return folder, None, False
    if overwrite:
        check_destination(folder, replace=True, owned=calibration_files, how=how)
        with write_errors(folder, intact=f"the earlier calibration in {folder} is intact"):
            return stage(folder), folder, False
    old = read_json(folder / MANIFEST, "calibration manifest")
    if _settings(old) != _settings(manifest):

        def same(staging: Path) -> bool:
            try:
                found = read_json(staging / MANIFEST, "calibration manifest")
            except (OSError, ValueError):
                return False
            return bool(_settings(found) == _settings(manifest))

        interrupted = staged_in(folder, same)
        if interrupted is not None and resume:
            return interrupted, folder, False
        raise ValueError(
            f"{folder} holds a different calibration (its settings differ); choose another "
            f"folder, or {how}"
        )
    if not resume:
        raise FileExistsError(
            f"{folder} already holds this calibration; pass resume=True (--resume) to "
            "continue it, or overwrite=True (--force) to start again"
        )
    return folder, None, False


def finish_calibration_folder(work: Path, replaces: Path | None) -> Path:
    """Swap a completed replacement in for the earlier calibration; the final folder.

    Parameters
    ----------
    work : pathlib.Path
        Where the calibration was written (:func:`prepare_calibration_folder`).
    replaces : pathlib.Path or None
        The folder it replaces (``None``: ``work`` is the final folder).

    Returns
    -------
    pathlib.Path
        The folder that now holds the calibration.
    """
    if replaces is None:
        return work
    with write_errors(
        replaces, intact=f"the new calibration is complete in {work}: move it in by hand"
    ):
        swap_in(replaces, work, commit=MANIFEST, remove=calibration_files(replaces))
    return replaces


def describe_prior(dist: Any) -> dict[str, Any]:
    """A frozen scipy distribution as JSON data (:func:`rebuild_prior` reverses it).

    Examples
    --------
    >>> from scipy import stats
    >>> describe_prior(stats.uniform(0.0, 0.5))
    {'distribution': 'uniform', 'args': [0.0, 0.5], 'kwds': {}}
    """
    name = getattr(getattr(dist, "dist", None), "name", type(dist).__name__)
    return {
        "distribution": name,
        "args": [float(a) for a in getattr(dist, "args", ())],
        "kwds": {k: float(v) for k, v in getattr(dist, "kwds", {}).items()},
    }


def rebuild_prior(spec: Mapping[str, Any]) -> Any:
    """The frozen scipy distribution described by :func:`describe_prior`."""
    from scipy import stats

    return getattr(stats, spec["distribution"])(*spec["args"], **spec["kwds"])


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
    priors = {k: rebuild_prior(v) for k, v in manifest["priors"].items()}
    stored = manifest.get("model_kwargs") or {}
    kwargs = {k: v for k, v in stored.items() if v is not None}
    model = None
    if manifest.get("run") is not None:  # a run file, stored whole: the same model
        from waste_harmony.config import parse_run_config

        model = parse_run_config(manifest["run"], base_dir=manifest.get("run_base"))
    result = CalibrationResult(
        particles=pd.read_parquet(folder / TABLES["particles"]),
        generations=pd.read_parquet(folder / TABLES["generations"]),
        observed=pd.read_parquet(folder / TABLES["observed"]),
        priors=priors,
        manifest=manifest,
        path=folder,
        model=model,
        model_kwargs=kwargs,
    )
    result.missing = [k for k, v in stored.items() if v is None]
    if model is None and manifest.get("model") is not None:
        result.missing.insert(0, "model")
    return result
