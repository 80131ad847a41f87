"""Checking an experiment before it runs: every problem at once, and what can be sent.

:func:`check_plan` looks at the whole plan — parameter names and values, joint
constraints, scenario parameters, scenario days against the run length, the city —
and raises one error naming every problem, before the first run starts.
:func:`check_sendable` explains what in a task cannot be pickled to a worker.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
import re
import sys
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from waste_harmony.batch.plan import ConfigFactory, Task, accepts_days
from waste_harmony.config import with_path

__all__ = ["check_plan", "check_sendable"]


def _walk(value: Any, depth: int = 0) -> Iterable[Any]:
    yield value
    if depth > 4:
        return
    if isinstance(value, Mapping):
        for v in value.values():
            yield from _walk(v, depth + 1)
    elif isinstance(value, list | tuple | set | frozenset):
        for v in value:
            yield from _walk(v, depth + 1)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _walk(getattr(value, f.name, None), depth + 1)


def check_sendable(task: Task) -> None:
    """Check that a task can be sent to a spawned worker process; explain if not.

    Parameters
    ----------
    task : Task
        A task of the experiment.

    Raises
    ------
    TypeError
        If it refers to something defined in an interactive ``__main__`` (a notebook
        or the interactive interpreter), or cannot be pickled at all.
    """
    main = sys.modules.get("__main__")
    interactive = main is None or not getattr(main, "__file__", None)
    if interactive:
        for obj in _walk([task.factory, task.fixed, task.parameters, task.branch]):
            target = obj if isinstance(obj, type | types.FunctionType) else type(obj)
            if getattr(target, "__module__", None) == "__main__":
                name = getattr(target, "__qualname__", repr(target))
                raise TypeError(
                    f"{name} is defined in __main__ (a notebook or interactive session), so "
                    "worker processes cannot import it. Move it into a module (for example "
                    "my_model.py next to the notebook) and import it from there, or run "
                    "with executor='serial' (one process) or a Dask client "
                    "(executor=client), which sends notebook classes by value."
                )
    try:
        pickle.dumps(task, protocol=5)
    except Exception as exc:
        raise TypeError(
            f"this experiment cannot be sent to worker processes: {exc}. Use model classes, "
            "factory functions, scenarios and interventions defined at the top level of an "
            "importable module (not lambdas or functions defined inside other functions), or "
            "run with executor='serial'."
        ) from exc


def _model_keywords(factory: Callable[..., Any]) -> set[str]:
    """Named keyword arguments of CityModel and of ``factory`` (a subclass)."""
    from waste_harmony.model import CityModel

    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    keys: set[str] = set()
    for target in (CityModel, factory):
        try:
            signature = inspect.signature(target)
        except (TypeError, ValueError):
            continue
        keys |= {n for n, p in signature.parameters.items() if p.kind in named}
    return keys - {"rng"}


def _argument_problems(
    factory: Callable[..., Any],
    kwargs: Mapping[str, Any],
    model_keys: set[str],
    registry: Mapping[str, Any],
) -> list[str]:
    """Every problem of one run's keyword arguments that can be found without building."""
    from waste_harmony.parameters import Parameters, violations
    from waste_harmony.paramspec import unknown_keyword

    params = Parameters.names()
    found: list[str] = []
    values = {k: v for k, v in kwargs.items() if k in params}
    if isinstance(factory, ConfigFactory):
        config = factory.config
        if any(s not in registry for s in config.scenarios):
            # code references ('pkg.mod:Class', 'ban.py:Ban'), relative to the run file
            from waste_harmony.scenarios import scenario_class

            base = config.source.parent if config.source is not None else None
            registry = {
                **registry,
                **{
                    s: scenario_class(s, base_dir=base)
                    for s in config.scenarios
                    if s not in registry
                },
            }
        dotted = [
            f"scenarios.{s}.{f.name}"
            for s in config.scenarios
            for f in registry[s].parameter_fields()
        ]
        valid = [*params, *model_keys, "citizens", *dotted]
        values = {**config.parameters, **values}
        for name, base in config.scenarios.items():
            prefix = f"scenarios.{name}."
            mine = {k[len(prefix) :]: v for k, v in kwargs.items() if k.startswith(prefix)}
            merged = dict(base)
            for path, value in mine.items():  # a nested path (policy.set.x) sets one leaf
                merged = with_path(merged, path, value)
            if mine:
                found += registry[name].violations(merged)
    else:
        valid = [*params, *model_keys]

    def known(key: str) -> bool:
        # a scenario parameter's nested leaf (scenarios.policy.set.x) counts as its field
        return key in valid or any(key.startswith(f"{v}.") for v in valid if "." in v)

    found += [unknown_keyword(k, valid) for k in kwargs if not known(k)]
    found += violations(values)
    return found


def check_plan(
    factory: Callable[..., Any],
    points: Sequence[Mapping[str, Any]],
    fixed: Mapping[str, Any],
    days: int,
) -> None:
    """Refuse an experiment with any mistake in its plan, before the first run.

    For :class:`~waste_harmony.CityModel` (and subclasses) and run files, every
    point's names and values are checked (unknown names, kinds, ranges, joint
    constraints), then one model is built in this process for each distinct set of
    non-parameter arguments (city, scenarios, citizens), with ``days``: that checks
    the city, the scenario set and every scenario day against the run's length.
    Other factories validate their own arguments in the workers.

    Parameters
    ----------
    factory : callable
        From :func:`resolve_factory`.
    points : sequence of mapping
        Parameter points.
    fixed : mapping
        Keyword arguments shared by all runs.
    days : int
        Days per run.

    Raises
    ------
    ValueError
        Naming every problem found, with the points where it occurs.
    """
    from waste_harmony.model import CityModel
    from waste_harmony.parameters import Parameters

    if not (
        isinstance(factory, ConfigFactory)
        or (isinstance(factory, type) and issubclass(factory, CityModel))
    ):
        return
    from waste_harmony.scenarios import available

    registry = available() if isinstance(factory, ConfigFactory) else {}  # slow: once
    model_keys = _model_keywords(factory)
    where: dict[str, list[int]] = {}
    first: dict[str, str] = {}
    builds: dict[str, tuple[int, dict[str, Any]]] = {}
    for p, point in enumerate(points):
        kwargs = {**fixed, **point}
        found = _argument_problems(factory, kwargs, model_keys, registry)
        for message in found:
            # One entry per rule: a joint constraint failing at many sampled points
            # differs only in the values quoted in parentheses.
            rule = re.sub(r" \([^()]*=[^()]*\)", "", message)
            first.setdefault(rule, message)
            where.setdefault(rule, []).append(p)
        if not found:
            others = [(k, repr(v)) for k, v in kwargs.items() if k not in Parameters.names()]
            shape = repr(sorted(others))
            builds.setdefault(shape, (p, kwargs))
    for p, kwargs in builds.values():
        try:
            if accepts_days(factory) and "days" not in kwargs:
                kwargs = {**kwargs, "days": days}
            factory(rng=0, **copy.deepcopy(kwargs))  # scenarios bind to their model
        except (ValueError, TypeError, KeyError, OSError) as exc:
            first.setdefault(str(exc), str(exc))
            where.setdefault(str(exc), []).append(p)
    if not where:
        return
    n = len(points)

    def at(ps: list[int]) -> str:
        if n == 1:
            return ""
        if len(ps) == n:
            return " (at every point)"
        shown = ", ".join(str(p) for p in ps[:5]) + (", ..." if len(ps) > 5 else "")
        return f" (at point{'s' if len(ps) > 1 else ''} {shown} of {n})"

    listing = "; ".join(f"{first[rule]}{at(ps)}" for rule, ps in where.items())
    raise ValueError(
        f"the experiment was not started: {len(where)} problem{'s' if len(where) > 1 else ''} "
        f"in its plan: {listing}"
    )
