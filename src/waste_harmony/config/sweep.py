"""Sweep files: a TOML run file plus a ``[sweep]`` table.

A sweep file is a run file (:mod:`waste_harmony.config.run`) whose ``[sweep]`` table
says which runs to make::

    days = 365
    citizens = 10000
    [scenarios.techcore]

    [sweep]
    seeds = 20              # replicates per point (seeds spawned from root_seed)
    root_seed = 1           # default: the file's seed, else 0
    common_random_numbers = true

    [sweep.grid]            # every combination...
    concern_confidence = [0.1, 0.2, 0.3]
    "scenarios.techcore.announce_day" = [30, 90]

    [sweep.sample]          # ...or n points of a Latin hypercube over ranges
    n = 50
    integers = ["citizens"]
    [sweep.sample.ranges]
    bass_q = [0.1, 0.6]

Swept names are model parameters, ``citizens``, or ``scenarios.<name>.<parameter>``
for a scenario installed in the file; a value inside a table parameter of that
scenario in the file is addressed by its dotted path, e.g. a policy's day and
new value (:class:`~waste_harmony.scenarios.Policy`)::

    [scenarios.policy]
    day = 30
    set = { waste_per_capita_kg = 0.629 }

    [sweep.grid]
    "scenarios.policy.day" = [30, 90, 180]
    "scenarios.policy.set.waste_per_capita_kg" = [0.629, 0.555]

``grid`` and ``sample`` may not both be given; with neither, the sweep is an
ensemble over seeds. Every key is validated and errors name its path
(``sweep.grid.concern_confidance``), as in run files; every mistake of the file is
reported at once.

This module sits with the experiments (it plans the points with
:func:`~waste_harmony.experiments.grid` and
:func:`~waste_harmony.experiments.latin_hypercube` of :mod:`waste_harmony.batch`),
above the rest of :mod:`waste_harmony.config`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from waste_harmony.batch.checks import (
    Finding,
    Progress,
    constraint_links,
    coupled_names,
    grid_problems,
    point_problems,
)
from waste_harmony.batch.recipe import GridPoints, PointList, latin_hypercube
from waste_harmony.config.errors import ConfigError
from waste_harmony.config.reader import (
    Key,
    Problems,
    Reading,
    Table,
    flag,
    integer,
    interval,
    join,
    load_file,
    mapping,
    names,
    one_of,
    with_path,
)
from waste_harmony.config.run import RunConfig, read_run_file
from waste_harmony.config.varied import check_name, check_value, varied_names
from waste_harmony.parameters import violations

__all__ = ["SWEEP", "SweepConfig", "load_sweep_file", "parse_sweep_config"]

#: ``[sweep.sample]``: a Latin hypercube over ranges.
SAMPLE = Table(
    (
        Key("n", integer(minimum=1), missing="missing: the number of points, e.g. n = 50"),
        Key(
            "ranges",
            mapping("parameter = [low, high]", empty=False),
            missing="missing: the ranges, e.g. [sweep.sample.ranges] bass_q = [0.1, 0.6]",
        ),
        Key("integers", names, default=[]),
        Key("method", one_of(["lhs"], what="method"), default="lhs"),
    ),
    like="[sweep.sample] n = 50 with [sweep.sample.ranges]",
)

#: ``[sweep]``: replicates, their seeds, and a grid or a sample of points.
SWEEP = Table(
    (
        Key("seeds", integer(minimum=1), default=1),
        Key("root_seed", integer(minimum=0)),
        Key("common_random_numbers", flag, default=True),
        Key("grid", mapping("parameter = [values, ...]", empty=False)),
        Key("sample", SAMPLE),
    ),
    like="[sweep] seeds = 20",
)


def _sweep(value: Any, where: str, reading: Reading) -> dict[str, Any]:
    """``[sweep]``: a grid or a sample of points, not both."""
    if isinstance(value, dict) and "grid" in value and "sample" in value:
        raise ConfigError("give either [sweep.grid] or [sweep.sample], not both", where)
    return SWEEP(value, where, reading)


@dataclass(frozen=True)
class SweepConfig:
    """A validated sweep file.

    Attributes
    ----------
    run : RunConfig
        The run every point starts from.
    design : GridPoints or PointList
        Parameter points (one empty point for an ensemble); a grid is never listed
        (:mod:`~waste_harmony.batch.recipe`), :attr:`points` lists it.
    seeds : int
        Replicates per point.
    root_seed : int
        Root of the seeds.
    common_random_numbers : bool
        Same seeds at every point.

    Examples
    --------
    >>> config = parse_sweep_config({"days": 5, "citizens": 100, "sweep": {
    ...     "seeds": 2, "grid": {"concern_confidence": [0.1, 0.3]}}})
    >>> config.points, config.seeds, config.n_runs
    ([{'concern_confidence': 0.1}, {'concern_confidence': 0.3}], 2, 4)
    >>> parse_sweep_config({"sweep": {"grid": {"concern_confidance": [0.1]}}})
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    waste_harmony.config.ConfigError: sweep.grid.concern_confidance: unknown parameter; ...
    """

    run: RunConfig
    design: GridPoints | PointList = field(default_factory=lambda: PointList(({},)))
    seeds: int = 1
    root_seed: int = 0
    common_random_numbers: bool = True

    @property
    def points(self) -> list[dict[str, Any]]:
        """The parameter points, listed (prefer :attr:`design` for a large grid)."""
        return list(self.design)

    @property
    def n_runs(self) -> int:
        """Points × seeds."""
        return len(self.design) * self.seeds


def _grid_values(name: str, values: Any, run: RunConfig, valid: list[str], where: str) -> None:
    check_name(name, valid, where)
    if not isinstance(values, list) or not values:
        raise ConfigError(f"expected a non-empty list of values, got {values!r}", where)
    problems = Problems()
    for i, value in enumerate(values):
        problems.attempt(check_value, name, value, run, f"{where}[{i}]")
    problems.raise_any()


def _grid_points(table: dict[str, Any], run: RunConfig) -> GridPoints:
    valid = varied_names(run)
    problems = Problems()
    for name, values in table.items():
        problems.attempt(_grid_values, name, values, run, valid, join("sweep.grid", name))
    problems.raise_any()
    points = GridPoints.of(table)
    _check_points(points, run, "sweep.grid", "remove the combinations or narrow the values")
    return points


def _point_problems(point: dict[str, Any], run: RunConfig, classes: dict[str, Any]) -> list[str]:
    """Every problem of one point together with the run file's values (joint constraints).

    ``classes`` maps each scenario of the run file to its class.
    """
    model = {**run.parameters, **{k: v for k, v in point.items() if "." not in k}}
    model.pop("citizens", None)
    found = violations(model)
    for scenario, params in run.scenarios.items():
        prefix = f"scenarios.{scenario}."
        values = dict(params)
        for k, v in point.items():
            if k.startswith(prefix):  # a nested path (policy.set.x) replaces one leaf
                values = with_path(values, k[len(prefix) :], v)
        found += classes[scenario].violations(values)
    return found


def _check_points(points: GridPoints | PointList, run: RunConfig, key: str, fix: str) -> None:
    """Refuse a design with points that break a joint constraint, before anything runs.

    A grid is checked once per combination of the values a constraint links
    (:func:`~waste_harmony.batch.checks.grid_problems`), not once per point.
    """
    from waste_harmony.scenarios import available, scenario_class

    registry = available()  # slow (entry points): once per design
    # a code reference ('pkg.mod:Class', 'ban.py:Ban') is relative to the file
    classes = {
        s: registry[s] if s in registry else scenario_class(s, base_dir=run.base_dir)
        for s in run.scenarios
    }

    def problems(point: Any) -> list[str]:
        return _point_problems(point, run, classes)

    found: dict[str, Finding]
    if isinstance(points, GridPoints):
        groups = coupled_names(points.names, constraint_links(points.names, classes))
        sizes = dict(zip(points.names, map(len, points.values), strict=True))
        total = sum(math.prod(sizes[n] for n in g) for g in groups)
        progress = Progress(total, key)
        found, _ = grid_problems(points, problems, groups, progress)
    else:
        progress = Progress(len(points), key)
        found = point_problems(points, problems, progress)
    progress.close()
    if found:
        listing = "; ".join(
            f"{f.message} (fails at {f.count:,} of {len(points):,} points)" for f in found.values()
        )
        raise ConfigError(f"the design breaks a constraint: {listing}; {fix}", key)


def _range(name: str, bounds: Any, whole: bool, run: RunConfig, where: str) -> None:
    """One ``[sweep.sample.ranges]`` entry: ``[low, high]``, both ends valid values."""
    interval(strict=False)(bounds, where, Reading())
    for i, b in enumerate(bounds):
        at = f"{where}[{i}]"
        try:
            check_value(name, round(b) if whole else float(b), run, at)
        except ConfigError as exc:
            if whole or "whole number" not in str(exc):
                raise
            # A Latin hypercube draws reals: an integer parameter must be rounded.
            raise ConfigError(
                f"{str(exc).removeprefix(f'{at}: ')}; to sample it as whole "
                f'numbers, add it to sweep.sample.integers (integers = ["{name}"])',
                at,
            ) from exc


def _sample_points(sample: dict[str, Any], run: RunConfig, seed: int) -> PointList:
    ranges, integers = sample["ranges"], sample["integers"]
    valid = varied_names(run)
    problems = Problems()
    for name in integers:
        if name not in ranges:
            problems.add(f"{name!r} is not in [sweep.sample.ranges]", "sweep.sample.integers")
    for name, bounds in ranges.items():
        where = join("sweep.sample.ranges", name)
        if problems.passes(check_name, name, valid, where):
            problems.attempt(_range, name, bounds, name in integers, run, where)
    problems.raise_any()
    points = PointList(
        tuple(
            latin_hypercube(
                {k: tuple(v) for k, v in ranges.items()}, sample["n"], seed=seed, integers=integers
            )
        )
    )
    # A Latin hypercube covers the whole box: points outside a joint constraint are
    # refused (not silently dropped or resampled, which would bias the design).
    _check_points(
        points,
        run,
        "sweep.sample.ranges",
        "narrow the ranges so that every point of the box satisfies the constraint",
    )
    return points


def parse_sweep_config(
    data: dict[str, Any],
    *,
    base_dir: str | os.PathLike[str] | None = None,
    source: Path | None = None,
) -> SweepConfig:
    """Validate sweep-file data (as parsed from TOML) into a :class:`SweepConfig`.

    The arguments are those of :func:`~waste_harmony.config.parse_run_config`. A
    :class:`~waste_harmony.config.ConfigError` names the key path of every problem
    found in the run part and the ``[sweep]`` table, then of the swept names and
    values (joint constraints are checked on every point of the design).
    """
    reading = Reading(Path(base_dir) if base_dir is not None else None, source)
    needs = "a sweep file needs a [sweep] table (e.g. seeds = 20)"
    run, own = read_run_file(data, reading, Key("sweep", _sweep, missing=needs))
    table = own["sweep"]
    root = table["root_seed"]
    if root is None:
        root = run.seed if run.seed is not None else 0
    design: GridPoints | PointList
    if table["grid"] is not None:
        design = _grid_points(table["grid"], run)
    elif table["sample"] is not None:
        design = _sample_points(table["sample"], run, root)
    else:
        design = PointList(({},))
    return SweepConfig(
        run=run,
        design=design,
        seeds=table["seeds"],
        root_seed=root,
        common_random_numbers=table["common_random_numbers"],
    )


def load_sweep_file(path: str | os.PathLike[str]) -> SweepConfig:
    """Read and validate a TOML sweep file (as :func:`.load_run_file` does).

    Returns
    -------
    SweepConfig
        The validated sweep.
    """
    return load_file(path, "sweep file", parse_sweep_config)
