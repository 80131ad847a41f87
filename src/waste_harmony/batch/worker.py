"""What runs in a worker: build a model from a task, run it, tidy and write its results.

:func:`execute` is the function sent to every executor. It never raises for a
failing run (an ``Exception`` becomes a ``"failed"`` :class:`Outcome` with its
traceback); ``KeyboardInterrupt`` and other ``BaseException`` subclasses propagate, so an
interrupted experiment stops. A run's files are written by the worker, atomically
(:meth:`~waste_harmony.results.RunResult.save`), so only small outcomes travel
back to the parent process.
"""

from __future__ import annotations

import gc
import os
import socket
import time
import traceback
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from waste_harmony.batch.plan import Task
from waste_harmony.model.checks import SampleSizeWarning
from waste_harmony.results import RunResult, run_manifest, save_run
from waste_harmony.schema import RunIds, model_tables
from waste_harmony.storage import WriteError

__all__ = [
    "Outcome",
    "apply_intervention",
    "execute",
    "execute_chunk",
    "exit_with_parent",
    "prepare_worker",
    "release_memory",
    "run_ids",
    "tidy_tables",
    "to_run_result",
    "write_run",
]


@dataclass
class Outcome:
    """What a worker reports back for one task.

    Attributes
    ----------
    run_ids : tuple of str
        The task's runs.
    status : str
        ``"done"`` or ``"failed"``.
    seconds : dict
        ``build``, ``run``, ``write`` (tidy and write files) and ``total`` seconds in
        the worker, and the epoch times ``started_at`` and ``finished_at``.
    error : str or None
        ``"ExceptionType: message"`` of a failed run.
    traceback : str or None
        Its formatted traceback.
    results : list of (tables, manifest) or None
        The results (:func:`tidy_tables`), when the task had no folder to write to.
    worker : str
        ``host:pid`` of the worker process.
    statistics : list or None
        ``task.statistics(tables)`` of each run, when the task asked for them.
    write_error : (int, str) or None
        The errno and message of a failure of the environment while writing the
        results (disk full, read-only, ...): not the run's fault, so the experiment
        stops rather than fail every run that follows.
    """

    run_ids: tuple[str, ...]
    status: str
    seconds: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    traceback: str | None = None
    results: list[tuple[dict[str, Any], dict[str, Any]]] | None = None
    worker: str = ""
    statistics: list[Any] | None = None
    write_error: tuple[int, str] | None = None

    @classmethod
    def failure(
        cls,
        run_ids: tuple[str, ...],
        exc: BaseException,
        *,
        error: str | None = None,
        **fields: Any,
    ) -> Outcome:
        """The failed outcome of ``exc``: ``"Type: message"`` (or ``error``) and its traceback.

        Examples
        --------
        >>> Outcome.failure(("r0",), ValueError("bad")).error
        'ValueError: bad'
        """
        return cls(
            run_ids,
            "failed",
            error=error or f"{type(exc).__name__}: {exc}",
            traceback="".join(traceback.format_exception(exc)),
            **fields,
        )


def apply_intervention(model: Any, intervention: Any) -> None:
    """Apply an intervention to a model: call it, or install it if it is a scenario.

    Parameters
    ----------
    model : CityModel
        The (copied) model.
    intervention : mapping, callable, Scenario, scenario class or registered name
        Parameter changes (``{"waste_per_capita_kg": 0.629}``, applied with
        :meth:`~waste_harmony.CityModel.set_parameters`, validated and recorded in the
        manifest's ``interventions``), ``intervention(model)``, or a scenario installed
        with :meth:`~waste_harmony.CityModel.add_scenario` (an instance is copied first,
        so the same object can serve every replicate).
    """
    import copy

    from waste_harmony.scenarios import Scenario

    if isinstance(intervention, Mapping):
        model.set_parameters(intervention, source="intervention")
    elif isinstance(intervention, Scenario):
        model.add_scenario(copy.deepcopy(intervention))
    elif isinstance(intervention, str) or (
        isinstance(intervention, type) and issubclass(intervention, Scenario)
    ):
        model.add_scenario(intervention)
    elif callable(intervention):
        intervention(model)
    else:
        raise TypeError(
            f"an intervention must be a callable intervention(model) or a "
            f"scenario, got {intervention!r}"
        )


def _fresh(value: Any) -> Any:
    """Copy scenario instances, which can be installed in one model only."""
    import copy

    from waste_harmony.scenarios import Scenario

    if isinstance(value, Scenario):
        return copy.deepcopy(value)
    if isinstance(value, dict):
        return {k: _fresh(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_fresh(v) for v in value)
    return value


#: glibc heap trim threshold for worker processes (bytes); see :func:`relax_heap_trimming`.
TRIM_THRESHOLD_BYTES = 128 * 1024 * 1024
_M_TRIM_THRESHOLD = -1  # mallopt() parameter number in glibc's malloc.h
_heap_relaxed = False


def relax_heap_trimming() -> bool:
    """Stop glibc from returning freed heap memory to the OS after every small free.

    Dask's nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536`` (and, since a
    nanny sets it in its own process too, every process spawned after a Dask cluster
    inherits it). The model allocates and frees many arrays of tens of kilobytes per
    day; with that threshold glibc trims the heap after nearly every free and the
    next allocation faults the pages back in, which made a year-long 10^4-citizen run
    about 60 % slower (0.52 s instead of 0.32 s, measured in a spawn pool worker with
    and without the variable). Raising the threshold to 128 MiB at run time, once per
    worker process, restores the speed; memory is still returned to the OS when more
    than that is free at the top of the heap. A no-op off glibc.

    Returns
    -------
    bool
        Whether the threshold was set (now or earlier in this process).
    """
    global _heap_relaxed
    if _heap_relaxed:
        return True
    try:
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        _heap_relaxed = bool(libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl without mallopt)
        _heap_relaxed = False
    return _heap_relaxed


#: Seconds between a worker's checks that its parent process is still alive.
PARENT_CHECK_SECONDS = 0.5


def exit_with_parent(parent: int, interval: float = PARENT_CHECK_SECONDS) -> None:
    """Make this worker process exit soon after ``parent`` dies (a pool's initializer).

    A pool's workers are children of the process that started the experiment; if
    it dies without shutting the pool down (SIGKILL, a SIGTERM without a handler,
    the out-of-memory killer), nothing else tells them, and they would run on as
    orphans — holding the resource tracker open too, since it exits only when every
    process holding its pipe has. A daemon thread checks every ``interval``
    seconds whether the worker's parent is still ``parent`` (an orphan is adopted by
    another process) and ends the worker at once if not. Checking the parent id
    works wherever a parent may die, unlike Linux's ``PR_SET_PDEATHSIG``, which
    fires when the *thread* that started the worker ends.

    Parameters
    ----------
    parent : int
        The process id of the parent (``os.getpid()`` there, passed as ``initargs``).
    interval : float
        Seconds between checks.
    """
    import threading

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(1)  # no cleanup to wait for: the parent is gone, results are atomic
            time.sleep(interval)

    threading.Thread(target=watch, name="waste-harmony-parent-watch", daemon=True).start()


#: a full garbage collection after a task costs at most this share of the time
#: since the previous one (see :func:`release_memory`)
COLLECT_SHARE = 0.05
#: ... and one runs at least every this many tasks, however long it takes
COLLECT_EVERY = 50
_collect = {"cost": 0.0, "last": float("-inf"), "tasks": 0}


def release_memory() -> bool:
    """Free the finished models now: a full garbage collection, when it is cheap enough.

    Why this exists: a model is a web of reference cycles (each Mesa agent refers to
    its model, the model to its agents and parts), so only Python's cyclic
    garbage collector frees it, and a model lives long enough to reach the oldest
    generation, which is collected only when the number of *objects* waiting there
    grew by a quarter. The collector counts objects, not bytes: a 20-citizen model
    holds about 1.6 MB of arrays (the city's matrices, the pollution solver's
    factorisation, the recorder's columns) in a few hundred objects, so a worker
    running thousands of small models kept gigabytes of dead models (measured:
    +1.6 MB per model built without a collection, +0.01 MB with one; see
    ``benchmarks/bench_worker_memory.py``). ``malloc_trim`` and another allocator
    cannot help: the memory is still referenced.

    A full collection costs about 0.5 ms in a pool worker (:func:`prepare_worker`
    froze the library's own objects) and about 150 ms in a process holding a
    large unfrozen heap (a notebook running ``executor="serial"``). So one runs
    after a task only when the time since the previous one is at least
    ``1 / COLLECT_SHARE`` times what the previous one cost (at most 5 % of the
    time goes to collecting), and at least every ``COLLECT_EVERY`` tasks (a
    collection that frees many models costs more, which must not space the next
    one further): at most 50 dead models wait to be freed.

    Returns
    -------
    bool
        Whether a collection ran.

    Examples
    --------
    >>> release_memory() in (True, False)
    True
    """
    now = time.perf_counter()
    _collect["tasks"] += 1
    cheap = (now - _collect["last"]) * COLLECT_SHARE >= _collect["cost"]
    if not cheap and _collect["tasks"] < COLLECT_EVERY:
        return False
    gc.collect()
    _collect.update(last=time.perf_counter(), tasks=0)
    _collect["cost"] = _collect["last"] - now
    return True


def prepare_worker(parent: int | None = None) -> None:
    """Set up a fresh pool worker: heap trimming, the library imported, its objects frozen.

    The initializer of every process pool of :mod:`waste_harmony.batch.executors`;
    given the ``parent`` process id, the worker also exits when that process dies
    (:func:`exit_with_parent`).
    :func:`gc.freeze` moves everything imported so far (about 10^5 objects:
    NumPy, pandas, Arrow, SciPy, Mesa and this library) out of the collector's
    reach, so the full collection :func:`release_memory` runs after each task scans
    only what the tasks created (0.5 ms instead of about 150 ms).
    """
    if parent is not None:
        exit_with_parent(parent)
    relax_heap_trimming()
    import waste_harmony.model  # noqa: F401  (the package, its dependencies and the model)

    gc.collect()  # what import left behind is freed, not frozen
    gc.freeze()


def execute(task: Task) -> Outcome:
    """Build, run, tidy and write the run(s) of one task, then free its models.

    Parameters
    ----------
    task : Task
        The task.

    Returns
    -------
    Outcome
        ``"done"`` with timings (and the results if ``task.folder`` is ``None``, the
        statistics if ``task.statistics`` is set), or ``"failed"`` with the error and
        traceback.
    """
    try:
        return _execute(task)
    finally:  # the task's models are unreachable now (its locals are gone)
        release_memory()


def execute_chunk(tasks: list[Task]) -> list[Outcome]:
    """:func:`execute` each of several tasks, one after another, in one call.

    Sent instead of :func:`execute` when an experiment's runs are so short that
    the round trip of one call per run (pickling, the pool's queues, waking the
    parent) costs the parent a noticeable share of a core, which it then takes
    from the workers (see ``chunk`` in
    :func:`~waste_harmony.batch.executors.execute_tasks`).

    Parameters
    ----------
    tasks : list of Task
        The tasks, run in this order.

    Returns
    -------
    list of Outcome
        One per task, in the same order.
    """
    return [execute(task) for task in tasks]


def _execute(task: Task) -> Outcome:
    relax_heap_trimming()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    started_at = time.time()  # wall-clock epoch, to see gaps between a worker's tasks
    start = time.perf_counter()
    seconds: dict[str, float] = {}
    try:
        with warnings.catch_warnings():
            # the plan's check built this kind of model in the parent and warned there,
            # at the user's sweep or calibrate line; once per experiment is enough
            warnings.simplefilter("ignore", SampleSizeWarning)
            model = task.factory(rng=task.seed, **_fresh(task.kwargs()))
        built = time.perf_counter()
        if task.branch is None:
            model.run_for(task.days)
            models = [model]
        else:
            model.run_for(task.branch.at_day)
            variant = model.copy()
            apply_intervention(variant, task.branch.intervention)
            rest = task.days - task.branch.at_day
            model.run_for(rest)
            variant.run_for(rest)
            models = [model, variant]
        ran = time.perf_counter()
        seconds.update(build=built - start, run=ran - built)
        runs: list[tuple[dict[str, Any], dict[str, Any]]]
        if task.folder is None and not task.keep_tables:  # statistics only: no manifest
            runs = [(model_tables(m, run_ids(task, i)), {}) for i, m in enumerate(models)]
        else:
            runs = [tidy_tables(m, task, i, wall_time_s=ran - start) for i, m in enumerate(models)]
        for _, manifest in runs:
            manifest["worker"] = worker
            manifest["seconds"] = dict(seconds)
        statistics = None
        if task.statistics is not None:  # before writing: a run is finished with them
            statistics = [task.statistics(tables) for tables, _ in runs]
        if task.folder is not None:
            for run_id, (tables, manifest) in zip(task.run_ids, runs, strict=True):
                write_run(Path(task.folder) / run_id, tables, manifest)
            results_out = None
        else:
            results_out = runs if task.keep_tables else None
        done = time.perf_counter()
        seconds.update(
            write=done - ran, total=done - start, started_at=started_at, finished_at=time.time()
        )
        return Outcome(
            task.run_ids,
            "done",
            seconds,
            results=results_out,
            worker=worker,
            statistics=statistics,
        )
    except WriteError as exc:  # the environment's, not the run's: stop the experiment
        seconds["total"] = time.perf_counter() - start
        return Outcome.failure(
            task.run_ids,
            exc,
            seconds=seconds,
            worker=worker,
            write_error=(exc.errno or 0, str(exc)),
        )
    except Exception as exc:
        seconds["total"] = time.perf_counter() - start
        return Outcome.failure(task.run_ids, exc, seconds=seconds, worker=worker)


def run_ids(task: Task, index: int = 0) -> RunIds:
    """The id columns of run ``index`` of a task (see :mod:`waste_harmony.schema`).

    Parameters
    ----------
    task : Task
        The task.
    index : int
        Which of its runs.

    Returns
    -------
    RunIds
        ``run_id``, ``label`` (if labelled), ``point``, ``replicate``, ``seed`` and the
        swept parameters with their column kinds.
    """
    return RunIds(
        run_id=task.run_ids[index],
        seed=task.seed,
        point=task.point,
        replicate=task.replicate,
        label=task.labels[index] if task.labels else None,
        parameters=task.parameters,
        kinds=task.columns,
    )


def tidy_tables(
    model: Any, task: Task, index: int = 0, *, wall_time_s: float | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A model's results as the schema's Arrow tables, and its manifest.

    Parameters
    ----------
    model : CityModel
        A model that has run.
    task : Task
        The task it belongs to.
    index : int
        Which of the task's runs it is.
    wall_time_s : float, optional
        Seconds it took.

    Returns
    -------
    (dict, dict)
        Tables of :func:`waste_harmony.schema.model_tables` (``"model"``,
        ``"neighborhoods"`` unless not recorded, ``"events"``) and the manifest (run id,
        point, replicate, label, swept parameters, seed,
        all parameters, scenarios, city, versions).
    """
    extra = {
        "run_id": task.run_ids[index],
        "point": task.point,
        "replicate": task.replicate,
        "label": task.labels[index] if task.labels else None,
        "swept": task.parameters,
        "days_planned": task.days,
        **task.extra,
    }
    if task.branch is not None:
        extra["branch_day"] = task.branch.at_day
    manifest = run_manifest(model, wall_time_s=wall_time_s, extra=extra)

    return model_tables(model, run_ids(task, index)), manifest


def write_run(folder: Path, tables: dict[str, Any], manifest: dict[str, Any]) -> Path:
    """Write a run's tables and manifest atomically (:func:`waste_harmony.results.save_run`).

    Parameters
    ----------
    folder : pathlib.Path
        The run's folder.
    tables : dict
        From :func:`tidy_tables`.
    manifest : dict
        Written last: a folder with a manifest is complete.

    Returns
    -------
    pathlib.Path
        The folder.
    """
    return save_run(folder, tables, manifest)


def to_run_result(tables: dict[str, Any], manifest: dict[str, Any]) -> RunResult:
    """Tables from :func:`tidy_tables` as a :class:`RunResult` of pandas frames.

    Parameters
    ----------
    tables : dict
        The tables.
    manifest : dict
        The manifest.

    Returns
    -------
    RunResult
        The run.
    """
    return RunResult.from_tables(tables, manifest)
