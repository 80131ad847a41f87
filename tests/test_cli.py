"""The waste-harmony command: in-process through main(), and once as the console script."""

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

import waste_harmony.results as results_module
from waste_harmony import CityModel
from waste_harmony.cli import main
from waste_harmony.results import RunResult
from waste_harmony.scenarios import Scenario, register
from waste_harmony.scenarios.registry import _BUILTIN


@dataclass
class PaintDay(Scenario):
    name = "paint-day"
    description = "Citizens paint murals from waste on one day (test scenario)."
    day: int = 4
    reuse_share: float = 0.25

    def validate(self, model):
        if not 0 <= self.reuse_share <= 1:
            raise ValueError(f"reuse_share must be in [0, 1], got {self.reuse_share}")

    def setup(self, model):
        self.schedule(self.paint, day=self.day)

    def paint(self):
        self.model.reuse_waste(self.model.neighborhoods.waste_stock_kg * self.reuse_share)
        self.log("festival_murals")


@pytest.fixture
def paint_day():
    register(PaintDay)
    yield PaintDay
    _BUILTIN.pop(PaintDay.name, None)


SMALL = ["--days", "12", "--citizens", "300", "--seed", "4", "--quiet", "--no-figures"]


def run_ok(capsys, *args):
    code = main(["run", *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out, err


def fails_with_one_line(capsys, argv, *fragments):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


def test_run_writes_series_events_manifest_and_figures(tmp_path, capsys, paint_day):
    out = tmp_path / "results"
    stdout, _ = run_ok(capsys, "--scenario", "paint-day", *SMALL[:-1], "--out", str(out))
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "city.graphml",
        "events.parquet",
        "manifest.json",
        "map.png",
        "model.parquet",
        "neighborhoods.parquet",
        "overview.png",
    ]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 4 and manifest["days"] == 12 and manifest["n_citizens"] == 300
    assert [s["name"] for s in manifest["scenarios"]] == ["paint-day"]
    assert manifest["scenarios"][0]["parameters"] == {"day": 4, "reuse_share": 0.25}
    assert {"waste_harmony", "mesa", "numpy", "python"} <= set(manifest["versions"])
    assert manifest["wall_time_s"] > 0
    assert manifest["parameters"]["waste_per_capita_kg"] == 0.74
    assert manifest["run"]["scenarios"] == {"paint-day": {}}
    events = pd.read_parquet(out / "events.parquet")
    assert events["kind"].tolist() == ["festival_murals"]
    # the summary table names the variables and the days
    assert "mean_concern" in stdout and "recycling_rate" in stdout
    assert "facility status at the end: none" in stdout


def test_run_from_the_command_line_equals_the_same_run_in_python(tmp_path, capsys, paint_day):
    out = tmp_path / "cli"
    run_ok(capsys, "--scenario", "paint-day", *SMALL, "--out", str(out))
    model = CityModel(n_citizens=300, scenarios=[PaintDay()], rng=4)
    model.run_for(12)
    saved = pd.read_parquet(out / "model.parquet")
    pd.testing.assert_frame_equal(saved, RunResult.from_model(model).model_frame)
    series = saved.drop(columns=["run_id", "point", "replicate", "seed"]).set_index("day")
    pd.testing.assert_frame_equal(series, model.model_frame(), check_dtype=False)


def test_run_file_with_flag_overrides(tmp_path, capsys, paint_day):
    runfile = tmp_path / "mini.toml"
    runfile.write_text(
        "seed = 11\ndays = 30\ncitizens = 200\n"
        '[city]\ngenerator = "grid"\nrows = 4\ncols = 5\n'
        "[parameters]\nconcern_confidence = 0.3\n"
        "[scenarios.paint-day]\nday = 2\n"
        '[output]\nfolder = "ignored-because-of-out"\nfigures = false\n'
    )
    out = tmp_path / "from-file"
    run_ok(
        capsys, str(runfile), "--days", "5", "--param", "bass_q=0.5", "--out", str(out), "--quiet"
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["days"] == 5 and manifest["seed"] == 11 and manifest["n_citizens"] == 200
    assert manifest["city"]["n_nodes"] == 20
    assert manifest["parameters"]["concern_confidence"] == 0.3
    assert manifest["parameters"]["bass_q"] == 0.5
    assert manifest["scenarios"][0]["parameters"]["day"] == 2
    assert manifest["run_file"] == str(runfile)
    assert not list(out.glob("*.png"))  # [output] figures = false
    assert not (tmp_path / "ignored-because-of-out").exists()


def test_a_seed_is_drawn_and_recorded_when_none_is_given(tmp_path, capsys):
    out = tmp_path / "r"
    run_ok(capsys, "--days", "2", "--citizens", "50", "--quiet", "--no-figures", "--out", str(out))
    seed = json.loads((out / "manifest.json").read_text())["seed"]
    assert isinstance(seed, int)


def test_refuses_a_non_empty_folder_without_force_and_keeps_its_files(tmp_path, capsys):
    out = tmp_path / "busy"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    fails_with_one_line(capsys, ["run", *SMALL, "--out", str(out)], "not empty", "--force")
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    assert (out / "notes.txt").read_text() == "keep me"
    # --force replaces only what waste-harmony wrote: the user's file is named and kept
    fails_with_one_line(
        capsys, ["run", *SMALL, "--out", str(out), "--force"], "did not write: notes.txt"
    )
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_a_crash_while_saving_leaves_no_complete_looking_folder(tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    run_ok(capsys, *SMALL, "--out", str(out))
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    real = results_module.write_table

    def crash_on_events(path, table):
        if path.name == "events.parquet":
            raise RuntimeError("a defect while writing (simulated)")
        real(path, table)

    monkeypatch.setattr(results_module, "write_table", crash_on_events)
    # not the user's mistake: a traceback and exit status 1 (cli.main's error boundary)
    assert (
        main(
            [
                "run",
                "--days",
                "3",
                "--citizens",
                "100",
                "--seed",
                "9",
                "--quiet",
                "--out",
                str(out),
                "--force",
            ]
        )
        == 1
    )
    assert "simulated" in capsys.readouterr().err
    # the earlier complete result is intact, byte for byte, and no staging is left behind
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
    fresh = tmp_path / "fresh"
    assert main(["run", *SMALL, "--out", str(fresh)]) == 1
    assert not (fresh / "manifest.json").exists()
    assert not fresh.exists() or not list(fresh.iterdir())


def test_bad_run_file_unknown_scenario_and_bad_values_exit_2_in_one_line(
    tmp_path, capsys, paint_day
):
    bad = tmp_path / "bad.toml"
    bad.write_text("days = 10\n[scenarios.paint-day]\nreuse_shar = 0.5\n")
    fails_with_one_line(
        capsys, ["run", str(bad)], "scenarios.paint-day.reuse_shar", "did you mean 'reuse_share'"
    )
    broken = tmp_path / "broken.toml"
    broken.write_text("days = = 3\n")
    fails_with_one_line(capsys, ["run", str(broken)], "not valid TOML")
    fails_with_one_line(capsys, ["run", str(tmp_path / "missing.toml")], "run file not found")
    fails_with_one_line(
        capsys,
        ["run", "--scenario", "paint-dai", *SMALL],
        "scenarios.paint-dai",
        "did you mean 'paint-day'",
    )
    fails_with_one_line(capsys, ["run", "--days", "0"], "days", "must be >= 1")
    fails_with_one_line(capsys, ["run", "--days", "abc"], "--days", "invalid int value")
    fails_with_one_line(
        capsys,
        ["run", "--param", "concern_confidence=7", *SMALL],
        "parameters.concern_confidence",
        "out of range",
    )
    fails_with_one_line(
        capsys,
        ["run", "--param", "concern_confidense=0.2", *SMALL],
        "did you mean 'concern_confidence'",
    )
    fails_with_one_line(capsys, ["run", "--param", "oops", *SMALL], "NAME=VALUE")
    fails_with_one_line(capsys, ["plot", str(tmp_path)], "manifest.json")


def test_debug_shows_the_traceback(tmp_path, capsys):
    code = main(["--debug", "run", str(tmp_path / "missing.toml")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" in err and err.strip().endswith("missing.toml")
    assert main(["run", str(tmp_path / "missing.toml"), "--debug"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_quiet_suppresses_the_progress_bar(tmp_path, capsys):
    args = ["--days", "3", "--citizens", "60", "--seed", "1", "--no-figures"]
    assert main(["run", *args, "--out", str(tmp_path / "b")]) == 0
    assert "simulating" in capsys.readouterr().err
    assert main(["run", *args, "--quiet", "--out", str(tmp_path / "c")]) == 0
    assert "simulating" not in capsys.readouterr().err


def test_plot_redraws_the_figures_from_saved_results(tmp_path, capsys):
    out = tmp_path / "run"
    run_ok(capsys, *SMALL, "--out", str(out))
    assert not list(out.glob("*.png"))  # --no-figures
    assert main(["plot", str(out)]) == 0
    assert (out / "overview.png").stat().st_size > 1000 and (out / "map.png").exists()
    figures = tmp_path / "figures"
    assert main(["plot", str(out), "--out", str(figures), "--format", "svg"]) == 0
    assert sorted(p.name for p in figures.iterdir()) == ["map.svg", "overview.svg"]
    assert "<svg" in (figures / "overview.svg").read_text()[:400]


def test_list_shows_scenarios_descriptions_and_parameters(capsys, paint_day):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if "paint-day" in line)
    assert "Citizens paint murals" in line
    assert "day: int = 4" in out and "reuse_share: float = 0.25" in out


def test_no_command_and_help_exit_codes(capsys):
    assert main([]) == 2
    assert "choose a command" in capsys.readouterr().err
    assert main(["--help"]) == 0
    assert "run" in capsys.readouterr().out


@pytest.mark.slow
def test_console_script_runs_and_fails_cleanly(tmp_path):
    script = Path(sys.executable).with_name("waste-harmony")
    assert script.exists(), "install the project (pip install -e .) to get the console script"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [
            str(script),
            "run",
            "--days",
            "3",
            "--citizens",
            "100",
            "--seed",
            "2",
            "--quiet",
            "--no-figures",
            "--out",
            str(tmp_path / "r"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "r" / "manifest.json").exists()
    assert "mean_concern" in done.stdout
    bad = subprocess.run(
        [str(script), "run", "--scenario", "no-such-scenario"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0 and "Traceback" not in bad.stderr
    assert "scenarios.no-such-scenario" in bad.stderr
    module = subprocess.run(
        [sys.executable, "-m", "waste_harmony", "list"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert module.returncode == 0


@pytest.fixture
def fake_commands(tmp_path, monkeypatch):
    """Two command modules in a throwaway package: one works, one lacks a dependency."""
    package = tmp_path / "whfake"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "cli.py").write_text(
        "DESCRIPTION = 'a fake command'\n"
        "def add_arguments(parser):\n"
        "    parser.add_argument('--times', type=int, default=1)\n"
        "def handle(args):\n"
        "    return 0 if args.times == 3 else 1\n"
    )
    (package / "broken.py").write_text("import no_such_dependency_for_waste_harmony\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(
        "waste_harmony.cli.command.COMMANDS",
        {"fake": ("whfake.cli", "a fake command"), "broken": ("whfake.broken", "broken")},
    )
    yield
    for name in ("whfake.cli", "whfake.broken", "whfake"):
        sys.modules.pop(name, None)


def test_commands_load_only_when_used(fake_commands, capsys):
    assert main(["--help"]) == 0
    listing = capsys.readouterr().out
    assert "fake" in listing and "a fake command" in listing
    assert "whfake.cli" not in sys.modules  # listed without importing it
    assert main(["fake", "--times", "3"]) == 0
    assert "whfake.cli" in sys.modules
    assert main(["fake"]) == 1  # the handler's exit code is passed on
    assert main(["fake", "--debug", "--times", "3"]) == 0  # every command takes --debug


def test_a_command_missing_its_dependency_fails_in_one_line(fake_commands, capsys):
    assert main(["broken", "--anything"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no_such_dependency_for_waste_harmony" in err
    assert "pip install" in err


def test_viz_without_its_extra_says_how_to_install_it():
    code = (
        "import sys; sys.modules['solara'] = None\n"
        "from waste_harmony.cli import main\n"
        "sys.exit(main(['viz', '--port', '0']))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "pip install 'waste-harmony[viz]'" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("command", ["list", "run", "plot", "sweep", "calibrate", "viz"])
def test_every_command_takes_debug_after_its_name(command):
    from waste_harmony.cli import build_parser

    args = build_parser(load=[command]).parse_known_args([command, "--debug", "x"])[0]
    assert args.debug is True


def test_plot_without_neighbourhood_series_draws_the_overview_only(tmp_path, capsys):
    from waste_harmony.results import RunResult

    model = CityModel(n_citizens=100, rng=3, record_neighborhoods=False)
    model.run_for(4)
    folder = RunResult.from_model(model).save(tmp_path / "lean")
    assert main(["plot", str(folder)]) == 0
    assert sorted(p.name for p in folder.glob("*.png")) == ["overview.png"]
