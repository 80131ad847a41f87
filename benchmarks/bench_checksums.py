"""What checksums cost a sweep: writing them, checking them on resume and on reading.

Every finished run's manifest lists the SHA-256 of its files (and of itself), and
resuming or reading an experiment checks them (:mod:`waste_harmony.storage`). This
measures, side by side in one process, a serial ensemble of many short runs:

* **writing**: the ensemble as shipped against the same ensemble with the hashing of
  each run's files replaced by a no-op, in interleaved chunks (A, B, A, B, ...) so
  that the machine's load affects both alike; the ratio is the overhead (on a busy
  machine it is within the noise, so the hashing is also timed alone, per run);
* **resuming**: checking every finished run (:meth:`SweepResult.damaged`, what
  ``resume=True`` does) against the time the ensemble took;
* **reading**: the first ``to_pandas()`` of a result (which checks the model files)
  against the second (checked already).

Usage::

    python benchmarks/bench_checksums.py                 # 1,000 runs (a few minutes)
    python benchmarks/bench_checksums.py --runs 40 --json out.json
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from waste_harmony import experiments, storage
from waste_harmony.city import grid_city


def _no_hash(folder: Path, names: Any) -> dict[str, dict[str, Any]]:
    """``describe_files`` without hashing (sizes only): the writing arm without checksums."""
    return {name: {"bytes": (folder / name).stat().st_size} for name in sorted(names)}


def _ensemble(out: Path, runs: int, root: int, days: int, citizens: int) -> float:
    start = time.perf_counter()
    experiments.ensemble(
        city=grid_city(4, 4, seed=1),
        n_citizens=citizens,
        days=days,
        seeds=runs,
        root_seed=root,
        executor="serial",
        progress=False,
        out=out,
    )
    return time.perf_counter() - start


def measure(runs: int, chunks: int, days: int, citizens: int, folder: Path) -> dict[str, Any]:
    """Run the comparison; seconds and ratios."""
    real = storage.describe_files
    per_chunk = max(1, runs // chunks)
    _ensemble(folder / "warm-up", 5, 1234, days, citizens)  # imports and caches, in neither arm
    seconds = {"with": 0.0, "without": 0.0}
    for chunk in range(chunks):
        for arm in ("with", "without") if chunk % 2 == 0 else ("without", "with"):
            storage.describe_files = real if arm == "with" else _no_hash  # type: ignore[assignment]
            try:
                out = folder / f"{arm}-{chunk}"
                seconds[arm] += _ensemble(out, per_chunk, chunk, days, citizens)
            finally:
                storage.describe_files = real  # type: ignore[assignment]
    # one ensemble of them all, checked as resuming and reading check it
    whole = folder / "whole"
    sweep_s = _ensemble(whole, per_chunk * chunks, 99, days, citizens)
    result = experiments.load_experiment(whole)
    run_folders = [whole / "runs" / r for r in result.finished()]
    start = time.perf_counter()
    for folder_ in run_folders:  # the hashing each run's writer does, alone
        storage.describe_files(folder_, [p.name for p in folder_.glob("*.parquet")])
    hash_s = time.perf_counter() - start
    start = time.perf_counter()
    damaged = result.damaged()
    resume_check_s = time.perf_counter() - start
    fresh = experiments.load_experiment(whole)
    start = time.perf_counter()
    fresh.to_pandas()
    first_read_s = time.perf_counter() - start
    start = time.perf_counter()
    fresh.to_pandas()
    second_read_s = time.perf_counter() - start
    return {
        "runs": per_chunk * chunks,
        "chunks": chunks,
        "days": days,
        "citizens": citizens,
        "write_with_checksums_s": seconds["with"],
        "write_without_checksums_s": seconds["without"],
        "write_overhead_ratio": seconds["with"] / seconds["without"],
        "sweep_s": sweep_s,
        "hash_per_run_ms": 1e3 * hash_s / len(run_folders),
        "hash_share_of_run": hash_s / sweep_s,
        "resume_check_s": resume_check_s,
        "resume_check_share_of_sweep": resume_check_s / sweep_s,
        "damaged_found": len(damaged),
        "first_read_s": first_read_s,
        "second_read_s": second_read_s,
        "read_check_ratio": first_read_s / second_read_s,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Measure and print the table (and write JSON with ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="runs per arm (default 1000)")
    parser.add_argument("--chunks", type=int, default=4, help="interleaved chunks per arm")
    parser.add_argument("--days", type=int, default=30, help="days per run (default 30)")
    parser.add_argument("--citizens", type=int, default=200, help="citizens per run")
    parser.add_argument("--json", type=Path, help="write the report here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="wh-bench-checksums-") as tmp:
        report = measure(args.runs, args.chunks, args.days, args.citizens, Path(tmp))
    print(
        f"{report['runs']} runs of {report['days']} days, {report['citizens']} citizens:\n"
        f"  writing: {report['write_with_checksums_s']:.1f} s with checksums, "
        f"{report['write_without_checksums_s']:.1f} s without: "
        f"ratio {report['write_overhead_ratio']:.3f}; hashing alone "
        f"{report['hash_per_run_ms']:.2f} ms per run, "
        f"{100 * report['hash_share_of_run']:.1f} % of the sweep\n"
        f"  resuming: checking every run took {report['resume_check_s']:.2f} s, "
        f"{100 * report['resume_check_share_of_sweep']:.1f} % of the sweep's "
        f"{report['sweep_s']:.1f} s\n"
        f"  reading: first to_pandas (checked) {report['first_read_s']:.2f} s, second "
        f"{report['second_read_s']:.2f} s: ratio {report['read_check_ratio']:.2f}"
    )
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
