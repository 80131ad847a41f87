"""Regression ABC (abcreg): known posteriors, coverage, bounds, determinism, bad input."""

import numpy as np
import pytest
from scipy import stats

from waste_harmony.experiments import abcreg
from waste_harmony.experiments.calibration import weighted_quantile

# Normal mean, known variance: 4 observations y ~ N(mu, 1), prior mu ~ N(0, 3²); the
# table holds the sufficient statistic ybar ~ N(mu, 1/4) plus three pure-noise
# statistics the semi-automatic summaries must learn to ignore.
PRIOR = stats.norm(0, 3)
M_OBS = 4


def exact(ybar: float) -> tuple[float, float]:
    precision = 1 / 9 + M_OBS
    return ybar * M_OBS / precision, float(np.sqrt(1 / precision))


def table(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    theta = PRIOR.rvs(size=(n, 1), random_state=rng)
    ybar = theta[:, 0] + rng.normal(0, 1 / np.sqrt(M_OBS), n)
    noise = rng.normal(0, 1, (n, 3))
    return theta, np.column_stack([ybar, noise])


def test_normal_mean_matches_the_exact_posterior():
    """Mean within 0.1 exact sd and 90 % width within 10 % of exact, averaged over 20 data sets."""
    theta, sims = table(4000, 1)
    rng = np.random.default_rng(2)
    errors, ratios = [], []
    for _ in range(20):
        mu = PRIOR.rvs(random_state=rng)
        obs = np.r_[mu + rng.normal(0, 0.5), rng.normal(0, 1, 3)]
        post = abcreg.regression_posterior(theta, sims, obs, {"mu": PRIOR})
        m, s = exact(obs[0])
        low, high = weighted_quantile(post.theta[:, 0], post.weight, [0.05, 0.95])
        errors.append((post.mean()[0] - m) / s)
        ratios.append((high - low) / (2 * 1.6449 * s))
    assert abs(np.mean(errors)) < 0.1 and np.mean(np.abs(errors)) < 0.3, errors
    assert 0.9 < np.mean(ratios) < 1.1, ratios


def test_adjustment_sharpens_rejection():
    """Informative data (posterior sd 1/60 of the prior's): rejection alone stays wide."""
    rng = np.random.default_rng(3)
    theta = PRIOR.rvs(size=(2000, 1), random_state=rng)
    sims = theta + rng.normal(0, 0.05, theta.shape)
    obs = np.array([1.3])
    adjusted = abcreg.regression_posterior(theta, sims, obs, {"mu": PRIOR})
    plain = abcreg.regression_posterior(theta, sims, obs, {"mu": PRIOR}, adjustment=False)

    def width(post):
        low, high = weighted_quantile(post.theta[:, 0], post.weight, [0.05, 0.95])
        return high - low

    exact_width = 2 * 1.6449 * 0.05  # the prior is flat at this scale
    assert width(adjusted) < 1.3 * exact_width < 0.5 * width(plain)


def test_simulation_based_calibration_of_the_normal_case():
    """One table, 200 data sets from the prior: 50 % and 90 % coverage in the 99 % band."""
    theta, sims = table(3000, 4)
    rng = np.random.default_rng(5)
    n_sets = 200
    covered = {0.5: 0, 0.9: 0}
    for _ in range(n_sets):
        mu = PRIOR.rvs(random_state=rng)
        obs = np.r_[mu + rng.normal(0, 0.5), rng.normal(0, 1, 3)]
        post = abcreg.regression_posterior(theta, sims, obs, {"mu": PRIOR})
        for level in covered:
            low, high = weighted_quantile(
                post.theta[:, 0], post.weight, [(1 - level) / 2, (1 + level) / 2]
            )
            covered[level] += low <= mu <= high
    for level, count in covered.items():
        band = stats.binom.ppf([0.005, 0.995], n_sets, level)
        assert band[0] <= count <= band[1], (level, count, band)


def test_a_posterior_against_a_bound_is_adjusted_on_the_logit_scale():
    """A posterior piled against a bound: the natural adjustment leaves the support,
    so the parameter is adjusted on the logit scale; nothing is dropped or piled up."""
    rng = np.random.default_rng(6)
    prior = stats.uniform(0, 1)
    theta = prior.rvs(size=(3000, 1), random_state=rng)
    sims = theta + rng.normal(0, 0.05, theta.shape)
    obs = np.array([0.01])
    natural = abcreg.regression_posterior(theta, sims, obs, {"p": prior}, scale="natural")
    assert (natural.weight == 0).any()  # the natural adjustment left the support: dropped
    post = abcreg.regression_posterior(theta, sims, obs, {"p": prior})
    assert (post.weight > 0).all() and (post.theta > 0).all() and (post.theta < 1).all()
    # exact: normal likelihood around 0.01 (sd 0.05) truncated to [0, 1]
    grid = np.linspace(0, 1, 100_001)
    density = stats.norm.pdf(obs[0], grid, 0.05)
    exact_mean = float((grid * density).sum() / density.sum())  # 0.0438
    quantiles = np.interp([0.05, 0.95], np.cumsum(density) / density.sum(), grid)
    assert post.mean()[0] == pytest.approx(exact_mean, abs=0.003)
    low, high = weighted_quantile(post.theta[:, 0], post.weight, [0.05, 0.95])
    assert high - low == pytest.approx(quantiles[1] - quantiles[0], rel=0.1)


def test_unbounded_scale_round_trip_and_bad_scale():
    supports = np.array([[-5.0, -1.0], [0.0, np.inf], [-np.inf, 2.0], [-np.inf, np.inf]])
    theta = np.array([[-4.9, 1e-3, 1.9, -7.0], [-1.2, 40.0, -30.0, 3.0]])
    u = abcreg.to_unbounded(theta, supports)
    np.testing.assert_allclose(abcreg.from_unbounded(u, supports), theta, rtol=1e-9)
    assert u[1, 1] == pytest.approx(np.log(40.0)) and u[0, 3] == -7.0
    with pytest.raises(ValueError, match="scale must be 'auto', 'natural' or 'unbounded'"):
        abcreg.regression_posterior(theta, theta, theta[0], {"a": PRIOR}, scale="logit")


def test_same_table_same_posterior_and_failed_runs_are_dropped():
    theta, sims = table(500, 7)
    sims[::50, 0] = np.nan  # failed runs
    obs = np.r_[0.5, 0.0, 0.0, 0.0]
    a = abcreg.regression_posterior(theta, sims, obs, {"mu": PRIOR})
    b = abcreg.regression_posterior(theta, sims, obs, {"mu": PRIOR})
    np.testing.assert_array_equal(a.theta, b.theta)
    np.testing.assert_array_equal(a.weight, b.weight)
    assert np.isinf(a.distance[::50]).all() and not np.isin(np.arange(0, 500, 50), a.rows).any()
    assert a.weight.sum() == pytest.approx(1.0) and (a.weight > 0).all()


def test_kernel_weights_keep_the_nearest():
    w = abcreg.kernel_weights(np.array([3.0, 0.5, 1.0, 0.0, 2.0]), 3)
    assert (w[[1, 2, 3]] > 0).all() and w[0] == w[4] == 0
    assert w[3] == pytest.approx(1.0) and w[1] > w[2]


def test_bad_input_is_explained():
    theta, sims = table(100, 8)
    with pytest.raises(ValueError, match="4 statistics per run but there are 2"):
        abcreg.regression_posterior(theta, sims, np.zeros(2), {"mu": PRIOR})
    with pytest.raises(RuntimeError, match="at least 10"):
        abcreg.regression_posterior(theta, np.full_like(sims, np.nan), np.zeros(4), {"mu": PRIOR})
    with pytest.raises(ValueError, match="accept must be between 2 and 100"):
        abcreg.regression_posterior(theta, sims, np.zeros(4), {"mu": PRIOR}, accept=1000)


def test_observations_beyond_the_simulations_reach_give_the_rejection_sample():
    # mu ~ U(0, 1) but ybar observed at 3: no simulation comes near, the linear
    # adjustment would carry every kept value to ~3, outside the support. The
    # posterior falls back on the kept simulations themselves, with a warning.
    rng = np.random.default_rng(5)
    prior = stats.uniform(0, 1)
    theta = prior.rvs(size=(1000, 1), random_state=rng)
    sims = theta + rng.normal(0, 0.05, (1000, 1))
    with pytest.warns(RuntimeWarning, match="beyond what the simulations reach"):
        post = abcreg.regression_posterior(theta, sims, np.array([3.0]), {"mu": prior})
    np.testing.assert_array_equal(post.theta, post.raw)
    assert 0.85 < post.mean()[0] < 1.0 and (post.weight > 0).all()
