"""What makes two experiments the same: a fingerprint of their meaning, not their spelling.

An experiment folder remembers the fingerprint of the experiment that wrote it, and
resuming is refused when a new call's fingerprint differs
(:mod:`waste_harmony.batch.resume`). The fingerprint is the SHA-256 of a
canonical JSON text of the plan (:func:`canonical`):

* mappings are written with sorted keys, so the order of keyword arguments or of a
  sweep file's tables does not matter;
* NumPy scalars become Python numbers, tuples become lists, sets are sorted;
* files (a run file's GraphML city, district or OSM file) are identified by the
  SHA-256 of their content, so ``sweep s.toml`` and ``sweep /abs/path/s.toml``
  are the same experiment, while an edited city file is not; the sweep file's own
  path and the output folder are not part of the experiment;
* a city graph by its nodes (sorted), edges and attributes; arrays by dtype, shape
  and the hash of their bytes;
* classes and functions by ``module.qualname``; scenario instances and other
  dataclasses by their class and field values (this package's own types by the path
  they had before it moved out of ``waste_harmony.experiments``, :func:`type_name`,
  so folders written then still resume);
* a model's fixed keyword arguments by what they mean (:func:`fixed_meaning`): one
  equal to the factory's default is left out (``scenarios=[]`` is no scenario at
  all), a model parameter of kind float is a float (``waste_cv=1`` is
  ``waste_cv=1.0``) and a single scenario name is a list of one.

A change of meaning (another parameter value, seed, number of days, model, city or
scenario parameter) changes the fingerprint.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import inspect
import json
import os
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from waste_harmony.batch.plan import ConfigFactory, qualified_name
from waste_harmony.canonical import canonical as shared_canonical

__all__ = [
    "FORMER_HOME",
    "canonical",
    "canonical_text",
    "file_digest",
    "fingerprint",
    "fixed_meaning",
    "type_name",
]

#: (current, former) module prefix of this package's types: fingerprints name them
#: by the former one, which is what folders written before the move hold.
FORMER_HOME = ("waste_harmony.batch.", "waste_harmony.experiments.")


def type_name(value: Any) -> str:
    """``module.qualname`` of a class, function or object's type, as fingerprints name it.

    Types of :mod:`waste_harmony.batch` keep the path they had when they lived in
    :mod:`waste_harmony.experiments` (:data:`FORMER_HOME`), so a folder written
    before the move resumes.

    Examples
    --------
    >>> from waste_harmony.batch.plan import Branch
    >>> type_name(Branch)
    'waste_harmony.experiments.plan.Branch'
    >>> type_name(len)
    'builtins.len'
    """
    name = qualified_name(value)
    current, former = FORMER_HOME
    return former + name.removeprefix(current) if name.startswith(current) else name


def file_digest(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A file identified by its content (SHA-256), or by its absolute path if unreadable.

    Parameters
    ----------
    path : path
        The file.

    Returns
    -------
    dict
        ``{"file_sha256": ...}`` or ``{"path": <resolved absolute path>}``.
    """
    file = Path(path).expanduser()
    try:
        digest = hashlib.sha256()
        with file.open("rb") as fh:
            for block in iter(functools.partial(fh.read, 1 << 20), b""):
                digest.update(block)
        return {"file_sha256": digest.hexdigest()}
    except OSError:
        return {"path": str(file.resolve())}


def _run_config(config: Any) -> dict[str, Any]:
    city = config.city
    return {
        "run_config": {
            "citizens": config.citizens,
            "days": config.days,
            "seed": config.seed,
            "city": {
                "generator": city.generator
                if city.graphml is None and city.file is None and city.osm is None
                else None,
                "options": canonical(city.options),
                "graphml": None if city.graphml is None else file_digest(city.graphml),
                "file": None if city.file is None else file_digest(city.file),
                "osm": None if city.osm is None else file_digest(city.osm),
            },
            "parameters": canonical(config.parameters),
            "scenarios": canonical(config.scenarios),
            "neighborhoods": config.output.neighborhoods,
        }
    }


def _is_run_config(value: Any) -> bool:
    # duck-typed: waste_harmony.config sits above the experiments layer
    return all(hasattr(value, a) for a in ("build_model", "city", "output", "scenarios"))


def canonical(value: Any, _depth: int = 0) -> Any:
    """Plain JSON data standing for ``value``'s meaning (see the module docstring).

    The shared form of :func:`waste_harmony.canonical.canonical` (scalars, arrays,
    mappings, sequences, sets, graphs), extended to what an experiment is made of:
    files by their content, run files, model factories, functions and classes by
    name, dataclasses and other objects by their fields.

    Parameters
    ----------
    value : object
        Anything an experiment is made of.

    Returns
    -------
    object
        JSON-serialisable data; equal for equal meanings.

    Examples
    --------
    >>> import numpy as np
    >>> canonical({"b": np.float64(0.5), "a": (1, 2)}) == canonical({"a": [1, 2], "b": 0.5})
    True
    """
    return shared_canonical(value, _extend, _depth)


def _extend(value: Any, deeper: int) -> Any:
    """Canonical data of what the shared form does not know (see :func:`canonical`)."""
    if isinstance(value, os.PathLike):
        return file_digest(value)
    if _is_run_config(value):
        return _run_config(value)
    if isinstance(value, ConfigFactory):
        return {"factory": "RunConfig", "config": _run_config(value.config)}
    if isinstance(value, functools.partial):
        return {
            "partial": canonical(value.func, deeper),
            "args": canonical(value.args, deeper),
            "keywords": canonical(value.keywords, deeper),
        }
    if isinstance(
        value,
        type | types.FunctionType | types.BuiltinFunctionType | types.MethodType,
    ):
        name = type_name(value)
        if isinstance(value, types.MethodType):
            return {"method": name, "of": canonical(value.__self__, deeper)}
        return {"callable": name}
    if dataclasses.is_dataclass(value):
        return {
            "type": type_name(value),
            "fields": {
                f.name: canonical(getattr(value, f.name, None), deeper)
                for f in dataclasses.fields(value)
                if f.init
            },
        }
    state = getattr(value, "__dict__", None)
    if isinstance(state, dict):
        return {"type": type_name(value), "state": canonical(state, deeper)}
    return {"type": type_name(value), "repr": repr(value)}


def _defaults(factory: Any) -> dict[str, Any]:
    """Keyword defaults of ``factory``, and of the model parameters if it is a model."""
    defaults: dict[str, Any] = {}
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        return defaults
    for name, p in signature.parameters.items():
        if p.default is not inspect.Parameter.empty and p.kind in (
            inspect.Parameter.KEYWORD_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        ):
            defaults[name] = p.default
    from waste_harmony.model import CityModel

    if isinstance(factory, type) and issubclass(factory, CityModel):
        from waste_harmony.parameters import Parameters

        for spec in Parameters.specs():
            defaults.setdefault(spec.name, spec.default)
    return defaults


def fixed_meaning(factory: Any, fixed: Mapping[str, Any]) -> dict[str, Any]:
    """A model's fixed keyword arguments as they mean, for :func:`fingerprint`.

    Arguments equal to the factory's defaults are left out, float model parameters
    given as whole numbers become floats, and ``scenarios="name"`` becomes
    ``["name"]``, so spellings of one experiment resume each other.

    Parameters
    ----------
    factory : callable
        What builds the model (``CityModel``, a subclass or a factory).
    fixed : mapping
        Its fixed keyword arguments.

    Returns
    -------
    dict
        The arguments that differ from the defaults, normalised.

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> fixed_meaning(CityModel, {"scenarios": [], "waste_cv": 1, "n_citizens": 10_000})
    {'waste_cv': 1.0}
    >>> fixed_meaning(CityModel, {"scenarios": "techcore"})
    {'scenarios': ['techcore']}
    """
    defaults = _defaults(factory)
    kinds: dict[str, str] = {}
    from waste_harmony.model import CityModel

    if isinstance(factory, type) and issubclass(factory, CityModel):
        from waste_harmony.parameters import Parameters

        kinds = {spec.name: spec.kind for spec in Parameters.specs()}
    meaning: dict[str, Any] = {}
    for name, value in fixed.items():
        whole = isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)
        if kinds.get(name) == "float" and whole:
            value = float(value)
        if name == "scenarios" and isinstance(value, str):
            value = [value]
        if name in defaults and canonical(value) == canonical(defaults[name]):
            continue
        meaning[name] = value
    return meaning


def canonical_text(*parts: Any) -> str:
    """The canonical JSON text of ``parts`` (what :func:`fingerprint` hashes).

    Examples
    --------
    >>> canonical_text({"b": 1, "a": 2})
    '[{"a":2,"b":1}]'
    """
    return json.dumps(
        [canonical(part) for part in parts],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def fingerprint(*parts: Any) -> str:
    """A stable hash of an experiment's meaning (for resuming safely).

    Parameters
    ----------
    *parts
        The experiment's kind, factory, fixed keyword arguments, days, runs, branch...

    Returns
    -------
    str
        32 hex digits of the SHA-256 of :func:`canonical_text`.

    Examples
    --------
    >>> fingerprint("sweep", {"a": 1, "b": 2}) == fingerprint("sweep", {"b": 2, "a": 1})
    True
    >>> fingerprint("sweep", {"a": 1}) == fingerprint("sweep", {"a": 2})
    False
    """
    return hashlib.sha256(canonical_text(*parts).encode()).hexdigest()[:32]
