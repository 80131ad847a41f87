"""Writing results without ever losing any: atomic files, published folders, checksums.

Everything the library writes to disk goes through this module, which keeps four
promises:

1. **Only its own files are replaced.** A results folder is replaced only when
   everything in it was written by the library: the files its manifest lists
   (the caller says which, ``owned``), hidden staging folders and temporary files
   of an interrupted write. Anything else — a user's notes, scripts, a thesis —
   makes the replacement refuse, naming those files (:func:`check_destination`).
   An empty or ``.`` folder (the current directory), and folders the caller
   forbids (a run file's own folder), are refused outright.
2. **Earlier results stay whole until the new ones are complete.** New files are
   first written into a hidden staging folder *inside* the destination
   (:func:`stage`), so that every rename into place stays within one directory of
   one file system — also when the destination is a symbolic link to another file
   system or a mount point, where a staging folder beside it would be on the
   wrong side. Only when every new file is complete does :func:`swap_in` move them
   in, removing the commit file (the manifest) first and writing it last: a
   folder with a manifest is complete, and one without is recognisably not.
3. **Damage is found.** A manifest lists the SHA-256 and size of every file
   beside it (:func:`describe_files`) and carries a checksum of itself
   (:func:`seal`); :func:`damaged_files` and :func:`check_seal` name a changed,
   truncated or missing file, or an edited manifest.
4. **The environment's failures are named as such.** A full disk, a file size
   limit, a read-only file system, a refused permission or a cross-device rename
   (:data:`ENVIRONMENT_ERRNOS`) become a :class:`WriteError` naming the path, the
   cause and what is left as it was.

:func:`publish_folder` is the one call that does all of this for a folder of
results (:func:`waste_harmony.results.save_run` and the ``run`` command use it);
experiments stage a whole experiment the same way (:mod:`waste_harmony.batch.resume`).

Examples
--------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp()) / "out"
>>> def write(staging):
...     _ = (staging / "table.csv").write_text("1,2")
>>> [p.name for p in publish_folder(folder, write, {"kind": "demo"})]
['manifest.json', 'table.csv']
>>> (folder / "notes.txt").write_text("mine")
4
>>> publish_folder(folder, write, {"kind": "demo"}, replace=True)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
FileExistsError: .../out holds files waste-harmony did not write: notes.txt; ...
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from waste_harmony.canonical import canonical_json
from waste_harmony.schema import json_safe

__all__ = [
    "ENVIRONMENT_ERRNOS",
    "FILES_KEY",
    "SEAL_KEY",
    "STAGING_PREFIX",
    "WriteError",
    "check_destination",
    "check_place",
    "check_seal",
    "check_writable",
    "damaged_files",
    "describe_failure",
    "describe_files",
    "environment_message",
    "file_sha256",
    "foreign_files",
    "is_inside",
    "is_ours_by_name",
    "listed_names",
    "publish_folder",
    "record_files",
    "remove_files",
    "seal",
    "stage",
    "staged_in",
    "swap_in",
    "write_atomic",
    "write_errors",
]

#: Prefix of the hidden staging folders (inside a destination) that writes go through.
STAGING_PREFIX = ".waste-harmony-staging-"

#: Manifest entry listing the files beside it: name → ``{"sha256": ..., "bytes": ...}``.
FILES_KEY = "files"

#: Manifest entry holding the SHA-256 of the rest of the manifest (:func:`seal`).
SEAL_KEY = "manifest_sha256"

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
    path : path
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
    path : path
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


# ----------------------------------------------------------------------------- checksums
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


# ----------------------------------------------------------------------------- ownership
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


def check_place(folder: str | os.PathLike[str], *, forbid: Iterable[tuple[Path, str]] = ()) -> Path:
    """Refuse a destination that cannot be a results folder, whatever it holds.

    Parameters
    ----------
    folder : str or os.PathLike
        The destination.
    forbid : iterable of (pathlib.Path, str)
        Folders that must not be the destination, each with why
        (``(run_file.parent, "the run file's own folder")``).

    Returns
    -------
    pathlib.Path
        The folder.

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

    Returns
    -------
    pathlib.Path
        The folder.

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


# ----------------------------------------------------------------------------- replacing
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


def listed_names(files: Any) -> set[str]:
    """The names a manifest's :data:`FILES_KEY` lists that stay inside its folder."""
    return {str(n) for n in files if is_inside(str(n))} if isinstance(files, dict) else set()


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
