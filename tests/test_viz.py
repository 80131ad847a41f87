"""Tests of the SolaraViz app without a browser: figures, model factory, solara rendering."""

import argparse
import dataclasses
import subprocess
import sys

import ipyvuetify as v
import ipywidgets as widgets
import numpy as np
import pandas as pd
import pytest
import solara
from mesa.visualization.solara_viz import _build_model_init_kwargs

from waste_harmony import CityModel, Corporation
from waste_harmony.scenarios import Scenario, registry
from waste_harmony.viz import (
    MAP_VARIABLES,
    SERIES_VARIABLES,
    VizCityModel,
    city_map_figure,
    make_page,
    model_params,
    node_values,
    series_figure,
    settings_of,
)
from waste_harmony.viz import app as viz_app
from waste_harmony.viz import cli as viz_cli
from waste_harmony.viz.app import SCENARIO_PREFIX, _initial_values


@dataclasses.dataclass
class SiteFacility(Scenario):
    """Test scenario: a firm proposes a facility at a node on a given day."""

    name = "test-site-facility"
    description = "a firm proposes a facility"
    day: int = 2
    site: int = 0

    def setup(self, model):
        self.firm = Corporation(model, "TestCorp", emission_per_day=1.0)
        self.schedule(self.propose, day=self.day)

    def propose(self):
        self.firm.propose(self.model.node_ids[self.site])


@pytest.fixture
def registered(monkeypatch):
    """Register SiteFacility for one test only."""
    monkeypatch.setitem(registry._BUILTIN, SiteFacility.name, SiteFacility)
    return SiteFacility


@pytest.fixture(scope="module")
def run_model(small_city):
    model = CityModel(small_city, n_citizens=2_000, scenarios=[SiteFacility(day=2, site=5)], rng=11)
    model.deploy_organism(model.node_ids[3], 20.0)
    model.run_for(6)
    return model


# ---------------------------------------------------------------- import hygiene
def test_import_waste_harmony_does_not_import_solara():
    code = (
        "import sys, waste_harmony, waste_harmony.results; "
        "print(sorted(m for m in ('solara', 'altair', 'waste_harmony.viz') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_missing_extra_names_the_install_command():
    code = (
        "import sys; sys.modules['solara'] = None\n"
        "try:\n    import waste_harmony.viz\n"
        "except ImportError as exc:\n    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'waste-harmony[viz]'" in out.stdout


# ---------------------------------------------------------------- figures
@pytest.mark.parametrize("variable", ["concern", "protest_share"])
def test_node_values_are_resident_means(run_model, variable):
    column = {"concern": "concern", "protest_share": "protesting"}[variable]
    c = run_model.citizens
    frame = pd.DataFrame({"home": c.home, "x": getattr(c, column).astype(float)})
    expected = frame.groupby("home")["x"].mean().reindex(range(run_model.n_nodes), fill_value=0.0)
    np.testing.assert_allclose(node_values(run_model, variable), expected.to_numpy())


def test_node_values_reads_neighbourhood_columns(run_model):
    for key in ("pollution", "waste_stock_kg", "habitat", "biotech_access", "organism_biomass"):
        np.testing.assert_array_equal(
            node_values(run_model, key), getattr(run_model.neighborhoods, key)
        )
    with pytest.raises(ValueError, match="unknown map variable 'smog'.*pollution"):
        node_values(run_model, "smog")


@pytest.mark.parametrize("variable", list(MAP_VARIABLES))
def test_city_map_draws_every_node_at_its_position(run_model, variable):
    fig = city_map_figure(run_model, variable)
    ax = fig.axes[0]
    nodes = next(c for c in ax.collections if c.get_gid() == "city-nodes")
    xy = np.array([run_model.city.nodes[n]["pos"] for n in run_model.node_ids])
    np.testing.assert_allclose(nodes.get_offsets(), xy)
    np.testing.assert_allclose(nodes.get_array(), node_values(run_model, variable))
    streets = ax.collections[0]
    assert len(streets.get_segments()) == run_model.city.number_of_edges()
    assert variable.split("_")[0] in fig.axes[1].get_ylabel().replace(" ", "_")
    assert ax.get_title().startswith(f"Day {run_model.day}:")


def test_city_map_marks_site_plaza_colonies_and_protests(run_model):
    fig = city_map_figure(run_model, "concern")
    ax = fig.axes[0]
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    site = run_model.corporations[0]
    assert site.status == "proposed"
    assert "TestCorp site (proposed)" in labels
    xy = np.array([run_model.city.nodes[n]["pos"] for n in run_model.node_ids])
    offsets = [c.get_offsets() for c in ax.collections[2:]]
    assert any(np.allclose(o, xy[[site.site]]) for o in offsets)
    plaza = np.flatnonzero(run_model.neighborhoods.zone == "plaza")
    assert "festival plaza" in labels
    assert any(len(o) == len(plaza) and np.allclose(o, xy[plaza]) for o in offsets)
    colonies = np.flatnonzero(
        run_model.neighborhoods.organism_biomass >= run_model.params.organism_colony_kg
    )
    assert colonies.size >= 1
    assert f"organism colony ({colonies.size})" in labels
    protesting = np.count_nonzero(node_values(run_model, "protest_share") > 0)
    assert f"protest ({protesting} nbhds)" in labels


def test_series_figure_plots_every_day_and_marks_events(run_model):
    fig = series_figure(run_model)
    assert len(fig.axes) == len(SERIES_VARIABLES)
    frame = run_model.model_frame()
    for ax, name in zip(fig.axes, SERIES_VARIABLES, strict=True):
        data = ax.lines[-1]
        expected = frame[name].to_numpy() / (1000.0 if name == "waste_stock_kg" else 1.0)
        np.testing.assert_allclose(data.get_xdata(), frame.index.to_numpy())
        np.testing.assert_allclose(data.get_ydata(), expected)
        for kind in {e.kind for e in run_model.event_log}:
            marks = next(c for c in ax.collections if c.get_gid() == f"events:{kind}")
            marked = sorted(float(seg[0][0]) for seg in marks.get_segments())
            assert marked == sorted({e.day for e in run_model.event_log.of_kind(kind)})
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "facility proposed" in legend and "organism deployed" in legend
    with pytest.raises(ValueError, match="unknown series"):
        series_figure(run_model, ("mean_concern", "happiness"))


# ---------------------------------------------------------------- model factory
def test_viz_model_reads_controls(registered):
    model = VizCityModel(
        city_choice="organic, 400 nodes",
        n_citizens=1_500,
        rng="5",
        mobility=0.6,
        **{f"{SCENARIO_PREFIX}{registered.name}": True},
    )
    assert model.n_nodes == 400 and model.n_citizens == 1_500
    assert model.params.mobility == 0.6 and model.seed == 5
    assert [s.name for s in model.scenarios] == [registered.name]
    off = VizCityModel(n_citizens=1_000, **{f"{SCENARIO_PREFIX}{registered.name}": False})
    assert off.scenarios == [] and off.n_nodes == 100
    with pytest.raises(ValueError, match="seed must be a whole number"):
        VizCityModel(n_citizens=1_000, rng="abc")
    with pytest.raises(ValueError, match="unknown city choice"):
        VizCityModel(n_citizens=1_000, city_choice="Atlantis")


def test_viz_model_spells_the_seed_as_city_model_does():
    # One spelling across model classes: rng=; seed= is a deprecated alias.
    assert VizCityModel(n_citizens=1_000, rng=5).seed == 5
    with pytest.warns(FutureWarning, match="use rng= instead"):
        assert VizCityModel(n_citizens=1_000, seed="5").seed == 5
    assert "rng" in model_params(n_citizens=1_000) and "seed" not in model_params(n_citizens=1_000)


def test_viz_model_copies_scenario_templates():
    template = SiteFacility(day=4, site=7)
    first = VizCityModel(n_citizens=1_000, scenarios=[template])
    second = VizCityModel(n_citizens=1_000, scenarios=[template])
    a, b = first.scenario_named(SiteFacility.name), second.scenario_named(SiteFacility.name)
    assert a is not template and b is not template and a is not b
    assert (a.day, a.site) == (b.day, b.site) == (4, 7)


def test_model_params_offer_a_checkbox_per_registered_scenario(registered):
    controls = model_params(n_citizens=3_000, scenarios=[], concern_confidence=0.2, waste_cv=0.7)
    box = controls[f"{SCENARIO_PREFIX}{registered.name}"]
    assert box["type"] == "Checkbox" and box["value"] is False
    assert registered.description in box["label"]
    assert controls["concern_confidence"].value == 0.2
    assert controls["waste_cv"] == 0.7  # not a slider: passed through as fixed
    assert controls["n_citizens"].max >= 100_000
    ticked = model_params(scenarios=[registered.name])
    assert ticked[f"{SCENARIO_PREFIX}{registered.name}"]["value"] is True
    for name in viz_app.PARAMETER_CONTROLS:  # values on the slider's grid: no snapping
        slider = controls[name]
        steps = (slider.value - slider.min) / slider.step
        assert abs(steps - round(steps)) < 1e-6 and slider.min <= slider.value <= slider.max
    odd = model_params(waste_per_capita_kg=0.74)["waste_per_capita_kg"]
    assert odd.value == 0.74 and abs((0.74 - odd.min) / odd.step % 1) < 1e-6
    with pytest.raises(TypeError, match="did you mean 'mobility'"):
        model_params(mobilty=0.5)


def test_reset_rebuilds_the_same_run_from_the_controls(registered):
    """What Mesa's Reset does: type(model)(**controls); same seed, same series."""
    controls = model_params(n_citizens=2_000, rng=9, scenarios=[SiteFacility(day=2)])
    values = _initial_values(controls)
    first = VizCityModel(**values)
    first.run_for(5)
    kwargs = _build_model_init_kwargs(
        first, values, add_scenario_when_empty=True, require_model_accepts_scenario=True
    )
    again = type(first)(**kwargs)
    again.run_for(5)
    pd.testing.assert_frame_equal(first.model_frame(), again.model_frame())
    assert again.facility_status == "proposed"


def test_settings_of_a_model_rebuild_it(small_city):
    model = CityModel(
        small_city, n_citizens=1_200, rng=4, bass_q=0.5, scenarios=[SiteFacility(day=3, site=2)]
    )
    model.run_for(4)
    settings = settings_of(model)
    assert settings["rng"] == 4 and settings["bass_q"] == 0.5
    assert "waste_per_capita_kg" not in settings  # defaults are left out
    rebuilt = VizCityModel(**_initial_values(model_params(**settings)))
    assert rebuilt.day == 0 and rebuilt.n_nodes == model.n_nodes
    assert rebuilt.params == model.params
    assert rebuilt.scenario_named(SiteFacility.name).site == 2
    rebuilt.run_for(4)
    pd.testing.assert_frame_equal(rebuilt.model_frame(), model.model_frame())


# ---------------------------------------------------------------- solara rendering
def _render(**settings):
    @solara.component
    def App():  # noqa: N802
        with solara.AppLayout():
            make_page(**settings)

    return solara.render(App(), handle_error=False)[1]


def _texts(rc, cls):
    return [w.children[0] for w in rc.find(v.Html, class_=cls).widgets]


def _images(rc):
    return {
        tuple(w._dom_classes) or w.layout.width: w.value for w in rc.find(widgets.Image).widgets
    }


def test_page_renders_map_series_and_controls():
    rc = _render(n_citizens=2_000, rng=3)
    assert _texts(rc, "wh-day") == ["Day 0"]
    assert _texts(rc, "wh-map-caption")[0].startswith("100 neighbourhoods drawn")
    images = [w.value for w in rc.find(widgets.Image).widgets]
    assert len(images) == 2 and all(img[:4] == b"\x89PNG" for img in images)
    for label in ("Reset", "Step"):
        rc.find(v.Btn, children=[label]).assert_single()
    labels = {w.label for w in rc.find(v.Select).widgets}
    assert {"City", "Colour neighbourhoods by"} <= labels


def test_step_advances_the_day_and_redraws():
    rc = _render(n_citizens=2_000, rng=3)
    before = [w.value for w in rc.find(widgets.Image).widgets]
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert _texts(rc, "wh-day") == ["Day 1"]
    # Day 0 (the initial state) and day 1.
    assert _texts(rc, "wh-series-caption")[0].startswith("2 days recorded")
    after = [w.value for w in rc.find(widgets.Image).widgets]
    assert all(a != b for a, b in zip(before, after, strict=True))


def test_colour_choice_redraws_the_map():
    rc = _render(n_citizens=2_000, rng=3)
    choice = rc.find(v.Select, label="Colour neighbourhoods by").widget
    before = rc.find(widgets.Image).widgets[0].value
    choice.v_model = "pollution"
    assert rc.find(widgets.Image).widgets[0].value != before


def test_changing_a_control_and_reset_rebuild_the_model():
    rc = _render(n_citizens=2_000, rng=3)
    rc.find(v.Btn, children=["Step"]).widget.click()
    rc.find(v.Select, label="City").widget.v_model = "organic, 400 nodes"
    rc.find(v.Btn, children=["Reset"]).widget.click()
    assert _texts(rc, "wh-day") == ["Day 0"]
    assert _texts(rc, "wh-map-caption")[0].startswith("400 neighbourhoods drawn")


# ---------------------------------------------------------------- command line
def test_register_adds_the_viz_subcommand():
    parser = argparse.ArgumentParser(prog="waste-harmony")
    viz_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["viz"])
    assert (args.command, args.runfile, args.host, args.port) == ("viz", None, "127.0.0.1", 8765)
    assert args.handler is viz_cli.run_viz


def test_missing_run_file_is_a_clear_error(tmp_path, capsys):
    missing = tmp_path / "nope.toml"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        viz_cli.load_run_model(missing)
    assert viz_cli.main([str(missing), "--port", "1"]) == 2
    assert "nope.toml" in capsys.readouterr().err


def test_run_file_without_config_module_names_the_gap(tmp_path, monkeypatch):
    runfile = tmp_path / "run.toml"
    runfile.write_text("[model]\n")
    monkeypatch.setitem(sys.modules, "waste_harmony.config", None)
    with pytest.raises(RuntimeError, match="waste_harmony.config.load_run_file"):
        viz_cli.load_run_model(runfile)


def test_page_reads_the_run_file_named_in_the_environment(tmp_path, monkeypatch, small_city):
    model = CityModel(small_city, n_citizens=1_000, rng=2)
    runfile = tmp_path / "run.toml"
    runfile.write_text("")
    monkeypatch.setattr(viz_cli, "load_run_model", lambda path: model)
    monkeypatch.setenv(viz_app.RUNFILE_ENV, str(runfile))
    assert viz_app._settings_from_environment() == {"model": model}
    monkeypatch.delenv(viz_app.RUNFILE_ENV)
    assert viz_app._settings_from_environment() == {}
