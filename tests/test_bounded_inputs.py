"""Bounded inputs: OSM files vetted before parsing, long values cut, out of memory named.

Issue 23 item 5: a 9 KiB ``.osm.bz2`` expanding to 10 GB was read without limit, OSM XML
with entity declarations went to a plain parser, a 50 MB value was echoed whole in an
error, and every out-of-memory message blamed the citizens.
"""

import bz2
import gzip

import pytest

from waste_harmony import CityModel
from waste_harmony.city.osm import check_osm_file
from waste_harmony.cli import main
from waste_harmony.config import ConfigError, parse_run_config

OSM_HEAD = b"<?xml version='1.0' encoding='UTF-8'?>\n<osm version='0.6'>\n"


def test_a_bz2_bomb_is_refused_after_the_limit(tmp_path):
    bomb = tmp_path / "bomb.osm.bz2"
    bomb.write_bytes(bz2.compress(OSM_HEAD + b" " * 20_000_000 + b"</osm>"))
    assert bomb.stat().st_size < 2_000  # 20 MB of XML in under 2 KB
    with pytest.raises(ValueError, match=r"bomb.osm.bz2' expands to more than 1,000,000 bytes"):
        check_osm_file(bomb, max_bytes=1_000_000)
    assert check_osm_file(bomb, max_bytes=30_000_000) > 20_000_000  # below the limit: read


def test_entity_declarations_in_an_osm_file_are_refused(tmp_path):
    laughs = (
        b"<?xml version='1.0'?>\n<!DOCTYPE osm [<!ENTITY a 'aaaaaaaaaa'>"
        b"<!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>]>\n<osm>&b;</osm>"
    )
    path = tmp_path / "laughs.osm.gz"
    path.write_bytes(gzip.compress(laughs))
    with pytest.raises(ValueError, match="declares XML entities"):
        check_osm_file(path)


def test_a_truncated_osm_file_is_named(tmp_path):
    path = tmp_path / "cut.osm.bz2"
    path.write_bytes(bz2.compress(OSM_HEAD + b"<node id='1'")[:-10])
    with pytest.raises(ValueError, match="cut.osm.bz2' cannot be decompressed"):
        check_osm_file(path)
    plain = tmp_path / "cut.osm"
    plain.write_bytes(OSM_HEAD + b"<node id='1'")
    with pytest.raises(ValueError, match="is not well-formed XML"):
        check_osm_file(plain)


def test_the_shipped_extracts_pass():
    from pathlib import Path

    for path in (Path(__file__).parent / "data" / "osm").glob("*.osm.bz2"):
        assert check_osm_file(path) > 100_000


def test_an_error_quotes_an_excerpt_of_a_huge_value():
    with pytest.raises(ConfigError) as caught:
        parse_run_config({"seed": "x" * 5_000_000})
    message = str(caught.value)
    assert len(message) < 1_000 and "characters cut" in message and message.startswith("seed")


def test_an_error_line_on_the_command_line_is_short(tmp_path, capsys):
    path = tmp_path / "huge.toml"
    path.write_text(f'seed = 1\ndays = "{"9" * 3_000_000}"\n')
    assert main(["run", str(path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert len(err) < 3_000 and "characters cut" in err


def test_plot_refuses_a_huge_dpi_naming_the_pixels(capsys):
    assert main(["plot", "nowhere", "--dpi", "100000"]) == 2
    err = capsys.readouterr().err
    assert "1,000,000 x 600,000 pixels" in err and "at most 1200" in err


def test_out_of_memory_while_drawing_names_the_dpi(tmp_path, capsys, monkeypatch):
    import waste_harmony.plotting as plotting
    from waste_harmony import experiments

    experiments.run(n_citizens=50, days=2, seed=1, out=tmp_path / "r")

    def huge(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(plotting, "save_standard_figures", huge)
    assert main(["plot", str(tmp_path / "r"), "--dpi", "1200"]) == 2
    err = capsys.readouterr().err
    assert "out of memory: the figures at --dpi 1200" in err and "lower --dpi" in err


def test_a_plan_beyond_this_machine_is_refused_at_once_with_its_size(tmp_path, capsys):
    from waste_harmony import experiments

    with pytest.raises(MemoryError, match=r"the plan has 1,000,000,000 runs \(1 point x"):
        experiments.sweep(parameters=[{}], seeds=10**9, days=2, n_citizens=20, progress=False)
    path = tmp_path / "huge.toml"
    path.write_text(
        "seed = 1\ndays = 2\ncitizens = 20\n[sweep]\nseeds = 1000000000\n"
        "[sweep.grid]\nwaste_per_capita_kg = [0.5, 1.0]\n"
    )
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "out of memory: the plan has 2,000,000,000 runs (2 points x 1,000,000,000" in err


GIB = 2**30


@pytest.fixture
def eight_gib(monkeypatch):
    """A machine with 8 GiB available (the refusals compare estimates with it)."""
    import waste_harmony.batch.limits as limits
    import waste_harmony.city.size as size

    monkeypatch.setattr(size, "available_memory_bytes", lambda: 8 * GIB)
    monkeypatch.setattr(limits, "available_memory_bytes", lambda: 8 * GIB)


def test_a_huge_grid_city_is_refused_from_its_estimate_before_building(eight_gib):
    """Issue 23, 2: a 4000 x 4000 grid city ran 240 s with no output."""
    from waste_harmony.city import grid_city
    from waste_harmony.city.size import city_bytes

    with pytest.raises(MemoryError) as error:
        grid_city(4000, 4000, seed=1)  # refused at once: nothing of it is allocated
    message = str(error.value)
    assert "grid_city(4000 x 4000): 16,000,000 neighbourhoods and 31,992,000 streets" in message
    assert f"at least {city_bytes(16_000_000, 31_992_000) / 1e9:,.1f} GB" in message
    assert "8.6 GB available" in message and "fewer rows and columns" in message
    assert grid_city(30, 30, seed=1).number_of_nodes() == 900  # a city that fits is built


def test_a_run_files_huge_city_or_population_is_one_line_naming_them(tmp_path, capsys, eight_gib):
    run = tmp_path / "huge.toml"
    run.write_text(
        'days = 2\ncitizens = 100\n[city]\ngenerator = "grid"\nrows = 4000\ncols = 4000\n'
    )
    assert main(["run", str(run), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "out of memory: the run file's city (grid" in err
    assert "16,000,000 neighbourhoods" in err and "a smaller city or fewer citizens" in err
    crowd = parse_run_config({"citizens": 40_000_000, "city": {"generator": "grid"}})
    with pytest.raises(
        MemoryError, match="100 neighbourhoods and 180 streets and 40,000,000 citiz"
    ):
        crowd.build_model(rng=1)
    assert not (tmp_path / "o").exists()


def test_a_model_with_more_citizens_than_memory_is_refused_before_drawing_them(eight_gib):
    """Issue 23's loose end: ``CityModel(city, n_citizens=huge)`` called directly."""
    from waste_harmony.city import grid_city
    from waste_harmony.city.size import CITIZEN_BYTES

    city = grid_city(10, 10, seed=1)
    huge = 8 * GIB // CITIZEN_BYTES + 1  # the citizens alone outgrow what is available
    with pytest.raises(MemoryError) as error:
        CityModel(city, n_citizens=huge, rng=1)
    message = str(error.value)
    assert f"CityModel(n_citizens={huge:,}): 100 neighbourhoods" in message
    assert "8.6 GB available" in message and "population=" in message
    assert CityModel(city, n_citizens=1_000, rng=1).n_citizens == 1_000  # one that fits


def test_a_plan_whose_runs_cannot_fit_on_the_disk_names_the_space(tmp_path, monkeypatch):
    import waste_harmony.batch.limits as limits
    from waste_harmony import experiments
    from waste_harmony.machine import DiskSpace

    monkeypatch.setattr(limits, "disk_space", lambda folder: DiskSpace(tmp_path, 10**9, 10**6))
    with pytest.raises(ValueError) as error:
        experiments.sweep(
            parameters={"waste_per_capita_kg": [0.5, 1.0]}, seeds=50_000, days=2,
            n_citizens=20, progress=False, out=tmp_path / "o",
        )  # fmt: skip
    message = str(error.value)
    assert "the plan has 100,000 runs (2 points x 50,000 replicates)" in message
    assert "at least 2.4 GB and 500,000 files" in message and "has 1.0 GB and 1,000,000" in message
    assert not (tmp_path / "o").exists()
