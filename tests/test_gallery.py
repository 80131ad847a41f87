"""The gallery: every polygon layer bundled with libpysal and both OSM extracts run the story.

The layers and the options each needs are the table of ``benchmarks/gallery.py``
(which also writes the table in docs/gallery.md). Each layer must load as one
connected city in declared km and run 30 days of the story (TechCore announcing on
day 5 and deciding on day 20, the festival on day 10, the roles and the aftermath)
with every output finite.
"""

import warnings

import networkx as nx
import numpy as np
import pytest

pytest.importorskip("geopandas")
pytest.importorskip("libpysal")
pytest.importorskip("osmnx")

from benchmark_modules import load_benchmark

gallery = load_benchmark("gallery")

#: Layers whose loading takes more than a few seconds.
SLOW = {"aguascalientes"}


def test_the_gallery_holds_every_bundled_polygon_layer():
    from pathlib import Path

    import geopandas as gpd
    import libpysal

    examples = Path(libpysal.__file__).parent / "examples"
    polygons = set()
    for path in sorted(examples.glob("*/*.shp")):
        kinds = set(gpd.read_file(path, rows=5).geom_type)
        if kinds <= {"Polygon", "MultiPolygon"}:
            polygons.add(str(path.relative_to(examples)))
    listed = {layer.path for layer in gallery.LAYERS.values() if not layer.osm}
    assert listed == polygons
    assert {layer.path for layer in gallery.LAYERS.values() if layer.osm} == {
        "aguascalientes.osm.bz2",
        "West-Oakland.osm.bz2",
    }


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in gallery.LAYERS],
)
def test_layer_loads_and_runs_the_story(name):
    with warnings.catch_warnings():
        # a layer in pieces must have been joined by its options, not warned about
        warnings.filterwarnings("error", message=".*falls into.*pieces", category=UserWarning)
        G = gallery.load(name)
    assert G.graph["units"] == "km"
    assert nx.is_connected(G)
    model = gallery.CityModel(G, n_citizens=gallery.citizens_for(G), scenarios=gallery.STORY, rng=1)
    model.run_for(gallery.DAYS)
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == gallery.DAYS + 1
    assert gallery.finite_outputs(model)
    assert np.isfinite(frame["mean_pollution"]).all()
    kinds = set(model.event_frame()["kind"])
    assert any("festival" in kind for kind in kinds), kinds  # the story happened
    assert model.facility_status in ("proposed", "built", "withdrawn")
