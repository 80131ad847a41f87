"""Tests for waste_harmony.city: generators, validation, defaults, I/O and arrays."""

from __future__ import annotations

import math
import re

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from waste_harmony import CityModel
from waste_harmony.city import (
    ATTRIBUTE_DEFAULTS,
    BIODIVERSE_ZONE,
    NODE_ATTRIBUTES,
    ZONE_DEFAULTS,
    ZONES,
    check_units,
    city_arrays,
    default_city,
    from_graph,
    grid_city,
    load_city,
    organic_city,
    save_city,
    validate_city,
    with_defaults,
)
from waste_harmony.city.zones import zone_counts

GENERATORS = {
    "grid": lambda seed: grid_city(8, 9, seed=seed),
    "organic": lambda seed: organic_city(150, seed=seed),
    "organic-small": lambda seed: organic_city(12, seed=seed),
    "grid-tiny": lambda seed: grid_city(1, 5, seed=seed),
}


def _node_data(G: nx.Graph) -> dict:
    return {n: dict(d) for n, d in G.nodes(data=True)}


def _valid_small(labels: list) -> nx.Graph:
    """A valid 3-node path city with the given node labels."""
    G = nx.path_graph(3)
    for node in G:
        G.nodes[node]["pos"] = (0.5 * node, 0.0)
    return with_defaults(nx.relabel_nodes(G, dict(enumerate(labels))))


# ---------------------------------------------------------------- constants


def test_zone_constants():
    assert ZONES == ("residential", "commercial", "industrial", "green", "plaza")
    assert BIODIVERSE_ZONE == "green"
    assert BIODIVERSE_ZONE in ZONES
    # pos and area_km2 are never invented from nothing; the rest have defaults.
    by_zone = set(ZONE_DEFAULTS["residential"])
    assert set(ATTRIBUTE_DEFAULTS) | by_zone == set(NODE_ATTRIBUTES) - {"pos", "area_km2"}
    assert set(ZONE_DEFAULTS) == set(ZONES)


def test_public_api_exports():
    import waste_harmony.city as city

    for name in city.__all__:
        assert hasattr(city, name), name
    assert {"grid_city", "organic_city", "default_city", "validate_city", "with_defaults"} <= set(
        city.__all__
    )
    assert {"load_city", "save_city", "city_arrays", "ZONES", "BIODIVERSE_ZONE"} <= set(
        city.__all__
    )


@pytest.mark.parametrize("n", [5, 6, 20, 100, 1000])
def test_zone_counts_minimums_and_total(n):
    counts = zone_counts(n)
    assert sum(counts.values()) == n
    assert all(counts[z] >= 1 for z in ZONES)


def test_zone_counts_rejects_bad_shares():
    with pytest.raises(ValueError, match="unknown zone 'swamp'"):
        zone_counts(50, {"swamp": 0.1})
    with pytest.raises(ValueError, match=r"zone_shares\['green'\]"):
        zone_counts(50, {"green": -0.1})
    with pytest.raises(ValueError, match="at least 5 nodes"):
        zone_counts(4)


# ---------------------------------------------------------------- generators


@pytest.mark.parametrize("make", GENERATORS.values(), ids=GENERATORS.keys())
def test_generator_produces_valid_connected_city(make):
    G = make(0)
    validate_city(G)
    assert type(G) is nx.Graph
    assert nx.is_connected(G)
    assert sorted(G.nodes) == list(range(G.number_of_nodes()))
    assert isinstance(G.graph["name"], str) and G.graph["name"]
    zones = {z for _, z in G.nodes(data="zone")}
    assert zones == set(ZONES)  # every zone present, including plaza and green


@pytest.mark.parametrize("make", GENERATORS.values(), ids=GENERATORS.keys())
def test_generator_attribute_ranges(make):
    arrays = city_arrays(make(1))
    for attr in ("marginalisation", "biotech_access", "habitat", "recycling_infrastructure"):
        assert np.all((arrays[attr] >= 0) & (arrays[attr] <= 1)), attr
    for attr in ("population", "industrial_emission", "land_price"):
        assert np.all(arrays[attr] >= 0), attr
    assert np.all(arrays["area_km2"] > 0)
    assert arrays["population"].sum() > 0
    assert np.all(np.isfinite(arrays["x"])) and np.all(np.isfinite(arrays["y"]))


@pytest.mark.parametrize("make", GENERATORS.values(), ids=GENERATORS.keys())
def test_generator_deterministic_by_seed(make):
    G1, G2 = make(42), make(42)
    assert _node_data(G1) == _node_data(G2)
    assert sorted(G1.edges(data=True)) == sorted(G2.edges(data=True))
    assert G1.graph == G2.graph


@pytest.mark.parametrize("make", GENERATORS.values(), ids=GENERATORS.keys())
def test_generator_accepts_generator_seed(make):
    G1 = make(np.random.default_rng(7))
    G2 = make(np.random.default_rng(7))
    assert _node_data(G1) == _node_data(G2)


@pytest.mark.parametrize("make", GENERATORS.values(), ids=GENERATORS.keys())
def test_generator_different_seeds_differ(make):
    assert _node_data(make(1)) != _node_data(make(2))


def test_zone_semantics():
    arrays = city_arrays(organic_city(600, seed=5))
    zone = arrays["zone"]
    green, industrial = zone == BIODIVERSE_ZONE, zone == "industrial"
    residential = zone == "residential"
    assert arrays["habitat"][green].min() > arrays["habitat"][industrial].max()
    assert np.all(arrays["population"][industrial] == 0)
    assert arrays["population"][residential].mean() > 5 * arrays["population"][green].mean()
    assert np.all(arrays["industrial_emission"][green | residential] == 0)
    assert np.all(arrays["industrial_emission"][industrial] > 0)
    # marginalisation and biotech access are negatively correlated
    assert np.corrcoef(arrays["marginalisation"], arrays["biotech_access"])[0, 1] < -0.5
    # marginalisation is higher next to industry than away from it
    xy = np.column_stack([arrays["x"], arrays["y"]])
    d = np.min(np.linalg.norm(xy[:, None] - xy[industrial][None], axis=2), axis=1)
    near, far = d < np.quantile(d, 0.25), d > np.quantile(d, 0.75)
    assert arrays["marginalisation"][near].mean() > arrays["marginalisation"][far].mean()
    assert arrays["land_price"][near].mean() < arrays["land_price"][far].mean()


def test_grid_city_geometry():
    G = grid_city(3, 4, spacing_km=0.25, seed=0)
    assert G.number_of_nodes() == 12
    assert G.number_of_edges() == 3 * 3 + 2 * 4
    assert G.nodes[5]["pos"] == (0.25, 0.25)
    assert G.has_edge(5, 6) and G.has_edge(5, 9) and not G.has_edge(5, 10)
    assert all(d["area_km2"] == pytest.approx(0.0625) for _, d in G.nodes(data=True))
    assert all(d["length_km"] == pytest.approx(0.25) for *_, d in G.edges(data=True))


def test_grid_city_plaza_near_centre_and_commercial_around_it():
    arrays = city_arrays(grid_city(11, 11, seed=3))
    plaza = np.flatnonzero(arrays["zone"] == "plaza")
    assert list(plaza) == [60]  # the exact centre of an 11 x 11 grid
    commercial = arrays["zone"] == "commercial"
    dist = np.hypot(arrays["x"] - arrays["x"][60], arrays["y"] - arrays["y"][60])
    assert dist[commercial].max() < dist[arrays["zone"] == "residential"].mean()


def test_grid_city_zone_shares():
    G = grid_city(10, 10, seed=0, zone_shares={"green": 0.4, "industrial": 0.0})
    zones = [z for _, z in G.nodes(data="zone")]
    assert zones.count("green") == 40
    assert zones.count("industrial") == 1  # minimum guaranteed even with share 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"rows": 2, "cols": 2}, "rows \\* cols >= 5"),
        ({"rows": 0, "cols": 10}, "rows, cols >= 1"),
        ({"spacing_km": 0.0}, "spacing_km must be a positive"),
        ({"zone_shares": {"forest": 0.2}}, "unknown zone 'forest'"),
    ],
)
def test_grid_city_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        grid_city(**kwargs)


def test_organic_city_rejects_bad_arguments():
    with pytest.raises(ValueError, match="n_nodes >= 5"):
        organic_city(4)
    with pytest.raises(ValueError, match="radius must be a positive"):
        organic_city(50, radius=-1.0)


@pytest.mark.parametrize("seed", range(5))
def test_organic_city_connected_even_with_tiny_radius(seed):
    G = organic_city(300, radius=0.01, seed=seed)  # almost no geometric links
    assert nx.is_connected(G)
    # joining components adds exactly a spanning forest's worth of links
    assert G.number_of_edges() >= G.number_of_nodes() - 1
    validate_city(G)


def test_organic_city_joins_components_with_shortest_links():
    G = organic_city(40, radius=1e-6, seed=0)  # no geometric links: pure Euclidean MST
    xy = np.array([G.nodes[i]["pos"] for i in range(40)])
    complete = nx.Graph()
    for i in range(40):
        for j in range(i + 1, 40):
            complete.add_edge(i, j, weight=float(np.hypot(*(xy[i] - xy[j]))))
    mst_length = nx.minimum_spanning_tree(complete).size(weight="weight")
    assert G.number_of_edges() == 39
    assert G.size(weight="length_km") == pytest.approx(mst_length)


def test_default_city():
    G = default_city()
    assert G.number_of_nodes() == 100
    assert G.graph["name"] == "grid_city(10x10, seed=0)"
    assert _node_data(G) == _node_data(grid_city(10, 10, seed=0))
    validate_city(G)


@pytest.mark.parametrize(
    "make",
    [lambda: organic_city(10_000, seed=0), lambda: grid_city(100, 100, seed=0)],
    ids=["organic-10k", "grid-100x100"],
)
def test_large_cities_build_validate_and_convert(make):
    # Speed is measured in benchmarks/, never asserted here.
    G = make()
    assert G.number_of_nodes() == 10_000
    assert nx.is_connected(G)
    validate_city(G)
    arrays = city_arrays(G)
    assert arrays["adjacency"].shape == (10_000, 10_000)


# ---------------------------------------------------------------- validation


def test_validate_accepts_string_node_ids():
    G = _valid_small(["north", "centre", "south"])
    validate_city(G)
    arrays = city_arrays(G)
    assert arrays["nodes"] == ["north", "centre", "south"]


def test_validate_rejects_non_graph():
    with pytest.raises(TypeError, match="networkx.Graph"):
        validate_city({"a": 1})


def test_validate_rejects_empty_graph():
    with pytest.raises(ValueError, match="empty"):
        validate_city(nx.Graph())


def test_validate_rejects_directed_graph():
    G = nx.DiGraph(_valid_small([0, 1, 2]))
    with pytest.raises(ValueError, match=r"is directed \(DiGraph.*from_graph\(G\)"):
        validate_city(G)


def test_validate_rejects_multigraph():
    G = nx.MultiGraph(_valid_small([0, 1, 2]))
    with pytest.raises(ValueError, match=r"is a multigraph \(MultiGraph.*from_graph\(G\)"):
        validate_city(G)


def test_validate_rejects_self_loop():
    G = _valid_small(["a", "b", "c"])
    G.add_edge("b", "b")
    with pytest.raises(ValueError, match=r"has 1 self-loop\(s\) \(e.g. at node 'b'\).*from_graph"):
        validate_city(G)


def test_validate_disconnected():
    G = _valid_small([0, 1, 2])
    G.add_node(7, **{**G.nodes[0], "pos": (3.0, 0.0)})
    with pytest.raises(ValueError, match="2 connected components; e.g. node 7 is detached"):
        validate_city(G)
    validate_city(G, allow_disconnected=True)


@pytest.mark.parametrize("labels", [[0, 1, 2], ["a", "b", "c"]], ids=["int", "str"])
@pytest.mark.parametrize("attr", NODE_ATTRIBUTES)
def test_validate_missing_attribute_names_node_and_attribute(labels, attr):
    G = _valid_small(labels)
    del G.nodes[labels[1]][attr]
    expected = f"node {labels[1]!r}, attribute {attr!r} is missing"
    with pytest.raises(ValueError, match=re.escape(expected) + ".*with_defaults"):
        validate_city(G)


BAD_VALUES = [
    ("population", "many", "has type str"),
    ("population", -1.0, "must be >= 0"),
    ("population", True, "has type bool"),
    ("population", math.nan, "NaN and infinity"),
    ("area_km2", 0.0, "must be > 0"),
    ("area_km2", math.inf, "NaN and infinity"),
    ("industrial_emission", -0.5, "must be >= 0"),
    ("land_price", -2, "must be >= 0"),
    ("land_price", None, "has type NoneType"),
    ("marginalisation", 1.2, re.escape("must lie in [0, 1]")),
    ("biotech_access", -0.1, re.escape("must lie in [0, 1]")),
    ("habitat", 2.0, re.escape("must lie in [0, 1]")),
    ("recycling_infrastructure", -1e-9, re.escape("must lie in [0, 1]")),
    ("recycling_infrastructure", -math.inf, "NaN and infinity"),
    ("zone", "forest", "unknown zone; use one of 'residential', 'commercial'"),
    ("zone", 3, "unknown zone"),
    ("pos", (1.0,), "length-2 sequence"),
    ("pos", (1.0, 2.0, 3.0), "length-2 sequence"),
    ("pos", "1,2", "length-2 sequence"),
    ("pos", ("a", 2.0), "length-2 sequence"),
    ("pos", (math.nan, 2.0), "finite"),
]


@pytest.mark.parametrize("labels", [[0, 1, 2], ["a", "b", "c"]], ids=["int", "str"])
@pytest.mark.parametrize(("attr", "value", "match"), BAD_VALUES)
def test_validate_bad_value_names_node_and_attribute(labels, attr, value, match):
    G = _valid_small(labels)
    G.nodes[labels[2]][attr] = value
    with pytest.raises(ValueError, match=re.escape(f"node {labels[2]!r}, attribute {attr!r}")):
        validate_city(G)
    with pytest.raises(ValueError, match=match):
        validate_city(G)


@pytest.mark.parametrize(
    "value", [0, 1, 0.5, np.float32(0.5), np.int64(1), np.float64(0.0)], ids=repr
)
def test_validate_accepts_numeric_types(value):
    G = _valid_small([0, 1, 2])
    G.nodes[1]["habitat"] = value
    G.nodes[1]["pos"] = np.array([1.0, 2.0])
    validate_city(G)
    assert city_arrays(G)["habitat"][1] == float(value)


def test_validate_rejects_all_zero_population():
    G = _valid_small(["a", "b", "c"])
    for n in G:
        G.nodes[n]["population"] = 0.0
    with pytest.raises(ValueError, match="'population' is zero on every node"):
        validate_city(G)


def test_validate_reports_first_bad_node_in_large_city():
    G = organic_city(2000, seed=0)
    G.nodes[1234]["marginalisation"] = 3.0
    with pytest.raises(ValueError, match="node 1234, attribute 'marginalisation' is 3.0"):
        validate_city(G)


# ---------------------------------------------------------------- with_defaults


def _path_with_positions(n: int) -> nx.Graph:
    G = nx.path_graph(n)
    nx.set_node_attributes(G, {node: (0.5 * node, 0.0) for node in G}, "pos")
    return G


def test_with_defaults_fills_documented_defaults_and_does_not_mutate():
    G = _path_with_positions(4)
    G.nodes[0]["zone"] = "industrial"
    G.nodes[1]["population"] = 7.0
    G.nodes[2]["zone"] = "commercial"
    before = _node_data(G)
    H = with_defaults(G)
    assert _node_data(G) == before  # input untouched
    assert H is not G
    assert H.nodes[1]["population"] == 7.0  # existing attribute kept
    for attr, value in ATTRIBUTE_DEFAULTS.items():
        if attr != "zone":
            assert H.nodes[3][attr] == value
    for node, zone in [(0, "industrial"), (2, "commercial"), (3, "residential")]:
        for attr, value in ZONE_DEFAULTS[zone].items():
            if (node, attr) != (1, "population"):
                assert H.nodes[node][attr] == value
    validate_city(H)


def test_zone_defaults_match_the_generators_calibration():
    # The default of a missing attribute is what the generators give a node of that
    # zone on average (emission: the mean; population: the median weight at the
    # lowest deprivation; habitat: the middle of the range) — measured on big cities.
    cities = [grid_city(40, 40, seed=s) for s in range(3)] + [organic_city(1500, seed=3)]
    zone = np.concatenate([city_arrays(G)["zone"] for G in cities])
    emission = np.concatenate([city_arrays(G)["industrial_emission"] for G in cities])
    habitat = np.concatenate([city_arrays(G)["habitat"] for G in cities])
    for z in ZONES:
        here = zone == z
        expected = ZONE_DEFAULTS[z]["industrial_emission"]
        assert emission[here].mean() == pytest.approx(expected, rel=0.15, abs=1e-12)
        assert habitat[here].mean() == pytest.approx(ZONE_DEFAULTS[z]["habitat"], rel=0.15)
    assert ZONE_DEFAULTS["industrial"]["industrial_emission"] == 10.0
    assert ZONE_DEFAULTS["industrial"]["population"] == 0.0


def test_with_defaults_derives_area_from_positions():
    # The grid's own areas are recovered when they are dropped (cells 0.5 km wide).
    G = grid_city(6, 7, spacing_km=0.5, seed=1)
    for node in G:
        del G.nodes[node]["area_km2"]
    H = with_defaults(G)
    assert all(H.nodes[n]["area_km2"] == pytest.approx(0.25) for n in H)
    organic = organic_city(400, seed=2)  # 0.25 km² per node by construction
    for node in organic:
        del organic.nodes[node]["area_km2"]
    areas = [d["area_km2"] for _, d in with_defaults(organic).nodes(data=True)]
    assert areas[0] == pytest.approx(0.25, rel=0.1)
    single = nx.Graph()
    single.add_node(0, pos=(0.0, 0.0))
    with pytest.raises(ValueError, match="'area_km2' is missing and cannot be derived"):
        with_defaults(single)


def test_with_defaults_keeps_explicit_emission_on_industrial_node():
    G = _path_with_positions(2)
    G.nodes[0].update(zone="industrial", industrial_emission=4.0)
    assert with_defaults(G).nodes[0]["industrial_emission"] == 4.0


def test_with_defaults_positions_from_x_y():
    G = nx.path_graph(2)
    G.nodes[0].update(x=1.5, y=2.0)
    G.nodes[1].update(x=3, y=4)
    H = with_defaults(G)
    assert H.nodes[0]["pos"] == (1.5, 2.0)
    assert H.nodes[1]["pos"] == (3.0, 4.0)
    assert H.nodes[0]["x"] == 1.5  # existing attributes kept


def test_missing_positions_are_an_error_unless_a_layout_is_asked_for():
    G = nx.cycle_graph(6)
    assert all("pos" not in d for _, d in with_defaults(G).nodes(data=True))
    with pytest.raises(ValueError, match=r"node 0, attribute 'pos' is missing.*layout='spring'"):
        load_city(G)
    with pytest.raises(ValueError, match="layout must be None or 'spring'"):
        with_defaults(G, layout="circle")
    assert all(len(d["pos"]) == 2 for _, d in load_city(G, layout="spring").nodes(data=True))


def test_with_defaults_spring_layout_deterministic_and_keeps_given_positions():
    G = nx.cycle_graph(6)
    G.nodes[0]["pos"] = (10.0, 10.0)
    H1, H2 = with_defaults(G, layout="spring"), with_defaults(G, layout="spring")
    assert _node_data(H1) == _node_data(H2)
    assert H1.nodes[0]["pos"] == (10.0, 10.0)
    assert all(len(H1.nodes[n]["pos"]) == 2 for n in H1)
    one = with_defaults(G, seed=1, layout="spring").nodes[3]["pos"]
    assert one != with_defaults(G, seed=2, layout="spring").nodes[3]["pos"]


def test_with_defaults_refuses_spring_layout_on_big_graph():
    G = nx.path_graph(2001)
    with pytest.raises(ValueError, match="node 0, attribute 'pos' is missing.*too many"):
        with_defaults(G, layout="spring")


def test_with_defaults_big_graph_with_positions_is_fine():
    G = nx.path_graph(2500)
    nx.set_node_attributes(G, {n: (0.1 * n, 0.0) for n in G}, "pos")
    validate_city(with_defaults(G))


# ---------------------------------------------------------------- load / save


def test_load_city_from_graph_copies_and_validates():
    G = nx.star_graph(4)
    nx.set_node_attributes(G, {n: (0.5 * n, 0.1 * n) for n in G}, "pos")
    H = load_city(G)
    assert H is not G
    assert "zone" not in G.nodes[0]
    validate_city(H)


def test_load_city_without_defaults_validates_strictly():
    with pytest.raises(ValueError, match="attribute 'zone' is missing"):
        load_city(nx.path_graph(3), fill_defaults=False)


@pytest.mark.parametrize(
    ("graph", "match"),
    [
        (nx.DiGraph([(0, 1)]), r"is directed.*from_graph\(G\)"),
        (nx.MultiGraph([(0, 1), (0, 1)]), r"is a multigraph.*from_graph\(G\)"),
    ],
    ids=["directed", "multigraph"],
)
def test_load_city_rejects_directed_and_multigraphs(graph, match):
    with pytest.raises(ValueError, match=match):
        load_city(graph)


def test_load_city_rejects_directed_graphml(tmp_path):
    path = tmp_path / "directed.graphml"
    nx.write_graphml(nx.DiGraph([("a", "b")]), path)
    with pytest.raises(ValueError, match=r"is directed.*from_graph\(G\)"):
        load_city(path)


def test_load_city_disconnected(tmp_path):
    G = nx.Graph()
    G.add_nodes_from([("a", {"pos": (0.0, 0.0)}), ("b", {"pos": (1.0, 0.0)})])
    with pytest.raises(ValueError, match="2 connected components"):
        load_city(G)
    assert load_city(G, allow_disconnected=True).number_of_nodes() == 2


def test_load_city_missing_file(tmp_path):
    path = tmp_path / "nowhere.graphml"
    with pytest.raises(FileNotFoundError, match=re.escape(str(path))):
        load_city(path)


def test_load_city_rejects_other_sources():
    with pytest.raises(TypeError, match="GraphML path"):
        load_city(42)


@pytest.mark.parametrize("make", GENERATORS.values(), ids=GENERATORS.keys())
def test_graphml_round_trip(tmp_path, make):
    G = make(3)
    path = tmp_path / "city.graphml"
    save_city(G, path)
    H = load_city(str(path))
    assert _node_data(H) == _node_data(G)
    assert list(H.nodes) == list(G.nodes)
    assert {frozenset(e) for e in H.edges} == {frozenset(e) for e in G.edges}
    assert H.graph == G.graph


def test_graphml_round_trip_string_ids(tmp_path):
    G = _valid_small(["north", "centre", "south"])
    save_city(G, tmp_path / "s.graphml")
    H = load_city(tmp_path / "s.graphml")
    assert _node_data(H) == _node_data(G)


def test_save_city_does_not_mutate(tmp_path):
    G = grid_city(3, 3, seed=0)
    before = _node_data(G)
    save_city(G, tmp_path / "g.graphml")
    assert _node_data(G) == before


def test_load_graphml_with_pos_string(tmp_path):
    G = nx.Graph()
    G.add_node("a", pos="0.5,1.5", zone="green")
    G.add_node("b", pos="(2, 3)")
    G.add_edge("a", "b")
    path = tmp_path / "handmade.graphml"
    nx.write_graphml(G, path)
    H = load_city(path)
    assert H.nodes["a"]["pos"] == (0.5, 1.5)
    assert H.nodes["b"]["pos"] == (2.0, 3.0)
    assert H.nodes["a"]["zone"] == "green"


def test_load_graphml_with_bad_pos_string(tmp_path):
    G = nx.Graph()
    G.add_node("a", pos="somewhere")
    path = tmp_path / "bad.graphml"
    nx.write_graphml(G, path)
    with pytest.raises(ValueError, match="node 'a', attribute 'pos'"):
        load_city(path)


# ---------------------------------------------------------------- city_arrays


def test_city_arrays_columns_follow_node_order():
    G = grid_city(4, 4, seed=2)
    order = [5, 0, 15, 3, 1, 2, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14]
    H = nx.Graph()
    H.add_nodes_from((n, G.nodes[n]) for n in order)
    H.add_edges_from(G.edges)
    arrays = city_arrays(H)
    assert arrays["nodes"] == order
    for i, n in enumerate(order):
        assert arrays["zone"][i] == G.nodes[n]["zone"]
        assert (arrays["x"][i], arrays["y"][i]) == G.nodes[n]["pos"]
        for attr in ("population", "land_price", "habitat"):
            assert arrays[attr][i] == G.nodes[n][attr]
    A = arrays["adjacency"]
    assert isinstance(A, sp.csr_array)
    assert A.dtype == np.float64
    assert (A != A.T).nnz == 0
    assert set(np.unique(A.data)) == {1.0}
    for u, v in G.edges:
        assert A[order.index(u), order.index(v)] == 1.0
    assert A.nnz == 2 * G.number_of_edges()


def test_city_arrays_missing_attribute():
    with pytest.raises(ValueError, match="node 0, attribute 'zone' is missing"):
        city_arrays(nx.path_graph(2))


def test_city_arrays_ignores_edge_weights():
    G = _valid_small([0, 1, 2])
    G.edges[0, 1]["weight"] = 5.0
    assert city_arrays(G)["adjacency"][0, 1] == 1.0


# ---------------------------------------------------------------- units, conversion, safety


def test_positions_in_degrees_are_refused_with_the_conversion():
    G = grid_city(4, 4, seed=0)
    for node in G:  # central Aguascalientes in lon/lat: 0.039 x 0.029 "km"
        x, y = G.nodes[node]["pos"]
        G.nodes[node]["pos"] = (-102.31 + x / 100 * 2.6, 21.87 + y / 100 * 1.9)
    with pytest.raises(ValueError, match=r"longitude/latitude.*metric CRS.*divide.*1000"):
        validate_city(G)


@pytest.mark.parametrize("scale", [1000.0, 80.0])
def test_positions_in_metres_are_refused_with_the_conversion(scale):
    # 1000: a 4.5 km town written in metres (extent 4,500 "km"); 80: a small town in
    # metres whose links are 40 "km" long though its extent is under 500.
    G = grid_city(5, 5, seed=0) if scale == 80.0 else grid_city(10, 10, seed=0)
    for node in G:
        x, y = G.nodes[node]["pos"]
        G.nodes[node]["pos"] = (x * scale, y * scale)
    with pytest.raises(ValueError, match=r"look like metres.*divide x and y by 1000"):
        validate_city(G)


def _region():
    """A 10 x 10 grid of 60 km cells: a region 540 km wide, in km."""
    return grid_city(10, 10, seed=0, spacing_km=60.0)


def test_declared_km_wins_over_the_unit_guess(tmp_path):
    G = _region()
    with pytest.raises(ValueError, match=r'look like metres.*declare it with G.graph\["units"\]'):
        validate_city(G)
    G.graph["units"] = "km"
    validate_city(G)
    # the declaration travels with the city: GraphML, and into a model
    save_city(G, tmp_path / "region.graphml")
    H = load_city(tmp_path / "region.graphml")
    assert H.graph["units"] == "km"
    model = CityModel(H, n_citizens=300, rng=1)
    model.run_for(3)
    assert model.city.graph["units"] == "km"


@pytest.mark.parametrize("unit", ["m", "metres", "degrees"])
def test_a_declared_unit_other_than_km_is_refused_with_the_conversion(unit):
    G = grid_city(3, 3, seed=0)
    G.graph["units"] = unit
    with pytest.raises(
        ValueError, match=rf"declares G.graph\['units'\] = '{unit}'.*divide by 1000"
    ):
        validate_city(G)


def test_degrees_message_names_the_declaration():
    G = grid_city(4, 4, seed=0)
    for node in G:
        x, y = G.nodes[node]["pos"]
        G.nodes[node]["pos"] = (-102.31 + x / 100, 21.87 + y / 100)
    with pytest.raises(ValueError, match=r'G.graph\["units"\] = "km"'):
        validate_city(G)
    G.graph["units"] = "km"  # a user who insists: trusted
    validate_city(G)


def test_km_positions_anywhere_reasonable_pass_the_unit_check():
    rng = np.random.default_rng(0)
    for xy in [
        rng.random((50, 2)) * 4.5,  # the default town
        rng.random((50, 2)) * 0.3 + 10.0,  # a quarter 10 km from the origin
        rng.random((50, 2)) * 300,  # a metropolitan region
        np.array([[0.0, 0.0], [1.0, 0.0]]),
    ]:
        assert check_units(xy) is None
    validate_city(grid_city(30, 30, seed=1))
    validate_city(organic_city(300, seed=1))


def test_validation_reports_every_problem_at_once():
    G = nx.MultiDiGraph(grid_city(3, 3, seed=0))
    G.add_edge(0, 0)
    G.nodes[1]["habitat"] = 2.0
    G.nodes[2]["habitat"] = -1.0
    G.nodes[3]["zone"] = "harbour"
    del G.nodes[4]["population"]
    with pytest.raises(ValueError) as info:
        validate_city(G)
    message = str(info.value)
    assert message.startswith("the city graph has 4 problems:")
    for fragment in (
        "is directed (MultiDiGraph",
        "is a multigraph",
        "has 1 self-loop(s) (e.g. at node 0)",
        "from_graph(G)",
        "node 1, attribute 'habitat' is 2.0, but it must lie in [0, 1]",
        "(1 more node(s) like this)",
        "node 3, attribute 'zone' is 'harbour'",
        "node 4, attribute 'population' is missing",
    ):
        assert fragment in message, fragment


def _osmnx_like() -> nx.MultiDiGraph:
    """A street network as osmnx gives it: one-way pairs, parallel ways, a loop."""
    city = grid_city(3, 4, seed=2)
    G = nx.MultiDiGraph()
    G.add_nodes_from(city.nodes(data=True))
    for u, v, d in city.edges(data=True):
        G.add_edge(u, v, length=1000 * d["length_km"])
        G.add_edge(v, u, length=1000 * d["length_km"])
    G.add_edge(0, 1, length=400.0)  # a parallel, shorter way
    G.add_edge(5, 5, length=120.0)  # a loop street
    return G


def test_from_graph_converts_an_osmnx_like_graph_in_one_step():
    G = _osmnx_like()
    before = G.number_of_edges()
    with pytest.warns(UserWarning) as caught:
        city = from_graph(G)
    assert len(caught) == 1
    report = str(caught[0].message)
    for fragment in ("direction dropped", "merged", "1 self-loop(s) removed"):
        assert fragment in report, fragment
    assert type(city) is nx.Graph and G.number_of_edges() == before  # input untouched
    assert city.number_of_edges() == grid_city(3, 4, seed=2).number_of_edges()
    assert city.edges[0, 1]["length"] == 400.0  # the shortest parallel way kept
    validate_city(city)
    with pytest.raises(ValueError, match=r"is directed.*is a multigraph.*self-loop"):
        load_city(G)  # not converted silently


def test_from_graph_is_quiet_on_a_plain_graph():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        city = from_graph(grid_city(3, 3, seed=0))
    assert city.number_of_nodes() == 9


_GRAPHML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
_GRAPHML_BODY = (
    '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
    '<key id="d0" for="node" attr.name="zone" attr.type="string"/>'
    '<graph edgedefault="undirected"><node id="a"><data key="d0">{zone}</data></node>'
    "</graph></graphml>"
)


def test_graphml_billion_laughs_is_refused(tmp_path):
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    path = tmp_path / "laughs.graphml"
    path.write_text(
        _GRAPHML_HEAD + f"<!DOCTYPE graphml [{entities}]>" + _GRAPHML_BODY.format(zone="&lol9;")
    )
    with pytest.raises(ValueError, match=r"laughs\.graphml.*is refused.*entities"):
        load_city(path)


def test_graphml_external_entity_is_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("residential")
    path = tmp_path / "external.graphml"
    path.write_text(
        _GRAPHML_HEAD
        + f'<!DOCTYPE graphml [<!ENTITY ext SYSTEM "file://{secret}">]>'
        + _GRAPHML_BODY.format(zone="&ext;")
    )
    with pytest.raises(ValueError, match=r"external\.graphml.*is refused"):
        load_city(path)


def test_truncated_graphml_names_the_file_and_the_problem(tmp_path):
    good = tmp_path / "good.graphml"
    save_city(grid_city(3, 3, seed=0), good)
    text = good.read_text()
    bad = tmp_path / "truncated.graphml"
    bad.write_text(text[: len(text) // 2])
    with pytest.raises(ValueError, match=r"truncated\.graphml.*not well-formed XML.*truncated"):
        load_city(bad)
    not_graphml = tmp_path / "other.graphml"
    not_graphml.write_text("<html><body>hello</body></html>")
    with pytest.raises(ValueError, match=r"other\.graphml.*no <graph> element"):
        load_city(not_graphml)


def test_expected_attributes_mix_zones_by_land_share():
    from waste_harmony.city.generators import expected_attributes
    from waste_harmony.city.zones import ZONES

    xy = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
    zones = ["industrial", "plaza", "residential"]
    area = np.full(3, 0.25)
    pure = expected_attributes(xy, zones, area)
    one_hot = np.eye(len(ZONES))[[ZONES.index(z) for z in zones]]
    same = expected_attributes(xy, zones, area, shares=one_hot)
    for name, values in pure.items():
        np.testing.assert_array_equal(same[name], values)
    # A node that is 40 % green and 60 % industrial land: each zone-dependent value is
    # the share-weighted mean of the two zones' values at that node.
    shares = np.zeros((3, len(ZONES)))
    shares[:, ZONES.index("green")] = 0.4
    shares[:, ZONES.index("industrial")] = 0.6
    mixed = expected_attributes(xy, zones, area, shares=shares)
    m = pure["marginalisation"]
    each = {z: expected_attributes(xy, [z] * 3, area, m) for z in ("green", "industrial")}
    for name in ("population", "habitat", "industrial_emission", "recycling_infrastructure"):
        expected = 0.4 * each["green"][name] + 0.6 * each["industrial"][name]
        assert mixed[name] == pytest.approx(expected), name
    assert mixed["marginalisation"] == pytest.approx(m)
    with pytest.raises(ValueError, match="rows summing to 1"):
        expected_attributes(xy, zones, area, shares=shares[:, :3])
