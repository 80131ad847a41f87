#!/usr/bin/env bash
# README command #2: set everything up, then run the whole test suite.
#   bash scripts/test.sh [args passed to pytest]
# Runs every test (all markers: slow, validation, browser); nothing is
# deselected by default. Works from any directory; pytest runs from the
# repository root (so relative paths in the arguments are relative to it).
# In parallel: one pytest-xdist worker per core (-n auto; PYTEST_XDIST_AUTO_NUM_WORKERS
# sets the number), a test file per unit of work and the files with slow tests
# first (tests/conftest.py). `-n 0` runs in one process (e.g. for --pdb), `-n N`
# on N workers. The quick loop: bash scripts/test.sh -m "not slow".
set -euo pipefail
# shellcheck source=scripts/setup_env.sh
source "$(CDPATH='' cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)/setup_env.sh"
cd "$WH_ROOT"
# The project's own bytecode, written now (fast, only what changed): the suite starts
# many Python processes (xdist workers, spawned pools, Jupyter kernels, the CLI)
# and with PYTHONDONTWRITEBYTECODE=1 each would compile src/ again (setup_env.sh does
# the same for the installed packages). The .pyc files are git-ignored.
python -m compileall -q src tests >/dev/null || true # a syntax error: pytest reports it
echo "[test] python -m pytest -n auto --dist loadfile $* ($(python -c 'import sys; print("Python", sys.version.split()[0])'))" >&2
exec python -m pytest -n auto --dist loadfile "$@"
