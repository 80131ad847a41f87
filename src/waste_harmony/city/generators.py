"""Synthetic city generators: a street grid and an organic (geometric) city.

Both generators place nodes in the plane (kilometres), zone them in spatially
coherent patches (:func:`~waste_harmony.city.zones.assign_zones`) and then
derive the socio-environmental attributes from the geography, vectorised:

* ``marginalisation`` rises near industry and away from the central plaza
  (environmental-justice pattern: deprived neighbourhoods sit next to
  polluting land uses, Mohai, Pellow & Roberts 2009);
* ``biotech_access`` and ``recycling_infrastructure`` fall with
  marginalisation;
* ``habitat`` is high on green nodes and low on industrial ones;
* ``population`` is residential weight (small on commercial/plaza/green
  nodes, zero on industrial ones);
* ``industrial_emission`` is non-zero on industrial (and, slightly,
  commercial) nodes;
* ``land_price`` is high at the centre, low near industry and in marginalised
  areas.

The coefficients are illustrative, not calibrated to a particular city.

References
----------
.. [1] Mohai, P., Pellow, D. & Roberts, J. T. (2009). Environmental justice.
   *Annual Review of Environment and Resources* 34, 405-430.
.. [2] Penrose, M. (2003). *Random Geometric Graphs*. Oxford University Press.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from itertools import repeat

import networkx as nx
import numpy as np
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree
from scipy.spatial import Delaunay, KDTree, QhullError

from .size import check_city_size
from .zones import (
    ZONE_EMISSION_MEAN,
    ZONE_HABITAT_RANGE,
    ZONE_LAND_PRICE,
    ZONE_POPULATION_WEIGHT,
    ZONES,
    assign_zones,
    zone_counts,
)

__all__ = ["default_city", "expected_attributes", "grid_city", "organic_city"]

SeedLike = int | np.random.Generator | None

# Per-zone parameters of the synthetic attributes, in ZONES order:
# residential, commercial, industrial, green, plaza.
_POPULATION_BASE = np.array(ZONE_POPULATION_WEIGHT)
_HABITAT_RANGE = np.array(ZONE_HABITAT_RANGE)
_RECYCLING_BONUS = np.array([0.0, 0.1, -0.1, 0.0, 0.15])
_LAND_PRICE_BASE = np.array(ZONE_LAND_PRICE)
_EMISSION_MEAN = np.array(ZONE_EMISSION_MEAN)  # pollution units per day


def _whole(function: str, name: str, value: object) -> int:
    """``value`` as an int, refusing what int() would truncate silently (2.7, "3", True)."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise TypeError(
            f"{function}: {name} must be a whole number, got {type(value).__name__} {value!r}"
        )
    return int(value)


def _synthesise_attributes(
    xy: np.ndarray, zone: np.ndarray, area_km2: np.ndarray, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Derive the numeric node attributes from positions and zones."""
    n = len(xy)
    index = {z: i for i, z in enumerate(ZONES)}
    code = np.fromiter((index[z] for z in zone), dtype=np.intp, count=n)
    scale = float(np.max(xy.max(axis=0) - xy.min(axis=0))) or 1.0

    d_industry = KDTree(xy[code == ZONES.index("industrial")]).query(xy)[0] / scale
    plaza_centre = xy[code == ZONES.index("plaza")].mean(axis=0)
    d_centre = np.hypot(*(xy - plaza_centre).T) / scale
    proximity = np.exp(-d_industry / 0.2)

    marginalisation = np.clip(
        0.1 + 0.5 * proximity + 0.3 * d_centre + rng.normal(0.0, 0.07, n), 0.0, 1.0
    )
    biotech_access = np.clip(0.9 - 0.75 * marginalisation + rng.normal(0.0, 0.06, n), 0.0, 1.0)
    recycling = np.clip(
        0.75 - 0.55 * marginalisation + _RECYCLING_BONUS[code] + rng.normal(0.0, 0.07, n),
        0.0,
        1.0,
    )
    low, high = _HABITAT_RANGE[code].T
    habitat = low + (high - low) * rng.uniform(size=n)
    population = (
        _POPULATION_BASE[code] * rng.lognormal(0.0, 0.35, n) * (1.0 + 0.5 * marginalisation)
    )
    emission_mean = _EMISSION_MEAN[code]
    emission = rng.gamma(2.0, 1.0, n) * emission_mean / 2.0
    land_price = (
        _LAND_PRICE_BASE[code]
        * (1.0 - 0.6 * marginalisation)
        * (1.0 - 0.5 * proximity)
        * rng.lognormal(0.0, 0.1, n)
    )
    return {
        "population": population,
        "marginalisation": marginalisation,
        "biotech_access": biotech_access,
        "habitat": habitat,
        "area_km2": np.broadcast_to(np.asarray(area_km2, dtype=float), (n,)),
        "recycling_infrastructure": recycling,
        "industrial_emission": emission,
        "land_price": land_price,
    }


def _build_graph(
    name: str,
    xy: np.ndarray,
    zone: np.ndarray,
    columns: Mapping[str, np.ndarray],
    edges: np.ndarray,
    seed: SeedLike = None,
) -> nx.Graph:
    """Assemble a plain ``nx.Graph`` from column arrays and an edge array.

    An integer ``seed`` is kept as ``G.graph["seed"]``: the city carries what it
    was generated from, into every run's manifest and ``city.graphml``.
    """
    G: nx.Graph[int] = nx.Graph(name=name)
    if isinstance(seed, int | np.integer) and not isinstance(seed, bool):
        G.graph["seed"] = int(seed)
    keys = ("zone", "pos", *columns)
    pos = list(zip(xy[:, 0].tolist(), xy[:, 1].tolist(), strict=True))
    values = zip(
        zone.tolist(), pos, *(np.asarray(c).tolist() for c in columns.values()), strict=True
    )
    # Each node's attribute dict filled in one C-level pass (dict.update with the
    # (key, value) pairs), not built and then copied by add_nodes_from.
    G.add_nodes_from(range(len(xy)))
    node_dicts = (data for _, data in G.nodes(data=True))
    deque(map(dict.update, node_dicts, map(zip, repeat(keys), values)), maxlen=0)
    lengths = np.hypot(*(xy[edges[:, 0]] - xy[edges[:, 1]]).T).tolist()
    G.add_edges_from(
        (u, v, {"length_km": length})
        for u, v, length in zip(edges[:, 0].tolist(), edges[:, 1].tolist(), lengths, strict=True)
    )
    return G


def _seed_label(seed: SeedLike) -> str:
    return f", seed={seed}" if isinstance(seed, int) else ""


def grid_city(
    rows: int = 10,
    cols: int = 10,
    *,
    spacing_km: float = 0.5,
    seed: SeedLike = None,
    zone_shares: Mapping[str, float] | None = None,
) -> nx.Graph:
    """Street-grid city: ``rows x cols`` neighbourhoods on a square lattice.

    Node ``r * cols + c`` sits at ``(c * spacing_km, r * spacing_km)`` and is
    linked to its four lattice neighbours. Zones are spatially coherent
    patches: one plaza at the centre ringed by commercial nodes, an industrial
    cluster on a random edge, a green belt on the opposite edge plus parks,
    residential elsewhere. Every zone gets at least one node.

    Parameters
    ----------
    rows, cols : int, default 10
        Grid size; ``rows * cols`` must be at least 5.
    spacing_km : float, default 0.5
        Distance between adjacent intersections, km. Each node's
        ``area_km2`` is ``spacing_km ** 2``.
    seed : int, numpy.random.Generator or None, default None
        Seed for :func:`numpy.random.default_rng`; the same seed gives an
        identical graph.
    zone_shares : mapping of str to float, optional
        Share of nodes per zone (see
        :func:`~waste_harmony.city.zones.zone_counts`); defaults to
        :data:`~waste_harmony.city.zones.DEFAULT_ZONE_SHARES`.

    Returns
    -------
    networkx.Graph
        Connected city graph with integer nodes ``0..rows*cols-1``, all
        attributes of :data:`~waste_harmony.city.zones.NODE_ATTRIBUTES`, an
        edge attribute ``length_km`` and ``G.graph["name"]``.

    Raises
    ------
    ValueError
        If the grid has fewer than 5 nodes, ``spacing_km`` is not positive,
        or ``zone_shares`` is invalid.

    See Also
    --------
    organic_city, default_city

    Examples
    --------
    >>> G = grid_city(4, 5, seed=1)
    >>> G.number_of_nodes(), G.number_of_edges()
    (20, 31)
    >>> G.nodes[6]["pos"]
    (0.5, 0.5)
    >>> sorted({z for _, z in G.nodes(data="zone")})
    ['commercial', 'green', 'industrial', 'plaza', 'residential']
    """
    rows, cols = _whole("grid_city", "rows", rows), _whole("grid_city", "cols", cols)
    if rows < 1 or cols < 1 or rows * cols < len(ZONES):
        raise ValueError(f"grid_city needs rows, cols >= 1 and rows * cols >= 5, got {rows}x{cols}")
    check_city_size(
        rows * cols,
        rows * (cols - 1) + cols * (rows - 1),
        what=f"grid_city({rows} x {cols})",
        fix="fewer rows and columns",
    )
    if not (math.isfinite(spacing_km) and spacing_km > 0):
        raise ValueError(f"spacing_km must be a positive number, got {spacing_km!r}")
    rng = np.random.default_rng(seed)
    n = rows * cols
    ids = np.arange(n)
    r, c = np.divmod(ids, cols)
    xy = np.column_stack([c, r]).astype(float) * float(spacing_km)
    horizontal = ids[c < cols - 1]
    vertical = ids[r < rows - 1]
    edges = np.concatenate(
        [
            np.column_stack([horizontal, horizontal + 1]),
            np.column_stack([vertical, vertical + cols]),
        ]
    )
    zone = assign_zones(xy, zone_counts(n, zone_shares), rng)
    columns = _synthesise_attributes(xy, zone, np.full(n, float(spacing_km) ** 2), rng)
    name = f"grid_city({rows}x{cols}{_seed_label(seed)})"
    return _build_graph(name, xy, zone, columns, edges, seed)


def _connect_components(xy: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Add the shortest edges joining the components (Kruskal on components).

    The Euclidean minimum spanning tree is a subgraph of the Delaunay
    triangulation, so candidate links are Delaunay edges between components.
    """
    n = len(xy)
    if len(edges):
        A = coo_array((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    else:
        A = coo_array((n, n))
    n_comp, label = connected_components(A, directed=False)
    if n_comp == 1:
        return edges
    try:
        simplices = Delaunay(xy).simplices
        cand = np.concatenate([simplices[:, [0, 1]], simplices[:, [1, 2]], simplices[:, [0, 2]]])
    except (QhullError, ValueError):  # degenerate (e.g. collinear) points: all pairs
        cand = np.column_stack(np.triu_indices(n, k=1))
    cand = cand[label[cand[:, 0]] != label[cand[:, 1]]]
    length = np.hypot(*(xy[cand[:, 0]] - xy[cand[:, 1]]).T)
    a, b = label[cand[:, 0]], label[cand[:, 1]]
    lo_c, hi_c = np.minimum(a, b), np.maximum(a, b)
    order = np.lexsort((length, hi_c, lo_c))
    pair = lo_c[order] * n_comp + hi_c[order]
    first = order[np.r_[True, pair[1:] != pair[:-1]]]  # shortest link per component pair
    weight = length[first] + 1e-12  # csgraph treats zero weights as missing edges
    mst = minimum_spanning_tree(
        coo_array((weight, (lo_c[first], hi_c[first])), shape=(n_comp, n_comp))
    ).tocoo()
    lookup = {(int(p), int(q)): k for k, p, q in zip(first, lo_c[first], hi_c[first], strict=True)}
    chosen = [
        lookup[(int(min(p, q)), int(max(p, q)))] for p, q in zip(mst.row, mst.col, strict=True)
    ]
    return np.concatenate([edges.reshape(-1, 2), cand[chosen]])


def organic_city(
    n_nodes: int = 200,
    *,
    radius: float | None = None,
    seed: SeedLike = None,
) -> nx.Graph:
    """Organic city: a random geometric graph, always connected.

    ``n_nodes`` points are drawn uniformly in the unit square and linked when
    closer than ``radius`` (Penrose 2003); the square is then scaled to
    ``0.5 * sqrt(n_nodes)`` km a side, so each neighbourhood covers about
    0.25 km² as in :func:`grid_city`. Components left apart are joined by the
    shortest possible links (a minimum spanning tree over components), so the
    result is always connected. Zones follow the same spatial logic as
    :func:`grid_city` (plaza = node nearest the centre, and so on).

    Parameters
    ----------
    n_nodes : int, default 200
        Number of neighbourhoods, at least 5.
    radius : float, optional
        Link distance in unit-square units. Default
        ``sqrt(2 ln n / (pi n))``, twice the connectivity threshold's
        logarithmic term, so the graph is connected with high probability
        (mean degree about ``2 ln n``).
    seed : int, numpy.random.Generator or None, default None
        Seed for :func:`numpy.random.default_rng`; the same seed gives an
        identical graph.

    Returns
    -------
    networkx.Graph
        Connected city graph with integer nodes ``0..n_nodes-1``, all node
        attributes, an edge attribute ``length_km`` and ``G.graph["name"]``.

    Raises
    ------
    ValueError
        If ``n_nodes < 5`` or ``radius`` is not positive.

    See Also
    --------
    grid_city

    Examples
    --------
    >>> import networkx as nx
    >>> G = organic_city(60, seed=3)
    >>> G.number_of_nodes(), nx.is_connected(G)
    (60, True)
    >>> G.graph["name"]
    'organic_city(60, seed=3)'
    """
    n = _whole("organic_city", "n_nodes", n_nodes)
    if n < len(ZONES):
        raise ValueError(f"organic_city needs n_nodes >= {len(ZONES)}, got {n_nodes}")
    if radius is None:
        radius = math.sqrt(2.0 * math.log(n) / (math.pi * n))
    elif not (math.isfinite(radius) and radius > 0):
        raise ValueError(f"radius must be a positive number, got {radius!r}")
    # expected pairs closer than radius in the unit square (borders ignored)
    pairs = 0.5 * n * (n - 1) * min(math.pi * radius**2, 1.0)
    check_city_size(n, int(pairs), what=f"organic_city({n:,})", fix="fewer n_nodes")
    rng = np.random.default_rng(seed)
    side_km = 0.5 * math.sqrt(n)
    unit = rng.uniform(size=(n, 2))
    edges = KDTree(unit).query_pairs(radius, output_type="ndarray").reshape(-1, 2)
    edges = _connect_components(unit, edges)
    xy = unit * side_km
    zone = assign_zones(xy, zone_counts(n), rng)
    columns = _synthesise_attributes(xy, zone, np.full(n, side_km**2 / n), rng)
    return _build_graph(f"organic_city({n}{_seed_label(seed)})", xy, zone, columns, edges, seed)


def default_city(seed: SeedLike = 0) -> nx.Graph:
    """The default city of ``CityModel(city=None)``: a 10 x 10 street grid.

    A :func:`grid_city` of 100 nodes 0.5 km apart (a 4.5 km x 4.5 km town of
    0.25 km² neighbourhoods) with the default zone shares. A grid is chosen
    because it is regular and easy to read on a map, large enough for every
    zone to form a patch yet small enough to simulate in milliseconds per
    day.

    Parameters
    ----------
    seed : int, numpy.random.Generator or None, default 0
        Seed for :func:`grid_city`; the default gives the same city every time.

    Returns
    -------
    networkx.Graph
        The default city graph.

    Examples
    --------
    >>> G = default_city()
    >>> G.number_of_nodes(), G.graph["name"]
    (100, 'grid_city(10x10, seed=0)')
    """
    return grid_city(10, 10, spacing_km=0.5, seed=seed)


def expected_attributes(
    xy: np.ndarray,
    zone: np.ndarray | list[str],
    area_km2: np.ndarray,
    marginalisation: np.ndarray | None = None,
    *,
    shares: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """The generators' attributes without their noise: expected values per node.

    Used to fill attributes of cities built from real data (GIS districts,
    OpenStreetMap) so that they match the calibration of :func:`grid_city`
    and :func:`organic_city`: the same per-zone tables and the same
    dependence on the distance to industry and to the plaza, with each
    random factor replaced by its mean. ``population`` is scaled by
    ``area_km2 / 0.25`` (the generators' neighbourhoods are 0.25 km²), so it
    is a residential weight per area. Without an industrial node the
    proximity to industry is 0; without a plaza the centre is the mean
    position.

    With ``shares`` (each zone's share of the node's land), every
    zone-dependent value is the share-weighted mixture of the zones' values
    (areal weighting: a node that is 30 % industrial land gets 30 % of an
    industrial node's emission density), while ``zone`` still says where
    industry and the plaza are for the distance terms.

    Parameters
    ----------
    xy : numpy.ndarray, shape (n, 2)
        Positions in km.
    zone : sequence of str
        Zone of each node, one of :data:`~waste_harmony.city.zones.ZONES`.
    area_km2 : numpy.ndarray, shape (n,)
        Areas in km².
    marginalisation : numpy.ndarray, shape (n,), optional
        Known marginalisation (e.g. from a census); the attributes that the
        generators derive from it use it instead of the geographic estimate.
    shares : numpy.ndarray, shape (n, len(ZONES)), optional
        Share of each node's land in each zone, columns in
        :data:`~waste_harmony.city.zones.ZONES` order, rows summing to 1;
        default all of it in the node's ``zone``.

    Returns
    -------
    dict of str to numpy.ndarray
        Every numeric node attribute.

    Examples
    --------
    >>> import numpy as np
    >>> xy = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
    >>> out = expected_attributes(xy, ["industrial", "plaza", "residential"], np.full(3, 0.25))
    >>> out["industrial_emission"].tolist()
    [10.0, 0.0, 0.0]
    >>> mixed = np.array([[0.7, 0.0, 0.3, 0.0, 0.0]] * 3)  # 30 % industrial land
    >>> zones = ["industrial", "plaza", "residential"]
    >>> out = expected_attributes(xy, zones, np.full(3, 0.25), shares=mixed)
    >>> out["industrial_emission"].tolist()
    [3.0, 3.0, 3.0]
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    n = len(xy)
    index = {z: i for i, z in enumerate(ZONES)}
    code = np.fromiter((index[str(z)] for z in zone), dtype=np.intp, count=n)
    area = np.broadcast_to(np.asarray(area_km2, dtype=float), (n,))
    scale = float(np.max(xy.max(axis=0) - xy.min(axis=0))) if n else 1.0
    scale = scale or 1.0
    industrial = xy[code == ZONES.index("industrial")]
    if len(industrial):
        proximity = np.exp(-KDTree(industrial).query(xy)[0] / scale / 0.2)
    else:
        proximity = np.zeros(n)
    plaza = xy[code == ZONES.index("plaza")]
    centre = plaza.mean(axis=0) if len(plaza) else xy.mean(axis=0)
    d_centre = np.hypot(*(xy - centre).T) / scale
    if marginalisation is None:
        marginalisation = np.clip(0.1 + 0.5 * proximity + 0.3 * d_centre, 0.0, 1.0)
    else:
        marginalisation = np.asarray(marginalisation, dtype=float)
    if shares is None:
        weights = np.zeros((n, len(ZONES)))
        weights[np.arange(n), code] = 1.0
    else:
        weights = np.asarray(shares, dtype=float)
        if weights.shape != (n, len(ZONES)) or not np.allclose(weights.sum(axis=1), 1.0):
            raise ValueError(
                f"shares must have shape ({n}, {len(ZONES)}) (columns {ZONES}) "
                "with rows summing to 1"
            )
    low, high = _HABITAT_RANGE.T
    recycling = np.clip(
        0.75 - 0.55 * marginalisation[:, None] + _RECYCLING_BONUS[None, :], 0.0, 1.0
    )
    return {
        "population": weights
        @ _POPULATION_BASE
        * math.exp(0.35**2 / 2)
        * (1.0 + 0.5 * marginalisation)
        * area
        / 0.25,
        "marginalisation": marginalisation,
        "biotech_access": np.clip(0.9 - 0.75 * marginalisation, 0.0, 1.0),
        "habitat": weights @ ((low + high) / 2.0),
        "area_km2": area.copy(),
        "recycling_infrastructure": (weights * recycling).sum(axis=1),
        "industrial_emission": weights @ _EMISSION_MEAN,
        "land_price": weights
        @ _LAND_PRICE_BASE
        * (1.0 - 0.6 * marginalisation)
        * (1.0 - 0.5 * proximity)
        * math.exp(0.1**2 / 2),
    }
