"""The model: :class:`CityModel`, the composition root, and the parts it is composed of.

``from waste_harmony import CityModel`` (or ``from waste_harmony.model import
CityModel``, the name pickles, experiment manifests and fingerprints record) is all a
user needs. This module defines :class:`CityModel`: it checks its arguments, builds
the state with the builder, owns it — the city graph, the citizen and neighbourhood
columns, the Mesa space and agents, the pipeline of rules, the scenarios — and owns
one part per job. A part is an object or functions with its own state, in a
submodule; the model passes it what it needs, and no part imports another part or
reads the model's private attributes.

=============================================  ============================================
module                                         job
=============================================  ============================================
:mod:`waste_harmony.model` (this one)          :class:`CityModel`: the order things are
                                               built in, the day, scenarios, parameters,
                                               and every public member (each hands off)
:mod:`~waste_harmony.model.checks`             its arguments, own agent steps, run lengths
                                               and ``step`` overrides, checked
:mod:`~waste_harmony.model.building`           the builder: the city's columns and Mesa
                                               space, then the citizens
:mod:`~waste_harmony.model.members`            the work of the services (node rows,
                                               gatherings, links, weighted means)
:mod:`~waste_harmony.model.geometry`           ``Geometry``: street lengths, diffusion
                                               operators and their daily steps, outings
:mod:`~waste_harmony.model.roster`             ``Roster``: the agent classes, their
                                               overridden hooks, the organism's colonies
:mod:`~waste_harmony.model.accounts`           ``WasteAccounts``: the day's waste flows and
                                               yesterday's stock
:mod:`~waste_harmony.model.recorder`           ``Recorder``: the per-model tables of
                                               outputs, the series, the events, the frames
:mod:`~waste_harmony.model.history`            ``ParameterHistory``: the parameters in
                                               force, initial, and the interventions
:mod:`~waste_harmony.model.copying`            what copies and unpickled models restore
=============================================  ============================================

Why this module is over 600 lines: it is the model's whole public surface — Mesa's
model, every service of :class:`~waste_harmony.services.CityServices` that agents,
rules and scenarios call, the frames — each member documented for users, with
examples that run as doctests; the docstrings are more than half of it. The members
themselves are a few lines each: they read the model's own state or hand the work to
the part that owns it. Work that grows belongs in a part, not here. (As in the
standard library's :mod:`logging`, the core class lives in the package's ``__init__``
and its parts beside it, so its name stays ``waste_harmony.model.CityModel``.)
"""

from __future__ import annotations

import copy as copy_module
import functools
import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Self

import mesa
import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp

from waste_harmony.agents import Citizen, Corporation, Neighborhood
from waste_harmony.city.size import check_city_size
from waste_harmony.dynamics.diffusion import ImplicitDiffusion
from waste_harmony.model.accounts import WasteAccounts
from waste_harmony.model.building import CITIZENS_PER_DISTRICT, build_citizens, build_city
from waste_harmony.model.checks import (
    check_agent_step,
    check_arguments,
    check_citizen_class,
    check_count,
    check_keywords,
    check_population,
    check_rules_ran,
    check_run_days,
    check_scenario_set,
    city_graph,
    own_outputs,
    scenario_instances,
    scenario_with,
    seed_alias,
    seed_of,
    warn_if_below_converged,
)
from waste_harmony.model.copying import restore_after_load
from waste_harmony.model.history import ParameterHistory
from waste_harmony.model.members import (
    facility_status,
    gathering_rows,
    linked,
    nudged,
    parameter_events,
    people_mean,
    row_of,
    rows_of,
)
from waste_harmony.model.recorder import NEIGHBORHOOD_REPORTERS, Recorder
from waste_harmony.model.roster import Roster
from waste_harmony.parameters import Parameters
from waste_harmony.pipeline import AgentStep, Pipeline
from waste_harmony.recording import (
    OUTPUTS,
    Event,
    EventLog,
    NeighborhoodRecorder,
    OutputVariable,
)
from waste_harmony.rules import DEFAULT_RULES
from waste_harmony.scenarios.registry import ScenarioSpec, resolve
from waste_harmony.services import CityServices

__all__ = ["CityModel"]


class CityModel(mesa.Model):
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
        weight (with ``cohorts``, the default, at least
        :data:`~waste_harmony.model.building.CITIZENS_PER_DISTRICT` per populated node
        when there are enough, the rest in proportion; see
        :func:`~waste_harmony.model.building.allocate_citizens`). A run below that many
        per node warns: its story may not be the population's (docs/convergence.md).
    population : float, optional
        The number of people the citizens stand for (default ``n_citizens``: one
        each). Each node's people are shared by its citizens in equal parts, the
        super-individuals of Scheffer et al. (1995): waste is the people's, and every
        mean over citizens is weighted by the people each stands for, so a 1 % sample
        of a city (``n_citizens`` = 1 % of ``population``) runs the same city.
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
    model_reporters : mapping or sequence, optional
        A study's own model-level outputs, as Mesa's
        ``DataCollector(model_reporters=...)``: ``{name: function}``, each
        ``function(model)`` declared with :func:`waste_harmony.reporter` (unit,
        meaning), or :class:`~waste_harmony.recording.OutputVariable` entries.
        Recorded from day 0 after the built-ins, in every frame, table and file;
        module-level functions, so the model copies, pickles and goes to workers.
    neighborhood_reporters : mapping or sequence, optional
        A study's own per-neighbourhood outputs, given the same way; each function
        returns one value per node, in row order (e.g.
        ``model.homes.means(model.citizens.concern > 0.8)``).
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

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> model = CityModel(n_citizens=500, rng=42)
    >>> model.run_for(30)
    >>> df = model.datacollector.get_model_vars_dataframe()
    >>> len(df), round(float(df["waste_generated_kg"].iloc[1:].mean()) / 500, 1)
    (31, 0.7)

    A study's own output (the vectorised form: it reads the model's columns):

    >>> from waste_harmony import reporter
    >>> @reporter("share, [0, 1]", "share of citizens with concern above 0.8")
    ... def high_concern_share(model):
    ...     return float((model.citizens.concern > 0.8).mean())
    >>> model = CityModel(n_citizens=500, rng=42,
    ...                   model_reporters={"high_concern_share": high_concern_share})
    >>> model.run_for(3)
    >>> model.model_frame()["high_concern_share"].size
    4
    """

    def __init__(
        self,
        city: nx.Graph | None = None,
        *,
        n_citizens: int = 10_000,
        population: float | None = None,
        scenarios: ScenarioSpec | Iterable[ScenarioSpec] = (),
        rng: int | np.random.Generator | None = None,
        citizen_class: type[Citizen] = Citizen,
        record_neighborhoods: bool = True,
        days: int | None = None,
        model_reporters: Any = None,
        neighborhood_reporters: Any = None,
        **params: Any,
    ) -> None:
        if "seed" in params:
            rng = seed_alias(params.pop("seed"), rng)
        check_keywords(params)
        check_arguments(rng=rng, record_neighborhoods=record_neighborhoods)
        if isinstance(scenarios, Mapping):  # {"techcore": {"announce_day": 30}, ...}
            scenarios = [scenario_with(name, values) for name, values in scenarios.items()]
        self._history = ParameterHistory(Parameters.from_kwargs(params))
        check_count("n_citizens", n_citizens)
        check_population(population, n_citizens)
        if days is not None:
            check_count("days", days)
        self.days = days
        check_citizen_class(citizen_class)
        own_model, own_nodes = own_outputs(
            model_reporters, neighborhood_reporters, record_neighborhoods=record_neighborhoods
        )
        chosen = scenario_instances(scenarios)
        self.seed = seed_of(rng)
        super().__init__(rng=self.seed)
        self.n_citizens = int(n_citizens)
        self.city = graph = city_graph(city)
        # Refused from the estimate before the citizens are drawn: a population this
        # machine cannot hold used to build until the machine ran out of memory.
        check_city_size(
            graph.number_of_nodes(),
            graph.number_of_edges(),
            self.n_citizens,
            model=True,
            graph_built=True,
            what=f"CityModel(n_citizens={self.n_citizens:,})",
            fix="fewer citizens (with population= each stands for more people)",
        )
        # The state, built in this order (the random draws follow it): the city's
        # columns, geometry and space, then the citizens, then the agents.
        built = build_city(graph, self.params, random=self.random)
        self.node_ids = built.node_ids
        self._node_index = built.node_index
        self.n_nodes = len(built.node_ids)
        self.adjacency = built.adjacency
        self.degree = built.degree
        self.links = built.adjacency.copy()  # protest links; assemblies may add more
        self.neighborhoods = built.neighborhoods
        self.landfill = built.landfill
        self.positions = built.positions
        self.space = built.space
        self._geometry = built.geometry
        people = build_citizens(
            self.params, self.rng, self.n_citizens, self.neighborhoods, population
        )
        self.citizens, self.residents, self.homes = people.citizens, people.residents, people.homes
        self.people = people.people
        # As given (not the sum of the shares, which may differ in the last bit), so
        # that a manifest's value rebuilds exactly the same people.
        self.population = float(self.n_citizens if population is None else population)
        # People per citizen, per node; uniform weights keep unweighted means exact.
        self.people_per_citizen = people.people_per_citizen
        self._uniform_weights = people.uniform
        warn_if_below_converged(
            self.n_citizens,
            self.neighborhoods.population_weight,
            per_district=CITIZENS_PER_DISTRICT,
        )
        # The day's rules exist before the agents: an agent type that steps adds its
        # rule at a named point of the day when the roster creates its agents.
        self.pipeline = Pipeline(list(DEFAULT_RULES))
        self._roster = Roster(citizen_class)
        cells = [self.space[node] for node in self.node_ids]
        self._roster.populate(self, cells, self.citizens.home)

        # The parts that keep the day's records; then the scenarios, whose
        # installation may already log events or change the columns.
        self.grievances: set[str] = set()
        self._waste = WasteAccounts(stock_kg=float(self.neighborhoods.waste_stock_kg.sum()))
        self.initial_habitat_km2 = float(
            (self.neighborhoods.habitat * self.neighborhoods.area_km2).sum()
        )
        # What is recorded is a table per model: the built-ins, then a study's own
        # outputs, recorded from day 0 like them.
        self._recorder = Recorder(
            OUTPUTS,
            n_nodes=self.n_nodes,
            neighborhood_reporters=NEIGHBORHOOD_REPORTERS if record_neighborhoods else None,
            own_outputs=own_model,
            own_neighborhood=own_nodes,
        )
        self.scenarios: list[Any] = []
        for scenario in chosen:
            self.add_scenario(scenario)
        # Day 0 is the initial state, recorded here as Mesa's examples collect in
        # __init__; a subclass's __init__ records it when it returns, so the agents it
        # adds are in day 0 (see __init_subclass__).
        if not self._inits_running:
            self._record()

    # ------------------------------------------------------------------ running
    #: How many overridden ``__init__`` methods are running (see ``__init_subclass__``).
    _inits_running = 0
    #: How many overridden ``step`` methods are running (see ``__init_subclass__``).
    _steps_running = 0
    #: How often the day's rules ran inside the running override (exactly once is right).
    _rules_runs = 0

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Make a subclass's own ``__init__`` and ``step`` end day 0 and the day.

        A subclass's ``__init__`` that adds its own agents after ``super().__init__()``
        has day 0 recorded when it returns, so the initial state (and a reporter
        reading those agents) includes them.

        Mesa's habit is to override ``step``, call ``super().step()`` and do more
        (``self.agents_by_type[Depot].shuffle_do("step")``). The built-in ``step``
        would record the day inside ``super().step()``, before the extra work, so
        the extra work would be seen only the next day. An overriding ``step`` is
        therefore wrapped: ``super().step()`` runs the day's rules, and the day is
        recorded when the outermost override returns. The day's order is then the
        pipeline's rules, your extra work, the recording; to run an agent type at a
        named point *inside* the day, use :meth:`add_agent_step`. An override that
        does not call ``super().step()`` exactly once a day is refused with a
        ``RuntimeError`` naming the way (its day would record rules that never ran,
        or ran twice).
        """
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:
            cls.__init__ = _day_0_after(cls.__dict__["__init__"])  # type: ignore[method-assign]
        if "step" in cls.__dict__:
            cls.step = _recorded_after(cls.__dict__["step"])  # type: ignore[method-assign]

    def step(self) -> None:
        """Simulate one day: run the pipeline's rules in order, then record the day.

        A subclass overriding ``step`` calls ``super().step()`` for the rules; the
        day is recorded after its override returns (see ``__init_subclass__``).
        """
        self.pipeline.run(self)
        if self._steps_running:
            self._rules_runs += 1
        else:
            self._end_day()

    def _end_day(self) -> None:
        self._record()
        self.citizens.gathering[:] = -1

    def _record(self) -> None:
        self._recorder.record(self, self.day)
        self._waste.close_day(float(self.neighborhoods.waste_stock_kg.sum()))

    def add_agent_step(
        self,
        agent_class: type[mesa.Agent],
        *,
        before: str | None = None,
        after: str | None = None,
        method: str = "step",
        shuffle: bool = True,
        name: str | None = None,
    ) -> str:
        """Step a study's own agent type at a named point of the day.

        Adds a rule to :attr:`pipeline` that calls ``method`` on every agent of
        ``agent_class`` (subclasses included;
        :class:`~waste_harmony.pipeline.AgentStep`), in random order (Mesa's
        ``shuffle_do``) unless ``shuffle=False``. Without ``before``/``after`` the
        rule runs last, after every built-in rule and before the day is recorded.
        The agents are Mesa's own (``mesa.Agent``, or ``FixedAgent``/``CellAgent`` on
        ``model.space[node]``), created as in any Mesa model; copies and pickles of
        the model carry them and this rule.

        Parameters
        ----------
        agent_class : type
            A :class:`mesa.Agent` subclass with the method ``method``.
        before, after : str, optional
            A rule of :attr:`pipeline` (``model.pipeline.names()``) to run before or
            after.
        method : str
            The method called on each agent.
        shuffle : bool
            Random order (from the model's generator) or creation order.
        name : str, optional
            The rule's name (default: the class name in lower case).

        Returns
        -------
        str
            The rule's name.

        Raises
        ------
        TypeError
            If ``agent_class`` is not a Mesa agent class with that method.
        KeyError, ValueError
            For an unknown anchor or a name already taken (:meth:`Pipeline.add`).

        Examples
        --------
        >>> import mesa
        >>> from waste_harmony import CityModel
        >>> class Sweeper(mesa.discrete_space.FixedAgent):
        ...     def __init__(self, model, cell):
        ...         super().__init__(model)
        ...         self.cell = cell
        ...     def step(self):
        ...         row = self.model.node_index(self.cell.coordinate)
        ...         self.model.recycle_waste(1.0, self.model.node_ids[row])
        >>> model = CityModel(n_citizens=100, rng=1)
        >>> depot = Sweeper(model, model.space[model.node_ids[0]])
        >>> model.add_agent_step(Sweeper, after="collection")
        'sweeper'
        >>> names = model.pipeline.names()
        >>> names[names.index("collection") + 1]
        'sweeper'
        """
        check_agent_step(agent_class, method)
        rule_name = name or agent_class.__name__.lower()
        self.pipeline.add(
            rule_name, AgentStep(agent_class, method, shuffle), before=before, after=after
        )
        return rule_name

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
        check_run_days(duration)
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

    # ------------------------------------------------------------------ parameters
    @property
    def params(self) -> Parameters:
        """The parameters in force (a frozen :class:`~waste_harmony.parameters.Parameters`).

        Assigning a new ``Parameters`` mid-run goes through :meth:`set_parameters`
        (validated, logged, recorded), so the manifest stays true.
        """
        return self._history.current

    @params.setter
    def params(self, value: Parameters) -> None:
        if not isinstance(value, Parameters):
            raise TypeError(f"params must be a Parameters, got {type(value).__name__}")
        old = self._history.current
        changed = {
            n: getattr(value, n) for n in old.names() if getattr(value, n) != getattr(old, n)
        }
        self.set_parameters(changed, source="params assignment")

    @property
    def initial_params(self) -> Parameters:
        """The parameters the model was built with (before any intervention)."""
        return self._history.initial

    @property
    def interventions(self) -> list[dict[str, Any]]:
        """The parameter changes made so far, in order.

        Each is a dict with ``day`` (the day the change first applies to; the
        current day if made during a day), ``time`` (model time of the change),
        ``name``, ``old``, ``new`` and ``source`` (who made it: ``"set_parameters"``
        or a scenario's name). Saved in the manifest as ``interventions``.
        """
        return self._history.changes

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
        changes_made = self._history.change(
            {**(changes or {}), **more}, time=float(self.time), source=source
        )
        if not changes_made:
            return
        self._geometry.set_rates(self.params)
        installed = [s.name for s in self.scenarios]
        for event in parameter_events(changes_made, source=source, scenarios=installed):
            self._recorder.event_log.append(event)

    # ------------------------------------------------------------------ geometry and agents
    @property
    def lengths_km(self) -> sp.csr_array:
        """Street lengths (km) on the adjacency's pattern: the weights of distances in km."""
        return self._geometry.lengths_km

    @property
    def laplacian(self) -> sp.csr_array:
        """Finite-volume diffusion operator for concentrations (pollution), 1/km²."""
        return self._geometry.laplacian

    @property
    def dispersal_laplacian(self) -> sp.csr_array:
        """Its transpose, for amounts per cell (organism biomass, kg): conserves the total."""
        return self._geometry.dispersal_laplacian

    @property
    def pollution_diffusion_step(self) -> ImplicitDiffusion:
        """A day of pollution diffusion (backward Euler), factorised for the D in force."""
        return self._geometry.pollution_diffusion_step

    @property
    def organism_dispersal_step(self) -> ImplicitDiffusion:
        """A day of organism dispersal (backward Euler), factorised for the D in force."""
        return self._geometry.organism_dispersal_step

    def outing_destinations(self) -> sp.csr_array:
        """Where a citizen who goes out can spend the day, by street distance.

        Returns
        -------
        scipy.sparse.csr_array, shape (n_nodes, n_nodes)
            Row ``i``: the other nodes within ``params.outing_km`` street km of
            ``i``, valued by their area (km²); see
            :func:`~waste_harmony.dynamics.mobility.destinations_within`. Cached
            until ``outing_km`` changes.
        """
        return self._geometry.outing_destinations(
            self.params.outing_km, self.neighborhoods.area_km2
        )

    @property
    def citizen_class(self) -> type[Citizen]:
        """The citizens' class: :class:`~waste_harmony.Citizen` or the subclass given."""
        return self._roster.citizen_class

    # ------------------------------------------------------------------ services for rules
    def node_index(self, node: Hashable) -> int:
        """Row of a node id in the neighbourhood columns.

        Parameters
        ----------
        node : hashable
            Node id in the city graph.

        Returns
        -------
        int
            Row index.

        Raises
        ------
        KeyError
            If the node is not in the city.
        """
        return row_of(self._node_index, node)

    def neighborhood_at(self, node: Hashable) -> Neighborhood:
        """The :class:`Neighborhood` agent of a node.

        Parameters
        ----------
        node : hashable
            Node id.

        Returns
        -------
        Neighborhood
            Its agent.
        """
        row = self.node_index(node)
        # Mesa annotates cell keys as int tuples; a Network's cells are keyed by node id
        for agent in self.space[node].agents:  # type: ignore[index]
            if isinstance(agent, Neighborhood) and agent.row == row:
                return agent
        raise LookupError(f"node {node!r} has no Neighborhood agent")  # pragma: no cover

    def hooked_citizens(self, hook: str) -> list[Citizen]:
        """Citizens whose class overrides the per-agent hook ``hook``.

        Parameters
        ----------
        hook : str
            Hook name, e.g. ``"recycling_probability"``.

        Returns
        -------
        list of Citizen
            Empty when the hook is not overridden.
        """
        return self._roster.hooked_citizens(hook)

    def vectorised_overrides(self, name: str) -> list[tuple[type[Citizen], np.ndarray]]:
        """Citizen classes overriding the vectorised hook ``name``, with their rows.

        Parameters
        ----------
        name : str
            Vectorised hook name, e.g. ``"recycling_probabilities"``.

        Returns
        -------
        list of (type, numpy.ndarray)
            Each class and the rows of its citizens; empty when not overridden.
        """
        return self._roster.vectorised_overrides(name)

    def account_waste(
        self,
        *,
        generated: float = 0.0,
        recycled: float = 0.0,
        reused: float = 0.0,
        consumed: float = 0.0,
    ) -> None:
        """Add to today's waste accounts (kg). Rules that move waste must report it here.

        Parameters
        ----------
        generated, recycled, reused, consumed : float
            Kilograms.
        """
        self._waste.book(generated=generated, recycled=recycled, reused=reused, consumed=consumed)

    def _rows(self, nodes: Any) -> np.ndarray:
        return rows_of(self._node_index, nodes, n_nodes=self.n_nodes)

    def reuse_waste(
        self, amounts: np.ndarray | float, nodes: Hashable | Sequence[Hashable] | None = None
    ) -> float:
        """Take waste from neighbourhood stocks into art (reused), at most what is there.

        Parameters
        ----------
        amounts : float or array
            Kilograms wanted per node.
        nodes : node id, list of node ids, or None
            Where from; ``None`` means every node (``amounts`` per node, in row order).

        Returns
        -------
        float
            Kilograms actually reused.
        """
        return self._waste.take(
            "reused", self.neighborhoods.waste_stock_kg, self._rows(nodes), amounts
        )

    def consume_waste(
        self, amounts: np.ndarray | float, nodes: Hashable | Sequence[Hashable] | None = None
    ) -> float:
        """Take waste from neighbourhood stocks as consumed (organism, biotech).

        ``amounts`` and ``nodes`` as in :meth:`reuse_waste`.

        Returns
        -------
        float
            Kilograms actually consumed (at most what the stocks hold).
        """
        return self._waste.take(
            "consumed", self.neighborhoods.waste_stock_kg, self._rows(nodes), amounts
        )

    def recycle_waste(
        self, amounts: np.ndarray | float, nodes: Hashable | Sequence[Hashable] | None = None
    ) -> float:
        """Take waste from neighbourhood stocks as recycled (a depot, a collection round).

        Booked with the day's recycled waste, so ``recycling_rate`` and the daily
        waste balance count it. ``amounts`` and ``nodes`` as in :meth:`reuse_waste`.

        Returns
        -------
        float
            Kilograms actually recycled (at most what the stocks hold).

        Examples
        --------
        >>> from waste_harmony import CityModel
        >>> model = CityModel(n_citizens=100, rng=1)
        >>> model.run_for(1)
        >>> stock = float(model.neighborhoods.waste_stock_kg.sum())
        >>> taken = model.recycle_waste(5.0)  # up to 5 kg from every node
        >>> round(stock - float(model.neighborhoods.waste_stock_kg.sum()), 6) == round(taken, 6)
        True
        """
        return self._waste.take(
            "recycled", self.neighborhoods.waste_stock_kg, self._rows(nodes), amounts
        )

    def nudge_concern(self, rows: np.ndarray | slice, delta: float | np.ndarray) -> None:
        """Shift the concern of some citizens by ``delta`` (kept in [0, 1]).

        Parameters
        ----------
        rows : array of int, boolean mask or slice
            Citizens.
        delta : float or array
            Change (negative lowers concern, e.g. corporate PR).
        """
        nudged(self.citizens.concern, rows, delta)

    def gather(
        self,
        rows: np.ndarray | slice,
        node: Hashable | None = None,
        *,
        node_rows: np.ndarray | None = None,
    ) -> None:
        """Bring citizens to a place for today: they meet people there instead of at home.

        Gatherings last for the day being simulated (they are cleared after it is
        recorded). Give the place either as one node id (``node``) or per citizen as
        node rows (``node_rows``, e.g. each visitor's nearest venue).

        Parameters
        ----------
        rows : array of int, boolean mask or slice
            Citizens.
        node : hashable, optional
            Node id of the gathering place of all of them.
        node_rows : array of int, optional
            Row of the gathering place of each citizen in ``rows`` (same length).

        Raises
        ------
        TypeError
            If neither or both of ``node`` and ``node_rows`` are given.

        Examples
        --------
        >>> from waste_harmony import CityModel
        >>> model = CityModel(n_citizens=10, rng=0)
        >>> model.gather([0, 1], model.node_ids[5])
        >>> model.citizens.gathering[:3].tolist()
        [5, 5, -1]
        """
        self.citizens.gathering[rows] = gathering_rows(self._node_index, node, node_rows)

    def add_links(self, rows: Any, others: Any, weight: float | np.ndarray = 1.0) -> None:
        """Link pairs of neighbourhoods in the protest network, in both directions.

        Protesters observe protest across links (:func:`waste_harmony.rules.protest_step`);
        the network starts as the street adjacency. Links add up: linking a pair twice
        doubles its weight.

        Parameters
        ----------
        rows, others : array of int
            Node rows of the pairs: ``rows[i]`` is linked with ``others[i]``.
        weight : float or array
            Weight of each link (≥ 0).

        Examples
        --------
        >>> from waste_harmony import CityModel
        >>> model = CityModel(n_citizens=10, rng=0)
        >>> model.add_links([0], [99], weight=2.0)
        >>> float(model.links[0, 99]), float(model.links[99, 0])
        (2.0, 2.0)
        """
        self.links = linked(self.links, rows, others, weight)

    def events(self, kind: str, *, since_day: int | None = None) -> list[Event]:
        """Logged events of one kind, in order (an indexed query, cheap to repeat).

        Parameters
        ----------
        kind : str
            Event kind, e.g. ``"assembly_vote"``.
        since_day : int, optional
            Only events on or after this day.

        Returns
        -------
        list of Event
            The events.

        Examples
        --------
        >>> from waste_harmony import CityModel
        >>> model = CityModel(n_citizens=10, rng=0)
        >>> model.log_event("drill", node=3)
        >>> [(e.day, e.node) for e in model.events("drill")]
        [(0, 3)]
        """
        return self._recorder.event_log.of_kind(kind, since_day=since_day)

    def series(self, name: str, *, since_day: int = 0) -> np.ndarray:
        """Recorded values of a model-level variable, from ``since_day`` to the latest day.

        ``series(name)[-1]`` is the value recorded for the latest simulated day;
        ``series(name)[d]`` is day ``d`` (day 0 is the initial state).

        Parameters
        ----------
        name : str
            A variable of :data:`waste_harmony.recording.MODEL_VARIABLES`.
        since_day : int
            First day to include (day 0 is the initial state, day 1 the first
            simulated day).

        Returns
        -------
        numpy.ndarray
            One value per recorded day.

        Raises
        ------
        KeyError
            If ``name`` is not a recorded variable.

        Examples
        --------
        >>> from waste_harmony import CityModel
        >>> model = CityModel(n_citizens=100, rng=0)
        >>> model.run_for(5)
        >>> model.series("protest_share", since_day=4).shape
        (2,)
        """
        return self._recorder.series(name, since_day)

    def deploy_organism(self, node: Hashable, biomass_kg: float) -> None:
        """Release organism biomass at a node.

        Parameters
        ----------
        node : hashable
            Node id.
        biomass_kg : float
            Kilograms released (> 0).
        """
        if not biomass_kg > 0:
            raise ValueError(f"biomass_kg must be > 0, got {biomass_kg}")
        row = self.node_index(node)
        self.neighborhoods.organism_biomass[row] += biomass_kg
        self.sync_colonies()
        self.log_event("organism_deployed", node=node, biomass_kg=float(biomass_kg))

    def sync_colonies(self) -> None:
        """Create :class:`Organism` agents where colonised, remove them where died out."""
        biomass, threshold = self.neighborhoods.organism_biomass, self.params.organism_colony_kg
        self._roster.sync_colonies(self, biomass, threshold)

    def open_grievance(self, name: str) -> None:
        """Open a grievance: while any is open, concerned citizens may protest.

        Parameters
        ----------
        name : str
            Identifier (e.g. ``"facility:TechCore"``).
        """
        self.grievances.add(name)

    def close_grievance(self, name: str) -> None:
        """Close a grievance opened by :meth:`open_grievance`.

        Parameters
        ----------
        name : str
            Identifier.
        """
        self.grievances.discard(name)

    def log_event(self, kind: str, node: Hashable | None = None, **details: Any) -> None:
        """Append an event to the log, dated today.

        Parameters
        ----------
        kind : str
            What happened.
        node : hashable, optional
            Where.
        **details
            Anything else.
        """
        self._recorder.event_log.append(Event(self.day, kind, node, details))

    # ------------------------------------------------------------------ records
    @property
    def datacollector(self) -> mesa.DataCollector:
        """Model-level series, one row per recorded day.

        Day 0 (the initial state, recorded when the model is built, as in Mesa's
        examples) and each simulated day; one column per output of
        :attr:`outputs` (the built-in :data:`waste_harmony.recording.OUTPUTS`, then
        the model's own ``model_reporters``). Its reporter tables are closed: a
        study's own outputs are given when the model is built.
        """
        return self._recorder.datacollector

    @datacollector.setter
    def datacollector(self, value: mesa.DataCollector) -> None:
        # Mesa's habit (self.datacollector = DataCollector(...) in __init__) would
        # drop the built-in outputs and the recorded days: refused with the way.
        reporters = dict(getattr(value, "model_reporters", None) or {})
        names = ", ".join(f"'{n}': ..." for n in reporters) or "'name': function"
        raise AttributeError(
            "a CityModel's datacollector is built with the model (day 0 is recorded "
            "then) and cannot be replaced; give your own outputs as "
            f"CityModel(model_reporters={{{names}}}) (a subclass passes them to "
            "super().__init__), and per-neighbourhood ones as neighborhood_reporters="
        )

    @property
    def outputs(self) -> tuple[OutputVariable, ...]:
        """The model-level outputs recorded each day: the built-ins, then the model's own.

        Each :class:`~waste_harmony.recording.OutputVariable` has a name, unit and
        meaning; frames, files, the viewer and the command line's summary read them.
        """
        return self._recorder.outputs

    @property
    def own_reporters(self) -> dict[str, tuple[OutputVariable, ...]]:
        """The study's own outputs this model was built with, by argument.

        ``{"model_reporters": (...), "neighborhood_reporters": (...)}``; empty tuples
        when none were given. Manifests name their functions, so a saved run is
        rebuilt with them (:meth:`waste_harmony.results.RunResult.rerun`).
        """
        return {
            "model_reporters": self._recorder.own_outputs,
            "neighborhood_reporters": self._recorder.own_neighborhood,
        }

    @property
    def neighborhood_outputs(self) -> tuple[OutputVariable, ...]:
        """The per-neighbourhood variables recorded (built-in, then own); empty if none."""
        return self._recorder.neighborhood_outputs

    @property
    def recorded_days(self) -> list[int]:
        """The recorded days, ``[0, 1, ..., model.day]``."""
        return self._recorder.days

    @property
    def neighborhood_recorder(self) -> NeighborhoodRecorder | None:
        """Per-neighbourhood series (``None`` if built with ``record_neighborhoods=False``)."""
        return self._recorder.neighborhoods

    @property
    def event_log(self) -> EventLog:
        """The events, in order (:class:`~waste_harmony.recording.EventLog`)."""
        return self._recorder.event_log

    @property
    def corporations(self) -> list[Corporation]:
        """All :class:`Corporation` agents."""
        return [a for t, s in self.agents_by_type.items() if issubclass(t, Corporation) for a in s]

    @property
    def facility_status(self) -> str:
        """``"built"`` if any firm built, else ``"proposed"``, ``"withdrawn"`` or ``"none"``."""
        return facility_status(c.status for c in self.corporations)

    @property
    def waste_today(self) -> dict[str, float]:
        """Today's waste accounts so far (kg): generated, recycled, reused, consumed.

        Reset after each day is recorded.
        """
        return self._waste.today

    @property
    def waste_stock_yesterday_kg(self) -> float:
        """Waste in the city at the end of the last recorded day (kg)."""
        return self._waste.stock_yesterday_kg

    def resident_mean(self, values: np.ndarray) -> np.ndarray:
        """Mean of a per-citizen column over each node's residents (0 where nobody lives).

        Parameters
        ----------
        values : numpy.ndarray, shape (n_citizens,)
            Per-citizen values; a boolean column gives the share of residents.

        Returns
        -------
        numpy.ndarray, shape (n_nodes,)
            Per-node means, in node row order.
        """
        return self.homes.means(values)

    def citizen_mean(self, values: np.ndarray) -> float:
        """Mean of a per-citizen column over the people the citizens stand for.

        Each citizen counts with the people it stands for
        (:attr:`people_per_citizen` of its home), so the mean is the population's
        whatever the citizens per node; when every citizen stands for as many people
        (``cohorts=False``) it is the plain mean.

        Parameters
        ----------
        values : numpy.ndarray, shape (n_citizens,)
            Per-citizen values; a boolean column gives the share of people.

        Returns
        -------
        float
            The mean (0 without citizens).

        Examples
        --------
        >>> model = CityModel(n_citizens=2000, rng=0)
        >>> share = model.citizen_mean(model.citizens.concern > 0.5)
        >>> 0.3 < share < 0.5, model.citizen_mean(model.citizens.concern) == model.mean_concern
        (True, True)
        """
        if self.n_citizens == 0:
            return 0.0
        return people_mean(
            values,
            homes=self.homes,
            people=self.people,
            population=self.population,
            uniform=self._uniform_weights,
        )

    def access_gini(self) -> float:
        """Population-weighted Gini of neighbourhood biotech access (cached until either changes).

        Returns
        -------
        float
        """
        return self._recorder.access_gini(self.neighborhoods.biotech_access, self.people)

    def model_frame(self) -> pd.DataFrame:
        """Model-level series indexed by day (the DataCollector's frame).

        Returns
        -------
        pandas.DataFrame
            One row per recorded day, from day 0 (the initial state: waste flows
            are 0, the stock is the initial stock) to the latest day.
        """
        return self._recorder.model_frame()

    def neighborhood_frame(self) -> pd.DataFrame:
        """Per-neighbourhood series: one row per (day, node).

        Returns
        -------
        pandas.DataFrame
            Columns ``day``, ``node``, ``zone``, ``area_km2`` (the weight of the
            node's concentrations when averaged over nodes; ``population`` weighs its
            residents' shares) and the variables of
            :data:`waste_harmony.recording.NEIGHBORHOOD_VARIABLES`.

        Raises
        ------
        RuntimeError
            If the model was built with ``record_neighborhoods=False``.
        """
        hoods = self.neighborhoods
        return self._recorder.neighborhood_frame(self.node_ids, hoods.zone, hoods.area_km2)

    def event_frame(self) -> pd.DataFrame:
        """The event log as a DataFrame (``day``, ``kind``, ``node``, details).

        Returns
        -------
        pandas.DataFrame
            One row per event.
        """
        return self._recorder.event_log.frame()

    # ------------------------------------------------------------------ copying
    def copy(self) -> Self:
        """An independent copy of this model, mid-run included.

        The copy holds its own columns, agents, random generators (in the same
        state), scheduled events and recurring event generators, scenarios (bound to
        the copy), pipeline, DataCollector and recorders; continuing both for the
        same number of days gives identical series. Used to branch a run at an
        intervention day (:func:`waste_harmony.experiments.compare`). Pickling a
        model works the same way.

        Returns
        -------
        CityModel
            The copy.

        Examples
        --------
        >>> from waste_harmony import CityModel
        >>> model = CityModel(n_citizens=200, rng=4)
        >>> model.run_for(10)
        >>> twin = model.copy()
        >>> model.run_for(20); twin.run_for(20)
        >>> model.model_frame().equals(twin.model_frame())
        True
        """
        return copy_module.deepcopy(self)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        restore_after_load(state)


def _recorded_after(step: Any) -> Any:
    """A subclass's ``step``, made to record the day when the outermost override returns."""

    @functools.wraps(step)
    def day(self: CityModel) -> None:
        if not self._steps_running:
            self._rules_runs = 0
        self._steps_running += 1
        try:
            step(self)
        finally:
            self._steps_running -= 1
        if not self._steps_running:
            check_rules_ran(step.__qualname__, self._rules_runs)
            self._end_day()

    return day


def _day_0_after(init: Any) -> Any:
    """A subclass's ``__init__``, made to record day 0 when the outermost override returns."""

    @functools.wraps(init)
    def build(self: CityModel, *args: Any, **kwargs: Any) -> None:
        self._inits_running += 1
        try:
            init(self, *args, **kwargs)
        finally:
            self._inits_running -= 1
        if not self._inits_running:
            self._record()

    return build


if TYPE_CHECKING:

    def _offers_services(model: CityModel) -> CityServices:
        # mypy checks here that CityModel satisfies the services protocol.
        return model
