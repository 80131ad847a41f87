"""Trust boundaries: reading results runs no code they name; a viewer for others is explicit.

Issue 23 item 6: ``rerun(folder)`` imported whatever module the manifest named as
``citizen_class`` (a payload ran); ``viz --host 0.0.0.0`` was accepted without a word.
"""

import json
import sys

import pytest

import waste_harmony
from waste_harmony import CityModel
from waste_harmony.agents import Citizen
from waste_harmony.cli import main
from waste_harmony.cli.viz import is_local
from waste_harmony.results import RunResult

PAYLOAD = """
from pathlib import Path
Path(__file__).with_name("ran").write_text("the payload ran")
from waste_harmony.agents import Citizen
class Evil(Citizen):
    pass
"""


@pytest.fixture
def saved_run(tmp_path):
    model = CityModel(n_citizens=30, rng=3)
    model.run_for(2)
    return RunResult.from_model(model).save(tmp_path / "run")


def _name_citizen_class(folder, dotted):
    manifest = folder / "manifest.json"
    data = json.loads(manifest.read_text())
    data["citizen_class"] = dotted
    data.pop("manifest_sha256", None)  # an edited folder, as a stranger could send
    manifest.write_text(json.dumps(data))


def test_rerun_never_imports_a_module_the_manifest_names(saved_run, tmp_path, monkeypatch):
    (tmp_path / "payload_mod.py").write_text(PAYLOAD)
    monkeypatch.syspath_prepend(str(tmp_path))
    _name_citizen_class(saved_run, "payload_mod.Evil")
    with pytest.raises(ValueError, match="importing it would run its code.*trust_code=True"):
        waste_harmony.rerun(saved_run)
    assert not (tmp_path / "ran").exists() and "payload_mod" not in sys.modules
    try:
        again = waste_harmony.rerun(saved_run, trust_code=True)  # the user's choice
        assert (tmp_path / "ran").exists() and again.manifest["n_citizens"] == 30
    finally:
        sys.modules.pop("payload_mod", None)


def test_the_librarys_own_classes_need_no_trust(saved_run):
    original = RunResult.load(saved_run)
    assert original.manifest["citizen_class"] == f"{Citizen.__module__}.Citizen"
    again = waste_harmony.rerun(saved_run)
    assert again.model_frame.equals(original.model_frame)


def test_is_local():
    assert is_local("127.0.0.1") and is_local("::1") and is_local("localhost")
    assert not is_local("0.0.0.0") and not is_local("192.168.1.5") and not is_local("example")


def test_viz_on_a_reachable_host_needs_allow_remote(capsys):
    pytest.importorskip("solara")
    assert main(["viz", "--host", "0.0.0.0", "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert "--host 0.0.0.0 would serve the page to other machines" in err
    assert "--allow-remote" in err and err.count("\n") == 1
