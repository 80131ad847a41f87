"""City graph to column arrays: the bridge to the model's vectorised state."""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp

from .zones import NODE_ATTRIBUTES

__all__ = ["city_arrays"]


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
        :class:`scipy.sparse.csr_array` of float64, shape ``(n, n)``.

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
            if attr == "zone":
                out["zone"] = np.array([d["zone"] for d in data], dtype=str)
            elif attr == "pos":
                xy = np.array([d["pos"] for d in data], dtype=np.float64).reshape(-1, 2)
                out["x"], out["y"] = xy[:, 0].copy(), xy[:, 1].copy()
            else:
                out[attr] = np.fromiter((d[attr] for d in data), np.float64, len(data))
    except KeyError as err:
        node = next(n for n, d in zip(nodes, data, strict=True) if err.args[0] not in d)
        raise ValueError(
            f"node {node!r}, attribute {err.args[0]!r} is missing; fill defaults with "
            "waste_harmony.city.with_defaults(G) and check with validate_city(G)"
        ) from None
    A = nx.to_scipy_sparse_array(
        G, nodelist=nodes, weight=None, dtype=np.dtype(np.float64), format="csr"
    )
    out["adjacency"] = sp.csr_array(A)
    return out
