#!/usr/bin/env bash
# The static checks CI runs before the tests; any finding fails.
#   bash scripts/check.sh [paths...]
# Runs `ruff check`, `ruff format --check` and `mypy` (targets and settings in
# pyproject.toml's [tool.mypy]). With paths, ruff looks only at those paths
# (mypy always checks its configured files). Without, the whole repository.
# Uses the project's virtualenv (scripts/setup_env.sh sets it up if needed).
# Knobs: WASTE_HARMONY_NO_SETUP=1 uses the ruff/mypy already on PATH instead of
# sourcing setup_env.sh; WASTE_HARMONY_SKIP_MYPY=1 runs only the ruff checks.
set -uo pipefail
_wh_here="$(CDPATH='' cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
if [[ "${WASTE_HARMONY_NO_SETUP:-0}" == 1 ]]; then
    WH_ROOT="$(CDPATH='' cd -P -- "$_wh_here/.." && pwd)"
else
    # shellcheck source=scripts/setup_env.sh
    source "$_wh_here/setup_env.sh" || exit 1
fi
cd "$WH_ROOT" || exit 1
set +e

paths=("$@")
[[ ${#paths[@]} -gt 0 ]] || paths=(.)
failed=()
echo "[check] ruff check ${paths[*]}" >&2
ruff check "${paths[@]}" || failed+=("ruff check")
echo "[check] ruff format --check ${paths[*]}" >&2
ruff format --check "${paths[@]}" || failed+=("ruff format --check (fix: ruff format)")
if [[ "${WASTE_HARMONY_SKIP_MYPY:-0}" != 1 ]]; then
    echo "[check] mypy" >&2
    mypy || failed+=("mypy")
fi

if [[ ${#failed[@]} -gt 0 ]]; then
    printf '[check] FAILED: %s\n' "${failed[@]}" >&2
    exit 1
fi
echo "[check] all checks passed" >&2
