"""Validation of city graphs, with error messages that say what to fix.

:func:`validate_city` checks the graph type, its structure, every node
attribute of :data:`~waste_harmony.city.zones.NODE_ATTRIBUTES` and the units of
the positions, and reports every problem it finds in one error. Checks are
column-wise (one pass per attribute, range checks vectorised with NumPy), so a
city of 10^4 nodes validates in milliseconds.

Positions must be in km. Two unit mistakes are recognised (:func:`check_units`):
longitude/latitude in degrees (every ``|x| <= 180`` and ``|y| <= 90``, an extent
below :data:`LONLAT_MAX_EXTENT` and a centre more than :data:`LONLAT_MIN_OFFSET`
extents away from the origin, as a city's coordinates in degrees are) and metres
(an extent above :data:`MAX_EXTENT_KM` km or a median link longer than
:data:`MAX_MEDIAN_LINK_KM` km).

These checks are a guess for graphs that do not say their unit. A graph that
declares it, ``G.graph["units"] = "km"`` (:data:`UNITS_KEY`; the loaders
:func:`~waste_harmony.city.from_districts` and :func:`~waste_harmony.city.from_osm`
set it, and a user can set it on any graph), is trusted: a region hundreds of km
wide, such as a state's counties, is then a valid city. Any other declared unit
is refused with the conversion.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Hashable, Sequence
from itertools import chain, repeat
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from .arrays import EDGE_ATTRIBUTES, edge_index
from .zones import NODE_ATTRIBUTES, UNIT_INTERVAL_ATTRIBUTES, ZONES

__all__ = [
    "DECLARED_KM",
    "LONLAT_MAX_EXTENT",
    "LONLAT_MIN_OFFSET",
    "MAX_EXTENT_KM",
    "MAX_MEDIAN_LINK_KM",
    "UNITS_KEY",
    "check_graph_type",
    "check_units",
    "missing_node_hint",
    "validate_city",
]

#: Positions spanning less than this (in their own unit) may be degrees ...
LONLAT_MAX_EXTENT = 2.0
#: ... when their centre lies more than this many extents from the origin.
LONLAT_MIN_OFFSET = 50.0
#: A city wider than this many km is taken to be in metres.
MAX_EXTENT_KM = 500.0
#: A city whose median link is longer than this many km is taken to be in metres.
MAX_MEDIAN_LINK_KM = 25.0
#: The graph attribute that declares the unit of the positions ...
UNITS_KEY = "units"
#: ... and the one value it may take: ``G.graph["units"] = "km"`` turns the guesses off.
DECLARED_KM = "km"
#: How a message names the declaration.
_DECLARE = f'G.graph["{UNITS_KEY}"] = "{DECLARED_KM}"'

_FROM_GRAPH = (
    "convert it in one step with waste_harmony.city.from_graph(G) (drops direction, "
    "merges parallel links, removes self-loops)"
)

_MISSING = object()
_FAST_NUMERIC = frozenset({float, int, np.float64, np.float32, np.int64, np.int32})
_ZONE_SET = frozenset(ZONES)
_NUMERIC_ATTRIBUTES = tuple(a for a in NODE_ATTRIBUTES if a not in ("zone", "pos"))


def _is_real(value: Any) -> bool:
    """True for real numbers other than booleans."""
    if type(value) in _FAST_NUMERIC:
        return True
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _where(node: Hashable, attr: str) -> str:
    return f"node {node!r}, attribute {attr!r}"


def _structure_problems(G: nx.Graph) -> list[str]:
    """Direction, parallel links and self-loops, described in one problem."""
    found = _type_problems(G)
    loops = list(nx.selfloop_edges(G))
    if loops:
        found.append(f"has {len(loops)} self-loop(s) (e.g. at node {loops[0][0]!r})")
    return [f"the city graph {_join(found)}; {_FROM_GRAPH}"] if found else []


def _type_problems(G: nx.Graph) -> list[str]:
    found = []
    if G.is_directed():
        found.append(f"is directed ({type(G).__name__}; city links are two-way)")
    if G.is_multigraph():
        found.append(f"is a multigraph ({type(G).__name__}; parallel links are not supported)")
    return found


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def check_graph_type(G: Any) -> None:
    """Reject anything that is not a plain undirected ``networkx.Graph``.

    Parameters
    ----------
    G : object
        Candidate city graph.

    Raises
    ------
    TypeError
        If ``G`` is not a networkx graph.
    ValueError
        If ``G`` is directed or a multigraph (one message naming both, and how to
        convert: :func:`waste_harmony.city.from_graph`).

    Examples
    --------
    >>> import networkx as nx
    >>> check_graph_type(nx.path_graph(3))
    >>> check_graph_type(nx.MultiDiGraph())
    Traceback (most recent call last):
    ...
    ValueError: the city graph is directed (MultiDiGraph; city links are two-way) and is a multigraph (MultiDiGraph; parallel links are not supported); convert it in one step with waste_harmony.city.from_graph(G) (drops direction, merges parallel links, removes self-loops)
    """  # noqa: E501
    if not isinstance(G, nx.Graph):
        raise TypeError(f"a city must be a networkx.Graph, got {type(G).__name__}")
    found = _type_problems(G)
    if found:
        raise ValueError(f"the city graph {_join(found)}; {_FROM_GRAPH}")


def _more(count: int) -> str:
    return f" ({count - 1} more node(s) like this)" if count > 1 else ""


def _missing_problem(nodes: Sequence[Hashable], attr: str, values: list[Any]) -> str | None:
    bad = [node for node, value in zip(nodes, values, strict=True) if value is _MISSING]
    if not bad:
        return None
    node = bad[0]
    if attr == "pos":
        fix = (
            f"set G.nodes[{node!r}]['pos'] = (x, y) in km (or float attributes 'x' and 'y'); "
            "with_defaults(G, layout='spring') invents a layout only when asked"
        )
    elif attr == "area_km2":
        fix = (
            f"set G.nodes[{node!r}]['area_km2'] in km², or let "
            "waste_harmony.city.with_defaults(G) derive it from the positions"
        )
    else:
        fix = (
            f"set G.nodes[{node!r}][{attr!r}] or fill documented defaults with "
            "waste_harmony.city.with_defaults(G)"
        )
    return f"{_where(node, attr)} is missing{_more(len(bad))}; {fix}"


def _zone_problem(nodes: Sequence[Hashable], values: list[Any]) -> str | None:
    bad = [
        (node, value)
        for node, value in zip(nodes, values, strict=True)
        if not (isinstance(value, str) and value in _ZONE_SET)
    ]
    if not bad:
        return None
    node, value = bad[0]
    return (
        f"{_where(node, 'zone')} is {value!r}, an unknown zone{_more(len(bad))}; "
        f"use one of {', '.join(map(repr, ZONES))}"
    )


def _pos_ok(p: Any) -> bool:
    return (
        isinstance(p, tuple | list | np.ndarray)
        and len(p) == 2
        and _is_real(p[0])
        and _is_real(p[1])
        and math.isfinite(p[0])
        and math.isfinite(p[1])
    )


def _plain_positions(values: list[Any]) -> np.ndarray | None:
    """The positions as an (n, 2) array, or None (then check them one by one).

    An array when each position is a tuple or list of two finite plain numbers,
    checked in C-level passes over all of them.
    """
    if (
        set(map(type, values)) <= {tuple, list}
        and set(map(len, values)) == {2}
        and set(map(type, chain.from_iterable(values))) <= _FAST_NUMERIC
    ):
        xy = np.array(values, dtype=np.float64).reshape(-1, 2)
        if np.isfinite(xy).all():
            return xy
    return None


def _pos_problem(nodes: Sequence[Hashable], values: list[Any]) -> str | None:
    if _plain_positions(values) is not None:
        return None
    bad = [(node, p) for node, p in zip(nodes, values, strict=True) if not _pos_ok(p)]
    if not bad:
        return None
    node, p = bad[0]
    return (
        f"{_where(node, 'pos')} is {p!r}{_more(len(bad))}; it must be a length-2 sequence "
        f"of finite numbers (x, y) in km, e.g. G.nodes[{node!r}]['pos'] = (0.0, 1.5)"
    )


def _numeric_problem(nodes: Sequence[Hashable], attr: str, values: list[Any]) -> str | None:
    plain = set(map(type, values)) <= _FAST_NUMERIC  # one C-level pass: all plain numbers
    wrong = [] if plain else [i for i, value in enumerate(values) if not _is_real(value)]
    if wrong:
        i = wrong[0]
        return (
            f"{_where(nodes[i], attr)} has type {type(values[i]).__name__} ({values[i]!r})"
            f"{_more(len(wrong))}; it must be a real number, e.g. "
            f"G.nodes[{nodes[i]!r}][{attr!r}] = float(...)"
        )
    arr = np.asarray(values, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        i = bad[0]
        return (
            f"{_where(nodes[i], attr)} is {values[i]!r}{_more(bad.size)}; NaN and infinity "
            "are not allowed, set a finite number"
        )
    if attr in UNIT_INTERVAL_ATTRIBUTES:
        bad = np.flatnonzero((arr < 0.0) | (arr > 1.0))
        rule = "must lie in [0, 1]; rescale or clip it to that interval"
    elif attr == "area_km2":
        bad = np.flatnonzero(arr <= 0.0)
        rule = "must be > 0 (km²); set the neighbourhood's positive area"
    else:
        bad = np.flatnonzero(arr < 0.0)
        rule = "must be >= 0; set a non-negative value"
    if bad.size:
        i = bad[0]
        return f"{_where(nodes[i], attr)} is {values[i]!r}, but it {rule}{_more(bad.size)}"
    if attr == "population" and not np.any(arr > 0):
        return (
            f"attribute 'population' is zero on every node (e.g. node {nodes[0]!r}); "
            "citizens are placed in proportion to it, so give at least one node a "
            "positive population"
        )
    return None


def check_units(xy: np.ndarray, links: np.ndarray | None = None) -> str | None:
    """Say why positions are evidently not in km, or return None.

    Parameters
    ----------
    xy : numpy.ndarray, shape (n, 2)
        Node positions.
    links : numpy.ndarray of int, shape (m, 2), optional
        Row indices of the linked node pairs (for the median link length).

    Returns
    -------
    str or None
        A message naming the likely unit and how to convert, or None when the
        positions can be km (see the module's rules).

    Examples
    --------
    >>> import numpy as np
    >>> check_units(np.array([[0.0, 0.0], [0.5, 0.0], [0.5, 0.5]])) is None
    True
    >>> print(check_units(np.array([[-102.30, 21.88], [-102.27, 21.90]])))  # doctest: +ELLIPSIS
    positions look like longitude/latitude in degrees...
    """
    if len(xy) < 2:
        return None
    low, high = xy.min(axis=0), xy.max(axis=0)
    span = high - low
    extent = float(span.max())
    centre = 0.5 * (low + high)
    box = f"x from {low[0]:.6g} to {high[0]:.6g}, y from {low[1]:.6g} to {high[1]:.6g}"
    if (
        0.0 < extent < LONLAT_MAX_EXTENT
        and np.all(np.abs(xy[:, 0]) <= 180.0)
        and np.all(np.abs(xy[:, 1]) <= 90.0)
        and float(np.hypot(*centre)) > LONLAT_MIN_OFFSET * extent
    ):
        return (
            f"positions look like longitude/latitude in degrees ({box}: a city "
            f"{span[0]:.3g} x {span[1]:.3g} 'km' wide, far from the origin), but 'pos' must "
            "be in km; project them to a metric CRS (e.g. osmnx.project_graph(G), or "
            "gdf.to_crs(gdf.estimate_utm_crs()) in geopandas) and divide the metres by "
            "1000; if they really are km, shift them to a local origin (subtract the "
            f"minimum x and y) or declare them with {_DECLARE}"
        )
    median_link = 0.0
    if links is not None and len(links):
        median_link = float(np.median(np.hypot(*(xy[links[:, 0]] - xy[links[:, 1]]).T)))
    if extent > MAX_EXTENT_KM or median_link > MAX_MEDIAN_LINK_KM:
        return (
            f"positions look like metres, not km ({box}: a city {span[0]:.4g} x "
            f"{span[1]:.4g} km wide with a median link of {median_link:.4g} km; a city is "
            f"at most {MAX_EXTENT_KM:g} km wide and its links at most about "
            f"{MAX_MEDIAN_LINK_KM:g} km long); divide x and y by 1000, or, if they are km "
            f"(a region hundreds of km wide), declare it with {_DECLARE}"
        )
    return None


def validate_city(G: nx.Graph, *, allow_disconnected: bool = False) -> None:
    """Check that ``G`` is a usable city graph; raise with a fix otherwise.

    Every problem found is reported in one error (one line per problem, naming
    the first node concerned and how many more are alike), so a city can be
    fixed in one round.

    Parameters
    ----------
    G : networkx.Graph
        Candidate city: a plain undirected graph whose nodes (ints, strings or
        any hashable) carry every attribute of
        :data:`~waste_harmony.city.zones.NODE_ATTRIBUTES`, with positions in km.
    allow_disconnected : bool, default False
        Accept a graph of several connected components (to inspect one; a
        :class:`~waste_harmony.CityModel` needs a city in one piece: join the
        pieces with :func:`~waste_harmony.city.connect_pieces`).

    Returns
    -------
    None

    Raises
    ------
    TypeError
        If ``G`` is not a networkx graph.
    ValueError
        If the graph is empty, directed, a multigraph, has self-loops, is
        disconnected (unless allowed), if a node misses an attribute or has a
        value of the wrong type, not finite or out of range, an unknown zone,
        a malformed ``pos``, positions evidently not in km (:func:`check_units`;
        not applied when ``G.graph["units"] == "km"`` declares the unit), a
        declared unit other than km, a link's ``length_km`` or ``border_km`` not a finite number >= 0, or if
        every population is zero. The message names the node and the
        attribute and says how to fix it.

    See Also
    --------
    waste_harmony.city.with_defaults : fill missing attributes.
    waste_harmony.city.from_graph : convert directed graphs and multigraphs.

    Examples
    --------
    >>> from waste_harmony.city import grid_city
    >>> G = grid_city(3, 3, seed=0)
    >>> validate_city(G)
    >>> G.nodes[4]["habitat"] = 1.5
    >>> validate_city(G)
    Traceback (most recent call last):
    ...
    ValueError: node 4, attribute 'habitat' is 1.5, but it must lie in [0, 1]; rescale or clip it to that interval
    """  # noqa: E501
    if not isinstance(G, nx.Graph):
        raise TypeError(f"a city must be a networkx.Graph, got {type(G).__name__}")
    if G.number_of_nodes() == 0:
        raise ValueError(
            "the city graph is empty; add neighbourhood nodes or use a generator such as "
            "waste_harmony.city.grid_city()"
        )
    problems = _structure_problems(G)

    nodes = list(G.nodes)
    data = [d for _, d in G.nodes(data=True)]
    links = edge_index(G, nodes)
    for attr in NODE_ATTRIBUTES:
        if all(map(operator.contains, data, repeat(attr))):  # none missing (C-level pass)
            values = list(map(operator.itemgetter(attr), data))
            problem = None
        else:
            values = [d.get(attr, _MISSING) for d in data]
            problem = _missing_problem(nodes, attr, values)
        if problem is None:
            if attr == "zone":
                problem = _zone_problem(nodes, values)
            elif attr == "pos":
                problem = _pos_problem(nodes, values)
                if problem is None:
                    problem = _units_problem(G, values, links)
            else:
                problem = _numeric_problem(nodes, attr, values)
        if problem is not None:
            problems.append(problem)

    problems.extend(_edge_problems(G))

    if not allow_disconnected:
        # (weakly) connected: one component of the links taken as undirected
        n = len(nodes)
        pattern = sp.coo_array((np.ones(len(links)), (links[:, 0], links[:, 1])), shape=(n, n))
        connected = connected_components(pattern, directed=False, return_labels=False) == 1
        if not connected:
            undirected: nx.Graph = G.to_undirected(as_view=True) if G.is_directed() else G
            components = sorted(
                nx.connected_components(undirected),
                key=len,
                reverse=True,
            )
            example = next(iter(components[1]))
            problems.append(
                f"the city graph has {len(components)} connected components; e.g. node "
                f"{example!r} is detached from the largest one ({len(components[0])} nodes). "
                "Join the pieces with declared links (a ferry or bridge: citizens travel "
                "them, pollution does not cross them) with "
                "G = waste_harmony.city.connect_pieces(G) (from_districts(..., "
                "connect='nearest') does it when loading districts), or keep the largest "
                "piece with G.subgraph(max(nx.connected_components(G), key=len)).copy()"
            )
    if len(problems) == 1:
        raise ValueError(problems[0])
    if problems:
        lines = "\n".join(f"  {i}. {p}" for i, p in enumerate(problems, start=1))
        raise ValueError(f"the city graph has {len(problems)} problems:\n{lines}")


def _edge_problems(G: nx.Graph) -> list[str]:
    """Optional street lengths and shared borders (:data:`EDGE_ATTRIBUTES`): finite, >= 0.

    (The model would otherwise replace a NaN or negative ``length_km`` silently by the
    straight line between the nodes.)
    """
    found = []
    for attr in EDGE_ATTRIBUTES:
        bad: list[tuple[Hashable, Hashable, Any]] = [
            (u, v, data[attr])
            for u, v, data in G.edges(data=True)
            if attr in data
            and not (_is_real(data[attr]) and math.isfinite(data[attr]) and data[attr] >= 0.0)
        ]
        if bad:
            u, v, value = bad[0]
            more = f" ({len(bad) - 1} more link(s) like this)" if len(bad) > 1 else ""
            found.append(
                f"link ({u!r}, {v!r}), attribute {attr!r} is {value!r}{more}; it must be a "
                "finite number >= 0 in km (or absent: the straight line between "
                "the nodes is used), e.g. G.edges[u, v]['length_km'] = 0.4"
            )
    return found


def _units_problem(G: nx.Graph, values: list[Any], links: np.ndarray) -> str | None:
    """The declared unit, if any, else the guess of :func:`check_units`."""
    declared = G.graph.get(UNITS_KEY)
    if declared == DECLARED_KM:
        return None  # the loader (or the user) said km: trust it, however wide the city
    if declared is not None:
        return (
            f"the graph declares G.graph[{UNITS_KEY!r}] = {declared!r}, but positions, "
            "link lengths and borders are read in km; convert them to km (from metres: "
            f"divide by 1000) and set {_DECLARE}"
        )
    xy = _plain_positions(values)
    if xy is None:
        xy = np.array([(float(p[0]), float(p[1])) for p in values], dtype=np.float64)
    return check_units(xy.reshape(-1, 2), links[links[:, 0] != links[:, 1]])


def missing_node_hint(node: Any, nodes: Any) -> str:
    """Why ``node`` may not be found among a city's ``nodes``: a clause for messages.

    The usual cause is the kind of the id, not the id: a GraphML file from another
    tool has text ids (``"0"``), while a run file's ``plaza = 0`` is a number.

    Parameters
    ----------
    node : object
        The id asked for.
    nodes : iterable
        The city's node ids.

    Returns
    -------
    str
        ``" (the city's node ids are text: write "0", not 0)"``, the converse for
        numbers, else a few ids as examples; empty for a city without nodes.

    Examples
    --------
    >>> print(missing_node_hint(0, ["0", "1", "2"]).strip())
    (the city's node ids are text, such as "0": write "0", not 0)
    >>> print(missing_node_hint("3", [0, 1, 2, 3]).strip())
    (the city's node ids are numbers, such as 3: write 3, not "3")
    >>> print(missing_node_hint(9, [0, 1, 2]).strip())
    (the city's node ids are like 0, 1, 2)
    """
    ids = list(nodes)
    if not ids:
        return ""
    known = set(ids)
    if not isinstance(node, str) and str(node) in known:
        return f' (the city\'s node ids are text, such as "{node}": write "{node}", not {node})'
    if isinstance(node, str) and node.strip().lstrip("-").isdigit() and int(node) in known:
        number = int(node)
        return (
            f' (the city\'s node ids are numbers, such as {number}: write {number}, not "{node}")'
        )
    return f" (the city's node ids are like {', '.join(repr(n) for n in ids[:3])})"
