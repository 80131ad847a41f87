"""Tests of the SolaraViz app without a browser: figures, model factory, solara rendering."""

import dataclasses
import io
import subprocess
import sys

import ipyvuetify as v
import ipywidgets as widgets
import numpy as np
import pandas as pd
import pytest
import solara
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba
from mesa.visualization.solara_viz import _build_model_init_kwargs

from waste_harmony import CityModel, Corporation
from waste_harmony.city import organic_city
from waste_harmony.cli import build_parser, main
from waste_harmony.config import ConfigError
from waste_harmony.parameters import Parameters
from waste_harmony.plotting.markers import (
    COLONY,
    FACILITY,
    FACILITY_STATUS_COLOURS,
    FESTIVAL,
    PROTEST,
)
from waste_harmony.scenarios import HarmonyFestival, Scenario, registry
from waste_harmony.viz import (
    DEFAULT_SERIES,
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
from waste_harmony.viz.app import SCENARIO_PREFIX, _initial_values
from waste_harmony.viz.components import SLIDER_VALUES_CSS
from waste_harmony.viz.figures import (
    MAX_EVENT_ROWS,
    CityMapView,
    SeriesView,
    colour_limits,
    festival_rows,
)
from waste_harmony.viz.runfile import load_run_model


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


def _collection(fig, gid):
    return next(c for c in fig.axes[0].collections if c.get_gid() == gid)


def test_city_map_marks_site_colonies_and_protests(run_model):
    fig = city_map_figure(run_model, "concern")
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert {"protest", "organism colony", "facility proposed", "facility built"} <= set(labels)
    site = run_model.corporations[0]
    assert site.status == "proposed"
    xy = np.array([run_model.city.nodes[n]["pos"] for n in run_model.node_ids])
    facility = _collection(fig, "facility")
    np.testing.assert_allclose(facility.get_offsets(), xy[[site.site]])
    np.testing.assert_allclose(
        facility.get_facecolors()[0], to_rgba(FACILITY_STATUS_COLOURS["proposed"])
    )
    colonies = np.flatnonzero(
        run_model.neighborhoods.organism_biomass >= run_model.params.organism_colony_kg
    )
    assert colonies.size >= 1
    np.testing.assert_allclose(_collection(fig, "colonies").get_offsets(), xy[colonies])
    protesting = node_values(run_model, "protest_share") > 0
    np.testing.assert_allclose(_collection(fig, "protests").get_offsets(), xy[protesting])
    # no festival in this run: no star, no legend entry
    assert len(_collection(fig, "festival").get_offsets()) == 0
    assert "festival" not in labels


def test_markers_have_one_meaning_each():
    marks = [FACILITY, FESTIVAL, COLONY, PROTEST]
    assert len({m.marker for m in marks}) == len(marks)
    assert len({m.label for m in marks}) == len(marks)


def test_festival_is_marked_where_it_is_held(small_city):
    model = CityModel(
        small_city, n_citizens=500, scenarios=[HarmonyFestival(day=2, plaza=0)], rng=1
    )
    plaza = np.flatnonzero(model.neighborhoods.zone == "plaza")
    assert plaza.size and 0 not in plaza  # the plaza zone is elsewhere
    xy = np.array([model.city.nodes[n]["pos"] for n in model.node_ids])
    for _ in range(2):  # before and after the festival
        fig = city_map_figure(model)
        np.testing.assert_allclose(_collection(fig, "festival").get_offsets(), xy[[0]])
        assert "festival" in [t.get_text() for t in fig.legends[0].get_texts()]
        model.run_for(3)
    assert [e.node for e in model.event_log.of_kind("festival")] == [model.node_ids[0]]


def test_festival_on_a_city_without_a_plaza_is_marked_at_its_ground():
    city = organic_city(60, seed=4)
    for node in city.nodes:
        if city.nodes[node].get("zone") == "plaza":
            city.nodes[node]["zone"] = "residential"
    model = CityModel(city, n_citizens=500, scenarios=["harmony-festival"], rng=1)
    assert not np.any(model.neighborhoods.zone == "plaza")
    model.run_for(121)
    held = {model.node_index(e.node) for e in model.event_log.of_kind("festival")}
    assert len(held) == 1
    xy = np.array([model.city.nodes[n]["pos"] for n in model.node_ids])
    np.testing.assert_allclose(
        _collection(city_map_figure(model), "festival").get_offsets(), xy[sorted(held)]
    )
    assert festival_rows(model).tolist() == sorted(held)


def test_colour_scale_follows_the_data_by_default(run_model):
    # nodes nobody lives in have no concern (a placeholder 0): not part of the scale
    values = node_values(run_model, "concern")[run_model.residents > 0]
    assert values.min() > 0.2
    low, high = colour_limits(values, "concern")
    assert low <= values.min() and values.max() <= high
    assert (values.max() - values.min()) / (high - low) > 0.6  # the data fill the scale
    assert colour_limits(values, "concern", "fixed") == (0.0, 1.0)
    assert colour_limits(np.array([0.38, 0.65]), "concern") == (0.38, 0.66)
    assert colour_limits(np.array([2.0, 8.0]), "pollution", "fixed") == (0.0, 8.0)
    auto = _collection(city_map_figure(run_model, "concern"), "city-nodes").get_clim()
    fixed = _collection(city_map_figure(run_model, "concern", scale="fixed"), "city-nodes")
    assert auto == (low, high) and fixed.get_clim() == (0.0, 1.0)
    with pytest.raises(ValueError, match="unknown colour scale 'log'.*auto, fixed"):
        colour_limits(values, "concern", "log")


def test_series_choices_read_the_one_table_of_outputs():
    from waste_harmony.recording import OUTPUTS

    numeric = [o for o in OUTPUTS if o.unit != "category"]
    assert list(SERIES_VARIABLES) == [o.name for o in numeric]
    for o in numeric:
        unit = SERIES_VARIABLES[o.name][1]
        assert unit == o.unit or (o.name.startswith("waste_") and unit == "t" + o.unit[2:])
    assert set(DEFAULT_SERIES) <= set(SERIES_VARIABLES)
    with pytest.raises(ValueError, match="unknown series 'nope'"):
        SeriesView(("nope",))


def test_series_figure_plots_every_day_and_marks_events(run_model):
    fig = series_figure(run_model)
    assert len(fig.axes) == len(DEFAULT_SERIES) + 1
    frame = run_model.model_frame()
    for ax, name in zip(fig.axes, DEFAULT_SERIES, strict=False):
        data = next(line for line in ax.lines if line.get_gid() == f"series:{name}")
        expected = frame[name].to_numpy() / (1000.0 if name == "waste_stock_kg" else 1.0)
        title, unit = SERIES_VARIABLES[name]
        assert ax.get_title() == f"{title} ({unit})"
        np.testing.assert_allclose(data.get_xdata(), frame.index.to_numpy())
        np.testing.assert_allclose(data.get_ydata(), expected)
        low, high = ax.get_ylim()
        assert low <= expected.min() and expected.max() <= high
    strip = fig.axes[-1]
    rows = [t.get_text() for t in strip.get_yticklabels()]
    kinds = list(dict.fromkeys(e.kind.replace("_", " ") for e in run_model.event_log))
    assert rows == kinds
    marks = next(c for c in strip.collections if c.get_gid() == "events")
    for row, kind in enumerate(dict.fromkeys(e.kind for e in run_model.event_log)):
        marked = sorted(x for x, y in marks.get_offsets() if y == -row)
        assert marked == sorted({e.day for e in run_model.event_log.of_kind(kind)})
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["facility proposed"]
    with pytest.raises(ValueError, match="unknown series"):
        series_figure(run_model, ("mean_concern", "happiness"))


@pytest.fixture(scope="module")
def story_year():
    model = CityModel(
        n_citizens=2_000, scenarios=["techcore", "harmony-festival", "story-roles"], rng=3
    )
    model.run_for(365)
    return model


def test_series_panel_is_readable_after_a_story_year(story_year):
    assert len({e.kind for e in story_year.event_log}) > MAX_EVENT_ROWS
    assert len(story_year.event_log) > 100
    fig = series_figure(story_year)
    strip = fig.axes[-1]
    rows = [t.get_text() for t in strip.get_yticklabels()]
    assert len(rows) == MAX_EVENT_ROWS and rows[-1].startswith("other (")
    every_day = {e.day for e in story_year.event_log}
    marked = {x for x, _ in next(c for c in strip.collections).get_offsets()}
    assert marked == every_day  # condensed, nothing lost
    assert all(not ax.collections and len(ax.lines) == 1 for ax in fig.axes[:-1])
    # at most a handful of legend entries, and every legend outside the data
    renderer = FigureCanvasAgg(fig).get_renderer()
    entries = sum(len(legend.get_texts()) for legend in fig.legends)
    assert entries <= 3
    for legend in fig.legends:
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            assert not box.overlaps(ax.get_window_extent(renderer))


def _pixels(png):
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def _full_draw(view):
    """The view's image drawn afresh from scratch (its cache bypassed once)."""
    key = view._canvas.key
    view._canvas.key = object()
    try:
        return view.image("png")
    finally:
        view._canvas.key = key


@pytest.mark.slow
def test_live_views_redraw_only_changed_cells_yet_match_a_full_draw():
    # A new colour range (or y range of one panel) redraws just that part of the
    # cached background: the image must be the one a full draw gives, pixel for pixel.
    model = CityModel(n_citizens=2_000, scenarios=["techcore", "harmony-festival"], rng=3)
    city_map, series = CityMapView(model), SeriesView()
    checks = {city_map: 0, series: 0}
    for day in range(36):
        model.step()
        for view, args in ((city_map, ("concern" if day < 18 else "pollution",)), (series, ())):
            cells = view._canvas.cell_draws
            live = view.update(model, *args).image("png")
            if view._canvas.cell_draws > cells or day % 12 == 0:  # checks cost full draws
                assert np.array_equal(_pixels(live), _pixels(_full_draw(view))), (view, day)
                checks[view] += 1
    # the cached path was taken: cells redrawn, and the map never drawn whole again
    assert city_map._canvas.cell_draws >= 2 and series._canvas.cell_draws >= 1
    assert city_map._canvas.full_draws == 1 + checks[city_map]


def test_viz_model_waits_for_its_page_before_each_step_and_copies_cleanly(monkeypatch):
    waited = []
    monkeypatch.setattr(viz_app, "wait_for_page", waited.append)
    model = VizCityModel(n_citizens=1_000, rng=4)
    model.step()
    model.step()
    assert waited == [model, model] and model.day == 2
    twin = model.copy()  # the step hook belongs to the copy, not to the original
    twin.step()
    assert (model.day, twin.day) == (2, 3) and waited[-1] is twin


def test_live_views_update_in_place(story_year, small_city):
    series, city_map = SeriesView(), CityMapView(story_year)
    first = series.update(story_year).image("png")
    assert first[:4] == b"\x89PNG" and series.image()[:2] == b"\xff\xd8"
    assert city_map.update(story_year, "pollution", "fixed").image()[:2] == b"\xff\xd8"
    assert city_map.nodes.get_clim()[0] == 0.0
    city_map.update(story_year, "concern")
    np.testing.assert_allclose(city_map.nodes.get_array(), node_values(story_year, "concern"))


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
    specs = {spec.name: spec for spec in Parameters.specs()}
    for name in viz_app.PARAMETER_CONTROLS:  # ranges and units from the one declaration
        slider, spec = controls[name], specs[name]
        assert spec.unit in slider.label or spec.unit == "dimensionless"
        assert spec.low is None or slider.min >= spec.low
        assert spec.high is None or slider.max <= max(spec.high, slider.value)
        assert spec.high is None or slider.max == max(spec.high, slider.value)
        # the browser rounds a value to the step's decimals: the step must be fine enough
        decimals = len(f"{slider.step:.6f}".rstrip("0").split(".")[1])
        assert round(slider.value, decimals) == slider.value
    odd = model_params(waste_per_capita_kg=0.74)["waste_per_capita_kg"]
    steps = (0.74 - odd.min) / odd.step
    assert odd.value == 0.74 and abs(steps - round(steps)) < 1e-6
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
    assert len(images) == 2 and all(bytes(img[:2]) == b"\xff\xd8" for img in images)
    for label in ("Reset", "Step"):
        rc.find(v.Btn, children=[label]).assert_single()
    labels = {w.label for w in rc.find(v.Select).widgets}
    assert {"City", "Colour neighbourhoods by", "Colour scale"} <= labels


def test_sliders_show_their_values():
    rc = _render(n_citizens=2_000, rng=3)
    sliders = rc.find(v.Slider).widgets
    assert {"Citizens", "concern confidence (concern units)"} <= {w.label for w in sliders}
    # Vuetify renders a thumb label with each slider's value; the page's style shows
    # it always instead of only while dragging
    assert all(w.thumb_label for w in sliders)
    (style,) = rc.find(v.Html, tag="style").widgets
    assert style.children == [SLIDER_VALUES_CSS]
    assert "display: block !important" in SLIDER_VALUES_CSS


def _map_image(rc):
    (image,) = [w for w in rc.find(widgets.Image).widgets if "wh-city-map" in w._dom_classes]
    return image.value


def test_colour_scale_control_redraws_the_map():
    rc = _render(n_citizens=2_000, rng=3)
    before = _map_image(rc)
    rc.find(v.Select, label="Colour scale").widget.v_model = "fixed (full range)"
    assert _map_image(rc) != before


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
    before = _map_image(rc)
    choice.v_model = "pollution"
    assert _map_image(rc) != before


def test_changing_a_control_and_reset_rebuild_the_model():
    rc = _render(n_citizens=2_000, rng=3)
    rc.find(v.Btn, children=["Step"]).widget.click()
    rc.find(v.Select, label="City").widget.v_model = "organic, 400 nodes"
    rc.find(v.Btn, children=["Reset"]).widget.click()
    assert _texts(rc, "wh-day") == ["Day 0"]
    assert _texts(rc, "wh-map-caption")[0].startswith("400 neighbourhoods drawn")


# ---------------------------------------------------------------- command line
def test_the_viz_subcommand_parses_its_arguments():
    from waste_harmony.cli import viz as viz_command

    args = build_parser(load=["viz"]).parse_args(["viz"])
    assert (args.runfile, args.host, args.port) == (None, "127.0.0.1", 8765)
    assert args.handler is viz_command.handle


def test_missing_run_file_is_a_clear_error(tmp_path, capsys):
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match="run file not found"):
        load_run_model(missing)
    assert main(["viz", str(missing), "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert "nope.toml" in err and len(err.strip().splitlines()) == 1


def test_python_m_viz_is_the_viz_command(tmp_path):
    missing = tmp_path / "nope.toml"
    done = subprocess.run(
        [sys.executable, "-m", "waste_harmony.viz", str(missing), "--port", "1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == f"waste-harmony: error: run file not found: {missing}"


def test_page_reads_the_run_file_named_in_the_environment(tmp_path, monkeypatch, small_city):
    model = CityModel(small_city, n_citizens=1_000, rng=2)
    runfile = tmp_path / "run.toml"
    runfile.write_text("")
    monkeypatch.setattr(viz_app, "load_run_model", lambda path: model)
    monkeypatch.setenv(viz_app.RUNFILE_ENV, str(runfile))
    assert viz_app._settings_from_environment() == {"model": model}
    monkeypatch.delenv(viz_app.RUNFILE_ENV)
    assert viz_app._settings_from_environment() == {}


def test_viewer_draws_district_polygons_and_recolours_them_in_place():
    libpysal = pytest.importorskip("libpysal")
    pytest.importorskip("geopandas")
    from waste_harmony.city import from_districts

    city = from_districts(
        libpysal.examples.get_path("columbus.shp"), id_column="POLYID", unit_km=1.0
    )
    model = CityModel(city, n_citizens=1_500, rng=2)
    view = CityMapView(model)
    districts = _collection(view.fig, "city-polygons")
    assert districts is view.districts and len(districts.get_paths()) == model.n_nodes
    assert not view.nodes.get_visible()  # the polygons carry the colours
    ax = view.fig.axes[0]
    assert ax.get_xlabel() == "x (km)" and [a.get_gid() for a in ax.artists] == ["scale-bar"]
    view.update(model, "pollution").image()
    before = districts.get_array().copy()
    model.run_for(5)
    view.update(model, "pollution").image()
    assert _collection(view.fig, "city-polygons") is districts  # the same artist
    assert not np.allclose(districts.get_array(), before)
    # each polygon's colour is its own district's value (same order as model.node_ids)
    values = node_values(model, "pollution")
    np.testing.assert_allclose(districts.get_array(), values[view.polygons.owner])
    np.testing.assert_allclose(sorted(districts.get_array()), sorted(values))
    assert districts.get_clim() == view.nodes.get_clim()
    assert view.bar.mappable is districts


def test_viewer_without_polygons_shows_points():
    view = CityMapView(CityModel(n_citizens=300, rng=1))
    assert view.districts is None and view.nodes.get_visible()


@pytest.mark.parametrize("days", [3, 30, 90])
def test_series_panels_tick_labels_read_their_data(days):
    # Issue 19, item 5 (the browser test reads the same from the page).
    from test_viz_browser import check_ticks_read_the_data
    from waste_harmony import CityModel
    from waste_harmony.viz.figures import SeriesView

    model = CityModel(n_citizens=1_000, rng=2, scenarios=["techcore"])
    view = SeriesView(outputs=model.outputs)
    for _ in range(days):  # one image a day, as the page draws them
        view.update(model).image()
        model.run_for(1)
    view.update(model).image()
    check_ticks_read_the_data(view.ticks())
