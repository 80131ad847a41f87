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
