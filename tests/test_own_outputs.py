"""A study's own recorded variables: given per model, recorded from day 0, everywhere.

Issue 19, item 1: adding to ``model.datacollector.model_reporters`` ended in Mesa's
``KeyError`` after the next day, replacing the collector in a length mismatch, and
``CityModel(model_reporters=...)`` was an unknown keyword. Each stumble has a test here.
"""

import pickle
import textwrap

import numpy as np
import pandas as pd
import pytest

from waste_harmony import CityModel, OutputVariable, reporter
from waste_harmony.cli import main
from waste_harmony.config import ConfigError, load_run_file
from waste_harmony.config.calibration import load_calibration_file
from waste_harmony.results import RunResult
from waste_harmony.schema import model_tables


@reporter("share, [0, 1]", "citizens with concern > 0.6", summary=True, mean_over="citizens")
def high_concern_share(model):
    return float((model.citizens.concern > 0.6).mean())


@reporter("share, [0, 1]")
def high_concern_by_node(model):
    """Share of each node's residents with concern above 0.6."""
    return model.homes.means(model.citizens.concern > 0.6)


def wrong_shape(model):
    return np.zeros(3)


def unitless(model):
    return 1.0


OWN = {"high_concern_share": high_concern_share}
OWN_NODES = {"high_concern": high_concern_by_node}


def _model(**kwargs):
    return CityModel(
        n_citizens=300,
        rng=3,
        model_reporters=OWN,
        neighborhood_reporters=OWN_NODES,
        **kwargs,
    )


def test_own_outputs_are_recorded_from_day_0_like_the_built_ins():
    model = _model()
    model.run_for(4)
    frame = model.model_frame()
    assert list(frame.columns[-1:]) == ["high_concern_share"]
    expected = float((model.citizens.concern > 0.6).mean())
    assert frame["high_concern_share"].iloc[-1] == expected
    assert frame.index.tolist() == [0, 1, 2, 3, 4]
    nodes = model.neighborhood_frame()
    last = nodes[nodes["day"] == 4]["high_concern"].to_numpy()
    np.testing.assert_array_equal(last, model.homes.means(model.citizens.concern > 0.6))
    assert [o.name for o in model.own_reporters["model_reporters"]] == ["high_concern_share"]
    assert model.outputs[-1].unit == "share, [0, 1]"
    assert model.neighborhood_outputs[-1].meaning.startswith("Share of each node")


def test_own_outputs_reach_the_schema_tables_and_files(tmp_path):
    model = _model()
    model.run_for(2)
    tables = model_tables(model)
    assert "high_concern_share" in tables["model"].column_names
    assert "high_concern" in tables["neighborhoods"].column_names
    result = RunResult.from_model(model)
    result.save(tmp_path / "run")
    loaded = RunResult.load(tmp_path / "run")
    assert loaded.model_frame["high_concern_share"].tolist() == (
        model.model_frame()["high_concern_share"].tolist()
    )
    again = loaded.rerun()  # the manifest names the functions
    assert again.model_frame.equals(loaded.model_frame)


@pytest.mark.parametrize("how", ["copy", "pickle"])
def test_copies_and_pickles_keep_own_outputs(how):
    model = _model()
    model.run_for(3)
    twin = model.copy() if how == "copy" else pickle.loads(pickle.dumps(model))
    model.run_for(3)
    twin.run_for(3)
    pd.testing.assert_frame_equal(model.model_frame(), twin.model_frame())
    pd.testing.assert_frame_equal(model.neighborhood_frame(), twin.neighborhood_frame())
    with pytest.raises(TypeError, match="model_reporters="):
        twin.datacollector.model_reporters["late"] = high_concern_share


def test_mesa_habit_of_adding_a_reporter_is_refused_at_once_with_the_way():
    model = CityModel(n_citizens=50, rng=1)
    with pytest.raises(TypeError, match=r"CityModel\(model_reporters=\{'high_concern_share'"):
        model.datacollector.model_reporters["high_concern_share"] = high_concern_share
    with pytest.raises(TypeError, match="neighborhood_reporters="):
        model.datacollector.agent_reporters["concern"] = "concern"
    with pytest.raises(TypeError, match="model_reporters="):
        model.datacollector.model_reporters.update(x=high_concern_share)
    model.run_for(2)  # nothing half-added: the model runs on
    assert len(model.model_frame()) == 3


def test_replacing_the_datacollector_is_refused_with_the_way():
    import mesa

    model = CityModel(n_citizens=50, rng=1)
    with pytest.raises(AttributeError, match=r"model_reporters=\{'high': \.\.\.\}"):
        model.datacollector = mesa.DataCollector(model_reporters={"high": high_concern_share})

    class Study(CityModel):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.datacollector = mesa.DataCollector(model_reporters={"high": "mean_concern"})

    with pytest.raises(AttributeError, match="super"):
        Study(n_citizens=50, rng=1)


def test_bad_own_outputs_are_refused_naming_the_fix():
    with pytest.raises(TypeError, match="@waste_harmony.reporter"):
        CityModel(n_citizens=20, rng=1, model_reporters={"one": unitless})
    with pytest.raises(ValueError, match="built-in output"):
        CityModel(n_citizens=20, rng=1, model_reporters={"mean_concern": high_concern_share})
    with pytest.raises(ValueError, match="every results table"):
        CityModel(n_citizens=20, rng=1, model_reporters={"seed": high_concern_share})
    with pytest.raises(ValueError, match="model parameter"):
        CityModel(n_citizens=20, rng=1, model_reporters={"mobility": high_concern_share})
    with pytest.raises(TypeError, match="give the function itself"):
        CityModel(n_citizens=20, rng=1, model_reporters={"x": "mean_concern"})
    shaped = OutputVariable("bad", "share", "wrong shape", wrong_shape)
    with pytest.raises(ValueError, match=r"'bad' gave shape \(3,\) on day 0"):
        CityModel(n_citizens=20, rng=1, neighborhood_reporters=[shaped])
    with pytest.raises(ValueError, match="record_neighborhoods=True"):
        CityModel(
            n_citizens=20, rng=1, record_neighborhoods=False, neighborhood_reporters=OWN_NODES
        )


STUDY = """
from waste_harmony import reporter


@reporter("share, [0, 1]", "citizens with concern > 0.6", summary=True, mean_over="citizens")
def high_concern_share(model):
    return float((model.citizens.concern > 0.6).mean())


@reporter("share, [0, 1]", "share of residents with concern above 0.6")
def high_concern_by_node(model):
    return model.homes.means(model.citizens.concern > 0.6)
"""

RUNFILE = """
days = 3
citizens = 120
seed = 4

[city]
generator = "grid"
rows = 3
cols = 3

[model_reporters]
high_concern_share = "study.py:high_concern_share"

[neighborhood_reporters]
high_concern = "study.py:high_concern_by_node"
"""


def _files(tmp_path, runfile=RUNFILE):
    (tmp_path / "study.py").write_text(STUDY)
    path = tmp_path / "run.toml"
    path.write_text(textwrap.dedent(runfile))
    return path


def test_run_files_name_own_reporters_and_the_command_shows_them(tmp_path, capsys):
    path = _files(tmp_path)
    config = load_run_file(path)
    assert config.model_reporters == {
        "high_concern_share": f"{tmp_path / 'study.py'}:high_concern_share"
    }
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "high_concern_share" in printed  # summary=True: in the command's summary
    saved = RunResult.load(tmp_path / "out")
    assert "high_concern" in saved.neighborhood_frame.columns
    bad = _files(tmp_path, RUNFILE.replace("study.py:high_concern_share", "study.py:nope"))
    with pytest.raises(ConfigError, match=r"model_reporters.high_concern_share: .*no 'nope'"):
        load_run_file(bad)
    bad = _files(tmp_path, RUNFILE.replace("high_concern_share =", "mean_concern ="))
    with pytest.raises(ConfigError, match="built-in output"):
        load_run_file(bad)


@pytest.mark.slow
def test_experiments_from_a_run_file_carry_own_outputs_to_workers(tmp_path):
    from waste_harmony import experiments

    config = load_run_file(_files(tmp_path))
    result = experiments.ensemble(
        model=config, seeds=2, root_seed=1, days=3, workers=2, progress=False
    )
    frame = result.load(["high_concern_share"])
    assert frame["high_concern_share"].notna().all() and len(frame) == 2 * 4
    comparison = experiments.compare(
        {},
        {"concern_confidence": 0.5},
        model=config,
        seeds=2,
        days=3,
        root_seed=1,
        executor="serial",
        progress=False,
    )
    assert "high_concern_share" in set(comparison.summary()["variable"])


# ABC-SMC: a few runs are enough to check the plumbing (abc-reg's table needs 20 or more)
CALIBRATION = """
[calibration]
method = "abc-smc"
observed = "observed.csv"
budget = 8
population = 4

[calibration.priors]
concern_confidence = [0.1, 0.4]
"""


def test_calibration_files_may_observe_own_outputs(tmp_path):
    _files(tmp_path)
    pd.DataFrame({"day": [3], "variable": ["high_concern_share"], "value": [0.1]}).to_csv(
        tmp_path / "observed.csv", index=False
    )
    calib = tmp_path / "calib.toml"
    extra = CALIBRATION
    calib.write_text(textwrap.dedent(RUNFILE) + extra)
    assert load_calibration_file(calib).observed["variable"].tolist() == ["high_concern_share"]
    calib.write_text(textwrap.dedent(RUNFILE).replace("[model_reporters]", "[unused]") + extra)
    with pytest.raises(ConfigError):
        load_calibration_file(calib)


def test_the_viewer_draws_own_outputs():
    from waste_harmony.viz.figures import SeriesView, series_figure

    model = _model()
    model.run_for(2)
    view = SeriesView(outputs=model.outputs).update(model)
    assert view.names[-1] == "high_concern_share"
    titles = [ax.get_title() for ax in series_figure(model).axes]
    assert "high concern share (share, [0, 1])" in titles


SWEEP = """
[sweep]
seeds = 2

[sweep.grid]
concern_confidence = [0.2, 0.5]
"""


def test_the_sweep_and_compare_commands_show_own_outputs(tmp_path, capsys):
    path = _files(tmp_path)
    (tmp_path / "sweep.toml").write_text(textwrap.dedent(RUNFILE) + SWEEP)
    out = str(tmp_path / "sw")
    argv = ["sweep", str(tmp_path / "sweep.toml"), "--workers", "1", "--out", out]
    assert main([*argv, "--quiet"]) == 0
    table = capsys.readouterr().out
    assert "high_concern_share" in table.split("last day")[1]  # the sweep's summary table
    variant = tmp_path / "variant.toml"
    variant.write_text(
        path.read_text().replace("seed = 4", "seed = 4\n[parameters]\nconcern_confidence = 0.6")
    )
    argv = ["compare", str(path), str(variant), "--seeds", "2", "--workers", "1"]
    assert main([*argv, "--out", str(tmp_path / "cmp"), "--quiet"]) == 0
    summary = pd.read_csv(tmp_path / "cmp" / "summary.csv")
    assert "high_concern_share" in set(summary["variable"])
    assert "high_concern_share" in capsys.readouterr().out


@pytest.mark.slow
def test_a_calibration_observes_an_own_output_and_its_folder_predicts_it(tmp_path, capsys):
    from waste_harmony.experiments import load_calibration

    _files(tmp_path)
    pd.DataFrame({"day": [3], "variable": ["high_concern_share"], "value": [0.1]}).to_csv(
        tmp_path / "observed.csv", index=False
    )
    extra = CALIBRATION
    (tmp_path / "calib.toml").write_text(textwrap.dedent(RUNFILE) + extra)
    argv = ["calibrate", str(tmp_path / "calib.toml"), "--workers", "1", "--quiet"]
    assert main([*argv, "--out", str(tmp_path / "cal")]) == 0
    predicted = load_calibration(tmp_path / "cal").predictive(2, progress=False)
    assert "high_concern_share" in set(predicted["variable"])


def test_mesa_habit_of_collecting_in_init_and_step_is_refused_with_the_way():
    # Before: collect() in __init__ failed inside Mesa ("references non-existent
    # attribute 'mean_concern'"); in step it would have recorded a day twice.
    class Collecting(CityModel):
        def step(self):
            super().step()
            self.datacollector.collect(self)

    model = Collecting(n_citizens=50, rng=1)
    with pytest.raises(RuntimeError, match="records each day itself") as refused:
        model.step()
    assert "model_reporters=" in str(refused.value)
    assert len(model.datacollector.model_vars["mean_concern"]) == 1  # day 0 only
