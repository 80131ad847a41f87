"""Your own scenarios everywhere: code references, re-registration, day checks.

Each test reproduces a stumble of issue 12 (item 2): a scenario of one's own by
``module:Class`` / ``file.py:Class`` in Python, on the command line, in run and
sweep files; a notebook cell run twice; a bad start day.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from waste_harmony import CityModel
from waste_harmony.cli import main
from waste_harmony.config import ConfigError, load_run_file, parse_run_config
from waste_harmony.scenarios import Scenario, register, resolve, scenario_class
from waste_harmony.scenarios.registry import _BUILTIN

EXAMPLES = Path(__file__).parent.parent / "examples"
BAN = EXAMPLES / "plastic_ban.py"


def _write_scenario(folder: Path, name: str = "my_scen.py") -> Path:
    path = folder / name
    path.write_text(
        textwrap.dedent(
            """
            from dataclasses import dataclass
            from waste_harmony.scenarios import Scenario, parameter

            @dataclass
            class Drill(Scenario):
                name = "drill"
                description = "a drill"
                day: int = parameter(3, unit="day", low=1, doc="the day")

                def setup(self, model):
                    self.schedule(self.go, day=self.day)

                def go(self):
                    self.log("drill")
            """
        )
    )
    return path


def test_a_file_reference_resolves_to_the_class_and_runs(tmp_path):
    path = _write_scenario(tmp_path)
    cls = scenario_class(f"{path}:Drill")
    assert cls.name == "drill" and scenario_class(f"{path}:Drill") is cls  # loaded once
    model = CityModel(n_citizens=50, rng=1, scenarios=[f"{path}:Drill"])
    model.run_for(4)
    assert [e.day for e in model.events("drill")] == [3]
    relative = scenario_class("my_scen.py:Drill", base_dir=tmp_path)
    assert relative is cls


def test_a_module_reference_resolves(tmp_path, monkeypatch):
    _write_scenario(tmp_path, "drill_pkg_mod.py")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert resolve("drill_pkg_mod:Drill").name == "drill"
    builtin = scenario_class("waste_harmony.scenarios.festival:HarmonyFestival")
    assert builtin is scenario_class("harmony-festival")


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ("no_such_module_xyz:Ban", "cannot import 'no_such_module_xyz'"),
        ("missing/file.py:Ban", "no file"),
        ("waste_harmony.scenarios.festival:Nope", "has no 'Nope'.*HarmonyFestival"),
        (":Ban", "must look like"),
        ("plastic-bann", "unknown scenario.*path/to/file.py:Class"),
    ],
)
def test_bad_references_name_the_problem(spec, match):
    with pytest.raises(ValueError, match=match):
        scenario_class(spec)


def test_a_reference_to_something_else_is_refused():
    with pytest.raises(TypeError, match="not a Scenario subclass"):
        scenario_class("waste_harmony.model:CityModel")


def test_redefining_a_scenario_class_replaces_it_with_a_warning():
    # What re-running a notebook cell does: same module, same qualified name.
    def define():
        @dataclass
        class Rerun(Scenario):
            name = "test-rerun"
            description = "defined twice"

        return Rerun

    first = register(define())
    try:
        with pytest.warns(UserWarning, match="redefined.*replaces"):
            second = register(define())
        assert second is not first and _BUILTIN["test-rerun"] is second
    finally:
        _BUILTIN.pop("test-rerun", None)


def test_the_plastic_ban_runs_from_its_run_file():
    config = load_run_file(EXAMPLES / "runs" / "plastic_ban.toml")
    model = config.build_model(days=35, n_citizens=500)
    model.run_for(35)
    assert [e.day for e in model.events("plastic_ban")] == [30]
    frame = model.model_frame()
    before = frame.loc[1:29, "waste_generated_kg"].mean() / 500
    after = frame.loc[30:, "waste_generated_kg"].mean() / 500
    assert after == pytest.approx(before * 0.85, rel=0.03)
    assert model.params.waste_per_capita_kg == 0.74  # the run's parameters are kept


def test_run_file_reference_errors_name_the_key(tmp_path):
    data = {"scenarios": {"nowhere.py:Ban": {}}}
    with pytest.raises(ConfigError, match=r"scenarios\.nowhere\.py:Ban.*no file"):
        parse_run_config(data, base_dir=tmp_path)
    data = {"scenarios": {f"{BAN}:PlasticBan": {"start_dy": 3}}}
    with pytest.raises(ConfigError, match="start_day"):
        parse_run_config(data)


def test_command_line_accepts_a_file_reference(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write_scenario(tmp_path)
    argv = ["run", "--days", "4", "--citizens", "60", "--seed", "1", "--quiet", "--no-figures"]
    code = main([*argv, "--scenario", "my_scen.py:Drill", "--out", str(tmp_path / "o")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "drill" in out


def test_sweep_file_sweeps_a_parameter_of_a_referenced_scenario(tmp_path):
    from waste_harmony.config.sweep import load_sweep_file

    (tmp_path / "sweep.toml").write_text(
        f'days = 10\ncitizens = 100\n[scenarios."{BAN.as_posix()}:PlasticBan"]\n'
        "start_day = 3\n[sweep]\nseeds = 1\n[sweep.grid]\n"
        f'"scenarios.{BAN.as_posix()}:PlasticBan.cut" = [0.1, 0.5]\n'
    )
    sweep = load_sweep_file(tmp_path / "sweep.toml")
    assert len(sweep.points) == 2


def test_bad_start_days_get_our_errors():
    ban = scenario_class(f"{BAN}:PlasticBan")
    with pytest.raises(ValueError, match=r"start_day=400 is beyond the run \(days=365\)"):
        CityModel(n_citizens=50, rng=1, days=365, scenarios=[ban(start_day=400)])
    with pytest.raises(ValueError, match="'start_day' = -1 is out of range"):
        CityModel(n_citizens=50, rng=1, days=365, scenarios=[ban(start_day=-1)])

    @dataclass
    class Unchecked(Scenario):  # no parameter(), no check_day: schedule() still checks
        name = "test-unchecked"
        start_day: int = -1

        def setup(self, model):
            self.schedule(self.go, day=self.start_day)

        def go(self):
            pass

    with pytest.raises(ValueError, match="test-unchecked.*day=-1, which is in the past") as info:
        CityModel(n_citizens=50, rng=1, scenarios=[Unchecked()])
    assert "Cannot schedule" not in str(info.value)
