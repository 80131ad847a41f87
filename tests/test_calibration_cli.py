"""``waste-harmony calibrate calib.toml``: a calibration file from the command line."""

import textwrap

import pandas as pd
import pytest

from waste_harmony.cli import main
from waste_harmony.config import ConfigError
from waste_harmony.config.calibration import load_calibration_file
from waste_harmony.experiments import load_calibration

CALIBFILE = """
days = 4
citizens = 30
seed = 5

[calibration]
observed = "data/observed.csv"
budget = 20
population = 8
seed = 2

[calibration.priors]
recycling_weight_concern = [0.0, 8.0]
concern_convergence = { distribution = "beta", args = [2, 5], kwds = { scale = 0.5 } }
"""


def _write(tmp_path, text=CALIBFILE):
    (tmp_path / "data").mkdir(exist_ok=True)
    pd.DataFrame(
        {"day": [2, 4], "variable": ["mean_concern", "recycling_rate"], "value": [0.45, 0.2]}
    ).to_csv(tmp_path / "data" / "observed.csv", index=False)
    path = tmp_path / "calib.toml"
    path.write_text(textwrap.dedent(text))
    return path


def test_file_is_validated_with_key_paths(tmp_path):
    config = load_calibration_file(_write(tmp_path))
    assert list(config.priors) == ["recycling_weight_concern", "concern_convergence"]
    assert config.budget == 20 and config.population == 8 and config.seed == 2
    assert list(config.observed["day"]) == [2, 4]
    bad = {
        "recycling_weight_concren = [0.0, 8.0]": "calibration.priors.recycling_weight_concren",
        "mobility = [0.5, 0.1]": "low < high",
        'mobility = { distribution = "nope" }': "distribution",
    }
    for line, message in bad.items():
        path = _write(tmp_path, CALIBFILE + line + "\n")
        with pytest.raises(ConfigError, match=message):
            load_calibration_file(path)
    path = _write(tmp_path, CALIBFILE.replace("data/observed.csv", "missing.csv"))
    with pytest.raises(ConfigError, match="calibration.observed"):
        load_calibration_file(path)


def test_calibrate_command_runs_and_resumes(tmp_path, capsys):
    path = _write(tmp_path)
    out = tmp_path / "cal"
    assert main(["calibrate", str(path), "--workers", "1", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "recycling_weight_concern" in printed and "90% interval" in printed
    first = load_calibration(out)
    assert first.manifest["seed"] == 2 and first.manifest["budget"] == 20
    # a second run refuses to overwrite, in one line
    assert main(["calibrate", str(path), "--workers", "1", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "--resume" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    # as if interrupted: resume reuses the finished batches and gives the same posterior
    (out / "particles.parquet").unlink()
    argv = ["calibrate", str(path), "--workers", "1", "--out", str(out), "--quiet", "--resume"]
    assert main(argv) == 0
    pd.testing.assert_frame_equal(load_calibration(out).posterior, first.posterior)


def test_bad_file_exits_2_in_one_line(tmp_path, capsys):
    path = _write(tmp_path, CALIBFILE.replace("budget = 20", "budget = 3"))
    assert main(["calibrate", str(path), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "calibration.budget" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()


def test_a_loaded_calibration_predicts_with_the_calibrated_model(tmp_path):
    # Issue 19, item 5: after `waste-harmony calibrate` (30 citizens here) the loaded
    # folder's predictive() simulated the default 10,000-citizen model.
    path = _write(tmp_path)
    out = tmp_path / "calib-out"
    assert main(["calibrate", str(path), "--workers", "1", "--out", str(out), "--quiet"]) == 0
    loaded = load_calibration(out)
    assert loaded.manifest["run"]["citizens"] == 30
    # issue 19, item 6: the command writes the posterior's figures
    assert (out / "posterior.png").stat().st_size > 5_000 and (out / "pairs.png").exists()
    runs = tmp_path / "predictive"
    bands = loaded.predictive(4, executor="serial", progress=False, out=runs)
    assert set(bands["variable"]) == {"mean_concern", "recycling_rate"}
    from waste_harmony import load_results

    predicted = load_results(runs)
    assert {predicted.run(r).manifest["n_citizens"] for r in predicted.run_ids()} == {30}


def test_a_loaded_calibration_refuses_to_guess_what_it_could_not_store(tmp_path):
    from waste_harmony.city import grid_city
    from waste_harmony.experiments import calibrate

    observed = pd.DataFrame({"day": [2], "variable": ["mean_concern"], "value": [0.45]})
    calibrate(
        priors={"concern_confidence": (0.1, 0.4)},
        observed=observed,
        days=2,
        n_citizens=30,
        city=grid_city(3, 3),
        budget=8,
        population_size=4,
        executor="serial",
        progress=False,
        out=tmp_path / "c",
    )
    loaded = load_calibration(tmp_path / "c")
    with pytest.raises(ValueError, match="city"):
        loaded.predictive(2, executor="serial", progress=False)
    bands = loaded.predictive(2, executor="serial", progress=False, city=grid_city(3, 3))
    assert not bands.empty


def test_calibrate_shows_one_progress_bar(tmp_path, capsys):
    # Issue 19, item 6: one progress bar per batch of particles before.
    path = _write(tmp_path)
    assert main(["calibrate", str(path), "--workers", "1", "--out", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err.replace("\r", "\n")
    bars = {line.split(":")[0] for line in err.splitlines() if "%|" in line}
    assert bars == {"calibrate"}


def test_calibrate_force_replaces_its_own_figures(tmp_path, capsys):
    # The figures calibrate draws are the library's files: --force replaces them
    # (after the storage rules, they were "files waste-harmony did not write").
    path = _write(tmp_path)
    argv = ["calibrate", str(path), "--workers", "1", "--out", str(tmp_path / "cal"), "--quiet"]
    assert main(argv) == 0
    assert (tmp_path / "cal" / "posterior.png").exists()
    assert main([*argv, "--force"]) == 0, capsys.readouterr().err
    assert not [p for p in (tmp_path / "cal").iterdir() if p.name.endswith(".tmp")]
