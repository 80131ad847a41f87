"""Simulation-based calibration (Talts et al. 2018) of the default method on the city model.

The ``sbc`` case of ``calibration_cases.py``: ``recycling_intercept``,
``recycling_weight_concern`` and ``initial_concern_mean`` from recycling participation
and mean concern on days 5, 10, …, 30 of a 200-citizen city (12 statistics).

Amortised design (the standard one for regression ABC): ONE reference table of
``--table`` runs from the prior is simulated through the library's own machinery
(:func:`waste_harmony.experiments.reftable.simulate_table`, what ``calibrate`` runs),
then ``--sets`` data sets — true parameters drawn from the prior, observations from
one run each (other seeds) — are calibrated against it with
:func:`waste_harmony.experiments.abcreg.regression_posterior` (what ``calibrate``
computes from its table). For each data set and parameter: the rank of the true value
among ``--draws`` posterior draws, and whether the 50 % and 90 % equal-tailed
intervals hold it. A calibrated method gives uniform ranks and coverages inside the
99 % binomial band around 0.5 and 0.9.

Run:  python benchmarks/calibration_city_sbc.py [--table 4000] [--sets 200] [--workers 2]
      [--figure docs/_static/calibration_city_sbc.png] [--json out.json] [--folder DIR]
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
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent))

from calibration_cases import CASES, save_figure

from waste_harmony.experiments import abc, abcreg
from waste_harmony.experiments.calibration import RunStatistics, check_observed, weighted_quantile
from waste_harmony.experiments.reftable import simulate_table

LEVELS = (0.5, 0.9)


def table(case: Any, n: int, seed: int, folder: Path, workers: int) -> tuple[np.ndarray, ...]:
    """``n`` prior draws and their statistics, simulated as ``calibrate`` does."""
    observed = check_observed(case.observed_frame(np.zeros(len(case.observations))))
    theta = abc.sample_prior(case.priors, n, np.random.default_rng([seed, 0, 0]))
    result = simulate_table(
        None,
        names=case.names,
        thetas=theta,
        statistics=RunStatistics(observed),
        n_statistics=len(observed),
        days=case.days,
        fixed=case.fixed,
        seed=seed,
        folder=folder,
        workers=workers,
        executor="serial" if workers == 1 else None,
        progress=False,
    )
    # statistics in the order of the case's observations (check_observed sorts them)
    order = [
        int(np.flatnonzero((observed["variable"] == v) & (observed["day"] == d))[0])
        for v, d in case.observations
    ]
    return result.theta, result.statistics[:, order]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", default="sbc")
    parser.add_argument("--table", type=int, default=4000)
    parser.add_argument("--sets", type=int, default=200)
    parser.add_argument("--draws", type=int, default=99)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--figure", default="docs/_static/calibration_city_sbc.png")
    parser.add_argument("--json", default=None)
    parser.add_argument("--folder", default=None, help="keep the runs here (resumable)")
    args = parser.parse_args(argv)
    case = CASES[args.case]
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.folder or tmp)  # a kept folder resumes (and reuses) its runs
        theta, sims = table(case, args.table, 1, folder / "table", args.workers)
        simulated = time.perf_counter() - start
        truths, data = table(case, args.sets, 2, folder / "sets", args.workers)
    simulated_sets = time.perf_counter() - start - simulated
    rng = np.random.default_rng(2018)
    p = len(case.names)
    ranks = np.zeros((len(truths), p), dtype=int)
    covered = {level: np.zeros((len(truths), p), dtype=bool) for level in LEVELS}
    widths = np.zeros((len(truths), p))
    usable = np.isfinite(data).all(axis=1)
    for i in np.flatnonzero(usable):
        post = abcreg.regression_posterior(theta, sims, data[i], case.priors)
        draws = post.theta[rng.choice(len(post.theta), size=args.draws, p=post.weight)]
        ranks[i] = (draws < truths[i]).sum(axis=0)
        for j, prior in enumerate(case.priors.values()):
            for level in LEVELS:
                low, high = weighted_quantile(
                    post.theta[:, j], post.weight, [(1 - level) / 2, (1 + level) / 2]
                )
                covered[level][i, j] = low <= truths[i, j] <= high
                if level == 0.9:
                    widths[i, j] = (high - low) / float(np.subtract(*prior.ppf([0.95, 0.05])))
    n = int(usable.sum())
    bins = 10
    report: dict[str, Any] = {
        "case": args.case,
        "table_runs": args.table,
        "data_sets": n,
        "draws": args.draws,
        "seconds_table": simulated,
        "seconds_data_sets": simulated_sets,
        "seconds_posteriors": time.perf_counter() - start - simulated - simulated_sets,
        "parameters": {},
    }
    band = {level: (stats.binom.ppf([0.005, 0.995], n, level) / n).tolist() for level in LEVELS}
    for j, name in enumerate(case.names):
        counts = np.histogram(ranks[usable, j], bins=bins, range=(0, args.draws + 1))[0]
        report["parameters"][name] = {
            **{
                f"coverage_{int(level * 100)}": float(covered[level][usable, j].mean())
                for level in LEVELS
            },
            **{f"band_{int(level * 100)}": band[level] for level in LEVELS},
            "rank_chi2_p": float(stats.chisquare(counts).pvalue),
            "rank_counts": counts.tolist(),
            "width_90_over_prior": float(widths[usable, j].mean()),
        }
    print(json.dumps(report, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    figure(report, case.names, n, bins, args.figure)
    return report


def figure(report: dict[str, Any], names: list[str], n: int, bins: int, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(names) + 1, figsize=(3.2 * (len(names) + 1), 3))
    lo, hi = stats.binom.ppf([0.005, 0.995], n, 1 / bins)
    for ax, name in zip(axes, names, strict=False):
        counts = report["parameters"][name]["rank_counts"]
        ax.bar(np.arange(bins), counts, width=0.9, color="C0")
        ax.axhspan(lo, hi, color="0.85", zorder=0, label="99 % band (uniform)")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel(f"rank of the truth (bins of {report['draws']} draws)", fontsize=8)
    axes[0].set_ylabel("data sets")
    axes[0].legend(frameon=False, fontsize=7)
    ax = axes[-1]
    for k, level in enumerate(LEVELS):
        values = [report["parameters"][name][f"coverage_{int(level * 100)}"] for name in names]
        low, high = report["parameters"][names[0]][f"band_{int(level * 100)}"]
        x = np.arange(len(names)) + k * (len(names) + 1)
        ax.bar(x, values, color=f"C{k}", width=0.8, label=f"{int(level * 100)} % intervals")
        ax.hlines([low, high], x[0] - 0.5, x[-1] + 0.5, color="0.3", ls=":")
        ax.hlines(level, x[0] - 0.5, x[-1] + 0.5, color="0.3", ls="--")
    ax.set_ylim(0.3, 1.0)
    ax.set_xticks([])
    ax.set_ylabel("coverage (dotted: 99 % band)")
    ax.legend(frameon=False, fontsize=7, loc="lower right")
    fig.suptitle(
        f"SBC of the default calibration on the city model ({n} data sets, one reference "
        f"table of {report['table_runs']} runs)",
        fontsize=9,
    )
    save_figure(fig, path)


if __name__ == "__main__":
    main()
