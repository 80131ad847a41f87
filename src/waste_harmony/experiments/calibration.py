"""Calibration to observed data: ABC-SMC on the experiment executors.

:func:`calibrate` confronts a model with observations — a tidy frame of ``day``,
``variable``, ``value`` (and ``node`` for neighbourhood variables) — and returns a
:class:`CalibrationResult`: the weighted posterior sample, credible intervals, the
effective sample size and tolerance of every generation, posterior predictive bands
and a contraction table showing which parameters the data identify.

This module is the driver: it checks the settings, plans each batch of particles
and runs it. The observations and their matching to runs are in
:mod:`~waste_harmony.experiments.observations`, the result object and its storage
in :mod:`~waste_harmony.experiments.calibration_result`, the algorithm itself in
:mod:`~waste_harmony.experiments.abc`.

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
from collections.abc import Callable, Mapping
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
from waste_harmony.experiments.observations import (
    UNRECORDED,
    RunStatistics,
    check_observed,
    simulated_values,
)
from waste_harmony.results import versions
from waste_harmony.storage import write_atomic, write_errors

if TYPE_CHECKING:
    from waste_harmony.batch.plan import Task
    from waste_harmony.batch.worker import Outcome

# CalibrationResult, RunStatistics, check_observed, load_calibration and
# weighted_quantile lived here before the split; they stay importable from here.
__all__ = [
    "MANIFEST",
    "CalibrationResult",
    "RunStatistics",
    "calibrate",
    "check_observed",
    "load_calibration",
    "model_violations",
    "weighted_quantile",
]


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
    overwrite: bool = False,
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
    Beaumont et al. (2009) *Biometrika* 96, 983–990; Del Moral, Doucet & Jasra (2012)
    *Statistics and Computing* 22, 1009–1020; Prangle (2017) *Bayesian Analysis* 12, 289–309.
    """
    from waste_harmony.batch.runner import Execution, experiment
    from waste_harmony.batch.store import load_experiment
    from waste_harmony.storage import folder_lock

    with folder_lock(out, "calibrate"):  # one writer per results folder
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
        # a run file's random city: one for every run of every generation
        model = pin_city_seed(model, seed)
        manifest: dict[str, Any] = {
            "kind": "calibration",
            "seed": seed,
            "priors": {k: describe_prior(v) for k, v in prior_dists.items()},
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
                elif (
                    error.startswith("KeyError") and UNRECORDED in error
                ):  # a mistake, not a failure
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
        bar = tqdm(total=budget, desc="calibrate", unit="run", disable=not progress)
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
            bar.close()
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
            result.path = finish_calibration_folder(folder, replaces)
        return result
