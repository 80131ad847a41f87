"""Benchmark of waste_harmony.experiments: serial vs process pool vs Dask, overhead, memory.

Measures, on an ensemble of year-long runs of a 10^4-citizen city:

1. wall time serially, with a 2-process spawn pool and with a 2-worker Dask
   LocalCluster (cluster start-up timed separately) -> speed-ups;
2. per-run overhead: everything a worker does that is not building and running
   the model (process start and imports, task transfer, tidying and writing
   Parquet, idling at the end), per run, as a share of a run's own time:
   ``(workers x wall - sum(build + run)) / runs / mean(build + run)``; and its
   parts: start-up until each worker's first task (once per worker), the gap
   between a worker's consecutive tasks, and tidying + writing per run;
3. peak memory (max RSS) of the parent process for ensembles of 8, 32 and 128
   runs, each in a fresh interpreter.

Run:  python benchmarks/bench_experiments.py [--runs 32] [--citizens 10000] [--days 365]
The machine's load average is printed first: on a shared machine the speed-ups
measure how much CPU the workers actually got.
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


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (cores: {os.cpu_count()})"


def measure(name, executor, workers, args, folder):
    from waste_harmony import experiments as ex

    start = time.perf_counter()
    start_epoch = time.time()
    result = ex.ensemble(
        seeds=args.runs,
        days=args.days,
        n_citizens=args.citizens,
        root_seed=1,
        executor=executor,
        workers=workers,
        out=folder / name,
        progress=False,
        record_neighborhoods=True,
    )
    wall = time.perf_counter() - start
    assert result.n_finished == args.runs, result.failures()
    t = result.timings()
    compute = float((t["build"] + t["run"]).sum())
    n_workers = 1 if executor == "serial" else args.workers
    overhead = (n_workers * wall - compute) / args.runs
    mean_run = compute / args.runs
    # Break the overhead down: start-up until each worker's first task, gaps between
    # a worker's consecutive tasks (transfer, scheduling), tidying + writing in the worker.
    first = t.groupby("worker")["started_at"].min() - start_epoch
    t = t.sort_values("started_at")
    gaps = (t.groupby("worker")["started_at"].shift(-1) - t["finished_at"]).dropna()
    return {
        "executor": name,
        "wall_s": wall,
        "mean_run_s": mean_run,
        "write_s": float(t["write"].mean()),
        "overhead_per_run_s": overhead,
        "overhead_pct": 100 * overhead / mean_run,
        "startup_s": float(first.mean()),
        "gap_s": float(gaps.mean()) if len(gaps) else 0.0,
        "steady_pct": 100 * (float(gaps.mean()) if len(gaps) else 0.0) / mean_run
        + 100 * float(t["write"].mean()) / mean_run,
        "load_after": load(),
    }


def memory_probe(n_runs: int) -> None:
    from waste_harmony import experiments as ex

    with tempfile.TemporaryDirectory() as tmp:
        ex.ensemble(
            seeds=n_runs,
            days=60,
            n_citizens=2000,
            root_seed=1,
            workers=2,
            out=Path(tmp) / "m",
            progress=False,
        )
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"runs": n_runs, "parent_peak_rss_mb": peak_kb / 1024}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=32)
    parser.add_argument("--citizens", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--memory-probe", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_probe is not None:
        memory_probe(args.memory_probe)
        return

    print(f"load average before: {load()}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows.append(measure("serial", "serial", None, args, folder))
        rows.append(measure(f"process pool ({args.workers})", None, args.workers, args, folder))
        if not args.skip_dask:
            from distributed import Client, LocalCluster

            start = time.perf_counter()
            with (
                LocalCluster(
                    n_workers=args.workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",
                ) as cluster,
                Client(cluster) as client,
            ):
                client.wait_for_workers(args.workers)
                startup = time.perf_counter() - start
                row = measure(f"dask LocalCluster ({args.workers})", client, None, args, folder)
                row["cluster_startup_s"] = startup
                rows.append(row)
    serial = rows[0]["wall_s"]
    print(f"\n{args.runs} runs x {args.days} days x {args.citizens} citizens")
    print(
        "| executor | wall (s) | speed-up | mean run (s) | overhead/run, all (s) "
        "| overhead, all (% of run) | start-up until first task (s) | gap between tasks (s) "
        "| tidy + write (s/run) | steady-state overhead (% of run) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['executor']} | {r['wall_s']:.1f} | {serial / r['wall_s']:.2f}x "
            f"| {r['mean_run_s']:.2f} | {r['overhead_per_run_s']:.3f} "
            f"| {r['overhead_pct']:.1f} % | {r['startup_s']:.2f} | {r['gap_s']:.3f} "
            f"| {r['write_s']:.3f} | {r['steady_pct']:.1f} % |"
        )
    for r in rows:
        if "cluster_startup_s" in r:
            print(f"Dask cluster start-up (not in wall): {r['cluster_startup_s']:.1f} s")
    print(f"load average after: {load()}")

    if not args.skip_memory:
        print("\n| runs (2000 citizens, 60 days, 2 workers) | parent peak RSS (MB) |")
        print("|---|---|")
        for n in (8, 32, 128):
            out = subprocess.run(
                [sys.executable, __file__, "--memory-probe", str(n)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            probe = json.loads(out.strip().splitlines()[-1])
            print(f"| {probe['runs']} | {probe['parent_peak_rss_mb']:.0f} |")
    print(json.dumps(rows, indent=1), file=sys.stderr)


if __name__ == "__main__":
    main()
