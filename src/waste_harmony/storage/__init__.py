"""Writing results without ever losing any: atomic files, published folders, checksums.

Everything the library writes to disk as results goes through this package, which
keeps four promises, one module each:

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

=========================================  ===============================================
module                                     job
=========================================  ===============================================
:mod:`~waste_harmony.storage.places`       where results may go; which files are the
                                           library's own (promise 1)
:mod:`~waste_harmony.storage.publish`      atomic files, staging, swapping in, the
                                           manifest last (promise 2)
:mod:`~waste_harmony.storage.checksums`    the SHA-256 of files and manifests (promise 3)
:mod:`~waste_harmony.storage.errors`       the environment's failures (promise 4)
:mod:`~waste_harmony.storage.lock`         one writer per results folder
=========================================  ===============================================

:func:`publish_folder` is the one call that does all of this for a folder of
results (:func:`waste_harmony.results.save_run` and the ``run`` command use it);
experiments stage a whole experiment the same way (:mod:`waste_harmony.batch.resume`).
Import from :mod:`waste_harmony.storage`; the modules are its parts.

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

from waste_harmony.storage.checksums import (
    FILES_KEY,
    SEAL_KEY,
    check_seal,
    damaged_files,
    describe_files,
    file_sha256,
    listed_names,
    seal,
)
from waste_harmony.storage.errors import (
    ENVIRONMENT_ERRNOS,
    WriteError,
    describe_failure,
    environment_message,
    write_errors,
)
from waste_harmony.storage.lock import FolderLockedError, folder_lock, lock_path
from waste_harmony.storage.places import (
    STAGING_PREFIX,
    check_destination,
    check_place,
    foreign_files,
    is_inside,
    is_ours_by_name,
)
from waste_harmony.storage.publish import (
    check_writable,
    listed_files,
    publish_folder,
    record_files,
    remove_files,
    stage,
    staged_in,
    swap_in,
    write_atomic,
)

__all__ = [
    "ENVIRONMENT_ERRNOS",
    "FILES_KEY",
    "SEAL_KEY",
    "STAGING_PREFIX",
    "FolderLockedError",
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
    "folder_lock",
    "foreign_files",
    "is_inside",
    "is_ours_by_name",
    "listed_files",
    "listed_names",
    "lock_path",
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
