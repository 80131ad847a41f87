"""Calibration to observed data on the experiment executors, with its diagnostics.

:func:`calibrate` confronts a model with observations — a tidy frame of ``day``,
``variable``, ``value`` (and ``node`` for neighbourhood variables) — and returns a
:class:`CalibrationResult`: the weighted posterior sample, credible intervals,
posterior predictive bands and a contraction table showing which parameters the
data identify. Before it spends the budget it runs a cheap identifiability check
(:mod:`~waste_harmony.experiments.identifiability`) and prints which parameters the
observations can inform and which observations would inform the others.

Two methods:

* ``method="abc-reg"`` (default): ABC with semi-automatic summaries and regression
  adjustment on one reference table from the prior
  (:mod:`~waste_harmony.experiments.regression_calibration`,
  :mod:`~waste_harmony.experiments.abcreg`): the runs keep only their statistics,
  in batch files (:mod:`~waste_harmony.experiments.reftable`);
* ``method="abc-smc"``: ABC-SMC (:mod:`~waste_harmony.experiments.abc`): every batch
  of particles runs as one :func:`~waste_harmony.experiments.sweep` with explicit
  points and seeds, runs streaming to Parquet.

Either way the posterior depends only on the seed (never on the executor), and an
interrupted calibration resumes: finished batches are reloaded, the unfinished one
is run again (``abc-reg``) or resumes its sweep (``abc-smc``).

This module is the driver: it checks the settings and runs the method. The
observations and their matching to runs are in
:mod:`~waste_harmony.experiments.observations`, the result object and its storage
in :mod:`~waste_harmony.experiments.calibration_result`.

Layout of ``out``::

    out/calibration.json        manifest: method, priors, observed, settings, seed, versions
    out/particles.parquet       generation, particle, parameters, weight, distance
    out/generations.parquet     generation, epsilon, ess, runs, proposals, accepted, ...
    out/observed.parquet        the observations
    out/identifiability/        the identifiability check's runs (an experiment folder)
    out/table/table-0000.parquet ...   abc-reg: the reference table, one file per batch
    out/batch-000/ ...          abc-smc: each simulation batch's sweep (an ordinary
                                experiment folder); a generation runs one or more

Examples
--------
>>> import pandas as pd
>>> from waste_harmony import experiments
>>> observed = pd.DataFrame({"day": [10], "variable": ["mean_concern"], "value": [0.45]})
>>> cal = experiments.calibrate(priors={"concern_convergence": (0.0, 0.5)},
...                             observed=observed, days=10, n_citizens=60,
...                             budget=40, seed=1, check=False,
...                             executor="serial", progress=False)
>>> cal.manifest["method"], list(cal.generations.columns)[:3]
('abc-reg', ['generation', 'epsilon', 'ess'])
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

import waste_harmony.experiments.abc as abc
from waste_harmony.batch.executors import SharedProcessPool
from waste_harmony.batch.plan import pin_city_seed
from waste_harmony.experiments.calibration_result import (
    MANIFEST,
    CalibrationResult,
    describe_prior,
    finish_calibration_folder,
    load_calibration,
    prepare_calibration_folder,
    weighted_quantile,
)
from waste_harmony.experiments.constraints import model_violations
from waste_harmony.experiments.observations import (
    UNRECORDED,
    RunStatistics,
    check_observed,
    simulated_values,
)
from waste_harmony.experiments.reftable import batch_seed
from waste_harmony.results import versions
from waste_harmony.storage import write_atomic, write_errors

if TYPE_CHECKING:
    from waste_harmony.batch.plan import Task
    from waste_harmony.batch.worker import Outcome

# CalibrationResult, RunStatistics, check_observed, load_calibration and
# weighted_quantile lived here before the split; they stay importable from here.
__all__ = [
    "MANIFEST",
    "METHODS",
    "CalibrationResult",
    "RunStatistics",
    "calibrate",
    "check_observed",
    "load_calibration",
    "model_violations",
    "weighted_quantile",
]


def stored_model(model: Any) -> dict[str, Any]:
    """What a calibration folder keeps of a run file: ``{"run": ..., "run_base": ...}``.

    A run file (:class:`~waste_harmony.config.RunConfig`) is stored whole (city,
    citizens, parameters, scenarios, own outputs) with the folder its relative paths
    start from, so :func:`load_calibration` rebuilds exactly that model. Anything
    else stores nothing here (a model class or factory is named in ``model``).
    """
    from waste_harmony.config import RunConfig

    if not isinstance(model, RunConfig):
        return {}
    base = model.base_dir
    return {"run": json.loads(json.dumps(model.to_dict(), default=str)), "run_base": str(base)}


def _json_or_none(value: Any) -> Any:
    try:
        json.dumps(value)
    except TypeError:
        return None
    return value


#: Calibration methods: the default first.
METHODS = ("abc-reg", "abc-smc")
#: Settings of ABC-SMC only, with their defaults.
SMC_DEFAULTS: dict[str, Any] = {
    "population_size": 200,
    "scales": None,
    "weights": None,
    "generations": None,
    "alpha": 0.5,
    "min_acceptance": 0.02,
    "min_epsilon_change": 0.0,
}


def calibrate(
    model: Any = None,
    *,
    priors: Mapping[str, Any],
    observed: pd.DataFrame,
    budget: int,
    method: str = "abc-reg",
    replicates: int = 1,
    days: int | None = None,
    constraint: Callable[[Mapping[str, float]], bool] | None = None,
    check: bool = True,
    accept: int | None = None,
    population_size: int | None = None,
    scales: Mapping[str, float] | None = None,
    weights: Mapping[str, float] | None = None,
    generations: int | None = None,
    alpha: float | None = None,
    min_acceptance: float | None = None,
    min_epsilon_change: float | None = None,
    seed: int | None = None,
    executor: Any = None,
    workers: int | None = None,
    out: str | os.PathLike[str] | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    **kwargs: Any,
) -> CalibrationResult:
    """Calibrate model parameters to observations (regression ABC by default, or ABC-SMC).

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
        Model runs in total. ``abc-reg`` spends them all on one reference table;
        ``abc-smc`` stops when they are spent (or by another stop rule).
    method : {"abc-reg", "abc-smc"}
        ``"abc-reg"``: semi-automatic summaries and regression adjustment on a
        reference table from the prior (Beaumont, Zhang & Balding 2002; Blum &
        François 2010; Fearnhead & Prangle 2012) — the sharpest per run in the
        comparison of ``docs/calibration.md``. ``"abc-smc"``: ABC-SMC with adaptive
        tolerance (Beaumont et al. 2009; Del Moral et al. 2012).
    replicates : int
        Runs per parameter set (seeds).
    days : int, optional
        Days per run (default: the run file's, else the last observed day).
    constraint : callable, optional
        ``constraint(params) -> bool`` on a dict of the calibrated parameters; prior
        draws and proposals violating it are redrawn (and adjusted values violating it
        dropped). The model's own declared ranges and joint constraints
        (:func:`waste_harmony.parameters.violations`, :meth:`Scenario.violations` for
        ``"scenarios.<name>.<parameter>"``) always apply too (:func:`model_violations`).
    check : bool
        Run the identifiability check first (``max(30, 15 p)`` runs at each of 3
        points of the prior, not counted in ``budget``), print it when ``progress``,
        and keep it as ``result.identifiability``.
    accept : int, optional
        ``abc-reg``: simulations kept around the observations (default a tenth of
        the table, at least 50).
    population_size, scales, weights, generations, alpha, min_acceptance, min_epsilon_change
        ``abc-smc`` only: particles accepted per generation (default 200), fixed
        scales and weights of the distance, maximum generations, share of the
        effective sample size kept when the tolerance shrinks (0.5), the acceptance
        rate (0.02) and relative tolerance change (0) below which it stops.
    seed : int, optional
        Root seed of the prior draws, proposals and runs (``None``: fresh entropy,
        recorded).
    executor, workers, progress
        As in :func:`~waste_harmony.experiments.sweep`.
    out : str or os.PathLike, optional
        Output folder (``None``: a temporary folder removed at the end).
    resume : bool
        Continue a calibration interrupted in ``out`` (same settings): finished
        batches are reloaded, the unfinished one is run again (``abc-reg``) or
        resumes its sweep (``abc-smc``).
    overwrite : bool
        Replace the calibration in ``out``: the new one runs in a staging folder
        inside it and replaces the earlier one only when complete; only files
        waste-harmony wrote there are replaced (anything else is refused, named).
    **kwargs
        Keyword arguments of the model shared by all runs (``n_citizens``,
        ``scenarios``, fixed parameters).

    Returns
    -------
    CalibrationResult

    References
    ----------
    Beaumont, Zhang & Balding (2002) *Genetics* 162, 2025–2035; Blum & François (2010)
    *Statistics and Computing* 20, 63–73; Fearnhead & Prangle (2012) *J. R. Stat.
    Soc. B* 74, 419–474; Beaumont et al. (2009) *Biometrika* 96, 983–990; Del Moral,
    Doucet & Jasra (2012) *Statistics and Computing* 22, 1009–1020; Prangle (2017)
    *Bayesian Analysis* 12, 289–309.
    """
    from waste_harmony.storage import folder_lock

    with folder_lock(out, "calibrate"):  # one writer per results folder
        from waste_harmony.experiments.identifiability import identifiability
        from waste_harmony.experiments.regression_calibration import calibrate_by_regression

        smc_given: dict[str, Any] = {
            "population_size": population_size,
            "scales": scales,
            "weights": weights,
            "generations": generations,
            "alpha": alpha,
            "min_acceptance": min_acceptance,
            "min_epsilon_change": min_epsilon_change,
        }
        if method not in METHODS:
            raise ValueError(f"method must be 'abc-reg' (the default) or 'abc-smc', got {method!r}")
        if method == "abc-reg":
            stray = sorted(k for k, v in smc_given.items() if v is not None)
            if stray:
                raise ValueError(
                    f"{', '.join(stray)} apply to method='abc-smc' only; remove them or pass "
                    "method='abc-smc'"
                )
        elif accept is not None:
            raise ValueError("accept applies to method='abc-reg' only; remove it")
        smc: dict[str, Any] = {k: SMC_DEFAULTS[k] if v is None else v for k, v in smc_given.items()}
        prior_dists = abc.make_priors(priors)
        overlap = set(prior_dists) & set(kwargs)
        if overlap:
            raise ValueError(
                f"{sorted(overlap)} are both calibrated (priors) and fixed (keyword arguments); "
                "remove them from one of the two"
            )
        obs = check_observed(observed, smc["scales"], smc["weights"])
        if days is None:
            days = int(getattr(model, "days", None) or obs["day"].max())
        if int(obs["day"].max()) > days:
            raise ValueError(
                f"observations reach day {int(obs['day'].max())} but runs last {days} days"
            )
        for label, value in (
            ("population_size", smc["population_size"]),
            ("replicates", replicates),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{label} must be a positive integer, got {value!r}")
        if method == "abc-smc":
            per_generation = smc["population_size"] * replicates
            if budget < per_generation:
                raise ValueError(
                    f"budget = {budget} runs is less than one generation (population_size × "
                    f"replicates = {per_generation}); raise the budget or lower population_size"
                )
        elif budget // replicates * replicates < 20:
            raise ValueError(
                f"budget = {budget} runs is too small for a reference table (at least 20 runs); "
                "raise the budget"
            )
        elif accept is not None and not 2 <= accept <= budget // replicates * replicates:
            raise ValueError(f"accept must be between 2 and the budget ({budget}), got {accept!r}")
        if seed is None:
            # (SeedSequence() draws its entropy itself, so it is an int)
            seed = int(cast(int, np.random.SeedSequence().entropy))
        elif isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
        seed = int(seed)
        # a run file's random city: one for every run of every generation
        model = pin_city_seed(model, seed)
        manifest: dict[str, Any] = {
            "kind": "calibration",
            "seed": seed,
            "priors": {k: describe_prior(v) for k, v in prior_dists.items()},
            "observed": obs.drop(columns=["scale", "weight"]).to_dict("records"),
        }
        if method == "abc-smc":  # the keys ABC-SMC has always written, so old folders resume
            manifest.update(
                scales=dict(smc["scales"] or {}),
                weights=dict(smc["weights"] or {}),
                budget=budget,
                population_size=smc["population_size"],
                replicates=replicates,
                generations=smc["generations"],
                alpha=smc["alpha"],
                min_acceptance=smc["min_acceptance"],
                min_epsilon_change=smc["min_epsilon_change"],
            )
        else:
            manifest.update(method=method, budget=budget, replicates=replicates, accept=accept)
        manifest.update(
            days=days,
            constraint=None if constraint is None else repr(constraint),
            model=None if model is None else repr(model),
            model_kwargs={k: _json_or_none(v) for k, v in kwargs.items()},
        )
        manifest.update(stored_model(model))  # the whole run file, so predictive() rebuilds it
        folder, replaces, temporary = prepare_calibration_folder(
            out, manifest, resume=resume, overwrite=overwrite
        )
        with write_errors(folder, intact="nothing was written"):
            folder.mkdir(parents=True, exist_ok=True)
            manifest["versions"] = versions()
            manifest["status"] = "running"
            text = json.dumps(manifest, indent=2, default=repr)
            write_atomic(folder / MANIFEST, lambda p: p.write_text(text))
        # One worker pool for every batch (see SharedProcessPool): a new pool per batch
        # spent seconds starting interpreters each time, more than small runs take. Its
        # workers start importing now (after every check of the arguments, so a mistake
        # leaves no processes behind), while this process plans the first batch.
        shared = None
        if executor is None and workers != 1:
            shared = SharedProcessPool(workers or max(1, os.cpu_count() or 1))
            shared.start()
        check_model = model_violations(model, kwargs)

        def admissible(values: Mapping[str, float]) -> bool:
            return not check_model(values) and (constraint is None or bool(constraint(values)))

        run_on: dict[str, Any] = {
            "executor": executor if shared is None else shared.executor(),
            "workers": workers if shared is None else None,
            "progress": progress,
        }
        report = None
        try:
            if check:
                report = identifiability(
                    model,
                    priors=prior_dists,
                    observed=obs,
                    days=days,
                    seed=seed,
                    out=folder / "identifiability",
                    resume=True,
                    **run_on,
                    **kwargs,
                )
                manifest["identifiability"] = report.table.to_dict("records")
                if progress:
                    print(report, flush=True)
            if method == "abc-reg":
                particles, gens, extra = calibrate_by_regression(
                    model,
                    priors=prior_dists,
                    observed=obs,
                    statistics=RunStatistics(obs),
                    budget=budget,
                    replicates=replicates,
                    days=days,
                    fixed=kwargs,
                    admissible=admissible,
                    seed=seed,
                    folder=folder,
                    accept=accept,
                    **run_on,
                )
                manifest.update(extra, stopped="budget")
            else:
                particles, gens, stopped = _smc(
                    model, prior_dists, obs, smc, budget, replicates, days, kwargs, admissible,
                    seed, folder, run_on,
                )  # fmt: skip
                manifest["stopped"] = stopped
        finally:
            if shared is not None:
                shared.close()
        manifest["status"] = "complete"
        result = CalibrationResult(
            particles=particles,
            generations=gens,
            observed=obs,
            priors=prior_dists,
            manifest=manifest,
            path=None if temporary else folder,
            model=model,
            model_kwargs={"days": days, **kwargs},
            identifiability=report,
        )
        if temporary:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)
        else:
            result.save(folder)
            result.path = finish_calibration_folder(folder, replaces)
        return result


def _smc(
    model: Any,
    priors: Mapping[str, Any],
    obs: pd.DataFrame,
    smc: Mapping[str, Any],
    budget: int,
    replicates: int,
    days: int,
    fixed: Mapping[str, Any],
    admissible: Callable[[Mapping[str, float]], bool],
    seed: int,
    folder: Path,
    run_on: Mapping[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """ABC-SMC, one sweep per batch of particles: particles, generations, stop rule."""
    from waste_harmony.batch.runner import Execution, experiment
    from waste_harmony.batch.store import load_experiment

    names = list(priors)
    statistics = RunStatistics(obs)

    def simulate(step: int, thetas: np.ndarray) -> np.ndarray:
        target = folder / f"batch-{step:03d}"
        points = [dict(zip(names, map(float, row), strict=True)) for row in thetas]
        if (target / "experiment.json").exists():
            done = load_experiment(target)
            if done.manifest.get("status") == "complete" and done.n_finished >= len(points):
                return simulated_values(done, obs, replicates)
        # The workers compute each run's statistics and send them back with its
        # outcome, so the parent reads no file; only runs finished before a resume
        # (not reported again) are read from their files.
        out = np.full((len(points), replicates, len(obs)), np.nan)
        reported = np.zeros((len(points), replicates), dtype=bool)

        def collect(task: Task, outcome: Outcome) -> None:
            reported[task.point, task.replicate] = True
            bar.update(1)
            error = outcome.error or ""
            if outcome.status == "done" and outcome.statistics is not None:
                out[task.point, task.replicate] = outcome.statistics[0]
            elif error.startswith("KeyError") and UNRECORDED in error:  # a mistake, not a failure
                raise KeyError(error.split(": ", 1)[1].strip("'\""))

        done = experiment(
            "sweep",
            model,
            points=points,
            seeds=replicates,
            days=days,
            root_seed=batch_seed(seed, step),
            fixed=fixed,
            execution=Execution(
                out=target,
                executor=run_on["executor"],
                workers=run_on["workers"],
                resume=True,
                progress=False,  # one bar for the whole calibration (below)
            ),
            common_random_numbers=False,
            statistics=statistics,
            on_outcome=collect,
        )
        if not reported.all():
            out[~reported] = simulated_values(done, obs, replicates)[~reported]
        return out

    # One progress bar for the whole calibration, over its budget of runs (not one per batch).
    bar = tqdm(total=budget, desc="calibrate", unit="run", disable=not run_on["progress"])
    try:
        result = abc.abc_smc(
            simulate,
            priors,
            obs["value"].to_numpy(),
            population_size=smc["population_size"],
            generations=smc["generations"],
            max_proposals=budget // replicates,
            seed=seed,
            alpha=smc["alpha"],
            min_acceptance=smc["min_acceptance"],
            min_epsilon_change=smc["min_epsilon_change"],
            scales=obs["scale"].to_numpy(),
            weights=obs["weight"].to_numpy(),
            constraint=admissible,
        )
    finally:
        bar.close()
    particles = []
    rows = []
    for t, g in enumerate(result.generations):
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
    return pd.concat(particles, ignore_index=True), pd.DataFrame(rows), result.stopped
