"""``calibrate`` on the real model against exact posteriors (issue 20's exact references).

Two cases have an exact posterior (:mod:`waste_harmony.experiments.exact`):

* ``waste``: ``waste_per_capita_kg`` (prior U(0.2, 2.0)) from 6 daily waste totals of a
  1,000-citizen city;
* ``recycling``: ``recycling_intercept`` alone (prior U(−5, 1); the other recycling
  weights 0) from 6 days of recycling participation of a 1,000-citizen city.

For each of ``--sets`` data sets (true value drawn from the prior, observations from
one run of the model) the public :func:`~waste_harmony.experiments.calibrate` runs
with its default method and ``--budget`` model runs, each data set with its own seed
(so its own reference table). Reported per case: the 90 % interval's width over the
exact one (target ≤ 1.5), the posterior mean's error in exact posterior standard
deviations (target |error| ≤ 0.3), how often the 90 % interval holds the true value
and how often it holds the exact posterior's median, and the wall time.

Run:  python benchmarks/calibration_exact.py [--sets 10] [--budget 2000] [--workers 2]
      [--method abc-reg] [--json out.json] [--figure docs/_static/calibration_exact.png]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from calibration_cases import CASES, Case, save_figure

from waste_harmony import experiments

FIRST: dict[str, tuple[Any, ...]] = {}


def one_set(case: Case, k: int, args: argparse.Namespace) -> dict[str, Any]:
    rng = np.random.default_rng([20, 20, k])
    truth = case.draw_truth(rng)
    values = case.simulate(truth, int(rng.integers(2**31)))
    name = case.names[0]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        cal = experiments.calibrate(
            priors=case.priors,
            observed=case.observed_frame(values),
            days=case.days,
            budget=args.budget,
            seed=1000 + k,
            method=args.method,
            check=False,
            workers=args.workers,
            out=Path(tmp) / "cal",
            progress=False,
            **case.fixed,
        )
    seconds = time.perf_counter() - start
    assert case.exact is not None
    ref = case.exact(values)
    low, high = cal.credible_interval(name, 0.9)
    e_low, e_high = ref.interval(0.9)
    median = float(ref.quantile(0.5)[0])
    if k == 0:  # the first data set's posterior beside the exact one, for the figure
        post = cal.posterior
        FIRST[case.name] = (post[name].to_numpy(), post["weight"].to_numpy(), ref, truth[0])
    return {
        "truth": float(truth[0]),
        "width_ratio": (high - low) / (e_high - e_low),
        "mean_error_sd": (float(cal.mean()[name]) - ref.mean) / ref.sd,
        "covers_truth": bool(low <= truth[0] <= high),
        "covers_exact_median": bool(low <= median <= high),
        "runs": int(cal.generations["runs"].sum()),
        "seconds": seconds,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=["waste", "recycling"])
    parser.add_argument("--sets", type=int, default=10)
    parser.add_argument("--budget", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--method", default="abc-reg")
    parser.add_argument("--json", default=None)
    parser.add_argument("--figure", default="docs/_static/calibration_exact.png")
    args = parser.parse_args(argv)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    report: dict[str, Any] = {"budget": args.budget, "method": args.method, "cases": {}}
    for name in args.cases:
        rows = []
        for k in range(args.sets):
            rows.append(one_set(CASES[name], k, args))
            print(json.dumps({name: rows[-1]}), flush=True)
        ratios = np.array([r["width_ratio"] for r in rows])
        errors = np.array([r["mean_error_sd"] for r in rows])
        report["cases"][name] = {
            "sets": len(rows),
            "width_ratio_mean": float(ratios.mean()),
            "width_ratio_max": float(ratios.max()),
            "abs_mean_error_sd_mean": float(np.abs(errors).mean()),
            "abs_mean_error_sd_max": float(np.abs(errors).max()),
            "coverage_truth_90": float(np.mean([r["covers_truth"] for r in rows])),
            "coverage_exact_median_90": float(np.mean([r["covers_exact_median"] for r in rows])),
            "runs_per_set": float(np.mean([r["runs"] for r in rows])),
            "seconds_per_set": float(np.mean([r["seconds"] for r in rows])),
            "sets_detail": rows,
        }
        summary = {k: v for k, v in report["cases"][name].items() if k != "sets_detail"}
        print(json.dumps({name: summary}, indent=1), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    if args.figure:
        figure(args.figure, report)
    return report


def figure(path: str, report: dict[str, Any]) -> None:
    """The first data set of each case: the calibrated posterior against the exact one."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(FIRST), figsize=(4.2 * len(FIRST), 3), squeeze=False)
    for ax, (name, (x, w, ref, truth)) in zip(axes[0], FIRST.items(), strict=True):
        grid = ref.grid[(ref.grid > ref.mean - 5 * ref.sd) & (ref.grid < ref.mean + 5 * ref.sd)]
        step = float(ref.grid[1] - ref.grid[0])
        density = np.interp(grid, ref.grid, ref.density) / step
        ax.hist(x, bins=30, weights=w, density=True, alpha=0.6, color="C0",
                label=f"calibrate ({report['budget']} runs)")  # fmt: skip
        ax.plot(grid, density, color="C3", label="exact posterior")
        ax.axvline(truth, color="0.3", ls=":", label="truth")
        summary = report["cases"][name]
        ax.set_title(
            f"{name}: width ratio {summary['width_ratio_mean']:.2f}, "
            f"|mean error| {summary['abs_mean_error_sd_mean']:.2f} sd",
            fontsize=9,
        )
        ax.set_xlabel(CASES[name].names[0])
    axes[0][0].set_ylabel("density")
    axes[0][0].legend(frameon=False, fontsize=7)
    save_figure(fig, path)


if __name__ == "__main__":
    main()
