"""The documentation site builds with warnings as errors (notebooks executed)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_docs_build_without_warnings(tmp_path):
    env = {**os.environ, "PYTHONWARNINGS": "ignore::DeprecationWarning"}
    env.pop("WASTE_HARMONY_DOCS_EXECUTE", None)  # execute the notebooks and code cells
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
