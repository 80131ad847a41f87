"""Concern fades towards a baseline: exact geometric relaxation, half-life and equilibrium.

Downs (1972): attention to an environmental issue declines after the alarm; Cook &
Flay (1978): induced attitude change decays back to the standing attitude. The form
c ← c + λ (b − c) has the closed form b + (c₀ − b)(1 − λ)ᵗ; with perceived harm
raising concern it balances at a fixed point instead of rising for ever.
"""

import numpy as np
import pytest

from waste_harmony import CityModel
from waste_harmony.dynamics.attention import (
    equilibrium_concern,
    fade_concern,
    half_life_days,
    relaxation_closed_form,
)
from waste_harmony.dynamics.perception import perceived_harm, raise_concern

pytestmark = pytest.mark.validation


def test_fading_alone_follows_the_closed_form_and_halves_in_a_half_life():
    rate = 0.0019
    start = np.array([0.9, 0.1, 0.45])
    baseline = np.array([0.4, 0.4, 0.45])
    concern = start.copy()
    for _ in range(365):
        fade_concern(concern, baseline, rate)
    np.testing.assert_allclose(
        concern, relaxation_closed_form(start, baseline, rate, 365), rtol=1e-12
    )
    # the default rate's half-life is about a year: the gap after 365 days is ~ half
    gap = (concern - baseline) / np.where(start != baseline, start - baseline, 1.0)
    assert half_life_days(rate) == pytest.approx(364.5, abs=0.1)
    np.testing.assert_allclose(gap[:2], 0.5 ** (365 / half_life_days(rate)), rtol=1e-9)
    assert concern[2] == 0.45  # at the baseline: nothing moves


def test_raising_and_fading_balance_at_the_equilibrium():
    # Constant exposure of 10 µg/m³ (harm 0.4 with P½ = 15), k = 0.001, λ = 0.0019:
    # without fading concern climbs to 1; with it, it settles at the fixed point.
    harm = perceived_harm(np.full(3, 10.0), 15.0)
    baseline = np.array([0.2, 0.45, 0.8])
    concern = baseline.copy()
    unfaded = baseline.copy()
    for _ in range(50 * 365):
        raise_concern(concern, harm, 0.001)
        fade_concern(concern, baseline, 0.0019)
        raise_concern(unfaded, harm, 0.001)
    expected = equilibrium_concern(baseline, harm, 0.001, 0.0019)
    np.testing.assert_allclose(concern, expected, rtol=1e-9)
    # ≈ (λ b + k h)/(λ + k h) for small rates
    approx = (0.0019 * baseline + 0.0004) / (0.0019 + 0.0004)
    np.testing.assert_allclose(expected, approx, atol=1e-3)
    assert (unfaded > 0.99).all() and (concern < 0.9).all()
    # the fixed point is reached from any start
    other = np.array([1.0, 0.0, 0.3])
    for _ in range(50 * 365):
        raise_concern(other, harm, 0.001)
        fade_concern(other, baseline, 0.0019)
    np.testing.assert_allclose(other, expected, rtol=1e-6)


def test_in_the_model_a_raised_concern_fades_with_its_half_life():
    # Perception off and no scenario: encounters conserve the mean concern exactly
    # (Deffuant–Weisbuch updates are symmetric), so the mean's departure from the mean
    # baseline decays exactly as (1 - λ)^t after a one-off rise (an event's nudge).
    model = CityModel(n_citizens=1000, rng=5, pollution_concern_rate=0.0)
    c = model.citizens
    model.nudge_concern(slice(None), 0.3 * (1.0 - c.concern))
    gap0 = float(c.concern.mean() - c.baseline_concern.mean())
    model.run_for(365)
    gap = float(c.concern.mean() - c.baseline_concern.mean())
    rate = model.params.concern_fading
    assert gap0 > 0.1
    assert gap == pytest.approx(gap0 * (1 - rate) ** 365, rel=1e-9)
    assert gap == pytest.approx(gap0 / 2, rel=0.01)  # half-life about a year


def test_the_baseline_puts_the_initial_concern_in_balance_with_the_initial_air():
    from waste_harmony.dynamics.attention import baseline_for_equilibrium

    concern = np.linspace(0.05, 0.95, 19)
    harm = perceived_harm(np.full(19, 12.0), 15.0)
    b = baseline_for_equilibrium(concern, harm, 0.001, 0.0019)
    inside = b > 0
    np.testing.assert_allclose(
        equilibrium_concern(b[inside], harm[inside], 0.001, 0.0019), concern[inside], rtol=1e-12
    )
    assert (b <= concern).all() and (b >= 0).all()
    # below what the harm alone sustains: baseline 0
    floor = equilibrium_concern(0.0, harm[0], 0.001, 0.0019)
    assert (b[concern < floor] == 0).all()
    # no fading or no harm: the baseline is the concern itself
    np.testing.assert_array_equal(baseline_for_equilibrium(concern, harm, 0.001, 0.0), concern)
    np.testing.assert_array_equal(baseline_for_equilibrium(concern, harm, 0.0, 0.0019), concern)


def test_a_city_left_alone_keeps_its_concern_and_cleaner_air_lowers_it():
    # The default city over five years: with the air unchanged, mean concern stays
    # within 0.01 of its start (only citizens whose concern is below what the air alone
    # sustains drift up); with every source switched off at day 0, the air falls to
    # the background and concern falls with it — it can fade, not only rise.
    kept = CityModel(n_citizens=1000, rng=2, record_neighborhoods=False)
    cleaned = CityModel(n_citizens=1000, rng=2, record_neighborhoods=False)
    cleaned.set_parameters(industrial_emission_scale=0.0, background_pollution=0.0)
    for model in (kept, cleaned):
        model.run_for(5 * 365)
    start = kept.model_frame()["mean_concern"].iloc[0]
    assert abs(kept.mean_concern - start) < 0.01
    assert cleaned.mean_concern < start - 0.05
