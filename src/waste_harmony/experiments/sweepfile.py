"""Sweep files: a TOML run file plus a ``[sweep]`` table.

A sweep file is a run file (:mod:`waste_harmony.config`) whose ``[sweep]`` table
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
(``sweep.grid.concern_confidance``), as in run files.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from waste_harmony.batch.plan import grid, latin_hypercube
from waste_harmony.config import (
    ConfigError,
    RunConfig,
    check_int,
    check_keys,
    combine_errors,
    did_you_mean,
    leaf_paths,
    parse_run_config,
    read_toml,
    with_path,
)
from waste_harmony.parameters import Parameters, violations

__all__ = ["SweepConfig", "load_sweep_file", "parse_sweep_config"]

_SWEEP_KEYS = ("seeds", "root_seed", "common_random_numbers", "grid", "sample")
_SAMPLE_KEYS = ("n", "ranges", "integers", "method")


@dataclass(frozen=True)
class SweepConfig:
    """A validated sweep file.

    Attributes
    ----------
    run : RunConfig
        The run every point starts from.
    points : list of dict
        Parameter points (``[{}]`` for an ensemble).
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
    points: list[dict[str, Any]] = field(default_factory=lambda: [{}])
    seeds: int = 1
    root_seed: int = 0
    common_random_numbers: bool = True

    @property
    def n_runs(self) -> int:
        """Points × seeds."""
        return len(self.points) * self.seeds


def _swept_names(run: RunConfig) -> list[str]:
    from waste_harmony.scenarios import scenario_class

    names = ["citizens", *Parameters.names()]
    base = run.source.parent if run.source is not None else None
    for scenario in run.scenarios:
        cls = scenario_class(scenario, base_dir=base)
        names += [f"scenarios.{scenario}.{f.name}" for f in cls.parameter_fields()]
        # values inside a table parameter (e.g. a policy's set.waste_per_capita_kg)
        for name, value in run.scenarios[scenario].items():
            if isinstance(value, dict):
                names += [f"scenarios.{scenario}.{path}" for path in leaf_paths(value, name)]
    return names


def _check_value(name: str, value: Any, run: RunConfig, key: str) -> None:
    """Validate one swept value the way the model will, naming the key."""
    if name == "citizens":
        check_int(value, key, minimum=0)
        return
    if name.startswith("scenarios."):
        from waste_harmony.scenarios import scenario_class

        # The scenario may be a reference with dots ('pkg.mod:Class', 'ban.py:Ban').
        # The parameter may be a nested path ('policy.set.waste_per_capita_kg'): the
        # scenario is the longest installed name the key starts with.
        rest = name.removeprefix("scenarios.")
        owners = [n for n in run.scenarios if rest.startswith(f"{n}.")]
        scenario = max(owners, key=len) if owners else rest.rsplit(".", 1)[0]
        param = rest[len(scenario) + 1 :]
        base = run.source.parent if run.source is not None else None
        cls = scenario_class(scenario, base_dir=base)
        try:
            instance = cls(**with_path(run.scenarios[scenario], param, value))
            instance.check_parameters()
        except (TypeError, ValueError) as exc:
            raise ConfigError(str(exc), key) from exc
        return
    try:
        Parameters.from_kwargs({**run.parameters, name: value})
    except (TypeError, ValueError) as exc:
        raise ConfigError(str(exc), key) from exc


def _check_name(name: str, valid: list[str], key: str) -> None:
    if name not in valid:
        if name.startswith("scenarios."):
            raise ConfigError(
                "unknown scenario parameter (is the scenario in the file's "
                f"[scenarios]?); {did_you_mean(name, valid)}",
                key,
            )
        raise ConfigError(f"unknown parameter; {did_you_mean(name, valid)}", key)


def _parse_grid(table: Any, run: RunConfig) -> list[dict[str, Any]]:
    if not isinstance(table, dict) or not table:
        raise ConfigError("expected a table of parameter = [values, ...]", "sweep.grid")
    valid = _swept_names(run)
    problems: list[ConfigError] = []
    for name, values in table.items():
        key = f"sweep.grid.{name}"
        try:
            _check_name(name, valid, key)
            if not isinstance(values, list) or not values:
                raise ConfigError(f"expected a non-empty list of values, got {values!r}", key)
        except ConfigError as exc:
            problems.append(exc)
            continue
        for i, value in enumerate(values):
            try:
                _check_value(name, value, run, f"{key}[{i}]")
            except ConfigError as exc:
                problems.append(exc)
    if problems:
        raise combine_errors(problems)
    points = grid(table)
    _check_points(points, run, "sweep.grid", "remove the combinations or narrow the values")
    return points


def _point_problems(point: dict[str, Any], run: RunConfig, registry: dict[str, Any]) -> list[str]:
    """Every problem of one point together with the run file's values (joint constraints)."""
    model = {**run.parameters, **{k: v for k, v in point.items() if "." not in k}}
    model.pop("citizens", None)
    found = violations(model)
    for scenario, params in run.scenarios.items():
        prefix = f"scenarios.{scenario}."
        values = dict(params)
        for k, v in point.items():
            if k.startswith(prefix):  # a nested path (policy.set.x) replaces one leaf
                values = with_path(values, k[len(prefix) :], v)
        if scenario in registry:
            cls = registry[scenario]
        else:  # a code reference ('pkg.mod:Class', 'ban.py:Ban'), relative to the file
            from waste_harmony.scenarios import scenario_class

            base = run.source.parent if run.source is not None else None
            cls = scenario_class(scenario, base_dir=base)
        found += cls.violations(values)
    return found


def _check_points(points: list[dict[str, Any]], run: RunConfig, key: str, fix: str) -> None:
    """Refuse a design with points that break a joint constraint, before anything runs."""
    from waste_harmony.scenarios import available

    registry = available()  # slow (entry points): once per design
    first: dict[str, str] = {}
    counts: dict[str, int] = {}
    for point in points:
        for message in _point_problems(point, run, registry):
            rule = re.sub(r" \([^()]*=[^()]*\)", "", message)  # the same rule, other values
            first.setdefault(rule, message)
            counts[rule] = counts.get(rule, 0) + 1
    if counts:
        listing = "; ".join(
            f"{first[r]} (fails at {n} of {len(points)} points)" for r, n in counts.items()
        )
        raise ConfigError(f"the design breaks a constraint: {listing}; {fix}", key)


def _parse_sample(table: Any, run: RunConfig, seed: int) -> list[dict[str, Any]]:
    if not isinstance(table, dict):
        raise ConfigError("expected a table with n and [sweep.sample.ranges]", "sweep.sample")
    check_keys(table, _SAMPLE_KEYS, "sweep.sample")
    if "n" not in table:
        raise ConfigError("missing: the number of points, e.g. n = 50", "sweep.sample.n")
    n = check_int(table["n"], "sweep.sample.n", minimum=1)
    method = table.get("method", "lhs")
    if method != "lhs":
        raise ConfigError(
            f"only 'lhs' (Latin hypercube) is supported, got {method!r}", "sweep.sample.method"
        )
    ranges = table.get("ranges")
    if not isinstance(ranges, dict) or not ranges:
        raise ConfigError("expected a table of parameter = [low, high]", "sweep.sample.ranges")
    valid = _swept_names(run)
    integers = table.get("integers", [])
    if not isinstance(integers, list) or not all(isinstance(i, str) for i in integers):
        raise ConfigError("expected a list of parameter names", "sweep.sample.integers")
    for name in integers:
        if name not in ranges:
            raise ConfigError(f"{name!r} is not in [sweep.sample.ranges]", "sweep.sample.integers")
    problems: list[ConfigError] = []
    for name, bounds in ranges.items():
        key = f"sweep.sample.ranges.{name}"
        try:
            _check_name(name, valid, key)
            if (
                not isinstance(bounds, list)
                or len(bounds) != 2
                or not all(isinstance(b, int | float) and not isinstance(b, bool) for b in bounds)
            ):
                raise ConfigError(f"expected [low, high], got {bounds!r}", key)
            if bounds[0] > bounds[1]:
                raise ConfigError(f"low > high in {bounds!r}", key)
            for i, b in enumerate(bounds):
                value = round(b) if name in integers else float(b)
                try:
                    _check_value(name, value, run, f"{key}[{i}]")
                except ConfigError as exc:
                    if name in integers or "whole number" not in str(exc):
                        raise
                    # A Latin hypercube draws reals: an integer parameter must be rounded.
                    raise ConfigError(
                        f"{str(exc).removeprefix(f'{key}[{i}]: ')}; to sample it as whole "
                        f'numbers, add it to sweep.sample.integers (integers = ["{name}"])',
                        f"{key}[{i}]",
                    ) from exc
        except ConfigError as exc:
            problems.append(exc)
    if problems:
        raise combine_errors(problems)
    points = latin_hypercube(
        {k: tuple(v) for k, v in ranges.items()}, n, seed=seed, integers=integers
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

    Parameters
    ----------
    data : dict
        The parsed file.
    base_dir : str or os.PathLike, optional
        Folder that relative paths are resolved against.
    source : pathlib.Path, optional
        The file.

    Returns
    -------
    SweepConfig
        The validated sweep.

    Raises
    ------
    ConfigError
        Naming the key path of every problem found in the run part, the ``[sweep]``
        keys and the swept names and values (joint constraints are checked on every
        point of the design).
    """
    data = dict(data)
    table = data.pop("sweep", None)
    problems: list[ConfigError] = []
    try:
        run = parse_run_config(data, base_dir=base_dir, source=source)
    except ConfigError as exc:
        problems.append(exc)
    if table is None:
        problems.append(
            ConfigError("a sweep file needs a [sweep] table (e.g. seeds = 20)", "sweep")
        )
    elif not isinstance(table, dict):
        problems.append(ConfigError("expected a table", "sweep"))
    else:
        try:
            check_keys(table, _SWEEP_KEYS, "sweep")
        except ConfigError as exc:
            problems.append(exc)
    if problems:
        raise combine_errors(problems)
    assert isinstance(table, dict)
    seeds = check_int(table.get("seeds", 1), "sweep.seeds", minimum=1)
    root = table.get("root_seed", run.seed if run.seed is not None else 0)
    root = check_int(root, "sweep.root_seed", minimum=0)
    crn = table.get("common_random_numbers", True)
    if not isinstance(crn, bool):
        raise ConfigError(f"expected true or false, got {crn!r}", "sweep.common_random_numbers")
    if "grid" in table and "sample" in table:
        raise ConfigError("give either [sweep.grid] or [sweep.sample], not both", "sweep")
    if "grid" in table:
        points = _parse_grid(table["grid"], run)
    elif "sample" in table:
        points = _parse_sample(table["sample"], run, root)
    else:
        points = [{}]
    return SweepConfig(
        run=run, points=points, seeds=seeds, root_seed=root, common_random_numbers=crn
    )


def load_sweep_file(path: str | os.PathLike[str]) -> SweepConfig:
    """Read and validate a TOML sweep file.

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    SweepConfig
        The validated sweep.

    Raises
    ------
    ConfigError
        If the file is missing, is not valid TOML, or holds an invalid key or value.
    """
    file = Path(path)
    return parse_sweep_config(read_toml(file, "sweep file"), base_dir=file.parent, source=file)
