"""A worker frees each task's models (flat memory over many runs); owned pools are recycled.

The cause of the growth was dead models waiting for Python's oldest-generation
collection (a model is a web of reference cycles holding arrays); see
:func:`waste_harmony.batch.worker.release_memory` and
``benchmarks/bench_worker_memory.py`` for the 10^5-run curve.
"""

import gc
import json
import weakref

import pytest

from waste_harmony import CityModel
from waste_harmony import experiments as ex
from waste_harmony.batch import executors, worker

BUILT: list[weakref.ref] = []


def tracked_model(**kwargs):
    """A CityModel whose liveness the test can see."""
    model = CityModel(**kwargs)
    BUILT.append(weakref.ref(model))
    return model


@pytest.fixture
def no_automatic_collection(monkeypatch):
    """Only explicit collections run: what a task leaves for the collector stays."""
    monkeypatch.setattr(worker, "COLLECT_EVERY", 1)
    BUILT.clear()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_a_model_is_a_reference_cycle_only_the_collector_frees(no_automatic_collection):
    model = tracked_model(n_citizens=20, rng=1)
    model.run_for(1)
    del model
    assert BUILT[0]() is not None  # what made the workers grow: dead, not freed
    gc.collect()
    assert BUILT[0]() is None


def test_execute_frees_the_models_of_its_task(no_automatic_collection):
    result = ex.sweep(
        tracked_model,
        parameters=[{}],
        seeds=3,
        days=2,
        n_citizens=20,
        root_seed=4,
        executor="serial",
        progress=False,
    )
    assert len(BUILT) == 3 and len(result.runs()) == 3
    assert [ref() for ref in BUILT] == [None, None, None]


def test_collections_are_spaced_by_their_cost_but_at_least_every_few_tasks(monkeypatch):
    monkeypatch.setattr(worker, "COLLECT_EVERY", 3)
    monkeypatch.setattr(worker, "_collect", {"cost": 3600.0, "last": 0.0, "tasks": 0})
    # a collection that cost an hour: the next ones wait for the task count
    assert [worker.release_memory() for _ in range(6)] == [False, False, True] * 2
    monkeypatch.setattr(worker, "_collect", {"cost": 0.0, "last": 0.0, "tasks": 0})
    assert worker.release_memory()  # a cheap collection runs after every task


@pytest.mark.slow
def test_an_owned_pool_is_recycled_with_identical_results(tmp_path, monkeypatch):
    monkeypatch.setattr(executors, "TASKS_PER_WORKER", 2)
    common = {"parameters": [{}], "seeds": 7, "days": 2, "n_citizens": 20, "root_seed": 9}
    pooled = ex.sweep(**common, workers=1, progress=False, out=tmp_path / "pool")
    serial = ex.sweep(**common, executor="serial", progress=False, out=tmp_path / "serial")
    manifests = sorted((tmp_path / "pool" / "runs").glob("*/manifest.json"))
    pids = {json.loads(path.read_text())["worker"] for path in manifests}
    assert len(manifests) == 7 and len(pids) == 4  # 2 tasks per worker: 4 pools
    assert pooled.to_pandas().equals(serial.to_pandas())


def test_a_pool_worker_starts_with_the_library_frozen():
    with executors.SharedProcessPool(1) as shared:
        assert shared.executor().submit(gc.get_freeze_count).result() > 10_000
