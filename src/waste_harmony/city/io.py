"""Bring your own city: convert graphs, fill defaults, load a city from a graph or a file.

Every way in — a graph of your own (:func:`from_graph`), a file or a graph
(:func:`load_city`), a generator — fills missing attributes the same way
(:func:`with_defaults`) and is validated. On reading, ``pos`` is rebuilt from
``x``/``y`` or from a ``"x,y"`` string. The GraphML format itself (safe parsing,
node ids that come back as they were, writing) is :mod:`waste_harmony.city.graphml`;
:func:`read_graphml` and :func:`save_city` are importable from here as before.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Mapping
from typing import Any

import networkx as nx
import numpy as np
from scipy.spatial import KDTree

from .generators import SeedLike
from .graphml import read_city_file, read_graphml, save_city
from .validation import check_graph_type, validate_city
from .zones import ATTRIBUTE_DEFAULTS, ZONE_DEFAULTS

__all__ = [
    "SPRING_LAYOUT_MAX_NODES",
    "from_graph",
    "load_city",
    "read_graphml",
    "save_city",
    "with_defaults",
]

#: Largest graph whose missing positions :func:`with_defaults` computes with
#: a spring layout (``layout="spring"``); bigger graphs must bring their own
#: positions.
SPRING_LAYOUT_MAX_NODES = 2000

#: A node with all of these (``pos`` and every attribute a default could set) has
#: nothing for :func:`with_defaults` to fill.
_COMPLETE = frozenset(
    {"pos", "area_km2", *ATTRIBUTE_DEFAULTS, *(a for d in ZONE_DEFAULTS.values() for a in d)}
)


def _pos_from_xy_or_string(data: dict[str, Any], node: Any) -> None:
    """Set ``data["pos"]`` from ``x``/``y`` (dropping them) or a ``"x,y"`` string, in place."""
    pos = data.get("pos")
    if isinstance(pos, str):
        parts = pos.strip().strip("()[]").split(",")
        try:
            if len(parts) != 2:
                raise ValueError
            data["pos"] = (float(parts[0]), float(parts[1]))
        except ValueError:
            raise ValueError(
                f"node {node!r}, attribute 'pos' is the string {pos!r}; "
                "write it as 'x,y' (two numbers in km) or use float attributes x and y"
            ) from None
    elif pos is None and "x" in data and "y" in data:
        data["pos"] = (float(data.pop("x")), float(data.pop("y")))


def _copy(G: nx.Graph) -> nx.Graph:
    """``G.copy()``, visiting each edge once (``Graph.copy`` visits both directions).

    The copy is the one ``G.copy()`` makes: same class, graph attributes, nodes and
    node attributes (each dict copied) in order, and the same adjacency order
    (each node's neighbours are inserted in the order ``G.copy()`` inserts them).
    Multigraphs (whose edge keys ``G.edges`` does not give) use ``G.copy()``.
    """
    if G.is_multigraph():
        return G.copy()
    H = G.__class__()
    H.graph.update(G.graph)
    H.add_nodes_from(G.nodes(data=True))
    H.add_edges_from(G.edges(data=True))
    return H


def _layout_seed(seed: SeedLike) -> int:
    if seed is None:
        return 0
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2**31))
    return int(seed)


def _node_area_km2(H: nx.Graph) -> float:
    """Area per node from the positions: the extent, widened by one typical spacing, / n.

    Each node is taken to stand for a cell as wide as the median distance ``d`` to
    its nearest neighbour, so the city covers ``(width + d) (height + d)`` km²,
    shared equally: exact for the generators' grids and organic cities.
    """
    xy = np.array([H.nodes[n]["pos"] for n in H.nodes], dtype=np.float64).reshape(-1, 2)
    if len(xy) < 2 or not np.all(np.isfinite(xy)):
        return math.nan
    d = float(np.median(KDTree(xy).query(xy, k=2)[0][:, 1]))
    width, height = xy.max(axis=0) - xy.min(axis=0)
    return float((width + d) * (height + d) / len(xy))


def with_defaults(G: nx.Graph, *, seed: SeedLike = None, layout: str | None = None) -> nx.Graph:
    """Copy of ``G`` with every missing node attribute filled by a default.

    Existing attributes are kept. Defaults follow the generators' calibration:
    ``zone`` ``"residential"``; ``marginalisation``, ``biotech_access`` and
    ``recycling_infrastructure`` 0.5 (:data:`~waste_harmony.city.zones.ATTRIBUTE_DEFAULTS`);
    ``population``, ``habitat``, ``industrial_emission`` and ``land_price`` by zone
    (:data:`~waste_harmony.city.zones.ZONE_DEFAULTS`: e.g. ``industrial_emission``
    10 per day on industrial nodes, 0.1 on commercial ones, 0 elsewhere, as the
    generators give on average). ``pos`` comes from float attributes ``x`` and
    ``y``; positions are never invented unless ``layout="spring"`` asks for a
    deterministic :func:`networkx.spring_layout` (graphs of at most
    :data:`SPRING_LAYOUT_MAX_NODES` nodes; nodes that have ``pos`` stay fixed;
    with no fixed node the layout spans about ``0.5 * sqrt(n)`` km). A missing
    ``area_km2`` is derived from the positions: the city's extent widened by the
    median nearest-neighbour distance ``d``, ``(width + d)(height + d)``, shared
    equally by the nodes (each node standing for a cell about ``d`` wide; exact
    for :func:`~waste_harmony.city.grid_city`).

    Parameters
    ----------
    G : networkx.Graph
        Any graph; it is not modified.
    seed : int, numpy.random.Generator or None, default None
        Seed of the spring layout; ``None`` means a fixed seed 0, so the
        result is reproducible.
    layout : {None, "spring"}, default None
        ``"spring"`` invents positions for nodes without them; ``None`` leaves
        them missing (so :func:`~waste_harmony.city.validate_city` reports them).

    Returns
    -------
    networkx.Graph
        A copy of ``G`` (same class) with the node attributes filled.

    Raises
    ------
    TypeError
        If ``G`` is not a networkx graph.
    ValueError
        If ``layout`` is not None or ``"spring"``; if a spring layout is asked
        for a graph larger than :data:`SPRING_LAYOUT_MAX_NODES` nodes; or if
        ``area_km2`` is missing and the positions cannot give it (fewer than two
        distinct positions).

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.path_graph(3)
    >>> for node in G:
    ...     G.nodes[node]["pos"] = (0.5 * node, 0.0)
    >>> G.nodes[0]["zone"] = "industrial"
    >>> H = with_defaults(G)
    >>> H.nodes[0]["industrial_emission"], H.nodes[1]["population"], H.nodes[1]["area_km2"]
    (10.0, 1.0, 0.25)
    >>> "pos" in with_defaults(nx.path_graph(3)).nodes[0]
    False
    >>> len(with_defaults(nx.path_graph(3), layout="spring").nodes[0]["pos"])
    2
    """
    if not isinstance(G, nx.Graph):
        raise TypeError(f"a city must be a networkx.Graph, got {type(G).__name__}")
    return _fill_defaults(_copy(G), seed=seed, layout=layout)


def _fill_defaults(H: nx.Graph, *, seed: SeedLike, layout: str | None) -> nx.Graph:
    """:func:`with_defaults` in place on a graph this module already copied."""
    if layout not in (None, "spring"):
        raise ValueError(f"layout must be None or 'spring', got {layout!r}")
    if all(map(_COMPLETE.issubset, (data for _, data in H.nodes(data=True)))):
        return H  # every node has every attribute (pos included): nothing to fill
    residential = ZONE_DEFAULTS["residential"]
    for _, data in H.nodes(data=True):
        if "pos" not in data and "x" in data and "y" in data:
            data["pos"] = (float(data["x"]), float(data["y"]))
        for attr, value in ATTRIBUTE_DEFAULTS.items():
            data.setdefault(attr, value)
        zone = data["zone"]
        by_zone = ZONE_DEFAULTS.get(zone, residential) if isinstance(zone, str) else residential
        for attr, value in by_zone.items():
            data.setdefault(attr, value)

    missing = [n for n, d in H.nodes(data=True) if "pos" not in d]
    if missing and layout == "spring":
        n = H.number_of_nodes()
        if n > SPRING_LAYOUT_MAX_NODES:
            raise ValueError(
                f"node {missing[0]!r}, attribute 'pos' is missing ({len(missing)} nodes lack "
                f"positions) and the graph has {n} > {SPRING_LAYOUT_MAX_NODES} nodes, too many "
                "for a spring layout; give every node a 'pos' (x, y) in km or float "
                "attributes 'x' and 'y'"
            )
        fixed = {k: tuple(d["pos"]) for k, d in H.nodes(data=True) if "pos" in d}
        spring = nx.spring_layout(
            H,
            pos=fixed or None,
            fixed=list(fixed) or None,
            seed=_layout_seed(seed),
            scale=0.5 * np.sqrt(n),
        )
        for node in missing:
            x, y = spring[node]
            H.nodes[node]["pos"] = (float(x), float(y))
        missing = []

    no_area = [n for n, d in H.nodes(data=True) if "area_km2" not in d]
    if no_area and not missing:
        try:
            area = _node_area_km2(H)
        except (TypeError, ValueError):  # malformed positions: validate_city names them
            area = math.nan
        if math.isfinite(area) and area > 0:
            for node in no_area:
                H.nodes[node]["area_km2"] = area
        elif H.number_of_nodes() == 1 or math.isfinite(area):
            raise ValueError(
                f"node {no_area[0]!r}, attribute 'area_km2' is missing and cannot be derived "
                "from the positions (fewer than two distinct positions); set "
                f"G.nodes[{no_area[0]!r}]['area_km2'] to the neighbourhood's area in km²"
            )
    return H


def _merge_links(G: nx.Graph) -> tuple[nx.Graph, str]:
    """A plain undirected copy of ``G`` and a sentence on what was changed."""
    H: nx.Graph = nx.Graph()
    H.graph.update(G.graph)
    H.add_nodes_from(G.nodes(data=True))
    loops = merged = 0
    for u, v, data in G.edges(data=True):
        if u == v:
            loops += 1
        elif H.has_edge(u, v):
            merged += 1
            if _link_length(data) < _link_length(H.edges[u, v]):
                H.edges[u, v].clear()
                H.edges[u, v].update(data)
        else:
            H.add_edge(u, v, **data)
    done = []
    if G.is_directed():
        done.append("direction dropped (links u->v and v->u are one two-way link)")
    if merged:
        kind = "opposite or parallel" if G.is_directed() else "parallel"
        done.append(f"{merged} {kind} link(s) merged into the shortest")
    if loops:
        done.append(f"{loops} self-loop(s) removed")
    if not done:
        return H, ""
    return H, (
        f"converted the {type(G).__name__} of {G.number_of_edges()} links into a city graph "
        f"of {H.number_of_edges()} two-way links: " + "; ".join(done)
    )


def _link_length(data: Mapping[str, Any]) -> float:
    for key in ("length_km", "length"):
        value = data.get(key)
        if isinstance(value, int | float) and math.isfinite(value):
            return float(value)
    return math.inf


def from_graph(
    G: nx.Graph,
    *,
    fill_defaults: bool = True,
    layout: str | None = None,
    allow_disconnected: bool = False,
) -> nx.Graph:
    """A city from any networkx graph, such as a street network from osmnx.

    Direction is dropped, parallel links are merged (the shortest, by
    ``length_km`` or ``length``, keeps its attributes) and self-loops are
    removed; what was changed is reported in one :class:`UserWarning`. Then
    :func:`load_city` fills defaults and validates (every problem left, such as
    positions in degrees or metres, is reported in one error).

    Parameters
    ----------
    G : networkx.Graph
        Any graph (``Graph``, ``DiGraph``, ``MultiGraph``, ``MultiDiGraph``); it
        is not modified.
    fill_defaults : bool, default True
        Fill missing attributes with :func:`with_defaults`.
    layout : {None, "spring"}, default None
        Passed to :func:`with_defaults`.
    allow_disconnected : bool, default False
        Passed to :func:`~waste_harmony.city.validate_city`.

    Returns
    -------
    networkx.Graph
        A validated, plain undirected city graph.

    Raises
    ------
    TypeError
        If ``G`` is not a networkx graph.
    ValueError
        If the converted graph fails validation.

    Examples
    --------
    >>> import warnings
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph([(0, 1), (1, 0), (1, 2), (1, 2), (2, 2)])
    >>> for node in G:
    ...     G.nodes[node]["pos"] = (0.5 * node, 0.0)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     city = from_graph(G)
    >>> type(city).__name__, city.number_of_edges(), len(caught)
    ('Graph', 2, 1)
    """
    if not isinstance(G, nx.Graph):
        raise TypeError(f"a city must be a networkx.Graph, got {type(G).__name__}")
    H, report = _merge_links(G)
    if report:
        warnings.warn(report, UserWarning, stacklevel=2)
    return load_city(
        H, fill_defaults=fill_defaults, layout=layout, allow_disconnected=allow_disconnected
    )


def load_city(
    source: nx.Graph | str | os.PathLike[str],
    *,
    fill_defaults: bool = True,
    layout: str | None = None,
    allow_disconnected: bool = False,
) -> nx.Graph:
    """Load a city from a graph or a GraphML file, fill defaults and validate.

    Parameters
    ----------
    source : networkx.Graph, str or path-like
        A graph (copied, never modified) or the path of a GraphML file. In
        GraphML, ``pos`` may be stored as float attributes ``x`` and ``y`` or
        as a ``"x,y"`` string; files written by :func:`save_city` get their
        integer node ids back.
    fill_defaults : bool, default True
        Fill missing attributes with :func:`with_defaults`.
    layout : {None, "spring"}, default None
        Passed to :func:`with_defaults`: ``"spring"`` invents missing positions.
    allow_disconnected : bool, default False
        Passed to :func:`~waste_harmony.city.validate_city`.

    Returns
    -------
    networkx.Graph
        A validated city graph.

    Raises
    ------
    FileNotFoundError
        If ``source`` is a path that does not exist.
    TypeError
        If ``source`` is neither a graph nor a path.
    ValueError
        If the graph is directed or a multigraph (it is not converted
        silently: see :func:`from_graph`), if a file is not well-formed GraphML
        (:func:`read_graphml`), or if the city fails
        :func:`~waste_harmony.city.validate_city`.

    Examples
    --------
    >>> import networkx as nx
    >>> G = load_city(nx.cycle_graph(4), layout="spring")
    >>> G.nodes[0]["zone"], G.nodes[0]["population"]
    ('residential', 1.0)
    """
    if isinstance(source, nx.Graph):
        G = _copy(source)
    elif isinstance(source, str | os.PathLike):
        G = read_city_file(source)
    else:
        raise TypeError(
            f"load_city expects a networkx.Graph or a GraphML path, got {type(source).__name__}"
        )
    check_graph_type(G)
    for node, data in G.nodes(data=True):
        _pos_from_xy_or_string(data, node)
    if fill_defaults:
        # G is this function's own copy (or freshly read): fill it in place rather
        # than copy a second time (a copy of a 10^5-node city takes seconds)
        G = _fill_defaults(G, seed=None, layout=layout)
    validate_city(G, allow_disconnected=allow_disconnected)
    return G
