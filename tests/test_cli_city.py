"""``waste-harmony run`` with a real city: ``--city-file``, ``--osm`` and their options.

Inputs are data nobody here wrote: libpysal's bundled district polygons (Columbus's 49
neighbourhoods, Chicago's 77 community areas) and the OpenStreetMap extracts in
tests/data/osm/ (osmnx's own test inputs, © OpenStreetMap contributors, ODbL). Each
city the command builds is compared with the same city built through the Python API.
"""

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

gpd = pytest.importorskip("geopandas")
libpysal = pytest.importorskip("libpysal")
pytest.importorskip("osmnx")

from waste_harmony.city import from_districts, from_osm, load_city  # noqa: E402
from waste_harmony.cli import main  # noqa: E402

OSM = Path(__file__).parent / "data" / "osm"
OAKLAND = OSM / "West-Oakland.osm.bz2"
COLUMBUS = libpysal.examples.get_path("columbus.shp")
CHICAGO = libpysal.examples.get_path("Chicago77.shp")
CENSUS = Path(__file__).parent.parent / "examples" / "data" / "chicago_community_areas.csv"
SMALL = ["--days", "3", "--citizens", "300", "--seed", "5", "--quiet", "--no-figures"]
COLUMBUS_FLAGS = ["--city-file", str(COLUMBUS), "--id-column", "POLYID", "--city", "unit_km=1.0"]


def run_ok(capsys, tmp_path, *args):
    out = tmp_path / "out"
    code = main(["run", *args, *SMALL, "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return out, captured.out


def fails(capsys, *args):
    code = main(["run", *args, *SMALL])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1, f"expected one line, got: {err}"
    return err


def test_city_file_with_column_options(capsys, tmp_path):
    out, printed = run_ok(
        capsys,
        tmp_path,
        *COLUMBUS_FLAGS,
        "--city",
        "population=INC",
        "--city",
        'columns={land_price="HOVAL"}',
    )
    assert "49 neighbourhoods" in printed
    saved = load_city(out / "city.graphml")
    expected = from_districts(
        COLUMBUS, id_column="POLYID", unit_km=1.0, population="INC", columns={"land_price": "HOVAL"}
    )
    assert sorted(saved.nodes) == sorted(expected.nodes)
    for node in expected.nodes:
        assert saved.nodes[node]["land_price"] == pytest.approx(expected.nodes[node]["land_price"])
    run = json.loads((out / "manifest.json").read_text())["run"]
    assert run["city"]["file"] == str(Path(COLUMBUS).resolve())
    assert run["city"]["population"] == "INC"


def test_city_file_with_a_census_table(capsys, tmp_path):
    table = pd.read_csv(CENSUS)
    _, printed = run_ok(
        capsys,
        tmp_path,
        "--city-file",
        str(CHICAGO),
        "--id-column",
        "AREANO",
        "--city",
        "crs=EPSG:3435",
        "--city",
        f"table='{CENSUS}'",
        "--city",
        "table_id=area_number",
        "--city",
        "population=pop2020",
    )
    assert f"{len(table)} neighbourhoods" in printed


@pytest.mark.filterwarnings("ignore:kept the largest street-connected group")
@pytest.mark.parametrize("cell_km", [0.25, 0.5])
def test_osm_with_cell_size(capsys, tmp_path, cell_km):
    expected = from_osm(OAKLAND, cell_km=cell_km)
    out, printed = run_ok(capsys, tmp_path, "--osm", str(OAKLAND), "--cell-km", str(cell_km))
    assert f"{expected.number_of_nodes()} neighbourhoods" in printed
    assert load_city(out / "city.graphml").number_of_nodes() == expected.number_of_nodes()


def test_flags_replace_the_run_file_city(capsys, tmp_path):
    runfile = tmp_path / "run.toml"
    runfile.write_text('[city]\ngenerator = "grid"\nrows = 3\ncols = 3\n')
    _, printed = run_ok(capsys, tmp_path, str(runfile), *COLUMBUS_FLAGS)
    assert "49 neighbourhoods" in printed
    # without a source flag, --city sets keys of the run file's [city]
    _, printed = run_ok(capsys, tmp_path, str(runfile), "--city", "rows=4", "--force")
    assert "12 neighbourhoods" in printed


def test_run_file_with_a_district_table_runs_from_the_command_line(capsys, tmp_path):
    # the run file's resolved paths (table) go through the CLI's round trip as text
    runfile = tmp_path / "run.toml"
    runfile.write_text(
        f'[city]\nfile = "{CHICAGO}"\nid_column = "AREANO"\ncrs = "EPSG:3435"\n'
        f'table = "{CENSUS}"\ntable_id = "area_number"\npopulation = "pop2020"\n'
    )
    _, printed = run_ok(capsys, tmp_path, str(runfile))
    assert "77 neighbourhoods" in printed


def test_missing_file(capsys):
    err = fails(capsys, "--city-file", "nowhere.geojson", "--id-column", "id")
    assert "--city-file: file not found: nowhere.geojson" in err
    err = fails(capsys, "--osm", "nowhere.osm")
    assert "--osm: file not found: nowhere.osm" in err


def test_negative_or_bad_cell_size(capsys):
    for value in ("-0.25", "0", "nan", "wide"):
        err = fails(capsys, "--osm", str(OAKLAND), "--cell-km", value)
        assert "--cell-km: must be a positive number of km" in err, err


def test_wrong_column_names(capsys):
    err = fails(capsys, *COLUMBUS_FLAGS[:-4], "--id-column", "POLY", "--city", "unit_km=1")
    assert "no id column 'POLY'" in err and "'POLYID'" in err
    err = fails(capsys, *COLUMBUS_FLAGS, "--city", "population=POP")
    assert "population: no column 'POP'" in err and "'INC'" in err
    err = fails(capsys, *COLUMBUS_FLAGS, "--city", "populaton=INC")
    assert "city.populaton: unknown key; did you mean 'population'?" in err


def test_options_need_their_source(capsys):
    err = fails(capsys, "--cell-km", "0.5")
    assert "--cell-km: cell_km is an option of a city from --osm" in err
    err = fails(capsys, "--id-column", "POLYID")
    assert "--id-column: id_column is an option of a city from --city-file" in err
    err = fails(capsys, "--city-file", str(COLUMBUS))
    assert "--city-file: a district file needs --id-column NAME" in err
    err = fails(capsys, "--city-file", str(COLUMBUS), "--osm", str(OAKLAND))
    assert "give one city source" in err
    err = fails(capsys, "--city", "population")
    assert "--city: expected KEY=VALUE" in err


def test_missing_geo_extra_names_it(capsys, monkeypatch):
    # an installation without geopandas: `import geopandas` fails
    monkeypatch.setitem(sys.modules, "geopandas", None)
    err = fails(capsys, *COLUMBUS_FLAGS)
    assert 'pip install "waste-harmony[geo]"' in err
