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
import itertools
import math
import pickle
import re
import sys
import time
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from waste_harmony.batch.plan import ConfigFactory, Task, accepts_days
from waste_harmony.batch.recipe import GridPoints, as_points
from waste_harmony.config import with_path

__all__ = [
    "Finding",
    "Progress",
    "check_plan",
    "check_sendable",
    "constraint_links",
    "coupled_names",
    "grid_problems",
    "point_problems",
    "rule_of",
]


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


class Progress:
    """A line on standard error while a long check runs: silent if it ends within ``delay``.

    Checking 10^6 explicit points takes minutes; a user should see it advance.

    Parameters
    ----------
    total : int
        Items to check.
    what : str
        What is checked (``"the plan"``).
    show : bool
        Whether to show anything (``False`` with ``--quiet``).
    delay : float
        Seconds before the first line, and between lines.

    Examples
    --------
    >>> progress = Progress(10, "the plan")
    >>> for _ in range(10):
    ...     progress.step()
    >>> progress.close()  # took less than a second: nothing was shown
    """

    def __init__(self, total: int, what: str, *, show: bool = True, delay: float = 1.0) -> None:
        self.total, self.what, self.show, self.delay = total, what, show, delay
        self.done = 0
        self.start = time.monotonic()
        self.next = self.start + delay
        self.shown = False

    def step(self, n: int = 1) -> None:
        """Count ``n`` more items checked; print a line if a second has passed."""
        self.done += n
        if self.show and time.monotonic() >= self.next:
            self._line("\r" if sys.stderr.isatty() else "\n")
            self.next = time.monotonic() + self.delay

    def _line(self, end: str) -> None:
        share = 100 * self.done / max(self.total, 1)
        print(
            f"checking {self.what}: {self.done:,} of {self.total:,} ({share:.0f} %)",
            end=end,
            file=sys.stderr,
            flush=True,
        )
        self.shown = True

    def close(self) -> None:
        """End the line (only if something was shown)."""
        if self.shown:
            seconds = time.monotonic() - self.start
            print(
                f"checking {self.what}: {self.done:,} checked in {seconds:.0f} s",
                file=sys.stderr,
                flush=True,
            )


@dataclass
class Finding:
    """One rule broken somewhere in a plan: its first message, where and how often."""

    message: str
    count: int = 0
    points: list[int] = dataclasses.field(default_factory=list)


def rule_of(message: str) -> str:
    """A problem's rule: its message without the values quoted in parentheses.

    A joint constraint failing at many sampled points differs only in those values.

    Examples
    --------
    >>> rule_of("a <= b does not hold (a=2, b=1); lower a")
    'a <= b does not hold; lower a'
    """
    return re.sub(r" \([^()]*=[^()]*\)", "", message)


def point_problems(
    points: Iterable[Mapping[str, Any]],
    problems: Callable[[Mapping[str, Any]], list[str]],
    progress: Progress,
    clean: Callable[[int, Mapping[str, Any]], None] | None = None,
) -> dict[str, Finding]:
    """Every rule ``problems(point)`` reports over ``points``, one point at a time.

    ``clean(p, point)`` is called for each point without a problem.
    """
    found: dict[str, Finding] = {}
    for p, point in enumerate(points):
        messages = problems(point)
        for message in messages:
            finding = found.setdefault(rule_of(message), Finding(message))
            finding.count += 1
            if len(finding.points) < 5:
                finding.points.append(p)
        if not messages and clean is not None:
            clean(p, point)
        progress.step()
    return found


def coupled_names(names: Sequence[str], constraints: Iterable[Sequence[str]]) -> list[list[str]]:
    """Swept names in groups that must be checked together (a constraint reads them all).

    Parameters
    ----------
    names : sequence of str
        The swept names.
    constraints : iterable of sequence of str
        For each joint constraint, the swept names it reads.

    Returns
    -------
    list of list of str
        Groups covering ``names``, in their order: each name alone unless a
        constraint links it to others.

    Examples
    --------
    >>> coupled_names(["a", "b", "c"], [("a", "c")])
    [['a', 'c'], ['b']]
    """
    group = {name: i for i, name in enumerate(names)}
    for linked in constraints:
        linked = [n for n in linked if n in group]
        for other in linked[1:]:
            old, new = group[other], group[linked[0]]
            for n, g in group.items():
                if g == old:
                    group[n] = new
    out: dict[int, list[str]] = {}
    for name in names:
        out.setdefault(group[name], []).append(name)
    return list(out.values())


def grid_problems(
    grid: GridPoints,
    problems: Callable[[Mapping[str, Any]], list[str]],
    groups: Sequence[Sequence[str]],
    progress: Progress,
) -> tuple[dict[str, Finding], dict[tuple[str, ...], set[tuple[int, ...]]]]:
    """Every rule broken over a grid, checking each group's values, not every point.

    ``problems`` of a point must be the union of ``problems`` of its restrictions to
    the ``groups`` (names no constraint links are checked alone): then a grid of
    1,000 × 1,000 values is checked with 2,000 calls instead of 10^6, and the
    number of points breaking each rule, and the first of them, are still exact.

    Returns
    -------
    (dict, dict)
        Rule → :class:`Finding` (``count`` points, ``points`` the first one); and for
        each group, the value indices (digits) at which it has a problem.
    """
    position = {n: i for i, n in enumerate(grid.names)}
    sizes = {n: len(v) for n, v in zip(grid.names, grid.values, strict=True)}
    failing: dict[str, dict[int, int]] = {}  # rule -> group -> failing combinations
    first: dict[str, tuple[str, int]] = {}  # rule -> (message, first point)
    bad: dict[tuple[str, ...], set[tuple[int, ...]]] = {}
    for g, names in enumerate(groups):
        ranges = [range(sizes[n]) for n in names]
        for digits in itertools.product(*ranges):
            point = {n: grid.values[position[n]][k] for n, k in zip(names, digits, strict=True)}
            found = problems(point)
            if found:
                bad.setdefault(tuple(names), set()).add(digits)
                full = [0] * len(grid.names)
                for n, k in zip(names, digits, strict=True):
                    full[position[n]] = k
                at = grid.index(full)
            for message in found:
                rule = rule_of(message)
                per_group = failing.setdefault(rule, {})
                per_group[g] = per_group.get(g, 0) + 1
                if rule not in first or at < first[rule][1]:
                    first[rule] = (first.get(rule, (message, at))[0], at)
            progress.step()
    total = len(grid)
    out = {}
    for rule, per_group in failing.items():
        passing = 1
        for g, names in enumerate(groups):
            size = math.prod(sizes[n] for n in names)
            passing *= size - per_group.get(g, 0)
        message, at = first[rule]
        out[rule] = Finding(message, total - passing, [at])
    return out, bad


def constraint_links(
    names: Sequence[str], scenarios: Mapping[str, Any] | None = None
) -> list[list[str]]:
    """For each joint constraint, the swept ``names`` it reads (for :func:`coupled_names`).

    Parameters
    ----------
    names : sequence of str
        Swept names: model parameters, ``citizens``, ``scenarios.<name>.<path>``.
    scenarios : mapping, optional
        Scenario name in the run file → its class (whose ``constraints`` name fields).

    Returns
    -------
    list of list of str
        The model's constraints, each scenario's, and the nested paths of one
        scenario field (``scenarios.policy.set.x`` and ``.y``) together.

    Examples
    --------
    >>> links = constraint_links(["initial_concern_mean", "initial_concern_sd", "mobility"])
    >>> coupled_names(["initial_concern_mean", "initial_concern_sd", "mobility"], links)
    [['initial_concern_mean', 'initial_concern_sd'], ['mobility']]
    """
    from waste_harmony.parameters import Parameters

    linked = [list(c.names) for c in Parameters.constraints]
    # longest scenario names first: a name may hold dots ('pkg.mod:Class', 'ban.py:Ban')
    for scenario in sorted(scenarios or {}, key=len, reverse=True):
        prefix = f"scenarios.{scenario}."
        fields: dict[str, list[str]] = {}
        for n in names:
            if n.startswith(prefix):
                fields.setdefault(n[len(prefix) :].split(".")[0], []).append(n)
        linked += list(fields.values())
        for c in getattr((scenarios or {})[scenario], "constraints", ()):
            linked.append([n for f in c.names for n in fields.get(f, [])])
    return linked


def _scenario_classes(factory: Callable[..., Any], registry: Mapping[str, Any]) -> dict[str, Any]:
    """The run file's scenarios by name (code references loaded relative to the file)."""
    if not isinstance(factory, ConfigFactory):
        return {}
    from waste_harmony.scenarios import scenario_class

    config = factory.config
    base = config.source.parent if config.source is not None else None
    return {
        s: registry[s] if s in registry else scenario_class(s, base_dir=base)
        for s in config.scenarios
    }


def check_plan(
    factory: Callable[..., Any],
    points: Any,
    fixed: Mapping[str, Any],
    days: int,
    *,
    progress: bool = False,
) -> None:
    """Refuse an experiment with any mistake in its plan, before the first run.

    For :class:`~waste_harmony.CityModel` (and subclasses) and run files, every
    point's names and values are checked (unknown names, kinds, ranges, joint
    constraints), then one model is built in this process for each distinct set of
    non-parameter arguments (city, scenarios, citizens), with ``days``: that checks
    the city, the scenario set and every scenario day against the run's length.
    Other factories validate their own arguments in the workers.

    A grid (:class:`~waste_harmony.batch.recipe.GridPoints`) is checked once per
    value of each parameter, and once per combination of the parameters a joint
    constraint links (:func:`grid_problems`): 2,000 checks for 1,000 × 1,000 values.

    Parameters
    ----------
    factory : callable
        From :func:`resolve_factory`.
    points : GridPoints, PointList or sequence of mapping
        Parameter points.
    fixed : mapping
        Keyword arguments shared by all runs.
    days : int
        Days per run.
    progress : bool
        Show progress on standard error when checking takes more than a second.

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
    points = as_points(points)
    n = len(points)

    def problems(point: Mapping[str, Any]) -> list[str]:
        return _argument_problems(factory, {**fixed, **point}, model_keys, registry)

    params = Parameters.names()
    # one model per distinct city, scenario set and number of citizens: point -> kwargs
    builds: dict[str, tuple[int, dict[str, Any]]] = {}
    if isinstance(points, GridPoints):
        names = points.names
        size = {x: len(v) for x, v in zip(names, points.values, strict=True)}
        links = constraint_links(names, _scenario_classes(factory, registry))
        groups = coupled_names(names, links)
        check = Progress(
            sum(math.prod(size[x] for x in g) for g in groups), "the plan", show=progress
        )
        found, bad = grid_problems(points, problems, groups, check)
        check.close()
        _grid_builds(points, [x for x in names if x not in params], groups, bad, fixed, builds)
    else:

        def shape(p: int, point: Mapping[str, Any]) -> None:
            kwargs = {**fixed, **point}
            others = [(k, repr(v)) for k, v in kwargs.items() if k not in params]
            builds.setdefault(repr(sorted(others)), (p, kwargs))

        check = Progress(n, "the plan", show=progress)
        found = point_problems(points, problems, check, shape)
        check.close()
    for p, kwargs in builds.values():
        try:
            if accepts_days(factory) and "days" not in kwargs:
                kwargs = {**kwargs, "days": days}
            factory(rng=0, **copy.deepcopy(kwargs))  # scenarios bind to their model
        except (ValueError, TypeError, KeyError, OSError) as exc:
            finding = found.setdefault(str(exc), Finding(str(exc)))
            finding.count += 1
            finding.points.append(p)
    if found:
        _refuse(found, n)


def _grid_builds(
    grid: GridPoints,
    others: list[str],
    groups: Sequence[Sequence[str]],
    bad: Mapping[tuple[str, ...], set[tuple[int, ...]]],
    fixed: Mapping[str, Any],
    builds: dict[str, tuple[int, dict[str, Any]]],
) -> None:
    """One build per combination of a grid's non-parameter values that has no problem.

    Model parameters take their first value: they do not change what is built.
    """
    position = {x: i for i, x in enumerate(grid.names)}
    sub = GridPoints(tuple(others), tuple(grid.values[position[x]] for x in others))
    for q in range(len(sub)):
        digits = dict(zip(others, sub.digits(q), strict=True))
        if any(
            tuple(digits[x] for x in g) in bad.get(tuple(g), ())
            for g in groups
            if all(x in digits for x in g)
        ):
            continue  # this combination has a problem already reported
        full = [digits.get(x, 0) for x in grid.names]
        p = grid.index(full)
        builds[str(q)] = (p, {**fixed, **grid[p]})


def _refuse(found: Mapping[str, Finding], n: int) -> None:
    """Raise one error naming every problem and where it occurs."""

    def at(finding: Finding) -> str:
        if n == 1:
            return ""
        if finding.count >= n:
            return " (at every point)"
        if finding.count > len(finding.points):  # a grid: how many, and the first
            first = finding.points[0]
            return f" (at {finding.count:,} of {n:,} points, the first point {first})"
        ps = finding.points
        shown = ", ".join(str(p) for p in ps[:5]) + (", ..." if finding.count > 5 else "")
        return f" (at point{'s' if finding.count > 1 else ''} {shown} of {n})"

    listing = "; ".join(f"{f.message}{at(f)}" for f in found.values())
    raise ValueError(
        f"the experiment was not started: {len(found)} problem{'s' if len(found) > 1 else ''} "
        f"in its plan: {listing}"
    )
