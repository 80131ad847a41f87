"""The work behind :class:`~waste_harmony.CityModel`'s public services, as functions.

The services agents, rules and scenarios call (``node_index``, ``gather``,
``add_links``, ``citizen_mean``, ...) must be methods of the model, documented for
users: they are the :class:`~waste_harmony.services.CityServices` protocol. What
they *do* is here, as functions of the state they are given (a node index, a
column, the links), so that each method of the model is its documentation and one
call, and each function can be read and tested without a model.

Examples
--------
>>> import numpy as np
>>> from waste_harmony.model.members import rows_of
>>> rows_of({"a": 0, "b": 1, "c": 2}, ["c", "a"]).tolist()
[2, 0]
>>> rows_of({"a": 0, "b": 1}, None, n_nodes=2).tolist()
[0, 1]
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp

from waste_harmony.city import missing_node_hint
from waste_harmony.recording import Event

__all__ = [
    "facility_status",
    "gathering_rows",
    "linked",
    "nudged",
    "parameter_events",
    "people_mean",
    "row_of",
    "rows_of",
]


def row_of(node_index: Mapping[Hashable, int], node: Hashable) -> int:
    """Row of a node id, or a ``KeyError`` naming the node and the closest ids.

    Parameters
    ----------
    node_index : mapping
        Node id → row.
    node : hashable
        Node id.

    Returns
    -------
    int
        Its row.

    Examples
    --------
    >>> row_of({(0, 0): 0, (0, 1): 1}, (0, 1))
    1
    """
    try:
        return node_index[node]
    except (KeyError, TypeError):
        hint = missing_node_hint(node, node_index)
        raise KeyError(f"node {node!r} is not in the city graph{hint}") from None


def rows_of(node_index: Mapping[Hashable, int], nodes: Any, *, n_nodes: int = 0) -> np.ndarray:
    """Rows of every node (``None``), of one node id or of an iterable of ids.

    Tuples and strings are node ids, not lists of them, when the city has them.

    Parameters
    ----------
    node_index : mapping
        Node id → row.
    nodes : None, node id or iterable of node ids
        Which nodes.
    n_nodes : int
        The number of nodes (for ``None``).

    Returns
    -------
    numpy.ndarray of int64
        The rows.
    """
    if nodes is None:
        return np.arange(n_nodes)
    try:
        single = nodes in node_index
    except TypeError:  # unhashable: a list or array of ids
        single = False
    if single:
        return np.array([node_index[nodes]])
    return np.array([row_of(node_index, n) for n in nodes], dtype=np.int64)


def gathering_rows(
    node_index: Mapping[Hashable, int], node: Hashable | None, node_rows: np.ndarray | None
) -> Any:
    """Where citizens gather: one node's row (``node``) or a row each (``node_rows``).

    Raises
    ------
    TypeError
        If neither or both of ``node`` and ``node_rows`` are given.
    """
    if (node is None) == (node_rows is None):
        raise TypeError("give the gathering place as node=<node id> or node_rows=<rows>")
    return row_of(node_index, node) if node_rows is None else node_rows


def linked(links: sp.csr_array, rows: Any, others: Any, weight: Any = 1.0) -> sp.csr_array:
    """``links`` with the pairs ``(rows[i], others[i])`` added in both directions.

    Parameters
    ----------
    links : scipy.sparse.csr_array, shape (n, n)
        The network's weights.
    rows, others : array of int
        The pairs' node rows.
    weight : float or array
        Each link's weight (finite, ≥ 0).

    Returns
    -------
    scipy.sparse.csr_array
        A new array; ``links`` is unchanged.

    Raises
    ------
    ValueError
        If the pairs do not pair up or a weight is negative or not finite.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> linked(sp.csr_array((3, 3)), [0], [2], 2.0).toarray()[[0, 2], [2, 0]].tolist()
    [2.0, 2.0]
    """
    a = np.asarray(rows, dtype=np.int64).reshape(-1)
    b = np.asarray(others, dtype=np.int64).reshape(-1)
    if a.shape != b.shape:
        raise ValueError(f"rows and others must pair up: got {a.size} rows and {b.size} others")
    w = np.broadcast_to(np.asarray(weight, dtype=np.float64), a.shape)
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ValueError("link weights must be finite and >= 0")
    m = links.shape[0]
    new = sp.csr_array(
        (np.concatenate([w, w]), (np.concatenate([a, b]), np.concatenate([b, a]))),
        shape=(m, m),
    )
    return sp.csr_array(links + new)


def nudged(column: np.ndarray, rows: Any, delta: Any) -> None:
    """Shift ``column[rows]`` by ``delta`` in place, kept in [0, 1] (a share or opinion)."""
    column[rows] = np.clip(column[rows] + delta, 0.0, 1.0)


def people_mean(
    values: np.ndarray, *, homes: Any, people: np.ndarray, population: float, uniform: bool
) -> float:
    """Mean of a per-citizen column over the people the citizens stand for.

    Parameters
    ----------
    values : numpy.ndarray, shape (n_citizens,)
        Per-citizen values.
    homes : RowGroups
        Each node's residents (``homes.means(values)``: the mean per node).
    people, population : numpy.ndarray, float
        People per node and in all.
    uniform : bool
        Whether every citizen stands for as many people: the plain mean, exactly.

    Returns
    -------
    float
        The mean.
    """
    if uniform:
        return float(np.mean(values))
    return float(homes.means(values) @ people / population)


def facility_status(statuses: Iterable[str]) -> str:
    """``"built"`` if any firm built, else ``"proposed"``, ``"withdrawn"`` or ``"none"``.

    Examples
    --------
    >>> facility_status(["withdrawn", "proposed"]), facility_status([])
    ('proposed', 'none')
    """
    found = set(statuses)
    for status in ("built", "proposed", "withdrawn"):
        if status in found:
            return status
    return "none"


def parameter_events(
    changes: Iterable[Mapping[str, Any]], *, source: str, scenarios: Iterable[str]
) -> list[Event]:
    """One ``parameters_changed`` event per change made by ``source``.

    Parameters
    ----------
    changes : iterable of mapping
        The changes (``day``, ``name``, ``old``, ``new``), as
        :meth:`~waste_harmony.model.history.ParameterHistory.change` returns them.
    source : str
        Who made them; also the event's ``scenario`` when it names an installed one.
    scenarios : iterable of str
        The installed scenarios' names.
    """
    installed = set(scenarios)
    events = []
    for change in changes:
        details = {"parameter": change["name"], "old": change["old"], "new": change["new"]}
        details["source"] = source
        if source in installed:
            details["scenario"] = source
        events.append(Event(change["day"], "parameters_changed", None, details))
    return events
