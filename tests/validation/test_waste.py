"""Waste generation matches the per-capita parameter; the daily balance is exact.

Kaza et al. (2018), *What a Waste 2.0*: 0.74 kg per person per day (global mean).
Each citizen's daily waste is Gamma with that mean and coefficient of variation cv;
a group of n is drawn as one Gamma(n k, θ) — the sum of n independent Gamma(k, θ).
"""

import numpy as np
import pytest

from waste_harmony import CityModel, Corporation
from waste_harmony.dynamics.waste import group_waste

MEAN = 0.74
CV = 0.5


@pytest.mark.validation
def test_group_waste_has_the_mean_and_variance_of_a_sum_of_citizens():
    rng = np.random.default_rng(0)
    counts = np.full(20_000, 50)
    kg = group_waste(counts, mean_kg=MEAN, cv=CV, rng=rng)
    # Mean per capita: s.e. = cv·mean/sqrt(1e6) = 0.00037 kg; tolerance 4 s.e.
    se = CV * MEAN / np.sqrt(counts.sum())
    assert kg.sum() / counts.sum() == pytest.approx(MEAN, abs=4 * se)
    # Variance of a group of 50 independent citizens: 50 (cv·mean)². The sample
    # variance of 20 000 nearly normal draws has relative s.e. sqrt(2/20 000) = 1 %;
    # tolerance 5 %.
    assert kg.var() == pytest.approx(50 * (CV * MEAN) ** 2, rel=0.05)
    assert group_waste(np.array([0]), mean_kg=MEAN, cv=CV, rng=rng)[0] == 0.0


@pytest.mark.validation
def test_model_generation_per_capita_matches_parameter_on_average():
    n, days = 2000, 200
    model = CityModel(n_citizens=n, rng=21, waste_per_capita_kg=1.1)
    model.run_for(days)
    per_capita = model.model_frame()["waste_generated_kg"].loc[1:].mean() / n  # day 0: no flows
    # s.e. of the mean over n·days citizen-days: cv·mean/sqrt(n·days); 4 s.e.
    se = CV * 1.1 / np.sqrt(n * days)
    assert per_capita == pytest.approx(1.1, abs=4 * se)


@pytest.mark.validation
def test_daily_balance_is_exact_with_every_flow_active():
    # Recycling, household biotech, the organism eating waste, a facility's waste,
    # collection to landfill and art reuse all at once.
    model = CityModel(n_citizens=1500, rng=5, bass_p=2.0, bass_q=5.0)
    hoods = model.neighborhoods
    model.deploy_organism(model.node_ids[int(np.argmax(hoods.habitat))], 200.0)
    firm = Corporation(model, "TechCore", waste_kg_per_day=400.0)
    firm.propose(model.node_ids[0])
    firm.build()
    model.run_for(30)
    model.reuse_waste(hoods.waste_stock_kg * 0.1)
    model.run_for(30)
    df = model.model_frame()
    assert df["waste_consumed_kg"].iloc[-1] > 0 and df["waste_recycled_kg"].iloc[-1] > 0
    assert df["waste_reused_kg"].sum() > 0
    stock = np.concatenate([[0.0], df["waste_stock_kg"].to_numpy()])
    inflow = df["waste_generated_kg"].to_numpy()
    outflow = (df["waste_recycled_kg"] + df["waste_reused_kg"] + df["waste_consumed_kg"]).to_numpy()
    # Floating-point sums of ~10⁵ kg: exact to round-off.
    np.testing.assert_allclose(inflow - outflow, np.diff(stock), rtol=0, atol=1e-9 * inflow.max())
