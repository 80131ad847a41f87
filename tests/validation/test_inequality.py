"""Gini, Theil, Atkinson and the concentration index on worked examples.

Cowell (2011) *Measuring Inequality*: for x = 1, 2, 3, 4, 5 the Gini coefficient is
4/15 = 0.2667 (mean absolute difference 8/5 over twice the mean 3), Theil's T is
(1/5) Σ (x/3) ln(x/3) = 0.1197 and Atkinson's index is 1 − geometric mean / mean =
1 − 120^{1/5}/3 = 0.1316 for ε = 1, 1 − harmonic mean / mean = 1 − (300/137)/3 =
0.2701 for ε = 2. Population weights act as replication (a weight of 3 counts the
value three times), which is how the model weights neighbourhoods by residents.
"""

import itertools

import numpy as np
import pytest

from waste_harmony import CityModel
from waste_harmony.dynamics.inequality import atkinson, concentration_index, gini, theil

X = np.array([1.0, 2.0, 3.0, 4.0, 5.0])


@pytest.mark.validation
def test_worked_example_one_to_five():
    assert gini(X) == pytest.approx(4 / 15, abs=1e-12)
    assert round(gini(X), 4) == 0.2667
    expected_theil = float(np.mean(X / 3 * np.log(X / 3)))
    assert theil(X) == pytest.approx(expected_theil, abs=1e-12)
    assert round(theil(X), 4) == 0.1197
    assert atkinson(X, 1.0) == pytest.approx(1 - 120 ** (1 / 5) / 3, abs=1e-12)
    assert round(atkinson(X, 1.0), 4) == 0.1316
    assert atkinson(X, 2.0) == pytest.approx(1 - (300 / 137) / 3, abs=1e-12)
    assert atkinson(X, 0.0) == pytest.approx(0.0, abs=1e-12)  # no aversion, no inequality


@pytest.mark.validation
def test_concentration_index_two_group_example_and_relation_to_gini():
    # Two equal groups, the deprived with 1 and the rest with 3: fractional ranks 1/4
    # and 3/4, C = 2 cov(x, R)/mean = 2 · 0.25 / 2 = 0.25 (O'Donnell et al. 2008, ch. 8).
    assert concentration_index([1.0, 3.0], rank_by=[0.0, 1.0]) == pytest.approx(0.25)
    # Concentrated among the deprived (reversed ranking): the sign flips.
    assert concentration_index([1.0, 3.0], rank_by=[1.0, 0.0]) == pytest.approx(-0.25)
    # Ranked by itself it is the Gini coefficient; by the reverse, minus the Gini.
    assert concentration_index(X, rank_by=X) == pytest.approx(gini(X), abs=1e-12)
    assert concentration_index(X, rank_by=-X) == pytest.approx(-gini(X), abs=1e-12)


@pytest.mark.validation
def test_population_weights_equal_replicated_data():
    rng = np.random.default_rng(4)
    values = rng.random(12) + 0.05
    weights = rng.integers(1, 6, size=12)
    rank = rng.random(12)
    replicated = np.repeat(values, weights)
    rank_rep = np.repeat(rank, weights)
    assert gini(values, weights) == pytest.approx(gini(replicated), abs=1e-12)
    assert theil(values, weights) == pytest.approx(theil(replicated), abs=1e-12)
    for eps in (0.5, 1.0, 2.0):
        assert atkinson(values, eps, weights) == pytest.approx(atkinson(replicated, eps), abs=1e-12)
    assert concentration_index(values, rank, weights) == pytest.approx(
        concentration_index(replicated, rank_rep), abs=1e-12
    )


@pytest.mark.validation
def test_model_access_gini_is_the_gini_over_people():
    # biotech_access_gini weights neighbourhoods by the people their citizens stand for:
    # it equals the Gini of the access each citizen has at home, each citizen counted
    # with its people (and the plain Gini over citizens when each is one person).
    for cohorts in (True, False):
        model = CityModel(n_citizens=1500, rng=9, cohorts=cohorts)
        model.run_for(1)
        home = model.citizens.home
        per_citizen = model.neighborhoods.biotech_access[home]
        recorded = model.model_frame()["biotech_access_gini"].iloc[-1]
        weights = model.people_per_citizen[home]
        assert recorded == pytest.approx(gini(per_citizen, weights), abs=1e-12)
        assert recorded > 0.0
    assert recorded == pytest.approx(gini(per_citizen), abs=1e-12)  # cohorts=False


@pytest.mark.validation
def test_concentration_index_gives_ties_their_mean_fractional_rank():
    # x = [1, 2, 3, 4] ranked [0, 0, 1, 1]: ranks 1/4, 1/4, 3/4, 3/4 (O'Donnell et al.
    # 2008, ch. 8), cov = 0.25, C = 2 · 0.25 / 2.5 = 0.20 — in any row order.
    x = np.array([1.0, 2.0, 3.0, 4.0])
    rank = np.array([0.0, 0.0, 1.0, 1.0])
    for perm in itertools.permutations(range(4)):
        p = list(perm)
        assert concentration_index(x[p], rank[p]) == pytest.approx(0.20, abs=1e-12)


@pytest.mark.validation
@pytest.mark.parametrize("weighted", [False, True])
def test_concentration_index_does_not_depend_on_row_order(weighted):
    rng = np.random.default_rng(11)
    x = rng.random(60) + 0.1
    rank = rng.integers(0, 5, 60).astype(float)  # heavily tied, as with_defaults makes it
    w = rng.integers(1, 6, 60).astype(float) if weighted else None
    expected = concentration_index(x, rank, w)
    for _ in range(50):
        p = rng.permutation(60)
        got = concentration_index(x[p], rank[p], None if w is None else w[p])
        assert got == pytest.approx(expected, abs=1e-12)
    if weighted:  # weights equal replicated rows, ties included
        reps = w.astype(int)
        assert expected == pytest.approx(
            concentration_index(np.repeat(x, reps), np.repeat(rank, reps)), abs=1e-12
        )


@pytest.mark.validation
def test_concentration_index_matches_closed_form_on_untied_data():
    # Without ties and weights, R_i = (2i - 1) / (2n) for the i-th ranked (i = 1..n) and
    # C = 2/(n mean) sum x_i R_i - 1 (O'Donnell et al. 2008, eq. 8.5).
    rng = np.random.default_rng(5)
    x = rng.random(40) + 0.05
    rank = rng.random(40)
    xs = x[np.argsort(rank)]
    n = len(x)
    r = (2 * np.arange(1, n + 1) - 1) / (2 * n)
    closed = 2.0 / (n * xs.mean()) * np.sum(xs * r) - 1.0
    assert concentration_index(x, rank) == pytest.approx(closed, abs=1e-12)


def test_concentration_index_rejects_mismatched_input():
    with pytest.raises(ValueError, match="shape"):
        concentration_index([1.0, 2.0], rank_by=[0.0])
    with pytest.raises(ValueError, match="NaN"):
        concentration_index([1.0, 2.0], rank_by=[0.0, np.nan])
    with pytest.raises(ValueError, match="non-negative"):
        concentration_index([1.0, -2.0], rank_by=[0.0, 1.0])
