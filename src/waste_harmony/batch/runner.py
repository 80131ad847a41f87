"""Running experiments: one run, ensembles over seeds, parameter sweeps.

Every experiment is a fixed plan of runs (:mod:`~waste_harmony.batch.plan`)
executed by any :class:`concurrent.futures.Executor`
(:mod:`~waste_harmony.batch.executors`); results stream to disk as runs
finish (:mod:`~waste_harmony.batch.store`) and an interrupted experiment
resumes where it stopped (:mod:`~waste_harmony.batch.resume`).
:func:`experiment` ties these together; :func:`ensemble`, :func:`sweep` and
:func:`~waste_harmony.experiments.compare` are its public faces.
"""

from __future__ import annotations

import copy
import os
import shutil
import time
import uuid
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from waste_harmony.batch.checks import check_plan, check_sendable
from waste_harmony.batch.executors import SerialExecutor, execute_tasks, executor_name
from waste_harmony.batch.guard import checked_executor
from waste_harmony.batch.identity import fingerprint, fixed_meaning
from waste_harmony.batch.limits import check_plan_size
from waste_harmony.batch.plan import (
    Branch,
    Task,
    check_days,
    check_fixed,
    pin_city_seed,
    qualified_name,
    resolve_factory,
)
from waste_harmony.batch.recipe import GridPoints, Plan, PointList
from waste_harmony.batch.resume import finish_folder, prepare_folder, still_to_run
from waste_harmony.batch.seeds import root_entropy, run_seed
from waste_harmony.batch.store import RUNS, SweepResult, now, write_experiment_manifest
from waste_harmony.batch.worker import Outcome, tidy_tables, to_run_result
from waste_harmony.results import RunResult, versions
from waste_harmony.storage import folder_lock

__all__ = ["Execution", "SerialExecutor", "ensemble", "experiment", "run", "sweep"]


@dataclass(frozen=True)
class Execution:
    """How an experiment executes and where it writes (the same for every kind).

    Attributes
    ----------
    out : str, os.PathLike or None
        Experiment folder (``None``: a temporary folder removed with the result).
    executor : None, "serial", Executor or Dask Client
        Where runs execute (:func:`~waste_harmony.batch.executors.open_pool`).
    workers : int or None
        Processes of the default pool.
    resume, overwrite : bool
        Skip runs already finished in ``out``; replace an experiment in ``out``.
    progress : bool
        Show a progress bar.
    write_on : {"workers", "client"}
        Who writes the Parquet files.
    """

    out: str | os.PathLike[str] | None = None
    executor: Any = None
    workers: int | None = None
    resume: bool = False
    overwrite: bool = False
    progress: bool = True
    write_on: str = "workers"


def experiment(
    kind: str,
    model: Any,
    *,
    points: Sequence[Mapping[str, Any]] | GridPoints | PointList,
    seeds: int | Sequence[int],
    days: int | None,
    root_seed: int | None,
    fixed: Mapping[str, Any],
    execution: Execution,
    labels: Sequence[str] | None = None,
    common_random_numbers: bool = True,
    branch: Branch | None = None,
    extra_manifest: Mapping[str, Any] | None = None,
    statistics: Callable[[dict[str, Any]], Any] | None = None,
    on_outcome: Callable[[Task, Outcome], None] | None = None,
) -> SweepResult:
    """Plan, execute and record an experiment (what ensemble, sweep and compare call).

    Parameters
    ----------
    kind : str
        ``"ensemble"``, ``"sweep"``, ``"compare"``, ... (recorded in the manifest).
    model : class, callable or RunConfig
        What to build (see :func:`run`).
    points : list of dict or GridPoints
        Parameter points (a grid is never listed: see :mod:`~waste_harmony.batch.recipe`).
    seeds : int or list of int
        Replicates per point, or explicit seeds.
    days : int or None
        Days per run (default: the run file's ``days``).
    root_seed : int or None
        Root of every run's seed.
    fixed : mapping
        Model keyword arguments shared by all runs.
    execution : Execution
        Executor, folder, resuming, progress.
    labels : list of str, optional
        One label per point (run ids become ``<label>-r<replicate>``).
    common_random_numbers : bool
        Replicate ``r`` uses the same seed at every point.
    branch : Branch, optional
        Branch each run at a day into a baseline and a variant.
    extra_manifest : mapping, optional
        More experiment manifest entries.
    statistics : callable, optional
        ``statistics(tables)`` computed in the worker from each run's tables and
        returned in its :class:`~waste_harmony.batch.worker.Outcome` (must be
        picklable for a process pool).
    on_outcome : callable, optional
        Called in this process with ``(task, outcome)`` as each task ends (see
        :func:`~waste_harmony.batch.executors.execute_tasks`); runs skipped on
        resume are not reported.

    Returns
    -------
    SweepResult
        The results, read lazily.
    """
    out, executor, write_on = execution.out, execution.executor, execution.write_on
    with folder_lock(out, kind):  # one writer per results folder
        resume, overwrite = execution.resume, execution.overwrite
        factory, default_days = resolve_factory(model)
        days = check_days(days, default_days)
        fixed = check_fixed(fixed)
        if write_on not in ("workers", "client"):
            raise ValueError(f"write_on must be 'workers' or 'client', got {write_on!r}")
        if branch is not None and not 0 < branch.at_day < days:
            raise ValueError(
                f"at_day must be between 1 and days - 1 = {days - 1}, got {branch.at_day}"
            )
        root = root_entropy(root_seed)
        factory = pin_city_seed(factory, root)  # one city for every run (see pin_city_seed)
        plan = Plan.of(
            points,
            seeds,
            root,
            common_random_numbers=common_random_numbers,
            labels=labels,
            branched=branch is not None,
        )
        check_plan_size(plan.n_points, plan.replicates, out)  # before anything is built
        # every mistake at once, before the first run (once per distinct value of a grid)
        check_plan(factory, plan.points, fixed, days, progress=execution.progress)
        # A script without the __main__ guard is refused; code from standard input runs serially.
        executor = checked_executor(executor)
        columns = plan.points.columns()
        meaning = fixed_meaning(factory, fixed)
        recipe = plan.recipe()  # what experiment.json keeps: not one entry per run
        finger = fingerprint(kind, factory, meaning, days, {"plan": plan.meaning()}, branch)
        manifest: dict[str, Any] = {
            "kind": kind,
            "created": now(),
            "fingerprint": finger,
            "root_seed": root,
            "common_random_numbers": common_random_numbers,
            "days": days,
            "model": qualified_name(factory),
            "fixed": fixed,
            "parameter_columns": columns,
            "branch": None
            if branch is None
            else {"at_day": branch.at_day, "intervention": repr(branch.intervention)},
            "plan": recipe,
            "n_runs": plan.n_runs,
            "versions": versions(),
            **(extra_manifest or {}),
        }

        def listed_fingerprint() -> str:
            # what a folder written before plans had recipes holds (it listed every run)
            return fingerprint(kind, factory, meaning, days, list(plan.runs()), branch)

        prepared = prepare_folder(
            out, manifest, resume=resume, overwrite=overwrite, listed=listed_fingerprint
        )
        folder, temporary = prepared.folder, prepared.temporary
        task_extra = {"experiment": kind, "fingerprint": finger}
        target = None if write_on == "client" else str(folder / RUNS)
        nonce = uuid.uuid4().hex

        def make_task(i: int) -> Task:
            entry = plan.entry(i)
            return Task(
                run_ids=plan.task_ids(i),
                point=entry["point"],
                replicate=entry["replicate"],
                seed=entry["seed"],
                parameters=entry["parameters"],
                factory=factory,
                fixed=fixed,
                days=days,
                labels=plan.task_labels(i),
                columns=columns,
                folder=target,
                branch=branch,
                extra=task_extra,
                nonce=f"{nonce}-{entry['run_id']}",
                statistics=statistics,
            )

        if executor is None or isinstance(executor, ProcessPoolExecutor):
            check_sendable(make_task(0))  # before anything runs: explain what cannot be sent
        todo, damaged = still_to_run(plan, folder)
        skipped = plan.n_runs - len(todo) * (2 if branch is not None else 1)
        lazy_tasks = (make_task(i) for i in todo)
        manifest.update(
            status="running",
            updated=now(),
            executor=executor_name(executor),
            skipped_on_resume=skipped if resume else 0,
            damaged_on_resume=damaged,
        )
        write_experiment_manifest(folder, manifest)
        status = "interrupted"
        try:
            execute_tasks(
                lazy_tasks,
                n_tasks=len(todo),
                folder=folder,
                executor=executor,
                workers=execution.workers,
                progress=execution.progress,
                desc=kind,
                total=plan.n_runs,
                initial=skipped,
                on_outcome=on_outcome,
            )
            status = "complete"
        finally:
            result = SweepResult(folder, manifest=manifest)
            failed = result.n_failed
            if status == "complete" and failed:
                status = "complete with failures"
            manifest.update(status=status, updated=now(), finished=result.n_finished, failed=failed)
            try:
                write_experiment_manifest(folder, manifest)
            except OSError:
                if status != "interrupted":
                    raise
                # interrupted: the error that stopped the experiment is the one to report
        if prepared.replaces is not None:  # a replacement, complete: swap it in
            result = SweepResult(finish_folder(prepared), manifest=manifest)
        if temporary:
            weakref.finalize(result, shutil.rmtree, folder, True)
        return result


def run(
    model: Any = None,
    *,
    days: int | None = None,
    seed: int | None = None,
    out: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    **kwargs: Any,
) -> RunResult:
    """Build one model, run it and return its results (in this process).

    Parameters
    ----------
    model : class, callable or RunConfig, optional
        What to build: :class:`~waste_harmony.CityModel` (default), a subclass, a
        factory ``factory(rng=..., **kwargs)`` returning a model, or a run file's
        :class:`~waste_harmony.config.RunConfig`.
    days : int
        Days to simulate (default: the run file's ``days``).
    seed : int, optional
        The model's seed (``None``: fresh entropy, recorded in the manifest).
    out : str or os.PathLike, optional
        Also save the results in this folder.
    overwrite : bool
        Allow saving into a non-empty folder.
    **kwargs
        Keyword arguments of the model (``n_citizens``, ``scenarios``, parameters).

    Returns
    -------
    RunResult
        Tidy frames (``run_id``, ``point``, ``replicate``, ``seed``, ``day``, variables),
        events and the manifest (parameters, seed, scenarios, versions).

    Raises
    ------
    ValueError, TypeError
        For bad arguments (every problem found, before running), or whatever the
        model raises while running, with its own type and message.

    Examples
    --------
    >>> from waste_harmony import experiments
    >>> result = experiments.run(n_citizens=200, days=10, seed=3)
    >>> result.manifest["seed"], len(result.model_frame), int(result.model_frame["day"].max())
    (3, 11, 10)
    """
    factory, default_days = resolve_factory(model)
    days = check_days(days, default_days)
    fixed = check_fixed(kwargs)
    seed = run_seed(seed)
    task = Task(
        run_ids=("run",),
        point=0,
        replicate=0,
        seed=seed,
        parameters={},
        factory=factory,
        fixed=fixed,
        days=days,
        extra={"experiment": "run"},
    )
    check_plan(factory, [{}], fixed, days)
    # In this process, so that a failure raises its own exception (type and message);
    # experiments record failures with their traceback instead (worker.execute).
    start = time.perf_counter()
    built = factory(rng=seed, **copy.deepcopy(task.kwargs()))  # keep the caller's scenarios
    built.run_for(days)
    tables, manifest = tidy_tables(built, task, 0, wall_time_s=time.perf_counter() - start)
    result = to_run_result(tables, manifest)
    if out is not None:
        result.save(out, overwrite=overwrite)
    return result


def ensemble(
    model: Any = None,
    *,
    seeds: int | Sequence[int] = 10,
    days: int | None = None,
    root_seed: int | None = None,
    out: str | os.PathLike[str] | None = None,
    executor: Any = None,
    workers: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    write_on: str = "workers",
    **kwargs: Any,
) -> SweepResult:
    """Run one model configuration over many seeds.

    Parameters
    ----------
    model : class, callable or RunConfig, optional
        What to build (see :func:`run`).
    seeds : int or list of int
        Number of replicates (seeds spawned from ``root_seed``) or explicit seeds.
    days : int
        Days per run (default: the run file's ``days``).
    root_seed : int, optional
        Root of every run's seed (``None``: fresh entropy, recorded).
    out : str or os.PathLike, optional
        Experiment folder (``None``: a temporary folder removed with the result).
    executor : None, "serial", Executor or Dask Client
        Where runs execute (default: a spawn process pool).
    workers : int, optional
        Processes of the default pool (default: CPU count).
    resume : bool
        Skip runs already finished in ``out`` (same experiment only).
    overwrite : bool
        Replace an experiment already in ``out``.
    progress : bool
        Show a progress bar.
    write_on : {"workers", "client"}
        Who writes the Parquet files: the workers (default; needs ``out`` on a
        filesystem the workers share) or this process (results travel back).
    **kwargs
        Keyword arguments of the model shared by all runs.

    Returns
    -------
    SweepResult
        Lazy access to the tidy results.
    """
    execution = Execution(out, executor, workers, resume, overwrite, progress, write_on)
    return experiment(
        "ensemble",
        model,
        points=[{}],
        seeds=seeds,
        days=days,
        root_seed=root_seed,
        fixed=kwargs,
        execution=execution,
    )


def sweep(
    model: Any = None,
    *,
    parameters: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]] | GridPoints | PointList,
    seeds: int | Sequence[int] = 1,
    days: int | None = None,
    root_seed: int | None = None,
    common_random_numbers: bool = True,
    out: str | os.PathLike[str] | None = None,
    executor: Any = None,
    workers: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    write_on: str = "workers",
    **kwargs: Any,
) -> SweepResult:
    """Run a model over parameter points × seeds.

    Parameters
    ----------
    model : class, callable or RunConfig, optional
        What to build (see :func:`run`).
    parameters : mapping or list of mappings
        A grid (name → list of values; every combination is run) or explicit points
        (a list of dicts, e.g. from :func:`~waste_harmony.experiments.latin_hypercube`).
    seeds : int or list of int
        Replicates per point.
    common_random_numbers : bool
        Replicate ``r`` uses the same seed at every point (default).
    days, root_seed, out, executor, workers, resume, overwrite, progress, write_on, **kwargs
        As in :func:`ensemble`.

    Returns
    -------
    SweepResult
        Lazy access to the tidy results.

    Examples
    --------
    >>> from waste_harmony import experiments
    >>> result = experiments.sweep(parameters={"waste_per_capita_kg": [0.5, 1.0]},
    ...                            seeds=2, n_citizens=100, days=5, root_seed=1,
    ...                            executor="serial", progress=False)
    >>> runs = result.runs()
    >>> runs["run_id"].tolist()
    ['p0000-r0000', 'p0000-r0001', 'p0001-r0000', 'p0001-r0001']
    >>> runs["waste_per_capita_kg"].tolist(), set(runs["status"])
    ([0.5, 0.5, 1.0, 1.0], {'finished'})
    """
    points: GridPoints | PointList | list[dict[str, Any]]
    if isinstance(parameters, GridPoints | PointList):
        points = parameters
    elif isinstance(parameters, Mapping):
        points = GridPoints.of(parameters)  # never listed: run i's point is computed from i
    elif isinstance(parameters, Iterable) and not isinstance(parameters, str):
        points = [dict(p) for p in parameters]
    else:
        raise TypeError(
            "parameters must be a grid (name -> list of values) or a list of "
            f"parameter dicts, got {parameters!r}"
        )
    execution = Execution(out, executor, workers, resume, overwrite, progress, write_on)
    return experiment(
        "sweep",
        model,
        points=points,
        seeds=seeds,
        days=days,
        root_seed=root_seed,
        fixed=kwargs,
        execution=execution,
        common_random_numbers=common_random_numbers,
    )
