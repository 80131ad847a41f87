"""The batch package (the machinery under experiments): its old import paths and fingerprints."""

from __future__ import annotations

import importlib
import json

import pytest

import waste_harmony.batch as batch
from waste_harmony import experiments
from waste_harmony.batch.identity import canonical, fingerprint
from waste_harmony.batch.plan import Branch
from waste_harmony.scenarios import HarmonyFestival


@pytest.mark.parametrize("name", experiments.MOVED_TO_BATCH)
def test_old_module_paths_still_import(name):
    old = importlib.import_module(f"waste_harmony.experiments.{name}")
    assert old is importlib.import_module(f"waste_harmony.batch.{name}")
    assert getattr(experiments, name) is old


def test_documented_old_names_resolve():
    from waste_harmony.experiments.executors import SharedProcessPool
    from waste_harmony.experiments.runner import Execution, experiment

    assert experiment is batch.experiment and Execution is batch.Execution
    assert SharedProcessPool.__module__ == "waste_harmony.batch.executors"


def test_experiments_reexports_the_batch_names():
    shared = set(batch.__all__) & set(experiments.__all__)
    assert {"run", "ensemble", "sweep", "SweepResult", "load_results"} <= shared
    assert all(getattr(experiments, n) is getattr(batch, n) for n in shared)


def test_batch_types_keep_their_former_name_in_fingerprints():
    # A compare folder written before the move holds a fingerprint of a Branch named
    # waste_harmony.experiments.plan.Branch; resuming it must find the same one.
    branch = Branch(at_day=3, intervention=HarmonyFestival(day=4))
    text = json.dumps(canonical(branch))
    assert '"type": "waste_harmony.experiments.plan.Branch"' in text
    assert "waste_harmony.batch" not in text
    assert fingerprint("sweep", branch) != fingerprint("sweep", Branch(4, HarmonyFestival(day=4)))
