"""Code references: ``package.module:name`` or ``path/to/file.py:name``, loaded.

Run, sweep and calibration files name a study's own code — a scenario class, an output's
reporter — by reference, so the file stays plain TOML and the code stays in the study's
own module. :func:`load_reference` turns a reference into the object it names; a file is
loaded once per version (an edited file is loaded again) under a stable module name, so
the objects it defines pickle by reference and worker processes load the same file.
Loading a reference runs that code, as ``import`` does: use only code you trust.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = ["is_reference", "load_module", "load_reference", "reference_of"]

_LOADED_FILES: dict[tuple[str, float], ModuleType] = {}


def is_reference(spec: str) -> bool:
    """Whether ``spec`` is a code reference (``module:name`` or ``file.py:name``).

    Examples
    --------
    >>> is_reference("techcore"), is_reference("my_pkg.scen:Ban"), is_reference("ban.py:Ban")
    (False, True, True)
    """
    return ":" in spec


def _load_file(path: Path) -> ModuleType:
    # One module per file version: loading the same file twice gives the same
    # objects; an edited file is loaded again (its objects replace the old ones).
    key = (str(path), path.stat().st_mtime)
    if key in _LOADED_FILES:
        return _LOADED_FILES[key]
    name = f"waste_harmony_user_{path.stem}_{abs(hash(str(path))):x}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ValueError(f"cannot load Python code from {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look objects up here
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    _LOADED_FILES[key] = module
    return module


def load_module(
    where: str, *, spec: str, base_dir: str | os.PathLike[str] | None = None
) -> ModuleType:
    """The module of a reference: an importable module name or a ``.py`` file.

    Parameters
    ----------
    where : str
        The part before the colon.
    spec : str
        The whole reference (for messages).
    base_dir : str or os.PathLike, optional
        Folder a relative file path is resolved against; default: the current directory.

    Returns
    -------
    module

    Raises
    ------
    ValueError
        If the file is missing or the module cannot be imported.
    """
    if where.endswith(".py") or "/" in where or os.sep in where:
        path = Path(where)
        if not path.is_absolute() and base_dir is not None:
            path = Path(base_dir) / path
        path = path.resolve()
        if not path.is_file():
            raise ValueError(f"reference {spec!r}: no file {path}")
        return _load_file(path)
    try:
        return importlib.import_module(where)
    except ModuleNotFoundError as exc:
        raise ValueError(
            f"reference {spec!r}: cannot import {where!r} ({exc}); "
            "is it installed or on PYTHONPATH? A file is given as 'path/to/file.py:name'"
        ) from exc


def load_reference(spec: str, *, base_dir: str | os.PathLike[str] | None = None) -> Any:
    """The object a reference ``package.module:name`` or ``path/to/file.py:name`` names.

    Parameters
    ----------
    spec : str
        The reference.
    base_dir : str or os.PathLike, optional
        Folder a relative file path is resolved against (run and sweep files pass
        their own folder); default: the current directory.

    Returns
    -------
    object
        The module's attribute ``name``.

    Raises
    ------
    ValueError
        For a malformed reference, a missing file or module, or a name the module lacks.

    Examples
    --------
    >>> load_reference("math:pi") > 3
    True
    >>> load_reference("math:tau2")
    Traceback (most recent call last):
    ...
    ValueError: reference 'math:tau2': math has no 'tau2'
    """
    where, _, attribute = spec.rpartition(":")
    if not where or not attribute:
        raise ValueError(
            f"reference {spec!r} must look like 'package.module:name' or 'path/to/file.py:name'"
        )
    module = load_module(where, spec=spec, base_dir=base_dir)
    if not hasattr(module, attribute):
        raise ValueError(f"reference {spec!r}: {where} has no {attribute!r}")
    return getattr(module, attribute)


def reference_of(obj: Any) -> str:
    """The reference that loads ``obj`` again: ``"file.py:name"`` or ``"module:name"``.

    An object of a file loaded by :func:`load_reference` is named by the file's path
    (its module name is made up and cannot be imported elsewhere); any other by
    its module and qualified name. ``__main__`` objects get ``"__main__:name"``,
    which loads only in the same script.

    Examples
    --------
    >>> import math
    >>> reference_of(math.sqrt)
    'math:sqrt'
    """
    module_name = getattr(obj, "__module__", None) or "__main__"
    qualname = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", repr(obj))
    module = sys.modules.get(module_name)
    path = getattr(module, "__file__", None)
    if module_name.startswith("waste_harmony_user_") and path:
        return f"{path}:{qualname}"
    return f"{module_name}:{qualname}"
