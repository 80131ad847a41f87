"""Cities in pieces: declared links join them; citizens travel them, pollution does not."""

import math

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from waste_harmony import CityModel
from waste_harmony.city import connect_pieces, connector_links, grid_city, validate_city
from waste_harmony.dynamics.diffusion import finite_volume_laplacian


def _two_islands(gap_km=0.3):
    """A 3 x 3 town with its industry, and a residential 2 x 3 island east of it."""
    town = grid_city(3, 3, seed=1)
    for node in town:
        industrial = node == 0
        town.nodes[node]["zone"] = "industrial" if industrial else "residential"
        town.nodes[node]["industrial_emission"] = 10.0 if industrial else 0.0
    island = nx.relabel_nodes(grid_city(2, 3, seed=2), lambda n: n + 100)
    east = 1.0 + gap_km  # the town's last column is at x = 1.0 km
    for node in island:
        x, y = island.nodes[node]["pos"]
        island.nodes[node].update(pos=(x + east, y), zone="residential", industrial_emission=0.0)
    return nx.union(town, island)


def _brute_force_closest(G, piece_a, piece_b):
    pos = nx.get_node_attributes(G, "pos")
    return min((math.dist(pos[u], pos[v]), u, v) for u in piece_a for v in piece_b)


def test_connecting_adds_one_declared_link_per_extra_piece():
    G = _two_islands()
    G.add_node(500, **{**G.nodes[4], "pos": (-2.0, 0.5)})  # a third piece, west
    with pytest.raises(ValueError, match="3 connected components"):
        validate_city(G)
    H = connect_pieces(G)
    validate_city(H)
    assert nx.number_connected_components(G) == 3  # the input is untouched
    links = connector_links(H)
    assert len(links) == 2
    # each link joins the closest pair of nodes of the two pieces it joins
    pos = nx.get_node_attributes(H, "pos")
    for u, v, km in links:
        assert km == pytest.approx(math.dist(pos[u], pos[v]))
        assert H.edges[u, v]["border_km"] == 0.0 and H.edges[u, v]["connector"] is True
    town, island = set(range(9)), set(range(100, 106))
    assert sorted(links, key=lambda link: link[2])[0][2] == pytest.approx(
        _brute_force_closest(G, town, island)[0]
    )
    # the western node joins the town at its nearest node, 2 km east of it
    assert [(u, v) for u, v, _ in links if 500 in (u, v)] in ([(3, 500)], [(500, 3)])
    assert connect_pieces(H).edges == H.edges  # a connected city gains nothing


def test_a_large_piece_finds_its_nearest_outsider_like_a_small_one():
    # pieces above 64 nodes search a tree of the outsiders; below, a k-nearest query
    big = grid_city(10, 10, seed=3)
    rng = np.random.default_rng(5)
    G = big.copy()
    for k in range(4):
        node = 1000 + k
        G.add_node(node, **{**big.nodes[0], "pos": tuple(rng.uniform(5.5, 9.0, 2))})
    H = connect_pieces(G)
    assert nx.is_connected(H) and len(connector_links(H)) == 4
    # a minimum spanning tree over the pieces: no lighter set of 4 joining links exists
    pieces = [set(c) for c in nx.connected_components(G)]
    complete = nx.Graph()
    for i, a in enumerate(pieces):
        for j in range(i + 1, len(pieces)):
            complete.add_edge(i, j, weight=_brute_force_closest(G, a, pieces[j])[0])
    best = nx.minimum_spanning_tree(complete).size(weight="weight")
    assert sum(km for *_, km in connector_links(H)) == pytest.approx(best)


def test_a_node_without_position_cannot_be_placed():
    G = nx.Graph()
    G.add_nodes_from([(0, {"pos": (0.0, 0.0)}), (1, {})])
    with pytest.raises(ValueError, match=r"node 1 has no 'pos'"):
        connect_pieces(G)


def test_a_zero_border_carries_no_flux():
    # The finite-volume operator: conductance border / length; a declared link has
    # border 0, so its off-diagonal entries are 0 and it exchanges nothing.
    lengths = sp.csr_array(np.array([[0, 0.5, 0], [0.5, 0, 2.0], [0, 2.0, 0]]))
    borders = sp.csr_array(([0.5, 0.5, 0.0, 0.0], ([0, 1, 1, 2], [1, 0, 2, 1])), shape=(3, 3))
    L = finite_volume_laplacian(lengths, np.array([0.25, 0.25, 0.25]), borders).toarray()
    assert L[1, 2] == L[2, 1] == 0.0 and L[2, 2] == 0.0
    assert L[0, 1] == pytest.approx(-0.5 / 0.5 / 0.25)


@pytest.mark.parametrize("declared", [True, False], ids=["connector", "street"])
def test_pollution_does_not_cross_a_declared_link_but_citizens_do(declared):
    # Only the town's industrial node emits; waste emits nothing. Across a declared
    # link (border 0) the island stays at exactly the background (the regional air,
    # the same everywhere); across an ordinary link of the same length it rises above.
    G = _two_islands(gap_km=0.3)
    if declared:
        G = connect_pieces(G)
        ((u, v, km),) = connector_links(G)
        assert km == pytest.approx(0.3) and {u < 100, v < 100} == {True, False}
        G.add_edge(2, 100, length_km=0.3, border_km=0.0)  # the same crossing as the street
    else:
        G.add_edge(2, 100, length_km=0.3)
    model = CityModel(
        G,
        n_citizens=600,
        rng=4,
        pollution_diffusion=5.0,
        waste_emission_factor=0.0,
        landfill_emission_factor=0.0,
        mobility=0.5,
    )
    island = np.array([model.node_index(n) for n in range(100, 106)])
    away = np.zeros(0, dtype=bool)
    for _ in range(20):
        model.step()
        homes_on_island = np.isin(model.citizens.home, island)
        away = np.r_[away, ~np.isin(model.citizens.location[homes_on_island], island)]
    pollution = model.neighborhoods.pollution
    background = model.params.background_pollution
    assert pollution[model.node_index(0)] > background + 1.0
    rise = pollution[island] - background
    if declared:
        assert np.abs(rise).max() < 1e-12 * background  # round-off of the solve only
    else:
        assert (rise > 0.01 * background).all()  # measured 1.4 µg/m³ over 10
    assert away.any()  # islanders spend days in the town, across the link
