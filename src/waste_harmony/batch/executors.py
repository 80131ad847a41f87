"""Executors: where an experiment's tasks run, and the loop that streams their results.

* ``executor=None`` (default): a local process pool of ``workers`` processes,
  started with the ``spawn`` method *for this pool only* (the program's global
  start method is never changed);
* ``executor="serial"``: in this process, one run after another
  (:class:`SerialExecutor`);
* a Dask ``distributed.Client`` (or its ``get_executor()``): the same experiment
  on a cluster; calls are submitted with ``pure=False`` and a unique token, so
  Dask never merges two runs;
* any other :class:`concurrent.futures.Executor` you manage yourself.

The process pools started here exit with this process: each worker watches its
parent and ends within a second of its death (:func:`~waste_harmony.batch.worker.exit_with_parent`),
so a sweep killed with SIGKILL or SIGTERM leaves no orphan workers, and the resource
tracker, which waits for its last client, exits with them.

:func:`execute_tasks` keeps at most a few tasks in flight and writes each result
as it arrives (:mod:`waste_harmony.batch.store`), so the parent's memory does
not grow with the number of runs.

A worker process that dies (``os._exit``, a segfault, the out-of-memory killer)
breaks a :class:`~concurrent.futures.ProcessPoolExecutor`: every task in flight
fails with ``BrokenProcessPool`` and the pool refuses new work. A process pool
here survives that: the tasks that were in flight are *suspects*; each is run
again alone, one at a time, in a fresh one-worker pool (quarantine). A suspect
that kills the quarantine pool is the culprit and is recorded failed with the
cause (``"worker process died (exit code -9 / signal SIGKILL)"``); the others
finish normally. Then a fresh pool takes the remaining tasks, so one dead worker
costs only its own run. A serial executor cannot survive its own process dying,
and Dask has its own policy (a nanny restarts the worker; ``KilledWorker``).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from waste_harmony.batch.plan import Task
from waste_harmony.batch.store import (
    FAILURES,
    RUNS,
    append_timing,
    record_failure,
    runs_intact,
)
from waste_harmony.batch.worker import Outcome, execute, execute_chunk, prepare_worker, write_run
from waste_harmony.storage import WriteError

__all__ = [
    "Pool",
    "SerialExecutor",
    "SharedProcessPool",
    "death_cause",
    "execute_tasks",
    "executor_name",
    "is_dask",
    "open_pool",
]


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
class Pool:
    """An executor ready for an experiment.

    Attributes
    ----------
    executor : concurrent.futures.Executor
        Where tasks run.
    owned : bool
        Whether it was created here (and is shut down after the experiment).
    window : int
        Tasks kept in flight at once.
    kind : str
        ``"serial"``, ``"process"``, ``"dask"`` or ``"custom"``.
    description : str
        For messages.
    """

    executor: Executor
    owned: bool
    window: int
    kind: str
    description: str


def is_dask(obj: Any) -> bool:
    """Whether ``obj`` comes from Dask ``distributed`` (a client or its executor)."""
    module = type(obj).__module__ or ""
    return module.startswith("distributed")


def executor_name(executor: Any) -> str:
    """A short name of an ``executor`` argument for the experiment manifest."""
    if isinstance(executor, str):
        return executor
    return "process pool" if executor is None else type(executor).__name__


def open_pool(executor: Any, workers: int | None, n_tasks: int) -> Pool:
    """Turn an ``executor`` argument into a :class:`Pool`.

    Parameters
    ----------
    executor : None, "serial", Executor or Dask Client
        See :func:`waste_harmony.experiments.sweep`.
    workers : int, optional
        Processes of the default pool (default: CPU count, at most ``n_tasks``).
    n_tasks : int
        Tasks to run.

    Returns
    -------
    Pool
        The pool.

    Raises
    ------
    ValueError, TypeError
        For an executor or worker count this function does not understand.
    """
    if isinstance(executor, str):
        if executor != "serial":
            raise ValueError(
                f"executor must be None, 'serial', a concurrent.futures.Executor "
                f"or a Dask client, got {executor!r}"
            )
        return Pool(SerialExecutor(), True, 1, "serial", "serial")
    if workers is not None:
        _check_workers(workers)
    if executor is None:
        n = workers or max(1, min(os.cpu_count() or 1, n_tasks))
        return Pool(_spawn_pool(n), True, 2 * n, "process", f"process pool ({n} workers, spawn)")
    if is_dask(executor) and hasattr(executor, "get_executor"):  # a distributed.Client
        threads = sum(executor.nthreads().values()) or 1
        return Pool(
            executor.get_executor(pure=False),
            False,
            2 * threads,
            "dask",
            f"dask ({threads} threads)",
        )
    if isinstance(executor, Executor):
        if is_dask(executor):
            client = getattr(executor, "_client", None)
            threads = sum(client.nthreads().values()) if client is not None else 2
            return Pool(executor, False, 2 * max(threads, 1), "dask", "dask executor")
        n = getattr(executor, "_max_workers", None) or os.cpu_count() or 1
        kind = "process" if isinstance(executor, ProcessPoolExecutor) else "custom"
        return Pool(executor, False, 2 * n, kind, type(executor).__name__)
    raise TypeError(
        f"executor must be None, 'serial', a concurrent.futures.Executor or a Dask "
        f"distributed.Client, got {type(executor).__name__}"
    )


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
    on_outcome: Callable[[Task, Outcome], None] | None = None,
    chunk: int = 1,
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
        See :func:`open_pool`.
    progress : bool
        Show a progress bar (``tqdm.auto``) over runs with the number failed.
    desc : str
        Progress bar label.
    total, initial : int
        Runs in the whole experiment and runs already finished (for the bar).
    on_outcome : callable, optional
        Called with ``(task, outcome)`` for every task, finished or failed, after its
        files are written (e.g. to collect ``outcome.statistics``).
    chunk : int
        Tasks sent to a worker in one call (:func:`~waste_harmony.batch.worker.execute_chunk`).
        1 (default) sends each alone. Runs of a few milliseconds (a calibration's
        reference table) go in chunks, so that the parent's work per call — pickling,
        the pool's queues and threads, waiting — is shared by several runs instead of
        taking CPU from the workers. Results, files and ``on_outcome`` calls are the
        same task by task whatever the chunk; a worker that dies takes its whole
        chunk into quarantine, where each task runs alone.

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
    pool = open_pool(executor, workers, n_tasks)
    bar = tqdm(
        total=total if total is not None else n_tasks,
        initial=initial,
        desc=desc,
        unit="run",
        disable=not progress,
        dynamic_ncols=True,
    )
    bar.set_postfix(failed=0)
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise ValueError(f"chunk must be a positive integer, got {chunk!r}")
    pending: dict[Future, list[Task]] = {}
    suspects: list[Task] = []  # in flight when a worker died
    queue = iter(tasks)
    submitted = 0  # tasks, to the current pool

    def fill() -> None:
        nonlocal pool, submitted
        while len(pending) < pool.window and not suspects:
            group = list(islice(queue, chunk))
            if not group:
                return
            if pool.owned and pool.kind == "process" and submitted >= recycle_after(pool):
                pool = recycle(pool)
                submitted = 0
            try:
                future: Future[Any]
                if chunk == 1:
                    future = pool.executor.submit(execute, group[0])
                else:
                    future = pool.executor.submit(execute_chunk, group)
                pending[future] = group
                submitted += len(group)
            except BrokenProcessPool:
                suspects.extend(group)

    def handle(task: Task, outcome: Outcome) -> None:
        if outcome.write_error is not None:  # disk full, read-only...: every run would fail
            code, message = outcome.write_error
            raise WriteError(code, f"{message}; {runs_intact(folder)}")
        if outcome.status == "done":
            for index, run_id in enumerate(task.run_ids):
                if outcome.results is not None:
                    write_run(folder / RUNS / run_id, *outcome.results[index])
                (folder / FAILURES / f"{run_id}.json").unlink(missing_ok=True)
            counts["finished"] += len(task.run_ids)
        else:
            record_failure(folder, task, outcome)
            counts["failed"] += len(task.run_ids)
        append_timing(folder, task, outcome)
        if on_outcome is not None:
            on_outcome(task, outcome)
        bar.update(len(task.run_ids))
        bar.set_postfix(failed=counts["failed"])

    def collect(future: Future, group: list[Task]) -> None:
        try:
            result = future.result()
        except BrokenProcessPool:
            if pool.kind != "process":
                raise
            suspects.extend(group)
            return
        except Exception as exc:  # the executor failed (unpicklable...)
            result = [Outcome.failure(task.run_ids, exc) for task in group]
        outcomes = result if isinstance(result, list) else [result]
        for task, outcome in zip(group, outcomes, strict=True):
            handle(task, outcome)

    clean = False
    try:
        fill()
        while pending or suspects:
            if pending:
                done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for future in done:
                    collect(future, pending.pop(future))
            if suspects:
                # the pool is broken: every task still in it fails the same way
                wait(list(pending))
                for future in list(pending):
                    collect(future, pending.pop(future))
                if pool.owned:
                    pool.executor.shutdown(wait=True)
                for task, outcome in quarantine(suspects):
                    handle(task, outcome)
                suspects.clear()
                pool = replace_pool(pool)
                submitted = 0
            fill()
        clean = True
    finally:
        bar.close()
        for future in pending:
            future.cancel()
        if pool.owned:
            pool.executor.shutdown(wait=clean, cancel_futures=not clean)
    return counts


class SharedProcessPool:
    """One spawn process pool kept open across several experiments.

    An experiment given ``executor=None`` starts its own pool and shuts it down at
    the end; a calibration runs one small sweep per batch of proposals, and paying
    for new worker interpreters (imports included) at every batch cost more than
    the runs themselves on small models. This keeps one pool for all batches and
    replaces it when a worker died in the previous batch (the experiments
    themselves survive that, see :func:`execute_tasks`).

    Parameters
    ----------
    workers : int
        Worker processes.

    Examples
    --------
    >>> with SharedProcessPool(1) as shared:
    ...     shared.executor().submit(pow, 2, 10).result()
    1024
    """

    def __init__(self, workers: int) -> None:
        _check_workers(workers)
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._fresh = False

    def executor(self) -> ProcessPoolExecutor:
        """The pool, started on first use and replaced if a worker of it died."""
        if self._pool is not None and not self._fresh:
            try:  # a cheap round trip is the public way to ask whether it still works
                self._pool.submit(int).result()
            except BrokenProcessPool:
                self._pool.shutdown(wait=True)
                self._pool = None
        self._fresh = self._pool is None  # (a new pool needs no check on its next use)
        if self._pool is None:
            self._pool = _spawn_pool(self.workers)
        return self._pool

    def start(self) -> None:
        """Start every worker now and let it import the library, without waiting.

        A spawn worker starts a fresh interpreter and imports the library (seconds);
        started early, the workers do that while the caller prepares the first tasks.
        """
        pool = self.executor()
        for _ in range(self.workers):  # one task per worker: each submit starts one
            pool.submit(_warm_up)

    def close(self) -> None:
        """Shut the pool down (waiting for its workers)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def __enter__(self) -> SharedProcessPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def death_cause(exitcode: int | None) -> str:
    """Describe how a worker process ended, from its exit code.

    Parameters
    ----------
    exitcode : int or None
        :attr:`multiprocessing.Process.exitcode` (negative: killed by that signal).

    Returns
    -------
    str
        For a failure record.

    Examples
    --------
    >>> death_cause(-9)
    'worker process died (exit code -9 / signal SIGKILL)'
    >>> death_cause(1)
    'worker process died (exit code 1)'
    """
    if exitcode is None:
        return "worker process died (exit code unknown)"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        else:
            name = f"signal {name}"
        return f"worker process died (exit code {exitcode} / {name})"
    return f"worker process died (exit code {exitcode})"


def _check_workers(workers: Any) -> None:
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")


def _warm_up() -> None:
    """Do nothing: a task that starts a worker, whose initializer imports the library.

    Submitted by :meth:`SharedProcessPool.start`; the initializer is
    :func:`~waste_harmony.batch.worker.prepare_worker`.
    """


def _spawn_pool(n: int) -> ProcessPoolExecutor:
    """A spawn pool of ``n`` workers that exit when this process dies (every pool made here)."""
    return ProcessPoolExecutor(
        max_workers=n,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=prepare_worker,
        initargs=(os.getpid(),),
    )


#: tasks a worker of a pool owned here runs before the pool is replaced by a fresh one
TASKS_PER_WORKER = 1000


def recycle_after(pool: Pool) -> int:
    """How many tasks an owned process pool takes before :func:`recycle` replaces it."""
    return TASKS_PER_WORKER * max(1, pool.window // 2)


def recycle(pool: Pool) -> Pool:
    """Replace an owned process pool by a fresh one, letting the old one finish its tasks.

    A backstop against memory that a model, a user's rule or a library keeps in a
    worker for good (the cause found in this library is freed after every task,
    see :func:`~waste_harmony.batch.worker.release_memory`): after
    :data:`TASKS_PER_WORKER` tasks per worker the pool is replaced. New tasks go to
    the new pool at once while the old one finishes the tasks it holds and exits
    (``shutdown(wait=False)``), so its workers' start-up overlaps the old pool's
    last runs. Results do not depend on which process ran a task, so determinism and
    resuming are unchanged.

    The standard library's own ``max_tasks_per_child`` is not used: up to Python
    3.13.x it can deadlock a pool whose worker reached its limit while tasks were
    queued (CPython issue gh-115634). A Dask cluster has its own recycling
    (``distributed.worker.lifetime``, see the parallel guide).
    """
    fresh = replace_pool(pool)
    pool.executor.shutdown(wait=False)
    return fresh


def replace_pool(pool: Pool) -> Pool:
    """A fresh process pool of the same size in place of a broken one (owned here)."""
    n = max(1, pool.window // 2)
    return Pool(_spawn_pool(n), True, pool.window, "process", f"process pool ({n} workers, spawn)")


def quarantine(suspects: list[Task]) -> Iterable[tuple[Task, Outcome]]:
    """Run the tasks that were in flight in a broken pool again, each alone.

    Each suspect runs in a one-worker spawn pool, one at a time, so a pool that
    breaks now was broken by the task it was running: that task is the culprit and
    its outcome is a failure naming the worker's exit code and signal. The others
    finish (or fail) as they would have. The one-worker pool is reused until it
    breaks.

    Parameters
    ----------
    suspects : list of Task
        Tasks in flight when a worker died.

    Yields
    ------
    (Task, Outcome)
        Each suspect with its outcome.
    """
    solo: ProcessPoolExecutor | None = None
    try:
        for task in suspects:
            if solo is None:
                solo = _spawn_pool(1)
            future = solo.submit(execute, task)
            processes = list(getattr(solo, "_processes", {}).values())
            try:
                yield task, future.result()
            except BrokenProcessPool as exc:
                for process in processes:
                    process.join(timeout=5)
                codes = [p.exitcode for p in processes]
                cause = death_cause(next((c for c in codes if c not in (None, 0)), None))
                solo.shutdown(wait=True)
                solo = None
                error = f"WorkerDied: {cause} while running this task alone"
                yield task, Outcome.failure(task.run_ids, exc, error=error)
            except Exception as exc:  # unpicklable result and the like
                yield task, Outcome.failure(task.run_ids, exc)
    finally:
        if solo is not None:
            solo.shutdown(wait=True)
