"""The scenario registry: built-in scenarios plus third-party entry points.

Third-party packages register scenarios under the entry point group
``waste_harmony.scenarios`` (``name = "package.module:ScenarioClass"``). Plug-ins
are loaded defensively, as networkx loads its backends: a plug-in that fails to
import or is not a :class:`Scenario` subclass produces a warning and is skipped,
never breaking ``import waste_harmony``; a duplicate name warns and the first
registration wins.
"""

from __future__ import annotations

import difflib
import warnings
from importlib.metadata import entry_points

from waste_harmony.scenarios.base import Scenario

__all__ = ["ENTRY_POINT_GROUP", "ScenarioSpec", "available", "register", "resolve"]

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
    """
    if not (isinstance(cls, type) and issubclass(cls, Scenario)) or not cls.name:
        raise TypeError(f"{cls!r} is not a Scenario subclass with a name")
    existing = _BUILTIN.get(cls.name)
    if existing is not None and existing is not cls:
        raise ValueError(f"scenario name {cls.name!r} is already registered by {existing!r}")
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


def resolve(spec: ScenarioSpec) -> Scenario:
    """Turn a scenario given as instance, class or name into an instance.

    Parameters
    ----------
    spec : Scenario, type or str
        A scenario instance, a Scenario subclass (instantiated with defaults), or a
        registered name.

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
        registry = available()
        if spec in registry:
            return registry[spec]()
        close = difflib.get_close_matches(spec, registry, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"unknown scenario {spec!r}.{hint} Available scenarios: {', '.join(sorted(registry))}"
        )
    raise TypeError(
        f"a scenario must be a Scenario instance, class or registered name, got {spec!r}"
    )
