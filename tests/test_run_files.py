"""Every run file shipped in examples/runs/ validates and builds its model."""

from pathlib import Path

import pytest

from waste_harmony.config import load_run_file
from waste_harmony.scenarios import scenario_class

RUNS = Path(__file__).resolve().parents[1] / "examples" / "runs"
RUN_FILES = sorted(RUNS.glob("*.toml"))


def test_run_files_are_shipped():
    names = {p.name for p in RUN_FILES}
    assert {"quick.toml", "techcore_showdown.toml", "harmony_festival.toml"} <= names


@pytest.mark.parametrize("path", RUN_FILES, ids=lambda p: p.name)
def test_shipped_run_file_validates_and_builds(path):
    config = load_run_file(path)
    model = config.build_model(n_citizens=min(config.citizens, 500))
    # Keys are names or code references ("../plastic_ban.py:PlasticBan").
    expected = [scenario_class(k, base_dir=path.parent).name for k in config.scenarios]
    assert [s.name for s in model.scenarios] == expected
    assert config.output.folder is not None and not config.output.folder.is_absolute()
    text = path.read_text()
    assert text.lstrip().startswith("#"), "start each run file with a comment saying what it is"


def test_quick_run_file_runs(tmp_path):
    config = load_run_file(RUNS / "quick.toml")
    model = config.build_model()
    model.run_for(5)
    assert len(model.model_frame()) == 6  # day 0 and days 1-5
