"""Know before you spend, end to end: check, collect what it recommends, calibrate.

Three parameters of a 400-citizen, 120-day city — ``recycling_weight_norm``,
``recyclable_fraction`` and ``waste_per_capita_kg`` (the ``target`` case of
``calibration_cases.py``; ``--case ridge`` calibrates ``recycling_intercept`` in place of
the recyclable fraction, a pair the check finds no recorded output to separate) — and a
user who observes the recycling rate and mean concern on days 20, 40, …, 120:

1. :func:`~waste_harmony.experiments.identifiability.identifiability` predicts, from
   its small design, which of the three those observations can inform, and which
   other observations would inform the rest; its recommendation
   (:meth:`Identifiability.recommended`) becomes the observation set;
2. :func:`~waste_harmony.experiments.calibrate` (default method, ``--budget`` runs)
   calibrates the first of ``--sets`` synthetic data sets (true values drawn from
   the prior) with the recommended observations; the others are calibrated on the
   same reference table (loaded from its batch files; what ``calibrate`` computes
   from it, :func:`~waste_harmony.experiments.abcreg.regression_posterior`), and so
   is every data set with the original observations (a subset of the recommended
   statistics, same runs);
3. reported per parameter: the 90 % interval's width as a share of the prior's
   (target < 0.3 for all three with the recommended observations; mean, largest and
   the share of data sets under 0.3) and how often it holds the truth, with the
   check's predictions beside.

Run:  python benchmarks/calibration_target.py [--case target|ridge] [--budget 2000]
      [--sets 10] [--workers 2] [--folder DIR] [--json out.json] [--figure PNG]
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
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from calibration_cases import CASES, Case, save_figure

from waste_harmony import CityModel, experiments
from waste_harmony.experiments import abcreg
from waste_harmony.experiments.calibration import check_observed, weighted_quantile
from waste_harmony.experiments.identifiability import identifiability


def values(case: Case, keys: pd.DataFrame, theta: np.ndarray, seed: int) -> np.ndarray:
    """One run's values at the observation keys (model level)."""
    model = CityModel(rng=seed, **case.fixed, **dict(zip(case.names, theta, strict=True)))
    model.run_for(case.days)
    frame = model.model_frame()
    pairs = zip(keys["variable"], keys["day"], strict=True)
    return np.array([float(frame.loc[d, v]) for v, d in pairs])


def widths(
    case: Case, post_theta: np.ndarray, w: np.ndarray, truth: np.ndarray
) -> list[dict[str, Any]]:
    rows = []
    for j, prior in enumerate(case.priors.values()):
        low, high = weighted_quantile(post_theta[:, j], w, [0.05, 0.95])
        p_low, p_high = prior.ppf([0.05, 0.95])
        rows.append({"width": (high - low) / (p_high - p_low), "covered": low <= truth[j] <= high})
    return rows


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=("target", "ridge"), default="target")
    parser.add_argument("--budget", type=int, default=2000)
    parser.add_argument("--sets", type=int, default=10)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--folder", default=None, help="keep the runs here (resumable)")
    parser.add_argument("--json", default=None)
    parser.add_argument("--figure", default=None, help="e.g. docs/_static/calibration_target.png")
    args = parser.parse_args(argv)
    case = CASES[args.case]
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    original = check_observed(case.observed_frame(np.zeros(len(case.observations))))
    report: dict[str, Any] = {"case": case.name, "budget": args.budget, "sets": args.sets}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.folder or tmp)
        start = time.perf_counter()
        check = identifiability(
            priors=case.priors, observed=original, days=case.days, seed=0,
            out=folder / "check", resume=True, workers=args.workers, progress=False,
            **case.fixed,
        )  # fmt: skip
        report["check_seconds"] = time.perf_counter() - start
        report["check_runs"] = check.runs
        print(check, flush=True)
        report["check"] = check.candidates.to_dict("records")
        keys = check.recommended().copy()
        keys["value"] = 0.0
        recommended = check_observed(keys)
        report["recommended"] = f"{len(recommended)} statistics: " + ", ".join(
            f"{v} ({(recommended['variable'] == v).sum()} days)"
            for v in dict.fromkeys(recommended["variable"])
        )
        # which recommended statistics are the original ones (the original is a subset)
        pairs = zip(recommended["variable"], recommended["day"], strict=True)
        position = {(v, d): i for i, (v, d) in enumerate(pairs)}
        subset = [position[p] for p in zip(original["variable"], original["day"], strict=True)]
        rng = np.random.default_rng(2020)
        truths = [case.draw_truth(rng) for _ in range(args.sets)]
        data = [values(case, recommended, t, 7000 + k) for k, t in enumerate(truths)]
        start = time.perf_counter()
        first = experiments.calibrate(
            priors=case.priors,
            observed=recommended.assign(value=data[0]),
            days=case.days,
            budget=args.budget,
            seed=1,
            check=False,
            workers=args.workers,
            out=folder / "calibration",
            resume=(folder / "calibration" / "calibration.json").exists(),
            progress=False,
            **case.fixed,
        )
        report["calibration_seconds"] = time.perf_counter() - start
        table = pd.concat(
            pd.read_parquet(f) for f in sorted((folder / "calibration" / "table").glob("*.parquet"))
        )
    theta = table[case.names].to_numpy()
    stats_ = table[[f"s{j}" for j in range(len(recommended))]].to_numpy()
    results: dict[str, list[list[dict[str, Any]]]] = {"as observed": [], "recommended": []}
    for k, truth in enumerate(truths):
        for label, columns in (("recommended", slice(None)), ("as observed", subset)):
            post = abcreg.regression_posterior(
                theta, stats_[:, columns], data[k][columns], case.priors
            )
            results[label].append(widths(case, post.theta, post.weight, truth))
    post = abcreg.regression_posterior(theta, stats_, data[0], case.priors)
    mean = np.average(post.theta, axis=0, weights=post.weight)
    assert np.allclose(first.mean().to_numpy(), mean), "not calibrate's table"
    predicted = check.candidates.set_index("candidate")
    union = [c for c in predicted.index if c.startswith("all recommended")]
    forecast = {"as observed": "as observed", "recommended": union[0] if union else "as observed"}
    report["parameters"] = {}
    for j, name in enumerate(case.names):
        entry = {}
        for label, rows in results.items():
            entry[label] = {
                "width_90_over_prior": float(np.mean([r[j]["width"] for r in rows])),
                "width_max": float(np.max([r[j]["width"] for r in rows])),
                "share_under_0.3": float(np.mean([r[j]["width"] < 0.3 for r in rows])),
                "coverage_90": float(np.mean([r[j]["covered"] for r in rows])),
                "predicted": float(predicted.loc[forecast[label], name]),
            }
        report["parameters"][name] = entry
    print(json.dumps(report["parameters"], indent=1))
    if args.figure:
        figure(case, results, args.budget, args.figure)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=str))
    return report


def figure(
    case: Case, results: dict[str, list[list[dict[str, Any]]]], budget: int, path: str
) -> None:
    """Each data set's 90 % width / prior, per parameter, as observed and recommended."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    rng = np.random.default_rng(0)  # horizontal jitter only
    for k, (label, rows) in enumerate(results.items()):
        for j in range(len(case.names)):
            w = [r[j]["width"] for r in rows]
            x = 3 * j + k + rng.uniform(-0.25, 0.25, len(w))
            ax.plot(x, w, "o", ms=3, alpha=0.5, color=f"C{k}", label=label if j == 0 else None)
    ax.axhline(0.3, color="0.3", ls="--", lw=1, label="target 0.3")
    ax.set_xticks([3 * j + 0.5 for j in range(len(case.names))], case.names, fontsize=8)
    ax.set_ylabel("90 % width / prior's")
    ax.set_ylim(0, 1.1)
    ax.legend(frameon=False, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3)
    ax.set_title(
        f"{case.name}: {len(next(iter(results.values())))} data sets, one table of {budget} runs",
        fontsize=9,
    )
    save_figure(fig, path)


if __name__ == "__main__":
    main()
