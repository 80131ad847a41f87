"""Building a CityModel: the city's columns and geometry, the citizens and the agents.

:class:`BuildingMixin` is the building part of :class:`waste_harmony.CityModel`
(composed in :mod:`waste_harmony.model`). ``CityModel.__init__`` sets the parameters,
``n_citizens`` and ``citizen_class``, then calls ``_build_city``, ``_build_citizens``
and ``_build_agents`` in that order; :meth:`~waste_harmony.CityModel.set_parameters`
calls ``_set_diffusion``.
"""

from __future__ import annotations

import math
from typing import Any

import mesa
import networkx as nx
import numpy as np
import scipy.sparse as sp

from waste_harmony import city as city_module
from waste_harmony.agents import Citizen, Neighborhood, Organism, RowGroups, StateTable
from waste_harmony.agents.space import network_space
from waste_harmony.dynamics.attention import baseline_for_equilibrium
from waste_harmony.dynamics.diffusion import ImplicitDiffusion, finite_volume_laplacian
from waste_harmony.dynamics.mobility import destinations_within
from waste_harmony.dynamics.perception import perceived_harm
from waste_harmony.parameters import ROLE_NAMES, Parameters

__all__ = ["BuildingMixin"]

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


class BuildingMixin(mesa.Model):
    """Builds a :class:`~waste_harmony.CityModel`'s columns, geometry and agents.

    A part of ``CityModel``, not a model on its own. It creates the attributes the
    other parts read: ``node_ids``, ``n_nodes``, ``neighborhoods``, ``citizens``,
    ``residents``, ``space``, ``links`` and the diffusion operators.
    """

    # Set by CityModel.__init__ before building.
    params: Parameters
    n_citizens: int
    citizen_class: type[Citizen]
    # Set by _set_diffusion: the day's diffusion steps for the rates in force.
    pollution_diffusion_step: ImplicitDiffusion
    organism_dispersal_step: ImplicitDiffusion

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
        # P' = B + exp(-δ)(P + S - B), i.e. B + S / (exp(δ) - 1); with no removal
        # (δ = 0), start at the background.
        p = self.params
        base = p.industrial_emission_scale * hoods.industrial_emission
        local = base / math.expm1(p.pollution_decay) if p.pollution_decay > 0 else np.zeros(m)
        hoods.add("pollution", p.background_pollution + local)
        self.neighborhoods = hoods
        self.landfill = hoods.zone == "industrial"
        if not self.landfill.any():
            # No industrial zone: waste goes to the least populated node.
            self.landfill[int(np.argmin(hoods.population_weight))] = True
        #: Node positions (km) in row order, shape (n_nodes, 2).
        self.positions = np.column_stack([arrays["x"], arrays["y"]])
        positions = dict(zip(self.node_ids, map(tuple, self.positions.tolist()), strict=True))
        # Always pass the city's own positions: Mesa's default spring layout is quadratic.
        # Mesa's Network, its cells connected in one pass (agents/space.py).
        self.space = network_space(graph, layout=positions, random=self.random)

    def _build_geometry(self, graph: nx.Graph, arrays: dict[str, Any]) -> None:
        """Edge lengths (km) and the finite-volume diffusion operators (1/km²).

        ``length_km`` (else the Euclidean distance between the node positions) and
        ``border_km`` (when the city comes from polygons) of each edge; see
        :func:`~waste_harmony.dynamics.diffusion.finite_volume_laplacian`.
        """
        xy = np.column_stack([arrays["x"], arrays["y"]])
        n = self.n_nodes
        links = arrays["edges"]  # in graph.edges() order, as the columns below
        keep = links[:, 0] != links[:, 1]  # self-loops carry no flux
        ui, vi = links[keep, 0], links[keep, 1]
        lengths = arrays["edge_length_km"][keep]
        border = arrays["edge_border_km"][keep]
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
        self._set_diffusion(self.params)
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

    def _set_diffusion(self, params: Parameters) -> None:
        # Backward Euler steps for the rates in force, factorised on first use and
        # reused every day; rebuilt only when a rate changes (set_parameters).
        for name, lap, rate in (
            ("pollution_diffusion_step", self.laplacian, params.pollution_diffusion),
            ("organism_dispersal_step", self.dispersal_laplacian, params.organism_dispersal),
        ):
            step = self.__dict__.get(name)
            if step is None or step.rate != rate:
                setattr(self, name, ImplicitDiffusion(lap, rate))

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
        # Each citizen's baseline: the concern their initial concern balances with under
        # the initial air at home (dynamics.attention), so a city left alone keeps it.
        harm = perceived_harm(self.neighborhoods.pollution[home], p.pollution_half_saturation)
        c.add(
            "baseline_concern",
            baseline_for_equilibrium(c.concern, harm, p.pollution_concern_rate, p.concern_fading),
        )
        c.add(
            "threshold",
            np.clip(rng.normal(p.protest_threshold_mean, p.protest_threshold_sd, n), 0.0, 1.0),
        )
        c.add("protesting", np.zeros(n, dtype=bool))
        c.add("recycled", np.zeros(n, dtype=bool))
        c.add("adopted", np.zeros(n, dtype=bool))
        c.add("role_code", np.zeros(n, dtype=np.int8))
        home.flags.writeable = False  # homes are fixed for a run: self.homes relies on it
        self.citizens = c
        self.residents = counts.astype(np.float64)
        self.homes = RowGroups(counts, labels=home)
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
