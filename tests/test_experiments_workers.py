"""A worker process that dies costs only its own run; resume cleans what a killed writer left."""

import json
import os
import sys
from pathlib import Path

import pytest

from waste_harmony import experiments as ex
from waste_harmony.experiments.executors import death_cause
from waste_harmony.experiments.resume import remove_stale_temp_files

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
