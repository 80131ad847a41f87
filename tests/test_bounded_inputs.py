"""Bounded inputs: OSM files vetted before parsing, long values cut, out of memory named.

Issue 23 item 5: a 9 KiB ``.osm.bz2`` expanding to 10 GB was read without limit, OSM XML
with entity declarations went to a plain parser, a 50 MB value was echoed whole in an
error, and every out-of-memory message blamed the citizens.
"""

import bz2
import gzip

import pytest

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
