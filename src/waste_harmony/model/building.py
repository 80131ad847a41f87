"""Building a CityModel's state: the city's columns and space, then the citizens.

The builder of :class:`waste_harmony.CityModel`: pure functions that take what they
need (the city graph, the parameters, the random generators) and return what they
build, which the model then owns. ``CityModel.__init__`` calls :func:`build_city`,
then :func:`build_citizens`, then creates the agents
(:meth:`waste_harmony.model.roster.Roster.populate`), in that order: the random
draws happen in that order, so the same seed builds the same city.

A new per-node column is one line of :func:`build_city`; a new per-citizen column
(a super-individual's ``weight``, say) is one line of :func:`build_citizens`, where
``homes`` and ``residents`` are made too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from random import Random
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp
from mesa.discrete_space import Network

from waste_harmony import city as city_module
from waste_harmony.agents.space import network_space
from waste_harmony.dynamics.attention import baseline_for_equilibrium
from waste_harmony.dynamics.perception import perceived_harm
from waste_harmony.dynamics.recycling import recycling_probability
from waste_harmony.model.geometry import Geometry
from waste_harmony.parameters import ROLE_NAMES, Parameters
from waste_harmony.tables import RowGroups, StateTable

__all__ = ["NODE_COLUMNS", "BuiltCity", "Population", "build_citizens", "build_city"]

#: Node attributes of the city graph copied into the neighbourhood columns (floats):
#: every attribute the city requires but ``zone`` (a column of its own) and ``pos``.
NODE_COLUMNS: tuple[str, ...] = tuple(
    a for a in city_module.NODE_ATTRIBUTES if a not in ("zone", "pos")
)

#: Neighbourhood columns that start at zero.
_ZERO_COLUMNS = (
    "waste_stock_kg",
    "organism_biomass",
    "extra_emission",
    "extra_waste_kg",
    "protest_threshold_shift",
    "recycling_norm",
)


@dataclass(frozen=True)
class BuiltCity:
    """What :func:`build_city` builds; the model keeps each piece as its attribute.

    Attributes
    ----------
    node_ids : list
        Node ids in row order.
    node_index : dict
        Node id → row.
    adjacency : scipy.sparse.csr_array
        Street adjacency, sorted CSR.
    degree : numpy.ndarray
        Street neighbours per node.
    geometry : Geometry
        Street lengths and diffusion operators.
    neighborhoods : StateTable
        The node columns.
    landfill : numpy.ndarray of bool
        Where collected waste goes.
    positions : numpy.ndarray, shape (n_nodes, 2)
        Node positions (km), in row order.
    space : mesa.discrete_space.Network
        Mesa's network space of the city.
    """

    node_ids: list[Any]
    node_index: dict[Any, int]
    adjacency: sp.csr_array
    degree: np.ndarray
    geometry: Geometry
    neighborhoods: StateTable
    landfill: np.ndarray
    positions: np.ndarray
    space: Network


def build_city(graph: nx.Graph, params: Parameters, *, random: Random) -> BuiltCity:
    """The city's columns, geometry and Mesa space, from a loaded city graph.

    Parameters
    ----------
    graph : networkx.Graph
        A city with every node attribute (:func:`waste_harmony.city.load_city`).
    params : Parameters
        The parameters (initial pollution, the diffusion steps' rates).
    random : random.Random
        The model's ``random`` (Mesa's cells keep it).

    Returns
    -------
    BuiltCity
        The pieces.

    Examples
    --------
    >>> import random
    >>> from waste_harmony import city
    >>> built = build_city(city.load_city(city.grid_city(2, 3)), Parameters(),
    ...                    random=random.Random(0))
    >>> len(built.node_ids), built.neighborhoods.waste_stock_kg.tolist()
    (6, [0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    """
    arrays = city_module.city_arrays(graph)
    node_ids: list[Any] = list(arrays["nodes"])
    m = len(node_ids)
    adjacency = sp.csr_array(arrays["adjacency"], dtype=np.float64)
    adjacency.sort_indices()
    geometry = Geometry(arrays, params)
    hoods = StateTable(m)
    hoods.add("zone", np.asarray(arrays["zone"], dtype=object))
    for name in NODE_COLUMNS:
        hoods.add(name, np.asarray(arrays[name], dtype=np.float64).copy())
    hoods.add("population_weight", hoods.population.copy())
    for name in _ZERO_COLUMNS:
        hoods.add(name, np.zeros(m))
    # Start each node at the steady state of its own industrial emissions under
    # P' = B + exp(-δ)(P + S - B), i.e. B + S / (exp(δ) - 1); with no removal
    # (δ = 0), start at the background.
    decay = params.pollution_decay
    base = params.industrial_emission_scale * hoods.industrial_emission
    local = base / math.expm1(decay) if decay > 0 else np.zeros(m)
    hoods.add("pollution", params.background_pollution + local)
    landfill = hoods.zone == "industrial"
    if not landfill.any():
        # No industrial zone: waste goes to the least populated node.
        landfill[int(np.argmin(hoods.population_weight))] = True
    positions = np.column_stack([arrays["x"], arrays["y"]])
    layout = dict(zip(node_ids, map(tuple, positions.tolist()), strict=True))
    return BuiltCity(
        node_ids=node_ids,
        node_index={node: i for i, node in enumerate(node_ids)},
        adjacency=adjacency,
        degree=np.diff(adjacency.indptr),
        geometry=geometry,
        neighborhoods=hoods,
        landfill=landfill,
        positions=positions,
        # Always pass the city's own positions: Mesa's default spring layout is
        # quadratic. Mesa's Network, its cells connected in one pass (agents/space.py).
        space=network_space(graph, layout=layout, random=random),
    )


@dataclass(frozen=True)
class Population:
    """What :func:`build_citizens` builds; the model keeps each piece as its attribute.

    Attributes
    ----------
    citizens : StateTable
        The citizen columns (``home`` is read-only: homes are fixed for a run).
    residents : numpy.ndarray
        Resident citizens per node (float), in row order.
    homes : RowGroups
        Each node's residents as one run of citizen rows.
    """

    citizens: StateTable
    residents: np.ndarray
    homes: RowGroups


def build_citizens(
    params: Parameters, rng: np.random.Generator, n_citizens: int, neighborhoods: StateTable
) -> Population:
    """Place ``n_citizens`` citizens on the nodes and draw their initial state.

    Homes are drawn in proportion to each node's ``population_weight`` and citizens
    are numbered home by home, so each node's residents are one run of rows. Sets the
    neighbourhoods' ``population`` (the residents) and ``recycling_norm`` (each
    node's recycling share before day 1).

    Parameters
    ----------
    params : Parameters
        Initial concern, protest thresholds, roles, recycling coefficients.
    rng : numpy.random.Generator
        The model's generator.
    n_citizens : int
        How many.
    neighborhoods : StateTable
        The node columns (updated in place, see above; ``pollution`` is read to set
        each citizen's baseline concern).

    Returns
    -------
    Population
        The citizen columns, residents per node and the homes' runs of rows.

    Raises
    ------
    ValueError
        If ``initial_concern_sd`` is too large for its mean, or the roles ask for
        more citizens than there are.

    Examples
    --------
    >>> hoods = StateTable(2)
    >>> for name in ("population_weight", "population", "recycling_infrastructure",
    ...              "recycling_norm", "pollution"):
    ...     hoods.add(name, np.array([1.0, 3.0]))
    >>> p = Parameters(roles={})
    >>> built = build_citizens(p, np.random.default_rng(0), 8, hoods)
    >>> built.citizens.home.tolist() == sorted(built.citizens.home.tolist())
    True
    >>> float(built.residents.sum()), float(hoods.population.sum())
    (8.0, 8.0)
    """
    p, m, n = params, neighborhoods.n_rows, n_citizens
    weight = neighborhoods.population_weight
    counts = rng.multinomial(n, weight / weight.sum())
    home = np.repeat(np.arange(m, dtype=np.int64), counts)
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
    harm = perceived_harm(neighborhoods.pollution[home], p.pollution_half_saturation)
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
    home.flags.writeable = False  # homes are fixed for a run: the model's homes rely on it
    neighborhoods.population[:] = counts
    _assign_roles(p, rng, c)
    # Yesterday's recycling share before day 1: each resident's probability at norm 0.
    prob = recycling_probability(
        c.concern,
        0.0,
        neighborhoods.recycling_infrastructure[home],
        **p.recycling_coefficients(),
    )
    neighborhoods.recycling_norm[:] = np.divide(
        np.bincount(home, weights=prob, minlength=m), counts, out=np.zeros(m), where=counts > 0
    )
    return Population(
        citizens=c, residents=counts.astype(np.float64), homes=RowGroups(counts, labels=home)
    )


def _assign_roles(params: Parameters, rng: np.random.Generator, citizens: StateTable) -> None:
    # Each role's count of citizens, drawn without replacement, in ROLE_NAMES order.
    n = citizens.n_rows
    total_roles = sum(params.roles.values())
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
        count = params.roles.get(role, 0)
        citizens.role_code[chosen[start : start + count]] = code
        start += count
