"""Agents created in bulk are indistinguishable from agents created one at a time.

The model creates its citizens and neighbourhoods with
:func:`waste_harmony.agents.bulk.create_in_cells`. These tests compare a model
built that way with the same model built by calling the agent classes once per
agent (the bulk path switched off), through Mesa's public API: the agents, their
ids, types, registrations, cells and attributes, and what the model does next.
"""

from __future__ import annotations

import gc
import logging

import mesa
import networkx as nx
import numpy as np
import pytest
from mesa.discrete_space import Network
from mesa.experimental.mesa_signals import ModelSignals

from waste_harmony import Citizen, CityModel, Corporation, Neighborhood
from waste_harmony.agents import bulk
from waste_harmony.city import grid_city


def _build(monkeypatch: pytest.MonkeyPatch, *, fast: bool, **kwargs) -> CityModel:
    with monkeypatch.context() as patch:
        if not fast:
            patch.setattr(bulk, "bulk_applies", lambda *args: False)
        return CityModel(grid_city(4, 5, seed=3), n_citizens=3_000, rng=11, **kwargs)


def _portrait(model: mesa.Model) -> dict:
    """Everything Mesa's public API tells about a model's agents, as plain values."""
    cells = list(model.space.all_cells)
    cell_of = {id(cell): cell.coordinate for cell in cells}

    def attributes(agent: mesa.Agent) -> list:
        # vars() in insertion order: the attributes __init__ set, in its order
        out = []
        for name, value in vars(agent).items():
            if value is model:
                value = "model"
            elif id(value) in cell_of:
                value = ("cell", cell_of[id(value)])
            out.append((name, value))
        return out

    return {
        "agents": [(type(a).__name__, a.unique_id) for a in model.agents],
        "by_type": {
            t.__name__: [a.unique_id for a in agents] for t, agents in model.agents_by_type.items()
        },
        "types": [t.__name__ for t in model.agent_types],
        "cells": {cell.coordinate: [a.unique_id for a in cell.agents] for cell in cells},
        "empty": [cell.empty for cell in cells if cell.agents],
        "attributes": [attributes(a) for a in model.agents],
        "next_id": Corporation(model, "Next").unique_id,
    }


def test_bulk_agents_match_one_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = _build(monkeypatch, fast=True)
    slow = _build(monkeypatch, fast=False)
    assert _portrait(fast) == _portrait(slow)


def test_bulk_agents_are_registered_in_their_cells(monkeypatch: pytest.MonkeyPatch) -> None:
    model = _build(monkeypatch, fast=True)
    citizens = list(model.agents_by_type[Citizen])
    hoods = list(model.agents_by_type[Neighborhood])
    assert len(citizens) == model.n_citizens == len(model.citizens)
    assert len(hoods) == model.n_nodes
    assert len(model.agents) == model.n_citizens + model.n_nodes
    ids = [a.unique_id for a in model.agents]
    assert len(set(ids)) == len(ids)
    assert [c.row for c in citizens] == list(range(model.n_citizens))
    assert [h.row for h in hoods] == list(range(model.n_nodes))
    for citizen in citizens[::97]:
        assert isinstance(citizen, mesa.Agent)
        assert citizen in model.agents
        assert citizen in citizen.cell.agents
        assert citizen.cell is model.space[citizen.node]
        assert citizen.pos is None and citizen.model is model
        assert citizen.concern == model.citizens.concern[citizen.row]
    # the cells hold exactly the residents the columns say
    for row, hood in enumerate(hoods):
        residents = [a for a in hood.cell.agents if isinstance(a, Citizen)]
        assert len(residents) == model.residents[row]  # citizens (population: their people)
        assert {a.home for a in residents} <= {row}
    # and Mesa's own views work on them
    assert len(model.agents.select(agent_type=Citizen)) == model.n_citizens
    concern = model.agents_by_type[Citizen].get("concern")
    np.testing.assert_array_equal(concern, model.citizens.concern)


def test_bulk_agents_behave_as_mesa_agents(monkeypatch: pytest.MonkeyPatch) -> None:
    model = _build(monkeypatch, fast=True)
    citizen = list(model.agents_by_type[Citizen])[-1]
    with pytest.raises(NotImplementedError, match="cannot be removed"):
        citizen.remove()
    assert citizen in model.agents
    # a CellAgent moves between cells: it leaves its old cell's list
    old = citizen.cell
    new = next(c for c in model.space.all_cells if c is not old)
    citizen.move_to(new)
    assert citizen in new.agents and citizen not in old.agents
    hood = next(iter(model.agents_by_type[Neighborhood]))
    with pytest.raises(ValueError, match="Cannot move"):
        hood.cell = new  # a FixedAgent stays put


def test_bulk_build_keeps_runs_identical(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = _build(monkeypatch, fast=True, scenarios=["techcore"])
    slow = _build(monkeypatch, fast=False, scenarios=["techcore"])
    fast.run_for(20)
    slow.run_for(20)
    assert fast.model_frame().equals(slow.model_frame())
    twin = fast.copy()
    assert _portrait(twin)["agents"] == _portrait(fast)["agents"]


def test_build_leaves_the_garbage_collector_as_it_was() -> None:
    assert gc.isenabled()
    CityModel(n_citizens=500, rng=0)
    assert gc.isenabled()
    gc.disable()
    try:
        CityModel(n_citizens=500, rng=0)
        assert not gc.isenabled()
    finally:
        gc.enable()


# Run in a fresh interpreter: freezing objects here would change every later test.
_FROZEN_PROGRAM = """
import gc
from waste_harmony import CityModel
gc.collect()
gc.freeze()
frozen = gc.get_freeze_count()
asked = []
count = gc.get_freeze_count
gc.get_freeze_count = lambda: asked.append(1) or count()
for seed in range(3):
    CityModel(n_citizens=50, rng=seed)
gc.get_freeze_count = count
print(frozen, gc.get_freeze_count(), len(asked))
"""


def test_build_keeps_a_programs_frozen_objects_and_counts_them_once() -> None:
    # A pool worker freezes its imports (prepare_worker). Building must not release
    # them, and must not count them at every model: the count walks all of them
    # (13 ms at 10^5 objects), which made a small model's run twice as long.
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", _FROZEN_PROGRAM],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    frozen, after, asked = map(int, out)
    assert frozen > 10_000
    # gc.unfreeze() would leave none; reference counting alone frees a few of them
    assert after > 0.99 * frozen
    assert asked == 1  # three models built (six bulk builds), one count


# ---------------------------------------------------------------- create_in_cells itself
def _space(model: mesa.Model, n: int = 4, capacity: int | None = None) -> list:
    space = Network(nx.path_graph(n), capacity=capacity, random=model.random)
    return [space[i] for i in range(n)]


@pytest.mark.parametrize("home", [[0, 0, 1, 3, 3, 3], [3, 0, 2, 0, 3, 1, 1]])
def test_create_in_cells_matches_calls(home: list[int]) -> None:
    fast, slow = mesa.Model(rng=1), mesa.Model(rng=1)
    fast_cells, slow_cells = _space(fast), _space(slow)
    a = Citizen.create_in_cells(fast, np.array(home), fast_cells)
    b = Citizen.create_in_cells(slow, np.array(home), slow_cells, fast=False)
    assert [x.unique_id for x in a] == [y.unique_id for y in b]
    assert [x.row for x in a] == [y.row for y in b] == list(range(len(home)))
    for fc, sc in zip(fast_cells, slow_cells, strict=True):
        assert [x.unique_id for x in fc.agents] == [y.unique_id for y in sc.agents]
    assert [list(vars(x)) for x in a] == [list(vars(y)) for y in b]
    assert fast.agent_id_counter == slow.agent_id_counter


class Counted(Citizen):
    made = 0

    def __init__(self, model, row, cell) -> None:
        super().__init__(model, row, cell)
        Counted.made += 1


def test_own_init_is_called_for_every_agent() -> None:
    model = mesa.Model(rng=0)
    cells = _space(model)
    assert not bulk.bulk_applies(Counted, Citizen, model, cells)
    Counted.made = 0
    Counted.create_in_cells(model, np.array([0, 1, 2, 2]), cells)
    assert Counted.made == 4
    built = CityModel(n_citizens=300, rng=0, citizen_class=Counted)
    assert Counted.made == 304 and len(built.agents_by_type[Counted]) == 300


def test_observers_see_every_agent() -> None:
    model = mesa.Model(rng=0)
    cells = _space(model)
    seen = []

    def handler(signal) -> None:
        seen.append(signal)

    model.observe("agents", ModelSignals.AGENT_ADDED, handler)
    assert not bulk.bulk_applies(Citizen, Citizen, model, cells)
    Citizen.create_in_cells(model, np.array([0, 1, 1]), cells)
    assert len(seen) == 3


def test_debug_log_gets_a_line_per_agent(caplog: pytest.LogCaptureFixture) -> None:
    model = mesa.Model(rng=0)
    cells = _space(model)
    with caplog.at_level(logging.DEBUG, logger="MESA.mesa.model"):
        Citizen.create_in_cells(model, np.array([0, 1, 1]), cells)
    assert sum("registered Citizen" in r.getMessage() for r in caplog.records) == 3


def test_cell_capacity_is_enforced_as_mesa_does() -> None:
    model = mesa.Model(rng=0)
    cells = _space(model, capacity=2)
    with pytest.raises(Exception, match="Cell is full"):
        Citizen.create_in_cells(model, np.array([0, 1, 1, 1]), cells)


def test_home_outside_the_cells_is_refused() -> None:
    model = mesa.Model(rng=0)
    with pytest.raises(IndexError, match="home index 4 is out of range for 4 cells"):
        Citizen.create_in_cells(model, np.array([0, 4]), _space(model))
    assert len(model.agents) == 0


# ---------------------------------------------------------------- the scale benchmark
@pytest.mark.slow
def test_scale_benchmark_reports_both_ways(tmp_path) -> None:
    import importlib.util
    import json
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_scale.py"
    spec = importlib.util.spec_from_file_location("_wh_benchmarks_bench_scale", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    out = tmp_path / "scale.json"
    report = module.main(["--quick", "--compare", "--json", str(out)])
    assert json.loads(out.read_text()) == json.loads(json.dumps(report))
    runs = report["runs"]
    assert [(r["n"], r["mode"]) for r in runs] == [
        (n, mode) for n in (2_000, 6_000) for mode in ("bulk", "one at a time")
    ]
    for run in runs:
        assert run["agents"] == run["n"] + run["nodes"]
        assert 0 < run["agents_cpu_s"] <= run["model_cpu_s"] <= run["build_cpu_s"]
        assert run["build_rss_mib"] <= run["peak_rss_mib"]
        assert run["sec_per_day"] > 0
    assert set(report["ratios"]) == {"2000", "6000"}
