"""One writer per results folder: a lock file beside the folder, with a stale-lock rule.

Two processes writing one folder lost work: two ``sweep --resume`` of the same
half-finished experiment ran the same runs twice, and two ``run --out SAME``
started together both said "wrote" while one result survived. Every command and
function that writes a results folder (``run``, ``sweep``, ``calibrate``,
``--resume``; :func:`waste_harmony.experiments.sweep` and the like, ``calibrate``)
holds :func:`folder_lock` while it writes, and a second writer is refused in one
line, naming the holder.

The lock is a file *beside* the folder (``.NAME.waste-harmony-lock`` in its parent),
so the results folder holds only results and a folder that does not exist yet can
be locked. It is created with ``O_CREAT | O_EXCL`` (atomic on every local file
system and on NFS v3+) and holds the holder's process id, host, command and start
time. **Stale-lock rule**: a lock whose holder is on this host and no longer
running (its process id is gone) was left by a killed writer and is taken over; a
lock held from another host is never broken automatically (this host cannot see
its processes): the message names the file to remove once that process is gone.
The same process may take a lock it holds again (a calibration's batches).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["FolderLockedError", "folder_lock", "lock_path"]

_SUFFIX = ".waste-harmony-lock"
_held: dict[Path, int] = {}  # lock file -> how many times this process took it


class FolderLockedError(FileExistsError):
    """Another process is writing this results folder.

    Attributes
    ----------
    holder : dict
        What the lock file says: ``pid``, ``host``, ``command``, ``since``.
    """

    def __init__(self, message: str, holder: dict[str, Any]) -> None:
        super().__init__(message)
        self.holder = holder


def lock_path(folder: str | os.PathLike[str]) -> Path:
    """The lock file of a results folder: ``.NAME.waste-harmony-lock`` beside it.

    Examples
    --------
    >>> lock_path("/data/results/sweep1").as_posix()
    '/data/results/.sweep1.waste-harmony-lock'
    """
    path = Path(os.path.abspath(folder))
    return path.parent / f".{path.name}{_SUFFIX}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}  # being written, or damaged
    return data if isinstance(data, dict) else {}


def _is_stale(holder: dict[str, Any], path: Path) -> bool:
    if not holder:  # unreadable: stale once older than a writer needs to fill it in
        with contextlib.suppress(OSError):
            return time.time() - path.stat().st_mtime > 30
        return False
    return holder.get("host") == socket.gethostname() and not _alive(int(holder.get("pid", -1)))


def _acquire(path: Path, command: str) -> bool:
    record = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": command,
        "since": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError:  # no folder can be made there: the writer's own check says why
        return False
    for _ in range(3):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _read(path)
            if holder is None:
                continue  # released meanwhile: try again
            if _is_stale(holder, path):
                path.unlink(missing_ok=True)  # a killed writer's: take it over
                continue
            folder = path.parent / path.name[1 : -len(_SUFFIX)]
            who = (
                f"process {holder.get('pid', '?')} on {holder.get('host', '?')} "
                f"('{holder.get('command', '?')}', since {holder.get('since', '?')})"
            )
            raise FolderLockedError(
                f"{folder} is being written by another waste-harmony process, {who}; "
                f"wait for it to finish, or if that process is gone, remove {path}",
                holder,
            ) from None
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(record, fh)
        return True
    raise FolderLockedError(f"could not take the lock {path}: it keeps changing", {})


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike[str] | None, command: str) -> Iterator[Path | None]:
    """Hold the one-writer lock of a results folder while the block writes it.

    Parameters
    ----------
    folder : str, os.PathLike or None
        The results folder (``None``: nothing to lock, e.g. a temporary experiment).
    command : str
        What is writing, for the message another writer gets (``"sweep"``).

    Yields
    ------
    pathlib.Path or None
        The lock file.

    Raises
    ------
    FolderLockedError
        If another live process holds it (a :class:`FileExistsError`: one line and
        exit status 2 on the command line).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "results"
    >>> with folder_lock(out, "sweep") as lock:
    ...     json.loads(lock.read_text())["command"]
    'sweep'
    >>> lock.exists()
    False
    """
    if folder is None:
        yield None
        return
    path = lock_path(folder)
    if _held.get(path, 0) == 0 and not _acquire(path, command):
        yield None  # the destination cannot exist (under a file): refused by the writer
        return
    _held[path] = _held.get(path, 0) + 1
    try:
        yield path
    finally:
        _held[path] -= 1
        if _held[path] == 0:
            del _held[path]
            path.unlink(missing_ok=True)
