"""Super-individuals: k cohorts standing for N people behave as the N people do.

Scheffer, Baveco, DeAngelis, Rose & van Nes (1995) let one model individual stand for
many; here a citizen is a cohort whose people have the population's thresholds
(:func:`~waste_harmony.dynamics.protest.cohort_participation`), meets the people of
its place at the expected rate (:func:`~waste_harmony.dynamics.opinion.cohort_encounters`)
and a district's few citizens carry its concern stratified
(:func:`~waste_harmony.model.building.stratified_uniforms`). Each test compares k
cohorts with N individuals drawn from the same law, within a tolerance stated from
the individuals' sampling error.
"""

import numpy as np
import pytest

from waste_harmony import CityModel, SampleSizeWarning
from waste_harmony.city import grid_city, load_city
from waste_harmony.dynamics.opinion import cohort_encounters, deffuant_update, random_matching
from waste_harmony.dynamics.protest import cohort_participation, critical_sd
from waste_harmony.model.building import allocate_citizens, stratified_uniforms

MEAN = 0.25  # the default threshold law (Parameters.protest_threshold_mean / _sd)


def _individual_equilibrium(thresholds: np.ndarray, rounds: int = 200) -> float:
    """Synchronous Granovetter dynamics on shares, one person per threshold, from 0."""
    x = 0.0
    for _ in range(rounds):
        x = float(np.mean(thresholds <= x))
    return x


def _cohort_equilibrium(k: int, sd: float, rounds: int = 200) -> float:
    """The same dynamics for k cohorts at the population's law."""
    x = 0.0
    for _ in range(rounds):
        x = float(np.mean(cohort_participation(np.full(k, x), MEAN, sd)))
    return x


@pytest.mark.validation
def test_a_cohort_participates_as_the_share_of_its_people_whose_threshold_is_met():
    # 200,000 people with clipped normal thresholds: the share with threshold <= x
    # has a sampling s.d. below 0.0012; tolerance 0.005.
    rng = np.random.default_rng(3)
    for sd in (0.05, 0.15, 0.3):
        people = np.clip(rng.normal(MEAN, sd, 200_000), 0.0, 1.0)
        x = np.array([0.0, 0.05, 0.2, 0.25, 0.4, 0.9, 1.0])
        expected = np.array([np.mean(people <= v) for v in x])
        assert cohort_participation(x, MEAN, sd) == pytest.approx(expected, abs=0.005)


@pytest.mark.validation
@pytest.mark.parametrize("k", [1, 3, 10])
def test_k_cohorts_reach_the_equilibrium_of_n_people_on_both_sides_of_granovetters_transition(
    k,
):
    # Granovetter's (1978) transition at sd ≈ 0.122 (12.2 of 100): below it the riot
    # stalls at a few percent, above it nearly everyone joins. k cohorts standing for
    # N = 20,000 people reach the people's equilibrium, averaged over 10 draws of
    # them, within 0.02 (their draw-to-draw s.d. is below 0.005 away from the
    # transition).
    assert critical_sd(25.0, 100) == pytest.approx(12.2, abs=0.1)
    rng = np.random.default_rng(11)
    for sd, regime in ((0.08, "stalls"), (0.2, "cascades")):
        people = [
            _individual_equilibrium(np.clip(rng.normal(MEAN, sd, 20_000), 0.0, 1.0))
            for _ in range(10)
        ]
        cohorts = _cohort_equilibrium(k, sd)
        assert cohorts == pytest.approx(np.mean(people), abs=0.02), regime
        assert (cohorts < 0.1) if regime == "stalls" else (cohorts > 0.9)


@pytest.mark.validation
def test_a_few_individuals_do_not_stand_for_the_people_but_cohorts_do():
    # The problem cohorts solve. Below the transition (sd 0.1) the population's riot
    # stalls under 1 %. Four people drawn from the same law riot (more than half of
    # them) in about 2 % of neighbourhoods: one with a threshold of 0 is already a
    # quarter of them (20,000 draws, s.e. 0.001). In a city of hundreds of districts
    # sampled by four citizens each, some district then cascades and its protest
    # spreads along the links; four cohorts never cascade.
    rng = np.random.default_rng(5)
    sd = 0.1
    population = np.mean(
        [_individual_equilibrium(np.clip(rng.normal(MEAN, sd, 20_000), 0, 1)) for _ in range(5)]
    )
    four = np.array(
        [_individual_equilibrium(np.clip(rng.normal(MEAN, sd, 4), 0, 1), 10) for _ in range(20_000)]
    )
    assert population < 0.01
    assert np.mean(four > 0.5) > 0.01
    assert _cohort_equilibrium(4, sd) == pytest.approx(population, abs=0.002)


@pytest.mark.validation
def test_cohort_encounters_are_the_expected_change_of_random_encounters():
    # Two places of 8 and 6 people (even: random_matching pairs everyone). The mean
    # change over 20,000 days of random encounters estimates the expected change;
    # its standard error per person is below 0.0006 here, tolerance 0.003.
    rng = np.random.default_rng(2)
    opinions = rng.random(14)
    places = np.repeat([0, 1], [8, 6])
    eps, mu = 0.3, 0.5
    total = np.zeros(14)
    days = 20_000
    for _ in range(days):
        x = opinions.copy()
        first, second = random_matching(places, rng)
        deffuant_update(x, first, second, eps, mu)
        total += x - opinions
    expected = cohort_encounters(opinions, places, eps, mu)
    assert expected == pytest.approx(total / days, abs=0.003)
    # Symmetric: each place's total opinion is conserved.
    assert np.bincount(places, weights=expected) == pytest.approx([0.0, 0.0], abs=1e-12)


@pytest.mark.validation
def test_k_citizens_carry_their_districts_share_of_concerned_people_within_one_over_k():
    # Stratified draws: for any level, the share of a home's k draws below it is
    # within 1/k of the law's (independent draws miss by sqrt(p(1-p)/k) ≈ 0.16 at k=10).
    rng = np.random.default_rng(0)
    counts = np.full(500, 10)
    home = np.repeat(np.arange(500), counts)
    u = stratified_uniforms(home, counts, rng)
    for level in (0.1, 0.37, 0.5, 0.83):
        share = np.bincount(home, weights=u < level) / counts
        assert np.abs(share - level).max() <= 1 / 10 + 1e-12
    assert u.mean() == pytest.approx(0.5, abs=0.01)  # still uniform draws


def test_allocation_gives_every_populated_district_its_floor_and_the_rest_by_population():
    weight = np.array([1.0, 0.0, 3.0, 6.0])
    counts = allocate_citizens(100, weight)
    assert counts.sum() == 100 and counts[1] == 0
    assert counts.min(where=weight > 0, initial=100) >= 10
    assert counts[3] > counts[2] > counts[0]
    # Too few citizens for the floor: as many each as there are.
    assert allocate_citizens(7, weight).tolist() == [2, 0, 2, 3]


def test_a_one_percent_sample_stands_for_the_whole_population():
    # 1,000 citizens for 100,000 people: the people are shared by population weight,
    # waste is theirs (a hundred times the citizens'), and shares are over people.
    small = CityModel(n_citizens=1000, population=100_000, rng=4)
    small.run_for(3)
    assert small.population == pytest.approx(100_000)
    assert small.people.sum() == pytest.approx(100_000)
    weight = small.neighborhoods.population_weight
    assert small.people == pytest.approx(100_000 * weight / weight.sum())
    one_each = CityModel(n_citizens=1000, rng=4)
    one_each.run_for(3)
    waste = "waste_generated_kg"
    ratio = small.model_frame()[waste].iloc[-1] / one_each.model_frame()[waste].iloc[-1]
    assert ratio == pytest.approx(100, rel=0.05)


def test_below_the_measured_size_a_run_warns_with_the_numbers():
    city = load_city(grid_city(4, 4))
    districts = sum(1 for _, d in city.nodes(data=True) if d["population"] > 0)
    n = 5 * districts
    with pytest.warns(SampleSizeWarning, match=rf"n_citizens={n} gives 5\.0 citizens per"):
        CityModel(city, n_citizens=n, rng=0)
    with pytest.warns(SampleSizeWarning, match=rf"n_citizens >= {10 * districts}\b"):
        CityModel(city, n_citizens=n, rng=0)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", SampleSizeWarning)
        CityModel(city, n_citizens=10 * districts, rng=0)  # at the threshold: no warning


def test_the_sample_size_warning_names_the_users_line_once_per_experiment(tmp_path):
    """At the line that asked for the runs — not inside the library — and not again
    from each run (a pool's workers printed it once each, with library lines)."""
    import warnings

    from waste_harmony import experiments

    city = load_city(grid_city(4, 4))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        CityModel(city, n_citizens=5, rng=0)
        experiments.sweep(
            city=city, n_citizens=5, parameters={"waste_per_capita_kg": [0.8, 1.0]},
            seeds=2, days=2, executor="serial", out=tmp_path / "s", progress=False,
        )  # fmt: skip
    said = [w for w in caught if issubclass(w.category, SampleSizeWarning)]
    assert [w.filename for w in said] == [__file__, __file__], [w.filename for w in said]


def test_population_must_be_a_positive_number():
    with pytest.raises(ValueError, match="positive, finite number of people"):
        CityModel(n_citizens=100, population=-5)
    with pytest.raises(TypeError, match="population must be a number of people"):
        CityModel(n_citizens=100, population="many")
