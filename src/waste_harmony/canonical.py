"""One canonical form of data, and its SHA-256: for fingerprints, city hashes and seals.

:func:`canonical` turns a value into plain JSON data that stands for its meaning:
mappings with sorted keys, NumPy scalars as Python numbers, tuples as lists, sets
sorted, arrays by dtype, shape and the hash of their bytes, graphs by the hash of
their nodes, edges and attributes (:func:`graph_digest`). :func:`digest` is the
SHA-256 of its compact JSON text. Floats are written by ``json`` as the shortest
text that reads back exactly, so the same data hashes the same on every machine.

Three users share this one form, so that they can never disagree:

* experiment fingerprints (:mod:`waste_harmony.batch.identity` extends it to
  classes, functions, run files and scenario objects through ``extend``);
* the city hash every run's manifest records
  (:func:`waste_harmony.results.city_fingerprint`);
* the checksum a manifest carries of itself (:mod:`waste_harmony.storage`).

Examples
--------
>>> import numpy as np
>>> canonical({"b": np.float64(0.5), "a": (1, 2)}) == canonical({"a": [1, 2], "b": 0.5})
True
>>> digest({"a": 1}) == digest({"a": np.int64(1)})
True
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["NOT_HANDLED", "canonical", "canonical_json", "digest", "graph_digest"]

_MAX_DEPTH = 32

#: What an ``extend`` function returns for a value it does not know.
NOT_HANDLED = object()

#: ``extend(value, depth)``: canonical data for values the base form does not know,
#: or :data:`NOT_HANDLED`.
Extension = Callable[[Any, int], Any]


def canonical(value: Any, extend: Extension | None = None, _depth: int = 0) -> Any:
    """Plain JSON data standing for ``value``'s meaning.

    Parameters
    ----------
    value : object
        Scalars (Python or NumPy), bytes, arrays, mappings, sequences, sets,
        networkx graphs, nested freely.
    extend : callable, optional
        ``extend(value, depth)`` for other kinds of value (it recurses with
        ``canonical(part, extend, depth)``); it returns :data:`NOT_HANDLED` for a value
        it does not know either, which is then written as its type and ``repr``.

    Returns
    -------
    object
        JSON-serialisable data; equal for equal meanings.

    Examples
    --------
    >>> canonical({3, 1, 2})
    {'set': [1, 2, 3]}
    >>> canonical(float("nan"))
    {'float': 'nan'}
    """
    import numpy as np

    if _depth > _MAX_DEPTH:
        return {"repr": repr(value)}
    deeper = _depth + 1
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else {"float": repr(number)}
    if isinstance(value, complex | np.complexfloating):
        return {"complex": [canonical(value.real), canonical(value.imag)]}
    if isinstance(value, bytes):
        return {"bytes_sha256": hashlib.sha256(value).hexdigest()}
    if isinstance(value, np.ndarray):
        data = np.ascontiguousarray(value)
        if data.dtype.hasobject:
            return {"array": canonical(data.tolist(), extend, deeper)}
        return {
            "ndarray": str(data.dtype),
            "shape": list(data.shape),
            "sha256": hashlib.sha256(data.tobytes()).hexdigest(),
        }
    if isinstance(value, Mapping):
        items = [
            [canonical(k, extend, deeper), canonical(v, extend, deeper)] for k, v in value.items()
        ]
        if all(isinstance(k, str) for k, _ in items):
            return {k: v for k, v in sorted(items, key=lambda item: item[0])}
        return {"mapping": sorted(items, key=lambda item: _sort_key(item[0]))}
    if isinstance(value, list | tuple):
        return [canonical(v, extend, deeper) for v in value]
    if isinstance(value, set | frozenset):
        return {"set": sorted((canonical(v, extend, deeper) for v in value), key=_sort_key)}
    if hasattr(value, "nodes") and hasattr(value, "edges") and hasattr(value, "is_directed"):
        return graph_digest(value, extend)
    if extend is not None:
        found = extend(value, deeper)
        if found is not NOT_HANDLED:
            return found
    kind = type(value)
    return {"type": f"{kind.__module__}.{kind.__qualname__}", "repr": repr(value)}


def _sort_key(item: Any) -> str:
    return json.dumps(item, sort_keys=True)


def canonical_json(value: Any, extend: Extension | None = None) -> str:
    """The compact JSON text of :func:`canonical` (sorted keys, no spaces).

    Examples
    --------
    >>> canonical_json({"b": 1, "a": (2,)})
    '{"a":[2],"b":1}'
    """
    return json.dumps(
        canonical(value, extend), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def digest(value: Any, extend: Extension | None = None) -> str:
    """The SHA-256 (64 hex digits) of :func:`canonical_json`.

    Examples
    --------
    >>> len(digest([1, 2.5, "x"]))
    64
    """
    return hashlib.sha256(canonical_json(value, extend).encode()).hexdigest()


def graph_digest(G: Any, extend: Extension | None = None) -> dict[str, Any]:
    """A graph identified by its nodes, edges and all their attributes (and the graph's).

    Nodes and edges are sorted by their canonical text (an undirected edge's ends
    too), so the hash does not depend on insertion order, the process or the machine.

    Parameters
    ----------
    G : networkx.Graph
        The graph.
    extend : callable, optional
        As in :func:`canonical`, for attribute values of other kinds.

    Returns
    -------
    dict
        ``graph`` (the class name), ``directed`` and ``sha256``.

    Examples
    --------
    >>> import networkx as nx
    >>> a, b = nx.Graph(), nx.Graph()
    >>> a.add_edge(1, 2, w=0.5); a.add_node(3, zone="green")
    >>> b.add_node(3, zone="green"); b.add_edge(2, 1, w=0.5)
    >>> graph_digest(a) == graph_digest(b)
    True
    """
    nodes = sorted(
        ([canonical(n, extend), canonical(dict(a), extend)] for n, a in G.nodes(data=True)),
        key=_sort_key,
    )
    edges = []
    for u, v, a in G.edges(data=True):
        ends = [canonical(u, extend), canonical(v, extend)]
        if not G.is_directed():
            ends.sort(key=json.dumps)
        edges.append([*ends, canonical(dict(a), extend)])
    edges.sort(key=_sort_key)
    text = json.dumps(
        {"graph": canonical(dict(G.graph), extend), "nodes": nodes, "edges": edges},
        sort_keys=True,
    )
    return {
        "graph": type(G).__name__,
        "directed": G.is_directed(),
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
    }
