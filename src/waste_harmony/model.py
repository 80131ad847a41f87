"""CityModel: a Mesa model of a city's citizens, neighbourhoods, firms and organism.

The model wires the layers together: the city graph (:mod:`waste_harmony.city`),
the agents (:mod:`waste_harmony.agents`), the vectorised rules
(:mod:`waste_harmony.rules` over :mod:`waste_harmony.dynamics`), scenario modules
(:mod:`waste_harmony.scenarios`) and recording (:mod:`waste_harmony.recording`).
One step is one day.

:class:`CityModel` is composed of one part per job, each in its own module: building
the city, citizens and agents (:mod:`waste_harmony.model_building`), the services
agents, rules and scenarios call (:mod:`waste_harmony.model_services`), recording and
frames (:mod:`waste_harmony.model_recording`) and copying
(:mod:`waste_harmony.model_copying`); its arguments are checked by
:mod:`waste_harmony.model_checks`. This module holds what ties them together:
``__init__``, running, scenarios and parameter changes.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import mesa
import networkx as nx
import numpy as np

from waste_harmony import city as city_module
from waste_harmony.agents import Citizen
from waste_harmony.model_building import BuildingMixin
from waste_harmony.model_checks import (
    check_arguments,
    check_count,
    check_keywords,
    check_scenario_set,
    run_seed_of,
    scenario_with,
    seed_alias,
)
from waste_harmony.model_copying import CopyingMixin
from waste_harmony.model_recording import RecordingMixin
from waste_harmony.model_services import ServicesMixin
from waste_harmony.parameters import Parameters
from waste_harmony.pipeline import Pipeline
from waste_harmony.recording import (
    NEIGHBORHOOD_VARIABLES,
    OUTPUTS,
    Event,
    EventLog,
    NeighborhoodRecorder,
)
from waste_harmony.rules import DEFAULT_RULES
from waste_harmony.scenarios.registry import ScenarioSpec, resolve
from waste_harmony.services import CityServices

__all__ = ["CityModel"]


class CityModel(BuildingMixin, ServicesMixin, RecordingMixin, CopyingMixin, mesa.Model):
    """An agent-based model of a city of citizens on a networkx city graph.

    Parameters
    ----------
    city : networkx.Graph, optional
        The city: any undirected graph; missing node attributes are filled with
        documented defaults (:func:`waste_harmony.city.with_defaults`) and the result
        is validated (:func:`waste_harmony.city.validate_city`). ``None`` uses
        :func:`waste_harmony.city.default_city` (a 10 × 10 street grid).
    n_citizens : int
        Number of citizens, placed on nodes in proportion to their ``population``
        weight.
    scenarios : Scenario, type, str or iterable of these
        Scenario modules: instances, classes or registered names
        (see :func:`waste_harmony.scenarios.available`); one alone needs no list.
    rng : int, numpy.random.Generator or None
        Seed or generator; all randomness comes from it. The same seed gives
        identical series. As in Mesa 3.5, ``seed=`` is a deprecated alias: it
        works, with a :class:`FutureWarning`; giving both is an error.
    citizen_class : type
        :class:`~waste_harmony.Citizen` or a subclass (per-agent hooks it overrides are
        called on each of its agents).
    record_neighborhoods : bool
        Record per-neighbourhood series (default ``True``).
    days : int, optional
        Planned run length in days, a hint only (the model still runs as long as it
        is stepped). When given, scenarios check their schedules against it when
        they are installed, so a festival day beyond the run is an error before the
        run starts (:meth:`waste_harmony.scenarios.Scenario.check_day`).
    **params
        Behaviour parameters, fields of :class:`~waste_harmony.parameters.Parameters`
        (unknown names raise :class:`TypeError` naming the closest valid one).

    Attributes
    ----------
    citizens : StateTable
        Citizen columns: ``home``, ``location``, ``concern``, ``threshold``,
        ``protesting``, ``recycled``, ``adopted``, ``role_code``, ``gathering``.
    neighborhoods : StateTable
        Node columns (one row per node, in ``node_ids`` order).
    homes : RowGroups
        Each node's residents as one run of citizen rows (homes are fixed for a run,
        and ``citizens.home`` is read-only): ``homes.means(column)`` is a column's
        mean over each node's residents.
    pipeline : Pipeline
        The day's rules, in order.
    datacollector : mesa.DataCollector
        Model-level series, one row per recorded day: day 0 (the initial state,
        recorded when the model is built, as in Mesa's examples) and each
        simulated day.
    recorded_days : list of int
        The recorded days, ``[0, 1, ..., model.day]``.
    event_log : EventLog
        Events.

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> model = CityModel(n_citizens=500, rng=42)
    >>> model.run_for(30)
    >>> df = model.datacollector.get_model_vars_dataframe()
    >>> len(df), round(float(df["waste_generated_kg"].iloc[1:].mean()) / 500, 1)
    (31, 0.7)
    """

    def __init__(
        self,
        city: nx.Graph | None = None,
        *,
        n_citizens: int = 10_000,
        scenarios: ScenarioSpec | Iterable[ScenarioSpec] = (),
        rng: int | np.random.Generator | None = None,
        citizen_class: type[Citizen] = Citizen,
        record_neighborhoods: bool = True,
        days: int | None = None,
        **params: Any,
    ) -> None:
        if "seed" in params:
            rng = seed_alias(params.pop("seed"), rng)
        check_keywords(params)
        check_arguments(rng=rng, record_neighborhoods=record_neighborhoods)
        if isinstance(scenarios, Mapping):  # {"techcore": {"announce_day": 30}, ...}
            scenarios = [scenario_with(name, values) for name, values in scenarios.items()]
        self.params = Parameters.from_kwargs(params)
        check_count("n_citizens", n_citizens)
        if days is not None:
            check_count("days", days)
        self.days = days
        if not (isinstance(citizen_class, type) and issubclass(citizen_class, Citizen)):
            raise TypeError(
                f"citizen_class must be Citizen or a subclass of it, got {citizen_class!r}"
            )
        if isinstance(scenarios, str | mesa.Model) or not isinstance(scenarios, Iterable):
            scenarios = [scenarios]
        chosen = [resolve(s) for s in scenarios]
        check_scenario_set(chosen)
        rng = run_seed_of(rng)  # an int, drawn if None, so every run can be repeated
        super().__init__(rng=rng)
        self.seed = rng
        self.citizen_class = citizen_class
        self.n_citizens = int(n_citizens)

        graph = city_module.default_city() if city is None else city
        if not isinstance(graph, nx.Graph):
            raise TypeError(
                f"city must be a networkx.Graph (or None for the default city), "
                f"got {type(graph).__name__}"
            )
        graph = city_module.load_city(graph)
        self.city = graph
        self._build_city(graph)
        self._build_citizens()
        self._build_agents()

        self.pipeline = Pipeline(list(DEFAULT_RULES))
        self.grievances: set[str] = set()
        self.event_log = EventLog()
        self._accounts = dict.fromkeys(("generated", "recycled", "reused", "consumed"), 0.0)
        self._stock_at_last_record = float(self.neighborhoods.waste_stock_kg.sum())
        self.initial_habitat_km2 = float(
            (self.neighborhoods.habitat * self.neighborhoods.area_km2).sum()
        )
        self.datacollector = mesa.DataCollector(model_reporters={v.name: v.name for v in OUTPUTS})
        self.neighborhood_recorder = (
            NeighborhoodRecorder(self.n_nodes, NEIGHBORHOOD_VARIABLES)
            if record_neighborhoods
            else None
        )
        self.scenarios: list[Any] = []
        for scenario in chosen:
            self.add_scenario(scenario)
        # Days recorded so far, in order: [0, 1, ..., day] (day 0 is the initial
        # state, recorded here as Mesa's examples collect in __init__; documented in
        # the class docstring's Attributes).
        self.recorded_days: list[int] = []
        self._record()

    # ------------------------------------------------------------------ running
    def step(self) -> None:
        """Simulate one day: run the pipeline's rules in order, then record."""
        self.pipeline.run(self)
        self._record()
        self.citizens.gathering[:] = -1

    def run_for(self, duration: float | int) -> None:
        """Simulate ``duration`` more days (``0`` does nothing).

        Parameters
        ----------
        duration : int
            Whole days, ``>= 0``.

        Raises
        ------
        TypeError
            If ``duration`` is not an integer (the model steps whole days).
        ValueError
            If it is negative (a model cannot run backwards; use :meth:`copy` to
            branch from an earlier state).
        """
        if isinstance(duration, bool) or not isinstance(duration, int | np.integer):
            raise TypeError(
                f"run_for takes a whole number of days, got {type(duration).__name__} {duration!r}"
            )
        if duration < 0:
            raise ValueError(
                f"run_for({duration}): days must be >= 0; a model cannot run backwards "
                "(copy() a model to branch from an earlier day)"
            )
        if duration:
            super().run_for(int(duration))

    @property
    def day(self) -> int:
        """The current day: the last day simulated, or the day about to be (during events)."""
        return math.ceil(self.time)

    # ------------------------------------------------------------------ scenarios
    def add_scenario(self, scenario: Any) -> Any:
        """Install a scenario (instance, class or registered name) into this model.

        Parameters
        ----------
        scenario : Scenario, type or str
            The scenario.

        Returns
        -------
        Scenario
            The installed instance (kept referenced by the model).
        """
        instance = resolve(scenario)
        check_scenario_set([*self.scenarios, instance])
        instance.install(self)
        self.scenarios.append(instance)
        return instance

    def scenario_named(self, name: str) -> Any:
        """The installed scenario called ``name``.

        Parameters
        ----------
        name : str
            Registry name.

        Returns
        -------
        Scenario
            The instance.

        Raises
        ------
        KeyError
            If no installed scenario has that name.
        """
        for scenario in self.scenarios:
            if scenario.name == name:
                return scenario
        raise KeyError(
            f"no scenario {name!r} installed; installed: {[s.name for s in self.scenarios]}"
        )

    # ------------------------------------------------------------------ interventions
    @property
    def params(self) -> Parameters:
        """The parameters in force (a frozen :class:`~waste_harmony.parameters.Parameters`).

        Assigning a new ``Parameters`` mid-run goes through :meth:`set_parameters`
        (validated, logged, recorded), so the manifest stays true.
        """
        return self._params

    @params.setter
    def params(self, value: Parameters) -> None:
        if "_params" not in self.__dict__:  # the first assignment, in __init__
            self._params = value
            self._initial_params = value
            self._interventions: list[dict[str, Any]] = []
            return
        if not isinstance(value, Parameters):
            raise TypeError(f"params must be a Parameters, got {type(value).__name__}")
        old = self._params
        changed = {
            n: getattr(value, n) for n in old.names() if getattr(value, n) != getattr(old, n)
        }
        self.set_parameters(changed, source="params assignment")

    @property
    def initial_params(self) -> Parameters:
        """The parameters the model was built with (before any intervention)."""
        return self._initial_params

    @property
    def interventions(self) -> list[dict[str, Any]]:
        """The parameter changes made so far, in order.

        Each is a dict with ``day`` (the day the change first applies to; the
        current day if made during a day), ``time`` (model time of the change),
        ``name``, ``old``, ``new`` and ``source`` (who made it: ``"set_parameters"``
        or a scenario's name). Saved in the manifest as ``interventions``.
        """
        return [dict(c) for c in self._interventions]

    def set_parameters(
        self,
        changes: Mapping[str, Any] | None = None,
        /,
        *,
        source: str = "set_parameters",
        **more: Any,
    ) -> None:
        """Change parameters mid-run: validated, logged and recorded for the manifest.

        The values are checked with the one parameter system (kinds, ranges, joint
        constraints, :func:`waste_harmony.scenarios.policy.change_problems`) before
        anything changes; all changes are applied together. ``model.params`` becomes
        a new frozen :class:`~waste_harmony.parameters.Parameters`;
        :attr:`initial_params` keeps the values the model was built with. Each
        changed parameter logs a ``parameters_changed`` event (details
        ``parameter``, ``old``, ``new``, ``source``) and is appended to
        :attr:`interventions`. Parameters that only shape the initial population
        (:data:`~waste_harmony.scenarios.policy.BUILD_ONLY`) and structural
        arguments such as ``n_citizens`` are refused. For changes on given days,
        install the :class:`~waste_harmony.scenarios.Policy` scenario.

        Parameters
        ----------
        changes : Mapping, optional
            Parameter name → new value (or give them as keywords).
        source : str
            Who makes the change, recorded with it (a scenario passes its name).
        **more
            More changes as keywords.

        Raises
        ------
        TypeError, ValueError
            Naming every refused change (unknown or structural name, wrong kind,
            out of range, violated constraint); nothing is changed then.

        Examples
        --------
        >>> model = CityModel(n_citizens=100, rng=0)
        >>> model.run_for(2)
        >>> model.set_parameters(waste_per_capita_kg=0.5)
        >>> model.params.waste_per_capita_kg, model.initial_params.waste_per_capita_kg
        (0.5, 0.74)
        >>> model.interventions[0]["day"], model.interventions[0]["old"]
        (3, 0.74)
        >>> model.set_parameters(n_citizens=10)
        Traceback (most recent call last):
        ...
        ValueError: cannot change parameters: 'n_citizens' fixes the model's structure \
and cannot change mid-run; build a new model with the new n_citizens instead
        """
        from waste_harmony.scenarios.policy import change_problems

        wanted = {**(changes or {}), **more}
        found = change_problems(self._params.to_dict(), wanted)
        if found:
            unknown = all(m.startswith("unknown parameter") for m in found)
            message = "cannot change parameters: " + "; ".join(found)
            raise TypeError(message) if unknown else ValueError(message)
        old = self._params
        new = dataclasses.replace(old, **wanted)
        changed = [n for n in wanted if getattr(new, n) != getattr(old, n)]
        if not changed:
            return
        self._params = new
        self._set_substeps(new)
        # Between days (integer time) a change first applies to the next day.
        day = int(self.time) + 1 if float(self.time).is_integer() else self.day
        for name in changed:
            record = {
                "day": day,
                "time": float(self.time),
                "name": name,
                "old": getattr(old, name),
                "new": getattr(new, name),
                "source": source,
            }
            self._interventions.append(record)
            details = {"parameter": name, "old": record["old"], "new": record["new"]}
            details["source"] = source
            if any(s.name == source for s in self.scenarios):
                details["scenario"] = source
            self.event_log.append(Event(day, "parameters_changed", None, details))


if TYPE_CHECKING:

    def _offers_services(model: CityModel) -> CityServices:
        # mypy checks here that CityModel satisfies the services protocol.
        return model
