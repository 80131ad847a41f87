"""City graph to column arrays: the bridge to the model's vectorised state."""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from itertools import chain
from operator import itemgetter, methodcaller
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp

from .zones import NODE_ATTRIBUTES

__all__ = ["EDGE_ATTRIBUTES", "city_arrays", "edge_index"]

#: Numeric edge attributes :func:`city_arrays` returns per edge (NaN where missing):
#: the street length and, for cities from polygons, the shared border, both in km.
EDGE_ATTRIBUTES: tuple[str, ...] = ("length_km", "border_km")


def city_arrays(G: nx.Graph) -> dict[str, Any]:
    """Node attributes as NumPy columns and the adjacency as a sparse array.

    All columns follow ``list(G.nodes)`` order. ``G`` is assumed valid (see
    :func:`~waste_harmony.city.validate_city`).

    Parameters
    ----------
    G : networkx.Graph
        A city graph.

    Returns
    -------
    dict
        ``"nodes"``: list of node ids (row order); ``"zone"``: array of str;
        ``"x"``, ``"y"``: positions in km (float64); one float64 array per
        numeric attribute (``"population"``, ``"marginalisation"``,
        ``"biotech_access"``, ``"habitat"``, ``"area_km2"``,
        ``"recycling_infrastructure"``, ``"industrial_emission"``,
        ``"land_price"``); ``"adjacency"``: symmetric 0/1
        :class:`scipy.sparse.csr_array` of float64, shape ``(n, n)``;
        ``"edges"``: the rows of each edge's two ends, int64, shape ``(m, 2)``
        in ``G.edges()`` order (self-loops included); ``"edge_length_km"``,
        ``"edge_border_km"``: each edge's attribute as float64, NaN where it is
        missing (:data:`EDGE_ATTRIBUTES`).

    Raises
    ------
    ValueError
        If a node lacks one of the required attributes.

    Examples
    --------
    >>> from waste_harmony.city import grid_city
    >>> arrays = city_arrays(grid_city(2, 3, seed=0))
    >>> arrays["nodes"]
    [0, 1, 2, 3, 4, 5]
    >>> arrays["x"].tolist()
    [0.0, 0.5, 1.0, 0.0, 0.5, 1.0]
    >>> arrays["adjacency"].toarray()[0].tolist()
    [0.0, 1.0, 0.0, 1.0, 0.0, 0.0]
    """
    nodes = list(G.nodes)
    data = [d for _, d in G.nodes(data=True)]
    out: dict[str, Any] = {"nodes": nodes}
    try:
        for attr in NODE_ATTRIBUTES:
            values = map(itemgetter(attr), data)  # one C-level pass per attribute
            if attr == "zone":
                out["zone"] = np.array(list(values), dtype=str)
            elif attr == "pos":
                xy = np.array(list(values), dtype=np.float64).reshape(-1, 2)
                out["x"], out["y"] = xy[:, 0].copy(), xy[:, 1].copy()
            else:
                out[attr] = np.fromiter(values, np.float64, len(data))
    except KeyError as err:
        node = next(n for n, d in zip(nodes, data, strict=True) if err.args[0] not in d)
        raise ValueError(
            f"node {node!r}, attribute {err.args[0]!r} is missing; fill defaults with "
            "waste_harmony.city.with_defaults(G) and check with validate_city(G)"
        ) from None
    links = edge_index(G, nodes)
    out["adjacency"] = _adjacency(G, nodes, links)
    out["edges"] = links
    edge_data = [data for *_, data in G.edges(data=True)]
    for attr in EDGE_ATTRIBUTES:
        get = map(methodcaller("get", attr, math.nan), edge_data)
        out[f"edge_{attr}"] = np.fromiter(get, np.float64, len(edge_data))
    return out


def edge_index(G: nx.Graph, nodes: Sequence[Hashable] | None = None) -> np.ndarray:
    """Row indices of the two ends of every edge, in ``G.edges()`` order.

    Parameters
    ----------
    G : networkx.Graph
        A graph.
    nodes : sequence, optional
        The node order the indices refer to; default ``list(G.nodes)``.

    Returns
    -------
    numpy.ndarray of int64, shape (m, 2)
        One row per edge of ``G.edges()`` (each undirected edge once).

    Examples
    --------
    >>> import networkx as nx
    >>> edge_index(nx.path_graph(["a", "b", "c"])).tolist()
    [[0, 1], [1, 2]]
    """
    nodes = list(G.nodes) if nodes is None else nodes
    index = dict(zip(nodes, range(len(nodes)), strict=True))
    ends = map(index.__getitem__, chain.from_iterable(G.edges()))
    return np.fromiter(ends, dtype=np.int64).reshape(-1, 2)


def _adjacency(G: nx.Graph, nodes: list[Any], links: np.ndarray) -> sp.csr_array:
    """``networkx.to_scipy_sparse_array(G, nodes, weight=None)`` as CSR.

    Built from the edge index arrays: the same COO entries in the same order, so
    the same array, without a Python tuple per edge.
    """
    if G.is_directed() or G.is_multigraph():
        A = nx.to_scipy_sparse_array(
            G, nodelist=nodes, weight=None, dtype=np.dtype(np.float64), format="csr"
        )
        return sp.csr_array(A)
    u, v = links[:, 0], links[:, 1]
    loops = u[u == v]  # counted twice by the symmetric entries: once subtracted
    rows = np.concatenate([u, v, loops])
    cols = np.concatenate([v, u, loops])
    data = np.concatenate([np.ones(2 * len(u)), -np.ones(len(loops))])
    n = len(nodes)
    return sp.csr_array(sp.coo_array((data, (rows, cols)), shape=(n, n)).asformat("csr"))
