"""The scenario registry: built-in scenarios plus third-party entry points.

Third-party packages register scenarios under the entry point group
``waste_harmony.scenarios`` (``name = "package.module:ScenarioClass"``). Plug-ins
are loaded defensively, as networkx loads its backends: a plug-in that fails to
import or is not a :class:`Scenario` subclass produces a warning and is skipped,
never breaking ``import waste_harmony``; a duplicate name warns and the first
registration wins.

Scenarios of one's own need no packaging: everywhere a scenario name is accepted
(Python, ``--scenario`` on the command line, ``[scenarios."…"]`` in run and sweep
files) a reference ``package.module:Class`` or ``path/to/file.py:Class`` works too
(:func:`scenario_class`). Loading it runs that code, as ``import`` would.
"""

from __future__ import annotations

import difflib
import os
import warnings
from importlib.metadata import entry_points

from waste_harmony.references import is_reference, load_module
from waste_harmony.scenarios.base import Scenario

__all__ = [
    "ENTRY_POINT_GROUP",
    "ScenarioSpec",
    "available",
    "is_reference",
    "register",
    "resolve",
    "scenario_class",
]

ENTRY_POINT_GROUP = "waste_harmony.scenarios"

#: A scenario as users give it: an instance, a :class:`Scenario` subclass or a registered name.
ScenarioSpec = Scenario | type[Scenario] | str

_BUILTIN: dict[str, type[Scenario]] = {}


def register(cls: type[Scenario]) -> type[Scenario]:
    """Register a built-in (or in-process) scenario class; usable as a decorator.

    Parameters
    ----------
    cls : type
        A :class:`Scenario` subclass with a non-empty ``name``.

    Returns
    -------
    type
        ``cls`` unchanged.

    Raises
    ------
    TypeError
        If ``cls`` is not a named Scenario subclass.
    ValueError
        If another class already uses the name.

    Warns
    -----
    UserWarning
        When the class redefines the registered one (same module and qualified
        name, as when a notebook cell runs again): the new class replaces it.
    """
    if not (isinstance(cls, type) and issubclass(cls, Scenario)) or not cls.name:
        raise TypeError(f"{cls!r} is not a Scenario subclass with a name")
    existing = _BUILTIN.get(cls.name)
    if existing is not None and existing is not cls:
        redefined = (existing.__module__, existing.__qualname__) == (
            cls.__module__,
            cls.__qualname__,
        )
        if not redefined:
            raise ValueError(
                f"scenario name {cls.name!r} is already registered by {existing!r}; "
                "choose another name"
            )
        warnings.warn(
            f"scenario {cls.name!r} is redefined ({cls.__module__}.{cls.__qualname__}); "
            "the new class replaces the old one",
            UserWarning,
            stacklevel=2,
        )
    _BUILTIN[cls.name] = cls
    return cls


def _plugins() -> dict[str, type[Scenario]]:
    found: dict[str, type[Scenario]] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            cls = ep.load()
        except Exception as exc:
            warnings.warn(
                f"skipping scenario plug-in {ep.name!r} ({ep.value}): it failed to load: {exc!r}",
                RuntimeWarning,
                stacklevel=3,
            )
            continue
        if not (isinstance(cls, type) and issubclass(cls, Scenario)):
            warnings.warn(
                f"skipping scenario plug-in {ep.name!r} ({ep.value}): not a "
                "waste_harmony.scenarios.Scenario subclass",
                RuntimeWarning,
                stacklevel=3,
            )
            continue
        name = cls.name or ep.name
        if name in found or name in _BUILTIN:
            warnings.warn(
                f"scenario plug-in {ep.value} reuses the name {name!r}; keeping "
                "the first registration",
                RuntimeWarning,
                stacklevel=3,
            )
            continue
        found[name] = cls
    return found


def available() -> dict[str, type[Scenario]]:
    """Every registered scenario: name → class, built-ins first, then plug-ins.

    Returns
    -------
    dict
        Name → Scenario subclass.

    Examples
    --------
    >>> "techcore" in available() and "harmony-festival" in available()
    True
    """
    return {**_BUILTIN, **_plugins()}


def scenario_class(spec: str, *, base_dir: str | os.PathLike[str] | None = None) -> type[Scenario]:
    """The scenario class a name or code reference stands for.

    Parameters
    ----------
    spec : str
        A registered name (``"techcore"``), an importable reference
        (``"package.module:Class"``) or a file reference
        (``"path/to/file.py:Class"``). A reference runs that code, as ``import``
        does: use only code you trust.
    base_dir : str or os.PathLike, optional
        Folder a relative file path is resolved against (run and sweep files
        pass their own folder); default: the current directory.

    Returns
    -------
    type
        The :class:`Scenario` subclass.

    Raises
    ------
    ValueError
        For an unknown name (listing the available ones and the closest match), a
        missing file or module, or a class the module lacks.
    TypeError
        If the reference names something that is not a Scenario subclass.

    Examples
    --------
    >>> scenario_class("techcore").__name__
    'TechCoreProposal'
    >>> scenario_class("waste_harmony.scenarios.festival:HarmonyFestival").name
    'harmony-festival'
    """
    if not isinstance(spec, str):
        raise TypeError(f"a scenario name must be a string, got {spec!r}")
    if spec in _BUILTIN:
        # Built-ins win over plug-ins of the same name (see _plugins), so a built-in
        # needs no look at the plug-ins: reading their entry points opens the metadata
        # of every installed distribution (~10 ms), for each name each model resolves.
        return _BUILTIN[spec]
    if not is_reference(spec):
        registry = available()
        if spec in registry:
            return registry[spec]
        close = difflib.get_close_matches(spec, registry, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"unknown scenario {spec!r}.{hint} Available scenarios: {', '.join(sorted(registry))}; "
            "or give your own class as 'package.module:Class' or 'path/to/file.py:Class'"
        )
    where, _, attribute = spec.rpartition(":")
    if not where or not attribute:
        raise ValueError(
            f"scenario reference {spec!r} must look like 'package.module:Class' or "
            "'path/to/file.py:Class'"
        )
    try:
        module = load_module(where, spec=spec, base_dir=base_dir)
    except ValueError as exc:
        raise ValueError(f"scenario {exc}") from exc
    cls = getattr(module, attribute, None)
    if cls is None:
        found = [
            n
            for n, v in vars(module).items()
            if isinstance(v, type) and issubclass(v, Scenario) and v is not Scenario
        ]
        raise ValueError(
            f"scenario reference {spec!r}: {where} has no {attribute!r}; "
            f"its scenario classes: {', '.join(found) or 'none'}"
        )
    if not (isinstance(cls, type) and issubclass(cls, Scenario)):
        raise TypeError(f"scenario reference {spec!r} names {cls!r}, not a Scenario subclass")
    return cls


def resolve(spec: ScenarioSpec) -> Scenario:
    """Turn a scenario given as instance, class or name into an instance.

    Parameters
    ----------
    spec : Scenario, type or str
        A scenario instance, a Scenario subclass (instantiated with defaults), a
        registered name or a code reference (see :func:`scenario_class`).

    Returns
    -------
    Scenario
        The instance.

    Raises
    ------
    ValueError
        For an unknown name (listing the available ones and the closest match).
    TypeError
        For anything else.
    """
    if isinstance(spec, Scenario):
        return spec
    if isinstance(spec, type) and issubclass(spec, Scenario):
        return spec()
    if isinstance(spec, str):
        return scenario_class(spec)()
    raise TypeError(
        f"a scenario must be a Scenario instance, class or registered name, got {spec!r}"
    )
