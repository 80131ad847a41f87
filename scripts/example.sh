#!/usr/bin/env bash
# README command #1: set everything up, then run the flagship example.
#   bash scripts/example.sh [args passed to examples/flagship.py]
# Works from any directory; the example runs from the repository root, so its
# output lands in <repo>/results/flagship/.
set -euo pipefail
# A first run installs only what running needs (no Sphinx, Playwright, Dask or
# chromium); scripts/test.sh installs the rest. An existing dev install is used as is.
export WH_PROFILE=run
# shellcheck source=scripts/setup_env.sh
source "$(CDPATH='' cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)/setup_env.sh"
cd "$WH_ROOT"
if [[ ! -f examples/flagship.py ]]; then
    echo "[example] ERROR: $WH_ROOT/examples/flagship.py does not exist (yet)." >&2
    exit 1
fi
echo "[example] python examples/flagship.py $*" >&2
exec python examples/flagship.py "$@"
