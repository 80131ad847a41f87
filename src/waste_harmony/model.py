"""CityModel: a Mesa model of a city's citizens, neighbourhoods, firms and organism.

The model wires the layers together: the city graph (:mod:`waste_harmony.city`),
the agents (:mod:`waste_harmony.agents`), the vectorised rules
(:mod:`waste_harmony.rules` over :mod:`waste_harmony.dynamics`), scenario modules
(:mod:`waste_harmony.scenarios`) and recording (:mod:`waste_harmony.recording`).
One step is one day.
"""

from __future__ import annotations

import copy as copy_module
import dataclasses
import itertools
import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import mesa
import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
from mesa.discrete_space import Network

from waste_harmony import city as city_module
from waste_harmony.agents import Citizen, Corporation, Neighborhood, Organism, StateTable
from waste_harmony.dynamics.diffusion import diffusion_substeps, finite_volume_laplacian
from waste_harmony.dynamics.inequality import gini
from waste_harmony.dynamics.mobility import destinations_within
from waste_harmony.parameters import ROLE_NAMES, Parameters
from waste_harmony.paramspec import unknown_keyword
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

_NODE_COLUMNS = (
    "population",
    "marginalisation",
    "biotech_access",
    "habitat",
    "area_km2",
    "recycling_infrastructure",
    "industrial_emission",
    "land_price",
)


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
            rng = _seed_alias(params.pop("seed"), rng)
        _check_keywords(params)
        _check_arguments(rng=rng, record_neighborhoods=record_neighborhoods)
        if isinstance(scenarios, Mapping):  # {"techcore": {"announce_day": 30}, ...}
            scenarios = [_scenario_with(name, values) for name, values in scenarios.items()]
        self.params = Parameters.from_kwargs(params)
        _check_count("n_citizens", n_citizens)
        if days is not None:
            _check_count("days", days)
        self.days = days
        if not (isinstance(citizen_class, type) and issubclass(citizen_class, Citizen)):
            raise TypeError(
                f"citizen_class must be Citizen or a subclass of it, got {citizen_class!r}"
            )
        if isinstance(scenarios, str | mesa.Model) or not isinstance(scenarios, Iterable):
            scenarios = [scenarios]
        chosen = [resolve(s) for s in scenarios]
        _check_scenario_set(chosen)
        if isinstance(rng, np.random.Generator):
            # Mesa derives its own seed from the generator: keep determinism explicit.
            rng = int(rng.integers(2**63))
        elif rng is None:
            # Draw the seed from OS entropy and keep it, so every run can be repeated.
            # (SeedSequence() draws its entropy itself, so it is an int)
            rng = int(cast(int, np.random.SeedSequence().entropy) % 2**63)
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

    # ------------------------------------------------------------------ building
    def _build_city(self, graph: nx.Graph) -> None:
        arrays = city_module.city_arrays(graph)
        self.node_ids: list[Any] = list(arrays["nodes"])
        self._node_index = {node: i for i, node in enumerate(self.node_ids)}
        self.n_nodes = len(self.node_ids)
        adjacency = sp.csr_array(arrays["adjacency"], dtype=np.float64)
        adjacency.sort_indices()
        self.adjacency = adjacency
        self.degree = np.diff(adjacency.indptr)
        self.links = adjacency.copy()  # protest links; assemblies may add more
        self._build_geometry(graph, arrays)
        hoods = StateTable(self.n_nodes)
        hoods.add("zone", np.asarray(arrays["zone"], dtype=object))
        for name in _NODE_COLUMNS:
            hoods.add(name, np.asarray(arrays[name], dtype=np.float64).copy())
        hoods.add("population_weight", hoods.population.copy())
        m = self.n_nodes
        for name in (
            "waste_stock_kg",
            "organism_biomass",
            "extra_emission",
            "extra_waste_kg",
            "protest_threshold_shift",
            "recycling_norm",
        ):
            hoods.add(name, np.zeros(m))
        # Start each node at the steady state of its own industrial emissions under
        # P' = exp(-δ)(P + S), i.e. S / (exp(δ) - 1); with no removal (δ = 0), start clean.
        decay = self.params.pollution_decay
        base = self.params.industrial_emission_scale * hoods.industrial_emission
        hoods.add("pollution", base / math.expm1(decay) if decay > 0 else np.zeros(m))
        self.neighborhoods = hoods
        self.landfill = hoods.zone == "industrial"
        if not self.landfill.any():
            # No industrial zone: waste goes to the least populated node.
            self.landfill[int(np.argmin(hoods.population_weight))] = True
        positions = {node: tuple(map(float, graph.nodes[node]["pos"])) for node in self.node_ids}
        #: Node positions (km) in row order, shape (n_nodes, 2).
        self.positions = np.array([positions[node] for node in self.node_ids], dtype=np.float64)
        # Always pass the city's own positions: Mesa's default spring layout is quadratic.
        self.space = Network(graph, layout=positions, random=self.random)

    def _build_geometry(self, graph: nx.Graph, arrays: dict[str, Any]) -> None:
        """Edge lengths (km) and the finite-volume diffusion operators (1/km²).

        ``length_km`` (else the Euclidean distance between the node positions) and
        ``border_km`` (when the city comes from polygons) of each edge; see
        :func:`~waste_harmony.dynamics.diffusion.finite_volume_laplacian`.
        """
        xy = np.column_stack([arrays["x"], arrays["y"]])
        n, index = self.n_nodes, self._node_index
        u, v, length, border = [], [], [], []
        for a, b, data in graph.edges(data=True):
            if a == b:
                continue
            u.append(index[a])
            v.append(index[b])
            length.append(float(data.get("length_km", math.nan)))
            border.append(float(data.get("border_km", math.nan)))
        ui, vi = np.asarray(u, dtype=np.int64), np.asarray(v, dtype=np.int64)
        lengths = np.asarray(length, dtype=np.float64)
        euclid = np.hypot(*(xy[ui] - xy[vi]).T) if ui.size else np.zeros(0)
        lengths = np.where(np.isfinite(lengths) & (lengths > 0), lengths, euclid)
        positive = lengths[lengths > 0]
        # Coincident nodes without a length: fall back on the typical edge length.
        lengths = np.where(lengths > 0, lengths, np.median(positive) if positive.size else 1.0)
        rows, cols = np.r_[ui, vi], np.r_[vi, ui]

        def on_pattern(values: np.ndarray) -> sp.csr_array:
            out = sp.csr_array((np.r_[values, values], (rows, cols)), shape=(n, n))
            out.sort_indices()
            return out

        #: Street lengths (km) on the adjacency's pattern: the weights of distances in km.
        self.lengths_km = on_pattern(lengths)
        borders = on_pattern(np.asarray(border, dtype=np.float64))
        area = np.asarray(arrays["area_km2"], dtype=np.float64)
        #: Finite-volume operator for concentrations (pollution), 1/km².
        self.laplacian = finite_volume_laplacian(self.lengths_km, area, borders)
        #: Its transpose, for amounts per cell (organism biomass, kg): conserves the total.
        self.dispersal_laplacian = sp.csr_array(self.laplacian.T)
        self._set_substeps(self.params)
        self._outings: tuple[float, sp.csr_array] | None = None

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
        km = self.params.outing_km
        if self._outings is None or self._outings[0] != km:
            area = self.neighborhoods.area_km2
            self._outings = (km, destinations_within(self.lengths_km, area, km))
        return self._outings[1]

    def _set_substeps(self, params: Parameters) -> None:
        # Explicit sub-steps keep diffusion positivity preserving: they depend on the
        # operator's largest diagonal entry (1/km²) and on the rates in force, so they
        # are recomputed whenever the rates change (set_parameters).
        rate = float(self.laplacian.diagonal().max(initial=0.0))
        self.pollution_substeps = diffusion_substeps(params.pollution_diffusion, rate)
        self.organism_substeps = diffusion_substeps(params.organism_dispersal, rate)

    def _build_citizens(self) -> None:
        p, rng, m = self.params, self.rng, self.n_nodes
        weight = self.neighborhoods.population_weight
        counts = rng.multinomial(self.n_citizens, weight / weight.sum())
        home = np.repeat(np.arange(m, dtype=np.int64), counts)
        n = self.n_citizens
        c = StateTable(n)
        c.add("home", home)
        c.add("location", home.copy())
        c.add("gathering", np.full(n, -1, dtype=np.int64))
        mean, sd = p.initial_concern_mean, p.initial_concern_sd
        k = mean * (1 - mean) / sd**2 - 1
        if k <= 0:
            raise ValueError(
                f"initial_concern_sd={sd} is too large for mean {mean}: need "
                f"sd < sqrt(mean (1 - mean)) = {math.sqrt(mean * (1 - mean)):.3f}"
            )
        c.add("concern", rng.beta(mean * k, (1 - mean) * k, n))
        c.add(
            "threshold",
            np.clip(rng.normal(p.protest_threshold_mean, p.protest_threshold_sd, n), 0.0, 1.0),
        )
        c.add("protesting", np.zeros(n, dtype=bool))
        c.add("recycled", np.zeros(n, dtype=bool))
        c.add("adopted", np.zeros(n, dtype=bool))
        c.add("role_code", np.zeros(n, dtype=np.int8))
        self.citizens = c
        self.residents = counts.astype(np.float64)
        self.neighborhoods.population[:] = counts
        total_roles = sum(p.roles.values())
        if total_roles > n:
            raise ValueError(
                f"roles ask for {total_roles} citizens but n_citizens is {n}; "
                "lower the role counts (roles={'designer': 0, ...}; on the command "
                "line --param 'roles={designer=0, organiser=0, scientist=0, "
                "artist=0}') or raise n_citizens"
            )
        chosen: np.ndarray | list[int] = (
            rng.choice(n, size=total_roles, replace=False) if total_roles else []
        )
        start = 0
        for code, role in enumerate(ROLE_NAMES, start=1):
            count = p.roles.get(role, 0)
            c.role_code[chosen[start : start + count]] = code
            start += count
        # Yesterday's recycling share before day 1: each resident's probability at norm 0.
        from waste_harmony.dynamics.recycling import recycling_probability

        prob = recycling_probability(
            c.concern,
            0.0,
            self.neighborhoods.recycling_infrastructure[home],
            **p.recycling_coefficients(),
        )
        self.neighborhoods.recycling_norm[:] = np.divide(
            np.bincount(home, weights=prob, minlength=m), counts, out=np.zeros(m), where=counts > 0
        )

    def _build_agents(self) -> None:
        self.citizen_class.check_class()  # refuses step()/both forms, naming the hooks
        cells = [self.space[node] for node in self.node_ids]
        Neighborhood.create_in_cells(self, np.arange(self.n_nodes), cells)
        cls = self.citizen_class
        # In bulk: the same registered agents as cls(self, row, cells[h]) per row.
        cls.create_in_cells(self, self.citizens.home, cells)
        self._colonies: dict[int, Organism] = {}
        self._hooked: dict[str, list[Citizen]] = {}
        overridden = cls.overridden_hooks()
        if overridden:
            agents = list(self.agents_by_type[cls])
            for hook in overridden:
                self._hooked[hook] = agents
        # Vectorised hooks: called once a day with the arrays of the class's rows.
        self._vectorised: dict[str, list[tuple[type[Citizen], np.ndarray]]] = {
            name: [(cls, np.arange(self.n_citizens))] for name in cls.overridden_vectorised_hooks()
        }

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
        _check_scenario_set([*self.scenarios, instance])
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
        try:
            return self._node_index[node]
        except (KeyError, TypeError):
            raise KeyError(f"node {node!r} is not in the city graph") from None

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
        return self._hooked.get(hook, [])

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
        return self._vectorised.get(name, [])

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
        a = self._accounts
        a["generated"] += generated
        a["recycled"] += recycled
        a["reused"] += reused
        a["consumed"] += consumed

    def _take_waste(self, amounts: np.ndarray | float, nodes: Any) -> np.ndarray:
        stock = self.neighborhoods.waste_stock_kg
        rows = np.arange(self.n_nodes) if nodes is None else self._rows_of(nodes)
        wanted = np.broadcast_to(np.asarray(amounts, dtype=np.float64), rows.shape)
        if np.any(wanted < 0) or not np.all(np.isfinite(wanted)):
            raise ValueError("waste amounts must be finite and non-negative")
        # The same node may be named twice: add its requests up before taking.
        unique, inverse = np.unique(rows, return_inverse=True)
        requested = np.bincount(inverse, weights=wanted, minlength=len(unique))
        taken = np.minimum(stock[unique], requested)
        stock[unique] -= taken
        return taken

    def _rows_of(self, nodes: Any) -> np.ndarray:
        # One node id (tuples and strings are ids too) or an iterable of ids.
        try:
            single = nodes in self._node_index
        except TypeError:  # unhashable: a list or array of ids
            single = False
        if single:
            return np.array([self._node_index[nodes]])
        return np.array([self.node_index(n) for n in nodes], dtype=np.int64)

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
        taken = float(self._take_waste(amounts, nodes).sum())
        self.account_waste(reused=taken)
        return taken

    def consume_waste(
        self, amounts: np.ndarray | float, nodes: Hashable | Sequence[Hashable] | None = None
    ) -> float:
        """Take waste from neighbourhood stocks as consumed (organism, biotech).

        Parameters
        ----------
        amounts : float or array
            Kilograms wanted per node.
        nodes : node id, list of node ids, or None
            Where from; ``None`` means every node.

        Returns
        -------
        float
            Kilograms actually consumed.
        """
        taken = float(self._take_waste(amounts, nodes).sum())
        self.account_waste(consumed=taken)
        return taken

    def nudge_concern(self, rows: np.ndarray | slice, delta: float | np.ndarray) -> None:
        """Shift the concern of some citizens by ``delta`` (kept in [0, 1]).

        Parameters
        ----------
        rows : array of int, boolean mask or slice
            Citizens.
        delta : float or array
            Change (negative lowers concern, e.g. corporate PR).
        """
        concern = self.citizens.concern
        concern[rows] = np.clip(concern[rows] + delta, 0.0, 1.0)

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
        >>> model = CityModel(n_citizens=10, rng=0)
        >>> model.gather([0, 1], model.node_ids[5])
        >>> model.citizens.gathering[:3].tolist()
        [5, 5, -1]
        """
        if (node is None) == (node_rows is None):
            raise TypeError("give the gathering place as node=<node id> or node_rows=<rows>")
        where = self.node_index(node) if node_rows is None else node_rows
        self.citizens.gathering[rows] = where

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
        >>> model = CityModel(n_citizens=10, rng=0)
        >>> model.add_links([0], [99], weight=2.0)
        >>> float(model.links[0, 99]), float(model.links[99, 0])
        (2.0, 2.0)
        """
        a = np.asarray(rows, dtype=np.int64).reshape(-1)
        b = np.asarray(others, dtype=np.int64).reshape(-1)
        if a.shape != b.shape:
            raise ValueError(f"rows and others must pair up: got {a.size} rows and {b.size} others")
        w = np.broadcast_to(np.asarray(weight, dtype=np.float64), a.shape)
        if np.any(w < 0) or not np.all(np.isfinite(w)):
            raise ValueError("link weights must be finite and >= 0")
        m = self.n_nodes
        new = sp.csr_array(
            (np.concatenate([w, w]), (np.concatenate([a, b]), np.concatenate([b, a]))),
            shape=(m, m),
        )
        self.links = sp.csr_array(self.links + new)

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
        >>> model = CityModel(n_citizens=10, rng=0)
        >>> model.log_event("drill", node=3)
        >>> [(e.day, e.node) for e in model.events("drill")]
        [(0, 3)]
        """
        return self.event_log.of_kind(kind, since_day=since_day)

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
        >>> model = CityModel(n_citizens=100, rng=0)
        >>> model.run_for(5)
        >>> model.series("protest_share", since_day=4).shape
        (2,)
        """
        values = self.datacollector.model_vars.get(name)
        if values is None:
            raise KeyError(
                f"{name!r} is not a recorded model variable; recorded: "
                f"{sorted(self.datacollector.model_vars)}"
            )
        return np.asarray(values[max(since_day, 0) :])

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
        biomass = self.neighborhoods.organism_biomass
        threshold = self.params.organism_colony_kg
        for row in np.flatnonzero(biomass >= threshold).tolist():
            if row not in self._colonies:
                node = self.node_ids[row]
                self._colonies[row] = Organism(self, row, self.space[node], self.day)
        for row in [r for r in self._colonies if biomass[r] < threshold / 10]:
            self._colonies.pop(row).remove()

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
        self.event_log.append(Event(self.day, kind, node, details))

    # ------------------------------------------------------------------ recording
    @property
    def corporations(self) -> list[Corporation]:
        """All :class:`Corporation` agents."""
        return [a for t, s in self.agents_by_type.items() if issubclass(t, Corporation) for a in s]

    @property
    def facility_status(self) -> str:
        """``"built"`` if any firm built, else ``"proposed"``, ``"withdrawn"`` or ``"none"``."""
        statuses = {c.status for c in self.corporations}
        for status in ("built", "proposed", "withdrawn"):
            if status in statuses:
                return status
        return "none"

    @property
    def waste_today(self) -> dict[str, float]:
        """Today's waste accounts so far (kg): generated, recycled, reused, consumed.

        Reset after each day is recorded.
        """
        return dict(self._accounts)

    @property
    def waste_stock_yesterday_kg(self) -> float:
        """Waste in the city at the end of the last recorded day (kg)."""
        return self._stock_at_last_record

    def _record(self) -> None:
        # Every model-level output is one entry of recording.OUTPUTS.
        self.recorded_days.append(self.day)
        for output in OUTPUTS:
            if output.compute is not None:
                setattr(self, output.name, output.compute(self))
        self.datacollector.collect(self)
        if self.neighborhood_recorder is not None:
            self.neighborhood_recorder.append(self.day, self._neighborhood_values())
        self._stock_at_last_record = float(self.neighborhoods.waste_stock_kg.sum())
        for key in self._accounts:
            self._accounts[key] = 0.0

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
        home, residents, m = self.citizens.home, self.residents, self.n_nodes
        if values.dtype == bool:  # counting selected homes: same numbers, faster
            total = np.bincount(home[values], minlength=m).astype(np.float64)
        else:
            total = np.bincount(home, weights=values, minlength=m)
        return np.divide(total, residents, out=np.zeros(m), where=residents > 0)

    def _neighborhood_values(self) -> dict[str, np.ndarray]:
        c, hoods, residents = self.citizens, self.neighborhoods, self.residents
        share = self.resident_mean
        return {
            "population": residents,
            "concern": share(c.concern),
            "waste_stock_kg": hoods.waste_stock_kg,
            "pollution": hoods.pollution,
            "habitat": hoods.habitat,
            "biotech_access": hoods.biotech_access,
            "organism_biomass": hoods.organism_biomass,
            "protest_share": share(c.protesting),
            "recycling_share": share(c.recycled),
            "biotech_adoption": share(c.adopted),
        }

    def neighborhood_frame(self) -> pd.DataFrame:
        """Per-neighbourhood series: one row per (day, node).

        Returns
        -------
        pandas.DataFrame
            Columns ``day``, ``node``, ``zone`` and the variables of
            :data:`waste_harmony.recording.NEIGHBORHOOD_VARIABLES`.

        Raises
        ------
        RuntimeError
            If the model was built with ``record_neighborhoods=False``.
        """
        if self.neighborhood_recorder is None:
            raise RuntimeError(
                "this model was built with record_neighborhoods=False; "
                "build it with record_neighborhoods=True to get the frame"
            )
        recorder = self.neighborhood_recorder
        frame = recorder.frame(list(range(self.n_nodes)))
        # Node ids keep their own type; built element-wise so tuple ids stay one value.
        ids = np.empty(self.n_nodes, dtype=object)
        for i, node in enumerate(self.node_ids):
            ids[i] = node
        frame["node"] = pd.Series(ids[frame["node"].to_numpy(dtype=np.int64)], dtype=object)
        zones = np.tile(self.neighborhoods.zone, recorder.n_days)
        frame.insert(2, "zone", zones)
        return frame

    def event_frame(self) -> pd.DataFrame:
        """The event log as a DataFrame (``day``, ``kind``, ``node``, details).

        Returns
        -------
        pandas.DataFrame
            One row per event.
        """
        return self.event_log.frame()

    def model_frame(self) -> pd.DataFrame:
        """Model-level series indexed by day (the DataCollector's frame).

        Returns
        -------
        pandas.DataFrame
            One row per recorded day, from day 0 (the initial state: waste flows
            are 0, the stock is the initial stock) to the latest day.
        """
        frame = self.datacollector.get_model_vars_dataframe()
        frame.index = pd.Index(self.recorded_days, dtype=np.int64, name="day")
        return frame

    def access_gini(self) -> float:
        """Population-weighted Gini of neighbourhood biotech access (cached until either changes).

        Returns
        -------
        float
        """
        # Access and residents rarely change: recompute the Gini (a sort) only when they do.
        access, residents = self.neighborhoods.biotech_access, self.residents
        cached = getattr(self, "_gini_cache", None)
        if (
            cached is None
            or not np.array_equal(cached[0], access)
            or not np.array_equal(cached[1], residents)
        ):
            cached = (access.copy(), residents.copy(), gini(access, residents))
            self._gini_cache = cached
        return cached[2]

    # ------------------------------------------------------------------ copying
    def copy(self) -> CityModel:
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
        >>> model = CityModel(n_citizens=200, rng=4)
        >>> model.run_for(10)
        >>> twin = model.copy()
        >>> model.run_for(20); twin.run_for(20)
        >>> model.model_frame().equals(twin.model_frame())
        True
        """
        return copy_module.deepcopy(self)

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Mesa numbers events from a class-level counter and breaks ties between
        # events at the same time and priority by that number. In a fresh process
        # (an unpickled model) the counter restarts at 0; move it past the restored
        # events so new events still sort after older ones, as they would have.
        self.__dict__.update(state)
        events = getattr(state.get("_event_list"), "_events", [])
        if events:
            from mesa.time.events import Event as MesaEvent

            latest = max(e.unique_id for e in events) + 1
            following = next(MesaEvent._ids)
            MesaEvent._ids = itertools.count(max(latest, following + 1))


_MODEL_ARGUMENTS = (
    "city",
    "n_citizens",
    "scenarios",
    "rng",
    "citizen_class",
    "record_neighborhoods",
    "days",
)


def _seed_alias(seed: Any, rng: Any) -> Any:
    # Mesa 3.5 spells the seed argument rng= and still accepts seed= with a
    # FutureWarning; every model class here does the same.
    if rng is not None:
        raise ValueError("give either rng= or seed=, not both (seed= is the deprecated spelling)")
    import warnings

    warnings.warn(
        "the seed= keyword is deprecated, as in Mesa 3.5; use rng= instead (same meaning)",
        FutureWarning,
        stacklevel=3,
    )
    return seed


def _check_keywords(params: dict[str, Any]) -> None:
    valid = Parameters.names()
    for key in params:
        if key not in valid:
            raise TypeError(unknown_keyword(key, [*_MODEL_ARGUMENTS, *valid]))


def _check_arguments(*, rng: Any, record_neighborhoods: Any) -> None:
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


def _scenario_with(name: Any, values: Any) -> Any:
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


def _check_count(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}; pass a non-negative count")


def _check_scenario_set(scenarios: list[Any]) -> None:
    names = [s.name for s in scenarios]
    for s in scenarios:
        if names.count(s.name) > 1:
            raise ValueError(f"scenario {s.name!r} is given twice; install it once")
        clash = [other for other in s.conflicts_with if other in names]
        if clash:
            raise ValueError(
                f"scenario {s.name!r} cannot be combined with {clash[0]!r}; remove one of them"
            )


if TYPE_CHECKING:

    def _offers_services(model: CityModel) -> CityServices:
        # mypy checks here that CityModel satisfies the services protocol.
        return model
