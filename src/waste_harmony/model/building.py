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
from scipy.special import betaincinv

from waste_harmony import city as city_module
from waste_harmony.agents.space import network_space
from waste_harmony.dynamics.attention import baseline_for_equilibrium
from waste_harmony.dynamics.perception import perceived_harm
from waste_harmony.dynamics.recycling import recycling_probability
from waste_harmony.model.geometry import Geometry
from waste_harmony.parameters import ROLE_NAMES, Parameters
from waste_harmony.tables import RowGroups, StateTable

__all__ = [
    "CITIZENS_PER_DISTRICT",
    "NODE_COLUMNS",
    "BuiltCity",
    "Population",
    "allocate_citizens",
    "build_citizens",
    "build_city",
    "stratified_uniforms",
]

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
    people : numpy.ndarray
        The people each node's citizens stand for, in row order.
    """

    citizens: StateTable
    residents: np.ndarray
    homes: RowGroups
    people: np.ndarray

    @property
    def people_per_citizen(self) -> np.ndarray:
        """People per citizen, per node (0 where no citizen lives)."""
        return np.divide(
            self.people, self.residents, out=np.zeros(self.people.size), where=self.residents > 0
        )

    @property
    def uniform(self) -> bool:
        """Whether every citizen stands for as many people (``cohorts=False``, or chance).

        Means over citizens are then plain means, exactly as without weights.
        """
        lived = self.people_per_citizen[self.residents > 0]
        return bool(lived.size == 0 or np.ptp(lived) == 0)


#: The fewest citizens :func:`allocate_citizens` gives a populated district when there
#: are enough citizens for it: the size per district from which the story's outcome
#: agreed with 200 per district on the four real layers of ``benchmarks/convergence.py``
#: (peak protest on three; Tokyo's needed 50: docs/convergence.md).
CITIZENS_PER_DISTRICT = 10


def allocate_citizens(
    n_citizens: int, weight: np.ndarray, *, floor: int = CITIZENS_PER_DISTRICT
) -> np.ndarray:
    """How many citizens sample each district: a floor each, the rest by population.

    Every district with a positive weight gets ``f = min(floor, n // populated)``
    citizens; the remaining ``n - f × populated`` are shared in proportion to the
    weights by largest remainders (Hamilton's method), so the counts add up to
    ``n_citizens`` and depend on nothing random. A district's citizens then stand
    for its people in equal parts (:func:`build_citizens`), the super-individuals of
    Scheffer et al. (1995): small districts are sampled by enough citizens for their
    shares to mean something, and the weights keep every city-wide mean the
    population's — the disproportionate allocation of survey sampling (Cochran
    1977, ch. 5; Kish 1988).

    Parameters
    ----------
    n_citizens : int
        Citizens to place.
    weight : numpy.ndarray of float
        Each district's population weight (``>= 0``, not all 0).
    floor : int
        The fewest citizens per populated district when ``n_citizens`` allows it.

    Returns
    -------
    numpy.ndarray of int
        Citizens per district.

    Examples
    --------
    >>> allocate_citizens(40, np.array([1.0, 1.0, 8.0, 0.0])).tolist()
    [11, 11, 18, 0]
    >>> allocate_citizens(400, np.array([1.0, 1.0, 8.0, 0.0])).tolist()
    [47, 47, 306, 0]
    """
    weight = np.asarray(weight, dtype=np.float64)
    populated = weight > 0
    f = min(int(floor), n_citizens // max(int(populated.sum()), 1))
    counts = np.where(populated, f, 0).astype(np.int64)
    rest = n_citizens - int(counts.sum())
    quota = rest * weight / weight.sum()
    whole = np.floor(quota).astype(np.int64)
    left = rest - int(whole.sum())
    # Largest remainders first; ties by row (stable), so the result is deterministic.
    order = np.argsort(-(quota - whole), kind="stable")
    whole[order[:left]] += 1
    return counts + whole


def build_citizens(
    params: Parameters,
    rng: np.random.Generator,
    n_citizens: int,
    neighborhoods: StateTable,
    population: float | None = None,
) -> Population:
    """Place ``n_citizens`` citizens on the nodes and draw their initial state.

    The citizens stand for ``population`` people (default: one each), shared among
    the nodes in proportion to their ``population_weight``. With ``cohorts`` (the
    default) every populated node gets a fixed number of citizens
    (:func:`allocate_citizens`: at least :data:`CITIZENS_PER_DISTRICT` when there
    are enough, the rest by population) who stand for its people in equal parts,
    and their initial concern is stratified within each node
    (:func:`stratified_uniforms`); otherwise homes are drawn in proportion to the
    weights (a multinomial draw) and every citizen stands for
    ``population / n_citizens`` people. Citizens are numbered home by home, so each
    node's residents are one run of rows. Sets the neighbourhoods' ``population``
    (the people) and ``recycling_norm`` (each node's recycling share before day 1).

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
    population : float, optional
        The people the citizens stand for (default ``n_citizens``).

    Returns
    -------
    Population
        The citizen columns, residents (citizens) and people per node, and the
        homes' runs of rows.

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
    >>> built = build_citizens(p, np.random.default_rng(0), 8, hoods, population=1000.0)
    >>> built.residents.tolist(), built.people.tolist()  # four citizens for 250 people each
    ([4.0, 4.0], [250.0, 750.0])
    """
    p, m, n = params, neighborhoods.n_rows, n_citizens
    weight = neighborhoods.population_weight
    total = float(n if population is None else population)
    if p.cohorts:
        counts = allocate_citizens(n, weight)
        # Each node's people, shared by its citizens; a node without citizens (fewer
        # citizens than populated nodes) leaves its people to the others.
        people = np.where(counts > 0, weight, 0.0)
        people = total * people / people.sum() if people.sum() > 0 else people
    else:
        counts = rng.multinomial(n, weight / weight.sum())
        people = counts * (total / n) if n else np.zeros(m)
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
    if p.cohorts:
        # Stratified within each neighbourhood: its k citizens take one draw from each
        # k-quantile of the concern distribution (shuffled among them), so even a few
        # citizens carry the neighbourhood's share of concerned people to within 1/k.
        u = stratified_uniforms(home, counts, rng)
        c.add("concern", betaincinv(mean * k, (1 - mean) * k, u))
    else:
        c.add("concern", rng.beta(mean * k, (1 - mean) * k, n))
    # Each citizen's baseline: the concern their initial concern balances with under
    # the initial air at home (dynamics.attention), so a city left alone keeps it.
    harm = perceived_harm(neighborhoods.pollution[home], p.pollution_half_saturation)
    c.add(
        "baseline_concern",
        baseline_for_equilibrium(c.concern, harm, p.pollution_concern_rate, p.concern_fading),
    )
    # Drawn in both rules, so that a seed places and draws the same citizens in both.
    threshold = np.clip(rng.normal(p.protest_threshold_mean, p.protest_threshold_sd, n), 0.0, 1.0)
    if p.cohorts:
        # A cohort's people have the population's thresholds around its centre
        # (dynamics.protest.cohort_participation); every cohort starts at the mean.
        threshold[:] = p.protest_threshold_mean
    c.add("threshold", threshold)
    # The share of the people a citizen stands for who protest today (0 or 1 when
    # each citizen is one person, cohorts=False).
    c.add("protesting", np.zeros(n))
    c.add("recycled", np.zeros(n, dtype=bool))
    c.add("adopted", np.zeros(n, dtype=bool))
    c.add("role_code", np.zeros(n, dtype=np.int8))
    home.flags.writeable = False  # homes are fixed for a run: the model's homes rely on it
    neighborhoods.population[:] = people
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
        citizens=c,
        residents=counts.astype(np.float64),
        homes=RowGroups(counts, labels=home),
        people=people,
    )


def stratified_uniforms(
    home: np.ndarray, counts: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """One uniform draw per citizen, stratified within each home.

    The ``k`` citizens of a home take one value from each of the ``k`` intervals
    ``[j/k, (j+1)/k)``, in random order: stratified sampling (Cochran 1977, ch. 5;
    the one-dimensional Latin hypercube of McKay, Beckman & Conover 1979). Through a
    distribution's quantile function they give each home a sample whose share above
    any value is within ``1/k`` of the distribution's, where independent draws miss
    it by ``sqrt(p (1 - p) / k)``; each draw is still uniform on [0, 1).

    Parameters
    ----------
    home : numpy.ndarray of int
        Each citizen's home, sorted (each home's citizens are one run of rows).
    counts : numpy.ndarray of int
        Citizens per home (``np.bincount(home)``).
    rng : numpy.random.Generator
        The model's generator.

    Returns
    -------
    numpy.ndarray of float
        The draws, in citizen order.

    Examples
    --------
    >>> u = stratified_uniforms(np.array([0, 0, 0, 0, 1]), np.array([4, 1]),
    ...                         np.random.default_rng(0))
    >>> sorted(np.floor(u[:4] * 4).astype(int).tolist())
    [0, 1, 2, 3]
    """
    n = len(home)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    # A random order within each home: sort by (home, random key).
    order = np.lexsort((rng.random(n), home))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - start[home[order]]
    size = counts[home].astype(np.float64)
    return (rank + rng.random(n)) / size


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
