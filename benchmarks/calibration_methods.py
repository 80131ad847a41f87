"""Calibration methods side by side on the real model, at the same number of model runs.

For each case of ``calibration_cases.py`` and each of ``--sets`` synthetic data sets
(true parameters drawn from the prior, observations simulated from them), every
method gets the same budget of model runs (``--budget``) and is scored against the
exact posterior where there is one (interval width ratio, mean error in exact
posterior standard deviations) and against the truth (coverage of the 90 %
interval; width as a share of the prior's 90 % width).

Methods (``--methods``):

* ``abc-reg``: the library's default (:func:`waste_harmony.experiments.abcreg.
  regression_posterior`): one reference table from the prior, semi-automatic
  summaries (Fearnhead & Prangle 2012), rejection, local-linear adjustment with
  heteroscedastic correction (Beaumont et al. 2002; Blum & François 2010);
* ``rejection-sa``: the same table and summaries without the adjustment
  (Fearnhead & Prangle's semi-automatic ABC by rejection);
* ``reg-raw``: Beaumont et al. (2002) as published: rejection on the MAD-scaled
  statistics themselves, linear adjustment on all of them;
* ``reg-nn``: Blum & François (2010)'s non-linear heteroscedastic adjustment (a
  one-hidden-layer network for the mean and the log variance, 5 nets averaged) on
  the semi-automatic summaries;
* ``abc-smc``: the library's ABC-SMC (:func:`waste_harmony.experiments.abc.abc_smc`,
  population 200, the previous default);
* ``smc-reg``: ABC-SMC followed by the local-linear adjustment of its last population;
* ``bsl``: Bayesian synthetic likelihood (Wood 2010; Price et al. 2018), random-walk
  Metropolis with adaptive proposals (Haario et al. 2001), ``m`` runs per iteration,
  started at the best of a 100-run prior pilot;
* ``pyabc``: pyabc 0.13's ABC-SMC (Klinger, Rickert & Hasenauer 2018; adaptive
  Euclidean distance, Prangle 2017; population 200, single-core sampler, stopped at
  the budget) as an external reference, if pyabc is installed (``pip install
  pyabc``: not a dependency of the library).

The reference-table methods share one table per case (amortised over the data sets,
which is what a reference table is for) and are scored on ``--sets`` data sets; the
sequential ones (``abc-smc``, ``smc-reg``, ``bsl``, ``pyabc``) spend their budget anew
on every data set, so they are scored on the first ``--sequential-sets`` of them.

Run:  python benchmarks/calibration_methods.py [--cases waste recycling two three]
      [--sets 20] [--sequential-sets 4] [--budget 2000] [--workers 2] [--methods ...]
      [--json out.json] [--cache DIR] [--figure docs/_static/calibration_exact.png]
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy import optimize, stats

sys.path.insert(0, str(Path(__file__).resolve().parent))

from calibration_cases import CASES, Case, save_figure

from waste_harmony.experiments import abc, abcreg
from waste_harmony.experiments.calibration import weighted_quantile

TABLE_METHODS = ("abc-reg", "rejection-sa", "reg-raw", "reg-nn")
SEQUENTIAL_METHODS = ("abc-smc", "smc-reg", "bsl", "pyabc")


# ---------------------------------------------------------------------------- simulation
_FROZEN = []


def _one(args: tuple[str, np.ndarray, int]) -> np.ndarray:
    name, theta, seed = args
    try:
        return CASES[name].simulate(theta, seed)
    except Exception:  # a failed run: no statistics (the methods drop it)
        return np.full(len(CASES[name].observations) + len(CASES[name].node_observations), np.nan)
    finally:
        # A finished model sits in reference cycles that the cyclic collector reaches
        # too rarely (~1.7 MB per 200-citizen run accumulated in each worker): collect
        # it now, with the library's long-lived objects frozen out of the collection.
        gc.collect()
        if not _FROZEN:
            gc.freeze()
            _FROZEN.append(True)


class Simulator:
    """Runs of one case on a process pool (or here with ``workers=1``)."""

    def __init__(self, case: Case, workers: int) -> None:
        self.case = case
        self.pool = multiprocessing.get_context("spawn").Pool(workers) if workers > 1 else None
        self.runs = 0

    def __call__(self, thetas: np.ndarray, seeds: np.ndarray) -> np.ndarray:
        jobs = [(self.case.name, t, int(s)) for t, s in zip(thetas, seeds, strict=True)]
        self.runs += len(jobs)
        if self.pool is None:
            return np.array([_one(j) for j in jobs])
        return np.array(self.pool.map(_one, jobs, chunksize=4))

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool.join()


def _seeds(*key: int, n: int) -> np.ndarray:
    return np.random.default_rng(list(key)).integers(0, 2**31 - 1, n)


# ---------------------------------------------------------------------------- candidates
def truncated(priors: dict[str, Any], theta: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weights with adjusted values outside the prior's support dropped (as abcreg does)."""
    supports = np.array([p.support() for p in priors.values()], dtype=float)
    inside = ((theta > supports[:, 0]) & (theta < supports[:, 1])).all(axis=1)
    w = np.where(inside, w, 0.0)
    return w / w.sum()


def reg_raw(
    theta: np.ndarray, table: np.ndarray, obs: np.ndarray, priors: dict[str, Any]
) -> tuple[np.ndarray, ...]:
    """Beaumont et al. (2002): rejection on scaled statistics, linear adjustment on them."""
    ok = np.isfinite(table).all(axis=1)
    theta, table = theta[ok], table[ok]
    z, z_obs = abcreg.standardise(table, obs)
    z = np.where(np.isfinite(z), z, 0.0)
    z_obs = np.where(np.isfinite(z_obs), z_obs, 0.0)
    d = np.sqrt(((z - z_obs) ** 2).sum(axis=1))
    w = abcreg.kernel_weights(d, max(50, len(d) // 10))
    kept = w > 0
    adjusted = abcreg.adjust(
        theta[kept], z[kept], z_obs, w[kept], heteroscedastic=False, quadratic=False
    )
    return adjusted, truncated(priors, adjusted, w[kept])


def _mlp_fit(x: np.ndarray, y: np.ndarray, w: np.ndarray, seed: int, hidden: int = 5) -> Callable:
    """One-hidden-layer tanh network, weighted least squares with weight decay (L-BFGS)."""
    n_in, n_out = x.shape[1], y.shape[1]
    sizes = [(n_in, hidden), (hidden,), (hidden, n_out), (n_out,)]
    rng = np.random.default_rng(seed)
    start = np.concatenate([rng.normal(0, 0.5, np.prod(s)) for s in sizes])
    w = w / w.sum()
    decay = 1e-3

    def unpack(p: np.ndarray) -> list[np.ndarray]:
        out, i = [], 0
        for s in sizes:
            size = int(np.prod(s))
            out.append(p[i : i + size].reshape(s))
            i += size
        return out

    def loss(p: np.ndarray) -> tuple[float, np.ndarray]:
        w1, b1, w2, b2 = unpack(p)
        h = np.tanh(x @ w1 + b1)
        r = h @ w2 + b2 - y
        value = float((w[:, None] * r**2).sum()) + decay * float((w1**2).sum() + (w2**2).sum())
        g_out = 2 * w[:, None] * r
        g_w2 = h.T @ g_out + 2 * decay * w2
        g_b2 = g_out.sum(axis=0)
        g_h = (g_out @ w2.T) * (1 - h**2)
        g_w1 = x.T @ g_h + 2 * decay * w1
        g_b1 = g_h.sum(axis=0)
        return value, np.concatenate([g.ravel() for g in (g_w1, g_b1, g_w2, g_b2)])

    fit = optimize.minimize(loss, start, jac=True, method="L-BFGS-B", options={"maxiter": 500})
    w1, b1, w2, b2 = unpack(fit.x)
    return lambda q: np.tanh(q @ w1 + b1) @ w2 + b2


def reg_nn(
    theta: np.ndarray, table: np.ndarray, obs: np.ndarray, priors: dict[str, Any], nets: int = 5
) -> tuple[np.ndarray, ...]:
    """Blum & François (2010): neural-network mean and log-variance, on the SA summaries."""
    post = abcreg.regression_posterior(theta, table, obs, priors, adjustment=False)
    rows = post.rows
    ok = np.isfinite(table).all(axis=1)
    z, z_obs = abcreg.standardise(table[ok], obs)
    u_all = theta[ok]
    t, t_obs = abcreg.project(z, z_obs, u_all)
    index = np.cumsum(ok) - 1
    t_kept = t[index[rows]]
    u = theta[rows]
    w = post.weight
    sd_t = t_kept.std(axis=0) + 1e-12
    x = (t_kept - t_obs) / sd_t
    mu_u, sd_u = u.mean(axis=0), u.std(axis=0) + 1e-12
    y = (u - mu_u) / sd_u
    means = [_mlp_fit(x, y, w, seed) for seed in range(nets)]
    fitted = np.mean([m(x) for m in means], axis=0)
    at_obs = np.mean([m(np.zeros((1, x.shape[1]))) for m in means], axis=0)
    resid = y - fitted
    log_sq = np.log(resid**2 + 1e-12)
    centre = log_sq.mean(axis=0)
    variances = [_mlp_fit(x, log_sq - centre, w, 100 + seed) for seed in range(nets)]
    log_var = np.mean([v(x) for v in variances], axis=0) + centre
    log_var_obs = np.mean([v(np.zeros((1, x.shape[1]))) for v in variances], axis=0) + centre
    ratio = np.exp(np.clip((log_var_obs - log_var) / 2, -3, 3))
    adjusted = (at_obs + resid * ratio) * sd_u + mu_u
    return adjusted, truncated(priors, adjusted, w)


def smc(
    simulate: Simulator, case: Case, obs: np.ndarray, budget: int, key: int, adjust: bool
) -> tuple[np.ndarray, ...]:
    """The library's ABC-SMC (population 200), optionally with a final adjustment."""

    def batch(step: int, thetas: np.ndarray) -> np.ndarray:
        return simulate(thetas, _seeds(key, 7, step, n=len(thetas)))[:, None, :]

    out = abc.abc_smc(batch, case.priors, obs, population_size=200, max_proposals=budget, seed=key)
    last = out.generations[-1]
    kept = last.weight > 0
    theta, w = last.theta[kept], last.weight[kept]
    if not adjust:
        return theta, w
    stats_ = last.summaries[kept, 0, :]
    z, z_obs = abcreg.standardise(stats_, obs)
    t, t_obs = abcreg.project(z, z_obs, theta, w, squares=False)
    d = last.distance[kept, 0] / max(last.epsilon, 1e-300) if np.isfinite(last.epsilon) else None
    kernel = np.ones(len(theta)) if d is None else np.maximum(1 - d**2, 1e-6)
    weights = w * kernel
    adjusted = abcreg.adjust(theta, t, t_obs, weights, quadratic=False)
    return adjusted, truncated(case.priors, adjusted, weights)


def bsl(
    simulate: Simulator, case: Case, obs: np.ndarray, budget: int, key: int, m: int = 20
) -> tuple[np.ndarray, ...]:
    """Bayesian synthetic likelihood (Price et al. 2018) with adaptive random-walk Metropolis."""
    rng = np.random.default_rng([key, 11])
    priors = list(case.priors.values())
    pilot_n = 100
    pilot = np.column_stack([p.rvs(size=pilot_n, random_state=rng) for p in priors])
    sims = simulate(pilot, _seeds(key, 12, n=pilot_n))
    z, z_obs = abcreg.standardise(sims, obs)
    d = np.where(np.isfinite(z).all(axis=1), np.sqrt(((z - z_obs) ** 2).sum(axis=1)), np.inf)
    current = pilot[int(np.argmin(d))]
    prior_sd = np.array([p.std() for p in priors])

    def log_sl(theta: np.ndarray, step: int) -> float:
        s = simulate(np.repeat(theta[None, :], m, axis=0), _seeds(key, 13, step, n=m))
        s = s[np.isfinite(s).all(axis=1)]
        if len(s) < 3:
            return -np.inf
        mean = s.mean(axis=0)
        cov = np.atleast_2d(np.cov(s, rowvar=False)) + 1e-9 * np.eye(s.shape[1])
        try:
            return float(stats.multivariate_normal(mean, cov, allow_singular=True).logpdf(obs))
        except (ValueError, np.linalg.LinAlgError):
            return -np.inf

    def log_prior(theta: np.ndarray) -> float:
        return float(sum(p.logpdf(v) for p, v in zip(priors, theta, strict=True)))

    iterations = (budget - pilot_n) // m
    chain = [current]
    current_lp = log_sl(current, 0) + log_prior(current)
    cov = np.diag((0.05 * prior_sd) ** 2)
    moves = 0
    for it in range(1, iterations):
        if it >= 20:
            past = np.array(chain)
            cov = (2.38**2 / len(prior_sd)) * np.atleast_2d(np.cov(past, rowvar=False)) + np.diag(
                (1e-4 * prior_sd) ** 2
            )
        proposal = rng.multivariate_normal(current, cov)
        lp_prior = log_prior(proposal)
        if np.isfinite(lp_prior):
            lp = log_sl(proposal, it) + lp_prior
            if np.log(rng.random()) < lp - current_lp:
                current, current_lp = proposal, lp
                moves += 1
        chain.append(current)
    sample = np.array(chain[len(chain) // 2 :])
    # The interval comes from this many states: say so beside the scores.
    distinct = len(np.unique(sample, axis=0))
    print(f"  bsl: {iterations} steps, {moves} moves, {distinct} distinct states kept", flush=True)
    return sample, np.full(len(sample), 1.0 / len(sample))


class _BudgetSpentError(Exception):
    """Raised by the pyabc model wrapper when the run budget is spent."""


def pyabc_smc(case_name: str, obs: np.ndarray, budget: int, key: int) -> tuple[np.ndarray, ...]:
    """pyabc's ABC-SMC as an external reference (Klinger, Rickert & Hasenauer 2018).

    pyabc's defaults (median tolerance, multivariate normal kernel), population 200,
    with the adaptive Euclidean distance of Prangle (2017) — each statistic divided by
    its median absolute deviation, re-fitted every generation — as the library's
    ABC-SMC uses, and the single-core sampler (seeded, so runs are reproducible).
    pyabc checks its simulation budget only between generations, so a last
    generation could overshoot it several times over: here the model itself stops at
    ``budget`` runs and the last completed generation is the posterior (the library's
    ABC-SMC keeps the previous generation in the same situation). Returns the
    posterior sample, its weights and the number of runs made.
    """
    import logging
    import tempfile

    import pyabc

    logging.getLogger("ABC").setLevel(logging.WARNING)  # a line per generation otherwise
    case = CASES[case_name]
    np.random.seed(key % (2**31))  # noqa: NPY002  (pyabc draws from NumPy's global state)
    seeds = iter(_seeds(key, 21, n=budget))
    runs = 0

    def model(params: dict[str, float]) -> dict[str, float]:
        nonlocal runs
        if runs >= budget:
            raise _BudgetSpentError
        runs += 1
        theta = np.array([params[n] for n in case.names])
        return {f"s{i}": v for i, v in enumerate(_one((case_name, theta, int(next(seeds)))))}

    prior = pyabc.Distribution(
        **{
            n: pyabc.RV("uniform", float(p.support()[0]), float(p.support()[1] - p.support()[0]))
            for n, p in case.priors.items()
        }
    )
    distance = pyabc.distance.AdaptivePNormDistance(p=2, scale_function=pyabc.distance.mad)
    with tempfile.TemporaryDirectory() as tmp:
        smc_ = pyabc.ABCSMC(
            model, prior, distance, population_size=200, sampler=pyabc.sampler.SingleCoreSampler()
        )
        smc_.new(f"sqlite:///{tmp}/db.sqlite", {f"s{i}": v for i, v in enumerate(obs)})
        try:
            history = smc_.run(max_total_nr_simulations=budget, max_nr_populations=20)
        except _BudgetSpentError:
            history = smc_.history
        if history.max_t < 0:
            raise RuntimeError(f"pyabc completed no generation in {budget} runs")
        frame, w = history.get_distribution()
        print(f"  pyabc: {history.max_t + 1} generations in {runs} runs", flush=True)
    return frame[case.names].to_numpy(), np.asarray(w), runs


def _pyabc_job(args: tuple[str, np.ndarray, int, int]) -> tuple[np.ndarray, ...]:
    return pyabc_smc(*args)


# ---------------------------------------------------------------------------- scoring
def score(
    case: Case, theta: np.ndarray, w: np.ndarray, truth: np.ndarray, obs: np.ndarray
) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for j, (name, prior) in enumerate(case.priors.items()):
        low, high = weighted_quantile(theta[:, j], w, [0.05, 0.95])
        p_low, p_high = prior.ppf([0.05, 0.95])
        mean = float(np.average(theta[:, j], weights=w))
        item = {
            "width_prior": float((high - low) / (p_high - p_low)),
            "covered": bool(low <= truth[j] <= high),
            "mean": mean,
        }
        if case.exact is not None:
            ref = case.exact(obs)
            e_low, e_high = ref.interval(0.9)
            item["width_exact"] = float((high - low) / (e_high - e_low))
            item["mean_error_sd"] = float((mean - ref.mean) / ref.sd)
        row[name] = item
    return row


def summarise(rows: list[dict[str, Any]], names: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in names:
        items = [r["score"][name] for r in rows]
        entry = {
            "width_prior": float(np.mean([i["width_prior"] for i in items])),
            "coverage_90": float(np.mean([i["covered"] for i in items])),
        }
        if "width_exact" in items[0]:
            entry["width_exact"] = float(np.mean([i["width_exact"] for i in items]))
            entry["abs_mean_error_sd"] = float(np.mean([abs(i["mean_error_sd"]) for i in items]))
        out[name] = entry
    out["sets"] = len(rows)
    out["runs_per_set"] = float(np.mean([r["runs"] for r in rows]))
    out["seconds_per_set"] = float(np.mean([r["seconds"] for r in rows]))
    return out


def run_case(case: Case, args: argparse.Namespace) -> dict[str, Any]:
    simulate = Simulator(case, args.workers)
    try:
        rng = np.random.default_rng([20, len(case.name)])
        truths = [case.draw_truth(rng) for _ in range(args.sets)]
        observed = [simulate(t[None, :], _seeds(99, k, n=1))[0] for k, t in enumerate(truths)]
        results: dict[str, list[dict[str, Any]]] = {m: [] for m in args.methods}
        cache = Path(args.cache) if args.cache else None
        done: dict[tuple[str, int], dict[str, Any]] = {}
        if cache is not None:
            cache.mkdir(parents=True, exist_ok=True)
            log = cache / f"{case.name}-{args.budget}.jsonl"
            if log.exists():
                for line in log.read_text().splitlines():
                    row = json.loads(line)
                    done[(row["method"], row["set"])] = row
        table_methods = [m for m in args.methods if m in TABLE_METHODS]
        if table_methods:
            start = time.perf_counter()
            theta = np.column_stack(
                [p.rvs(size=args.budget, random_state=np.random.default_rng([5, j]))
                 for j, p in enumerate(case.priors.values())]
            )  # fmt: skip
            saved = None if cache is None else cache / f"table-{case.name}-{args.budget}.npz"
            if saved is not None and saved.exists():
                stored = np.load(saved)
                table, table_seconds = stored["table"], float(stored["seconds"])
            else:
                table = simulate(theta, _seeds(5, 100, n=args.budget))
                table_seconds = time.perf_counter() - start
                if saved is not None:
                    np.savez(saved, table=table, seconds=table_seconds)
            print(f"  {case.name}: reference table of {args.budget} runs in "
                  f"{table_seconds:.0f} s", flush=True)  # fmt: skip
        for k, (truth, obs) in enumerate(zip(truths, observed, strict=True)):
            for method in args.methods:
                if method in SEQUENTIAL_METHODS and k >= args.sequential_sets:
                    continue
                if (method, k) in done and method in SEQUENTIAL_METHODS:
                    results[method].append(done[(method, k)])
                    continue
                start = time.perf_counter()
                before = simulate.runs
                if method == "abc-reg":
                    post = abcreg.regression_posterior(theta, table, obs, case.priors)
                    sample, w = post.theta, post.weight
                elif method == "rejection-sa":
                    post = abcreg.regression_posterior(
                        theta, table, obs, case.priors, adjustment=False
                    )
                    sample, w = post.theta, post.weight
                elif method == "reg-raw":
                    sample, w = reg_raw(theta, table, obs, case.priors)
                elif method == "reg-nn":
                    sample, w = reg_nn(theta, table, obs, case.priors)
                elif method in ("abc-smc", "smc-reg"):
                    sample, w = smc(simulate, case, obs, args.budget, 1000 + k, method == "smc-reg")
                elif method == "bsl":
                    sample, w = bsl(simulate, case, obs, args.budget, 2000 + k)
                elif method == "pyabc":
                    if simulate.pool is not None:
                        sample, w, made = simulate.pool.apply(
                            _pyabc_job, ((case.name, obs, args.budget, 3000 + k),)
                        )
                    else:
                        sample, w, made = pyabc_smc(case.name, obs, args.budget, 3000 + k)
                    simulate.runs += made
                else:
                    raise ValueError(f"unknown method {method!r}")
                runs = simulate.runs - before if method not in TABLE_METHODS else args.budget
                seconds = time.perf_counter() - start
                if method in TABLE_METHODS:
                    seconds += table_seconds / args.sets  # amortised share of the table
                row = {
                    "score": score(case, sample, w, truth, obs),
                    "runs": runs,
                    "seconds": seconds,
                }
                results[method].append(row)
                if cache is not None:
                    with (cache / f"{case.name}-{args.budget}.jsonl").open("a") as fh:
                        fh.write(json.dumps({"method": method, "set": k, **row}) + "\n")
            print(f"  {case.name}: data set {k + 1}/{args.sets} done", flush=True)
        summary: dict[str, Any] = {m: summarise(r, case.names) for m, r in results.items() if r}
        summary["rows"] = {m: r for m, r in results.items() if r}
        return summary
    finally:
        simulate.close()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=["waste", "recycling", "two", "three"])
    parser.add_argument("--methods", nargs="+", default=[*TABLE_METHODS, *SEQUENTIAL_METHODS])
    parser.add_argument("--sets", type=int, default=20, help="data sets (table methods)")
    parser.add_argument(
        "--sequential-sets", type=int, default=4, help="data sets of the sequential methods"
    )
    parser.add_argument("--budget", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--json", default=None)
    parser.add_argument(
        "--cache", default=None, help="folder keeping tables and finished results (to resume)"
    )
    parser.add_argument(
        "--figure", default=None, help="draw the exact cases' scores per data set (PNG)"
    )
    args = parser.parse_args(argv)
    if "pyabc" in args.methods:
        try:
            import pyabc  # noqa: F401
        except ImportError:
            print("pyabc is not installed: skipping it (pip install pyabc)", flush=True)
            args.methods = [m for m in args.methods if m != "pyabc"]
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    report = {"budget": args.budget, "sets": args.sets, "cases": {}}
    report["rows"] = {}
    for name in args.cases:
        report["cases"][name] = run_case(CASES[name], args)
        report["rows"][name] = report["cases"][name].pop("rows")
        print(json.dumps({name: report["cases"][name]}, indent=1), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    if args.figure:
        figure(report["rows"], args.figure, args.budget)
    return report


def figure(rows: dict[str, dict[str, list[dict[str, Any]]]], path: str, budget: int) -> None:
    """Width over the exact one and mean error per data set, per method and exact case."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cases = [c for c in rows if CASES[c].exact is not None]
    fig, axes = plt.subplots(2, len(cases), figsize=(4.2 * len(cases), 5.6), squeeze=False)
    for col, case in enumerate(cases):
        name = CASES[case].names[0]
        for m, results in enumerate(rows[case].values()):
            widths = np.array([r["score"][name]["width_exact"] for r in results])
            errors = [r["score"][name]["mean_error_sd"] for r in results]
            x = m + np.linspace(-0.2, 0.2, len(widths))
            # A zero width (a chain that never moved) has no place on the log scale:
            # drawn as a triangle at the floor rather than silently dropped.
            stuck = widths <= 0
            axes[0, col].scatter(x[~stuck], widths[~stuck], s=14, color=f"C{m}")
            axes[0, col].scatter(x[stuck], np.full(stuck.sum(), 0.1), s=22, marker="v",
                                 color=f"C{m}")  # fmt: skip
            axes[1, col].scatter(x, errors, s=14, color=f"C{m}")
        for row, (lines, label) in enumerate(
            (((1.5,), "90 % width / exact (target ≤ 1.5)"), ((-0.3, 0.3), "mean error (exact sd)"))
        ):
            ax = axes[row, col]
            for y in lines:
                ax.axhline(y, color="0.4", ls="--", lw=0.8)
            ax.set_xticks(range(len(rows[case])), list(rows[case]), fontsize=7)
            ax.set_ylabel(label, fontsize=8)
            if row == 0:
                ax.set_yscale("log")
                ax.axhline(1.0, color="0.7", lw=0.8)
                ax.set_title(f"{case}: {name}, {budget} runs (▼: width 0)", fontsize=9)
            else:
                ax.set_yscale("symlog", linthresh=1.0)  # errors from 0.1 to hundreds of sd
    save_figure(fig, path)


if __name__ == "__main__":
    main()
