"""Bring your own city: fill defaults, load and save GraphML.

GraphML cannot store tuples, so positions are written as two float node
attributes ``x`` and ``y`` (km). On reading, ``pos`` is rebuilt from ``x``/``y``
or from a ``"x,y"`` string.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from .generators import SeedLike
from .validation import check_graph_type, validate_city
from .zones import ATTRIBUTE_DEFAULTS, NODE_ATTRIBUTES

__all__ = ["SPRING_LAYOUT_MAX_NODES", "load_city", "save_city", "with_defaults"]

#: Largest graph whose missing positions :func:`with_defaults` computes with
#: a spring layout; bigger graphs must bring their own positions.
SPRING_LAYOUT_MAX_NODES = 2000

_NODE_ID_TYPE_KEY = "waste_harmony_node_id_type"


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


def _layout_seed(seed: SeedLike) -> int:
    if seed is None:
        return 0
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2**31))
    return int(seed)


def with_defaults(G: nx.Graph, *, seed: SeedLike = None) -> nx.Graph:
    """Copy of ``G`` with every missing node attribute filled by a default.

    Existing attributes are kept. Defaults (see
    :data:`~waste_harmony.city.zones.ATTRIBUTE_DEFAULTS`): ``zone``
    ``"residential"``, ``population`` 1.0, ``marginalisation`` 0.5,
    ``biotech_access`` 0.5, ``habitat`` 0.1, ``area_km2`` 1.0,
    ``recycling_infrastructure`` 0.5, ``industrial_emission`` 0.0 (1.0 on
    industrial nodes), ``land_price`` 1.0. ``pos`` comes from float
    attributes ``x`` and ``y`` when present; otherwise, for graphs of at most
    :data:`SPRING_LAYOUT_MAX_NODES` nodes, from a deterministic
    :func:`networkx.spring_layout` (nodes that already have ``pos`` stay
    fixed; with no fixed node the layout spans about ``0.5 * sqrt(n)`` km).

    Parameters
    ----------
    G : networkx.Graph
        Any graph; it is not modified.
    seed : int, numpy.random.Generator or None, default None
        Seed of the spring layout; ``None`` means a fixed seed 0, so the
        result is reproducible.

    Returns
    -------
    networkx.Graph
        A copy of ``G`` (same class) with all node attributes present.

    Raises
    ------
    TypeError
        If ``G`` is not a networkx graph.
    ValueError
        If positions are missing on a graph larger than
        :data:`SPRING_LAYOUT_MAX_NODES` nodes.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.path_graph(3)
    >>> G.nodes[0]["zone"] = "industrial"
    >>> H = with_defaults(G)
    >>> H.nodes[0]["industrial_emission"], H.nodes[1]["population"]
    (1.0, 1.0)
    >>> "pos" in G.nodes[1], len(H.nodes[1]["pos"])
    (False, 2)
    """
    if not isinstance(G, nx.Graph):
        raise TypeError(f"a city must be a networkx.Graph, got {type(G).__name__}")
    H = G.copy()
    for node, data in H.nodes(data=True):
        if "pos" not in data and "x" in data and "y" in data:
            data["pos"] = (float(data["x"]), float(data["y"]))
        for attr, value in ATTRIBUTE_DEFAULTS.items():
            data.setdefault(attr, value)
        if "industrial_emission" not in G.nodes[node] and data["zone"] == "industrial":
            data["industrial_emission"] = 1.0

    missing = [n for n, d in H.nodes(data=True) if "pos" not in d]
    if missing:
        n = H.number_of_nodes()
        if n > SPRING_LAYOUT_MAX_NODES:
            raise ValueError(
                f"node {missing[0]!r}, attribute 'pos' is missing ({len(missing)} nodes lack "
                f"positions) and the graph has {n} > {SPRING_LAYOUT_MAX_NODES} nodes, too many "
                "for a spring layout; give every node a 'pos' (x, y) in km or float "
                "attributes 'x' and 'y'"
            )
        fixed = {k: tuple(d["pos"]) for k, d in H.nodes(data=True) if "pos" in d}
        layout = nx.spring_layout(
            H,
            pos=fixed or None,
            fixed=list(fixed) or None,
            seed=_layout_seed(seed),
            scale=0.5 * np.sqrt(n),
        )
        for node in missing:
            x, y = layout[node]
            H.nodes[node]["pos"] = (float(x), float(y))
    return H


def load_city(
    source: nx.Graph | str | os.PathLike[str],
    *,
    fill_defaults: bool = True,
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
        silently), or fails :func:`~waste_harmony.city.validate_city`.

    Examples
    --------
    >>> import networkx as nx
    >>> G = load_city(nx.cycle_graph(4))
    >>> G.nodes[0]["zone"], G.nodes[0]["population"]
    ('residential', 1.0)
    """
    if isinstance(source, nx.Graph):
        G = source.copy()
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"city file not found: {os.fspath(source)!r}")
        G = nx.read_graphml(path)
        id_type = G.graph.pop(_NODE_ID_TYPE_KEY, None)
        for key in ("node_default", "edge_default"):  # added by read_graphml
            if G.graph.get(key) == {}:
                del G.graph[key]
        if id_type == "int":
            G = nx.relabel_nodes(G, int, copy=True)
    else:
        raise TypeError(
            f"load_city expects a networkx.Graph or a GraphML path, got {type(source).__name__}"
        )
    check_graph_type(G)
    for node, data in G.nodes(data=True):
        _pos_from_xy_or_string(data, node)
    if fill_defaults:
        G = with_defaults(G)
    validate_city(G, allow_disconnected=allow_disconnected)
    return G


def _plain(value: Any) -> Any:
    """NumPy scalars to Python scalars, for the GraphML writer."""
    return value.item() if isinstance(value, np.generic) else value


def save_city(G: nx.Graph, path: str | os.PathLike[str]) -> None:
    """Write a city to GraphML so that :func:`load_city` reads it back.

    ``pos`` is stored as float attributes ``x`` and ``y`` (overwriting any
    existing ``x``/``y``); the numeric attributes of
    :data:`~waste_harmony.city.zones.NODE_ATTRIBUTES` are stored as floats.
    Integer node ids are restored on loading.

    Parameters
    ----------
    G : networkx.Graph
        The city graph; it is not modified.
    path : str or path-like
        Destination file.

    Returns
    -------
    None

    Raises
    ------
    TypeError, ValueError
        If ``G`` is not a plain undirected graph (see
        :func:`~waste_harmony.city.validation.check_graph_type`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from waste_harmony.city import grid_city
    >>> G = grid_city(3, 3, seed=0)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "town.graphml"
    ...     save_city(G, path)
    ...     H = load_city(path)
    >>> dict(H.nodes(data=True)) == dict(G.nodes(data=True))
    True
    """
    check_graph_type(G)
    H = nx.Graph()
    H.graph.update({k: _plain(v) for k, v in G.graph.items()})
    if G.number_of_nodes() and all(type(n) is int for n in G.nodes):
        H.graph[_NODE_ID_TYPE_KEY] = "int"
    numeric = set(NODE_ATTRIBUTES) - {"zone", "pos"}
    for node, data in G.nodes(data=True):
        row: dict[str, Any] = {}
        for attr, value in data.items():
            if attr == "pos":
                row["x"], row["y"] = float(value[0]), float(value[1])
            elif attr in ("x", "y") and "pos" in data:
                continue
            elif attr in numeric:
                row[attr] = float(value)
            else:
                row[attr] = _plain(value)
        H.add_node(node, **row)
    H.add_edges_from((u, v, {k: _plain(x) for k, x in d.items()}) for u, v, d in G.edges(data=True))
    nx.write_graphml(H, os.fspath(path))
