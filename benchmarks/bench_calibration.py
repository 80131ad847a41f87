"""Benchmark of calibrate(): runs per second beside the model's own speed, and memory.

On a calibration of a small city (``--citizens`` citizens, ``--days`` days, two
calibrated parameters, recycling participation and mean concern on 6 days):

1. **the model alone**: ``--model-runs`` runs built and run in this process, one after
   another — runs per second (wall and CPU), the ceiling of one core;
2. **abc-reg, serial**: ``calibrate(method="abc-reg", executor="serial")`` with
   ``--serial-runs`` runs, in this process — runs per second, and the calibration's
   overhead per run over the model's own time (statistics, bookkeeping, batch files);
3. **abc-reg, 2 workers**: ``--runs`` runs (10,000 by default) on a 2-process pool —
   wall time and runs per second, beside twice the model's speed (two cores' ceiling);
   the peak resident memory of the pool's workers (sampled) and of this process;
4. **abc-smc, 2 workers**: ``--smc-runs`` runs of the previous default (Parquet
   files per run) for comparison;
5. the ABC-SMC machinery's own time per generation (an instantaneous simulator);
6. **the model alone on ``--workers`` processes at once** (``--ceiling-runs`` each): the
   ceiling of the pool on this machine as it is loaded now, measured, not assumed to be
   ``workers`` × one core.

For every calibration the CPU it cost is split: this process's CPU seconds per 1,000
runs (planning, receiving results, batch files) and the workers' CPU milliseconds per
run (from ``RUSAGE_CHILDREN`` once the pool has exited, start-up included).

**Old against new, side by side** (``--old SRC``, e.g. the ``src`` folder of a checkout
of an earlier commit): ``--ab-rounds`` rounds, each running the ``--ab-runs``-run
calibration on the pool with the old code, then the new, then the model alone on the
same number of processes, each in a fresh process (so each reports its own peak
memory); ratios of these, taken minutes apart on the same machine, are what to quote.

The identifiability check is off (``check=False``): it is measured by its own runs.
The machine's load average is printed first: on a shared machine wall times measure
how much CPU the processes actually got; the CPU-time ratio of part 2 does not.

Run:  python benchmarks/bench_calibration.py [--runs 10000] [--citizens 200] [--days 30]
      [--json out.json]
      python benchmarks/bench_calibration.py --old OLD/src [--ab-runs 2000] [--ab-rounds 2]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

PRIORS = {"recycling_weight_concern": (0.0, 8.0), "recycling_intercept": (-5.0, -1.0)}


def observed(days: int) -> pd.DataFrame:
    steps = sorted({max(1, round(days * k / 6)) for k in range(1, 7)})
    return pd.DataFrame(
        [
            {"day": d, "variable": v, "value": 0.3 if v == "recycling_participation" else 0.45}
            for v in ("recycling_participation", "mean_concern")
            for d in steps
        ]
    )


def model_speed(runs: int, citizens: int, days: int) -> dict[str, float]:
    from waste_harmony import CityModel

    CityModel(n_citizens=citizens, rng=0).run_for(days)  # warm-up (imports, caches)
    wall, cpu = time.perf_counter(), time.process_time()
    for seed in range(runs):
        CityModel(n_citizens=citizens, rng=seed).run_for(days)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"runs": runs, "runs_per_s": runs / wall, "cpu_runs_per_s": runs / cpu}


def _model_runs(runs: int, citizens: int, days: int, first_seed: int) -> tuple[float, float]:
    """Wall and CPU seconds of ``runs`` model runs in this process (after a warm-up)."""
    import warnings

    from waste_harmony import CityModel

    warnings.simplefilter("ignore")  # the sample-size warning, once per process
    CityModel(n_citizens=citizens, rng=0).run_for(days)
    wall, cpu = time.perf_counter(), time.process_time()
    for seed in range(first_seed, first_seed + runs):
        CityModel(n_citizens=citizens, rng=seed).run_for(days)
    return time.perf_counter() - wall, time.process_time() - cpu


def model_ceiling(runs: int, citizens: int, days: int, processes: int) -> dict[str, float]:
    """The model alone on ``processes`` spawned processes at once: runs per second in all."""
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(processes, mp_context=context) as pool:
        futures = [
            pool.submit(_model_runs, runs, citizens, days, 1000 * (k + 1)) for k in range(processes)
        ]
        times = [f.result() for f in futures]
    wall = max(w for w, _ in times)
    return {
        "processes": processes,
        "runs": runs * processes,
        "runs_per_s": runs * processes / wall,
        "cpu_ms_per_run": 1e3 * sum(c for _, c in times) / (runs * processes),
    }


class WorkerMemory:
    """Samples the resident memory of this process's children (the pool's workers)."""

    def __init__(self) -> None:
        self.peak_mib: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.wait(1.0):
            for status in Path("/proc").glob("[0-9]*/status"):
                try:
                    text = status.read_text()
                except OSError:
                    continue
                fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
                if int(fields.get("PPid", "0").strip()) != me or "VmRSS" not in fields:
                    continue
                pid = int(status.parent.name)
                rss = int(fields["VmRSS"].split()[0]) / 1024
                self.peak_mib[pid] = max(self.peak_mib.get(pid, 0.0), rss)

    def __enter__(self) -> WorkerMemory:
        if Path("/proc").exists():
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


def calibration(
    method: str, runs: int, citizens: int, days: int, workers: int, out: Path
) -> dict[str, Any]:
    from waste_harmony import experiments as ex

    wall, cpu = time.perf_counter(), time.process_time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    with WorkerMemory() as memory:
        cal = ex.calibrate(
            priors=PRIORS,
            observed=observed(days),
            budget=runs,
            method=method,
            n_citizens=citizens,
            days=days,
            seed=1,
            check=False,
            executor="serial" if workers == 1 else None,
            workers=None if workers == 1 else workers,
            out=out,
            progress=False,
            **({"population_size": 200} if method == "abc-smc" else {}),
        )
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    worker_cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    done = int(cal.generations["runs"].sum())
    return {
        "method": method,
        "workers": workers,
        "runs": done,
        "wall_s": round(wall, 1),
        "runs_per_s": done / wall,
        "cpu_runs_per_s": done / cpu if workers == 1 else None,
        "parent_cpu_s_per_1000_runs": round(1000 * cpu / done, 2),
        "worker_cpu_ms_per_run": round(1000 * worker_cpu / done, 1) if workers > 1 else None,
        "worker_peak_rss_mib": sorted(round(v) for v in memory.peak_mib.values())
        if memory.peak_mib
        else None,
        "folder_mib": round(
            sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) / 2**20, 1
        ),
    }


def abc_overhead(population: int = 100, generations: int = 6) -> float:
    """Seconds of ABC-SMC machinery per generation (simulator cost ~ 0)."""
    from waste_harmony.experiments import abc

    def simulate(step: int, theta: np.ndarray) -> np.ndarray:
        rng = np.random.default_rng(step)
        return (theta.sum(axis=1)[:, None, None] + rng.normal(0, 0.1, (len(theta), 1, 3))).clip(0)

    start = time.perf_counter()
    out = abc.abc_smc(
        simulate, PRIORS, np.array([4.0, 4.0, 4.0]), population_size=population,
        generations=generations, seed=1,
    )  # fmt: skip
    return (time.perf_counter() - start) / len(out.generations)


def pool_only(args: argparse.Namespace) -> dict[str, Any]:
    """One abc-reg calibration on the pool, in this (fresh) process: a row of the A/B."""
    with tempfile.TemporaryDirectory() as tmp:
        row = calibration("abc-reg", args.runs, args.citizens, args.days, args.workers, Path(tmp))
    row["parent_peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    row["load_average"] = round(os.getloadavg()[0], 2)
    return row


def old_against_new(args: argparse.Namespace) -> list[dict[str, Any]]:
    """``--ab-rounds`` rounds of: old code, new code, the model alone on the pool's processes."""
    here = Path(__file__).resolve()
    new_src = str(here.parents[1] / "src")
    common = ["--runs", str(args.ab_runs), "--citizens", str(args.citizens)]
    common += ["--days", str(args.days), "--workers", str(args.workers), "--pool-only"]
    rows = []
    for round_ in range(args.ab_rounds):
        for label, src in (("old", str(Path(args.old).resolve())), ("new", new_src)):
            # the tree's src first on the path (the spawned workers inherit it)
            env = {**os.environ, "PYTHONPATH": src}
            out = subprocess.run(
                [sys.executable, str(here), *common],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            row = {"round": round_, "code": label, **json.loads(out.splitlines()[-1])}
            rows.append(row)
            print(json.dumps(row), flush=True)
        if args.ceiling_runs > 0:
            ceiling = model_ceiling(args.ceiling_runs, args.citizens, args.days, args.workers)
            rows.append({"round": round_, "code": "model alone", **ceiling})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--serial-runs", type=int, default=1000)
    parser.add_argument("--smc-runs", type=int, default=2000)
    parser.add_argument("--model-runs", type=int, default=200)
    parser.add_argument("--ceiling-runs", type=int, default=300, help="per process; 0 skips")
    parser.add_argument("--citizens", type=int, default=200)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--old", default=None, help="src folder of the code to compare with")
    parser.add_argument("--ab-runs", type=int, default=2000)
    parser.add_argument("--ab-rounds", type=int, default=2)
    parser.add_argument("--pool-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    if args.pool_only:  # one row of the A/B, in its own process
        row = pool_only(args)
        print(json.dumps(row))
        return row
    report: dict[str, Any] = {
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cores": os.cpu_count(),
        "citizens": args.citizens,
        "days": args.days,
    }
    print(f"load average: {report['load_average']} (cores: {report['cores']})", flush=True)
    if args.old:
        report["old_against_new"] = old_against_new(args)
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=2))
        return report
    report["model"] = model_speed(args.model_runs, args.citizens, args.days)
    print(json.dumps({"model alone": report["model"]}), flush=True)
    if args.ceiling_runs > 0:
        report["ceiling"] = model_ceiling(args.ceiling_runs, args.citizens, args.days, args.workers)
        print(json.dumps({"model alone, in parallel": report["ceiling"]}), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        rows = [
            ("abc-reg", args.serial_runs, 1),
            ("abc-reg", args.runs, args.workers),
            ("abc-smc", args.smc_runs, args.workers),
        ]
        report["calibrations"] = []
        for k, (method, runs, workers) in enumerate(rows):
            if runs <= 0:
                continue
            row = calibration(method, runs, args.citizens, args.days, workers, Path(tmp) / f"c{k}")
            model = report["model"]
            row["share_of_model_speed"] = row["runs_per_s"] / (model["runs_per_s"] * workers)
            if "ceiling" in report and workers > 1:
                row["share_of_ceiling"] = row["runs_per_s"] / report["ceiling"]["runs_per_s"]
            if row["cpu_runs_per_s"] is not None:
                row["cpu_overhead_per_run"] = model["cpu_runs_per_s"] / row["cpu_runs_per_s"] - 1
            report["calibrations"].append(row)
            print(json.dumps(row), flush=True)
    report["parent_peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    report["abc_smc_seconds_per_generation"] = abc_overhead()
    print(
        json.dumps(
            {k: report[k] for k in ("parent_peak_rss_mib", "abc_smc_seconds_per_generation")}
        )
    )
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
