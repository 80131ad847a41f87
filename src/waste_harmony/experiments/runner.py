"""Running experiments: one run, ensembles over seeds, parameter sweeps; executors.

Every experiment is a fixed plan of runs (:mod:`waste_harmony.experiments.plan`)
executed by any :class:`concurrent.futures.Executor`:

* ``executor=None`` (default): a local process pool of ``workers`` processes,
  started with the ``spawn`` method *for this pool only* (the program's global
  start method is never changed);
* ``executor="serial"``: in this process, one run after another;
* a Dask ``distributed.Client`` (or its ``get_executor()``): the same experiment
  on a cluster; calls are submitted with ``pure=False`` and a unique token, so
  Dask never merges two runs;
* any other ``Executor`` you manage yourself.

Results stream to disk as runs finish (:mod:`waste_harmony.experiments.store`);
at most a few tasks are in flight at once, so the parent's memory does not grow
with the number of runs.
"""

from __future__ import annotations

import datetime
import json
import multiprocessing
import os
import shutil
import tempfile
import uuid
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from waste_harmony.experiments.plan import (
    Branch,
    Task,
    check_sendable,
    column_kinds,
    fingerprint,
    grid,
    make_plan,
    qualified_name,
    resolve_factory,
    root_entropy,
)
from waste_harmony.experiments.store import (
    EXPERIMENT_MANIFEST,
    FAILURES,
    RUNS,
    TIMINGS,
    SweepResult,
)
from waste_harmony.experiments.worker import Outcome, execute, to_run_result, write_run
from waste_harmony.results import MANIFEST, RunResult, _json_safe, versions, write_atomic

__all__ = ["SerialExecutor", "ensemble", "run", "sweep"]


class SerialExecutor(Executor):
    """An executor that runs each call at once, in this process.

    ``KeyboardInterrupt`` propagates immediately; other exceptions are stored in the
    returned future, as in any executor.

    Examples
    --------
    >>> SerialExecutor().submit(pow, 2, 10).result()
    1024
    """

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """Run ``fn(*args, **kwargs)`` now and return a finished future."""
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:
            future.set_exception(exc)
        return future


@dataclass
class _Pool:
    executor: Executor
    owned: bool
    window: int
    kind: str  # "serial", "process", "dask", "custom"
    description: str


def _is_dask(obj: Any) -> bool:
    module = type(obj).__module__ or ""
    return module.startswith("distributed")


def _open_pool(executor: Any, workers: int | None, n_tasks: int) -> _Pool:
    if isinstance(executor, str):
        if executor != "serial":
            raise ValueError(
                f"executor must be None, 'serial', a concurrent.futures.Executor "
                f"or a Dask client, got {executor!r}"
            )
        return _Pool(SerialExecutor(), True, 1, "serial", "serial")
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
    ):
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    if executor is None:
        n = workers or max(1, min(os.cpu_count() or 1, n_tasks))
        pool = ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"))
        return _Pool(pool, True, 2 * n, "process", f"process pool ({n} workers, spawn)")
    if _is_dask(executor) and hasattr(executor, "get_executor"):  # a distributed.Client
        threads = sum(executor.nthreads().values()) or 1
        return _Pool(
            executor.get_executor(pure=False),
            False,
            2 * threads,
            "dask",
            f"dask ({threads} threads)",
        )
    if isinstance(executor, Executor):
        if _is_dask(executor):
            client = getattr(executor, "_client", None)
            threads = sum(client.nthreads().values()) if client is not None else 2
            return _Pool(executor, False, 2 * max(threads, 1), "dask", "dask executor")
        n = getattr(executor, "_max_workers", None) or os.cpu_count() or 1
        kind = "process" if isinstance(executor, ProcessPoolExecutor) else "custom"
        return _Pool(executor, False, 2 * n, kind, type(executor).__name__)
    raise TypeError(
        f"executor must be None, 'serial', a concurrent.futures.Executor or a Dask "
        f"distributed.Client, got {type(executor).__name__}"
    )


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def _check_days(days: Any, default: int | None) -> int:
    if days is None:
        days = default
    if days is None:
        raise TypeError("days is required: how many days each run simulates (365 = a year)")
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValueError(f"days must be a positive integer, got {days!r}")
    return days


def _check_fixed(fixed: Mapping[str, Any]) -> dict[str, Any]:
    if "rng" in fixed or "seed" in fixed:
        raise TypeError(
            "do not pass rng/seed to an experiment: each run's seed comes from "
            "root_seed (or pass seeds=[...] explicitly)"
        )
    return dict(fixed)


def _prepare_folder(
    out: str | os.PathLike[str] | None, manifest: dict[str, Any], *, resume: bool, overwrite: bool
) -> tuple[Path, bool]:
    """Create or check the experiment folder; return it and whether it is temporary."""
    if out is None:
        folder = Path(tempfile.mkdtemp(prefix="waste-harmony-"))
        temporary = True
    else:
        folder = Path(out)
        temporary = False
    existing = folder / EXPERIMENT_MANIFEST
    if existing.exists():
        old = json.loads(existing.read_text())
        if overwrite:
            for name in (RUNS, FAILURES):
                shutil.rmtree(folder / name, ignore_errors=True)
            (folder / TIMINGS).unlink(missing_ok=True)
            existing.unlink()
        elif old.get("fingerprint") != manifest["fingerprint"]:
            raise ValueError(
                f"{folder} holds a different experiment ({old.get('kind')}, "
                f"{len(old.get('runs', []))} runs, created {old.get('created')}); its plan, "
                "model or settings differ from this one. Choose another folder, or pass "
                "overwrite=True (--force) to replace it."
            )
        else:
            finished = sum(
                (folder / RUNS / r["run_id"] / MANIFEST).exists() for r in old.get("runs", [])
            )
            if finished and not resume:
                raise FileExistsError(
                    f"{folder} already holds {finished} finished runs of this experiment; "
                    "pass resume=True (--resume) to skip them and run the rest, or "
                    "overwrite=True (--force) to start over"
                )
            manifest["created"] = old.get("created", manifest["created"])
    elif folder.exists() and any(folder.iterdir()) and not overwrite:
        raise FileExistsError(
            f"{folder} is not empty and holds no experiment; choose an empty "
            "or new folder (or pass overwrite=True)"
        )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RUNS).mkdir(exist_ok=True)
    return folder, temporary


def _write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    text = json.dumps(_json_safe(manifest), indent=1, sort_keys=True)
    write_atomic(folder / EXPERIMENT_MANIFEST, lambda p: p.write_text(text + "\n"))


def _record_failure(folder: Path, task: Task, outcome: Outcome) -> None:
    for index, run_id in enumerate(task.run_ids):
        record = {
            "run_id": run_id,
            "label": task.labels[index] if task.labels else None,
            "point": task.point,
            "replicate": task.replicate,
            "seed": task.seed,
            "parameters": task.parameters,
            "error": outcome.error,
            "traceback": outcome.traceback,
            "worker": outcome.worker,
            "time": _now(),
        }
        text = json.dumps(_json_safe(record), indent=1)
        write_atomic(folder / FAILURES / f"{run_id}.json", lambda p, t=text: p.write_text(t))


def execute_tasks(
    tasks: Iterable[Task],
    *,
    n_tasks: int,
    folder: Path,
    executor: Any = None,
    workers: int | None = None,
    progress: bool = True,
    desc: str = "runs",
    total: int | None = None,
    initial: int = 0,
) -> dict[str, int]:
    """Run tasks on an executor, writing each result as it arrives.

    Parameters
    ----------
    tasks : iterable of Task
        The work (already filtered for resuming); consumed lazily, a few tasks ahead
        of the workers.
    n_tasks : int
        How many tasks ``tasks`` yields (sizes the default pool).
    folder : pathlib.Path
        Experiment folder (results go to ``runs/``, failures to ``failures/``).
    executor, workers
        See :func:`sweep`.
    progress : bool
        Show a progress bar (``tqdm.auto``) over runs with the number failed.
    desc : str
        Progress bar label.
    total, initial : int
        Runs in the whole experiment and runs already finished (for the bar).

    Returns
    -------
    dict
        ``finished`` and ``failed`` counts of this call.

    Raises
    ------
    KeyboardInterrupt
        Re-raised after cancelling the tasks not yet started; finished runs stay on
        disk.
    """
    from tqdm.auto import tqdm

    counts = {"finished": 0, "failed": 0}
    if n_tasks == 0:
        return counts
    pool = _open_pool(executor, workers, n_tasks)
    bar = tqdm(
        total=total if total is not None else n_tasks,
        initial=initial,
        desc=desc,
        unit="run",
        disable=not progress,
        dynamic_ncols=True,
    )
    bar.set_postfix(failed=0)
    pending: dict[Future, Task] = {}
    queue = iter(tasks)
    timings = folder / TIMINGS

    def fill() -> None:
        while len(pending) < pool.window:
            task = next(queue, None)
            if task is None:
                return
            pending[pool.executor.submit(execute, task)] = task

    def handle(task: Task, outcome: Outcome) -> None:
        if outcome.status == "done":
            for index, run_id in enumerate(task.run_ids):
                if outcome.results is not None:
                    write_run(folder / RUNS / run_id, *outcome.results[index])
                (folder / FAILURES / f"{run_id}.json").unlink(missing_ok=True)
            counts["finished"] += len(task.run_ids)
        else:
            _record_failure(folder, task, outcome)
            counts["failed"] += len(task.run_ids)
        with timings.open("a") as fh:  # one line per task: streamed, never held in memory
            fh.write(
                json.dumps(
                    {
                        "run_ids": list(task.run_ids),
                        "status": outcome.status,
                        "worker": outcome.worker,
                        **outcome.seconds,
                    }
                )
                + "\n"
            )
        bar.update(len(task.run_ids))
        bar.set_postfix(failed=counts["failed"])

    clean = False
    try:
        fill()
        while pending:
            done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for future in done:
                task = pending.pop(future)
                try:
                    outcome = future.result()
                except Exception as exc:  # the executor failed (worker died, unpicklable...)
                    import traceback

                    outcome = Outcome(
                        task.run_ids,
                        "failed",
                        error=f"{type(exc).__name__}: {exc}",
                        traceback="".join(traceback.format_exception(exc)),
                    )
                handle(task, outcome)
            fill()
        clean = True
    finally:
        bar.close()
        for future in pending:
            future.cancel()
        if pool.owned:
            pool.executor.shutdown(wait=clean, cancel_futures=not clean)
    return counts


def _experiment(
    kind: str,
    model: Any,
    *,
    points: Sequence[Mapping[str, Any]],
    labels: Sequence[str] | None,
    seeds: int | Sequence[int],
    days: int | None,
    root_seed: int | None,
    common_random_numbers: bool,
    branch: Branch | None,
    fixed: Mapping[str, Any],
    out: Any,
    executor: Any,
    workers: int | None,
    resume: bool,
    overwrite: bool,
    progress: bool,
    write_on: str,
    extra_manifest: Mapping[str, Any] | None = None,
) -> SweepResult:
    factory, default_days = resolve_factory(model)
    days = _check_days(days, default_days)
    fixed = _check_fixed(fixed)
    if write_on not in ("workers", "client"):
        raise ValueError(f"write_on must be 'workers' or 'client', got {write_on!r}")
    if branch is not None and not 0 < branch.at_day < days:
        raise ValueError(f"at_day must be between 1 and days - 1 = {days - 1}, got {branch.at_day}")
    root = root_entropy(root_seed)
    plan = make_plan(points, seeds, root, common_random_numbers=common_random_numbers)
    columns = column_kinds(points)
    if branch is not None:
        runs = [
            {**r, "run_id": f"{lab}-r{r['replicate']:04d}", "label": lab}
            for r in plan
            for lab in ("baseline", "variant")
        ]
    elif labels is not None:
        runs = [
            {
                **r,
                "run_id": f"{labels[r['point']]}-r{r['replicate']:04d}",
                "label": labels[r["point"]],
            }
            for r in plan
        ]
    else:
        runs = [{**r, "label": None} for r in plan]
    finger = fingerprint(kind, factory, fixed, days, runs, branch)
    manifest: dict[str, Any] = {
        "kind": kind,
        "created": _now(),
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
        "runs": runs,
        "versions": versions(),
        **(extra_manifest or {}),
    }
    folder, temporary = _prepare_folder(out, manifest, resume=resume, overwrite=overwrite)
    task_extra = {"experiment": kind, "fingerprint": finger}
    target = None if write_on == "client" else str(folder / RUNS)
    nonce = uuid.uuid4().hex

    def make_task(r: dict[str, Any]) -> Task:
        if branch is not None:
            run_ids: tuple[str, ...] = (
                f"baseline-r{r['replicate']:04d}",
                f"variant-r{r['replicate']:04d}",
            )
            task_labels: tuple[str, ...] = ("baseline", "variant")
        elif labels is not None:
            run_ids = (f"{labels[r['point']]}-r{r['replicate']:04d}",)
            task_labels = (labels[r["point"]],)
        else:
            run_ids, task_labels = (r["run_id"],), ()
        return Task(
            run_ids=run_ids,
            point=r["point"],
            replicate=r["replicate"],
            seed=r["seed"],
            parameters=r["parameters"],
            factory=factory,
            fixed=fixed,
            days=days,
            labels=task_labels,
            columns=columns,
            folder=target,
            branch=branch,
            extra=task_extra,
            nonce=f"{nonce}-{r['run_id']}",
        )

    if executor is None or isinstance(executor, ProcessPoolExecutor):
        check_sendable(make_task(plan[0]))  # before anything runs: explain what cannot be sent
    runs_folder = folder / RUNS
    finished = {p.name for p in runs_folder.iterdir() if (p / MANIFEST).exists()}
    todo = [
        i
        for i, r in enumerate(plan)
        if not all(run_id in finished for run_id in make_task(r).run_ids)
    ]
    skipped = len(runs) - sum(2 if branch is not None else 1 for _ in todo)
    lazy_tasks = (make_task(plan[i]) for i in todo)
    pool_name = (
        executor
        if isinstance(executor, str)
        else ("process pool" if executor is None else type(executor).__name__)
    )
    manifest.update(
        status="running",
        updated=_now(),
        executor=pool_name,
        skipped_on_resume=skipped if resume else 0,
    )
    _write_manifest(folder, manifest)
    status = "interrupted"
    try:
        execute_tasks(
            lazy_tasks,
            n_tasks=len(todo),
            folder=folder,
            executor=executor,
            workers=workers,
            progress=progress,
            desc=kind,
            total=len(runs),
            initial=skipped,
        )
        status = "complete"
    finally:
        result = SweepResult(folder, manifest=manifest)
        failed = result.n_failed
        if status == "complete" and failed:
            status = "complete with failures"
        manifest.update(status=status, updated=_now(), finished=result.n_finished, failed=failed)
        _write_manifest(folder, manifest)
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
    out : path, optional
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

    Examples
    --------
    >>> from waste_harmony import experiments
    >>> result = experiments.run(n_citizens=200, days=10, seed=3)
    >>> result.manifest["seed"], len(result.model_frame), int(result.model_frame["day"].max())
    (3, 10, 10)
    """
    factory, default_days = resolve_factory(model)
    days = _check_days(days, default_days)
    fixed = _check_fixed(kwargs)
    seed = root_entropy(seed)
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
    outcome = execute(task)
    if outcome.status != "done":
        raise RuntimeError(f"the run failed: {outcome.error}\n{outcome.traceback}")
    assert outcome.results is not None
    result = to_run_result(*outcome.results[0])
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
    out : path, optional
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
    return _experiment(
        "ensemble",
        model,
        points=[{}],
        labels=None,
        seeds=seeds,
        days=days,
        root_seed=root_seed,
        common_random_numbers=True,
        branch=None,
        fixed=kwargs,
        out=out,
        executor=executor,
        workers=workers,
        resume=resume,
        overwrite=overwrite,
        progress=progress,
        write_on=write_on,
    )


def sweep(
    model: Any = None,
    *,
    parameters: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]],
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
    if isinstance(parameters, Mapping):
        points = grid(parameters)
    elif isinstance(parameters, Iterable) and not isinstance(parameters, str):
        points = [dict(p) for p in parameters]
    else:
        raise TypeError(
            "parameters must be a grid (name -> list of values) or a list of "
            f"parameter dicts, got {parameters!r}"
        )
    return _experiment(
        "sweep",
        model,
        points=points,
        labels=None,
        seeds=seeds,
        days=days,
        root_seed=root_seed,
        common_random_numbers=common_random_numbers,
        branch=None,
        fixed=kwargs,
        out=out,
        executor=executor,
        workers=workers,
        resume=resume,
        overwrite=overwrite,
        progress=progress,
        write_on=write_on,
    )
