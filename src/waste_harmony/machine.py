"""What this machine can hold: available memory and free disk space, read without allocating.

Refusals of work too large to finish (a plan of 10^9 runs, a 4000 × 4000 grid city)
compare an estimate made *before* building anything with these numbers, so the
refusal is immediate and says how large the work is and how much room there is,
instead of the machine swapping for minutes and then failing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DiskSpace", "available_memory_bytes", "disk_space", "gigabytes"]


def available_memory_bytes() -> int | None:
    """Memory this machine has available now, bytes (``None`` where unknown).

    ``MemAvailable`` of ``/proc/meminfo`` (Linux): free memory plus what the kernel
    can reclaim from caches without swapping.

    Examples
    --------
    >>> free = available_memory_bytes()
    >>> free is None or free > 0
    True
    """
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


@dataclass(frozen=True)
class DiskSpace:
    """Free room on the filesystem holding a folder.

    Attributes
    ----------
    path : pathlib.Path
        The existing folder measured (the nearest existing parent of the one asked).
    free_bytes : int
        Bytes an unprivileged writer may still use.
    free_files : int or None
        Files (inodes) it may still create (``None`` where the filesystem has no limit).
    """

    path: Path
    free_bytes: int
    free_files: int | None


def disk_space(folder: str | os.PathLike[str]) -> DiskSpace | None:
    """Free bytes and inodes where ``folder`` is (or would be) created (``None``: unknown).

    Examples
    --------
    >>> space = disk_space(".")
    >>> space is None or space.free_bytes >= 0
    True
    """
    path = Path(folder).expanduser().absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        stat = os.statvfs(path)
    except (OSError, AttributeError):
        return None
    files = stat.f_favail if stat.f_files else None  # 0 inodes in all: no inode limit
    return DiskSpace(path, stat.f_bavail * stat.f_frsize, files)


def gigabytes(n_bytes: float) -> str:
    """``n_bytes`` as text in GB (or TB), for messages.

    Examples
    --------
    >>> gigabytes(3.2e9), gigabytes(5e13)
    ('3.2 GB', '50.0 TB')
    """
    if n_bytes >= 1e13:
        return f"{n_bytes / 1e12:,.1f} TB"
    return f"{n_bytes / 1e9:,.1f} GB"
