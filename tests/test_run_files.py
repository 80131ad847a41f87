"""Every run file shipped in examples/runs/ validates and builds its model."""

from pathlib import Path

import pytest

from waste_harmony.config import ConfigError, load_run_file, parse_run_config
from waste_harmony.scenarios import scenario_class

RUNS = Path(__file__).resolve().parents[1] / "examples" / "runs"
RUN_FILES = sorted(RUNS.glob("*.toml"))


def test_run_files_are_shipped():
    names = {p.name for p in RUN_FILES}
    assert {"quick.toml", "techcore_showdown.toml", "harmony_festival.toml"} <= names


@pytest.mark.parametrize("path", RUN_FILES, ids=lambda p: p.name)
def test_shipped_run_file_validates_and_builds(path):
    config = load_run_file(path)
    model = config.build_model(n_citizens=min(config.citizens, 500))
    # Keys are names or code references ("../plastic_ban.py:PlasticBan").
    expected = [scenario_class(k, base_dir=path.parent).name for k in config.scenarios]
    assert [s.name for s in model.scenarios] == expected
    assert config.output.folder is not None and config.output.folder.is_relative_to(RUNS)
    text = path.read_text()
    assert text.lstrip().startswith("#"), "start each run file with a comment saying what it is"


def test_quick_run_file_runs(tmp_path):
    config = load_run_file(RUNS / "quick.toml")
    model = config.build_model()
    model.run_for(5)
    assert len(model.model_frame()) == 6  # day 0 and days 1-5


# ---------------------------------------------------------------- paths, keys, mistakes
def test_every_path_in_a_run_file_is_relative_to_the_file(tmp_path, monkeypatch):
    from waste_harmony.city import grid_city, save_city

    folder = tmp_path / "study"
    folder.mkdir()
    save_city(grid_city(3, 3, seed=1), folder / "city.graphml")
    (folder / "run.toml").write_text(
        '[city]\ngraphml = "city.graphml"\n[output]\nfolder = "out/run"\n'
    )
    monkeypatch.chdir(tmp_path)  # somewhere else than the file
    config = load_run_file(folder / "run.toml")
    assert config.city.graphml == folder / "city.graphml"
    assert config.output.folder == folder / "out" / "run"
    absolute = tmp_path / "elsewhere"
    (folder / "abs.toml").write_text(f'[output]\nfolder = "{absolute.as_posix()}"\n')
    assert load_run_file(folder / "abs.toml").output.folder == absolute


def test_the_command_line_writes_where_the_run_file_says(tmp_path, monkeypatch, capsys):
    from waste_harmony.cli import main

    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "run.toml").write_text(
        'citizens = 100\ndays = 3\nseed = 1\n[city]\ngenerator = "grid"\nrows = 3\ncols = 3\n'
        '[output]\nfolder = "out"\nfigures = false\n'
    )
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(folder / "run.toml"), "--quiet"]) == 0
    assert (folder / "out" / "manifest.json").exists()
    assert not (tmp_path / "out").exists()


def test_an_unknown_city_key_lists_every_valid_key():
    with pytest.raises(ConfigError) as info:
        parse_run_config({"city": {"rows": 5}})
    message = str(info.value)
    assert info.value.key == "city.rows"
    assert "'rows' is an option of generator = 'grid'" in message
    for key in ("graphml", "file", "osm", "generator", "cols", "n_nodes", "seed"):
        assert key in message, key


def test_every_mistake_in_a_run_file_is_reported_at_once():
    data = {
        "citizen": 100,
        "days": 0,
        "parameters": {"mobilty": 0.1, "waste_per_capita_kg": -1.0},
        "scenarios": {"techcor": {}, "harmony-festival": {"festival_dya": 3}},
        "output": {"fodler": "x"},
    }
    with pytest.raises(ConfigError) as info:
        parse_run_config(data)
    keys = [p.key for p in info.value.problems]
    assert keys == [
        "citizen",
        "days",
        "parameters.mobilty",
        "parameters.waste_per_capita_kg",
        "scenarios.techcor",
        "scenarios.harmony-festival.festival_dya",
        "output.fodler",
    ]
    assert str(info.value).startswith("7 problems: ")
    # a single mistake keeps its one-line message
    with pytest.raises(ConfigError, match=r"^citizen: unknown key; did you mean 'citizens'\?$"):
        parse_run_config({"citizen": 1})


# ---------------------------------------------------------------- the run summary
def test_summary_shows_start_final_and_peak_with_its_day():
    import pandas as pd

    from waste_harmony.cli import summary_table

    # a protest wave that is over by the end: sampling days 1, 183 and 365 would show 0
    share = [0.0] * 365
    share[199] = 0.055
    frame = pd.DataFrame(
        {"protest_share": share, "mean_concern": [0.3] * 365, "facility_status": ["none"] * 365},
        index=pd.Index(range(1, 366), name="day"),
    )
    lines = summary_table(frame, variables=["protest_share", "facility_status"]).splitlines()
    header = ["start", "(day", "1)", "final", "(day", "365)", "peak", "peak", "day"]
    assert lines[0].split() == header
    assert lines[1].split() == ["protest_share", "0.000", "0.000", "0.055", "200"]
    assert lines[2].split() == ["facility_status", "none", "none"]


def test_the_command_line_summary_has_the_peak(tmp_path, capsys):
    from waste_harmony.cli import main

    out = tmp_path / "run"
    args = ["run", "--citizens", "200", "--days", "5", "--seed", "1", "--out", str(out)]
    assert main([*args, "--quiet", "--no-figures"]) == 0
    stdout = capsys.readouterr().out
    assert "peak day" in stdout and "final (day 5)" in stdout
