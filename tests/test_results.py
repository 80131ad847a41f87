"""Saving and loading a run's results."""

import json

import pytest

from waste_harmony import CityModel
from waste_harmony.results import MANIFEST, RunResult


@pytest.fixture(scope="module")
def result():
    model = CityModel(n_citizens=300, rng=21)
    model.open_grievance("test")
    model.run_for(12)
    model.log_event("custom", node=model.node_ids[3], note="mixed", value=1.5)
    return RunResult.from_model(model, wall_time_s=0.5)


def test_manifest_carries_parameters_seed_and_versions(result):
    m = result.manifest
    assert m["seed"] == 21 and m["days"] == 12 and m["n_citizens"] == 300
    assert m["parameters"]["waste_per_capita_kg"] == 0.74
    assert set(m["versions"]) >= {"waste_harmony", "mesa", "numpy", "python"}
    assert len(m["city"]["sha256"]) == 64


def test_save_and_load_round_trip(tmp_path, result):
    folder = result.save(tmp_path / "run")
    loaded = RunResult.load(folder)
    assert loaded.model_frame.equals(result.model_frame)
    assert loaded.neighborhood_frame["pollution"].equals(result.neighborhood_frame["pollution"])
    assert loaded.events["kind"].tolist() == result.events["kind"].tolist()
    assert json.loads((folder / MANIFEST).read_text())["seed"] == 21


def test_refuses_non_empty_folder_without_overwrite_and_keeps_files(tmp_path, result):
    folder = tmp_path / "busy"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not empty"):
        result.save(folder)
    assert (folder / "notes.txt").read_text() == "keep me"
    # overwrite replaces only files waste-harmony wrote: a user's file is named, kept
    with pytest.raises(FileExistsError, match="did not write: notes.txt"):
        result.save(folder, overwrite=True)
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]
    (folder / "notes.txt").unlink()
    result.save(folder)
    result.save(folder, overwrite=True)
    assert (folder / MANIFEST).exists()
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]


def test_loading_an_incomplete_folder_fails_clearly(tmp_path):
    (tmp_path / "model.parquet").write_bytes(b"partial")
    with pytest.raises(FileNotFoundError, match="manifest"):
        RunResult.load(tmp_path)


def test_city_graph_is_saved_and_loaded_with_positions(tmp_path, result):
    loaded = RunResult.load(result.save(tmp_path / "run"))
    assert loaded.city is not None
    assert list(loaded.city.nodes) == list(result.city.nodes)
    for node in result.city.nodes:
        assert loaded.city.nodes[node]["pos"] == pytest.approx(result.city.nodes[node]["pos"])
