"""Resuming: prepare an experiment folder, and find the runs still to do.

An experiment folder belongs to one experiment, identified by the fingerprint of
its plan, model and settings (:func:`waste_harmony.batch.plan.fingerprint`).
Running the same experiment into the same folder again skips the runs that
finished (``resume=True``); a different experiment is refused unless
``overwrite=True``. A run is finished when its ``manifest.json`` exists.

Files are written through temporary siblings (``.<name>.<random>.tmp``) renamed into
place; a process killed mid-write leaves its temporary file behind. Continuing an
experiment in its folder removes these stale temporary files first
(:func:`remove_stale_temp_files`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from waste_harmony.batch.plan import Task
from waste_harmony.batch.store import EXPERIMENT_MANIFEST, FAILURES, RUNS, TIMINGS
from waste_harmony.schema import MANIFEST, read_json

__all__ = ["finished_runs", "prepare_folder", "remove_stale_temp_files", "still_to_run"]


def prepare_folder(
    out: str | os.PathLike[str] | None, manifest: dict[str, Any], *, resume: bool, overwrite: bool
) -> tuple[Path, bool]:
    """Create or check the experiment folder.

    Parameters
    ----------
    out : str, os.PathLike or None
        The folder (``None``: a new temporary folder).
    manifest : dict
        The new experiment's manifest (``fingerprint``, ``created``); ``created`` is
        taken from the folder's experiment when resuming it.
    resume : bool
        Allow a folder that already holds finished runs of this experiment.
    overwrite : bool
        Replace whatever experiment the folder holds.

    Returns
    -------
    (pathlib.Path, bool)
        The folder and whether it is temporary.

    Raises
    ------
    ValueError
        If the folder holds a different experiment and ``overwrite`` is false.
    FileExistsError
        If it holds finished runs and neither ``resume`` nor ``overwrite`` is set, or
        it is a non-empty folder that holds no experiment.
    """
    if out is None:
        folder = Path(tempfile.mkdtemp(prefix="waste-harmony-"))
        temporary = True
    else:
        folder = Path(out)
        temporary = False
    if folder.exists() and not folder.is_dir():
        raise FileExistsError(
            f"output folder {folder} is a file; choose a folder (out=..., --out on the "
            "command line)"
        )
    existing = folder / EXPERIMENT_MANIFEST
    if existing.exists():
        old = read_json(existing, "experiment manifest")
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
            remove_stale_temp_files(folder)
    elif folder.exists() and any(folder.iterdir()) and not overwrite:
        raise FileExistsError(
            f"{folder} is not empty and holds no experiment; choose an empty "
            "or new folder (or pass overwrite=True)"
        )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RUNS).mkdir(exist_ok=True)
    return folder, temporary


def remove_stale_temp_files(folder: Path) -> int:
    """Remove the temporary files a killed writer left in an experiment folder.

    Only call this while no experiment writes to ``folder``.

    Parameters
    ----------
    folder : pathlib.Path
        The experiment folder.

    Returns
    -------
    int
        Files removed (any ``*.tmp`` file below ``folder``).
    """
    removed = 0
    for path in folder.rglob("*.tmp"):
        if path.is_file() or path.is_symlink():
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def finished_runs(folder: Path) -> set[str]:
    """Ids of the runs of an experiment folder that finished (their manifest exists)."""
    runs = folder / RUNS
    return {p.name for p in runs.iterdir() if (p / MANIFEST).exists()} if runs.exists() else set()


def still_to_run(
    plan: Sequence[dict[str, Any]], make_task: Callable[[dict[str, Any]], Task], folder: Path
) -> list[int]:
    """Positions in ``plan`` whose task has a run that has not finished.

    Parameters
    ----------
    plan : list of dict
        The planned tasks.
    make_task : callable
        Plan entry → :class:`Task`.
    folder : pathlib.Path
        The experiment folder.

    Returns
    -------
    list of int
        Plan positions to run, in order.
    """
    done = finished_runs(folder)
    return [
        i for i, r in enumerate(plan) if not all(run_id in done for run_id in make_task(r).run_ids)
    ]
