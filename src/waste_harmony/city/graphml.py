"""Cities in GraphML: safe parsing, node ids that come back as they were, writing.

GraphML cannot store tuples, so positions are written as two float node
attributes ``x`` and ``y`` (km). Node ids, stored by GraphML as text, come back as
they were: int ids through the graph attribute ``waste_harmony_node_id_type="int"``,
tuple or mixed ids through ``"json"`` (each id written as JSON text, tuples as
arrays, as :func:`waste_harmony.schema.encode_node` does). GraphML is parsed with
:mod:`defusedxml`, which refuses entity declarations (billion laughs) and external
entities whatever the system's XML parser would do.

:func:`waste_harmony.city.load_city` reads a file with :func:`read_city_file`, then
fills defaults and validates, as for any graph.

Examples
--------
>>> decode_node_id(encode_node_id((3, 4))), encode_node_id((3, 4))
((3, 4), '[3, 4]')
"""

from __future__ import annotations

import json
import os
from collections.abc import Hashable
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree
import networkx as nx
import numpy as np
from defusedxml import DefusedXmlException

from .validation import check_graph_type
from .zones import NODE_ATTRIBUTES

__all__ = [
    "NODE_ID_TYPE_KEY",
    "decode_node_id",
    "encode_node_id",
    "read_city_file",
    "read_graphml",
    "save_city",
]

#: The graph attribute that says how the file's node ids are to be read back.
NODE_ID_TYPE_KEY = "waste_harmony_node_id_type"


def encode_node_id(node: Any) -> str:
    """A node id as JSON text, tuples as arrays (as ``waste_harmony.schema.encode_node``)."""

    def plain(value: Any) -> Any:
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, tuple | list):
            return [plain(v) for v in value]
        return value

    return json.dumps(plain(node))


def decode_node_id(text: str) -> Any:
    """The node id :func:`encode_node_id` wrote (JSON arrays become tuples)."""

    def tuples(value: Any) -> Any:
        return tuple(tuples(v) for v in value) if isinstance(value, list) else value

    return tuples(json.loads(text))


def read_graphml(path: str | os.PathLike[str]) -> nx.Graph:
    """Read a GraphML file safely, with errors that name the file.

    The XML is parsed with :mod:`defusedxml` (entity declarations, the "billion
    laughs" attack, and external entities are refused) before networkx builds the
    graph from it.

    Parameters
    ----------
    path : str or path-like
        The GraphML file.

    Returns
    -------
    networkx.Graph
        The graph as networkx reads it (node ids are strings).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file is not well-formed XML, declares entities or is not GraphML;
        the message names the file and the problem.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "bad.graphml"
    ...     _ = path.write_text("<graphml><graph")
    ...     read_graphml(path)
    Traceback (most recent call last):
    ...
    ValueError: city file '...bad.graphml' is not well-formed XML (unclosed token: line 1, column 9); ...
    """  # noqa: E501
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"city file not found: {os.fspath(path)!r}")
    text = path.read_bytes()
    where = f"city file {os.fspath(path)!r}"
    try:
        root = defusedxml.ElementTree.fromstring(text)
    except DefusedXmlException as err:
        raise ValueError(
            f"{where} is refused: it declares XML entities or refers to external resources "
            f"({type(err).__name__}: {err}); a GraphML city needs neither, write it with "
            "waste_harmony.city.save_city or networkx.write_graphml"
        ) from None
    except ParseError as err:
        raise ValueError(
            f"{where} is not well-formed XML ({err}); the file may be truncated or not "
            "GraphML, write it again with waste_harmony.city.save_city"
        ) from None
    problem = _node_id_problem(root)
    if problem is not None:
        raise ValueError(
            f"{where} {problem}; every <node> needs its own id and every <edge> "
            "must join declared nodes: fix the file or write it again with "
            "waste_harmony.city.save_city"
        )
    try:
        graphs = list(nx.readwrite.graphml.GraphMLReader()(string=text))
    except (nx.NetworkXError, KeyError, ValueError, TypeError) as err:
        raise ValueError(
            f"{where} is not a readable GraphML graph ({type(err).__name__}: {err}); "
            "write it with waste_harmony.city.save_city or networkx.write_graphml"
        ) from None
    if not graphs:
        raise ValueError(
            f"{where} holds no <graph> element (is it GraphML?); write it with "
            "waste_harmony.city.save_city"
        )
    return graphs[0]


def _node_id_problem(root: Any) -> str | None:
    """Duplicate node ids, or edges to undeclared nodes, which networkx reads silently.

    (A repeated id merges two neighbourhoods into one; an edge's unknown end adds a node
    without attributes.)
    """
    for graph in root.iter():
        if not str(graph.tag).endswith("graph") or str(graph.tag).endswith("graphml"):
            continue
        ids: dict[str, int] = {}
        for child in graph:
            if str(child.tag).rpartition("}")[2] == "node":
                node_id = child.get("id")
                ids[node_id] = ids.get(node_id, 0) + 1
        twice = [n for n, count in ids.items() if count > 1]
        if twice:
            return f"declares node id {twice[0]!r} {ids[twice[0]]} times"
        for child in graph:
            if str(child.tag).rpartition("}")[2] == "edge":
                for end in (child.get("source"), child.get("target")):
                    if end not in ids:
                        return (
                            f"has an edge from {child.get('source')!r} to "
                            f"{child.get('target')!r}, but node {end!r} is not declared"
                        )
    return None


def read_city_file(path: str | os.PathLike[str]) -> nx.Graph:
    """The graph of a GraphML city file (:func:`read_graphml`), node ids as written.

    Not yet validated, and without the reader's empty ``node_default`` and
    ``edge_default``. Raises as :func:`read_graphml`, and ``ValueError`` if the file
    marks its ids as JSON text and one is not.
    """
    G = read_graphml(path)
    id_type = G.graph.pop(NODE_ID_TYPE_KEY, None)
    for key in ("node_default", "edge_default"):  # added by read_graphml
        if G.graph.get(key) == {}:
            del G.graph[key]
    if id_type == "int":
        G = nx.relabel_nodes(G, int, copy=True)
    elif id_type == "json":
        try:
            G = nx.relabel_nodes(G, decode_node_id, copy=True)
        except (ValueError, TypeError) as exc:
            raise ValueError(
                f"{path}: graph attribute {NODE_ID_TYPE_KEY}='json' says node ids are "
                f"JSON text, but one is not ({exc}); remove the attribute or fix the ids"
            ) from exc
    return G


def _plain(value: Any) -> Any:
    """NumPy scalars to Python scalars, for the GraphML writer."""
    return value.item() if isinstance(value, np.generic) else value


def save_city(G: nx.Graph, path: str | os.PathLike[str]) -> None:
    """Write a city to GraphML so that :func:`~waste_harmony.city.load_city` reads it back.

    ``pos`` is stored as float attributes ``x`` and ``y`` (overwriting any
    existing ``x``/``y``); the numeric attributes of
    :data:`~waste_harmony.city.zones.NODE_ATTRIBUTES` are stored as floats.
    Node ids come back as they were: GraphML stores ids as text, so a graph of
    integer ids is marked ``waste_harmony_node_id_type="int"``, and a graph with
    tuple ids (as :func:`networkx.grid_2d_graph` makes them) or mixed ids is marked
    ``"json"`` and its ids written as JSON text, tuples as arrays (the encoding of
    :func:`waste_harmony.schema.encode_node`); string ids are written as they are.

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
    >>> from waste_harmony.city import grid_city, load_city
    >>> G = grid_city(3, 3, seed=0)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "town.graphml"
    ...     save_city(G, path)
    ...     H = load_city(path)
    >>> dict(H.nodes(data=True)) == dict(G.nodes(data=True))
    True
    """
    check_graph_type(G)
    H: nx.Graph[Hashable] = nx.Graph()
    H.graph.update({k: _plain(v) for k, v in G.graph.items()})
    as_json = False
    if G.number_of_nodes() and all(type(n) is int or isinstance(n, np.integer) for n in G.nodes):
        H.graph[NODE_ID_TYPE_KEY] = "int"
    elif not all(isinstance(n, str) for n in G.nodes):
        H.graph[NODE_ID_TYPE_KEY] = "json"
        as_json = True
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
        H.add_node(encode_node_id(node) if as_json else node, **row)
    H.add_edges_from(
        (
            encode_node_id(u) if as_json else u,
            encode_node_id(v) if as_json else v,
            {k: _plain(x) for k, x in d.items()},
        )
        for u, v, d in G.edges(data=True)
    )
    nx.write_graphml(H, os.fspath(path))
