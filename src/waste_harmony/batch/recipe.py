"""Plans that know their recipe: the i-th run computed by index, never a list of runs.

A sweep of 1,000 × 1,000 grid values is 10^6 runs. Listing them (one dict each, with
its id, seed and parameters) took the experiment's process 1.6 GB and 14 minutes
before the first run started, and wrote a 196 MB ``experiment.json``. A
:class:`Plan` instead holds what the sweep file says — the grid's values (or the
explicit points), the number of replicates or the explicit seeds, the root seed —
and computes run ``i``'s point, replicate, id and seed from ``i`` alone
(:meth:`Plan.entry`): its size in memory and in ``experiment.json`` (:meth:`Plan.recipe`)
does not grow with the number of runs of a grid.

Run ``i`` is point ``i // replicates``, replicate ``i % replicates``; a grid's point
``p`` is the mixed-radix digits of ``p`` over its value lists, the last name fastest
(:func:`itertools.product` order). Seeds are spawned by index
(:func:`~waste_harmony.batch.seeds.spawned_seed`), so every run's seed is the one a
listed plan gives it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from waste_harmony.batch.limits import check_plan_size
from waste_harmony.batch.seeds import check_seeds, spawned_seed

__all__ = [
    "GridPoints",
    "ListedRuns",
    "Plan",
    "PointList",
    "as_points",
    "column_kinds",
    "grid",
    "latin_hypercube",
    "make_plan",
    "runs_of",
]


@dataclass(frozen=True)
class GridPoints:
    """Every combination of some parameters' values, point ``p`` computed from ``p``.

    Attributes
    ----------
    names : tuple of str
        The swept parameters, in order (the last varies fastest).
    values : tuple of tuple
        Each parameter's values.

    Examples
    --------
    >>> g = GridPoints.of({"a": [1, 2], "b": ["x", "y", "z"]})
    >>> len(g), g[4], list(g)[4]
    (6, {'a': 2, 'b': 'y'}, {'a': 2, 'b': 'y'})
    """

    names: tuple[str, ...]
    values: tuple[tuple[Any, ...], ...]

    @classmethod
    def of(cls, parameters: Mapping[str, Iterable[Any]]) -> GridPoints:
        """The grid of ``parameters`` (name → values), each a non-empty list.

        Raises
        ------
        TypeError
            If a parameter's values are not a list.
        ValueError
            If a parameter has no values.
        """
        names = list(parameters)
        for name in names:
            values = parameters[name]
            if isinstance(values, str | bytes) or not isinstance(values, Iterable):
                raise TypeError(f"grid values for {name!r} must be a list, got {values!r}")
        lists = tuple(tuple(parameters[name]) for name in names)
        for name, values in zip(names, lists, strict=True):
            if not values:
                raise ValueError(f"grid values for {name!r} are empty; give at least one value")
        return cls(tuple(names), lists)

    def __len__(self) -> int:
        return math.prod(len(v) for v in self.values)

    def digits(self, p: int) -> tuple[int, ...]:
        """The index of each parameter's value at point ``p``."""
        if not 0 <= p < len(self):
            raise IndexError(f"point {p} is not in a grid of {len(self):,} points")
        out = []
        for values in reversed(self.values):
            p, k = divmod(p, len(values))
            out.append(k)
        return tuple(reversed(out))

    def index(self, digits: Sequence[int]) -> int:
        """The point whose parameters take values ``digits`` (the inverse of :meth:`digits`)."""
        p = 0
        for values, k in zip(self.values, digits, strict=True):
            p = p * len(values) + k
        return p

    def __getitem__(self, p: int) -> dict[str, Any]:
        digits = self.digits(p)
        return {n: v[k] for n, v, k in zip(self.names, self.values, digits, strict=True)}

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for combo in itertools.product(*self.values):
            yield dict(zip(self.names, combo, strict=True))

    def recipe(self) -> dict[str, Any]:
        """JSON data that rebuilds the grid (:func:`as_points`), keeping the names' order."""
        return {"grid": [[n, list(v)] for n, v in zip(self.names, self.values, strict=True)]}

    def meaning(self) -> dict[str, Any]:
        """What the grid's points are, for fingerprints.

        A parameter of one value is not part of the order: it sits anywhere in the
        grid without changing a point.

        Examples
        --------
        >>> a = GridPoints.of({"x": [1, 2], "y": [5]})
        >>> a.meaning() == GridPoints.of({"y": [5], "x": [1, 2]}).meaning()
        True
        """
        varied = [[n, list(v)] for n, v in zip(self.names, self.values, strict=True) if len(v) > 1]
        same = {n: v[0] for n, v in zip(self.names, self.values, strict=True) if len(v) == 1}
        return {"grid": varied, "same": same}

    def columns(self) -> dict[str, str]:
        """The column kind of each parameter (:func:`column_kinds` over its values)."""
        return column_kinds(
            [{n: v} for n, vs in zip(self.names, self.values, strict=True) for v in vs]
        )


@dataclass(frozen=True)
class PointList:
    """Explicit parameter points (a design such as a Latin hypercube), kept as given.

    Examples
    --------
    >>> points = PointList(({"a": 1.0}, {"a": 2.5}))
    >>> len(points), points[1], PointList.from_recipe(points.recipe()) == points
    (2, {'a': 2.5}, True)
    """

    points: tuple[dict[str, Any], ...]

    def __len__(self) -> int:
        return len(self.points)

    def __getitem__(self, p: int) -> dict[str, Any]:
        return dict(self.points[p])

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (dict(p) for p in self.points)

    def recipe(self) -> dict[str, Any]:
        """JSON data that rebuilds the points: one list of values per parameter."""
        names = list(self.points[0]) if self.points else []
        if all(list(p) == names for p in self.points):  # columns: no key repeated per point
            columns = [[p[n] for p in self.points] for n in names]
            return {"n": len(self.points), "names": names, "columns": columns}
        return {"points": [dict(p) for p in self.points]}

    @classmethod
    def from_recipe(cls, recipe: Mapping[str, Any]) -> PointList:
        """The points :meth:`recipe` describes."""
        if "points" in recipe:
            return cls(tuple(dict(p) for p in recipe["points"]))
        names, columns = recipe["names"], recipe["columns"]
        if not names:  # an ensemble's one empty point (or several)
            return cls(tuple({} for _ in range(int(recipe["n"]))))
        return cls(tuple(dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)))

    def columns(self) -> dict[str, str]:
        """The column kind of each parameter (:func:`column_kinds`)."""
        return column_kinds(self.points)


Points = GridPoints | PointList


def as_points(points: Any) -> GridPoints | PointList:
    """Points of a plan: a :class:`GridPoints`, a :class:`PointList`, or a list of dicts.

    Also rebuilds points from their :meth:`~GridPoints.recipe`.
    """
    if isinstance(points, GridPoints | PointList):
        return points
    if isinstance(points, Mapping):  # a recipe
        if "grid" in points:
            return GridPoints(
                tuple(n for n, _ in points["grid"]), tuple(tuple(v) for _, v in points["grid"])
            )
        return PointList.from_recipe(points)
    return PointList(tuple(dict(p) for p in points))


@dataclass(frozen=True)
class Plan:
    """The runs of an experiment, each computed from its index (see the module docstring).

    Attributes
    ----------
    points : GridPoints or PointList
        Parameter points (one empty point for an ensemble).
    replicates : int
        Replicates per point.
    seeds : tuple of int or None
        Explicit seeds (one per replicate), or ``None`` to spawn them from ``root_seed``.
    root_seed : int
        Root of the spawned seeds.
    common_random_numbers : bool
        Replicate ``r`` has the same seed at every point (else every run its own).
    labels : tuple of str or None
        One label per point: run ids ``<label>-r<replicate>`` (comparisons).
    branched : bool
        Each entry makes two runs, ``baseline-r<replicate>`` and ``variant-r<replicate>``.

    Examples
    --------
    >>> plan = Plan.of(GridPoints.of({"a": [1, 2]}), 2, root_seed=0)
    >>> len(plan), plan.entry(3)["run_id"], plan.entry(3)["parameters"]
    (4, 'p0001-r0001', {'a': 2})
    >>> plan.entry(0)["seed"] == plan.entry(2)["seed"] != plan.entry(1)["seed"]
    True
    >>> Plan.from_recipe(plan.recipe()) == plan
    True
    """

    points: GridPoints | PointList
    replicates: int
    seeds: tuple[int, ...] | None
    root_seed: int
    common_random_numbers: bool = True
    labels: tuple[str, ...] | None = None
    branched: bool = False

    @classmethod
    def of(
        cls,
        points: Any,
        seeds: int | Sequence[int],
        root_seed: int,
        *,
        common_random_numbers: bool = True,
        labels: Sequence[str] | None = None,
        branched: bool = False,
    ) -> Plan:
        """A checked plan: ``points`` × ``seeds`` (a number of replicates or explicit seeds).

        Raises
        ------
        TypeError, ValueError
            For bad seeds (:func:`~waste_harmony.batch.seeds.check_seeds`), no points,
            or explicit seeds without common random numbers.
        """
        replicates, explicit = check_seeds(seeds)
        points = as_points(points)
        if len(points) == 0:
            raise ValueError("no parameter points to run")
        if explicit is not None and not common_random_numbers:
            raise ValueError(
                "explicit seeds cannot be combined with "
                "common_random_numbers=False; give a number of replicates"
            )
        if labels is not None and len(labels) != len(points):
            raise ValueError(f"{len(labels)} labels for {len(points)} points; give one per point")
        return cls(
            points,
            replicates,
            explicit,
            int(root_seed),
            common_random_numbers,
            None if labels is None else tuple(labels),
            branched,
        )

    def __len__(self) -> int:
        return len(self.points) * self.replicates

    @property
    def n_points(self) -> int:
        """Number of parameter points."""
        return len(self.points)

    @property
    def n_runs(self) -> int:
        """Number of runs (two per entry when branched)."""
        return len(self) * (2 if self.branched else 1)

    def seed(self, point: int, replicate: int) -> int:
        """The seed of ``replicate`` at ``point``."""
        if self.seeds is not None:
            return self.seeds[replicate]
        index = replicate if self.common_random_numbers else point * self.replicates + replicate
        return spawned_seed(self.root_seed, index)

    def entry(self, i: int) -> dict[str, Any]:
        """Entry ``i``: ``run_id``, ``point``, ``replicate``, ``seed``, ``parameters``."""
        if not 0 <= i < len(self):
            raise IndexError(f"run {i} is not in a plan of {len(self):,} runs")
        p, r = divmod(i, self.replicates)
        return {
            "run_id": f"p{p:04d}-r{r:04d}",
            "point": p,
            "replicate": r,
            "seed": self.seed(p, r),
            "parameters": self.points[p],
        }

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (self.entry(i) for i in range(len(self)))

    def task_labels(self, i: int) -> tuple[str, ...]:
        """Labels of entry ``i``'s runs (empty for a plain sweep)."""
        if self.branched:
            return ("baseline", "variant")
        if self.labels is not None:
            return (self.labels[i // self.replicates],)
        return ()

    def task_ids(self, i: int) -> tuple[str, ...]:
        """Run ids entry ``i`` produces (two for a branched comparison)."""
        p, r = divmod(i, self.replicates)
        labels = self.task_labels(i)
        if not labels:
            return (f"p{p:04d}-r{r:04d}",)
        return tuple(f"{label}-r{r:04d}" for label in labels)

    def runs(self) -> Iterator[dict[str, Any]]:
        """Every run, in plan order, as a row: the entry's keys, its own id and ``label``."""
        for i in range(len(self)):
            entry = self.entry(i)
            labels = self.task_labels(i)
            if not labels:
                yield {**entry, "label": None}
                continue
            for run_id, label in zip(self.task_ids(i), labels, strict=True):
                yield {**entry, "run_id": run_id, "label": label}

    def run_ids(self) -> Iterator[str]:
        """Every run id, in plan order."""
        for i in range(len(self)):
            yield from self.task_ids(i)

    def recipe(self) -> dict[str, Any]:
        """JSON data that rebuilds the plan (:meth:`from_recipe`); what ``experiment.json`` keeps.

        For a grid its size does not depend on the number of runs.
        """
        return {
            "format": 1,
            "points": self.points.recipe(),
            "replicates": self.replicates,
            "seeds": None if self.seeds is None else list(self.seeds),
            "root_seed": self.root_seed,
            "common_random_numbers": self.common_random_numbers,
            "labels": None if self.labels is None else list(self.labels),
            "branched": self.branched,
        }

    def meaning(self) -> dict[str, Any]:
        """The recipe as fingerprints read it (:meth:`GridPoints.meaning`)."""
        points = self.points
        meaning = points.meaning() if isinstance(points, GridPoints) else points.recipe()
        return {**self.recipe(), "points": meaning}

    @classmethod
    def from_recipe(cls, recipe: Mapping[str, Any]) -> Plan:
        """The plan :meth:`recipe` describes."""
        if recipe.get("format") != 1:
            raise ValueError(
                f"this plan was written in format {recipe.get('format')!r}, which this "
                "version of waste-harmony does not read; upgrade waste-harmony"
            )
        seeds, labels = recipe["seeds"], recipe["labels"]
        return cls(
            as_points(recipe["points"]),
            int(recipe["replicates"]),
            None if seeds is None else tuple(int(s) for s in seeds),
            int(recipe["root_seed"]),
            bool(recipe["common_random_numbers"]),
            None if labels is None else tuple(labels),
            bool(recipe["branched"]),
        )


@dataclass(frozen=True)
class ListedRuns:
    """The runs an ``experiment.json`` lists one by one (written before plans had recipes).

    Read-only: offers what :class:`Plan` offers a reader of a results folder.

    Attributes
    ----------
    rows : tuple of dict
        ``run_id``, ``point``, ``replicate``, ``seed``, ``parameters`` (and ``label``).
    """

    rows: tuple[dict[str, Any], ...]

    @property
    def n_runs(self) -> int:
        """Number of runs."""
        return len(self.rows)

    def runs(self) -> Iterator[dict[str, Any]]:
        """Every run, in plan order (``label`` ``None`` when absent)."""
        return ({"label": None, **r} for r in self.rows)

    def run_ids(self) -> Iterator[str]:
        """Every run id, in plan order."""
        return (r["run_id"] for r in self.rows)


def runs_of(manifest: Mapping[str, Any]) -> Plan | ListedRuns:
    """The runs an experiment manifest plans: its recipe's :class:`Plan`, or the old list.

    Examples
    --------
    >>> plan = Plan.of([{}], 3, root_seed=1)
    >>> runs_of({"plan": plan.recipe()}).n_runs, runs_of({"runs": [{"run_id": "a"}]}).n_runs
    (3, 1)
    """
    if manifest.get("plan") is not None:
        return Plan.from_recipe(manifest["plan"])
    return ListedRuns(tuple(manifest.get("runs") or ()))


def grid(parameters: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of parameter values (a full factorial grid), listed.

    A plan keeps a grid as :class:`GridPoints` (never listed); this is the list.

    Parameters
    ----------
    parameters : mapping
        Parameter name → list of values.

    Returns
    -------
    list of dict
        One dict per point, the last parameter varying fastest.

    Examples
    --------
    >>> grid({"a": [1, 2], "b": ["x", "y"]})
    [{'a': 1, 'b': 'x'}, {'a': 1, 'b': 'y'}, {'a': 2, 'b': 'x'}, {'a': 2, 'b': 'y'}]
    """
    return list(GridPoints.of(parameters))


def latin_hypercube(
    ranges: Mapping[str, tuple[float, float]],
    n: int,
    *,
    seed: int | None = None,
    integers: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """``n`` points of a Latin hypercube sample over parameter ranges.

    Parameters
    ----------
    ranges : mapping
        Parameter name → ``(low, high)``.
    n : int
        Number of points.
    seed : int, optional
        Seed of the sample.
    integers : iterable of str
        Parameters rounded to integers.

    Returns
    -------
    list of dict
        One dict per point.

    Examples
    --------
    >>> points = latin_hypercube({"a": (0.0, 1.0), "k": (1, 10)}, 4, seed=0, integers=["k"])
    >>> len(points), all(0 <= p["a"] <= 1 and isinstance(p["k"], int) for p in points)
    (4, True)
    """
    from scipy.stats import qmc

    names = list(ranges)
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    bounds = np.array([ranges[name] for name in names], dtype=float).reshape(len(names), 2)
    if np.any(bounds[:, 0] > bounds[:, 1]):
        bad = names[int(np.argmax(bounds[:, 0] > bounds[:, 1]))]
        raise ValueError(f"range of {bad!r} has low > high: {ranges[bad]}")
    unit = qmc.LatinHypercube(d=len(names), rng=np.random.default_rng(seed)).random(n)
    values = bounds[:, 0] + unit * (bounds[:, 1] - bounds[:, 0])
    rounded = set(integers)
    return [
        {
            name: (round(float(v)) if name in rounded else float(v))
            for name, v in zip(names, row, strict=True)
        }
        for row in values
    ]


def column_kinds(points: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """The column type of each swept parameter over all points.

    Parameters
    ----------
    points : iterable of mapping
        Parameter points.

    Returns
    -------
    dict
        Name → ``"bool"``, ``"int"``, ``"float"``, ``"str"`` or ``"json"``.

    Examples
    --------
    >>> column_kinds([{"a": 1, "b": "x"}, {"a": 2.5, "c": True}])
    {'a': 'float', 'b': 'str', 'c': 'bool'}
    """
    kinds: dict[str, set[str]] = {}
    for point in points:
        for name, value in point.items():
            if isinstance(value, bool | np.bool_):
                kind = "bool"
            elif isinstance(value, int | np.integer):
                kind = "int"
            elif isinstance(value, float | np.floating):
                kind = "float"
            elif isinstance(value, str):
                kind = "str"
            else:
                kind = "json"
            kinds.setdefault(name, set()).add(kind)
    result = {}
    for name, found in kinds.items():
        if len(found) == 1:
            result[name] = found.pop()
        elif found <= {"int", "float"}:
            result[name] = "float"
        else:
            result[name] = "json"
    return result


def make_plan(
    points: Sequence[Mapping[str, Any]],
    seeds: int | Sequence[int],
    root_seed: int,
    *,
    common_random_numbers: bool = True,
) -> list[dict[str, Any]]:
    """The runs of an experiment listed: every point × every replicate, with its seed.

    The list of :class:`Plan` (whose entries are computed by index); for small plans
    and code that wants a list.

    Parameters
    ----------
    points : sequence of mapping
        Parameter points (``[{}]`` for an ensemble).
    seeds : int or sequence of int
        Number of replicates (seeds spawned from ``root_seed``) or explicit seeds.
    root_seed : int
        Root seed.
    common_random_numbers : bool
        Replicate ``r`` uses the same seed at every point (default), so differences
        between points are not blurred by different random draws; otherwise every
        run gets its own seed.

    Returns
    -------
    list of dict
        ``run_id``, ``point``, ``replicate``, ``seed``, ``parameters``.

    Examples
    --------
    >>> plan = make_plan([{"a": 1}, {"a": 2}], 2, root_seed=0)
    >>> [r["run_id"] for r in plan]
    ['p0000-r0000', 'p0000-r0001', 'p0001-r0000', 'p0001-r0001']
    >>> plan[0]["seed"] == plan[2]["seed"] != plan[1]["seed"]
    True
    """
    plan = Plan.of(points, seeds, root_seed, common_random_numbers=common_random_numbers)
    check_plan_size(plan.n_points, plan.replicates)
    return list(plan)
