"""The shared reader of run, sweep and calibration files: one schema, one wording."""

from __future__ import annotations

import pandas as pd
import pytest

from waste_harmony.cli import main
from waste_harmony.config import ConfigError, load_run_file
from waste_harmony.config.calibration import load_calibration_file
from waste_harmony.config.reader import (
    Key,
    Reading,
    Table,
    flag,
    integer,
    interval,
    mapping,
    number,
    relative_path,
)
from waste_harmony.config.sweep import load_sweep_file

OUTPUT = Table(
    (
        Key("folder", relative_path(exists=False)),
        Key("figures", flag, default=True),
        Key("n", integer(minimum=1), missing="missing: e.g. n = 5"),
    ),
    like='[output] folder = "x"',
)


def test_a_table_checks_every_key_and_reports_every_problem(tmp_path):
    values = OUTPUT({"folder": "out", "n": 2}, "output", Reading(base_dir=tmp_path))
    assert values == {"folder": tmp_path / "out", "figures": True, "n": 2}
    with pytest.raises(ConfigError) as info:
        OUTPUT({"figure": True, "folder": 3}, "output", Reading())
    keys = [p.key for p in info.value.problems]
    assert keys == ["output.figure", "output.folder", "output.n"]
    assert str(info.value).startswith("3 problems: output.figure: unknown key; did you mean")
    with pytest.raises(ConfigError, match=r"^output: expected a table like \[output\]"):
        OUTPUT(["not", "a", "table"], "output", Reading())


def test_nested_tables_report_their_problems_one_by_one():
    outer = Table((Key("inner", OUTPUT, default={}), Key("seeds", integer(minimum=1))))
    with pytest.raises(ConfigError) as info:
        outer({"inner": {"n": 0}, "seeds": "3"}, "sweep", Reading())
    assert [p.key for p in info.value.problems] == ["sweep.inner.n", "sweep.seeds"]


@pytest.mark.parametrize(
    ("check", "value", "message"),
    [
        (integer(minimum=1), True, "expected an integer, got bool True"),
        (integer(minimum=1), 0, "must be >= 1, got 0"),
        (number(positive=True), "1", "expected a number, got str '1'"),
        (number(positive=True), float("inf"), "must be a finite number, got inf"),
        (number(positive=True), 0, "must be > 0, got 0"),
        (number(low=0.0, high=1.0), 2, "must be in [0.0, 1.0], got 2"),
        (flag, "yes", "expected true or false, got 'yes'"),
        (relative_path(), 7, "expected a path string, got int 7"),
        (relative_path(), "nowhere.csv", "file not found: nowhere.csv"),
        (interval(strict=True), [1, 1], "low = high in [1, 1]; expected [low, high] with low < h"),
        (interval(strict=False), [2, 1], "low > high in [2, 1]; expected [low, high] with low <="),
        (interval(strict=False), [1], "expected [low, high], got [1]"),
        (mapping("a = 1", empty=False), {}, "expected a table of a = 1"),
    ],
)
def test_checks_name_the_key_and_what_it_expects(check, value, message):
    with pytest.raises(ConfigError) as info:
        check(value, "table.key", Reading())
    assert info.value.key == "table.key"
    assert str(info.value).startswith(f"table.key: {message}")


# ------------------------------------------------------------- the same mistake, every file
RUN = 'days = 5\ncitizens = 50\n[city]\ngenerator = "grid"\nrows = 2\ncols = 2\n'
SWEEP = "[sweep]\nseeds = 2\n"
CALIBRATION = (
    '[calibration]\nobserved = "obs.csv"\nbudget = 20\nmethod = "abc-smc"\npopulation = 4\n'
    "[calibration.priors]\nbass_q = [0.1, 0.5]\n"
)
KINDS = {
    "run": ("", load_run_file),
    "sweep": (SWEEP, load_sweep_file),
    "calibration": (CALIBRATION, load_calibration_file),
}


def _file(tmp_path, kind, text):
    pd.DataFrame({"day": [2], "variable": ["mean_concern"], "value": [0.4]}).to_csv(
        tmp_path / "obs.csv", index=False
    )
    path = tmp_path / f"{kind}.toml"
    path.write_text(text + KINDS[kind][0])
    return path


MISTAKES = {
    "top-level key": ("citizen = 3\n" + RUN, "citizen", "unknown key; did you mean 'citizens'?"),
    "parameter": (
        RUN + "[parameters]\nmobilty = 0.2\n",
        "parameters.mobilty",
        "unknown parameter; did you mean 'mobility'?",
    ),
    "scenario parameter": (
        RUN + "[scenarios.techcore]\nanounce_day = 3\n",
        "scenarios.techcore.anounce_day",
        "unknown parameter; did you mean 'announce_day'?",
    ),
    "city file": (
        'days = 5\n[city]\ngraphml = "nowhere.graphml"\n',
        "city.graphml",
        "file not found: ",
    ),
    "output flag": (RUN + '[output]\nfigures = "no"\n', "output.figures", "expected true or false"),
    "days": (RUN.replace("days = 5", "days = 0"), "days", "must be >= 1, got 0"),
}


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_the_same_mistake_reads_the_same_in_every_kind_of_file(tmp_path, mistake):
    text, key, message = MISTAKES[mistake]
    said = {}
    for kind, (_, load) in KINDS.items():
        with pytest.raises(ConfigError) as info:
            load(_file(tmp_path, kind, text))
        (problem,) = [p for p in info.value.problems if p.key == key]
        said[kind] = str(problem).replace(str(tmp_path), "DIR")
    assert len(set(said.values())) == 1, said
    assert message in said["run"]


def test_an_unknown_parameter_reads_the_same_where_it_is_set_or_varied(tmp_path):
    fixed = "parameters.mobilty: unknown parameter; did you mean 'mobility'?"
    with pytest.raises(ConfigError, match=fixed):
        load_run_file(_file(tmp_path, "run", RUN + "[parameters]\nmobilty = 0.2\n"))
    swept = RUN + "[sweep]\n[sweep.grid]\nmobilty = [0.1]\n"
    with pytest.raises(ConfigError, match=fixed.replace("parameters.", "sweep.grid.")):
        load_sweep_file(tmp_path / _file(tmp_path, "run", swept).name)
    prior = _file(tmp_path, "calibration", RUN).read_text().replace("bass_q", "mobilty")
    (tmp_path / "prior.toml").write_text(prior)
    with pytest.raises(ConfigError, match=fixed.replace("parameters.", "calibration.priors.")):
        load_calibration_file(tmp_path / "prior.toml")


def test_a_misspelt_table_of_its_own_is_named(tmp_path):
    (tmp_path / "s.toml").write_text(RUN + "[sweeps]\nseeds = 2\n")
    with pytest.raises(ConfigError, match="sweeps: unknown key; did you mean 'sweep'?"):
        load_sweep_file(tmp_path / "s.toml")
    text = _file(tmp_path, "calibration", RUN).read_text().replace("[calibration]", "[calibraton]")
    (tmp_path / "c.toml").write_text(text)
    with pytest.raises(ConfigError, match="calibraton: unknown key; did you mean 'calibration'?"):
        load_calibration_file(tmp_path / "c.toml")


def test_sweep_and_calibration_files_report_every_mistake_at_once(tmp_path):
    bad_run = RUN.replace("days = 5", "days = 0")
    (tmp_path / "s.toml").write_text(bad_run + '[sweep]\nseeds = 0\ncommon_random_numbers = "y"\n')
    with pytest.raises(ConfigError) as info:
        load_sweep_file(tmp_path / "s.toml")
    assert [p.key for p in info.value.problems] == [
        "days",
        "sweep.seeds",
        "sweep.common_random_numbers",
    ]
    text = _file(tmp_path, "calibration", bad_run).read_text()
    text = text.replace("budget = 20", "budget = 0\nalpha = 3").replace("population = 4", "")
    (tmp_path / "c.toml").write_text(text.replace("bass_q = [0.1, 0.5]", "bass_q = [0.5, 0.1]"))
    with pytest.raises(ConfigError) as info:
        load_calibration_file(tmp_path / "c.toml")
    assert [p.key for p in info.value.problems] == [
        "days",
        "calibration.budget",
        "calibration.alpha",
    ]
    # once those are fixed, the priors and the settings that go together, all at once
    text = _file(tmp_path, "calibration", RUN).read_text().replace("budget = 20", "budget = 3")
    text = text.replace("bass_q = [0.1, 0.5]", "bass_q = [0.5, 0.1]\nmobilty = [0.1, 0.2]")
    (tmp_path / "c.toml").write_text(text)
    with pytest.raises(ConfigError) as info:
        load_calibration_file(tmp_path / "c.toml")
    assert [p.key for p in info.value.problems] == [
        "calibration.priors.bass_q",
        "calibration.priors.mobilty",
        "calibration.budget",
    ]


# ------------------------------------------------------------- the same option, every command
@pytest.mark.parametrize("command", ["sweep", "calibrate"])
def test_experiment_commands_word_their_shared_options_alike(tmp_path, capsys, command):
    kind = {"sweep": "sweep", "calibrate": "calibration"}[command]
    path = str(_file(tmp_path, kind, RUN))
    assert main([command, path, "--workers", "0"]) == 2
    assert f"waste-harmony {command}: error: argument --workers: must be a whole number >= 1, " in (
        capsys.readouterr().err
    )
    assert main([command, path, "--resume", "--force", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert (
        err == "waste-harmony: error: give --resume (continue) or --force (start again), not both\n"
    )
    assert main([command, path]) == 2
    assert "output.folder: no output folder: give --out DIR or set [output] folder" in (
        capsys.readouterr().err
    )
