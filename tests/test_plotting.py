"""Figures: content checks (axes, labels, plotted data), not pixels."""

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from waste_harmony import CityModel
from waste_harmony.city import grid_city
from waste_harmony.plotting import (
    ensemble_frame,
    ensemble_summary,
    event_days,
    map_values,
    plot_city_map,
    plot_city_maps,
    plot_comparison,
    plot_ensemble,
    plot_series,
    standard_figures,
)
from waste_harmony.results import RunResult
from waste_harmony.scenarios import Scenario


@dataclass
class MiniShowdown(Scenario):
    """A tiny stand-in for the story: a firm proposes, a festival, a withdrawal."""

    name = "mini-showdown"
    description = "test scenario"
    propose_day: int = 3
    festival_day: int = 6
    decide_day: int = 9

    def setup(self, model):
        from waste_harmony import Corporation

        self.firm = Corporation(model, name="TestCorp")
        self.schedule(self.propose, day=self.propose_day)
        self.schedule(self.festival, day=self.festival_day)
        self.schedule(self.decide, day=self.decide_day)

    def propose(self):
        self.firm.propose(self.model.node_ids[5])

    def festival(self):
        self.log("festival_opened", node=self.model.node_ids[0])
        self.model.deploy_organism(self.model.node_ids[1], 50.0)

    def decide(self):
        self.firm.withdraw()


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def story_model():
    model = CityModel(grid_city(4, 4, seed=1), n_citizens=400, scenarios=[MiniShowdown()], rng=5)
    model.run_for(12)
    return model


def _event_lines(ax):
    return sorted(
        (round(line.get_xdata()[0]), line.get_gid())
        for line in ax.lines
        if (line.get_gid() or "").startswith("event:")
    )


def test_series_plots_the_model_data_with_labels(story_model):
    frame = story_model.model_frame()
    fig = plot_series(story_model, ["mean_concern", "mean_pollution", "recycling_rate"])
    visible = [a for a in fig.axes if a.get_visible()]
    assert [a.get_ylabel() for a in visible] == ["mean concern", "mean pollution", "recycling rate"]
    for ax, name in zip(visible, ["mean_concern", "mean_pollution", "recycling_rate"], strict=True):
        data = ax.lines[0]
        np.testing.assert_array_equal(data.get_xdata(), frame.index.to_numpy())
        np.testing.assert_allclose(data.get_ydata(), frame[name].to_numpy())
    assert any(a.get_xlabel() == "day" for a in visible)


def test_series_marks_announcement_festival_and_decision(story_model):
    fig = plot_series(story_model, ["mean_concern"])
    assert _event_lines(fig.axes[0]) == [
        (3, "event:announcement"),
        (6, "event:festival opened"),
        (9, "event:decision: withdrawn"),
    ]
    texts = [t.get_text().strip() for t in fig.axes[0].texts]
    assert "announcement" in texts and "decision: withdrawn" in texts
    # organism deployment is not a story marker by default, but can be chosen
    assert _event_lines(plot_series(story_model, "mean_concern", events=[]).axes[0]) == []
    chosen = plot_series(story_model, "mean_concern", events=["organism_deployed"])
    assert _event_lines(chosen.axes[0]) == [(6, "event:organism deployed")]


def test_series_draws_into_a_given_axes(story_model):
    fig, ax = plt.subplots()
    returned = plot_series(story_model, ["mean_concern", "protest_share"], ax=ax)
    assert returned is fig
    assert [line.get_label() for line in ax.lines[:2]] == ["mean concern", "protest share"]


def test_series_rejects_unknown_and_categorical_variables(story_model):
    with pytest.raises(ValueError, match="unknown variable 'mean_concen'"):
        plot_series(story_model, "mean_concen")
    with pytest.raises(ValueError, match="not numeric"):
        plot_series(story_model, "facility_status")


def test_event_days_deduplicates_and_sorts():
    log = pd.DataFrame(
        {
            "day": [9, 3, 3, 20],
            "kind": [
                "facility_withdrawn",
                "facility_proposed",
                "facility_proposed",
                "protest_started",
            ],
        }
    )
    assert event_days(log) == [(3, "announcement"), (9, "decision: withdrawn")]
    assert event_days(log, "all")[-1] == (20, "protest started")
    assert event_days(None) == []


def _ensemble(n_runs=5, days=8):
    models = []
    for seed in range(n_runs):
        model = CityModel(grid_city(3, 3, seed=0), n_citizens=150, rng=seed)
        model.run_for(days)
        models.append(model)
    return models


def test_ensemble_band_is_median_and_percentiles_across_seeds():
    models = _ensemble()
    tidy = pd.concat([m.model_frame().reset_index().assign(seed=s) for s, m in enumerate(models)])
    summary = ensemble_summary(tidy, "mean_concern")
    stacked = np.vstack([m.model_frame()["mean_concern"].to_numpy() for m in models])
    np.testing.assert_allclose(summary[("mean_concern", "median")], np.median(stacked, axis=0))
    np.testing.assert_allclose(summary[("mean_concern", "low")], np.percentile(stacked, 5, axis=0))
    np.testing.assert_allclose(
        summary[("mean_concern", "high")], np.percentile(stacked, 95, axis=0)
    )
    assert (summary[("mean_concern", "n")] == 5).all()
    # a list of models gives the same summary as the tidy frame
    pd.testing.assert_frame_equal(ensemble_summary(models, "mean_concern"), summary)

    fig = plot_ensemble(tidy, ["mean_concern", "recycling_rate"])
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), summary[("mean_concern", "median")])
    band = ax.collections[0].get_paths()[0].vertices
    assert band[:, 1].min() == pytest.approx(summary[("mean_concern", "low")].min())
    assert band[:, 1].max() == pytest.approx(summary[("mean_concern", "high")].max())
    assert "5–95 %" in fig.get_suptitle() and "5 runs" in fig.get_suptitle()


def test_ensemble_needs_a_run_column():
    with pytest.raises(ValueError, match="run column"):
        ensemble_frame(pd.DataFrame({"day": [1], "x": [0.0]}))
    frame = ensemble_frame(pd.DataFrame({"run_id": [0, 1], "day": [1, 1], "x": [0.0, 1.0]}))
    assert list(frame.columns) == ["run_id", "day", "x"]


def test_city_map_positions_colours_sizes_facility_and_colonies(story_model):
    fig = plot_city_map(story_model, "pollution", day=12)
    ax = fig.axes[0]
    by_gid = {c.get_gid(): c for c in ax.collections}
    assert {"streets", "nodes", "facility", "colonies"} <= set(by_gid)
    G = story_model.city
    positions = np.array([G.nodes[n]["pos"] for n in G.nodes])
    np.testing.assert_allclose(by_gid["nodes"].get_offsets(), positions)
    np.testing.assert_allclose(by_gid["nodes"].get_array(), story_model.neighborhoods.pollution)
    sizes = by_gid["nodes"].get_sizes()
    population = story_model.residents
    assert np.argmax(sizes) == np.argmax(population)
    assert np.all(np.diff(sizes[np.argsort(population)]) >= 0)  # larger population, larger node
    site = G.nodes[story_model.node_ids[5]]["pos"]
    np.testing.assert_allclose(by_gid["facility"].get_offsets()[0], site)
    colonised = story_model.neighborhoods.organism_biomass >= story_model.params.organism_colony_kg
    assert len(by_gid["colonies"].get_offsets()) == colonised.sum() > 0
    assert ax.get_title() == "pollution, day 12"
    assert "facility (withdrawn)" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert fig.axes[-1].get_ylabel() == "pollution"  # the colour bar


def test_city_map_of_a_day_before_the_proposal_has_no_facility(story_model):
    ax = plot_city_map(story_model, "concern", day=2).axes[0]
    assert "facility" not in {c.get_gid() for c in ax.collections}
    with pytest.raises(ValueError, match="day 99 was not recorded"):
        map_values(story_model, "concern", day=99)
    with pytest.raises(ValueError, match="unknown neighbourhood variable"):
        map_values(story_model, "polution")


def test_shares_of_residents_are_undefined_where_nobody_lives(story_model):
    values = map_values(story_model, "concern")
    empty = story_model.residents == 0
    assert empty.any() and (~empty).any()
    assert values["value"].isna().to_numpy().tolist() == empty.tolist()
    nodes = next(
        c
        for c in plot_city_map(story_model, "concern").axes[0].collections
        if c.get_gid() == "nodes"
    )
    assert len(nodes.get_offsets()) == story_model.n_nodes  # empty nodes drawn (grey)


def test_small_multiples_share_one_colour_scale(story_model):
    fig = plot_city_maps(story_model, "pollution", days=[1, 6, 12], ncols=2)
    maps = [a for a in fig.axes if a.get_title().startswith("pollution, day")]
    assert [a.get_title() for a in maps] == [
        "pollution, day 1",
        "pollution, day 6",
        "pollution, day 12",
    ]
    norms = {
        (n.norm.vmin, n.norm.vmax) for a in maps for n in a.collections if n.get_gid() == "nodes"
    }
    assert len(norms) == 1
    hoods = story_model.neighborhood_frame()
    low, high = norms.pop()
    chosen = hoods[hoods["day"].isin([1, 6, 12])]["pollution"]
    assert low == pytest.approx(chosen.min()) and high == pytest.approx(chosen.max())


def test_comparison_shows_both_runs_and_their_difference(story_model):
    base = CityModel(grid_city(4, 4, seed=1), n_citizens=400, rng=5)
    base.run_for(12)
    fig = plot_comparison(
        base, story_model, ["mean_concern", "protest_share"], labels=("baseline", "showdown")
    )
    top, bottom = fig.axes[0], fig.axes[2]
    assert [line.get_label() for line in top.lines[:2]] == ["baseline", "showdown"]
    expected = story_model.model_frame()["mean_concern"] - base.model_frame()["mean_concern"]
    np.testing.assert_allclose(bottom.lines[0].get_ydata(), expected.to_numpy())
    assert bottom.get_ylabel() == "difference" and "showdown − baseline" in bottom.get_title()


def test_figures_from_saved_results_match_figures_from_the_model(tmp_path, story_model):
    folder = RunResult.from_model(story_model).save(tmp_path / "run")
    live = map_values(story_model, "pollution", day=7)
    saved = map_values(folder, "pollution", day=7)
    np.testing.assert_allclose(
        saved[["x", "y", "value", "population"]].to_numpy(),
        live[["x", "y", "value", "population"]].to_numpy(),
    )
    assert saved["colony"].tolist() == live["colony"].tolist()
    figures = standard_figures(folder)
    assert sorted(figures) == ["map", "overview"]
    overview = figures["overview"].axes[0]
    assert _event_lines(overview) == _event_lines(plot_series(story_model).axes[0])


def test_facility_is_marked_when_other_events_have_no_node(tmp_path):
    from waste_harmony import CityModel, Corporation
    from waste_harmony.results import RunResult

    model = CityModel(n_citizens=300, rng=4)
    model.log_event("citywide_announcement")  # no node: must not turn node ids into floats
    site = model.node_ids[int(np.argmax(model.neighborhoods.habitat))]
    firm = Corporation(model, "TechCore")
    firm.propose(site)
    firm.build()
    model.run_for(3)
    assert model.event_frame()["node"].tolist()[1] == site
    for run in (model, RunResult.from_model(model).save(tmp_path / "run")):
        fig = plot_city_map(run, day=3)
        gids = {c.get_gid() for c in fig.axes[0].collections}
        assert "facility" in gids, run


@pytest.fixture(scope="module")
def columbus_run():
    libpysal = pytest.importorskip("libpysal")
    pytest.importorskip("geopandas")
    from waste_harmony.city import district_geometries, from_districts

    city = from_districts(
        libpysal.examples.get_path("columbus.shp"), id_column="POLYID", unit_km=1.0
    )
    model = CityModel(city, n_citizens=1_500, rng=3, record_neighborhoods=True)
    model.run_for(3)
    return model, district_geometries(city)


def test_districts_map_is_a_choropleth_in_km_with_a_scale_bar(columbus_run):
    model, geometries = columbus_run
    ax = plot_city_map(model, "pollution").axes[0]
    districts = next(c for c in ax.collections if c.get_gid() == "districts")
    assert len(districts.get_paths()) == model.n_nodes == 49  # one polygon per node
    # each polygon is its district's outline: same area (shoelace) as the geometry, in km²
    areas = sorted(
        0.5 * abs(np.dot(v[:-1, 0], v[1:, 1]) - np.dot(v[1:, 0], v[:-1, 1]))
        for v in (p.vertices for p in districts.get_paths())
    )
    np.testing.assert_allclose(areas, sorted(geometries.area), rtol=1e-6)
    colours = sorted(districts.get_array().tolist())
    np.testing.assert_allclose(colours, sorted(model.neighborhoods.pollution.tolist()))
    assert "nodes" not in {c.get_gid() for c in ax.collections}
    assert "km" in ax.get_xlabel() and "km" in ax.get_ylabel()
    bars = [a for a in ax.artists if a.get_gid() == "scale-bar"]
    assert len(bars) == 1
    low, high = ax.get_xlim()
    length = bars[0].size_bar.get_children()[0].get_width()
    assert 0 < length <= (high - low) / 2
    assert f"{length:g} km" in [t.get_text() for t in bars[0].findobj(plt.Text)]


def test_point_map_has_axes_in_km(story_model):
    ax = plot_city_map(story_model, "concern").axes[0]
    assert ax.get_xlabel() == "x (km)" and ax.get_ylabel() == "y (km)"
    assert len(ax.get_xticks()) > 1  # real ticks, not hidden
    assert [a.get_gid() for a in ax.artists] == ["scale-bar"]
    for small in plot_city_maps(story_model, "concern", days=[2, 12]).axes[:2]:
        assert small.get_xlabel() == "x (km)"


def test_festival_is_marked_on_the_static_map_where_it_was_held():
    from waste_harmony.plotting.markers import FESTIVAL
    from waste_harmony.scenarios import HarmonyFestival

    model = CityModel(
        grid_city(3, 3, seed=0), n_citizens=300, scenarios=[HarmonyFestival(day=2, plaza=4)], rng=1
    )
    model.run_for(3)
    held = list(dict.fromkeys(e.node for e in model.event_log.of_kind("festival")))
    assert held == [model.node_ids[4]]
    ax = plot_city_map(model, "concern").axes[0]
    festival = next(c for c in ax.collections if c.get_gid() == "festival")
    np.testing.assert_allclose(festival.get_offsets(), [model.city.nodes[held[0]]["pos"]])
    assert FESTIVAL.label in [t.get_text() for t in ax.get_legend().get_texts()]
    before = plot_city_map(model, "concern", day=1).axes[0]
    assert "festival" not in {c.get_gid() for c in before.collections}
