"""The documentation site builds with warnings as errors (notebooks executed).

The tutorials are the example notebooks executed once for the session (the
``executed_notebook`` fixture of conftest.py, shared with tests/test_notebooks.py);
the build renders those executed copies and runs the code cells of its other pages.
"""

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_docs_build_without_warnings(tmp_path, executed_notebook):
    executed = tmp_path / "notebooks"
    executed.mkdir()
    for path in sorted((ROOT / "examples" / "notebooks").glob("*.ipynb")):
        nbformat.write(executed_notebook(path.name)[0], executed / path.name)
    env = {
        **os.environ,
        "PYTHONWARNINGS": "ignore::DeprecationWarning",
        "WASTE_HARMONY_DOCS_EXECUTED_NOTEBOOKS": str(executed),
    }
    env.pop("WASTE_HARMONY_DOCS_EXECUTE", None)  # execute the code cells of the pages
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-b",
            "html",
            "-q",
            "-d",
            str(tmp_path / "doctrees"),
            str(ROOT / "docs"),
            str(tmp_path / "html"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        cwd=ROOT,
    )
    problems = [
        line
        for line in done.stderr.splitlines()
        if ("WARNING" in line and "IPKernelApp" not in line) or "ERROR" in line
    ]
    assert done.returncode == 0, "\n".join(problems) or done.stderr[-4000:]
    html = tmp_path / "html"
    for page in (
        "index",
        "installation",
        "quickstart",
        "running",
        "custom_scenario",
        "extend_citizen",
        "api",
        "benchmarks",
        "model",
        "tutorials/quickstart",
        "tutorials/story",
    ):
        assert (html / f"{page}.html").exists(), page
    assert "waste_harmony.plotting.plot_series" in (html / "api" / "plotting.html").read_text()
    assert (html / "_images").is_dir() and any((html / "_images").glob("*.png"))
    for page in ("quickstart", "story", "calibration", "your_city"):  # with their figures
        assert "<img" in (html / "tutorials" / f"{page}.html").read_text(), page
