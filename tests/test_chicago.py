"""Chicago at 1:1 scale (examples/chicago.py): the census table and a small-scale run.

The full run (2.7 million citizens) is too slow for the suite; here the example runs at
``--scale 0.002`` (one citizen per 500 residents) as a researcher would run it, and its
census table is checked against totals published independently of it.
"""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

gpd = pytest.importorskip("geopandas")
libpysal = pytest.importorskip("libpysal")

EXAMPLE = Path(__file__).parent.parent / "examples" / "chicago.py"
CENSUS = Path(__file__).parent.parent / "examples" / "data" / "chicago_community_areas.csv"

# U.S. Census Bureau counts for Chicago city, Illinois (Decennial Censuses).
CHICAGO_2020 = 2_746_388
CHICAGO_2010 = 2_695_598


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("chicago_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def table():
    return pd.read_csv(CENSUS)


def _key(name):
    return "".join(ch for ch in str(name).upper() if ch.isalpha())


def test_census_table_adds_up_to_the_city_counts(table):
    assert list(table["area_number"]) == list(range(1, 78))
    assert int(table["pop2020"].sum()) == CHICAGO_2020
    assert int(table["pop2010"].sum()) == CHICAGO_2010
    change = table["pop2020"] / table["pop2010"]
    assert change.between(0.75, 1.5).all(), table[~change.between(0.75, 1.5)]


def test_census_rows_match_the_polygons(table):
    layer = gpd.read_file(libpysal.examples.get_path("Chicago77.shp"))
    names = dict(zip(layer["AREANO"], layer["COMMUNITY"].map(_key), strict=True))
    assert {n: _key(c) for n, c in zip(table.area_number, table.community_area, strict=True)} == (
        names
    )


def test_city_has_the_census_population(example, table):
    G = example.chicago_city()
    assert G.number_of_nodes() == 77
    population = dict(G.nodes(data="population"))
    assert population == dict(zip(table.area_number, table.pop2020.astype(float), strict=True))
    zones = dict(G.nodes(data="zone"))
    assert {n: z for n, z in zones.items() if z != "residential"} == example.ZONES
    # areas in km² from the polygons: Chicago's land area is about 590 km² (228 sq mi)
    area = sum(a for _, a in G.nodes(data="area_km2"))
    assert 560 < area < 620


@pytest.mark.slow
def test_example_runs_at_small_scale(tmp_path):
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "--scale", "0.002", "--out", str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    citizens = round(CHICAGO_2020 * 0.002)
    assert f"Chicago: {citizens:,} citizens" in done.stdout, done.stdout
    assert "s/day" in done.stdout and "peak memory" in done.stdout
    assert "facility status at the end" in done.stdout
    assert list(out.glob("*.png"))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["n_citizens"] == citizens and manifest["days"] == 365
    assert manifest["scale"] == 0.002
    model = pd.read_parquet(out / "model.parquet")
    assert len(model) == 366  # day 0 and days 1-365
    # citizens are placed by the census counts: each area's share within sampling noise
    homes = pd.read_parquet(out / "neighborhoods.parquet")
    day0 = homes[homes["day"] == 0]
    assert day0["population"].sum() == citizens
    expected = day0["node"].map(lambda n: _census_share(n)) * citizens
    sd = np.sqrt(expected * (1 - expected / citizens))
    assert (np.abs(day0["population"].to_numpy() - expected.to_numpy()) < 5 * sd + 1).all()


def _census_share(node):
    table = pd.read_csv(CENSUS).set_index("area_number")["pop2020"]
    return table[int(json.loads(node)) if isinstance(node, str) else int(node)] / CHICAGO_2020


def test_scale_is_checked(example, tmp_path, monkeypatch, capsys):
    # The script's own main() with its command line; argparse exits with status 2
    # before anything is built (test_example_runs_at_small_scale runs it as a process).
    for scale in ("0", "1.5"):
        monkeypatch.setattr(sys, "argv", [str(EXAMPLE), "--scale", scale, "--out", str(tmp_path)])
        with pytest.raises(SystemExit) as done:
            example.main()
        assert done.value.code == 2 and "--scale must lie in (0, 1]" in capsys.readouterr().err
