"""The example notebooks run from top to bottom (as ``pytest --nbmake examples/notebooks``).

They are executed with nbclient in a temporary working directory, so the plain
``pytest`` command runs them and they leave no files behind. Each runs once per
session (the ``executed_notebook`` fixture of conftest.py): the docs build of
tests/test_docs.py renders the same executed copies.
"""

from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "examples" / "notebooks"


def test_notebooks_are_committed_without_outputs():
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, (
                    f"{path.name}: clear the outputs before committing"
                )


@pytest.mark.slow
def test_quickstart_notebook_runs(executed_notebook):
    notebook, folder = executed_notebook("quickstart.ipynb")
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 4  # its figures
    assert not list(folder.iterdir())  # writes nothing into the working directory


@pytest.mark.slow
def test_story_notebook_runs(executed_notebook):
    """Needs the story's scenarios "techcore" and "harmony-festival" (scenarios/)."""
    from waste_harmony.scenarios import available

    missing = {"techcore", "harmony-festival"} - set(available())
    assert not missing, f"the story notebook needs the scenarios {sorted(missing)}"
    notebook, _ = executed_notebook("story.ipynb")
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 5


@pytest.mark.slow
def test_calibration_notebook_runs(executed_notebook):
    """The real-data calibration (US EPA recycling rates) with its predictive check."""
    notebook, _ = executed_notebook("calibration.ipynb")
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 3
    text = "".join(o.get("text", "") for o in outputs)
    assert "identified" in text


@pytest.mark.slow
def test_your_city_notebook_runs(executed_notebook):
    """Districts (libpysal's Columbus) and a table to a year of the story with maps."""
    pytest.importorskip("geopandas")
    pytest.importorskip("libpysal")
    notebook, folder = executed_notebook("your_city.ipynb")
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "49 districts" in text and "facility:" in text
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 4  # maps and series
    assert not list(folder.iterdir())


def _outputs(notebook):
    return [
        str(o.get("text") or o.get("data", {}).get("text/plain", ""))
        for c in notebook.cells
        if c.cell_type == "code"
        for o in c.outputs
    ]


@pytest.mark.slow
def test_own_outputs_notebook_runs(executed_notebook):
    printed = "\n".join(_outputs(executed_notebook("own_outputs.ipynb")[0]))
    assert "high_concern_share" in printed
    assert "CityModel(model_reporters=" in printed  # the refusal names the way


@pytest.mark.slow
def test_depot_notebook_runs_and_the_depot_counts_the_same_day(executed_notebook):
    outputs = _outputs(executed_notebook("depot.ipynb")[0])
    assert "'depot'" in outputs[0]  # the rule at its named point
    # same-day accounting (rule and overridden step) and identical pickled twins
    assert outputs.count("True") == 3
    # an own output reading the depots, from day 0, in an ensemble of the subclass
    (summary,) = [o for o in outputs if "depot_kg" in o]
    assert len(summary.splitlines()) == 4 and " nan " not in summary
