"""Experiments started from plain scripts (issue 19, item 3).

A script that called ``experiments.compare(...)`` at its top level ended with every run
failed (``WorkerDied``) and an unrelated ``FileNotFoundError``; code from standard input
failed with ``FileNotFoundError: '<stdin>'``. Now the first is refused before any worker
starts, in one line with the fix, and the second runs serially with a warning.
"""

import ast
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

from waste_harmony.batch.guard import UnguardedMainError, checked_executor, unguarded_line

ENSEMBLE = (
    "from waste_harmony import experiments\n"
    "r = experiments.ensemble(seeds=2, days=2, n_citizens=40, root_seed=1, progress=False)\n"
    "print('rows', len(r.load(['mean_concern'])))\n"
)


def _python(args, tmp_path, **kwargs):
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
        **kwargs,
    )


def test_a_script_without_the_guard_is_refused_in_one_line_with_the_fix(tmp_path):
    (tmp_path / "study.py").write_text(ENSEMBLE)
    done = _python(["study.py"], tmp_path)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("waste_harmony.batch.guard.UnguardedMainError: study.py line 2")
    assert 'if __name__ == "__main__":' in last
    assert "WorkerDied" not in done.stderr and not (tmp_path / "results").exists()


def test_code_from_standard_input_runs_serially_with_a_warning(tmp_path):
    done = _python(["-"], tmp_path, input=ENSEMBLE)
    assert done.returncode == 0, done.stderr
    assert "rows 6" in done.stdout
    assert "standard input" in done.stderr and "running serially" in done.stderr


@pytest.mark.slow
def test_a_guarded_script_uses_workers(tmp_path):
    body = textwrap.indent(ENSEMBLE.replace("progress=False", "progress=False, workers=2"), "    ")
    (tmp_path / "study.py").write_text(f'if __name__ == "__main__":\n{body}')
    done = _python(["study.py"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "rows 6" in done.stdout
    # 40 citizens are a sample (SampleSizeWarning, from the workers); no other warning
    others = [line for line in done.stderr.splitlines() if "Warning" in line]
    assert all("SampleSizeWarning" in line for line in others), done.stderr


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('if "__main__" == __name__:\n    probe()\n', None),
        ('def main():\n    probe()\n\n\nif __name__ == "__main__":\n    main()\n', None),
        ("probe()\n", 1),
        ("x = 1\nif x:\n    probe()\n", 3),
    ],
)
def test_unguarded_line_reads_the_guard_from_the_source(tmp_path, source, expected):
    path = tmp_path / "script.py"
    path.write_text(source)
    main = types.ModuleType("__main__")
    main.__file__ = str(path)
    found = []
    vars(main).update(__name__="__main__", probe=lambda: found.append(unguarded_line(main)))
    exec(compile(source, str(path), "exec"), vars(main))
    assert found == [expected]


def test_serial_and_dask_executors_are_not_checked():
    assert checked_executor("serial") == "serial"
    assert issubclass(UnguardedMainError, RuntimeError)


STARTERS = {"ensemble", "sweep", "compare", "calibrate", "sensitivity", "predictive"}


def _is_main_guard(node):
    return isinstance(node, ast.If) and "__main__" in ast.unparse(node.test)


def test_every_example_script_starts_workers_under_the_guard():
    # A copied example is the script a new user runs: none may start workers at its top
    # level (they would be refused with UnguardedMainError).
    examples = Path(__file__).resolve().parents[1] / "examples"
    for path in sorted(examples.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for statement in tree.body:
            if isinstance(statement, ast.FunctionDef | ast.ClassDef) or _is_main_guard(statement):
                continue
            calls = [
                node.func.attr
                for node in ast.walk(statement)
                if isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in STARTERS
            ]
            assert not calls, f"{path.name}:{statement.lineno} calls {calls} outside the guard"
