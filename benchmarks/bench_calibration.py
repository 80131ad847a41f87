"""Benchmark of calibrate(): runs per second with 1 vs 2 workers, ABC overhead, parent memory.

Measures, on a calibration of a small city (``--citizens`` citizens, ``--days`` days,
two observed variables, two calibrated parameters):

1. wall time and runs per second of the whole calibration (``--runs`` runs in total)
   serially and with a 2-process pool -> speed-up;
2. the ABC machinery's own time per generation (proposals, kernel weights,
   distances, tolerance): ``abc_smc`` on an instantaneous simulator with the same
   population and statistics, divided by its generations;
3. peak memory of the parent process for calibrations of ``--runs // 4`` and
   ``--runs`` runs on 2 workers, each in a fresh interpreter: its own high-water
   mark ``VmHWM`` from ``/proc/self/status`` (Linux carries ``ru_maxrss`` across
   ``exec``, so a probe started from this benchmark would report at least the
   benchmark's own resident size).

Run:  python benchmarks/bench_calibration.py [--runs 2000] [--citizens 40] [--days 10]
The machine's load average is printed first: on a shared machine the speed-up
measures how much CPU the workers actually got.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

PRIORS = {"recycling_weight_concern": (0.0, 8.0), "concern_convergence": (0.0, 0.5)}


def observed() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "day": [5, 10, 10],
            "variable": ["mean_concern", "mean_concern", "recycling_rate"],
            "value": [0.45, 0.45, 0.25],
        }
    )


def calibration(runs: int, citizens: int, days: int, workers: int, out: Path) -> dict:
    from waste_harmony import experiments as ex

    start = time.perf_counter()
    cal = ex.calibrate(
        priors=PRIORS,
        observed=observed(),
        budget=runs,
        population_size=100,
        n_citizens=citizens,
        days=days,
        seed=1,
        executor="serial" if workers == 1 else None,
        workers=None if workers == 1 else workers,
        out=out,
        progress=False,
    )
    wall = time.perf_counter() - start
    done = int(cal.generations["runs"].sum())
    return {
        "workers": workers,
        "runs": done,
        "generations": len(cal.generations),
        "wall_s": round(wall, 1),
        "runs_per_s": round(done / wall, 2),
    }


def abc_overhead(population: int = 100, generations: int = 6) -> float:
    """Seconds of ABC machinery per generation (simulator cost ~ 0)."""
    from waste_harmony.experiments import abc

    def simulate(step, theta):
        rng = np.random.default_rng(step)
        return (theta.sum(axis=1)[:, None, None] + rng.normal(0, 0.1, (len(theta), 1, 3))).clip(0)

    start = time.perf_counter()
    out = abc.abc_smc(
        simulate, PRIORS, np.array([4.0, 4.0, 4.0]), population_size=population,
        generations=generations, seed=1,
    )  # fmt: skip
    return (time.perf_counter() - start) / len(out.generations)


def memory_probe(runs: int, citizens: int, days: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        calibration(runs, citizens, days, 2, Path(tmp) / "cal")  # the runs in 2 workers
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    status = Path("/proc/self/status")
    if status.exists():  # this process's own peak (ru_maxrss survives exec)
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak_kb = int(line.split()[1])
    print(json.dumps({"runs": runs, "parent_max_rss_mb": round(peak_kb / 1024, 1)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--citizens", type=int, default=40)
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--memory-probe", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_probe is not None:
        memory_probe(args.memory_probe, args.citizens, args.days)
        return
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"(cores: {os.cpu_count()})", flush=True)  # fmt: skip
    print(f"ABC overhead per generation (population 100): {abc_overhead():.3f} s", flush=True)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for workers in (1, 2):
            folder = Path(tmp) / f"w{workers}"
            row = calibration(args.runs, args.citizens, args.days, workers, folder)
            print(json.dumps(row), flush=True)
            results.append(row)
    print(f"speed-up 2 vs 1 worker: {results[1]['runs_per_s'] / results[0]['runs_per_s']:.2f}x")
    for runs in (args.runs // 4, args.runs):
        cmd = [sys.executable, __file__, "--memory-probe", str(runs),
               "--citizens", str(args.citizens), "--days", str(args.days)]  # fmt: skip
        print(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip())


if __name__ == "__main__":
    main()
