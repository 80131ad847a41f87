"""Exact posteriors on the real model: their closed forms, the model's own distributions,
and a small calibration of the real model measured against them."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from waste_harmony import CityModel, experiments
from waste_harmony.experiments import exact


def test_waste_posterior_is_the_inverse_gamma():
    """Flat prior: μ | totals ~ InvGamma(n k D − 1, k Σ T) (the grid agrees to 1e-4 sd)."""
    totals = [731.0, 752.0, 748.0, 760.0]
    post = exact.waste_per_capita_posterior(
        totals, n_citizens=1000, cv=0.5, prior=stats.uniform(0.01, 10)
    )
    k = 4.0
    closed = stats.invgamma(1000 * k * 4 - 1, scale=k * sum(totals))
    assert post.mean == pytest.approx(closed.mean(), abs=1e-4 * closed.std())
    assert post.sd == pytest.approx(closed.std(), rel=1e-3)
    np.testing.assert_allclose(post.interval(0.9), closed.ppf([0.05, 0.95]), atol=1e-3 * post.sd)


def test_recycling_posterior_is_the_logit_of_a_beta():
    """Flat prior on β₀: σ(β₀) | counts ~ Beta(S, N − S), so β₀'s quantiles are logit(Beta)'s."""
    shares = [0.21, 0.19, 0.2]
    post = exact.recycling_intercept_posterior(shares, n_citizens=500, prior=stats.uniform(-10, 20))
    s = round(sum(shares) * 500)
    beta = stats.beta(s, 1500 - s)
    expected = np.log(beta.ppf([0.05, 0.95]) / (1 - beta.ppf([0.05, 0.95])))
    np.testing.assert_allclose(post.interval(0.9), expected, atol=2e-3 * post.sd)


@pytest.mark.validation
def test_the_model_generates_what_the_exact_posteriors_assume():
    """Daily totals are Gamma(n k, μ/k) and recycling counts Binomial(n, σ(β₀)) (KS, χ²)."""
    n, mu, beta = 300, 0.74, -1.0
    totals, counts = [], []
    for seed in range(150):
        model = CityModel(
            n_citizens=n,
            rng=seed,
            waste_per_capita_kg=mu,
            recycling_intercept=beta,
            recycling_weight_concern=0.0,
            recycling_weight_norm=0.0,
            recycling_weight_infrastructure=0.0,
        )
        model.run_for(2)
        frame = model.model_frame()
        totals += frame.loc[[1, 2], "waste_generated_kg"].tolist()
        counts += (frame.loc[[1, 2], "recycling_participation"] * n).round().tolist()
    k = 1 / 0.5**2
    assert stats.kstest(totals, stats.gamma(n * k, scale=mu / k).cdf).pvalue > 0.01
    p = 1 / (1 + np.exp(-beta))
    edges = stats.binom(n, p).ppf(np.linspace(0, 1, 9)[1:-1])
    observed = np.bincount(np.searchsorted(edges, counts, side="left"), minlength=8)
    cdf = stats.binom(n, p).cdf(edges)
    expected = np.diff(np.r_[0.0, cdf, 1.0]) * len(counts)
    assert stats.chisquare(observed, expected).pvalue > 0.01


@pytest.mark.slow
@pytest.mark.parametrize("case", ["waste", "recycling"])
def test_calibration_of_the_real_model_is_near_the_exact_posterior(case):
    """Small benchmarks/calibration_exact.py: 1,000 runs, width ≤ 1.5× exact, mean ≤ 0.3 sd."""
    n, days = 300, 4
    if case == "waste":
        name, prior, truth, variable = (
            "waste_per_capita_kg",
            stats.uniform(0.2, 1.8),
            0.74,
            "waste_generated_kg",
        )
        fixed: dict = {}
    else:
        name, prior, truth, variable = (
            "recycling_intercept",
            stats.uniform(-5, 6),
            -1.5,
            "recycling_participation",
        )
        fixed = {"recycling_weight_concern": 0.0, "recycling_weight_norm": 0.0,
                 "recycling_weight_infrastructure": 0.0}  # fmt: skip
    run = experiments.run(n_citizens=n, days=days, seed=99, **{name: truth}, **fixed)
    values = run.model_frame.set_index("day").loc[range(1, days + 1), variable].to_numpy()
    observed = pd.DataFrame({"day": range(1, days + 1), "variable": variable, "value": values})
    cal = experiments.calibrate(
        priors={name: prior}, observed=observed, days=days, n_citizens=n, budget=1000, seed=1,
        executor="serial", progress=False, check=False, **fixed,
    )  # fmt: skip
    if case == "waste":
        ref = exact.waste_per_capita_posterior(values, n_citizens=n, cv=0.5, prior=prior)
    else:
        ref = exact.recycling_intercept_posterior(values, n_citizens=n, prior=prior)
    low, high = cal.credible_interval(name, 0.9)
    e_low, e_high = ref.interval(0.9)
    assert (high - low) <= 1.5 * (e_high - e_low)
    assert abs(cal.mean()[name] - ref.mean) <= 0.3 * ref.sd
