"""Writing results whole: atomic files, staged folders swapped in, the manifest last.

:func:`publish_folder` is the one primitive behind every results folder: it checks
the destination (:mod:`~waste_harmony.storage.places`), lets the caller write into a
staging folder inside it (:func:`stage`), lists and seals (:mod:`~waste_harmony.storage.checksums`)
and swaps the new files in, the manifest last (:func:`swap_in`). An experiment,
written run by run, stages and swaps the same way.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from waste_harmony.storage.checksums import FILES_KEY, describe_files, listed_names, seal
from waste_harmony.storage.errors import write_errors
from waste_harmony.storage.places import (
    STAGING_PREFIX,
    check_destination,
    is_inside,
    is_ours_by_name,
)

__all__ = [
    "check_writable",
    "listed_files",
    "publish_folder",
    "record_files",
    "remove_files",
    "stage",
    "staged_in",
    "swap_in",
    "write_atomic",
]


def _file_mode() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


#: Permissions of written files: what ``open()`` would give under the process umask.
_FILE_MODE = _file_mode()


def write_atomic(path: Path, write: Callable[..., Any]) -> None:
    """Write a file through a temporary sibling and rename it into place.

    The temporary file is ``.<name>.<random>.tmp`` in the same folder (one file
    system, so the rename is atomic); it is removed if writing fails, and a
    process killed mid-write leaves only it behind, never a half-written ``path``.

    Parameters
    ----------
    path : pathlib.Path
        Destination.
    write : callable
        ``write(temporary_path)`` writes the content.

    Raises
    ------
    WriteError
        If the environment refuses (disk full, read-only, ...); ``path`` is then
        as it was.
    """
    with write_errors(path, intact=f"{Path(path).name} there is as it was"):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        try:
            write(Path(tmp))
            os.chmod(tmp, _FILE_MODE)  # mkstemp makes it private; results are ordinary files
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def stage(folder: Path) -> Path:
    """A new hidden staging folder inside ``folder`` (created with its parents).

    Inside, not beside: renames from it into ``folder`` stay in one directory of
    one file system even when ``folder`` is a symbolic link elsewhere or a mount
    point.

    Parameters
    ----------
    folder : pathlib.Path
        The destination.

    Returns
    -------
    pathlib.Path
        The staging folder, ``folder/.waste-harmony-staging-<random>``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=folder, prefix=STAGING_PREFIX))


def staged_in(folder: Path, matches: Callable[[Path], bool]) -> Path | None:
    """A staging folder inside ``folder`` that ``matches``: an interrupted replacement.

    Parameters
    ----------
    folder : pathlib.Path
        The destination.
    matches : callable
        ``matches(staging)``: whether it holds the work to continue (its
        manifest describes the same experiment).

    Returns
    -------
    pathlib.Path or None
        The first such staging folder, by name.
    """
    for staging in sorted(folder.glob(f"{STAGING_PREFIX}*")):
        if staging.is_dir() and not staging.is_symlink() and matches(staging):
            return staging
    return None


def check_writable(folder: Path) -> None:
    """Fail now if results could not be written into ``folder`` (before a long run).

    Creates ``folder`` and a staging folder in it, then removes what it created.

    Raises
    ------
    WriteError
        Naming the folder and the cause (permission denied, read-only, disk full).
    """
    created = [p for p in (folder, *folder.parents) if not p.exists()]
    with write_errors(folder, intact="nothing was written"):
        try:
            stage(folder).rmdir()
        finally:
            for path in created:  # innermost first
                with contextlib.suppress(OSError):
                    path.rmdir()


def remove_files(folder: Path, names: Iterable[str]) -> None:
    """Remove files under ``folder`` (relative paths), then the folders they emptied.

    Parameters
    ----------
    folder : pathlib.Path
        The folder.
    names : iterable of str
        Relative paths; missing ones are skipped.
    """
    parents: set[Path] = set()
    for name in names:
        if not is_inside(name):
            continue  # an edited manifest must not reach outside the folder
        path = folder / name
        path.unlink(missing_ok=True)
        parents.update(p for p in path.parents if p != folder and folder in p.parents)
    for parent in sorted(parents, key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):  # not empty (someone else's) or gone: keep it
            parent.rmdir()


def swap_in(folder: Path, staging: Path, *, commit: str, remove: Iterable[str] = ()) -> list[Path]:
    """Move every entry of ``staging`` into ``folder``, the ``commit`` file last.

    The commit file (the manifest) is removed from ``folder`` first, so a folder
    caught between old and new holds no manifest and reads as incomplete; then the
    new entries are renamed in, replacing same-named ones, the old files in
    ``remove`` that the new results do not replace are removed, and the commit file
    lands last. Each rename is within one file system (see :func:`stage`).

    Parameters
    ----------
    folder : pathlib.Path
        The destination.
    staging : pathlib.Path
        A staging folder of :func:`stage` holding the complete new results.
    commit : str
        The name of the file that marks the folder complete (written last).
    remove : iterable of str
        Relative paths of earlier files (the library's own) to remove.

    Returns
    -------
    list of pathlib.Path
        The entries now in ``folder`` from ``staging``, sorted.
    """
    new = sorted(p.name for p in staging.iterdir())
    (folder / commit).unlink(missing_ok=True)
    old = [n for n in remove if n not in new]  # (same-named files are replaced below)
    remove_files(folder, old)
    for name in new:
        if name == commit:
            continue
        target = folder / name
        if target.is_dir() and not target.is_symlink():
            # a folder of earlier results (runs/): its files were removed above, only
            # empty folders and leftovers of interrupted writes can remain
            _clear_leftovers(target)
        os.replace(staging / name, target)
    if commit in new:
        os.replace(staging / commit, folder / commit)
    staging.rmdir()
    return [folder / name for name in new]


def _clear_leftovers(folder: Path) -> None:
    """Remove a folder holding nothing but empty folders and interrupted writes' leftovers."""
    for root, dirs, files in os.walk(folder, topdown=False):
        base = Path(root)
        for name in files:
            if is_ours_by_name(name):
                (base / name).unlink()
        for name in dirs:
            path = base / name
            if is_ours_by_name(name) and not path.is_symlink():
                shutil.rmtree(path)
            elif not path.is_symlink():
                path.rmdir()  # fails (ENOTEMPTY) if something else is there: keep it
    folder.rmdir()


def publish_folder(
    folder: str | os.PathLike[str],
    write: Callable[[Path], Any],
    manifest: Mapping[str, Any],
    *,
    replace: bool = False,
    owned: Callable[[Path], Iterable[str]] | None = None,
    commit: str = "manifest.json",
    forbid: Iterable[tuple[Path, str]] = (),
    how: str = "choose an empty folder or allow replacing (overwrite=True, or --force)",
) -> list[Path]:
    """Write a complete folder of results in one step, never losing what was there.

    The one primitive behind every results folder: checks the destination
    (:func:`check_destination`: only the library's own files are ever replaced),
    lets ``write`` fill a staging folder inside it (:func:`stage`), lists every
    new file with its SHA-256 and size in the manifest, seals the manifest
    (:func:`seal`), and swaps the new files in, the manifest last
    (:func:`swap_in`). If anything fails before the swap, the folder is exactly as
    it was; the environment's failures are a :class:`WriteError` saying so.

    Parameters
    ----------
    folder : str or os.PathLike
        The destination (created if missing).
    write : callable
        ``write(staging)`` writes the new files (not the manifest) into ``staging``.
    manifest : mapping
        The manifest; a copy with :data:`FILES_KEY` and :data:`SEAL_KEY` is written.
    replace : bool
        Replace earlier results in ``folder`` (only the library's own files).
    owned : callable, optional
        ``owned(folder)``: relative paths of the files the library wrote there
        (default: those the manifest there lists, and the manifest).
    commit : str
        The manifest's file name.
    forbid, how
        As in :func:`check_destination`.

    Returns
    -------
    list of pathlib.Path
        The files of the new results, the manifest included, sorted.

    Raises
    ------
    FileExistsError, ValueError
        See :func:`check_destination`.
    WriteError
        If the environment refuses a write (disk full, read-only, ...).
    """
    owned = owned or (lambda path: listed_files(path, commit))
    path = check_destination(folder, replace=replace, owned=owned, forbid=forbid, how=how)
    earlier = sorted(owned(path)) if path.is_dir() else []
    created = not path.exists()
    intact = (
        f"the earlier results in {path} are intact" if earlier else f"nothing was written to {path}"
    )
    staging: Path | None = None
    with write_errors(path, intact=intact):
        try:
            staging = stage(path)
            write(staging)
            names = [p.name for p in staging.iterdir() if p.name != commit]
            content = {**manifest, FILES_KEY: describe_files(staging, names)}
            text = json.dumps(seal(content), indent=2, sort_keys=True)
            (staging / commit).write_text(text + "\n", encoding="utf-8")
        except BaseException:
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
            if created:
                with contextlib.suppress(OSError):
                    path.rmdir()
            raise
    with write_errors(
        path, intact=f"{path} now holds no {commit} (incomplete): write the results again"
    ):
        return swap_in(path, staging, commit=commit, remove=earlier)


def listed_files(folder: Path, commit: str = "manifest.json") -> set[str]:
    """The files a folder's manifest lists, and the manifest (empty if it has none).

    Parameters
    ----------
    folder : pathlib.Path
        A results folder.
    commit : str
        The manifest's file name.

    Returns
    -------
    set of str
        Relative paths.
    """
    file = folder / commit
    try:
        manifest = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    listed = manifest.get(FILES_KEY) if isinstance(manifest, dict) else None
    return {commit, *listed_names(listed)} if isinstance(listed, dict) else {commit}


def record_files(folder: Path, names: Iterable[str], *, commit: str = "manifest.json") -> None:
    """Add files the library wrote into a finished folder to its manifest (resealed).

    For files written after the folder was published (``waste-harmony plot``
    redrawing figures into a results folder), so that a later replacement knows
    them as the library's own and checks them like the others.

    Parameters
    ----------
    folder : pathlib.Path
        The folder.
    names : iterable of str
        The new files (relative paths).
    commit : str
        The manifest's file name.
    """
    manifest = json.loads((folder / commit).read_text(encoding="utf-8"))
    files = dict(manifest.get(FILES_KEY) or {})
    files.update(describe_files(folder, names))
    text = json.dumps(seal({**manifest, FILES_KEY: files}), indent=2, sort_keys=True)
    write_atomic(folder / commit, lambda p: p.write_text(text + "\n", encoding="utf-8"))
