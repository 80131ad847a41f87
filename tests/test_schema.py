"""One results schema: a CLI run folder, RunResult and experiment runs hold the same tables."""

from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from waste_harmony import CityModel, experiments, load_results
from waste_harmony.city.io import with_defaults
from waste_harmony.cli import main
from waste_harmony.results import RunResult
from waste_harmony.scenarios import Scenario, register, registry
from waste_harmony.schema import ID_COLUMNS, decode_node, encode_node, expand_details


@dataclass
class Marker(Scenario):
    name = "schema-marker"
    description = "Logs a citywide and a local event with details (test scenario)."

    def setup(self, model):
        self.schedule(self.mark, day=2)

    def mark(self):
        self.log("marker_citywide", share=0.5)
        self.log("marker_local", node=self.model.node_ids[1], count=3, names=["a", "b"])


@pytest.fixture
def scenario_spec():
    register(Marker)
    yield Marker.name
    registry._BUILTIN.pop(Marker.name, None)


def frames(result):
    return {
        "model": result.model_frame,
        "neighborhoods": result.neighborhood_frame,
        "events": result.events,
    }


def test_cli_run_and_experiments_run_give_equal_frames(tmp_path, capsys, scenario_spec):
    out = tmp_path / "cli"
    argv = ["run", "--scenario", scenario_spec, "--days", "5", "--citizens", "200"]
    argv += ["--seed", "7", "--quiet", "--no-figures", "--out", str(out)]
    assert main(argv) == 0, capsys.readouterr().err
    cli = load_results(out)
    python = experiments.run(n_citizens=200, days=5, seed=7, scenarios=[scenario_spec])
    experiments.run(n_citizens=200, days=5, seed=7, scenarios=[scenario_spec], out=tmp_path / "py")
    saved = load_results(tmp_path / "py")
    assert len(cli.events) == 2  # the comparison covers events with details
    for name, frame in frames(cli).items():
        pd.testing.assert_frame_equal(frame, frames(python)[name], obj=name)
        pd.testing.assert_frame_equal(frame, frames(saved)[name], obj=name)
    # ... and the same files on disk, column for column
    for file in ("model.parquet", "neighborhoods.parquet", "events.parquet"):
        assert pd.read_parquet(out / file).dtypes.to_dict() == (
            pd.read_parquet(tmp_path / "py" / file).dtypes.to_dict()
        )


def test_every_path_writes_the_schema_columns(tmp_path, scenario_spec):
    sweep = experiments.sweep(
        parameters={"waste_per_capita_kg": [0.5]},
        seeds=1,
        days=3,
        n_citizens=100,
        root_seed=1,
        scenarios=[scenario_spec],
        executor="serial",
        progress=False,
        out=tmp_path / "sweep",
    )
    run = sweep.run(sweep.run_ids()[0])
    ids = ["run_id", "point", "replicate", "seed", "waste_per_capita_kg"]
    assert list(run.events.columns) == [*ids, "day", "kind", "node", "scenario", "details"]
    assert list(run.model_frame.columns[:6]) == [*ids, "day"]
    assert list(run.neighborhood_frame.columns[:8]) == [*ids, "day", "node", "zone"]
    assert isinstance(run.model_frame.index, pd.RangeIndex)
    local = run.events[run.events["kind"] == "marker_local"].iloc[0]
    assert local["scenario"] == "schema-marker"
    assert expand_details(run.events).loc[local.name, "count"] == 3
    assert isinstance(load_results(tmp_path / "sweep"), experiments.SweepResult)
    assert set(ID_COLUMNS) >= {"run_id", "point", "replicate", "seed"}


@pytest.mark.parametrize(
    "relabel",
    [
        lambda n: n,  # int ids
        lambda n: f"district-{n}",  # str ids
        None,  # tuple ids from grid_2d_graph
    ],
    ids=["int", "str", "tuple"],
)
def test_node_ids_survive_a_parquet_round_trip(tmp_path, relabel):
    G = nx.grid_2d_graph(3, 3)
    if relabel is not None:
        G = nx.relabel_nodes(G, {n: relabel(i) for i, n in enumerate(G.nodes)})
    G = with_defaults(G, seed=1, layout="spring")
    for node in G.nodes:
        G.nodes[node]["pos"] = tuple(float(v) for v in G.nodes[node]["pos"])
    model = CityModel(G, n_citizens=100, rng=3)
    model.run_for(2)
    model.log_event("custom", node=model.node_ids[4], value=1.5)
    hoods = model.neighborhood_frame()
    assert hoods["node"].tolist()[:9] == list(G.nodes)
    result = RunResult.from_model(model)
    loaded = RunResult.load(result.save(tmp_path / "run"))
    assert loaded.neighborhood_frame["node"].tolist() == hoods["node"].tolist()
    assert loaded.events["node"].tolist() == [model.node_ids[4]]
    for frame in frames(result):
        pd.testing.assert_frame_equal(frames(loaded)[frame], frames(result)[frame])


def test_node_encoding():
    for node in (0, np.int64(5), "3", "a b", (0, 1), ("x", 2), None):
        expected = node.item() if isinstance(node, np.integer) else node
        assert decode_node(encode_node(node)) == expected
    assert encode_node("3") != encode_node(3)
