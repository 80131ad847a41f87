"""Tests for the bootstrap scripts (scripts/setup_env.sh, scripts/*.sh, .ci/run).

Interpreter discovery is exercised with fake ``python`` executables (tiny shell
scripts that answer the version probe) in a throw-away directory, with a fully
controlled PATH / HOME / PYENV_ROOT, via ``WASTE_HARMONY_FIND_PYTHON_ONLY=1``.
Nothing is installed.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SETUP = ROOT / "scripts" / "setup_env.sh"
SCRIPTS = [
    ROOT / "scripts" / "setup_env.sh",
    ROOT / "scripts" / "example.sh",
    ROOT / "scripts" / "test.sh",
    ROOT / "scripts" / "check.sh",
    ROOT / ".ci" / "run",
]
BASH = shutil.which("bash") or "/bin/bash"


def _write_exe(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def fake_python(
    path: Path, version: str, level: str = "final", venv_ok: bool = True, ft: bool = False
) -> Path:
    """A fake interpreter answering setup_env.sh's probe like a real one would."""
    major, minor, micro = version.split(".")
    answer = f"{major} {minor} {micro} {level} {int(venv_ok)} {int(ft)}"
    return _write_exe(
        path,
        f'#!/bin/sh\nif [ "$1" = "-c" ]; then echo "{answer}"; exit 0; fi\nexit 3\n',
    )


def find_python(tmp_path: Path, path_dirs: list[Path], **env: str):
    """Run setup_env.sh in discovery-only mode with a controlled environment."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    full_env = {
        "PATH": os.pathsep.join(str(d) for d in path_dirs) or str(tmp_path / "empty"),
        "HOME": str(home),
        "WASTE_HARMONY_FIND_PYTHON_ONLY": "1",
        # keep the machine's real /usr/bin/python3.1x out of the picture
        "WASTE_HARMONY_SYSTEM_PYTHON_DIRS": str(tmp_path / "sysbin"),
        **env,
    }
    return subprocess.run(
        [BASH, str(SETUP)],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )


@pytest.fixture
def bindir(tmp_path: Path) -> Path:
    """A PATH directory whose default python3 is 3.11 (like the target machine)."""
    d = tmp_path / "bin"
    fake_python(d / "python3", "3.11.7")
    fake_python(d / "python3.11", "3.11.7")
    return d


def test_picks_pyenv_312_over_path_311(tmp_path, bindir):
    root = tmp_path / "pyenv"
    want = fake_python(root / "versions" / "3.12.4" / "bin" / "python", "3.12.4")
    fake_python(root / "versions" / "3.11.7" / "bin" / "python", "3.11.7")
    res = find_python(tmp_path, [bindir], PYENV_ROOT=str(root))
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == str(want)


def test_finds_home_pyenv_without_pyenv_command_or_root(tmp_path, bindir):
    want = fake_python(
        tmp_path / "home" / ".pyenv" / "versions" / "3.12.1" / "bin" / "python", "3.12.1"
    )
    res = find_python(tmp_path, [bindir])
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == str(want)


def test_uses_pyenv_root_reported_by_pyenv_command(tmp_path, bindir):
    root = tmp_path / "elsewhere"
    want = fake_python(root / "versions" / "3.13.2" / "bin" / "python", "3.13.2")
    _write_exe(bindir / "pyenv", f'#!/bin/sh\n[ "$1" = root ] && echo "{root}"\n')
    res = find_python(tmp_path, [bindir])
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == str(want)


def test_only_311_fails_with_helpful_message(tmp_path, bindir):
    res = find_python(tmp_path, [bindir], PYENV_ROOT=str(tmp_path / "nopyenv"))
    assert res.returncode != 0
    assert res.stdout.strip() == ""
    assert "3.12" in res.stderr
    assert "3.11.7" in res.stderr  # says what it found
    assert "WASTE_HARMONY_PYTHON" in res.stderr  # says how to fix it
    assert "pyenv" in res.stderr


def test_no_python_at_all_fails(tmp_path):
    res = find_python(tmp_path, [])
    assert res.returncode != 0
    assert "3.12" in res.stderr


def test_newest_stable_wins(tmp_path, bindir):
    other = tmp_path / "bin2"
    fake_python(bindir / "python3.12", "3.12.8")
    want = fake_python(other / "python3.13", "3.13.1")
    res = find_python(tmp_path, [bindir, other])
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == str(want)


def test_stable_preferred_over_prerelease_and_free_threaded(tmp_path, bindir):
    fake_python(bindir / "python3.14", "3.14.0", level="alpha")
    fake_python(bindir / "python3.15", "3.15.0", level="beta")
    root = tmp_path / "pyenv"
    fake_python(root / "versions" / "3.13.1t" / "bin" / "python", "3.13.1", ft=True)
    want = fake_python(bindir / "python3.12", "3.12.3")
    res = find_python(tmp_path, [bindir], PYENV_ROOT=str(root))
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == str(want)


def test_prerelease_used_when_nothing_else(tmp_path, bindir):
    want = fake_python(bindir / "python3.14", "3.14.0", level="candidate")
    res = find_python(tmp_path, [bindir])
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == str(want)


def test_skips_interpreter_without_venv(tmp_path, bindir):
    fake_python(bindir / "python3.13", "3.13.0", venv_ok=False)
    want = fake_python(tmp_path / "pyenv" / "versions" / "3.12.2" / "bin" / "python", "3.12.2")
    res = find_python(tmp_path, [bindir], PYENV_ROOT=str(tmp_path / "pyenv"))
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == str(want)


def test_skips_broken_candidate(tmp_path, bindir):
    _write_exe(
        bindir / "python3.13",
        "#!/bin/sh\necho 'pyenv: python3.13: command not found' >&2\nexit 127\n",
    )
    want = fake_python(tmp_path / "sysbin" / "python3.12", "3.12.0")
    res = find_python(tmp_path, [bindir])
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == str(want)


def test_system_dirs_searched(tmp_path, bindir):
    want = fake_python(tmp_path / "sysbin" / "python3.12", "3.12.5")
    fake_python(tmp_path / "sysbin" / "python3.11", "3.11.9")
    res = find_python(tmp_path, [bindir])
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == str(want)


def test_explicit_python_is_honoured(tmp_path, bindir):
    fake_python(bindir / "python3.13", "3.13.3")
    want = fake_python(tmp_path / "custom" / "py", "3.12.9")
    res = find_python(tmp_path, [bindir], WASTE_HARMONY_PYTHON=str(want))
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == str(want)


def test_explicit_python_too_old_is_an_error(tmp_path, bindir):
    fake_python(bindir / "python3.13", "3.13.3")  # would be found, but must not be used
    res = find_python(tmp_path, [bindir], WASTE_HARMONY_PYTHON=str(bindir / "python3"))
    assert res.returncode != 0
    assert "3.12" in res.stderr
    assert "WASTE_HARMONY_PYTHON" in res.stderr


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_scripts_are_valid_executable_bash(script):
    assert script.is_file()
    assert os.access(script, os.X_OK), f"{script} is not executable"
    assert script.read_text().startswith("#!/usr/bin/env bash\n")
    res = subprocess.run([BASH, "-n", str(script)], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr


def test_readme_scripts_pass_args_through():
    assert 'python examples/flagship.py "$@"' in (ROOT / "scripts" / "example.sh").read_text()
    test_sh = (ROOT / "scripts" / "test.sh").read_text()
    run_lines = [ln.strip() for ln in test_sh.splitlines() if ln.strip().startswith("exec ")]
    # all extra args go to pytest; nothing is deselected by default (no -m / -k / --ignore);
    # the tests run on one pytest-xdist worker per core (scheduled by tests/conftest.py)
    assert run_lines == ['exec python -m pytest -n auto --dist loadfile "$@"']


@pytest.mark.parametrize(("inner", "expected"), [(0, 0), (1, 1), (2, 2), (5, 1)])
def test_ci_run_exit_codes(tmp_path, inner, expected):
    """.ci/run runs scripts/test.sh, passes its status through, except 5 -> failure."""
    (tmp_path / ".ci").mkdir()
    shutil.copy2(ROOT / ".ci" / "run", tmp_path / ".ci" / "run")
    _write_exe(tmp_path / "scripts" / "check.sh", "#!/usr/bin/env bash\nexit 0\n")
    _write_exe(tmp_path / "scripts" / "test.sh", f"#!/usr/bin/env bash\nexit {inner}\n")
    res = subprocess.run(
        [BASH, ".ci/run"],
        cwd=tmp_path,
        env={**os.environ, "CI": "true"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert res.returncode == expected, res.stdout + res.stderr
    assert "finished with exit code" in res.stdout
    if inner == 5:
        assert "no tests" in res.stderr


def test_ci_run_stops_when_checks_fail(tmp_path):
    """A finding of scripts/check.sh fails .ci/run before the tests start."""
    (tmp_path / ".ci").mkdir()
    shutil.copy2(ROOT / ".ci" / "run", tmp_path / ".ci" / "run")
    _write_exe(tmp_path / "scripts" / "check.sh", "#!/usr/bin/env bash\nexit 1\n")
    marker = tmp_path / "tests-ran"
    _write_exe(tmp_path / "scripts" / "test.sh", f"#!/usr/bin/env bash\ntouch {marker}\nexit 0\n")
    res = subprocess.run(
        [BASH, ".ci/run"],
        cwd=tmp_path,
        env={**os.environ, "CI": "true"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert res.returncode == 1, res.stdout + res.stderr
    assert "static checks failed" in res.stderr
    assert not marker.exists()


def _check(paths: list[Path]) -> subprocess.CompletedProcess[str]:
    """scripts/check.sh on ``paths`` with the ruff next to this interpreter, mypy skipped."""
    ruff_dir = Path(shutil.which("ruff") or Path(sys.executable).with_name("ruff")).parent
    env = {
        **os.environ,
        "PATH": f"{ruff_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "WASTE_HARMONY_NO_SETUP": "1",
        "WASTE_HARMONY_SKIP_MYPY": "1",
    }
    return subprocess.run(
        [BASH, str(ROOT / "scripts" / "check.sh"), *map(str, paths)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.skipif(
    not (shutil.which("ruff") or Path(sys.executable).with_name("ruff").exists()),
    reason="ruff is not installed (it comes with the test extra)",
)
def test_check_script_fails_on_lint_and_format_findings(tmp_path):
    clean = tmp_path / "clean.py"
    clean.write_text('"""A clean module."""\n\nVALUE = 1\n')
    assert _check([clean]).returncode == 0

    unused = tmp_path / "unused.py"
    unused.write_text('"""Imports what it never uses."""\n\nimport os\n')
    res = _check([unused])
    assert res.returncode == 1
    assert "F401" in res.stdout
    assert "FAILED: ruff check" in res.stderr

    messy = tmp_path / "messy.py"
    messy.write_text('"""Badly formatted."""\n\nVALUE = {  "a":1 }\n')
    res = _check([messy])
    assert res.returncode == 1
    assert "FAILED: ruff format --check" in res.stderr


FAKE_VENV_PYTHON = """#!/usr/bin/env bash
echo "$*" >> "$FAKE_LOG"
case "$*" in
*ensurepip*) echo "3 13 0 final 1 0" ;;
*hashlib*) echo "0123abcd" ;;
*sys.version*) echo "3.13.0" ;;
*"-m pip install"*)
    mkdir -p "${0%/bin/python}/lib/python3.13/site-packages/waste_harmony-0.dist-info" ;;
esac
"""


FAKE_VENV_UV = """#!/bin/sh
echo "uv $*" >> "$FAKE_LOG"
mkdir -p "${0%/bin/uv}/lib/python3.13/site-packages/waste_harmony-0.dist-info"
"""


def _setup(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run a copy of setup_env.sh against a fake venv whose python logs its arguments."""
    root = tmp_path / "repo"
    (root / "scripts").mkdir(parents=True, exist_ok=True)
    shutil.copy(SETUP, root / "scripts" / "setup_env.sh")
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    log = tmp_path / "python.log"
    log.write_text("")
    _write_exe(root / ".venv" / "bin" / "python", FAKE_VENV_PYTHON)
    _write_exe(root / ".venv" / "bin" / "uv", FAKE_VENV_UV)
    done = subprocess.run(
        [BASH, str(root / "scripts" / "setup_env.sh")],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), "FAKE_LOG": str(log), **env},
        check=False,
        timeout=60,
    )
    installs = [line for line in log.read_text().splitlines() if "pip install" in line]
    return done, installs


def test_example_installs_only_what_running_needs(tmp_path):
    # Issue 19, item 7: the first run installed Sphinx, Playwright and Dask and ran
    # apt-get install chromium to simulate one year.
    assert "export WH_PROFILE=run" in (ROOT / "scripts" / "example.sh").read_text()
    done, installs = _setup(tmp_path, WH_PROFILE="run")
    assert done.returncode == 0, done.stderr
    assert installs[-1].endswith(" -e .")  # the library alone, no extra
    assert "chromium" not in done.stderr
    # the test command installs the rest, and a later first run reuses it
    done, installs = _setup(tmp_path, WASTE_HARMONY_SKIP_SYSTEM="1")
    assert done.returncode == 0, done.stderr
    assert installs[-1].endswith(" -e .[dev]")
    done, installs = _setup(tmp_path, WH_PROFILE="run")
    assert "skipping the install" in done.stderr and not installs


def test_the_install_writes_bytecode_and_redoes_an_older_venv(tmp_path):
    # uv writes no .pyc unless told (pip does): with PYTHONDONTWRITEBYTECODE=1, as in
    # many CI images, every process of the suite compiled pandas, SciPy, Mesa... again
    done, installs = _setup(tmp_path, WASTE_HARMONY_SKIP_SYSTEM="1")
    assert done.returncode == 0, done.stderr
    assert "--compile-bytecode" in installs[-1]
    # a venv installed by the former recipe (same pyproject, no bytecode) is redone once
    stamp = tmp_path / "repo" / ".venv" / ".waste_harmony_install_stamp"
    stamp.write_text("pyproject=0123abcd python=3.13.0 profile=dev\n")
    done, installs = _setup(tmp_path, WASTE_HARMONY_SKIP_SYSTEM="1")
    assert done.returncode == 0, done.stderr
    assert installs and "--compile-bytecode" in installs[-1]
    done, installs = _setup(tmp_path, WASTE_HARMONY_SKIP_SYSTEM="1")
    assert "skipping the install" in done.stderr and not installs
