"""Reference tables: parameter sets and the summary statistics of their runs, in batches.

A calibration by regression ABC (:mod:`waste_harmony.experiments.abcreg`) needs, of
each run, only its statistics at the observations. :func:`simulate_table` runs the
parameter sets on any executor (the shared process pool, ``"serial"``, a Dask
client) with tasks that keep nothing else: the worker computes the statistics from
the run's tables and sends back only them (no Parquet file per run, no tables
through the pipe). Every batch of runs is written as one small Parquet file,
``table-0000.parquet``, … (parameters, seed and statistics of each run, and the
error of a failed one), atomically once the batch is finished, so an interrupted
table resumes from its last finished batch and a finished one is reloaded.

Seeds: run ``i`` of batch ``b`` gets the ``i``-th seed spawned from
``batch_seed(seed, b)``, so the table depends only on the seed, never on the
executor or on the order in which runs finish.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from waste_harmony.experiments.observations import UNRECORDED

if TYPE_CHECKING:
    from waste_harmony.batch.plan import Task
    from waste_harmony.batch.worker import Outcome

__all__ = ["CHUNK_RUNS", "ReferenceTable", "batch_seed", "chunk_size", "simulate_table"]

_FILE = "table-{:04d}.parquet"

#: Runs sent to a worker in one call (at most): see :func:`chunk_size`.
CHUNK_RUNS = 8


def chunk_size(n_tasks: int) -> int:
    """Runs per call to a worker for a batch of ``n_tasks`` runs.

    A reference table's runs are short (about 20 ms for 200 citizens and 30 days),
    and sending each alone cost the parent about 1 ms of CPU per run (pickling, the
    pool's queues and threads, waiting), taken from the two workers on two cores.
    Up to :data:`CHUNK_RUNS` runs go in one call, but a batch keeps at least 64
    calls, so that its last calls — when one worker may wait for the other before
    the batch file is written — are short.

    Examples
    --------
    >>> chunk_size(500), chunk_size(100), chunk_size(40)
    (7, 1, 1)
    """
    return max(1, min(CHUNK_RUNS, n_tasks // 64))


def batch_seed(seed: int, step: int) -> int:
    """The root seed of batch ``step`` of a calibration with root ``seed``.

    Examples
    --------
    >>> batch_seed(1, 0) == batch_seed(1, 0) != batch_seed(1, 1)
    True
    """
    state = np.random.SeedSequence([seed, 0x5EED, step]).generate_state(2, dtype=np.uint32)
    return int((int(state[0]) << 31) | (int(state[1]) >> 1))


@dataclass
class ReferenceTable:
    """Parameter sets and their runs' statistics.

    Attributes
    ----------
    theta : ndarray, shape (n, p)
        The parameters of each run (a set repeated for its replicates).
    statistics : ndarray, shape (n, k)
        Each run's statistics (NaN for a failed run).
    seeds : ndarray of int, shape (n,)
        Each run's seed.
    errors : list of str
        ``"run: error"`` of each failed run.
    batches : int
        Batches simulated or reloaded.
    """

    theta: np.ndarray
    statistics: np.ndarray
    seeds: np.ndarray
    errors: list[str]
    batches: int

    @property
    def failed(self) -> int:
        """Runs without statistics."""
        return int((~np.isfinite(self.statistics).all(axis=1)).sum())


class _Collector:
    """Receives each task's outcome: its statistics, or its error."""

    def __init__(self, tasks: Sequence[Task], k: int) -> None:
        self.row = {(t.point, t.replicate): i for i, t in enumerate(tasks)}
        self.values = np.full((len(tasks), k), np.nan)
        self.errors = [""] * len(tasks)

    def __call__(self, task: Task, outcome: Outcome) -> None:
        i = self.row[(task.point, task.replicate)]
        error = outcome.error or ""
        if outcome.status == "done" and outcome.statistics is not None:
            self.values[i] = outcome.statistics[0]
        elif error.startswith("KeyError") and UNRECORDED in error:  # a mistake, not a failure
            raise KeyError(error.split(": ", 1)[1].strip("'\""))
        else:
            self.errors[i] = error or "failed"


_Batch = tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]


def _load_batch(path: Path, names: Sequence[str], k: int) -> _Batch:
    frame = pd.read_parquet(path)
    stats = frame[[f"s{j}" for j in range(k)]].to_numpy(dtype=float)
    errors = [f"{r}: {e}" for r, e in zip(frame["run"], frame["error"], strict=True) if e]
    return frame[list(names)].to_numpy(dtype=float), stats, frame["seed"].to_numpy(), errors


def _write_batch(path: Path, frame: pd.DataFrame) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    frame.to_parquet(tmp, index=False)
    tmp.replace(path)  # atomic: a batch file exists only once complete


def simulate_table(
    model: Any,
    *,
    names: Sequence[str],
    thetas: np.ndarray,
    statistics: Callable[[dict[str, Any]], np.ndarray],
    n_statistics: int,
    days: int,
    fixed: Mapping[str, Any],
    seed: int,
    folder: str | Path,
    replicates: int = 1,
    batch_size: int = 500,
    executor: Any = None,
    workers: int | None = None,
    progress: bool = True,
) -> ReferenceTable:
    """Run every parameter set (``replicates`` seeds each) and keep only their statistics.

    Parameters
    ----------
    model : class, callable or RunConfig
        What to build (see :func:`~waste_harmony.experiments.run`).
    names : sequence of str
        The parameters (columns of ``thetas``).
    thetas : ndarray, shape (m, p)
        Parameter sets.
    statistics : callable
        ``statistics(tables) -> ndarray (k,)``, computed in the worker (picklable).
    n_statistics : int
        ``k``.
    days : int
        Days per run.
    fixed : mapping
        Keyword arguments shared by all runs.
    seed : int
        Root seed.
    folder : path
        Where the batch files go (created).
    replicates : int
        Runs per parameter set.
    batch_size : int
        Parameter sets per batch (the unit of resuming).
    executor, workers, progress
        As in :func:`~waste_harmony.experiments.sweep`.

    Returns
    -------
    ReferenceTable
        Rows in the order of ``thetas`` (replicates of a set next to each other).
    """
    from waste_harmony.batch.checks import check_plan, check_sendable
    from waste_harmony.batch.executors import SharedProcessPool, execute_tasks
    from waste_harmony.batch.plan import (
        Task,
        check_fixed,
        column_kinds,
        make_plan,
        resolve_factory,
    )

    if executor is None and workers != 1:
        # One pool for every batch: a new pool per batch would start (and import in)
        # fresh interpreters each time, which costs more than small runs.
        with SharedProcessPool(workers or max(1, os.cpu_count() or 1)) as shared:
            shared.start()
            return simulate_table(
                model,
                names=names,
                thetas=thetas,
                statistics=statistics,
                n_statistics=n_statistics,
                days=days,
                fixed=fixed,
                seed=seed,
                folder=folder,
                replicates=replicates,
                batch_size=batch_size,
                executor=shared.executor(),
                progress=progress,
            )
    factory, _ = resolve_factory(model)
    fixed = check_fixed(fixed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = list(names)
    thetas = np.atleast_2d(np.asarray(thetas, dtype=float))
    points_all = [dict(zip(names, map(float, row), strict=True)) for row in thetas]
    check_plan(factory, points_all, fixed, days)  # every mistake at once, before any run
    columns = column_kinds(points_all[:1])
    parts: list[_Batch] = []
    n_batches = int(np.ceil(len(thetas) / batch_size))
    done = 0
    for b in range(n_batches):
        path = folder / _FILE.format(b)
        points = points_all[b * batch_size : (b + 1) * batch_size]
        if path.exists():
            part = _load_batch(path, names, n_statistics)
            if len(part[0]) == len(points) * replicates:
                parts.append(part)
                done += len(points) * replicates
                continue
        plan = make_plan(points, replicates, batch_seed(seed, b), common_random_numbers=False)
        tasks = [
            Task(
                run_ids=(f"b{b:04d}-{r['run_id']}",),
                point=r["point"],
                replicate=r["replicate"],
                seed=r["seed"],
                parameters=r["parameters"],
                factory=factory,
                fixed=fixed,
                days=days,
                columns=columns,
                extra={"experiment": "reference table"},
                nonce=f"{uuid.uuid4().hex}-{r['run_id']}",
                statistics=statistics,
                keep_tables=False,
            )
            for r in plan
        ]
        if b == 0 and (executor is None or isinstance(executor, ProcessPoolExecutor)):
            check_sendable(tasks[0])  # before anything runs: explain what cannot be sent
        collector = _Collector(tasks, n_statistics)
        execute_tasks(
            iter(tasks),
            n_tasks=len(tasks),
            folder=folder,
            executor=executor,
            workers=workers,
            progress=progress,
            desc="calibrate",
            total=len(thetas) * replicates,
            initial=done,
            on_outcome=collector,
            chunk=chunk_size(len(tasks)),
        )
        frame = pd.DataFrame(
            {
                "run": [t.run_ids[0] for t in tasks],
                "seed": [int(t.seed) for t in tasks],
                **{n: [float(t.parameters[n]) for t in tasks] for n in names},
                **{f"s{j}": collector.values[:, j] for j in range(n_statistics)},
                "error": collector.errors,
            }
        )
        _write_batch(path, frame)
        parts.append(_load_batch(path, names, n_statistics))
        done += len(plan)
    return ReferenceTable(
        theta=np.concatenate([p[0] for p in parts]),
        statistics=np.concatenate([p[1] for p in parts]),
        seeds=np.concatenate([p[2] for p in parts]),
        errors=[e for p in parts for e in p[3]],
        batches=n_batches,
    )
