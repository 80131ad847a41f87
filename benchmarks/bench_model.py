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


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> tuple[float, float]:
    wall, cpu = _clock()
    return wall - start[0], cpu - start[1]


def _build_model(n: int, seed: int, record: bool) -> tuple[Any, dict[str, float]]:
    from waste_harmony import CityModel

    start = _clock()
    city = _city(n, seed)
    city_s = _since(start)[0]
    model = CityModel(city, n_citizens=n, rng=seed, record_neighborhoods=record)
    build_s, build_cpu_s = _since(start)
    model.open_grievance(GRIEVANCE)
    return model, {
        "city_s": city_s,
        "build_s": build_s,
        "build_cpu_s": build_cpu_s,
        "nodes": model.n_nodes,
    }


def _time_days(model: Any, days: int, into: dict[str, list[float]]) -> None:
    """Step ``days`` times, appending each day's wall and CPU seconds to ``into``."""
    for _ in range(days):
        start = _clock()
        model.step()
        wall, cpu = _since(start)
        into["wall"].append(wall)
        into["cpu"].append(cpu)


def _times() -> dict[str, list[float]]:
    return {"wall": [], "cpu": []}


def _medians(times: dict[str, list[float]], prefix: str = "") -> dict[str, float]:
    return {
        f"{prefix}sec_per_day": statistics.median(times["wall"]),
        f"{prefix}cpu_sec_per_day": statistics.median(times["cpu"]),
    }


def task_model(n: int, days: int, seed: int) -> dict[str, Any]:
    """Build, warm up one day, time ``days`` days of the vectorised model."""
    model, info = _build_model(n, seed, True)
    model.step()  # warm-up
    times = _times()
    _time_days(model, days, times)
    return {
        "task": "model",
        "n": n,
        **info,
        "days": days,
        **_medians(times),
        "sec_per_day_all": times["wall"],
        "peak_rss_mib": _peak_rss_mib(),
    }


def _alternate(models: list[Any], days: int, rounds: int) -> list[dict[str, list[float]]]:
    """Blocks of ``days`` timed days of each model in turn, ``rounds`` times.

    Each block starts with one untimed day that re-warms the caches the other model
    evicted; alternating blocks expose all models to the same machine load.
    """
    times = [_times() for _ in models]
    for _ in range(rounds):
        for model, into in zip(models, times, strict=True):
            model.step()
            _time_days(model, days, into)
    return times


def task_recording(n: int, days: int, seed: int, rounds: int = 2) -> dict[str, Any]:
    """Recording on and off (``record_neighborhoods``), measured in alternating blocks."""
    on, info = _build_model(n, seed, True)
    off, _ = _build_model(n, seed, False)
    with_, without = _alternate([on, off], days, rounds)
    result = {
        "task": "recording",
        "n": n,
        "nodes": info["nodes"],
        "days": days,
        "rounds": rounds,
        **_medians(with_),
        **_medians(without, "no_recording_"),
    }
    result["recording_overhead"] = (
        result["cpu_sec_per_day"] / result["no_recording_cpu_sec_per_day"]
    )
    result["recording_overhead_wall"] = result["sec_per_day"] / result["no_recording_sec_per_day"]
    return result


def task_pair(n: int, days: int, seed: int, rounds: int = 2) -> dict[str, Any]:
    """Vectorised model and per-agent baseline on one city, measured in alternating blocks."""
    sys.path.insert(0, str(HERE))
    from baseline import BaselineModel

    model, info = _build_model(n, seed, True)
    start = _clock()
    base = BaselineModel(_city(n, seed), n_citizens=n, rng=seed, grievance=True)
    base_build = _since(start)[0]
    slow, fast = _alternate([base, model], days, rounds)
    result = {
        "task": "pair",
        "n": n,
        "nodes": info["nodes"],
        "days": days,
        "rounds": rounds,
        **_medians(fast),
        **_medians(slow, "baseline_"),
        "baseline_build_s": base_build,
        "sec_per_day_all": fast["wall"],
        "baseline_sec_per_day_all": slow["wall"],
    }
    result["speed_ratio"] = result["baseline_cpu_sec_per_day"] / result["cpu_sec_per_day"]
    result["speed_ratio_wall"] = result["baseline_sec_per_day"] / result["sec_per_day"]
    return result


def task_year(n: int, days: int, seed: int) -> dict[str, Any]:
    """Build and run ``days`` days in one go (``model.run_for``)."""
    model, info = _build_model(n, seed, True)
    start = _clock()
    model.run_for(days)
    wall, cpu = _since(start)
    return {
        "task": "year",
        "n": n,
        **info,
        "days": days,
        "run_s": wall,
        "run_cpu_s": cpu,
        "sec_per_day": wall / days,
        "peak_rss_mib": _peak_rss_mib(),
    }


TASKS = {"model": task_model, "recording": task_recording, "pair": task_pair, "year": task_year}


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


def scaling_exponent(
    points: list[tuple[int, float]], low: float = 10_000, high: float = 1_000_000
) -> float | None:
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
    """The results as a Markdown table and a few lines."""
    lines = [
        "| citizens | nodes | build (s) | s/day | CPU s/day | recording overhead | "
        "peak RSS (MiB) | baseline CPU s/day | speed ratio (CPU) | speed ratio (wall) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in report["sizes"]:
        pair = row.get("pair") or {}
        x = "×" if pair else ""
        overhead = row.get("recording_overhead")
        lines.append(
            f"| {row['n']:,} | {row['nodes']:,} | {_fmt(row['build_s'])} | "
            f"{_fmt(row['sec_per_day'])} | {_fmt(row['cpu_sec_per_day'])} | "
            f"{_fmt(overhead)}{'×' if overhead else ''} | {row['peak_rss_mib']:.0f} | "
            f"{_fmt(pair.get('baseline_cpu_sec_per_day'))} | "
            f"{_fmt(pair.get('speed_ratio'))}{x} | {_fmt(pair.get('speed_ratio_wall'))}{x} |"
        )
    lines.append("")
    low, high = report["scaling_range"]
    span = f"{low:,}–{high:,} citizens" if high else "all sizes"
    lines.append(
        f"- scaling exponent (slope of log s/day on log citizens, {span}): "
        f"{_fmt(report['scaling_exponent_cpu'])} (CPU time), "
        f"{_fmt(report['scaling_exponent'])} (wall time)"
    )
    year = report.get("year")
    if year:
        lines.append(
            f"- {year['days']} days at {year['n']:,} citizens on {year['nodes']:,} "
            f"nodes: {_fmt(year['run_s'])} s wall, {_fmt(year['run_cpu_s'])} s CPU "
            f"(build {_fmt(year['build_s'])} s, peak RSS "
            f"{year['peak_rss_mib']:.0f} MiB)"
        )
    load = report["load"]
    lines.append(
        f"- load average (1 min) before/after: {load['before'][0]:.2f} / "
        f"{load['after'][0]:.2f} on {report['cpus']} CPUs"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any] | None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[1_000, 10_000, 100_000, 1_000_000],
        help="citizen counts",
    )
    parser.add_argument("--days", type=int, default=10, help="measured days per size")
    parser.add_argument(
        "--baseline-sizes",
        type=int,
        nargs="*",
        default=[10_000, 100_000],
        help="sizes at which the per-agent baseline runs (none: skip)",
    )
    parser.add_argument(
        "--baseline-days",
        type=int,
        default=5,
        help="days per block in the side-by-side comparison (two blocks each)",
    )
    parser.add_argument(
        "--year-size", type=int, default=100_000, help="citizens of the year run (0: skip)"
    )
    parser.add_argument("--year-days", type=int, default=365)
    parser.add_argument(
        "--no-recording-check", action="store_true", help="skip the record_neighborhoods=False runs"
    )
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke mode: tiny sizes, few days (seconds, not minutes)",
    )
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

    report: dict[str, Any] = {
        "argv": sys.argv[1:] if argv is None else argv,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "load": {"before": os.getloadavg()},
        "sizes": [],
    }
    for n in args.sizes:
        spec: list[dict[str, Any]] = [
            {"task": "model", "n": n, "days": args.days, "seed": args.seed}
        ]
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
                row["recording_overhead"] = extra["recording_overhead"]
            else:
                row["pair"] = extra
        report["sizes"].append(row)
    # The exponent is taken between 10^4 and 10^6 (in --quick mode: over its tiny sizes).
    low, high = (0, math.inf) if args.quick else (10_000, 1_000_000)
    report["scaling_range"] = [low, high if math.isfinite(high) else None]
    for key, column in (
        ("scaling_exponent", "sec_per_day"),
        ("scaling_exponent_cpu", "cpu_sec_per_day"),
    ):
        report[key] = scaling_exponent(
            [(row["n"], row[column]) for row in report["sizes"]], low, high
        )
    if args.year_size:
        print(f"year at {args.year_size:,} ...", file=sys.stderr, flush=True)
        report["year"] = spawn(
            [{"task": "year", "n": args.year_size, "days": args.year_days, "seed": args.seed}]
        )[0]
    report["load"]["after"] = os.getloadavg()
    print(markdown(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
