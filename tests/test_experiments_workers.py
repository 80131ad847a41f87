"""A worker process that dies costs only its own run; resume cleans what a killed writer left."""

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from waste_harmony import experiments as ex
from waste_harmony.batch.executors import SharedProcessPool, death_cause
from waste_harmony.batch.resume import remove_stale_temp_files

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))  # so this module and spawned workers import the helpers

import experiment_helpers as helpers  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def workers_import_helpers():
    """Spawned workers must import tests/experiment_helpers.py."""
    with pytest.MonkeyPatch.context() as mp:
        old = os.environ.get("PYTHONPATH")
        mp.setenv("PYTHONPATH", str(TESTS) + (os.pathsep + old if old else ""))
        yield


def test_death_cause_names_exit_code_and_signal():
    assert death_cause(-9) == "worker process died (exit code -9 / signal SIGKILL)"
    assert death_cause(-11).endswith("signal SIGSEGV)")
    assert death_cause(1) == "worker process died (exit code 1)"
    assert "unknown" in death_cause(None)


@pytest.mark.slow
def test_a_shared_pool_is_replaced_after_a_worker_died():
    from concurrent.futures.process import BrokenProcessPool

    with SharedProcessPool(1) as shared:
        first = shared.executor()
        assert shared.executor() is first  # kept while it works
        with pytest.raises(BrokenProcessPool):
            first.submit(os._exit, 3).result()
        second = shared.executor()
        assert second is not first
        assert second.submit(pow, 2, 10).result() == 1024
    with pytest.raises(ValueError, match="workers must be a positive integer"):
        SharedProcessPool(0)


@pytest.mark.slow
def test_a_dying_worker_costs_only_its_own_run(tmp_path):
    points = [{"die": i == 1} for i in range(4)]
    kwargs = {
        "parameters": points,
        "days": 3,
        "root_seed": 5,
        "workers": 2,
        "progress": False,
        "out": tmp_path / "w",
        "n_citizens": 60,
    }
    result = ex.sweep(helpers.dying_model, **kwargs)
    assert result.n_finished == 3
    assert result.failed_ids() == ["p0001-r0000"]
    record = json.loads((tmp_path / "w" / "failures" / "p0001-r0000.json").read_text())
    assert "worker process died (exit code 1)" in record["error"]
    assert result.manifest["status"] == "complete with failures"
    # the saved runs equal the same runs made serially
    serial = ex.sweep(
        helpers.dying_model,
        **{
            **kwargs,
            "parameters": [p for p in points if not p["die"]],
            "executor": "serial",
            "out": None,
        },
    )
    assert serial.load("mean_concern")["mean_concern"].tolist() == (
        result.load("mean_concern").query("run_id != 'p0001-r0000'")["mean_concern"].tolist()
    )

    runs = tmp_path / "w" / "runs"
    kept = {p.name: (p / "model.parquet").stat().st_mtime_ns for p in runs.iterdir()}
    stale = runs / "p0000-r0000" / ".model.parquet.abc123.tmp"
    stale.write_bytes(b"half a file")
    again = ex.sweep(helpers.dying_model, resume=True, **kwargs)
    assert again.manifest["skipped_on_resume"] == 3
    assert again.failed_ids() == ["p0001-r0000"]  # it dies again, alone
    for name, mtime in kept.items():
        assert (runs / name / "model.parquet").stat().st_mtime_ns == mtime
    assert not stale.exists()


def test_resume_removes_stale_temporary_files(tmp_path):
    kwargs = {
        "parameters": {"n_citizens": [50, 60]},
        "days": 2,
        "root_seed": 1,
        "executor": "serial",
        "progress": False,
        "out": tmp_path / "t",
    }
    ex.sweep(helpers.small_model, **kwargs)
    folder = tmp_path / "t"
    left = [
        folder / "runs" / "p0001-r0000" / ".events.parquet.x1.tmp",
        folder / ".experiment.json.x2.tmp",
        folder / "runs" / "p0009-r0000" / ".model.parquet.x3.tmp",  # a killed run's folder
    ]
    for path in left:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("partial")
    again = ex.sweep(helpers.small_model, resume=True, **kwargs)
    assert again.n_finished == 2
    assert not any(p.exists() for p in left)
    assert list(folder.rglob("*.tmp")) == []
    assert remove_stale_temp_files(folder) == 0


# --- resume recognises the same experiment (its meaning, not its spelling) ------------


def test_reordered_keywords_resume_and_a_real_change_is_refused(tmp_path):
    common = {"days": 2, "root_seed": 3, "executor": "serial", "progress": False}
    out = tmp_path / "k"
    first = ex.sweep(
        helpers.small_model,
        parameters={"n_citizens": [40, 50], "side": [3]},
        out=out,
        pulse=True,
        pulse_boost=0.1,
        **common,
    )
    assert first.n_finished == 2
    again = ex.sweep(
        helpers.small_model,
        pulse_boost=np.float64(0.1),  # a NumPy scalar of the same value
        parameters={"side": (3,), "n_citizens": [40, 50]},  # grid keys in another order
        resume=True,
        pulse=True,
        out=str(out),  # the same folder, spelled as text
        **common,
    )
    assert again.manifest["skipped_on_resume"] == 2
    with pytest.raises(ValueError, match="different experiment"):
        ex.sweep(
            helpers.small_model,
            parameters={"n_citizens": [40, 50], "side": [3]},
            out=out,
            pulse=True,
            pulse_boost=0.2,
            resume=True,
            **common,
        )
    with pytest.raises(ValueError, match="different experiment"):
        ex.sweep(
            helpers.small_model,
            parameters={"n_citizens": [40, 51], "side": [3]},
            out=out,
            pulse=True,
            pulse_boost=0.1,
            resume=True,
            **common,
        )


SWEEPFILE = """\
days = 3
citizens = 50
seed = 3

[city]
graphml = "city.graphml"

[sweep]
seeds = 1

[sweep.grid]
waste_per_capita_kg = [0.5, 1.0]
"""


def test_sweep_file_by_relative_and_absolute_path_is_the_same_experiment(
    tmp_path, monkeypatch, capsys
):
    from waste_harmony.city import grid_city, save_city
    from waste_harmony.cli import main

    save_city(grid_city(3, 3, seed=1), tmp_path / "city.graphml")
    (tmp_path / "s.toml").write_text(SWEEPFILE)
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", "s.toml", "--workers", "1", "--out", "out", "--quiet"]) == 0
    absolute = str(tmp_path / "s.toml")
    out = str(tmp_path / "out")
    assert main(["sweep", absolute, "--workers", "1", "--out", out, "--quiet", "--resume"]) == 0
    assert "(2 skipped" in capsys.readouterr().out
    # a real change: another parameter value, or an edited city file
    (tmp_path / "s2.toml").write_text(SWEEPFILE.replace("[0.5, 1.0]", "[0.5, 2.0]"))
    assert main(["sweep", "s2.toml", "--workers", "1", "--out", "out", "--quiet", "--resume"]) == 2
    assert "different experiment" in capsys.readouterr().err
    save_city(grid_city(3, 3, seed=2), tmp_path / "city.graphml")
    assert main(["sweep", absolute, "--workers", "1", "--out", out, "--quiet", "--resume"]) == 2
    assert "different experiment" in capsys.readouterr().err


def test_defaults_and_whole_numbers_spelled_out_resume_the_same_experiment(tmp_path):
    from waste_harmony.city import grid_city

    city = grid_city(3, 3, seed=1)
    common = {"days": 2, "root_seed": 3, "executor": "serial", "progress": False}
    out = tmp_path / "d"
    grid = {"waste_per_capita_kg": [0.5, 1.0]}
    first = ex.sweep(parameters=grid, out=out, city=city, n_citizens=40, waste_cv=1, **common)
    assert first.n_finished == 2
    again = ex.sweep(
        parameters=grid,
        out=out,
        city=city,
        n_citizens=40,
        waste_cv=1.0,  # the same float parameter, written as a float
        scenarios=[],  # the default, spelled out
        mobility=0.3,  # a model parameter at its default
        record_neighborhoods=True,  # a keyword at its default
        resume=True,
        **common,
    )
    assert again.manifest["skipped_on_resume"] == 2
    with pytest.raises(ValueError, match="different experiment"):
        ex.sweep(
            parameters=grid,
            out=out,
            city=city,
            n_citizens=40,
            waste_cv=1,
            mobility=0.31,  # not the default: another experiment
            resume=True,
            **common,
        )


def test_chunk_must_be_a_positive_integer(tmp_path):
    from waste_harmony.batch.executors import execute_tasks

    with pytest.raises(ValueError, match="chunk must be a positive integer, got 0"):
        execute_tasks(iter([None]), n_tasks=1, folder=tmp_path, executor="serial", chunk=0)


@pytest.mark.slow
def test_runs_sent_in_chunks_give_the_same_table_and_a_death_costs_one_run(tmp_path, monkeypatch):
    """A reference table's runs go to the workers several per call (reftable.chunk_size).

    The statistics and seeds equal those of runs made one by one in this process; a
    worker that dies in the middle of a chunk sends the chunk to quarantine, where
    only the run that kills its worker fails.
    """
    import pandas as pd

    from waste_harmony.experiments import reftable
    from waste_harmony.experiments.observations import RunStatistics, check_observed

    monkeypatch.setattr(reftable, "chunk_size", lambda n_tasks: 3)
    stats = RunStatistics(
        check_observed(pd.DataFrame({"day": [2], "variable": ["mean_concern"], "value": [0.4]}))
    )
    die = np.zeros((8, 1))
    die[4] = 1.0  # the middle of the second chunk
    settings = {
        "names": ["die"],
        "statistics": stats,
        "n_statistics": 1,
        "days": 2,
        "fixed": {"n_citizens": 60},
        "seed": 5,
        "progress": False,
    }
    pool = reftable.simulate_table(
        helpers.dying_model, thetas=die, folder=tmp_path / "pool", workers=2, **settings
    )
    serial = reftable.simulate_table(
        helpers.dying_model,
        thetas=np.zeros((8, 1)),
        folder=tmp_path / "serial",
        executor="serial",
        **settings,
    )
    assert pool.failed == 1 and np.isnan(pool.statistics[4]).all()
    assert "worker process died (exit code 1)" in pool.errors[0]
    keep = np.arange(8) != 4
    np.testing.assert_array_equal(pool.statistics[keep], serial.statistics[keep])
    np.testing.assert_array_equal(pool.seeds, serial.seeds)
    timings = (tmp_path / "pool" / "timings.jsonl").read_text().splitlines()
    assert len(timings) == 8  # one line per run, as without chunks
