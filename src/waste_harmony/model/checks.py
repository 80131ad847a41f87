"""Checks of CityModel's arguments, before anything is built, and their normal forms.

Each check raises an exception naming the problem and the fix.
:class:`waste_harmony.CityModel` calls them first thing in ``__init__`` (and
:func:`check_scenario_set` again in ``add_scenario``); :func:`scenario_instances`,
:func:`seed_of` and :func:`city_graph` turn the accepted spellings of an argument
into the one form the model builds from.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, cast

import mesa
import networkx as nx
import numpy as np

from waste_harmony import city as city_module
from waste_harmony.agents import Citizen
from waste_harmony.parameters import Parameters
from waste_harmony.paramspec import unknown_keyword
from waste_harmony.recording import (
    NEIGHBORHOOD_VARIABLES,
    OUTPUTS,
    OutputVariable,
    as_outputs,
)
from waste_harmony.scenarios.base import Scenario
from waste_harmony.scenarios.registry import resolve
from waste_harmony.schema import ID_COLUMNS

__all__ = [
    "MODEL_ARGUMENTS",
    "SampleSizeWarning",
    "check_agent_step",
    "check_arguments",
    "check_citizen_class",
    "check_count",
    "check_keywords",
    "check_population",
    "check_rules_ran",
    "check_run_days",
    "check_scenario_set",
    "city_graph",
    "own_outputs",
    "scenario_instances",
    "scenario_with",
    "seed_alias",
    "seed_of",
    "warn_if_below_converged",
]

#: CityModel's own keyword arguments (besides the behaviour parameters).
MODEL_ARGUMENTS = (
    "city",
    "n_citizens",
    "population",
    "scenarios",
    "rng",
    "citizen_class",
    "record_neighborhoods",
    "days",
    "model_reporters",
    "neighborhood_reporters",
)

#: Names an own output cannot take: the columns every results table has already.
_TAKEN = (*ID_COLUMNS, "day", "node", "zone")


def seed_alias(seed: Any, rng: Any) -> Any:
    """The seed given as ``seed=`` (deprecated, with a FutureWarning); an error if ``rng=`` too."""
    # Mesa 3.5 spells the seed argument rng= and still accepts seed= with a
    # FutureWarning; every model class here does the same.
    if rng is not None:
        raise ValueError("give either rng= or seed=, not both (seed= is the deprecated spelling)")

    warnings.warn(
        "the seed= keyword is deprecated, as in Mesa 3.5; use rng= instead (same meaning)",
        FutureWarning,
        stacklevel=3,
    )
    return seed


def check_keywords(params: dict[str, Any]) -> None:
    """Refuse an unknown keyword, naming the closest valid one."""
    valid = Parameters.names()
    for key in params:
        if key not in valid:
            raise TypeError(unknown_keyword(key, [*MODEL_ARGUMENTS, *valid]))


def check_arguments(*, rng: Any, record_neighborhoods: Any) -> None:
    """Refuse an ``rng`` or ``record_neighborhoods`` of the wrong kind or sign."""
    if not isinstance(record_neighborhoods, bool | np.bool_):
        raise TypeError(
            "record_neighborhoods must be True or False, got "
            f"{type(record_neighborhoods).__name__} {record_neighborhoods!r}"
        )
    if isinstance(rng, bool | float | str | bytes):
        raise TypeError(
            f"rng must be a non-negative integer seed, a numpy Generator or None, got "
            f"{type(rng).__name__} {rng!r}"
        )
    if isinstance(rng, int | np.integer) and rng < 0:
        raise ValueError(f"rng must be a non-negative integer seed, got {rng}")
    if isinstance(rng, int | np.integer) and rng >= 2**63:
        raise ValueError(
            f"rng must be an integer seed below 2**63 (results store it as a 64-bit "
            f"integer), got {rng}; take it modulo 2**63"
        )


def scenario_with(name: Any, values: Any) -> Any:
    """A scenario from a ``name: parameters`` entry of a ``scenarios`` mapping."""
    if not isinstance(values, Mapping):
        raise TypeError(
            f"scenarios[{name!r}] must be a dict of the scenario's parameters (or {{}} for "
            f"its defaults), got {type(values).__name__} {values!r}"
        )
    scenario = resolve(name)
    if not values:
        return scenario
    fields = [f.name for f in scenario.parameter_fields()]
    for key in values:
        if key not in fields:
            raise TypeError(f"scenarios[{name!r}]: {unknown_keyword(key, fields)}")
    return type(scenario)(**values)


def check_count(name: str, value: Any) -> None:
    """Refuse a count (``n_citizens``, ``days``) that is not a non-negative integer."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}; pass a non-negative count")


def check_population(population: Any, n_citizens: int) -> None:
    """Refuse a ``population`` (the people the citizens stand for) that is not a positive number."""
    if population is None:
        return
    if isinstance(population, bool) or not isinstance(population, int | float | np.number):
        raise TypeError(
            f"population must be a number of people, got {type(population).__name__} "
            f"{population!r}; pass e.g. population=2_746_388, or None for one person per citizen"
        )
    if not (np.isfinite(population) and population > 0):
        raise ValueError(
            f"population must be a positive, finite number of people, got {population!r}; "
            "pass None for one person per citizen"
        )
    if n_citizens == 0:
        raise ValueError("population is given but n_citizens is 0: no citizen can stand for it")


#: This package's folder: frames inside it are skipped when a warning names its line.
_PACKAGE = str(Path(__file__).parents[1]) + os.sep  # as code objects name their files


class SampleSizeWarning(UserWarning):
    """A run has fewer citizens per district than its answers need to be the population's."""


def warn_if_below_converged(n_citizens: int, weight: np.ndarray, *, per_district: int) -> None:
    """Warn, with the numbers, when there are fewer than ``per_district`` citizens per district.

    ``per_district`` is the measured size from which the story's outcome agreed with
    200 citizens per district on four real layers, and peak protest on three of them
    (docs/convergence.md); districts count when they have people (a positive
    population weight).
    """
    districts = int(np.count_nonzero(np.asarray(weight) > 0))
    if districts == 0 or n_citizens == 0 or n_citizens >= per_district * districts:
        return
    warnings.warn(
        f"n_citizens={n_citizens} gives {n_citizens / districts:.1f} citizens per populated "
        f"district ({districts} districts); the story's outcome agreed with the full "
        f"population's from {per_district} per district on four real layers "
        "(docs/convergence.md; peak protest needed 50 on one), so this run's may not be "
        f"the population's: use n_citizens >= {per_district * districts}, or measure with "
        "experiments.convergence",
        SampleSizeWarning,
        # at the user's line (their CityModel, sweep or calibrate call), not the
        # library's: shown once per line, however many models the call builds
        skip_file_prefixes=(_PACKAGE,),
    )


def check_scenario_set(scenarios: list[Any]) -> None:
    """Refuse a scenario given twice or combined with one it conflicts with."""
    names = [s.name for s in scenarios]
    for s in scenarios:
        if names.count(s.name) > 1:
            raise ValueError(f"scenario {s.name!r} is given twice; install it once")
        clash = [other for other in s.conflicts_with if other in names]
        if clash:
            raise ValueError(
                f"scenario {s.name!r} cannot be combined with {clash[0]!r}; remove one of them"
            )


def check_citizen_class(citizen_class: Any) -> None:
    """Refuse a ``citizen_class`` that is not :class:`~waste_harmony.Citizen` or a subclass."""
    if not (isinstance(citizen_class, type) and issubclass(citizen_class, Citizen)):
        raise TypeError(f"citizen_class must be Citizen or a subclass of it, got {citizen_class!r}")


def check_agent_step(agent_class: Any, method: str) -> None:
    """Refuse an own agent type to step that is not a Mesa agent class with ``method``."""
    if not (isinstance(agent_class, type) and issubclass(agent_class, mesa.Agent)):
        raise TypeError(f"agent_class must be a mesa.Agent subclass, got {agent_class!r}")
    if not callable(getattr(agent_class, method, None)):
        raise TypeError(
            f"{agent_class.__name__} has no method {method}(); give the method to call "
            "each day as method='...'"
        )


def check_run_days(duration: Any) -> None:
    """Refuse a ``run_for`` length that is not a whole number of days ``>= 0``."""
    if isinstance(duration, bool) or not isinstance(duration, int | np.integer):
        raise TypeError(
            f"run_for takes a whole number of days, got {type(duration).__name__} {duration!r}"
        )
    if duration < 0:
        raise ValueError(
            f"run_for({duration}): days must be >= 0; a model cannot run backwards "
            "(copy() a model to branch from an earlier day)"
        )


def check_rules_ran(where: str, runs: int) -> None:
    """Refuse an overriding ``step`` that ran the day's rules ``runs`` times, not once.

    Raises
    ------
    RuntimeError
        Naming the override, what went wrong, and the two ways that work.
    """
    if runs == 1:
        return
    what = (
        "returned without calling super().step(): the day's rules did not run"
        if runs == 0
        else f"called super().step() {runs} times in one day: the day's rules ran {runs} times"
    )
    raise RuntimeError(
        f"{where} {what}, and the day was not recorded. Call super().step() once in "
        "your step (work after it is recorded the same day), or step your own agents "
        "at a named point of the day with model.add_agent_step(YourAgent, "
        "after='collection') instead of overriding step"
    )


def scenario_instances(scenarios: Any) -> list[Scenario]:
    """The installed-to-be scenarios: one or an iterable of instances, classes or names.

    Raises
    ------
    ValueError
        If one is given twice or two conflict (:func:`check_scenario_set`).
    """
    if isinstance(scenarios, str | Scenario) or not isinstance(scenarios, Iterable):
        scenarios = [scenarios]
    chosen = [resolve(s) for s in scenarios]
    check_scenario_set(chosen)
    return chosen


def seed_of(rng: int | np.random.Generator | None) -> int:
    """The integer seed a model is built with (and records), from ``rng=``.

    A generator gives a seed drawn from it (Mesa would derive one from it anyway:
    this keeps determinism explicit); ``None`` a seed drawn from OS entropy and kept,
    so every run can be repeated.
    """
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(2**63))
    if rng is None:
        # SeedSequence() draws its entropy itself, so it is an int.
        return int(cast(int, np.random.SeedSequence().entropy) % 2**63)
    return rng


def city_graph(city: Any) -> nx.Graph:
    """The loaded and validated city graph (:func:`waste_harmony.city.load_city`).

    ``None`` is :func:`waste_harmony.city.default_city`; anything but a
    :class:`networkx.Graph` is refused with a :class:`TypeError`.
    """
    graph = city_module.default_city() if city is None else city
    if not isinstance(graph, nx.Graph):
        raise TypeError(
            f"city must be a networkx.Graph (or None for the default city), "
            f"got {type(graph).__name__}"
        )
    return city_module.load_city(graph)


def own_outputs(
    model_reporters: Any, neighborhood_reporters: Any, *, record_neighborhoods: bool
) -> tuple[tuple[OutputVariable, ...], tuple[OutputVariable, ...]]:
    """A study's own outputs, checked: (model-level, per-neighbourhood).

    Names must be new: not a built-in output, not a column every results table
    already has (``run_id``, ``day``, ``node``, …), not a parameter (a sweep's
    parameter column).

    Raises
    ------
    TypeError, ValueError
        Naming the argument, the entry and the fix.

    Examples
    --------
    >>> from waste_harmony.recording import reporter
    >>> @reporter("share", "mine")
    ... def protest_share(model):
    ...     return 0.0
    >>> mine = {"protest_share": protest_share}
    >>> own_outputs(mine, None, record_neighborhoods=True)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: model_reporters['protest_share']: 'protest_share' is a built-in output ...
    """
    model = as_outputs(model_reporters, what="model_reporters")
    nodes = as_outputs(neighborhood_reporters, what="neighborhood_reporters")
    if nodes and not record_neighborhoods:
        raise ValueError(
            "neighborhood_reporters need record_neighborhoods=True (the per-neighbourhood "
            "series they join are not recorded)"
        )
    parameters = set(Parameters.names())
    for what, outputs, builtin in (
        ("model_reporters", model, {v.name for v in OUTPUTS}),
        ("neighborhood_reporters", nodes, set(NEIGHBORHOOD_VARIABLES)),
    ):
        for output in outputs:
            name, where = output.name, f"{what}[{output.name!r}]"
            if name in builtin:
                reason = "is a built-in output already recorded"
            elif name in _TAKEN:
                reason = "is a column every results table has"
            elif name in parameters:
                reason = "is a model parameter (a sweep's column)"
            else:
                continue
            raise ValueError(f"{where}: {name!r} {reason}; choose another name")
    return model, nodes
