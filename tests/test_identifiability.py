"""The identifiability check: its information estimate, and its verdicts on the real model."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from waste_harmony import CityModel
from waste_harmony.experiments import calibrate
from waste_harmony.experiments.identifiability import (
    design_points,
    identifiability,
    linear_information,
    predicted_width_ratio,
)

A = np.array([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]])


def linear_design(extra: int, runs: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """s = A θ + N(0, I), plus ``extra`` statistics that do not depend on θ."""
    rng = np.random.default_rng(seed)
    theta = rng.uniform(0.2, 1.8, (runs, 2))
    signal = np.column_stack([theta @ A.T, np.zeros((runs, extra))])
    return theta, signal + rng.normal(size=signal.shape)


def test_information_of_a_linear_gaussian_model_is_a_transpose_a():
    """Averaged over 40 designs of 60 runs: within 15 % of the exact AᵀA."""
    estimates = [linear_information(*linear_design(0, 60, seed)) for seed in range(40)]
    np.testing.assert_allclose(np.mean(estimates, axis=0), A.T @ A, rtol=0.15, atol=0.3)


@pytest.mark.parametrize("extra", [30, 300])
def test_noise_statistics_never_pass_for_information(extra):
    """Hundreds of irrelevant statistics and few runs: the estimate errs low, never high."""
    estimates = [linear_information(*linear_design(extra, 60, seed)) for seed in range(30)]
    mean = np.mean(estimates, axis=0)
    assert np.all(np.diag(mean) <= 1.1 * np.diag(A.T @ A)), np.diag(mean)
    assert np.diag(mean)[0] > 0.2 * (A.T @ A)[0, 0]  # still sees the strong parameter


def test_predicted_width_follows_the_information():
    prior = {"a": stats.norm(0, 1)}
    assert predicted_width_ratio(np.zeros((1, 1)), prior)[0] == pytest.approx(1.0)
    # information 99 + prior precision 1: posterior sd 0.1, a tenth of the prior's
    assert predicted_width_ratio(np.array([[99.0]]), prior)[0] == pytest.approx(0.1)


def test_design_respects_supports_and_constraints():
    priors = {"a": stats.uniform(0, 1), "b": stats.uniform(0, 1)}
    x = design_points(
        priors,
        points=3,
        runs=20,
        rng=np.random.default_rng(0),
        admissible=lambda v: v["a"] < v["b"],
    )
    assert x.shape == (3, 20, 2)
    assert (x >= 0).all() and (x <= 1).all() and (x[..., 0] < x[..., 1]).all()


def test_check_on_the_real_model_names_what_would_help():
    """Waste per capita from mean concern alone: not identified; waste totals would identify it."""
    observed = pd.DataFrame({"day": [2, 4], "variable": "mean_concern", "value": [0.45, 0.45]})
    check = identifiability(
        priors={"waste_per_capita_kg": (0.3, 1.2)},
        observed=observed,
        n_citizens=60,
        days=4,
        points=1,
        executor="serial",
        progress=False,
    )
    assert check.runs == 30 and check.failed == 0
    assert check.table["verdict"].tolist() == ["not identified"]
    assert check.unidentified == ["waste_per_capita_kg"]
    best = check.recommend("waste_per_capita_kg", 1)
    assert best["candidate"].iloc[0] in {"+ waste_generated_kg", "+ waste_recycled_kg"}
    assert best["waste_per_capita_kg"].iloc[0] < 0.2
    assert "to inform waste_per_capita_kg: + waste_" in str(check)
    keys = check.observations[best["candidate"].iloc[0]]
    assert set(keys.columns) == {"variable", "node", "day"} and len(keys) == 4


def test_bad_settings_are_explained():
    observed = pd.DataFrame({"day": [2], "variable": "mean_concern", "value": [0.45]})
    with pytest.raises(ValueError, match="runs must be an integer >= 12"):
        identifiability(priors={"concern_convergence": (0, 0.5)}, observed=observed, runs=5)
    with pytest.raises(ValueError, match="box"):
        identifiability(priors={"concern_convergence": (0, 0.5)}, observed=observed, box=2.0)


NORM_AND_FRACTION = {"recycling_weight_norm": (0.0, 5.0), "recyclable_fraction": (0.2, 0.6)}
#: a 200-citizen city for 20 days, in this process: the check's and the calibration's runs
SMALL_CITY = {"n_citizens": 200, "days": 20, "executor": "serial", "progress": False}


def recycling_rate_check(seed: int = 0):
    """The recycling rate by weight on days 5–20 of a 200-citizen city (one design point)."""
    observed = pd.DataFrame({"day": [5, 10, 15, 20], "variable": "recycling_rate", "value": 0.2})
    return identifiability(
        priors=NORM_AND_FRACTION, observed=observed, points=1, seed=seed, **SMALL_CITY
    )


@pytest.mark.parametrize("seed", [0, 3])
def test_check_separates_how_many_recycle_from_how_much_is_recyclable(seed):
    """The rate by weight is participation × recyclable share: the share stays unidentified
    (0.59–0.88 of its prior over six design seeds) until participation is observed too
    (predicted 0.08–0.20)."""
    check = recycling_rate_check(seed)
    assert "recyclable_fraction" in check.unidentified
    best = check.recommend("recyclable_fraction", 1)
    assert best["candidate"].iloc[0] == "+ recycling_participation"
    assert best["recyclable_fraction"].iloc[0] < 0.3
    keys = check.recommended()
    assert set(keys["variable"]) == {"recycling_rate", "recycling_participation"}
    # every candidate adds statistics to the observed ones: never a wider prediction
    widths = check.candidates.set_index("candidate")[list(NORM_AND_FRACTION)]
    assert (widths.le(widths.loc["as observed"], axis=1)).all().all()


@pytest.mark.slow
def test_the_recommended_observations_identify_both_when_calibrated():
    """Know before you spend, end to end: calibrating on what the check recommends gives
    both parameters 90 % intervals under 0.3 of their priors' (issue 20's target; the
    full three-parameter version is benchmarks/calibration_target.py)."""
    keys = recycling_rate_check().recommended()
    truth = {"recycling_weight_norm": 2.0, "recyclable_fraction": 0.4}
    model = CityModel(rng=101, n_citizens=200, **truth)
    model.run_for(20)
    frame = model.model_frame()
    values = [float(frame.loc[d, v]) for v, d in zip(keys["variable"], keys["day"], strict=True)]
    cal = calibrate(
        priors=NORM_AND_FRACTION,
        observed=keys.assign(value=values),
        budget=600,
        seed=1,
        check=False,
        **SMALL_CITY,
    )
    widths = cal.contraction().set_index("parameter")["width_ratio"]
    assert (widths < 0.3).all(), widths
    for name, value in truth.items():
        low, high = cal.credible_interval(name, 0.99)
        assert low <= value <= high, (name, low, high)
