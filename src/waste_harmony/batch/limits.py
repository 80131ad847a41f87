"""Refusing, before anything is built, an experiment this machine cannot hold.

``seeds = 10**9`` used to be accepted and then spent minutes planning runs that
could never finish. The plan itself is now computed by index
(:class:`~waste_harmony.batch.recipe.Plan`), so its size no longer costs memory up
front; what still grows with the number of runs is the experiment process's
bookkeeping of finished runs (:data:`PLAN_BYTES_PER_RUN`) and the results folder
(one folder of four files per run, :data:`RUN_DISK_BYTES` and :data:`RUN_FILES` at
least). :func:`check_plan_size` compares both with what is free and refuses with the
numbers.
"""

from __future__ import annotations

import os

from waste_harmony.machine import available_memory_bytes, disk_space, gigabytes

__all__ = [
    "DISK_CHECK_RUNS",
    "PLAN_BYTES_PER_RUN",
    "RUN_DISK_BYTES",
    "RUN_FILES",
    "check_plan_size",
]

#: Memory a planned run costs the experiment's process, bytes: its id in the set of
#: finished runs and in the list of them when resuming or counting them at the end, and
#: its index among the runs to do (170 bytes a run, traced for 10^6 runs; the plan
#: itself costs nothing per run, ``benchmarks/bench_plan_start.py``; listed plans cost
#: 1,600 bytes a run).
PLAN_BYTES_PER_RUN = 200

#: Disk space of the smallest run folder, bytes: 1,000 runs of 1 day and 20 citizens on
#: the default city wrote 25.2 kB each (model, neighbourhood and event tables, manifest).
RUN_DISK_BYTES = 24_000

#: Files (inodes) a run takes: its folder, its three tables and its manifest.
RUN_FILES = 5

#: Plans from this many runs have their disk space checked up front; a smaller one
#: on a full disk fails when writing, naming the full disk (ENOSPC), and keeps every
#: run already written.
DISK_CHECK_RUNS = 10_000


def _runs_text(n_points: int, n_replicates: int) -> str:
    runs = n_points * n_replicates
    return (
        f"the plan has {runs:,} runs ({n_points:,} point{'s' * (n_points != 1)} x "
        f"{n_replicates:,} replicates)"
    )


SPLIT = "split it into several experiments (fewer points or seeds each, different root seeds)"


def check_plan_size(
    n_points: int, n_replicates: int, folder: str | os.PathLike[str] | None = None
) -> None:
    """Refuse a plan whose runs this machine cannot hold, saying how large it is.

    Parameters
    ----------
    n_points, n_replicates : int
        The plan's size.
    folder : path, optional
        Where the runs will be written (its filesystem's free space is checked).

    Raises
    ------
    MemoryError
        If its bookkeeping (:data:`PLAN_BYTES_PER_RUN` a run) needs more than half the
        memory available now: names the runs, the memory needed and what is free.
    ValueError
        If its run folders (at least :data:`RUN_DISK_BYTES` and :data:`RUN_FILES`
        each) cannot fit in ``folder``'s filesystem: names the runs, the space and
        files needed and what is free (for plans of :data:`DISK_CHECK_RUNS` runs
        or more).

    Examples
    --------
    >>> check_plan_size(10, 5)  # fits
    >>> check_plan_size(1, 10**12)
    Traceback (most recent call last):
    ...
    MemoryError: the plan has 1,000,000,000,000 runs (1 point x 1,000,000,000,000 replicates)...
    """
    runs = n_points * n_replicates
    free = available_memory_bytes()
    need = runs * PLAN_BYTES_PER_RUN
    if free is not None and need > free // 2:
        raise MemoryError(
            f"{_runs_text(n_points, n_replicates)}, about {gigabytes(need)} to keep track "
            f"of here ({PLAN_BYTES_PER_RUN} bytes a run) where {gigabytes(free)} are "
            f"free: {SPLIT}"
        )
    space = None if folder is None or runs < DISK_CHECK_RUNS else disk_space(folder)
    if space is None:
        return
    need_bytes, need_files = runs * RUN_DISK_BYTES, runs * RUN_FILES
    if need_bytes > space.free_bytes or (
        space.free_files is not None and need_files > space.free_files
    ):
        raise ValueError(
            f"{_runs_text(n_points, n_replicates)}: their results need at least "
            f"{gigabytes(need_bytes)} and {need_files:,} files (one folder of "
            f"{RUN_FILES - 1} files, at least {RUN_DISK_BYTES / 1e3:.0f} kB, a run) where "
            f"{space.path} has {gigabytes(space.free_bytes)} and "
            f"{'unlimited' if space.free_files is None else f'{space.free_files:,}'} files "
            f"free: {SPLIT}, or write to a larger disk"
        )
