"""A closed standard output loses nothing: results are published before anything is printed.

Issue 23 item 4: ``waste-harmony run ok.toml | head -1`` ended in ``internal error
(BrokenPipeError)`` with nothing written, and ``list | head`` printed a traceback.
"""

import subprocess
import sys

import pytest

from waste_harmony.results import RunResult, verify_run

RUN = 'seed = 1\ndays = 3\ncitizens = 100\n[city]\ngenerator = "grid"\nrows = 3\ncols = 3\n'


def first_line_then_close(*arguments, cwd):
    """Run the command, read one line of its stdout and close it (as ``| head -1``)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "waste_harmony", *arguments],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    line = process.stdout.readline()
    process.stdout.close()
    err = process.stderr.read().decode()
    return line.decode(), process.wait(timeout=600), err


@pytest.mark.slow
def test_run_piped_into_head_publishes_its_results(tmp_path):
    (tmp_path / "ok.toml").write_text(RUN)
    line, status, err = first_line_then_close("run", "ok.toml", "--out", "r", cwd=tmp_path)
    assert line.startswith("waste-harmony run: 100 citizens")
    assert status == 141  # as a Unix tool killed by SIGPIPE
    assert "Traceback" not in err and "internal error" not in err and "Exception" not in err
    assert verify_run(tmp_path / "r") == []  # complete, checksums intact
    assert RunResult.load(tmp_path / "r").model_frame["day"].max() == 3


def test_list_piped_into_head_is_quiet(tmp_path):
    line, status, err = first_line_then_close("list", cwd=tmp_path)
    assert "scenario" in line and status in (0, 141)
    assert "Traceback" not in err and "Exception" not in err
