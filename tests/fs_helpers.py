"""Real file-system failures for tests: a tiny tmpfs (disk full), a read-only mount, digests.

Mounting needs root and a kernel that lets this process mount (CI runs as root on
this machine kind); :func:`mounting_available` says whether it can, and the tests
that need it skip with the reason otherwise.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


def digest(folder: Path) -> dict[str, str]:
    """Relative path → SHA-256 of every file under ``folder`` (hidden ones included)."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, check=False)


def mounting_available(probe: Path) -> str | None:
    """``None`` if this process can mount a tmpfs, else why not (for ``pytest.skip``)."""
    if os.geteuid() != 0:
        return "needs root to mount a file system"
    if shutil.which("mount") is None or shutil.which("umount") is None:
        return "no mount/umount command"
    probe.mkdir(parents=True, exist_ok=True)
    done = _mount("-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe))
    if done.returncode != 0:
        return f"cannot mount here: {done.stderr.strip()}"
    subprocess.run(["umount", str(probe)], check=False)
    return None


@contextlib.contextmanager
def _mounted(where: Path, *steps: tuple[str, ...]) -> Iterator[Path]:
    """Run ``mount`` with each step's arguments (``where`` last), unmount after the block."""
    why = mounting_available(where.parent / f".{where.name}-probe")
    if why:
        pytest.skip(why)
    where.mkdir(parents=True, exist_ok=True)
    try:
        for step in steps:
            done = _mount(*step, str(where))
            if done.returncode != 0:
                pytest.skip(f"mount {' '.join(step)} failed: {done.stderr.strip()}")
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False, capture_output=True)


def tmpfs(where: Path, size: str) -> contextlib.AbstractContextManager[Path]:
    """A tmpfs of ``size`` (``"256k"``) mounted at ``where`` for the block (skips if it cannot)."""
    return _mounted(where, ("-t", "tmpfs", "-o", f"size={size}", "tmpfs"))


def read_only(folder: Path, view: Path) -> contextlib.AbstractContextManager[Path]:
    """``folder`` bind-mounted read-only at ``view`` for the block (skips if it cannot)."""
    return _mounted(view, ("--bind", str(folder)), ("-o", "remount,ro,bind"))


def fill(folder: Path, *, leave: int = 0) -> None:
    """Fill the file system of ``folder`` up, leaving about ``leave`` bytes free."""
    stats = os.statvfs(folder)
    free = stats.f_bavail * stats.f_frsize - leave
    if free > 0:
        with contextlib.suppress(OSError), open(folder / "filler", "wb") as fh:
            fh.write(b"\0" * free)
