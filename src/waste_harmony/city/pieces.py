"""Cities in several pieces: join them with declared links (ferries, bridges).

A real city can come in pieces that share no border: islands, an exclave, a
district across a bay (Virginia's Eastern Shore is joined to the rest of the
state only by the Chesapeake Bay Bridge-Tunnel). :class:`~waste_harmony.CityModel`
needs one connected city, so the pieces are joined *explicitly*, never silently:
:func:`connect_pieces` adds the fewest links that connect them, each between the
two nodes of different pieces that are closest (by position, or by the gap
between their polygons: the nearest shores), in a minimum spanning tree over the
pieces (Borůvka's method, with the shortest node-to-node distance as the
distance between two pieces).

Each added link is a *declared link*: it carries ``connector = True``,
``length_km`` (the straight line between the two nodes, km) and
``border_km = 0.0``. Citizens travel it like any street (outings, gatherings and
the festival measure distances along links by ``length_km``); pollution and the
organism, which cross between neighbourhoods through their shared border
(:func:`~waste_harmony.dynamics.diffusion.finite_volume_laplacian`), do not cross
it, since the two places share none.

References
----------
.. [1] Borůvka, O. (1926). O jistém problému minimálním. *Práce moravské
   přírodovědecké společnosti* 3, 37-58 (minimum spanning trees).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

import networkx as nx
import numpy as np
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from .arrays import edge_index

__all__ = ["CONNECTOR", "connect_pieces", "connector_links"]

#: The edge attribute that marks a declared link added by :func:`connect_pieces`.
CONNECTOR = "connector"

#: A piece of at most this many nodes finds its nearest outsider in a k-nearest query
#: of one tree over all nodes (k = its size + 1 always reaches one); a larger piece
#: builds a tree of the nodes outside it.
_SMALL_PIECE = 64


def _positions(G: nx.Graph, nodes: list[Hashable]) -> np.ndarray:
    missing = [node for node in nodes if "pos" not in G.nodes[node]]
    if missing:
        raise ValueError(
            f"connect_pieces joins pieces by the distance between node positions, but node "
            f"{missing[0]!r} has no 'pos' ({len(missing)} node(s) without); set "
            "G.nodes[node]['pos'] = (x, y) in km"
        )
    return np.array([G.nodes[node]["pos"] for node in nodes], dtype=np.float64).reshape(-1, 2)


Nearest = Callable[[np.ndarray, np.ndarray], tuple[float, int, int]]


def _nearest_by_position(xy: np.ndarray) -> Nearest:
    """For a piece's rows: its closest pair (distance, i inside, j outside) by position."""
    tree = cKDTree(xy)

    def nearest(inside: np.ndarray, label: np.ndarray) -> tuple[float, int, int]:
        size = len(inside)
        if size <= _SMALL_PIECE:
            # Among a point's size + 1 nearest points (itself first) at most size - 1
            # others are in its piece, so its nearest outsider is among them.
            k = min(size + 1, len(xy))
            dist, idx = tree.query(xy[inside], k=k)
            dist, idx = dist.reshape(size, k), idx.reshape(size, k)
            dist = np.where(label[idx] != label[inside[0]], dist, np.inf)
            row, col = np.unravel_index(int(np.argmin(dist)), dist.shape)
            return float(dist[row, col]), int(inside[row]), int(idx[row, col])
        others = np.flatnonzero(label != label[inside[0]])
        dist, idx = cKDTree(xy[others]).query(xy[inside])
        best = int(np.argmin(dist))
        return float(dist[best]), int(inside[best]), int(others[idx[best]])

    return nearest


def _nearest_by_shape(shapes: np.ndarray) -> Nearest:
    """For a piece's rows: its closest pair by the gap between shapes (nearest shores)."""
    import shapely

    def nearest(inside: np.ndarray, label: np.ndarray) -> tuple[float, int, int]:
        others = np.flatnonzero(label != label[inside[0]])
        pairs, dist = shapely.STRtree(shapes[others]).query_nearest(
            shapes[inside], return_distance=True, all_matches=False
        )
        best = int(np.argmin(dist))
        return float(dist[best]), int(inside[pairs[0, best]]), int(others[pairs[1, best]])

    return nearest


def _spanning_links(pieces: np.ndarray, nearest: Nearest) -> list[tuple[float, int, int]]:
    """Borůvka over the pieces: the links of a minimum spanning tree, as (gap, i, j)."""
    label = pieces.copy()
    links: list[tuple[float, int, int]] = []
    while len(np.unique(label)) > 1:
        candidates = sorted(nearest(np.flatnonzero(label == p), label) for p in np.unique(label))
        for gap, i, j in candidates:  # shortest first; ties by row, so deterministic
            a, b = label[i], label[j]
            if a != b:
                label[label == b] = a
                links.append((gap, i, j))
    return links


def connect_pieces(G: nx.Graph, *, shapes: Sequence[Any] | np.ndarray | None = None) -> nx.Graph:
    """Join a city's pieces with declared links between their closest nodes.

    Parameters
    ----------
    G : networkx.Graph
        A city (or any graph whose nodes carry ``pos`` in km), possibly in
        several connected components. It is not modified.
    shapes : sequence of shapely geometries, optional
        One per node, in ``G.nodes`` order, in km (e.g. the district polygons:
        :func:`~waste_harmony.city.district_geometries`): pieces are then
        joined where their shapes come closest (the nearest shores) rather
        than where their positions do.

    Returns
    -------
    networkx.Graph
        A copy of ``G`` with ``k - 1`` added links when ``G`` has ``k`` pieces
        (none when it is connected): each between the two nodes of different
        pieces that are closest, in a minimum spanning tree over the pieces,
        with ``connector = True``, ``length_km`` the distance between the
        nodes' positions and ``border_km = 0.0`` (citizens travel it;
        pollution does not cross it). :func:`connector_links` lists them.

    Raises
    ------
    ValueError
        If a node has no ``pos``, or ``shapes`` does not have one shape per node.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.Graph()
    >>> G.add_nodes_from([(0, {"pos": (0.0, 0.0)}), (1, {"pos": (0.5, 0.0)}),
    ...                   (2, {"pos": (3.0, 0.0)})])
    >>> G.add_edge(0, 1)
    >>> H = connect_pieces(G)
    >>> connector_links(H)
    [(1, 2, 2.5)]
    >>> H.edges[1, 2]["border_km"]
    0.0
    """
    H = G.copy()
    nodes = list(H.nodes)
    if len(nodes) < 2:
        return H
    links = edge_index(H, nodes)
    n = len(nodes)
    pattern = coo_array((np.ones(len(links)), (links[:, 0], links[:, 1])), shape=(n, n))
    count, pieces = connected_components(pattern, directed=False)
    if count == 1:
        return H
    xy = _positions(H, nodes)
    if shapes is None:
        nearest = _nearest_by_position(xy)
    else:
        outlines = np.asarray(shapes, dtype=object)
        if outlines.shape != (n,):
            raise ValueError(
                f"shapes must hold one shape per node ({n}), got {len(outlines)}; "
                "pass them in G.nodes order"
            )
        nearest = _nearest_by_shape(outlines)
    for _, i, j in _spanning_links(pieces, nearest):
        km = float(np.hypot(*(xy[i] - xy[j])))
        H.add_edge(nodes[i], nodes[j], length_km=km, border_km=0.0, **{CONNECTOR: True})
    return H


def connector_links(G: nx.Graph) -> list[tuple[Any, Any, float]]:
    """The declared links of a city: ``(u, v, length_km)`` of each ``connector`` edge.

    Parameters
    ----------
    G : networkx.Graph
        A city.

    Returns
    -------
    list of tuple
        One ``(u, v, length_km)`` per edge with ``connector = True``, in
        ``G.edges`` order.

    Examples
    --------
    >>> import networkx as nx
    >>> connector_links(nx.path_graph(3))
    []
    """
    return [
        (u, v, float(d.get("length_km", np.nan)))
        for u, v, d in G.edges(data=True)
        if d.get(CONNECTOR) is True
    ]
