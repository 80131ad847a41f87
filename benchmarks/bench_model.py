"""Benchmark CityModel: seconds per simulated day, build time, peak memory, scaling.

For each size the script starts a fresh Python process (so peak memory is that
size's own), builds a street-grid city with about one node per 100 citizens
and a ``CityModel`` with the default rules and recording on, runs one warm-up
day and then times each of ``--days`` days. Reported: median seconds per day,
build time (city graph + ``CityModel(...)``) and peak resident memory
(``ru_maxrss``). Afterwards, in the same process, two fresh models, one with
``record_neighborhoods=False``, run in alternating blocks of days: the ratio of
their medians is the recording overhead.

At the ``--baseline-sizes`` the process also builds the per-agent Mesa baseline
(:mod:`baseline`) on the same city and alternates blocks of days of the two
models (twice: baseline days, then vectorised days), so the speed ratio
compares the same number of days measured side by side under the same load. A grievance is opened in
every model so that the protest rule runs too.

Finally a separate process runs a whole year (365 days) at ``--year-size``.
The scaling exponent is the least-squares slope of log(seconds per day) against
log(citizens) over the sizes between 10^4 and 10^6.

Usage::

    python benchmarks/bench_model.py                    # the full benchmark (minutes)
    python benchmarks/bench_model.py --quick            # a smoke run (seconds)
    python benchmarks/bench_model.py --json out.json    # also write every number
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
GRIEVANCE = "benchmark"


# ---------------------------------------------------------------------------- in the child
def _peak_rss_mib() -> float:
    # Linux reports ru_maxrss in KiB (macOS in bytes).
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def grid_shape(n_citizens: int, per_node: int = 100) -> tuple[int, int]:
    """Rows and columns of a grid city with about ``n_citizens / per_node`` nodes."""
    target = max(5, round(n_citizens / per_node))
    rows = max(d for d in range(1, math.isqrt(target) + 1) if target % d == 0)
    if target // rows > 4 * rows:  # awkward factorisation: take a near-square grid
        rows = max(1, round(math.sqrt(target)))
        return rows, max(5 // rows + 1, round(target / rows))
    return rows, target // rows


def _city(n_citizens: int, seed: int):
    from waste_harmony.city import grid_city

    rows, cols = grid_shape(n_citizens)
    return grid_city(rows, cols, seed=seed)


def _build_model(n: int, seed: int, record: bool) -> tuple[Any, dict[str, float]]:
    from waste_harmony import CityModel

    t0 = time.perf_counter()
    city = _city(n, seed)
    t1 = time.perf_counter()
    model = CityModel(city, n_citizens=n, rng=seed, record_neighborhoods=record)
    t2 = time.perf_counter()
    model.open_grievance(GRIEVANCE)
    return model, {"city_s": t1 - t0, "build_s": t2 - t0, "nodes": model.n_nodes}


def _time_days(model: Any, days: int) -> list[float]:
    times = []
    for _ in range(days):
        t = time.perf_counter()
        model.step()
        times.append(time.perf_counter() - t)
    return times


def task_model(n: int, days: int, seed: int, record: bool = True) -> dict[str, Any]:
    """Build, warm up one day, time ``days`` days of the vectorised model."""
    model, info = _build_model(n, seed, record)
    model.step()  # warm-up
    times = _time_days(model, days)
    return {"task": "model", "n": n, "record": record, **info, "days": days,
            "sec_per_day": statistics.median(times), "sec_per_day_mean": statistics.mean(times),
            "peak_rss_mib": _peak_rss_mib()}


def task_recording(n: int, days: int, seed: int, rounds: int = 2) -> dict[str, Any]:
    """Recording on and off (``record_neighborhoods``), measured in alternating blocks."""
    on, info = _build_model(n, seed, True)
    off, _ = _build_model(n, seed, False)
    on_times, off_times = [], []
    for _ in range(rounds):
        for model, times in ((on, on_times), (off, off_times)):
            model.step()  # re-warm the caches the other model evicted
            times.extend(_time_days(model, days))
    with_, without = statistics.median(on_times), statistics.median(off_times)
    return {"task": "recording", "n": n, "nodes": info["nodes"], "days": days,
            "rounds": rounds, "sec_per_day": with_, "sec_per_day_no_recording": without,
            "recording_overhead": with_ / without}


def task_pair(n: int, days: int, seed: int, rounds: int = 2) -> dict[str, Any]:
    """Vectorised model and per-agent baseline on one city, measured in alternating blocks.

    Each round runs one unmeasured day and then ``days`` timed days of the baseline,
    then the same for the vectorised model (the unmeasured day re-warms the caches
    the other model evicted), so both see the same machine load.
    """
    sys.path.insert(0, str(HERE))
    from baseline import BaselineModel

    model, info = _build_model(n, seed, True)
    t = time.perf_counter()
    base = BaselineModel(_city(n, seed), n_citizens=n, rng=seed, grievance=True)
    base_build = time.perf_counter() - t
    vec_times, base_times = [], []
    for _ in range(rounds):
        base.step()
        base_times.extend(_time_days(base, days))
        model.step()
        vec_times.extend(_time_days(model, days))
    vec, slow = statistics.median(vec_times), statistics.median(base_times)
    return {"task": "pair", "n": n, "nodes": info["nodes"], "days": days, "rounds": rounds,
            "sec_per_day": vec, "baseline_sec_per_day": slow,
            "baseline_build_s": base_build, "speed_ratio": slow / vec,
            "baseline_sec_per_day_all": base_times, "sec_per_day_all": vec_times,
            "baseline_peak_rss_mib": _peak_rss_mib()}


def task_year(n: int, days: int, seed: int) -> dict[str, Any]:
    """Build and run ``days`` days in one go (``model.run_for``)."""
    model, info = _build_model(n, seed, True)
    t = time.perf_counter()
    model.run_for(days)
    wall = time.perf_counter() - t
    return {"task": "year", "n": n, **info, "days": days, "run_s": wall,
            "sec_per_day": wall / days, "peak_rss_mib": _peak_rss_mib()}


TASKS = {"model": task_model, "recording": task_recording, "pair": task_pair,
         "year": task_year}


def run_child(spec: list[dict[str, Any]]) -> None:
    """Run tasks in this process; print one JSON line per task."""
    import waste_harmony  # noqa: F401

    import_rss = _peak_rss_mib()  # interpreter and libraries, before any model
    for i, task in enumerate(spec):
        kind = task.pop("task")
        result = TASKS[kind](**task)
        result["fresh_process"] = i == 0
        result["import_rss_mib"] = import_rss
        print(json.dumps(result), flush=True)


# ---------------------------------------------------------------------------- in the parent
def spawn(spec: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run ``spec`` in a fresh interpreter and collect its JSON lines."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark child failed ({done.returncode}):\n{done.stderr}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def scaling_exponent(points: list[tuple[int, float]], low: float = 10_000,
                     high: float = 1_000_000) -> float | None:
    """Least-squares slope of log(seconds per day) on log(citizens), sizes in [low, high]."""
    xs = [(math.log(n), math.log(t)) for n, t in points if low <= n <= high and t > 0]
    if len(xs) < 2:
        return None
    mx = statistics.mean(x for x, _ in xs)
    my = statistics.mean(y for _, y in xs)
    sxx = sum((x - mx) ** 2 for x, _ in xs)
    return sum((x - mx) * (y - my) for x, y in xs) / sxx if sxx else None


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3g}"


def markdown(report: dict[str, Any]) -> str:
    """The results as Markdown tables."""
    lines = ["| citizens | nodes | build (s) | s/day | s/day, no hood recording | "
             "recording overhead | peak RSS (MiB) | baseline s/day | speed ratio |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in report["sizes"]:
        pair = row.get("pair") or {}
        lines.append(
            f"| {row['n']:,} | {row['nodes']:,} | {_fmt(row['build_s'])} | "
            f"{_fmt(row['sec_per_day'])} | {_fmt(row.get('sec_per_day_no_recording'))} | "
            f"{_fmt(row.get('recording_overhead'))}× | {row['peak_rss_mib']:.0f} | "
            f"{_fmt(pair.get('baseline_sec_per_day'))} | "
            f"{_fmt(pair.get('speed_ratio'))}{'×' if pair else ''} |")
    lines.append("")
    exponent = report.get("scaling_exponent")
    low, high = report["scaling_range"]
    span = f"{low:,}–{high:,}" if high else "all sizes"
    lines.append(f"- scaling exponent (slope of log s/day on log citizens, {span}): "
                 f"{_fmt(exponent)}")
    year = report.get("year")
    if year:
        lines.append(f"- {year['days']} days at {year['n']:,} citizens on {year['nodes']:,} "
                     f"nodes: {_fmt(year['run_s'])} s (build {_fmt(year['build_s'])} s, "
                     f"peak RSS {year['peak_rss_mib']:.0f} MiB)")
    load = report["load"]
    lines.append(f"- load average (1 min) before/after: {load['before'][0]:.2f} / "
                 f"{load['after'][0]:.2f} on {report['cpus']} CPUs")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any] | None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+",
                        default=[1_000, 10_000, 100_000, 1_000_000], help="citizen counts")
    parser.add_argument("--days", type=int, default=10, help="measured days per size")
    parser.add_argument("--baseline-sizes", type=int, nargs="*", default=[10_000, 100_000],
                        help="sizes at which the per-agent baseline runs (none: skip)")
    parser.add_argument("--baseline-days", type=int, default=5,
                        help="days per block in the side-by-side comparison (two blocks each)")
    parser.add_argument("--year-size", type=int, default=100_000,
                        help="citizens of the year run (0: skip)")
    parser.add_argument("--year-days", type=int, default=365)
    parser.add_argument("--no-recording-check", action="store_true",
                        help="skip the record_neighborhoods=False runs")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--quick", action="store_true",
                        help="smoke mode: tiny sizes, few days (seconds, not minutes)")
    parser.add_argument("--json", metavar="OUT", help="write every number to this JSON file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        run_child(json.loads(args.child))
        return None
    if args.quick:
        args.sizes, args.days = [500, 2_000], 2
        args.baseline_sizes, args.baseline_days = [500], 1
        args.year_size, args.year_days = 500, 10
    for name in ("days", "baseline_days", "year_days"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")

    report: dict[str, Any] = {"argv": sys.argv[1:] if argv is None else argv,
                              "cpus": os.cpu_count(), "python": sys.version.split()[0],
                              "load": {"before": os.getloadavg()}, "sizes": []}
    for n in args.sizes:
        spec: list[dict[str, Any]] = [
            {"task": "model", "n": n, "days": args.days, "seed": args.seed}]
        if not args.no_recording_check:
            spec.append({"task": "recording", "n": n, "days": args.days, "seed": args.seed})
        if n in args.baseline_sizes:
            spec.append({"task": "pair", "n": n, "days": args.baseline_days, "seed": args.seed})
        print(f"size {n:,} ...", file=sys.stderr, flush=True)
        results = spawn(spec)
        row = dict(results[0])
        for extra in results[1:]:
            if extra["task"] == "recording":
                row["recording"] = extra
                row["sec_per_day_no_recording"] = extra["sec_per_day_no_recording"]
                row["recording_overhead"] = extra["recording_overhead"]
            else:
                row["pair"] = extra
        report["sizes"].append(row)
    # The exponent is taken between 10^4 and 10^6 (in --quick mode: over its tiny sizes).
    low, high = (0, math.inf) if args.quick else (10_000, 1_000_000)
    report["scaling_range"] = [low, high if math.isfinite(high) else None]
    report["scaling_exponent"] = scaling_exponent(
        [(row["n"], row["sec_per_day"]) for row in report["sizes"]], low, high)
    if args.year_size:
        print(f"year at {args.year_size:,} ...", file=sys.stderr, flush=True)
        report["year"] = spawn([{"task": "year", "n": args.year_size, "days": args.year_days,
                                 "seed": args.seed}])[0]
    report["load"]["after"] = os.getloadavg()
    print(markdown(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
