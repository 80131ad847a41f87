#!/usr/bin/env bash
# Set up everything waste_harmony needs on a fresh machine, idempotently.
#
# Sourced by scripts/example.sh and scripts/test.sh (the README's two commands);
# it can also be run on its own: `bash scripts/setup_env.sh`.
#
# What it does:
#   1. finds a Python >= 3.12 (see wh_find_python below for the search order);
#   2. creates/repairs the virtualenv <repo>/.venv and installs the project
#      editable with the `dev` extra -- skipped when pyproject.toml is unchanged
#      since the last successful install (hash stamp inside .venv). The installer
#      is uv (the `uv` package from PyPI, put into .venv by pip): it installs the
#      dev extra into a fresh venv in about 35 s where pip takes minutes; pip
#      installs instead when uv cannot be installed. Both write the bytecode
#      (.pyc) of what they install, so that no process compiles it again. With
#      WH_PROFILE=run (set by scripts/example.sh) only what running needs: the
#      project without extras, no system packages; a later dev install adds the rest;
#   3. installs missing system packages the tests need (ensure_system_packages);
#   4. exports PATH (.venv/bin first), VIRTUAL_ENV and MPLBACKEND=Agg (if unset).
#
# Environment knobs:
#   WASTE_HARMONY_PYTHON=/path/to/python  use this interpreter (must be >= 3.12)
#   WASTE_HARMONY_SKIP_SYSTEM=1           do not touch system packages
#   WASTE_HARMONY_FIND_PYTHON_ONLY=1      print the interpreter that would be
#                                         used and exit (nothing is installed)
#   WASTE_HARMONY_SYSTEM_PYTHON_DIRS      fixed dirs searched last
#                                         (default "/usr/local/bin /usr/bin")
#   WASTE_HARMONY_FORCE_INSTALL=1         re-run the install even if up to date
#   WASTE_HARMONY_INSTALLER=uv|pip        the installer (default uv; pip: pip alone)
#
# Interpreter discovery uses bash builtins only, so it works with a minimal PATH.

set -euo pipefail

_wh_src="${BASH_SOURCE[0]}"
if [[ "$_wh_src" == */* ]]; then _wh_dir="${_wh_src%/*}"; else _wh_dir="."; fi
WH_ROOT="$(CDPATH='' cd -P -- "$_wh_dir/.." && pwd)"
unset _wh_src _wh_dir
WH_VENV="$WH_ROOT/.venv"
WH_STAMP="$WH_VENV/.waste_harmony_install_stamp"
# What to install: "dev" (everything the tests, docs and browser tests need; the
# default) or "run" (the library alone: a first run, scripts/example.sh).
WH_PROFILE="${WH_PROFILE:-dev}"
case "$WH_PROFILE" in
dev) WH_SPEC=".[dev]" ;;
run) WH_SPEC="." ;;
*)
    printf '[setup] ERROR: WH_PROFILE=%s: use dev or run\n' "$WH_PROFILE" >&2
    exit 1
    ;;
esac
WH_MIN_MINOR=12 # Python 3.12 is the minimum (pyproject: requires-python >=3.12)

wh_log() { printf '[setup] %s\n' "$*" >&2; }
wh_warn() { printf '[setup] WARNING: %s\n' "$*" >&2; }
wh_die() {
    printf '[setup] ERROR: %s\n' "$*" >&2
    exit 1
}

# Prints "major minor micro releaselevel venv_ok free_threaded"; python2-safe.
WH_PROBE='import sys
ok = 1
try:
    import venv, ensurepip
    ensurepip.version()
except Exception:
    ok = 0
ft = 0
try:
    import sysconfig
    ft = 1 if sysconfig.get_config_var("Py_GIL_DISABLED") else 0
except Exception:
    pass
sys.stdout.write("%d %d %d %s %d %d\n" % (tuple(sys.version_info[:4]) + (ok, ft)))'

# wh_probe PY -> sets WH_P_MAJOR WH_P_MINOR WH_P_MICRO WH_P_LEVEL WH_P_VENV WH_P_FT
# Returns non-zero if PY cannot be run or answers garbage.
wh_probe() {
    local py="$1" out
    [[ -f "$py" && -x "$py" ]] || return 1
    if command -v timeout >/dev/null 2>&1; then
        out="$(timeout 30 "$py" -c "$WH_PROBE" 2>/dev/null)" || return 1
    else
        out="$("$py" -c "$WH_PROBE" 2>/dev/null)" || return 1
    fi
    read -r WH_P_MAJOR WH_P_MINOR WH_P_MICRO WH_P_LEVEL WH_P_VENV WH_P_FT <<<"$out" || true
    [[ "${WH_P_MAJOR:-}" =~ ^[0-9]+$ && "${WH_P_MINOR:-}" =~ ^[0-9]+$ &&
        "${WH_P_MICRO:-}" =~ ^[0-9]+$ && -n "${WH_P_LEVEL:-}" ]] || return 1
    WH_P_VENV="${WH_P_VENV:-0}"
    WH_P_FT="${WH_P_FT:-0}"
}

wh_version_ok() { # uses the last wh_probe result
    ((WH_P_MAJOR > 3 || (WH_P_MAJOR == 3 && WH_P_MINOR >= WH_MIN_MINOR)))
}

wh_version_str() {
    local s="$WH_P_MAJOR.$WH_P_MINOR.$WH_P_MICRO"
    [[ "$WH_P_LEVEL" == final ]] || s="$s ($WH_P_LEVEL)"
    [[ "$WH_P_FT" == 1 ]] && s="$s (free-threaded)"
    printf '%s' "$s"
}

# Candidate interpreters, in search order (duplicates removed).
wh_candidates() {
    WH_CANDIDATES=()
    local seen=$'\n' dir name f root pyenv_root=""
    _wh_add() {
        [[ -n "$1" ]] || return 0
        case "$seen" in *$'\n'"$1"$'\n'*) return 0 ;; esac
        seen+="$1"$'\n'
        WH_CANDIDATES+=("$1")
    }
    # 1. PATH: the newest versioned names first, then the generic ones.
    local IFS_SAVE="$IFS" path_dirs=()
    IFS=':' read -r -a path_dirs <<<"${PATH:-}"
    IFS="$IFS_SAVE"
    for name in python3.19 python3.18 python3.17 python3.16 python3.15 python3.14 \
        python3.13 python3.12 python3 python; do
        for dir in "${path_dirs[@]}"; do
            [[ -n "$dir" ]] || dir="."
            if [[ -x "$dir/$name" && ! -d "$dir/$name" ]]; then _wh_add "$dir/$name"; fi
        done
    done
    # 2. pyenv installs, even when the pyenv command itself is not on PATH.
    if command -v pyenv >/dev/null 2>&1; then
        pyenv_root="$(pyenv root 2>/dev/null || true)"
    fi
    local -a roots=()
    if [[ -n "$pyenv_root" ]]; then roots+=("$pyenv_root"); fi
    if [[ -n "${PYENV_ROOT:-}" ]]; then roots+=("$PYENV_ROOT"); fi
    if [[ -n "${HOME:-}" ]]; then roots+=("$HOME/.pyenv"); fi
    for root in "${roots[@]}"; do
        for dir in "$root"/versions/*/bin; do
            [[ -d "$dir" ]] || continue
            for name in python python3; do
                if [[ -x "$dir/$name" ]]; then
                    _wh_add "$dir/$name"
                    break
                fi
            done
        done
    done
    # 3. uv-managed interpreters (cheap to look at; harmless if absent).
    if [[ -n "${HOME:-}" ]]; then
        for f in "$HOME"/.local/share/uv/python/cpython-3.*/bin/python3; do
            if [[ -x "$f" ]]; then _wh_add "$f"; fi
        done
    fi
    # 4. fixed system locations.
    for dir in ${WASTE_HARMONY_SYSTEM_PYTHON_DIRS-/usr/local/bin /usr/bin}; do
        for f in "$dir"/python3.1[2-9]; do
            if [[ -x "$f" ]]; then _wh_add "$f"; fi
        done
    done
    unset -f _wh_add
}

# Sets WH_PYTHON to the best interpreter >= 3.12, or exits with a helpful message.
# Preference: stable 3.12/3.13 > other stable (3.14+) > free-threaded > pre-release;
# within a tier the newest version wins; ties go to the first found.
wh_find_python() {
    local py report="" best="" best_score=-1 score tier
    if [[ -n "${WASTE_HARMONY_PYTHON:-}" ]]; then
        py="$WASTE_HARMONY_PYTHON"
        if [[ "$py" != */* ]]; then
            py="$(command -v -- "$py" 2>/dev/null || true)"
            [[ -n "$py" ]] || wh_die "WASTE_HARMONY_PYTHON=$WASTE_HARMONY_PYTHON: not found on PATH."
        fi
        wh_probe "$py" || wh_die "WASTE_HARMONY_PYTHON=$WASTE_HARMONY_PYTHON cannot be run."
        wh_version_ok || wh_die "WASTE_HARMONY_PYTHON=$py is Python $(wh_version_str);" \
            "waste_harmony requires Python >= 3.$WH_MIN_MINOR."
        [[ "$WH_P_VENV" == 1 ]] || wh_die "WASTE_HARMONY_PYTHON=$py (Python $(wh_version_str))" \
            "lacks a working venv/ensurepip (on Debian/Ubuntu: apt-get install" \
            "python3.$WH_P_MINOR-venv)."
        WH_PYTHON="$py"
        WH_PYTHON_VERSION="$WH_P_MAJOR.$WH_P_MINOR.$WH_P_MICRO"
        return 0
    fi

    wh_candidates
    for py in "${WH_CANDIDATES[@]}"; do
        if ! wh_probe "$py"; then
            report+="    $py: does not run"$'\n'
            continue
        fi
        if ! wh_version_ok; then
            report+="    $py: Python $(wh_version_str) (too old)"$'\n'
            continue
        fi
        if [[ "$WH_P_VENV" != 1 ]]; then
            report+="    $py: Python $(wh_version_str), but no working venv/ensurepip"$'\n'
            continue
        fi
        report+="    $py: Python $(wh_version_str)"$'\n'
        if [[ "$WH_P_LEVEL" != final ]]; then
            tier=3
        elif [[ "$WH_P_FT" == 1 ]]; then
            tier=2
        elif ((WH_P_MAJOR == 3 && WH_P_MINOR <= 13)); then
            tier=0
        else
            tier=1
        fi
        score=$(((3 - tier) * 100000000 + WH_P_MAJOR * 1000000 + WH_P_MINOR * 1000 + WH_P_MICRO))
        if ((score > best_score)); then
            best_score=$score
            best="$py"
            WH_PYTHON_VERSION="$WH_P_MAJOR.$WH_P_MINOR.$WH_P_MICRO"
        fi
    done
    if [[ -z "$best" ]]; then
        [[ -n "$report" ]] || report="    (no python interpreters found at all)"$'\n'
        printf '%s\n' \
            "[setup] ERROR: waste_harmony requires Python >= 3.$WH_MIN_MINOR, but no usable" \
            "[setup] interpreter was found. Candidates examined:" >&2
        printf '%s' "$report" >&2
        printf '%s\n' \
            "[setup] Fix it in one of these ways, then re-run the command:" \
            "[setup]   * pyenv:         pyenv install 3.12   (found automatically afterwards)" \
            "[setup]   * Debian/Ubuntu: apt-get install python3.12 python3.12-venv" \
            "[setup]                    (Ubuntu: deadsnakes PPA if your release lacks it)" \
            "[setup]   * python.org:    https://www.python.org/downloads/" \
            "[setup]   * or point to one explicitly: WASTE_HARMONY_PYTHON=/path/to/python3.12" >&2
        exit 1
    fi
    WH_PYTHON="$best"
}

wh_hash_file() { # portable sha256 of a file, via the venv's python
    "$WH_VENV/bin/python" -c 'import hashlib, sys
print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$1"
}

wh_ensure_venv() {
    local want_minor="" reason=""
    if [[ -n "${WASTE_HARMONY_PYTHON:-}" ]]; then
        wh_find_python
        want_minor="$WH_PYTHON_VERSION"
        want_minor="${want_minor%.*}"
    fi
    if [[ ! -e "$WH_VENV/bin/python" ]]; then
        reason="no virtualenv yet"
    elif ! wh_probe "$WH_VENV/bin/python"; then
        reason="$WH_VENV/bin/python is broken"
    elif ! wh_version_ok; then
        reason="$WH_VENV uses Python $(wh_version_str) (< 3.$WH_MIN_MINOR)"
    elif [[ -n "$want_minor" && "$want_minor" != "$WH_P_MAJOR.$WH_P_MINOR" ]]; then
        reason="$WH_VENV uses Python $WH_P_MAJOR.$WH_P_MINOR, WASTE_HARMONY_PYTHON is $want_minor"
    fi
    [[ -n "$reason" ]] || return 0

    [[ -n "$want_minor" ]] || wh_find_python
    wh_log "$reason: creating $WH_VENV with $WH_PYTHON (Python $WH_PYTHON_VERSION)"
    if [[ -e "$WH_VENV" || -L "$WH_VENV" ]]; then
        rm -rf -- "$WH_VENV"
    fi
    "$WH_PYTHON" -m venv "$WH_VENV" ||
        wh_die "could not create $WH_VENV with $WH_PYTHON (python -m venv failed, see above)."
}

wh_install_project() {
    local want have="" dist
    # recipe=2: the installs of this script compile bytecode (an older venv is redone)
    want="recipe=2 pyproject=$(wh_hash_file "$WH_ROOT/pyproject.toml") python=$(
        "$WH_VENV/bin/python" -c 'import sys; print(sys.version.split()[0])'
    )"
    [[ -f "$WH_STAMP" ]] && have="$(<"$WH_STAMP")"
    # a dev install holds everything a run needs
    want="$want profile=$WH_PROFILE"
    if [[ "$WH_PROFILE" == run && "$have" == "${want% profile=run} profile=dev" ]]; then
        have="$want"
    fi
    if [[ "$want" == "$have" && "${WASTE_HARMONY_FORCE_INSTALL:-0}" != 1 ]]; then
        # Cheap sanity check that the editable install is still there.
        for dist in "$WH_VENV"/lib/python3.*/site-packages/waste_harmony-*.dist-info; do
            if [[ -d "$dist" ]]; then
                wh_log "dependencies up to date (pyproject.toml unchanged); skipping the install"
                return 0
            fi
        done
    fi
    rm -f -- "$WH_STAMP"
    export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
    local installer="${WASTE_HARMONY_INSTALLER:-uv}"
    case "$installer" in
    uv | pip) ;;
    *) wh_die "WASTE_HARMONY_INSTALLER=$installer: use 'uv' (the default) or 'pip'." ;;
    esac
    if [[ "$installer" == uv && ! -x "$WH_VENV/bin/uv" ]] &&
        ! "$WH_VENV/bin/python" -m pip install -q uv; then
        wh_warn "could not install uv into $WH_VENV; installing with pip instead (slower)"
        installer=pip
    fi
    wh_log "installing waste_harmony (editable, $WH_SPEC, profile $WH_PROFILE) into $WH_VENV with $installer ..."
    if [[ "$installer" == uv ]]; then
        # --compile-bytecode: pip writes the .pyc files at install, uv does not unless
        # told; without them every new process (test workers, spawned pools, Jupyter
        # kernels, the CLI) compiles pandas, SciPy, Mesa... again when bytecode writing
        # is off (PYTHONDONTWRITEBYTECODE=1, common in CI images): ~3x the import time.
        (cd "$WH_ROOT" && "$WH_VENV/bin/uv" pip install -q --compile-bytecode \
            --python "$WH_VENV/bin/python" -e "$WH_SPEC") ||
            wh_die "uv pip install -e \"$WH_SPEC\" failed (see above)."
    else
        "$WH_VENV/bin/python" -m pip install -q --upgrade pip ||
            wh_die "upgrading pip failed (see above)."
        (cd "$WH_ROOT" && "$WH_VENV/bin/python" -m pip install -q -e "$WH_SPEC") ||
            wh_die "pip install -e \"$WH_SPEC\" failed (see above)."
    fi
    printf '%s\n' "$want" >"$WH_STAMP"
    wh_log "install done"
}

# ---------------------------------------------------------------- system packages
WH_APT_UPDATED=0

# wh_apt_install PKG... : install Debian packages if we can (root or passwordless sudo).
wh_apt_install() {
    local -a sudo=()
    command -v apt-get >/dev/null 2>&1 || {
        wh_warn "apt-get not available; cannot install: $*"
        return 1
    }
    if ((EUID != 0)); then
        if command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
            sudo=(sudo -n)
        else
            wh_warn "not root and no passwordless sudo; cannot install: $*"
            return 1
        fi
    fi
    local log
    log="$(mktemp "${TMPDIR:-/tmp}/waste_harmony_apt.XXXXXX")"
    wh_log "installing system package(s): $* (apt-get)"
    if ((WH_APT_UPDATED == 0)); then
        if ! ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null >"$log" 2>&1; then
            tail -n 20 "$log" >&2
            rm -f -- "$log"
            wh_warn "apt-get update failed"
            return 1
        fi
        WH_APT_UPDATED=1
    fi
    if ! ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" </dev/null >"$log" 2>&1; then
        tail -n 20 "$log" >&2
        rm -f -- "$log"
        wh_warn "apt-get install $* failed"
        return 1
    fi
    rm -f -- "$log"
}

# Add more "command:debian-package:why" entries here as the test suite grows.
WH_SYSTEM_PACKAGES=(
    "chromium:chromium:browser tests (pytest -m browser)"
)

ensure_system_packages() {
    if [[ "${WASTE_HARMONY_SKIP_SYSTEM:-0}" == 1 ]]; then
        wh_log "WASTE_HARMONY_SKIP_SYSTEM=1: not checking system packages"
        return 0
    fi
    local entry cmd pkg why
    for entry in "${WH_SYSTEM_PACKAGES[@]}"; do
        IFS=':' read -r cmd pkg why <<<"$entry"
        command -v "$cmd" >/dev/null 2>&1 && continue
        if wh_apt_install "$pkg" && command -v "$cmd" >/dev/null 2>&1; then
            wh_log "installed $pkg"
        else
            wh_warn "'$cmd' is missing and could not be installed (package '$pkg');" \
                "$why will fail. Install it yourself, e.g. 'sudo apt-get install $pkg'."
        fi
    done
}

# --------------------------------------------------------------------------- main
if [[ "${WASTE_HARMONY_FIND_PYTHON_ONLY:-0}" == 1 ]]; then
    wh_find_python
    printf '%s\n' "$WH_PYTHON"
    exit 0
fi

wh_ensure_venv
wh_install_project
if [[ "$WH_PROFILE" == dev ]]; then
    ensure_system_packages # chromium for the browser tests: not needed to run
fi

export VIRTUAL_ENV="$WH_VENV"
export PATH="$WH_VENV/bin:$PATH"
export MPLBACKEND="${MPLBACKEND:-Agg}"
unset PYTHONHOME
hash -r 2>/dev/null || true

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    wh_log "environment ready: $WH_VENV (activate with: source .venv/bin/activate)"
fi
