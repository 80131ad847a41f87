"""Where results may be written, and which files in a folder are the library's own.

A folder of results is replaced only when every file in it was written by the
library (the caller says which, ``owned``): :func:`check_destination` refuses, naming
them, anything else. :func:`check_place` refuses what cannot be a results folder at
all: empty text, the current directory, a forbidden folder (a run file's own), a
file, a broken link.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from waste_harmony.docstrings import shared_sections

__all__ = [
    "STAGING_PREFIX",
    "check_destination",
    "check_place",
    "foreign_files",
    "is_inside",
    "is_ours_by_name",
]

#: Prefix of the hidden staging folders (inside a destination) that writes go through.
STAGING_PREFIX = ".waste-harmony-staging-"


def is_ours_by_name(name: str) -> bool:
    """Whether a file or folder name is one the library leaves only while writing.

    Hidden staging folders (:data:`STAGING_PREFIX`) and temporary files
    (``.<name>.<random>.tmp``) of a write that was interrupted.

    Examples
    --------
    >>> is_ours_by_name(".model.parquet.k2j3h1.tmp"), is_ours_by_name("notes.tmp")
    (True, False)
    """
    return name.startswith(STAGING_PREFIX) or (name.startswith(".") and name.endswith(".tmp"))


def is_inside(name: str) -> bool:
    """Whether a relative path from a manifest stays inside its folder.

    Examples
    --------
    >>> is_inside("runs/p0000-r0000/model.parquet"), is_inside("../thesis.md")
    (True, False)
    >>> is_inside("/etc/passwd")
    False
    """
    path = Path(name)
    return bool(name) and not path.is_absolute() and ".." not in path.parts


def foreign_files(folder: Path, owned: Iterable[str]) -> list[str]:
    """Files under ``folder`` the library did not write (relative paths, sorted).

    Parameters
    ----------
    folder : pathlib.Path
        The folder (its symbolic links are not followed: a link is a file here).
    owned : iterable of str
        Relative paths of the files the library wrote there (from its manifests).

    Returns
    -------
    list of str
        Everything else, besides what :func:`is_ours_by_name` recognises.
    """
    mine = set(owned)
    found = []
    for root, dirs, files in os.walk(folder):
        base = Path(root)
        links = [d for d in dirs if (base / d).is_symlink()]  # a link is not descended
        dirs[:] = [d for d in dirs if d not in links and not is_ours_by_name(d)]
        for name in files + links:
            relative = (base / name).relative_to(folder).as_posix()
            if relative not in mine and not is_ours_by_name(name):
                found.append(relative)
    return sorted(found)


def _listing(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


@shared_sections
def check_place(folder: str | os.PathLike[str], *, forbid: Iterable[tuple[Path, str]] = ()) -> Path:
    """Refuse a destination that cannot be a results folder, whatever it holds.

    Parameters
    ----------
    folder : str or os.PathLike
        The destination.
    forbid : iterable of (pathlib.Path, str)
        Folders that must not be the destination, each with why
        (``(run_file.parent, "the run file's own folder")``).

    {folder_returns}

    Raises
    ------
    ValueError
        If ``folder`` is empty text, the current directory or a forbidden folder.
    FileExistsError
        If it is a file.

    Examples
    --------
    >>> check_place("")
    Traceback (most recent call last):
    ...
    ValueError: the output folder is empty text; give a folder name, e.g. results/run
    """
    if isinstance(folder, str) and not folder.strip():
        raise ValueError("the output folder is empty text; give a folder name, e.g. results/run")
    path = Path(folder)
    try:
        resolved, here = path.resolve(), Path.cwd().resolve()
    except OSError:  # the current folder was removed: no folder can be it
        resolved, here = path, None
    if resolved == here:
        raise ValueError(
            f"the output folder {str(folder)!r} is the current directory; results need a "
            "folder of their own (e.g. results/run), which --force may later replace"
        )
    for place, why in forbid:
        if resolved == Path(place).resolve():
            raise ValueError(
                f"the output folder {path} is {why}; results need a folder of their own "
                "(e.g. results/run)"
            )
    if path.exists() and not path.is_dir():
        raise FileExistsError(f"output folder {path} is a file; choose a folder")
    if path.is_symlink() and not path.exists():
        raise FileExistsError(
            f"output folder {path} is a symbolic link to {os.readlink(path)}, which does not "
            "exist (or loops); create its target or remove the link"
        )
    for parent in path.parents:
        if parent.exists() or parent.is_symlink():
            if not parent.is_dir():
                raise NotADirectoryError(
                    f"output folder {path} cannot be made: {parent} is a file, not a folder"
                )
            break
    return path


@shared_sections
def check_destination(
    folder: str | os.PathLike[str],
    *,
    replace: bool,
    owned: Callable[[Path], Iterable[str]],
    forbid: Iterable[tuple[Path, str]] = (),
    how: str = "choose an empty folder or allow replacing (overwrite=True, or --force)",
) -> Path:
    """Check that results may be written into ``folder``; refuse, naming why, if not.

    Parameters
    ----------
    folder : str or os.PathLike
        The destination.
    replace : bool
        Whether earlier results there may be replaced.
    owned : callable
        ``owned(folder)``: relative paths of the files the library wrote there.
    forbid : iterable of (pathlib.Path, str)
        As in :func:`check_place`.
    how : str
        What to do about a folder that is not empty (for the message).

    {folder_returns}

    Raises
    ------
    ValueError, FileExistsError
        See :func:`check_place`; and FileExistsError if the folder holds something
        and ``replace`` is false, or holds files the library did not write (named)
        and ``replace`` is true.
    """
    path = check_place(folder, forbid=forbid)
    if not path.is_dir():
        return path
    entries = [p for p in path.iterdir() if not is_ours_by_name(p.name)]
    if not entries:
        return path
    if not replace:
        raise FileExistsError(f"{path} is not empty; {how}")
    foreign = foreign_files(path, owned(path))
    if foreign:
        raise FileExistsError(
            f"{path} holds files waste-harmony did not write: {_listing(foreign)}; "
            "nothing was replaced. Move them elsewhere, or choose another folder"
        )
    return path
