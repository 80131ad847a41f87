"""Resuming and replacing: prepare an experiment folder, and find the runs still to do.

An experiment folder belongs to one experiment, identified by the fingerprint of
its plan, model and settings (:func:`waste_harmony.batch.identity.fingerprint`).
Running the same experiment into the same folder again skips the runs that
finished intact (``resume=True``): a run whose files no longer match their
checksums is damaged and runs again. A different experiment is refused unless
``overwrite=True``, and so is an ``experiment.json`` edited since it was written.

Replacing (``overwrite=True``, ``--force``) follows the rules of
:mod:`waste_harmony.storage`: only files the library wrote there are replaced (a
folder holding anything else is refused, naming it), and the earlier experiment
stays whole until the new one is complete: the new experiment runs in a hidden
staging folder inside the old one and is swapped in when it has run
(:func:`finish_folder`). If it is interrupted, the earlier experiment is untouched
and ``resume=True`` continues the replacement where it stopped.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from waste_harmony.batch.recipe import Plan, runs_of
from waste_harmony.batch.store import (
    EXPERIMENT_MANIFEST,
    RUNS,
    experiment_files,
    read_experiment_manifest,
    runs_intact,
)
from waste_harmony.results import verify_run
from waste_harmony.schema import MANIFEST
from waste_harmony.storage import (
    STAGING_PREFIX,
    check_destination,
    check_place,
    is_ours_by_name,
    remove_files,
    stage,
    staged_in,
    swap_in,
    write_errors,
)

__all__ = [
    "Prepared",
    "damaged_runs",
    "finish_folder",
    "finished_runs",
    "prepare_folder",
    "remove_stale_temp_files",
    "still_to_run",
]

#: How to allow replacing an experiment (for messages).
HOW = "pass overwrite=True (--force) to replace it"


@dataclass(frozen=True)
class Prepared:
    """Where an experiment writes.

    Attributes
    ----------
    folder : pathlib.Path
        Where the runs are written now.
    temporary : bool
        Whether it is a temporary folder (removed with the result).
    replaces : pathlib.Path or None
        The folder whose earlier experiment the new one replaces once complete
        (``folder`` is then a staging folder inside it; see :func:`finish_folder`).
    """

    folder: Path
    temporary: bool = False
    replaces: Path | None = None


def prepare_folder(
    out: str | os.PathLike[str] | None,
    manifest: dict[str, Any],
    *,
    resume: bool,
    overwrite: bool,
    listed: Callable[[], str] | None = None,
) -> Prepared:
    """Create or check the experiment folder.

    Parameters
    ----------
    out : str, os.PathLike or None
        The folder (``None``: a new temporary folder).
    manifest : dict
        The new experiment's manifest (``fingerprint``, ``created``); ``created`` is
        taken from the folder's experiment when resuming it.
    resume : bool
        Allow a folder that already holds finished runs of this experiment (or an
        interrupted replacement by it).
    overwrite : bool
        Replace the experiment the folder holds (once the new one is complete).
    listed : callable, optional
        The new experiment's fingerprint as a folder written before plans had recipes
        holds it (computed from every run, so only called for such a folder): an
        experiment that listed its runs resumes under its new fingerprint.

    Returns
    -------
    Prepared
        Where to write, and what it replaces.

    Raises
    ------
    ValueError
        If the folder holds a different experiment and ``overwrite`` is false, its
        ``experiment.json`` was edited, or the folder is empty text or the current
        directory.
    FileExistsError
        If it holds finished runs and neither ``resume`` nor ``overwrite`` is set; if
        it is a non-empty folder that holds no experiment; if ``overwrite`` would
        replace files the library did not write (they are named).
    """
    if out is None:
        return Prepared(Path(tempfile.mkdtemp(prefix="waste-harmony-")), temporary=True)
    folder = Path(out)
    if not (folder / EXPERIMENT_MANIFEST).exists():
        # not an experiment: an empty or new folder, or one replaced with overwrite
        check_destination(
            out,
            replace=overwrite,
            owned=experiment_files,
            how="it holds no experiment; choose an empty or new folder (or pass "
            "overwrite=True, --force)",
        )
        with write_errors(folder, intact=f"nothing was written to {folder}"):
            remove_files(folder, experiment_files(folder) if folder.is_dir() else ())
            (folder / RUNS).mkdir(parents=True, exist_ok=True)
        return Prepared(folder)
    check_place(out)
    if overwrite:
        check_destination(out, replace=True, owned=experiment_files, how=HOW)
        with write_errors(folder, intact=f"the earlier experiment in {folder} is intact"):
            staging = stage(folder)
            (staging / RUNS).mkdir()
        return Prepared(staging, replaces=folder)
    old = read_experiment_manifest(folder)
    same = old.get("fingerprint") == manifest["fingerprint"] or (
        listed is not None and old.get("plan") is None and old.get("fingerprint") == listed()
    )
    if not same:
        interrupted = _replacement(folder, manifest["fingerprint"])
        if interrupted is not None and resume:
            return _continue(interrupted, manifest, replaces=folder)
        hint = (
            f" An interrupted replacement by this experiment is in {interrupted}: pass "
            "resume=True (--resume) to continue it."
            if interrupted is not None
            else ""
        )
        raise ValueError(
            f"{folder} holds a different experiment ({old.get('kind')}, "
            f"{runs_of(old).n_runs:,} runs, created {old.get('created')}); its plan, "
            f"model or settings differ from this one. Choose another folder, or {HOW}.{hint}"
        )
    finished = len(finished_runs(folder))
    if finished and not resume:
        raise FileExistsError(
            f"{folder} already holds {finished} finished runs of this experiment; "
            "pass resume=True (--resume) to skip them and run the rest, or "
            "overwrite=True (--force) to start over"
        )
    return _continue(folder, manifest, old=old)


def _replacement(folder: Path, fingerprint: str) -> Path | None:
    """A staging folder inside ``folder`` holding an interrupted run of ``fingerprint``."""

    def same(staging: Path) -> bool:
        try:
            return read_experiment_manifest(staging).get("fingerprint") == fingerprint
        except (OSError, ValueError):
            return False

    return staged_in(folder, same)


def _continue(
    folder: Path,
    manifest: dict[str, Any],
    *,
    old: dict[str, Any] | None = None,
    replaces: Path | None = None,
) -> Prepared:
    """Continue the experiment in ``folder``: keep its creation time, drop stale temporaries."""
    old = old if old is not None else read_experiment_manifest(folder)
    manifest["created"] = old.get("created", manifest["created"])
    with write_errors(folder, intact=runs_intact(replaces or folder)):
        remove_stale_temp_files(folder)
        (folder / RUNS).mkdir(exist_ok=True)
    return Prepared(folder, replaces=replaces)


def finish_folder(prepared: Prepared) -> Path:
    """Swap a completed replacement in for the earlier experiment; the final folder.

    The earlier experiment's files (only the library's, see
    :func:`waste_harmony.batch.store.experiment_files`) are removed and the new
    ones moved in, ``experiment.json`` last (:func:`waste_harmony.storage.swap_in`).

    Parameters
    ----------
    prepared : Prepared
        What :func:`prepare_folder` returned.

    Returns
    -------
    pathlib.Path
        The folder that now holds the experiment.
    """
    if prepared.replaces is None:
        return prepared.folder
    final = prepared.replaces
    with write_errors(
        final, intact=f"the new experiment is complete in {prepared.folder}: move it in by hand"
    ):
        swap_in(final, prepared.folder, commit=EXPERIMENT_MANIFEST, remove=experiment_files(final))
    return final


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
        Files and run staging folders removed (any ``.<name>.<random>.tmp`` file below
        ``folder``, and ``runs/<run_id>/.waste-harmony-staging-*``).
    """
    removed = 0
    for path in folder.rglob("*.tmp"):
        if is_ours_by_name(path.name) and (path.is_file() or path.is_symlink()):
            path.unlink(missing_ok=True)
            removed += 1
    # a run's own staging folder, left by a worker killed while publishing it (the
    # experiment's staging folders, interrupted replacements, are left to resume)
    for staging in (folder / RUNS).glob(f"*/{STAGING_PREFIX}*"):
        if staging.is_dir() and not staging.is_symlink():
            shutil.rmtree(staging, ignore_errors=True)
            removed += 1
    return removed


def finished_runs(folder: Path) -> set[str]:
    """Ids of the runs of an experiment folder that finished (their manifest exists)."""
    runs = folder / RUNS
    return {p.name for p in runs.iterdir() if (p / MANIFEST).exists()} if runs.exists() else set()


def damaged_runs(folder: Path, run_ids: Sequence[str]) -> list[str]:
    """The finished runs among ``run_ids`` whose files no longer match their checksums.

    Parameters
    ----------
    folder : pathlib.Path
        The experiment folder.
    run_ids : sequence of str
        Finished runs to check (:func:`waste_harmony.results.verify_run`).

    Returns
    -------
    list of str
        The damaged ones, in the given order.
    """
    return [r for r in run_ids if verify_run(folder / RUNS / r)]


def still_to_run(plan: Plan, folder: Path) -> tuple[Sequence[int], list[str]]:
    """Entries of ``plan`` with a run that has not finished intact.

    A finished run whose files changed since they were written (a garbage
    ``model.parquet``, a deleted file, an edited manifest) is damaged: it runs again.
    In a folder with no finished run every entry is to run (a ``range``, not a list).

    Parameters
    ----------
    plan : Plan
        The planned runs.
    folder : pathlib.Path
        The experiment folder.

    Returns
    -------
    (sequence of int, list of str)
        Plan entries to run, in order, and the damaged runs among them.
    """
    done = finished_runs(folder)
    if not done:
        return range(len(plan)), []
    damaged = set(damaged_runs(folder, sorted(done)))
    intact = done - damaged
    todo = [i for i in range(len(plan)) if not all(run_id in intact for run_id in plan.task_ids(i))]
    return todo, sorted(damaged)
