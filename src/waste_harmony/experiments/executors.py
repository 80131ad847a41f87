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

:func:`execute_tasks` keeps at most a few tasks in flight and writes each result
as it arrives (:mod:`waste_harmony.experiments.store`), so the parent's memory does
not grow with the number of runs.
"""

from __future__ import annotations

import multiprocessing
import os
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from waste_harmony.experiments.plan import Task
from waste_harmony.experiments.store import (
    FAILURES,
    RUNS,
    append_timing,
    record_failure,
)
from waste_harmony.experiments.worker import Outcome, execute, write_run

__all__ = ["Pool", "SerialExecutor", "execute_tasks", "executor_name", "is_dask", "open_pool"]


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
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
    ):
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    if executor is None:
        n = workers or max(1, min(os.cpu_count() or 1, n_tasks))
        pool = ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"))
        return Pool(pool, True, 2 * n, "process", f"process pool ({n} workers, spawn)")
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
    pending: dict[Future, Task] = {}
    queue = iter(tasks)

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
            record_failure(folder, task, outcome)
            counts["failed"] += len(task.run_ids)
        append_timing(folder, task, outcome)
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
