"""Runs, ensembles and sweeps: seeds, executors, streaming to disk, resume, failures."""

import json
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds
import pytest

from waste_harmony import experiments as ex
from waste_harmony.batch.plan import make_plan, plan_seeds
from waste_harmony.results import RunResult

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))  # so this module and spawned workers import the helpers

import experiment_helpers as helpers  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def workers_import_helpers():
    """Spawned workers (process pools, Dask) must import tests/experiment_helpers.py."""
    with pytest.MonkeyPatch.context() as mp:
        old = os.environ.get("PYTHONPATH")
        mp.setenv("PYTHONPATH", str(TESTS) + (os.pathsep + old if old else ""))
        yield


SWEEP = {
    "parameters": {"waste_per_capita_kg": [0.5, 0.9]},
    "seeds": 2,
    "days": 30,
    "root_seed": 11,
    "progress": False,
    "pulse": True,
}


def frames(result):
    return [
        result.to_pandas(kind).sort_values(["run_id", "day"], kind="stable").reset_index(drop=True)
        for kind in ("model", "neighborhoods", "events")
    ]


# ---------------------------------------------------------------- seeds and plans
def test_seeds_spawn_from_root_and_do_not_depend_on_the_number_of_runs():
    assert plan_seeds(3, 4) == plan_seeds(3, 10)[:4]
    assert plan_seeds(3, 4) != plan_seeds(4, 4)
    plan = make_plan([{"a": 1}, {"a": 2}], 3, root_seed=3)
    assert [r["seed"] for r in plan[:3]] == plan_seeds(3, 3)  # common random numbers
    assert [r["seed"] for r in plan[3:]] == plan_seeds(3, 3)
    independent = make_plan([{"a": 1}, {"a": 2}], 3, root_seed=3, common_random_numbers=False)
    assert len({r["seed"] for r in independent}) == 6


def test_run_returns_tidy_frames_and_a_manifest(tmp_path):
    result = ex.run(helpers.small_model, days=12, seed=5, out=tmp_path / "one", pulse=True)
    frame = result.model_frame
    assert list(frame.columns[:5]) == ["run_id", "point", "replicate", "seed", "day"]
    assert frame["day"].tolist() == list(range(13)) and set(frame["seed"]) == {5}
    assert result.manifest["seed"] == 5 and result.manifest["scenarios"][0]["name"] == "test-pulse"
    assert "waste_harmony" in result.manifest["versions"]
    again = RunResult.load(tmp_path / "one")
    pd.testing.assert_frame_equal(again.model_frame, frame)
    direct = helpers.small_model(rng=5, pulse=True)
    direct.run_for(12)
    assert frame["mean_concern"].tolist() == direct.model_frame()["mean_concern"].tolist()


# ---------------------------------------------------------------- executors
@pytest.mark.slow
def test_sweep_is_identical_serially_in_a_process_pool_and_on_dask(tmp_path, dask_client):
    serial = ex.sweep(helpers.small_model, executor="serial", out=tmp_path / "s", **SWEEP)
    pool = ex.sweep(helpers.small_model, workers=2, out=tmp_path / "p", **SWEEP)
    dask = ex.sweep(helpers.small_model, executor=dask_client, out=tmp_path / "d", **SWEEP)
    # a plain get_executor() (pure=True by default) must not merge runs either
    dask_executor = ex.sweep(
        helpers.small_model, executor=dask_client.get_executor(), out=tmp_path / "e", **SWEEP
    )
    expected = frames(serial)
    assert len(expected[0]) == 4 * 31 and expected[2]["kind"].eq("pulse").any()  # days 0-30
    for other in (pool, dask, dask_executor):
        assert other.n_finished == 4
        for got, want in zip(frames(other), expected, strict=True):
            pd.testing.assert_frame_equal(got, want)
    # the runs really executed in other processes
    for folder in ("p", "d"):
        workers = {
            json.loads((p / "manifest.json").read_text())["worker"]
            for p in (tmp_path / folder / "runs").iterdir()
        }
        assert workers and not any(w.endswith(f":{os.getpid()}") for w in workers)
    # replicate r shares its seed across points (common random numbers)
    runs = serial.runs()
    assert runs.groupby("replicate")["seed"].nunique().eq(1).all()


def test_user_managed_process_pool_is_used_and_left_open(tmp_path):
    import multiprocessing

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        result = ex.ensemble(
            helpers.small_model,
            seeds=2,
            days=5,
            root_seed=1,
            executor=pool,
            out=tmp_path / "x",
            progress=False,
        )
        assert result.n_finished == 2
        assert pool.submit(abs, -3).result() == 3  # still usable


def test_class_from_an_interactive_main_gets_a_clear_error(tmp_path):
    code = textwrap.dedent(f"""
        from waste_harmony import CityModel, experiments
        class MyModel(CityModel):
            pass
        try:
            experiments.ensemble(MyModel, seeds=2, days=2, n_citizens=20, progress=False,
                                 out={str(tmp_path / "nb")!r})
        except TypeError as exc:
            print(exc)
        r = experiments.ensemble(MyModel, seeds=2, days=2, n_citizens=20, progress=False,
                                 executor="serial", out={str(tmp_path / "ok")!r})
        print("serial", r.n_finished)
    """)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert "MyModel is defined in __main__" in done.stdout
    assert "Move it into a module" in done.stdout and "Dask" in done.stdout
    assert "serial 2" in done.stdout


def test_unpicklable_factory_gets_a_clear_error(tmp_path):
    def local_factory(**kwargs):
        return helpers.small_model(**kwargs)

    with pytest.raises(TypeError, match="cannot be sent to worker processes"):
        ex.ensemble(local_factory, seeds=2, days=2, out=tmp_path / "x", progress=False)


# ---------------------------------------------------------------- nothing lost
def test_resume_skips_finished_runs(tmp_path, monkeypatch):
    log = tmp_path / "builds.log"
    monkeypatch.setenv(helpers.BUILD_LOG_ENV, str(log))
    kwargs = {
        "parameters": {"n_citizens": [100, 200]},
        "seeds": 2,
        "days": 5,
        "root_seed": 2,
        "executor": "serial",
        "progress": False,
        "out": tmp_path / "sw",
    }
    first = ex.sweep(helpers.count_and_build, **kwargs)
    assert first.n_finished == 4 and len(log.read_text().splitlines()) == 4
    runs = tmp_path / "sw" / "runs"
    kept = {p.name: (p / "model.parquet").stat().st_mtime_ns for p in runs.iterdir()}
    lost = sorted(kept)[1]
    for file in (runs / lost).iterdir():  # as if the run never finished
        file.unlink()
    (runs / lost).rmdir()
    with pytest.raises(FileExistsError, match="resume=True"):
        ex.sweep(helpers.count_and_build, **kwargs)
    again = ex.sweep(helpers.count_and_build, resume=True, **kwargs)
    assert again.n_finished == 4
    assert len(log.read_text().splitlines()) == 5  # only the missing run was rebuilt
    for name, mtime in kept.items():
        if name != lost:
            assert (runs / name / "model.parquet").stat().st_mtime_ns == mtime
    assert again.manifest["skipped_on_resume"] == 3
    with pytest.raises(ValueError, match="different experiment"):
        ex.sweep(helpers.count_and_build, **{**kwargs, "days": 6}, resume=True)


def test_a_failing_run_is_recorded_and_the_others_complete(tmp_path):
    result = ex.sweep(
        helpers.failing_model,
        parameters=[{"fail": False}, {"fail": True}, {"fail": False}],
        days=5,
        root_seed=1,
        workers=2,
        out=tmp_path / "f",
        progress=False,
    )
    assert result.n_finished == 2 and result.n_failed == 1
    failure = result.failures().iloc[0]
    assert failure["run_id"] == "p0001-r0000"
    assert "RuntimeError: this run was told to fail" in failure["error"]
    assert "Traceback" in failure["traceback"] and "failing_model" in failure["traceback"]
    assert result.runs().set_index("run_id")["status"].to_dict() == {
        "p0000-r0000": "finished",
        "p0001-r0000": "failed",
        "p0002-r0000": "finished",
    }
    assert result.manifest["status"] == "complete with failures"
    assert json.loads((tmp_path / "f" / "experiment.json").read_text())["failed"] == 1


def test_interruption_keeps_finished_runs_and_resume_completes(tmp_path, monkeypatch):
    flag = tmp_path / "flag"
    monkeypatch.setenv(helpers.BUILD_LOG_ENV, str(flag))
    points = [{"stop": False}, {"stop": False}, {"stop": True}, {"stop": False}]
    kwargs = {
        "parameters": points,
        "days": 5,
        "root_seed": 4,
        "executor": "serial",
        "progress": False,
        "out": tmp_path / "i",
    }
    with pytest.raises(KeyboardInterrupt):
        ex.sweep(helpers.interrupting_model, **kwargs)
    partial = ex.load_experiment(tmp_path / "i")
    assert partial.finished() == ["p0000-r0000", "p0001-r0000"]
    assert partial.manifest["status"] == "interrupted"
    assert len(partial.load("mean_concern")) == 12  # finished runs are readable (days 0-5)
    Path(str(flag) + ".resume").touch()
    done = ex.sweep(helpers.interrupting_model, resume=True, **kwargs)
    assert done.n_finished == 4 and done.manifest["status"] == "complete"


def test_interruption_in_a_process_pool_keeps_finished_runs(tmp_path, monkeypatch):
    monkeypatch.setenv(helpers.BUILD_LOG_ENV, str(tmp_path / "flag"))
    points = [{"stop": False}, {"stop": True}, *({"stop": False} for _ in range(6))]
    with pytest.raises(KeyboardInterrupt):
        ex.sweep(
            helpers.interrupting_model,
            parameters=points,
            days=5,
            root_seed=4,
            workers=1,
            progress=False,
            out=tmp_path / "i",
        )
    partial = ex.load_experiment(tmp_path / "i")
    assert "p0000-r0000" in partial.finished() and "p0001-r0000" not in partial.finished()
    assert partial.n_finished < len(points) and partial.manifest["status"] == "interrupted"


# ---------------------------------------------------------------- lazy loading
def test_results_are_read_lazily_by_variable(tmp_path):
    result = ex.sweep(
        helpers.small_model,
        parameters={"waste_per_capita_kg": [0.5, 0.9]},
        seeds=2,
        days=10,
        root_seed=3,
        executor="serial",
        progress=False,
        out=tmp_path / "lazy",
    )
    dataset = result.dataset("model")
    assert isinstance(dataset, ds.Dataset) and dataset.count_rows() == 44  # 4 runs x days 0-10
    frame = result.load(
        "waste_generated_kg", where={"waste_per_capita_kg": 0.9, "day": range(5, 11)}
    )
    assert list(frame.columns) == [
        "run_id",
        "point",
        "replicate",
        "seed",
        "waste_per_capita_kg",
        "day",
        "waste_generated_kg",
    ]
    assert len(frame) == 2 * 6 and set(frame["waste_per_capita_kg"]) == {0.9}
    hoods = result.load(["pollution"], kind="neighborhoods", where={"day": 10})
    assert len(hoods) == 4 * 16 and {"node", "zone", "pollution"} <= set(hoods.columns)
    with pytest.raises(KeyError, match="no variable 'polution'"):
        result.load("polution")
    assert sum(1 for _ in result.iter_runs()) == 4
    summary = result.summary("waste_generated_kg")
    assert set(summary["n"]) == {2} and len(summary) == 2 * 11  # days 0-10
    ratio = summary.groupby("waste_per_capita_kg")["mean"].mean()
    assert ratio[0.9] / ratio[0.5] == pytest.approx(0.9 / 0.5, rel=0.05)
    reopened = ex.load_experiment(tmp_path / "lazy")
    assert reopened.n_finished == 4 and reopened.parameter_names == ["waste_per_capita_kg"]


def test_results_read_a_few_files_at_a_time_are_the_same_table(tmp_path, monkeypatch):
    """Scans of at most READ_CHUNK files (Arrow keeps memory per file open in a scan):
    the same rows in the same order, filters and kinds included."""
    import waste_harmony.batch.store as store

    result = ex.sweep(
        helpers.small_model, parameters={"waste_per_capita_kg": [0.5, 0.7, 0.9]}, seeds=3,
        days=4, executor="serial", progress=False, out=tmp_path / "chunks",
    )  # fmt: skip
    asks = [
        {"variables": ["waste_generated_kg", "mean_concern"]},
        {"variables": "mean_concern", "where": {"waste_per_capita_kg": 0.7, "day": [2, 3]}},
        {"variables": ["pollution"], "kind": "neighborhoods", "where": {"day": 4}},
    ]
    whole = [result.load(**ask) for ask in asks] + [result.to_pandas("events")]
    monkeypatch.setattr(store, "READ_CHUNK", 2)  # 9 runs: five scans each
    for ask, expected in zip(asks, whole, strict=False):
        pd.testing.assert_frame_equal(result.load(**ask), expected)
    pd.testing.assert_frame_equal(result.to_pandas("events"), whole[-1])
    assert len(whole[0]) == 9 * 5


def test_temporary_results_folder_is_removed_with_the_result():
    import gc

    result = ex.ensemble(
        helpers.small_model, seeds=1, days=2, root_seed=1, executor="serial", progress=False
    )
    folder = result.path
    assert folder.exists()
    del result
    gc.collect()
    assert not folder.exists()


def test_run_manifest_keeps_the_keys_of_run_result(tmp_path):
    from waste_harmony.batch.plan import Task
    from waste_harmony.batch.worker import tidy_tables

    model = helpers.small_model(rng=2, pulse=True)
    model.run_for(3)
    task = Task(
        run_ids=("x",), point=0, replicate=0, seed=2, parameters={}, factory=None, fixed={}, days=3
    )
    _, manifest = tidy_tables(model, task)
    reference = RunResult.from_model(model, wall_time_s=1.0).manifest
    assert set(reference) <= set(manifest)
    for key in ("seed", "parameters", "scenarios", "city", "n_citizens", "days"):
        assert manifest[key] == reference[key]


def test_client_side_writing_gives_the_same_files(tmp_path):
    kwargs = {"seeds": 2, "days": 6, "root_seed": 8, "progress": False, "pulse": True}
    workers = ex.ensemble(helpers.small_model, executor="serial", out=tmp_path / "w", **kwargs)
    client = ex.ensemble(
        helpers.small_model, workers=1, write_on="client", out=tmp_path / "c", **kwargs
    )
    for got, want in zip(frames(client), frames(workers), strict=True):
        pd.testing.assert_frame_equal(got, want)
    timings = client.timings()
    assert len(timings) == 2 and (timings["run"] > 0).all()


def test_scenario_instances_serve_every_run_of_a_serial_ensemble():
    pulse = helpers.Pulse(day=3, start_day=2, every=2)
    result = ex.ensemble(
        seeds=3,
        days=6,
        root_seed=1,
        executor="serial",
        progress=False,
        city=helpers.square_city(),
        n_citizens=100,
        scenarios=[pulse],
    )
    assert result.n_finished == 3 and result.n_failed == 0
    assert getattr(pulse, "_model", None) is None  # the caller's instance stays unused
    events = result.to_pandas("events")
    assert events.groupby("run_id")["kind"].apply(lambda k: (k == "pulse").sum()).eq(3).all()


def test_importing_the_package_does_not_import_dask_or_salib():
    code = (
        "import sys, waste_harmony, waste_harmony.experiments; "
        "print(any(m.split('.')[0] in ('dask', 'distributed', 'SALib') for m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"


def test_progress_bar_counts_runs_and_failures(tmp_path, capsys):
    ex.sweep(
        helpers.failing_model,
        parameters=[{"fail": True}, {"fail": False}],
        days=2,
        root_seed=1,
        executor="serial",
        out=tmp_path / "bar",
        progress=True,
    )
    err = capsys.readouterr().err
    assert "2/2" in err and "failed=1" in err


def test_workers_relax_glibc_heap_trimming_on_linux():
    import platform

    from waste_harmony.batch.worker import relax_heap_trimming

    relaxed = relax_heap_trimming()
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert relaxed is True
    assert relax_heap_trimming() is relaxed  # once per process; repeat calls agree
