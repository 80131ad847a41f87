"""Benchmark the memory of a long sweep: parent and pool-worker RSS over 10^5 tiny runs.

A sweep of a tiny model (``--citizens`` 20, ``--days`` 2; one point, ``--runs``
seeds) runs on the default process pool (``--workers`` spawn workers). A thread in
the parent samples every ``--interval`` seconds the resident memory (RSS) of the
parent and of each worker process (``psutil``) and the number of runs finished so
far (lines of the experiment's ``timings.jsonl``), and appends each sample to a
JSON-lines file as it goes, so an interrupted benchmark still leaves its curve.

Safety stops (recorded in the summary): the sweep is interrupted (``SIGINT``, as a
user's Ctrl-C; the finished runs stay on disk) when ``--max-seconds`` have passed or
a worker's RSS exceeds ``--max-worker-mib`` (the machine is shared).

``--plot A.jsonl B.jsonl ... --figure OUT.png`` draws the curves of earlier runs
(largest worker and parent RSS against runs finished), one colour per file.

Usage::

    python benchmarks/bench_worker_memory.py --runs 100000 --samples out.jsonl
    python benchmarks/bench_worker_memory.py --quick                       # seconds
    python benchmarks/bench_worker_memory.py --plot before.jsonl after.jsonl \\
        --figure benchmarks/figures/worker_memory.png
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any


def _rss_mib(process: Any) -> float:
    try:
        return process.memory_info().rss / 2**20
    except Exception:  # the process ended between listing and reading it
        return float("nan")


class Sampler(threading.Thread):
    """Sample parent and worker RSS and runs finished until stopped."""

    def __init__(self, folder: Path, samples: Path, args: argparse.Namespace) -> None:
        super().__init__(daemon=True)
        import psutil

        self.me = psutil.Process()
        self.folder, self.samples, self.args = folder, samples, args
        self.stop = threading.Event()
        self.reason: str | None = None
        self.runs = 0
        self._offset = 0
        self.start_time = time.perf_counter()

    def _count_runs(self) -> int:
        path = self.folder / "timings.jsonl"
        if path.exists():
            with path.open("rb") as fh:
                fh.seek(self._offset)
                chunk = fh.read()
            complete = chunk.rfind(b"\n") + 1
            self.runs += chunk[:complete].count(b"\n")
            self._offset += complete
        return self.runs

    def sample(self) -> dict[str, Any]:
        workers = sorted(
            (_rss_mib(c) for c in self.me.children(recursive=True)),
            reverse=True,
        )
        return {
            "t": round(time.perf_counter() - self.start_time, 2),
            "runs": self._count_runs(),
            "parent_mib": round(_rss_mib(self.me), 1),
            "workers_mib": [round(w, 1) for w in workers],
        }

    def run(self) -> None:
        with self.samples.open("a") as out:
            while not self.stop.is_set():
                row = self.sample()
                out.write(json.dumps(row) + "\n")
                out.flush()
                largest = max([w for w in row["workers_mib"] if w == w] or [0.0])
                if row["t"] > self.args.max_seconds:
                    self.reason = f"time limit ({self.args.max_seconds} s)"
                elif largest > self.args.max_worker_mib:
                    self.reason = f"a worker above {self.args.max_worker_mib} MiB"
                if self.reason:
                    os.kill(os.getpid(), signal.SIGINT)
                    return
                self.stop.wait(self.args.interval)


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Run the sweep and sample it; return the summary."""
    from waste_harmony import experiments

    root = Path(tempfile.mkdtemp(prefix="wh-memory-"))
    folder = root / "sweep"
    samples = Path(args.samples)
    samples.unlink(missing_ok=True)
    sampler = Sampler(folder, samples, args)
    sampler.start()
    started = time.perf_counter()
    interrupted = False
    try:
        experiments.sweep(
            parameters={"waste_per_capita_kg": [0.5]},
            seeds=args.runs,
            n_citizens=args.citizens,
            days=args.days,
            root_seed=1,
            out=folder,
            workers=args.workers,
            progress=False,
        )
    except KeyboardInterrupt:
        interrupted = True
    sampler.stop.set()
    sampler.join()
    last = sampler.sample()
    with samples.open("a") as out:
        out.write(json.dumps(last) + "\n")
    summary = {
        "runs_planned": args.runs,
        "runs_finished": last["runs"],
        "seconds": round(time.perf_counter() - started, 1),
        "stopped": sampler.reason if interrupted else None,
        "workers": args.workers,
        "citizens": args.citizens,
        "days": args.days,
        "samples": str(samples),
        "code": args.label,
    }
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return summary


def plot(files: list[str], figure: str) -> None:
    """Largest worker and parent RSS against runs finished, one colour per file."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.2), layout="constrained")
    for index, name in enumerate(files):
        rows = [json.loads(line) for line in Path(name).read_text().splitlines() if line]
        rows = [r for r in rows if len(r["workers_mib"]) > 1]  # the pool is up
        runs = [r["runs"] for r in rows]
        worker = [max(w for w in r["workers_mib"] if w == w) for r in rows]
        parent = [r["parent_mib"] for r in rows]
        colour = f"C{index}"
        label = Path(name).stem
        ax.plot(runs, worker, color=colour, label=f"{label}: largest worker")
        ax.plot(runs, parent, color=colour, linestyle="--", label=f"{label}: parent")
    ax.set_xlabel("runs finished")
    ax.set_ylabel("resident memory (MiB)")
    ax.set_title("Sweep of a 20-citizen, 2-day model on a 2-worker process pool")
    ax.legend(fontsize=8)
    Path(figure).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(figure, dpi=110)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--citizens", type=int, default=20)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--max-seconds", type=float, default=4 * 3600)
    parser.add_argument("--max-worker-mib", type=float, default=3000.0)
    parser.add_argument("--samples", default="worker_memory.jsonl", help="samples (JSON lines)")
    parser.add_argument("--json", help="write the summary here too")
    parser.add_argument("--label", default="", help="a note on the code measured (e.g. a commit)")
    parser.add_argument("--keep", action="store_true", help="keep the sweep's folder")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 60 runs")
    parser.add_argument("--plot", nargs="+", metavar="SAMPLES", help="draw these sample files")
    parser.add_argument("--figure", default="worker_memory.png")
    args = parser.parse_args(argv)
    if args.plot:
        plot(args.plot, args.figure)
        print(f"wrote {args.figure}")
        return 0
    if args.quick:
        args.runs, args.interval = 60, 0.5
    summary = measure(args)
    print(json.dumps(summary, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
