"""Every example script runs as a researcher would run it and writes its figure."""

import subprocess
import sys
from pathlib import Path

import pytest

# chicago.py runs 2.7 million citizens by default; tests/test_chicago.py runs it at --scale.
EXAMPLES = sorted(
    p for p in (Path(__file__).parent.parent / "examples").glob("*.py") if p.name != "chicago.py"
)


@pytest.mark.slow
@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_script_runs_and_writes_a_figure(script, tmp_path):
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, str(script), "--out", str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip(), "an example should print its outcome"
    assert list(out.glob("*.png")), f"{script.name} wrote no figure into {out}"


def test_extension_examples_change_the_outcome(tmp_path):
    for script, marker in (
        ("extend_citizen.py", "zero-waste citizens"),
        ("add_rule.py", "deposit return"),
    ):
        path = Path(__file__).parent.parent / "examples" / script
        done = subprocess.run(
            [sys.executable, str(path), "--out", str(tmp_path), "--days", "40"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        rates = [
            float(line.split("recycling rate")[1].split(",")[0])
            for line in done.stdout.splitlines()
            if "recycling rate" in line
        ]
        assert len(rates) == 2 and rates[1] > rates[0] + 0.02, (marker, done.stdout)
