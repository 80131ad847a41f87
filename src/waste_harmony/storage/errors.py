"""The environment's failures (disk full, read-only, ...), named as such.

A full disk, a file size limit, a read-only file system, a refused permission or a
cross-device rename (:data:`ENVIRONMENT_ERRNOS`) are not the input's fault nor a
defect of the library: :func:`write_errors` turns them into a :class:`WriteError`
naming the path, the cause and what is left as it was, and the command line
prints it in one line with exit status 2.
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator
from typing import Any

__all__ = [
    "ENVIRONMENT_ERRNOS",
    "WriteError",
    "describe_failure",
    "environment_message",
    "write_errors",
]

#: Failures of the environment, not of the input or of the library: reported in one
#: line naming the path and the cause (exit status 2 on the command line).
ENVIRONMENT_ERRNOS: dict[int, str] = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exhausted",
    errno.EFBIG: "the file is larger than this system allows (a file size limit, ulimit -f)",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EXDEV: "a rename across file systems is impossible",
    errno.EIO: "an input/output error of the disk",
    errno.ENAMETOOLONG: "the path is too long for this file system",
    errno.ELOOP: "the path has a loop of symbolic links",
    errno.EMFILE: "too many files are open in this process",
    errno.ENFILE: "too many files are open on this system",
}


class WriteError(OSError):
    """A file could not be written for a reason of the environment (disk full, ...).

    An :class:`OSError` with the original ``errno``; its message names the path,
    the cause and what was left as it was.

    Examples
    --------
    >>> import errno
    >>> exc = WriteError(errno.ENOSPC, "cannot write out/model.parquet: the disk is full")
    >>> exc.errno == errno.ENOSPC, isinstance(exc, OSError)
    (True, True)
    """

    def __init__(self, code: int, message: str, filename: str | None = None) -> None:
        super().__init__(code, message)
        self.filename = filename

    def __str__(self) -> str:
        return str(self.args[1])


def _errno_name(code: int | None) -> str:
    return errno.errorcode.get(code or 0, f"errno {code}")


def describe_failure(exc: OSError, path: Any, *, intact: str) -> str:
    """One line: what could not be done where, why, and what is left as it was.

    Parameters
    ----------
    exc : OSError
        The failure.
    path : str or os.PathLike
        What was being written (the destination, not a temporary name).
    intact : str
        What is unchanged (``"the earlier results in out/ are intact"``).

    Returns
    -------
    str
        The message.

    Examples
    --------
    >>> import errno
    >>> describe_failure(OSError(errno.EROFS, "Read-only file system"), "out",
    ...                  intact="nothing was changed")
    'cannot write out: the file system is read-only (EROFS); nothing was changed'
    """
    cause = ENVIRONMENT_ERRNOS.get(exc.errno or 0, exc.strerror or str(exc))
    return f"cannot write {path}: {cause} ({_errno_name(exc.errno)}); {intact}"


def environment_message(exc: OSError) -> str | None:
    """One line for a failure of the environment (:data:`ENVIRONMENT_ERRNOS`), else ``None``.

    A :class:`WriteError` already says what, where and what is intact; another
    :class:`OSError` (a read, say) is named by its path, cause and errno name.

    Examples
    --------
    >>> import errno
    >>> environment_message(OSError(errno.ENOSPC, "No space left on device", "out/x"))
    'out/x: the disk is full (ENOSPC)'
    >>> environment_message(OSError(errno.ENOENT, "No such file")) is None
    True
    """
    if exc.errno not in ENVIRONMENT_ERRNOS:
        return None
    if isinstance(exc, WriteError):
        return str(exc)
    where = exc.filename if exc.filename is not None else "a file"
    return f"{where}: {ENVIRONMENT_ERRNOS[exc.errno or 0]} ({_errno_name(exc.errno)})"


@contextlib.contextmanager
def write_errors(path: Any, *, intact: str) -> Iterator[None]:
    """Turn the environment's failures inside the block into a :class:`WriteError`.

    Parameters
    ----------
    path : str or os.PathLike
        What the block writes (named in the message).
    intact : str
        What is left as it was if it fails.

    Raises
    ------
    WriteError
        For an :class:`OSError` whose errno is in :data:`ENVIRONMENT_ERRNOS`; other
        exceptions (and a :class:`WriteError` from an inner block) pass unchanged.
    """
    try:
        yield
    except WriteError:
        raise
    except OSError as exc:
        if exc.errno not in ENVIRONMENT_ERRNOS:
            raise
        raise WriteError(exc.errno, describe_failure(exc, path, intact=intact), str(path)) from exc
