"""One writer per results folder: a second one is refused in one line; stale locks taken over.

Issue 23 item 3: two ``sweep --resume`` on one folder ran the same runs twice, and two
``run --out SAME`` started together both said "wrote" while one result survived.
"""

import json
import os
import socket
import subprocess
import sys

import pytest

from waste_harmony import experiments
from waste_harmony.cli import main
from waste_harmony.storage import FolderLockedError, folder_lock, lock_path

RUN = 'seed = 1\ndays = 3\ncitizens = 100\n[city]\ngenerator = "grid"\nrows = 3\ncols = 3\n'


def hold(folder, pid, host=None, command="sweep"):
    """A lock file as another writer leaves it."""
    record = {"pid": pid, "host": host or socket.gethostname(), "command": command, "since": "x"}
    path = lock_path(folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record))
    return path


def dead_pid():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_second_run_into_a_folder_being_written_is_refused_in_one_line(tmp_path, capsys):
    (tmp_path / "ok.toml").write_text(RUN)
    out = tmp_path / "same"
    lock = hold(out, os.getppid(), command="run")  # a live process that is not this one
    assert main(["run", str(tmp_path / "ok.toml"), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is being written by another waste-harmony process" in err
    assert f"process {os.getppid()} on {socket.gethostname()} ('run'" in err
    assert not out.exists() and lock.exists()  # nothing written, the holder's lock kept


def test_a_resume_while_another_writes_is_refused(tmp_path):
    out = tmp_path / "sw"
    common = {"parameters": {"waste_per_capita_kg": [0.5]}, "seeds": 2, "days": 2}
    common |= {"n_citizens": 20, "root_seed": 1, "executor": "serial", "progress": False}
    experiments.sweep(**common, out=out)
    hold(out, os.getppid())
    with pytest.raises(FolderLockedError, match="sw is being written by another"):
        experiments.sweep(**common, out=out, resume=True)


def test_a_stale_lock_of_a_dead_process_is_taken_over(tmp_path, capsys):
    (tmp_path / "ok.toml").write_text(RUN)
    out = tmp_path / "r"
    lock = hold(out, dead_pid(), command="run")
    assert main(["run", str(tmp_path / "ok.toml"), "--out", str(out), "--quiet"]) == 0
    assert (out / "manifest.json").exists() and not lock.exists()


def test_a_lock_from_another_host_is_never_broken(tmp_path):
    hold(tmp_path / "r", 1, host="elsewhere.example")
    locked = pytest.raises(FolderLockedError, match=r"on elsewhere.example .* remove .*\.r\.waste")
    with locked, folder_lock(tmp_path / "r", "run"):
        pass


def test_the_same_process_may_take_its_own_lock_again(tmp_path):
    with folder_lock(tmp_path / "x", "calibrate") as outer:
        with folder_lock(tmp_path / "x", "sweep") as inner:
            assert inner == outer and outer.exists()
        assert outer.exists()
    assert not outer.exists()


@pytest.mark.slow
def test_two_real_sweeps_resuming_one_folder_one_wins_the_other_is_refused(tmp_path):
    """Two ``waste-harmony sweep --resume`` processes on one folder: one writes every run
    once, the other is refused in one line naming the first, and nothing is corrupted."""
    import time

    from waste_harmony import load_results

    sweep_file = tmp_path / "sweep.toml"
    sweep_file.write_text(
        RUN.replace("days = 3", "days = 300").replace("citizens = 100", "citizens = 300")
        + "[sweep]\nseeds = 40\nroot_seed = 2\n"
    )
    out = tmp_path / "shared"
    command = [sys.executable, "-m", "waste_harmony", "sweep", str(sweep_file), "--out",
               str(out), "--workers", "1", "--resume", "--quiet"]  # fmt: skip
    go = tmp_path / "go"
    # the second process imports everything first, then waits for the signal to start
    waiting = (
        "import pathlib, sys, time\n"
        "from waste_harmony.cli import main\n"
        f"while not pathlib.Path({str(go)!r}).exists(): time.sleep(0.01)\n"
        f"sys.exit(main({command[3:]!r}))\n"
    )
    second = subprocess.Popen([sys.executable, "-c", waiting], stderr=subprocess.PIPE, text=True)
    first = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    started = out / "runs" / "p0000-r0000" / "manifest.json"
    while not started.exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    # the first is writing (its lock taken, a run finished) and has 39 runs to go
    assert started.exists() and lock_path(out).exists(), "the first sweep never started"
    go.touch()
    assert second.wait(timeout=300) == 2
    assert first.poll() is None  # refused while the first was still writing
    assert first.wait(timeout=300) == 0, first.stderr.read() if first.stderr else ""
    err = second.stderr.read().strip() if second.stderr else ""
    assert "\n" not in err and "is being written by another waste-harmony process" in err
    assert f"process {first.pid} on {socket.gethostname()}" in err
    result = load_results(out)
    assert result.n_finished == 40 and result.damaged() == {}
    assert len(result.timings()) == 40  # every run made once: one timings line each
    assert not lock_path(out).exists()  # released by the winner
