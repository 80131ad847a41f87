"""Simulation-based calibration (Talts et al. 2018) of the ABC-SMC machinery.

For each of ``--sets`` synthetic data sets: draw a true ``mu`` from the prior
N(0, 3²), simulate the sufficient statistic of 4 observations ``ybar ~ N(mu, 1/4)``,
run :func:`waste_harmony.experiments.abc.abc_smc` (population 500, 6 generations),
and record (a) the rank of the true value among 99 posterior draws and (b) whether
the 90 % equal-tailed credible interval holds it. A calibrated method gives uniform
ranks and a coverage inside the binomial band around 90 %; the exact posterior is
also known in closed form, so the mean error in posterior-sd units is reported.

This is the conjugate case run through the same ABC code the model calibration
uses; the city model itself is validated by the recovery test
(tests/test_calibration.py), since an SBC study over it would cost ~10⁵ runs.

Run:  python benchmarks/calibration_sbc.py [--sets 100] [--figure docs/_static/calibration_sbc.png]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from scipy import stats

from waste_harmony.experiments import abc
from waste_harmony.experiments.calibration import weighted_quantile

PRIOR_SD, M_OBS, DRAWS = 3.0, 4, 99


def one_set(k: int) -> dict[str, float]:
    rng = np.random.default_rng([2018, k])
    mu = rng.normal(0, PRIOR_SD)
    ybar = rng.normal(mu, 1 / np.sqrt(M_OBS))

    def simulate(step: int, theta: np.ndarray) -> np.ndarray:
        noise = np.random.default_rng([k, step]).normal(0, 1 / np.sqrt(M_OBS), (len(theta), 1, 1))
        return theta[:, None, :] + noise

    out = abc.abc_smc(simulate, {"mu": stats.norm(0, PRIOR_SD)}, np.array([ybar]),
                      population_size=500, generations=6, seed=k)  # fmt: skip
    last = out.generations[-1]
    x, w = last.theta[last.accepted, 0], last.weight[last.accepted]
    draws = rng.choice(x, size=DRAWS, p=w / w.sum())
    low, high = weighted_quantile(x, w, [0.05, 0.95])
    precision = 1 / PRIOR_SD**2 + M_OBS
    exact_mean, exact_sd = ybar * M_OBS / precision, np.sqrt(1 / precision)
    return {
        "rank": int((draws < mu).sum()),
        "covered": bool(low <= mu <= high),
        "mean_error_sd": float((np.average(x, weights=w) - exact_mean) / exact_sd),
        "ess": float(last.ess),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", type=int, default=100)
    parser.add_argument("--figure", default="docs/_static/calibration_sbc.png")
    args = parser.parse_args()
    rows = [one_set(k) for k in range(args.sets)]
    ranks = np.array([r["rank"] for r in rows])
    covered = sum(r["covered"] for r in rows)
    band = stats.binom.ppf([0.005, 0.995], args.sets, 0.9).astype(int).tolist()
    bins = 10
    counts = np.histogram(ranks, bins=bins, range=(0, DRAWS + 1))[0]
    summary = {
        "sets": args.sets,
        "coverage_90": covered / args.sets,
        "binomial_99_band": [b / args.sets for b in band],
        "rank_uniformity_chi2_p": float(stats.chisquare(counts).pvalue),
        "mean_abs_error_sd": float(np.mean([abs(r["mean_error_sd"]) for r in rows])),
        "min_ess": float(min(r["ess"] for r in rows)),
    }
    print(json.dumps(summary, indent=2))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8, 3))
    ax1.bar(np.arange(bins), counts, width=0.9, color="C0")
    lo, hi = stats.binom.ppf([0.005, 0.995], args.sets, 1 / bins)
    ax1.axhspan(lo, hi, color="0.85", zorder=0, label="99 % band (uniform)")
    ax1.set_xlabel(f"rank of the true value among {DRAWS} draws (bins)")
    ax1.set_ylabel("data sets")
    ax1.legend(frameon=False, fontsize=8)
    ax2.bar([0], [covered / args.sets], color="C0", width=0.5)
    ax2.axhspan(band[0] / args.sets, band[1] / args.sets, color="0.85", zorder=0)
    ax2.axhline(0.9, color="0.3", ls="--")
    ax2.set_xticks([0], ["90 % intervals"])
    ax2.set_ylim(0.6, 1.0)
    ax2.set_ylabel("coverage")
    fig.suptitle(f"Simulation-based calibration of ABC-SMC ({args.sets} data sets)")
    fig.tight_layout()
    Path(args.figure).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.figure, dpi=110)
    print(f"figure -> {args.figure}")


if __name__ == "__main__":
    main()
