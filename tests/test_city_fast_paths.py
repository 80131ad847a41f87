"""The city's fast paths give what the plain ones give.

Loading, validating and converting a city take C-level passes over all nodes
when the data allow it (a copy visiting each edge once, no defaults to fill, all
positions plain numbers, the adjacency from edge index arrays). These tests pin
each against the plain networkx construction or the slow check it replaces.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from waste_harmony.city import (
    city_arrays,
    grid_city,
    load_city,
    organic_city,
    validate_city,
    with_defaults,
)
from waste_harmony.city.arrays import edge_index


def _graphs() -> list[nx.Graph]:
    loops = nx.cycle_graph(5)
    loops.add_edges_from([(2, 2), (0, 0)])
    isolated = nx.Graph()
    isolated.add_nodes_from([3, 1, 2])
    # edges inserted out of node order: Graph.copy() reorders the adjacency
    shuffled = nx.Graph(name="shuffled")
    shuffled.add_nodes_from("abcd", zone="plaza")
    shuffled.add_edges_from([("c", "d", {"w": 1}), ("a", "c"), ("d", "a", {"w": 2}), ("b", "a")])
    return [grid_city(5, 7, seed=1), organic_city(60, seed=3), loops, isolated, shuffled]


IDS = ["grid", "organic", "loops", "isolated", "shuffled"]


def _adjacency_lists(G: nx.Graph) -> list:
    return [(node, list(G.adj[node].items())) for node in G]


@pytest.mark.parametrize("graph", _graphs(), ids=IDS)
def test_copy_for_filling_is_graph_copy(graph: nx.Graph) -> None:
    filled = with_defaults(graph, layout="spring")
    reference = graph.copy()
    assert type(filled) is type(reference)
    assert filled.graph == reference.graph
    assert list(filled) == list(reference)
    assert _adjacency_lists(filled) == _adjacency_lists(reference)
    edge = next(iter(graph.edges), None)
    if edge is not None:  # edge data copied, not shared
        filled.edges[edge]["new"] = 1
        assert "new" not in graph.edges[edge]


@pytest.mark.parametrize("graph", _graphs(), ids=IDS)
def test_adjacency_is_networkx_adjacency(graph: nx.Graph) -> None:
    nodes = list(graph)
    reference = nx.to_scipy_sparse_array(
        graph, nodelist=nodes, weight=None, dtype=np.dtype(np.float64), format="csr"
    )
    filled = with_defaults(graph, layout="spring")
    if graph.number_of_nodes() < 5:
        return  # too small for city_arrays' other columns to matter; checked below
    mine = city_arrays(filled)["adjacency"]
    for name in ("data", "indices", "indptr"):
        ours, theirs = getattr(mine, name), getattr(sp.csr_array(reference), name)
        assert ours.dtype == theirs.dtype
        np.testing.assert_array_equal(ours, theirs)


def test_edge_index_follows_the_edges() -> None:
    graph = _graphs()[-1]
    nodes = list(graph)
    assert [tuple(row) for row in edge_index(graph).tolist()] == [
        (nodes.index(u), nodes.index(v)) for u, v in graph.edges()
    ]
    assert edge_index(nx.empty_graph(3)).shape == (0, 2)


def test_complete_city_is_loaded_unchanged() -> None:
    city = grid_city(6, 6, seed=4)
    loaded = load_city(city)
    assert loaded is not city
    assert list(loaded.nodes(data=True)) == list(city.nodes(data=True))
    assert all(loaded.nodes[n] is not city.nodes[n] for n in city)
    zone = city.nodes[0]["zone"]
    loaded.nodes[0]["zone"] = "green" if zone != "green" else "plaza"
    assert city.nodes[0]["zone"] == zone


@pytest.mark.parametrize(
    ("pos", "message"),
    [
        ((1.0, np.nan), "attribute 'pos' is"),
        ((1.0, True), "attribute 'pos' is"),
        ((1.0, 2.0, 3.0), "attribute 'pos' is"),
        ("1,2", "attribute 'pos' is"),
        (np.array([0.0, 0.5]), None),
        ([0.0, 0.5], None),
        ((np.float32(0.0), 1), None),
    ],
)
def test_positions_checked_as_one_by_one(pos, message) -> None:
    city = grid_city(3, 3, seed=0)
    city.nodes[4]["pos"] = pos
    if message is None:
        validate_city(city)
    else:
        with pytest.raises(ValueError, match=message):
            validate_city(city)


@pytest.mark.parametrize("value", [True, "1.0", None, np.bool_(True)])
def test_numbers_checked_as_one_by_one(value) -> None:
    city = grid_city(3, 3, seed=0)
    city.nodes[2]["habitat"] = value
    with pytest.raises(ValueError, match="node 2, attribute 'habitat' has type"):
        validate_city(city)


def test_disconnected_and_directed_cities_reported() -> None:
    city = grid_city(3, 3, seed=0)
    island = nx.relabel_nodes(grid_city(2, 3, seed=1), lambda n: n + 100)
    both = nx.union(city, island)
    with pytest.raises(ValueError, match="2 connected components; e.g. node 100"):
        validate_city(both)
    validate_city(both, allow_disconnected=True)
    directed = nx.DiGraph(city)
    with pytest.raises(ValueError) as info:
        validate_city(directed)
    assert "is directed" in str(info.value)
    assert "connected components" not in str(info.value)  # weakly connected


def test_edge_columns_follow_the_edges() -> None:
    city = grid_city(4, 4, seed=2)
    city.add_edge(0, 5, border_km=0.3)  # a diagonal with a border, no length
    arrays = city_arrays(city)
    nodes = arrays["nodes"]
    expected = [
        (nodes.index(u), nodes.index(v), d.get("length_km", np.nan), d.get("border_km", np.nan))
        for u, v, d in city.edges(data=True)
    ]
    got = zip(
        arrays["edges"].tolist(),
        arrays["edge_length_km"].tolist(),
        arrays["edge_border_km"].tolist(),
        strict=True,
    )
    for (u, v, length, border), ((gu, gv), glength, gborder) in zip(expected, got, strict=True):
        assert (gu, gv) == (u, v)
        np.testing.assert_equal([glength, gborder], [length, border])
