"""How soon a huge sweep starts: time to the first finished run and the parent's memory.

A sweep file with a grid of ``--sizes`` points (two parameters, ``a x b`` values,
one seed, 20 citizens for 1 day on a 3 x 3 grid city) is run with
``waste-harmony sweep FILE --workers 1`` in a child process. Measured from the
command's start:

* **first run**: seconds until the first run's ``manifest.json`` exists (the plan
  was built and checked, the folder prepared, a worker started and finished one run);
* **parent RSS**: the largest resident memory of the ``waste-harmony`` process,
  sampled every 0.1 s from the start until ``--after`` seconds past the first run;
* **experiment.json**: its size once the sweep started.

The sweep is then interrupted (SIGINT) and its folder removed. With ``--old SRC``
(a checkout's ``src`` folder, e.g. ``/work/main/src`` before plans had recipes) the
same sweeps run with that code too, interleaved with the current one (old, new, old,
new, ...), so the machine's load affects both alike; ``--old-sizes`` limits the old
code to sizes it finishes planning in reasonable time (10^6 took it ~14 minutes).

Usage::

    python benchmarks/bench_plan_start.py --sizes 10000 100000 1000000 \\
        --old /work/main/src --old-sizes 10000 100000 --json plan_start.json
    python benchmarks/bench_plan_start.py --sizes 1000 --timeout 120    # smoke run
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SWEEP = """\
seed = 1
days = 1
citizens = 20

[city]
generator = "grid"
rows = 3
cols = 3
seed = 1

[sweep]
seeds = 1
root_seed = 1

[sweep.grid]
waste_per_capita_kg = {a}
concern_confidence = {b}
"""


def _values(n: int, low: float, high: float) -> str:
    step = (high - low) / max(n - 1, 1)
    return "[" + ", ".join(f"{low + i * step:.9f}" for i in range(n)) + "]"


def sweep_text(points: int) -> str:
    """A sweep file of ``points`` grid points (two parameters, as square as possible)."""
    a = 10 ** math.ceil(math.log10(points) / 2)
    a = min(a, points)
    while points % a:
        a -= 1
    return SWEEP.format(a=_values(a, 0.5, 1.0), b=_values(points // a, 0.05, 0.95))


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _first_run(runs: Path) -> bool:
    try:
        with os.scandir(runs) as entries:
            return any(os.path.exists(os.path.join(e.path, "manifest.json")) for e in entries)
    except OSError:
        return False


def start(points: int, src: str | None, folder: Path, timeout: float, after: float) -> dict:
    """One sweep of ``points`` points: seconds to the first run, peak parent RSS, bytes."""
    sweep_file = folder / "sweep.toml"
    sweep_file.write_text(sweep_text(points))
    out = folder / "out"
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    command = [sys.executable, "-m", "waste_harmony", "sweep", str(sweep_file)]
    command += ["--out", str(out), "--workers", "1", "--quiet"]
    began = time.monotonic()
    child = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    peak, first = 0, None
    try:
        while time.monotonic() - began < timeout and child.poll() is None:
            peak = max(peak, _rss(child.pid))
            if first is None and _first_run(out / "runs"):
                first = time.monotonic() - began
            if first is not None and time.monotonic() - began > first + after:
                break
            time.sleep(0.1)
    finally:
        manifest = out / "experiment.json"
        size = manifest.stat().st_size if manifest.exists() else None
        if child.poll() is None:
            child.send_signal(signal.SIGINT)
            try:
                child.wait(timeout=60)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        error = child.stderr.read() if child.stderr else ""
        shutil.rmtree(out, ignore_errors=True)
    return {
        "points": points,
        "code": "old" if src is not None else "new",
        "first_run_s": None if first is None else round(first, 2),
        "parent_peak_rss_mib": round(peak / 2**20, 1),
        "experiment_json_bytes": size,
        "timed_out": first is None,
        "stderr_tail": error.strip().splitlines()[-1:] if first is None else [],
    }


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """Run the measurements; print a table and return the rows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--old", default=None, help="src folder of the code to compare with")
    parser.add_argument("--old-sizes", type=int, nargs="*", default=None)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per sweep")
    parser.add_argument("--after", type=float, default=5.0, help="seconds sampled after")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    old_sizes = set(args.sizes if args.old_sizes is None else args.old_sizes)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-plan-start-") as tmp:
        for points in args.sizes:
            arms: list[str | None] = [None]
            if args.old is not None and points in old_sizes:
                arms = [args.old, None]  # interleaved: old then new at each size
            for src in arms:
                row = start(points, src, Path(tmp), args.timeout, args.after)
                rows.append(row)
                print(
                    f"{row['points']:>9,} points  {row['code']}: first run "
                    f"{row['first_run_s']} s, parent peak {row['parent_peak_rss_mib']} MiB, "
                    f"experiment.json {row['experiment_json_bytes']} bytes"
                    + (f"  (timed out: {row['stderr_tail']})" if row["timed_out"] else ""),
                    flush=True,
                )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")
    return rows


if __name__ == "__main__":
    main()
