"""Benchmark building CityModel at city scale: build time and peak memory at 10^6-10^7 citizens.

For each size the script starts a fresh Python process (so the peak memory is that
size's own), generates the street-grid city of ``bench_model.py`` (one node per
100 citizens), builds ``CityModel(city, n_citizens=n, rng=seed)`` and reports the
wall and CPU time of the build, the part of it spent creating the Mesa agents
(``Roster.populate`` of :mod:`waste_harmony.model.roster`) and the peak resident
memory (``ru_maxrss``) after the build. Then it runs one warm-up day and ``--days``
timed days and reports the median seconds per day and the peak memory after them.

``--compare`` also builds each size with the agents created one at a time, by
calling the agent classes as before the bulk path
(:func:`waste_harmony.agents.bulk.create_in_cells`): switched off, in its own
fresh process, right after the bulk build, so the two are measured side by side
under the same machine load. ``--repeat k`` alternates the pair ``k`` times.

Usage::

    python benchmarks/bench_scale.py                           # 10^6, 3x10^6, 10^7 (minutes)
    python benchmarks/bench_scale.py --sizes 1000000 --compare --repeat 2 --days 0
    python benchmarks/bench_scale.py --quick                   # a smoke run (seconds)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_model import _city, _peak_rss_mib  # noqa: E402

MODES = ("bulk", "one at a time")


# ---------------------------------------------------------------------------- in the child
def task_build(n: int, days: int, seed: int, mode: str) -> dict[str, Any]:
    """Build one model of ``n`` citizens (timed), then time ``days`` days."""
    from waste_harmony import CityModel
    from waste_harmony.agents import bulk
    from waste_harmony.model.roster import Roster

    if mode == "one at a time":
        bulk.bulk_applies = lambda *args: False  # every agent by calling its class
    agents = {"wall": 0.0, "cpu": 0.0}
    populate = Roster.populate

    def timed_populate(roster: Roster, *args: Any) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        populate(roster, *args)
        agents["wall"] += time.perf_counter() - wall
        agents["cpu"] += time.process_time() - cpu

    Roster.populate = timed_populate  # type: ignore[method-assign]
    import_rss = _peak_rss_mib()
    wall, cpu = time.perf_counter(), time.process_time()
    city = _city(n, seed)
    city_s = time.perf_counter() - wall
    model_wall, model_cpu = time.perf_counter(), time.process_time()
    model = CityModel(city, n_citizens=n, rng=seed)
    model_s = time.perf_counter() - model_wall
    model_cpu_s = time.process_time() - model_cpu
    build_s, build_cpu_s = time.perf_counter() - wall, time.process_time() - cpu
    result: dict[str, Any] = {
        "n": n,
        "mode": mode,
        "nodes": model.n_nodes,
        "agents": len(model.agents),
        "city_s": city_s,
        "model_s": model_s,
        "model_cpu_s": model_cpu_s,
        "build_s": build_s,
        "build_cpu_s": build_cpu_s,
        "agents_s": agents["wall"],
        "agents_cpu_s": agents["cpu"],
        "build_rss_mib": _peak_rss_mib(),
        "import_rss_mib": import_rss,
        "days": days,
    }
    if days:
        model.step()  # warm-up
        walls, cpus = [], []
        for _ in range(days):
            wall, cpu = time.perf_counter(), time.process_time()
            model.step()
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        result["sec_per_day"] = statistics.median(walls)
        result["cpu_sec_per_day"] = statistics.median(cpus)
        result["peak_rss_mib"] = _peak_rss_mib()
    return result


# ---------------------------------------------------------------------------- in the parent
def spawn(task: dict[str, Any]) -> dict[str, Any]:
    """Run one build in a fresh interpreter and return its result."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(task)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark child failed ({done.returncode}):\n{done.stderr}")
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1])


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3g}"


def markdown(report: dict[str, Any]) -> str:
    """The results as a Markdown table (one row per build) and the ratios."""
    lines = [
        "| citizens | nodes | agents created | build (s) | build CPU (s) | of which agents "
        "CPU (s) | peak RSS after build (MiB) | s/day | peak RSS after days (MiB) |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in report["runs"]:
        lines.append(
            f"| {row['n']:,} | {row['nodes']:,} | {row['mode']} | {_fmt(row['build_s'])} | "
            f"{_fmt(row['build_cpu_s'])} | {_fmt(row['agents_cpu_s'])} | "
            f"{row['build_rss_mib']:,.0f} | {_fmt(row.get('sec_per_day'))} | "
            + (f"{row['peak_rss_mib']:,.0f} |" if "peak_rss_mib" in row else "– |")
        )
    lines.append("")
    for n, ratio in report.get("ratios", {}).items():
        lines.append(
            f"- {int(n):,} citizens: one at a time / bulk, median build time: "
            f"{ratio['wall']:.2f}× (wall), {ratio['cpu']:.2f}× (CPU)"
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
        default=[1_000_000, 3_000_000, 10_000_000],
        help="citizen counts",
    )
    parser.add_argument("--days", type=int, default=3, help="timed days after the build (0: none)")
    parser.add_argument(
        "--compare",
        action="store_true",
        help="also build each size with the agents created one at a time",
    )
    parser.add_argument("--repeat", type=int, default=1, help="builds per size and mode")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--quick", action="store_true", help="smoke mode: tiny sizes, one day")
    parser.add_argument("--json", metavar="OUT", help="write every number to this JSON file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(task_build(**json.loads(args.child))), flush=True)
        return None
    if args.quick:
        args.sizes, args.days = [2_000, 6_000], 1
    if args.days < 0 or args.repeat < 1:
        parser.error("--days must be >= 0 and --repeat >= 1")
    modes = MODES if args.compare else MODES[:1]
    report: dict[str, Any] = {
        "argv": sys.argv[1:] if argv is None else argv,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "load": {"before": os.getloadavg()},
        "runs": [],
    }
    for n in args.sizes:
        for _ in range(args.repeat):
            for mode in modes:
                print(f"{n:,} citizens, {mode} ...", file=sys.stderr, flush=True)
                task = {"n": n, "days": args.days, "seed": args.seed, "mode": mode}
                report["runs"].append(spawn(task))
    if args.compare:
        report["ratios"] = {}
        for n in args.sizes:
            runs = {m: [r for r in report["runs"] if r["n"] == n and r["mode"] == m] for m in modes}
            report["ratios"][str(n)] = {
                key: statistics.median(r[column] for r in runs[modes[1]])
                / statistics.median(r[column] for r in runs[modes[0]])
                for key, column in (("wall", "build_s"), ("cpu", "build_cpu_s"))
            }
    report["load"]["after"] = os.getloadavg()
    print(markdown(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
