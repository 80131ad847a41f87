"""Node ids of every kind the contract allows (int, str, tuple) work everywhere."""

import matplotlib.pyplot as plt
import networkx as nx
import pytest

from waste_harmony import CityModel
from waste_harmony.city import from_graph, load_city, save_city
from waste_harmony.plotting import map_values, plot_city_map, plot_city_maps, standard_figures
from waste_harmony.results import RunResult


def _city(kind: str) -> nx.Graph:
    G = nx.grid_2d_graph(3, 3)  # tuple ids (row, col)
    for r, c in G.nodes:
        G.nodes[(r, c)]["pos"] = (0.5 * c, 0.5 * r)
    G.nodes[(0, 0)]["zone"] = "green"
    G.nodes[(1, 1)]["zone"] = "plaza"
    if kind == "int":
        G = nx.relabel_nodes(G, {n: 10 * n[0] + n[1] for n in G.nodes})
    elif kind == "str":
        G = nx.relabel_nodes(G, {n: f"hood-{n[0]}-{n[1]}" for n in G.nodes})
    return from_graph(G)


@pytest.fixture(scope="module", params=["int", "str", "tuple"])
def run(request):
    city = _city(request.param)
    model = CityModel(city, n_citizens=120, rng=4, scenarios=["techcore"])
    node = list(city.nodes)[4]
    model.run_for(3)
    model.deploy_organism(node, 25.0)  # an event at a node of this kind
    model.run_for(3)
    return request.param, city, model


def test_neighborhood_frame_keeps_the_ids(run):
    _, city, model = run
    frame = model.neighborhood_frame()
    assert len(frame) == 7 * city.number_of_nodes()  # day 0 and days 1-6
    assert set(frame["node"]) == set(city.nodes)


def test_events_with_node_ids_round_trip_through_parquet(run, tmp_path):
    _, city, model = run
    events = model.event_frame()
    at_nodes = [n for n in events["node"] if n is not None]
    assert at_nodes and set(at_nodes) <= set(city.nodes)
    result = RunResult.from_model(model)
    result.save(tmp_path / "r")
    back = RunResult.load(tmp_path / "r") if hasattr(RunResult, "load") else None
    if back is None:
        from waste_harmony import load_results

        back = load_results(tmp_path / "r")
    assert list(back.neighborhood_frame["node"]) == list(result.neighborhood_frame["node"])
    assert [n for n in back.events["node"] if n is not None] == at_nodes


def test_graphml_round_trip_restores_the_ids(run, tmp_path):
    _, city, _ = run
    save_city(city, tmp_path / "c.graphml")
    back = load_city(tmp_path / "c.graphml")
    assert list(back.nodes) == list(city.nodes)
    assert all(type(a) is type(b) for a, b in zip(back.nodes, city.nodes, strict=True))
    assert {frozenset(e) for e in back.edges} == {frozenset(e) for e in city.edges}
    assert dict(back.nodes(data=True)) == dict(city.nodes(data=True))


def test_graphml_keeps_mixed_ids_apart(tmp_path):
    G = nx.path_graph([1, "1", (1, "a"), "x"])
    for i, n in enumerate(G.nodes):
        G.nodes[n]["pos"] = (0.5 * i, 0.0)
    city = from_graph(G)
    save_city(city, tmp_path / "m.graphml")
    assert list(load_city(tmp_path / "m.graphml").nodes) == [1, "1", (1, "a"), "x"]


def test_maps_and_figures_draw_every_id_kind(run):
    _, city, model = run
    values = map_values(model, "concern")
    assert len(values) == city.number_of_nodes()
    assert list(values.index) == list(city.nodes)
    assert values["value"].notna().any()
    ax = plot_city_map(model, "pollution")
    plot_city_maps(model, "concern", days=[2, 6])
    figures = standard_figures(model)
    assert figures and ax is not None
    plt.close("all")


def test_viewer_figures_draw_every_id_kind(run):
    from waste_harmony.viz.figures import city_map_figure, node_values, series_figure

    _, city, model = run
    assert node_values(model, "concern").shape == (city.number_of_nodes(),)
    city_map_figure(model, "pollution")
    series_figure(model)
    plt.close("all")
