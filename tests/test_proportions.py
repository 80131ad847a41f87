"""Categorical and binary outcomes (issue 19, item 4).

``compare(..., variables=["facility_status"])`` ran everything and then failed with
``TypeError: dtype 'str' does not support operation 'mean'``; the story's main question
("TechCore withdraws in x % of runs with the policy and y % without") had no API.
The statistics reproduce published worked examples; the experiments answer the question.
"""

import numpy as np
import pandas as pd
import pytest

from waste_harmony import CityModel, experiments, reporter
from waste_harmony.proportions import difference_interval, mcnemar, wilson_interval

# Newcombe (1998b), Statistics in Medicine 17, 2635-2650, Table II: paired tables
# (a, b, c, d) and the 95 % limits of method 10, to the four decimals published.
NEWCOMBE_PAIRED = [
    ((36, 12, 2, 0), (0.0569, 0.3404)),
    ((18, 12, 2, 18), (0.0562, 0.3290)),
    ((53, 0, 0, 1), (-0.0729, 0.0729)),
]


@pytest.mark.parametrize(("table", "limits"), NEWCOMBE_PAIRED)
def test_newcombe_paired_interval_reproduces_the_published_examples(table, limits):
    found = difference_interval(*table)
    _, b, c, _ = table
    assert found["difference"] == pytest.approx((b - c) / sum(table))
    assert found["ci_low"] == pytest.approx(limits[0], abs=5e-5)
    assert found["ci_high"] == pytest.approx(limits[1], abs=5e-5)


def test_independent_interval_and_wilson_reproduce_newcombe_1998():
    # Newcombe (1998c), Table II: 56/70 vs 48/80 and 9/10 vs 3/10; (1998a): 81/263, 15/148.
    r = difference_interval(56, 14, 48, 32, paired=False)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((0.0524, 0.3339), abs=5e-5)
    r = difference_interval(9, 1, 3, 7, paired=False)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((0.1705, 0.8090), abs=5e-5)
    assert wilson_interval(81, 263) == pytest.approx((0.2553, 0.3662), abs=5e-5)
    assert wilson_interval(0, 20)[0] == 0.0 and wilson_interval(0, 20)[1] > 0.1


def test_mcnemar_reproduces_agresti():
    # Agresti (2002), Table 10.1: 150 and 86 discordant pairs, z^2 = 17.36.
    found = mcnemar(150, 86)
    assert found["statistic"] == pytest.approx(17.36, abs=0.005)
    assert found["p_value"] < 1e-4
    assert mcnemar(0, 0) == {"statistic": 0.0, "p_value": 1.0}
    assert mcnemar(5, 0)["p_value"] == pytest.approx(2 * 0.5**5)


@pytest.fixture(scope="module")
def comparison():
    return experiments.compare(
        {},
        {"concern_confidence": 0.5},
        seeds=10,
        days=120,
        n_citizens=400,
        root_seed=3,
        scenarios=["techcore"],
        variables=["facility_status", "mean_concern"],
        executor="serial",
        progress=False,
    )


def test_compare_gives_shares_of_a_category_with_paired_statistics(comparison):
    shares = comparison.shares("facility_status")
    assert set(shares["day"]) == {120}
    frame = comparison.result.load(["facility_status"])
    last = frame[frame["day"] == 120]
    for _, row in shares.iterrows():
        for label, column in (("baseline", "baseline_share"), ("variant", "variant_share")):
            runs = last[last["label"] == label]["facility_status"]
            assert row[column] == pytest.approx(float((runs == row["category"]).mean()))
        assert row["ci_low"] <= row["difference"] <= row["ci_high"]
        assert 0 <= row["p_value"] <= 1 and row["n"] == 10
    summary = comparison.summary()
    assert "mean_concern" in set(summary["variable"])
    assert any(v.startswith("facility_status = ") for v in summary["variable"])


def test_compare_checks_the_variables_before_anything_runs(tmp_path):
    with pytest.raises(KeyError, match="'facility_statu' is not a recorded model variable"):
        experiments.compare(
            {}, {"concern_confidence": 0.5}, seeds=2, days=3, n_citizens=50,
            variables=["facility_statu"], out=tmp_path / "c", progress=False,
        )  # fmt: skip
    assert not (tmp_path / "c").exists()


@reporter("category", "whether more than half the citizens are concerned above 0.45")
def concerned_majority(model):
    return bool((model.citizens.concern > 0.45).mean() > 0.5)


def test_ensembles_and_sweeps_give_shares_of_runs_with_wilson_intervals():
    sw = experiments.sweep(
        parameters={"concern_confidence": [0.05, 0.5]},
        seeds=6,
        days=20,
        n_citizens=300,
        root_seed=1,
        model_reporters={"concerned_majority": concerned_majority},
        executor="serial",
        progress=False,
    )
    frame = sw.load(["concerned_majority"])
    assert set(frame["concerned_majority"]) <= {"True", "False"}  # a category: text
    summary = sw.summary(["concerned_majority", "mean_concern"])
    shares = summary[(summary["variable"] == "concerned_majority") & (summary["day"] == 20)]
    for (point, _), group in shares.groupby(["point", "variable"]):
        assert group["mean"].sum() == pytest.approx(1.0)  # the categories' shares add up
        runs = frame[(frame["point"] == point) & (frame["day"] == 20)]["concerned_majority"]
        for _, row in group.iterrows():
            k = int((runs == row["category"]).sum())
            assert (row["ci_low"], row["ci_high"]) == pytest.approx(wilson_interval(k, 6))
    assert np.isnan(shares["sd"]).all()


def test_sensitivity_of_the_probability_of_an_outcome():
    result = experiments.sensitivity(
        {"names": ["concern_confidence"], "bounds": [[0.05, 0.5]]},
        method="morris",
        outputs=["concerned_majority=True"],
        n=2,
        seeds=3,
        days=10,
        statistic="final",
        n_citizens=200,
        model_reporters={"concerned_majority": concerned_majority},
        executor="serial",
        progress=False,
        root_seed=2,
    )
    values = result.Y["concerned_majority=True"]
    assert np.all((values >= 0) & (values <= 1))  # a probability per point
    frame = result.result.load(["concerned_majority"])
    last = frame[frame["day"] == 10].groupby("point")["concerned_majority"]
    expected = last.apply(lambda s: float((s == "True").mean())).to_numpy()
    np.testing.assert_allclose(values, expected)


def test_a_category_output_is_text_in_the_tables():
    from waste_harmony.schema import model_tables

    model = CityModel(n_citizens=50, rng=1, model_reporters={"cm": concerned_majority})
    model.run_for(1)
    column = model_tables(model)["model"].column("cm")
    assert str(column.type) == "string" and set(column.to_pylist()) <= {"True", "False"}
    assert isinstance(pd.Series(column.to_pylist()).iloc[0], str)
