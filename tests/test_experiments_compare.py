"""Model copies, paired comparisons with common random numbers, and branching."""

import copy
import pickle
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from waste_harmony import experiments as ex

sys.path.insert(0, str(Path(__file__).resolve().parent))

import experiment_helpers as helpers


def _state(model):
    return (
        model.model_frame(),
        model.neighborhood_frame(),
        model.event_frame(),
        {
            name: getattr(model.citizens, name).copy()
            for name in ("concern", "protesting", "recycled", "adopted", "location")
        },
        model.rng.bit_generator.state,
        model.random.getstate(),
    )


def _assert_same(a, b):
    for x, y in zip(a[:3], b[:3], strict=True):
        pd.testing.assert_frame_equal(x, y, check_exact=True)
    for name in a[3]:
        np.testing.assert_array_equal(a[3][name], b[3][name])
    assert a[4] == b[4] and a[5] == b[5]


@pytest.mark.parametrize("how", ["copy", "deepcopy", "pickle"])
def test_copied_model_continues_exactly_like_the_original(how):
    original = helpers.small_model(rng=8, n_citizens=500, pulse=True)
    original.run_for(30)  # mid-run: the one-off event (day 40) and the pulses are pending
    twin = {
        "copy": original.copy,
        "deepcopy": lambda: copy.deepcopy(original),
        "pickle": lambda: pickle.loads(pickle.dumps(original)),
    }[how]()
    assert twin.scenarios[0].model is twin and twin.scenarios[0] is not original.scenarios[0]
    original.run_for(100)
    twin.run_for(100)
    assert original.day == twin.day == 130
    kinds = original.event_frame()["kind"]
    assert (kinds == "organism_deployed").sum() == 1 and (kinds == "pulse").sum() > 10
    _assert_same(_state(original), _state(twin))


def test_copies_are_independent():
    original = helpers.small_model(rng=8, pulse=True)
    original.run_for(10)
    twin = original.copy()
    twin.nudge_concern(slice(None), 0.3)
    twin.run_for(5)
    assert original.day == 10 and len(original.model_frame()) == 11
    assert twin.citizens.concern.mean() > original.citizens.concern.mean()


def test_common_random_numbers_narrow_the_interval():
    kwargs = {
        "seeds": 8,
        "days": 30,
        "root_seed": 5,
        "n_citizens": 300,
        "variables": ["waste_generated_kg", "mean_concern"],
        "executor": "serial",
        "progress": False,
    }
    variant = {"waste_per_capita_kg": 0.8}
    paired = ex.compare({}, variant, model=helpers.small_model, **kwargs)
    independent = ex.compare(
        {}, variant, model=helpers.small_model, common_random_numbers=False, **kwargs
    )
    assert paired.paired and not independent.paired
    p = paired.summary().set_index("variable")
    i = independent.summary().set_index("variable")
    width_p = p["ci_high"] - p["ci_low"]
    width_i = i["ci_high"] - i["ci_low"]
    # Same runs for the baseline; the variant differs only by seeds.
    assert (
        p.loc["waste_generated_kg", "baseline_mean"] == i.loc["waste_generated_kg", "baseline_mean"]
    )
    assert width_p["waste_generated_kg"] < 0.2 * width_i["waste_generated_kg"]
    assert width_p["mean_concern"] < width_i["mean_concern"]
    # the paired interval covers the true effect on waste: 300 citizens x 0.06 kg more
    assert (
        p.loc["waste_generated_kg", "ci_low"] < 300 * 0.06 < p.loc["waste_generated_kg", "ci_high"]
    )
    daily = paired.differences
    assert set(daily["variable"]) == {"waste_generated_kg", "mean_concern"}
    assert len(daily) == 2 * 31 and (daily["n"] == 8).all()


def test_branching_isolates_the_intervention(tmp_path):
    kwargs = {
        "seeds": 3,
        "days": 45,
        "root_seed": 9,
        "n_citizens": 300,
        "at_day": 20,
        "model": helpers.small_model,
        "executor": "serial",
        "progress": False,
        "variables": ["mean_concern", "waste_stock_kg"],
    }
    comparison = ex.compare(intervention=helpers.pulse_intervention, out=tmp_path / "b", **kwargs)
    frame = comparison.result.load(["mean_concern", "waste_stock_kg"])
    wide = frame.pivot_table(index=["replicate", "day"], columns="label", values="mean_concern")
    before = wide.loc[pd.IndexSlice[:, :20], :]
    after = wide.loc[pd.IndexSlice[:, 21:], :]
    assert (before["baseline"] == before["variant"]).all()  # shared history, bit for bit
    assert (after["variant"] > after["baseline"]).all()  # concern pulses raise concern
    diff = comparison.differences.query("variable == 'mean_concern'").set_index("day")
    assert (diff.loc[:20, "difference"] == 0).all() and (diff.loc[:20, "se"] == 0).all()
    assert (diff.loc[25:, "ci_low"] > 0).all()
    # the baseline branch is an ordinary run: copying did not disturb it
    seeds = comparison.result.runs().query("label == 'baseline'")["seed"].tolist()
    plain = ex.ensemble(
        helpers.small_model, seeds=seeds, days=45, n_citizens=300, executor="serial", progress=False
    )
    base = frame[frame["label"] == "baseline"].sort_values(["replicate", "day"])
    ref = plain.load("mean_concern").sort_values(["replicate", "day"])
    assert base["mean_concern"].tolist() == ref["mean_concern"].tolist()
    # a null intervention leaves the branches identical all the way
    null = ex.compare(intervention=helpers.no_intervention, **kwargs)
    assert (null.differences["difference"] == 0).all()
    ax = comparison.plot("mean_concern")
    assert ax.get_ylabel() == "Δ mean_concern"


def test_compare_rejects_ambiguous_designs():
    with pytest.raises(TypeError, match="not a variant"):
        ex.compare({}, {"bass_p": 0.01}, intervention=helpers.no_intervention, at_day=3, days=5)
    with pytest.raises(TypeError, match="give a variant"):
        ex.compare({}, days=5)
    with pytest.raises(ValueError, match="at_day must be between"):
        ex.compare(
            intervention=helpers.no_intervention,
            at_day=5,
            days=5,
            model=helpers.small_model,
            executor="serial",
            progress=False,
        )
