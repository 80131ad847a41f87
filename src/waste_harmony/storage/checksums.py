"""Checksums: the SHA-256 of every file a manifest lists, and of the manifest itself.

A manifest lists the SHA-256 and size of every file beside it under :data:`FILES_KEY`
(:func:`describe_files`) and carries the SHA-256 of its own content under
:data:`SEAL_KEY` (:func:`seal`); :func:`damaged_files` and :func:`check_seal` name a
changed, truncated or missing file, or an edited manifest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from waste_harmony.canonical import canonical_json
from waste_harmony.schema import json_safe
from waste_harmony.storage.places import is_inside

__all__ = [
    "FILES_KEY",
    "SEAL_KEY",
    "check_seal",
    "damaged_files",
    "describe_files",
    "file_sha256",
    "listed_names",
    "seal",
]

#: Manifest entry listing the files beside it: name → ``{"sha256": ..., "bytes": ...}``.
FILES_KEY = "files"

#: Manifest entry holding the SHA-256 of the rest of the manifest (:func:`seal`).
SEAL_KEY = "manifest_sha256"


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes (read in blocks of 1 MiB).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x"
    >>> _ = path.write_bytes(b"")
    >>> file_sha256(path)[:16]
    'e3b0c44298fc1c14'
    """
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            sha.update(block)
    return sha.hexdigest()


def describe_files(folder: Path, names: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The checksum and size of files in ``folder``, for a manifest's :data:`FILES_KEY`.

    Parameters
    ----------
    folder : pathlib.Path
        Where the files are.
    names : iterable of str
        Their names (relative paths).

    Returns
    -------
    dict
        Name → ``{"sha256": hex digest, "bytes": size}``, names sorted.
    """
    return {
        name: {"sha256": file_sha256(folder / name), "bytes": (folder / name).stat().st_size}
        for name in sorted(names)
    }


def seal(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest with the SHA-256 of its own content under :data:`SEAL_KEY`.

    The checksum is over the canonical JSON of every other entry, so re-indenting
    the file keeps it valid while changing any value does not. The returned
    manifest is JSON data (:func:`waste_harmony.schema.json_safe`).

    Examples
    --------
    >>> sealed = seal({"seed": 1})
    >>> check_seal(sealed, "manifest x") is None
    True
    >>> check_seal({**sealed, "seed": 2}, "manifest x")  # doctest: +ELLIPSIS
    'manifest x was changed after waste-harmony wrote it (its checksum differs)...'
    """
    content = json_safe({k: v for k, v in manifest.items() if k != SEAL_KEY})
    return {**content, SEAL_KEY: _seal_of(content)}


def _seal_of(content: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(content).encode()).hexdigest()


def check_seal(manifest: Mapping[str, Any], what: str) -> str | None:
    """Why a manifest read from disk does not match its own checksum, or ``None``.

    A manifest without a checksum (written by an earlier version) passes.

    Parameters
    ----------
    manifest : mapping
        As read from disk.
    what : str
        What it is, with its path (for the message).

    Returns
    -------
    str or None
        The problem, naming ``what``.
    """
    recorded = manifest.get(SEAL_KEY)
    if recorded is None:
        return None
    if recorded != _seal_of({k: v for k, v in manifest.items() if k != SEAL_KEY}):
        return (
            f"{what} was changed after waste-harmony wrote it (its checksum differs): "
            "edited by hand or damaged"
        )
    return None


def damaged_files(folder: Path, manifest: Mapping[str, Any]) -> list[str]:
    """The files a manifest lists that are missing or differ from their checksum.

    Parameters
    ----------
    folder : pathlib.Path
        The folder of the manifest.
    manifest : mapping
        Its content (a manifest without :data:`FILES_KEY` lists nothing).

    Returns
    -------
    list of str
        One problem per damaged file (``"model.parquet: missing"``,
        ``"model.parquet: changed since it was written (checksum differs)"``).
    """
    problems = []
    for name, expected in (manifest.get(FILES_KEY) or {}).items():
        path = folder / name
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            problems.append(f"{name}: missing")
            continue
        if size != expected.get("bytes", size) or file_sha256(path) != expected.get("sha256"):
            problems.append(f"{name}: changed since it was written (checksum differs)")
    return problems


def listed_names(files: Any) -> set[str]:
    """The names a manifest's :data:`FILES_KEY` lists that stay inside its folder."""
    return {str(n) for n in files if is_inside(str(n))} if isinstance(files, dict) else set()
