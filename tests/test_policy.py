"""Interventions with provenance: ``CityModel.set_parameters``, the ``policy`` scenario,
the manifest's ``interventions`` and re-running a saved run bit for bit."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

import waste_harmony
from waste_harmony import CityModel
from waste_harmony import experiments as ex
from waste_harmony.config import ConfigError, parse_run_config
from waste_harmony.config.sweep import parse_sweep_config
from waste_harmony.results import RunResult
from waste_harmony.scenarios import Policy, available
from waste_harmony.testing import check_scenario

BAN = {"waste_per_capita_kg": 0.74 * 0.85}  # a plastic-bag ban: 15 % less waste per capita


def test_policy_is_registered_and_conforms():
    assert available()["policy"] is Policy
    check_scenario(Policy, days=40)


def test_plastic_bag_ban_cuts_waste_by_15_percent_from_its_day():
    days, n = 60, 2000
    base = CityModel(n_citizens=n, rng=1, days=days)
    base.run_for(days)
    ban = CityModel(n_citizens=n, rng=1, days=days, scenarios=[Policy(day=30, set=BAN)])
    ban.run_for(days)
    before = ban.model_frame()["waste_generated_kg"].loc[1:29]  # day 0: no flows yet
    after = ban.model_frame()["waste_generated_kg"].loc[30:]
    baseline = base.model_frame()["waste_generated_kg"]
    # Same seed: identical until day 29, then each citizen's waste scaled by 0.85 exactly.
    assert before.equals(baseline.loc[1:29])
    np.testing.assert_allclose(after / baseline.loc[30:], 0.85, rtol=1e-12)
    # Against its own first month. Daily totals of 2000 Gamma draws (CV 0.5) have a
    # relative s.d. of 1.1 %, so a 30-day mean ~0.2 %; the baseline drifts by < 1 % over
    # the two months (seeds 1-3): a tolerance of 0.02 on the ratio is several s.e. wide.
    assert after.mean() / before.mean() == pytest.approx(0.85, abs=0.02)


def test_each_change_is_an_event_and_the_parameters_stay_frozen():
    model = CityModel(n_citizens=100, rng=0, scenarios=[Policy(day=3, set=BAN)])
    model.run_for(4)
    events = model.events("parameters_changed")
    assert [(e.day, e.details["parameter"]) for e in events] == [(3, "waste_per_capita_kg")]
    assert events[0].details["old"] == 0.74
    assert events[0].details["new"] == pytest.approx(0.629)
    assert events[0].details["source"] == "policy"
    frame = model.event_frame()
    assert frame.loc[frame["kind"] == "parameters_changed", "scenario"].tolist() == ["policy"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.params.waste_per_capita_kg = 1.0  # type: ignore[misc]
    assert model.initial_params.waste_per_capita_kg == 0.74


def test_several_steps_and_a_direct_change():
    steps = {5: {"waste_per_capita_kg": 0.6}, 9: {"mobility": 0.1, "bass_q": 0.5}}
    model = CityModel(n_citizens=100, rng=0, scenarios=[Policy(steps=steps)])
    model.run_for(7)
    model.set_parameters(concern_confidence=0.25)
    model.run_for(5)
    changes = [(c["day"], c["name"], c["source"]) for c in model.interventions]
    assert changes == [
        (5, "waste_per_capita_kg", "policy"),
        (8, "concern_confidence", "set_parameters"),
        (9, "mobility", "policy"),
        (9, "bass_q", "policy"),
    ]
    assert model.params.mobility == 0.1 and model.params.concern_confidence == 0.25


def test_assigning_params_goes_through_the_same_path():
    model = CityModel(n_citizens=50, rng=0)
    model.run_for(2)
    model.params = dataclasses.replace(model.params, waste_per_capita_kg=0.629)
    assert model.initial_params.waste_per_capita_kg == 0.74
    assert model.interventions[0]["source"] == "params assignment"
    manifest = RunResult.from_model(model).manifest
    assert manifest["parameters"]["waste_per_capita_kg"] == 0.74  # the run's initial value


@pytest.mark.parametrize(
    ("changes", "error", "words"),
    [
        ({"waste_per_capita": 0.6}, TypeError, "did you mean 'waste_per_capita_kg'"),
        ({"waste_per_capita_kg": -1.0}, ValueError, "out of range"),
        ({"pollution_decay": 1e-9}, ValueError, "pollution_decay"),  # 0 or >= 1e-6
        ({"n_citizens": 10}, ValueError, "fixes the model's structure"),
        ({"initial_concern_mean": 0.5}, ValueError, "only read when the model is built"),
    ],
)
def test_set_parameters_refuses_bad_changes_and_changes_nothing(changes, error, words):
    model = CityModel(n_citizens=50, rng=0)
    before = model.params
    with pytest.raises(error, match=words):
        model.set_parameters(changes)
    assert model.params is before and model.interventions == []


@pytest.mark.parametrize(
    ("policy", "words"),
    [
        (Policy(day=10, set={"waste_per_capita": 0.6}), "did you mean 'waste_per_capita_kg'"),
        (Policy(day=10, set={"waste_per_capita_kg": 11.0}), "out of range"),
        (Policy(day=10, set={"pollution_decay": 1e-9}), "pollution_decay"),
        (Policy(day=10, set={"roles": {"artist": 0}}), "only read when the model is built"),
        (Policy(day=400, set=BAN), "beyond the run"),
        (Policy(day=10, set={}), "nothing to do"),
        (Policy(day=10, set=BAN, steps={20: BAN}), "not both"),
        (Policy(steps={0: BAN}), "not a day"),
    ],
)
def test_a_bad_policy_is_refused_before_running(policy, words):
    with pytest.raises(ValueError, match=words):
        CityModel(n_citizens=50, rng=0, days=365, scenarios=[policy])


def test_a_bad_policy_in_a_run_file_names_its_key():
    with pytest.raises(ConfigError, match=r"scenarios\.policy.*did you mean"):
        parse_run_config({"scenarios": {"policy": {"day": 5, "set": {"mobilty": 0.1}}}})


def test_policy_from_a_run_file_with_steps():
    config = parse_run_config(
        {
            "citizens": 100,
            "days": 12,
            "seed": 2,
            "scenarios": {"policy": {"steps": {"5": {"mobility": 0.1}, "10": BAN}}},
        }
    )
    model = config.build_model()
    model.run_for(config.days)
    assert [(c["day"], c["name"]) for c in model.interventions] == [
        (5, "mobility"),
        (10, "waste_per_capita_kg"),
    ]


def test_manifest_keeps_initial_parameters_and_changes(tmp_path):
    model = CityModel(n_citizens=100, rng=0, scenarios=[Policy(day=3, set=BAN)])
    model.run_for(5)
    RunResult.from_model(model).save(tmp_path / "run")
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["parameters"]["waste_per_capita_kg"] == 0.74
    assert manifest["interventions"] == [
        {
            "day": 3,
            "time": 2.5,
            "name": "waste_per_capita_kg",
            "old": 0.74,
            "new": pytest.approx(0.629),
            "source": "policy",
        }
    ]


def test_rerun_from_a_folder_reproduces_the_run_bit_for_bit(tmp_path):
    steps = {5: {"waste_per_capita_kg": 0.6}, 9: {"mobility": 0.1}}
    model = CityModel(n_citizens=300, rng=3, scenarios=["techcore", Policy(steps=steps)])
    model.run_for(7)
    model.set_parameters(waste_per_capita_kg=0.5)  # a direct change between days, replayed at day 7
    model.run_for(8)
    RunResult.from_model(model).save(tmp_path / "run")
    saved = RunResult.load(tmp_path / "run")
    again = waste_harmony.rerun(tmp_path / "run")
    assert again.model_frame.equals(saved.model_frame)
    assert again.neighborhood_frame.equals(saved.neighborhood_frame)
    assert again.events.equals(saved.events)
    assert again.manifest["interventions"] == saved.manifest["interventions"]
    assert again.manifest["parameters"] == saved.manifest["parameters"]
    # ...and differs from the same run without the direct change (the test can fail).
    plain = CityModel(n_citizens=300, rng=3, scenarios=["techcore", Policy(steps=steps)])
    plain.run_for(15)
    assert not RunResult.from_model(plain).model_frame.equals(saved.model_frame)


def test_sweep_over_the_policy_day_and_value():
    config = parse_sweep_config(
        {
            "citizens": 200,
            "days": 20,
            "seed": 1,
            "scenarios": {"policy": {"day": 5, "set": BAN}},
            "sweep": {
                "grid": {
                    "scenarios.policy.day": [5, 15],
                    "scenarios.policy.set.waste_per_capita_kg": [0.629, 0.37],
                }
            },
        }
    )
    assert len(config.points) == 4
    result = ex.sweep(
        config.run,
        parameters=config.points,
        seeds=1,
        days=20,
        root_seed=3,
        executor="serial",
        progress=False,
    )
    found = []
    for run in result.iter_runs():
        changes = run.manifest["interventions"]
        assert len(changes) == 1 and changes[0]["name"] == "waste_per_capita_kg"
        found.append((changes[0]["day"], changes[0]["new"]))
        frame = run.model_frame.set_index("day")["waste_generated_kg"]
        day = changes[0]["day"]
        # the waste falls on the policy's day, not before: by more than half the policy's
        # cut (the daily totals of 200 citizens scatter by a few per cent)
        expected = changes[0]["new"] / 0.74
        assert frame.loc[day:].mean() < frame.loc[1 : day - 1].mean() * (1 + expected) / 2
    by_point = dict(enumerate(found))
    assert sorted(by_point.values()) == [(5, 0.37), (5, 0.629), (15, 0.37), (15, 0.629)]


def test_a_swept_policy_value_is_validated():
    with pytest.raises(ConfigError, match=r"sweep\.grid\.scenarios\.policy\.set\.waste_per"):
        parse_sweep_config(
            {
                "scenarios": {"policy": {"day": 5, "set": BAN}},
                "sweep": {"grid": {"scenarios.policy.set.waste_per_capita_kg": [-1.0]}},
            }
        )
    with pytest.raises(ConfigError, match="unknown scenario parameter"):
        parse_sweep_config(
            {
                "scenarios": {"policy": {"day": 5, "set": BAN}},
                "sweep": {"grid": {"scenarios.policy.set.mobility": [0.1]}},
            }
        )


def test_a_branching_comparison_takes_parameter_changes():
    comparison = ex.compare(
        {"n_citizens": 200},
        intervention={"waste_per_capita_kg": 0.5},
        at_day=5,
        days=10,
        seeds=1,
        executor="serial",
        progress=False,
    )
    changes = {
        run.manifest.get("label"): run.manifest["interventions"]
        for run in comparison.result.iter_runs()
    }
    variant = [c for c in changes.values() if c]
    assert len(variant) == 1 and len(changes) == 2
    assert variant[0] == [
        {
            "day": 6,
            "time": 5.0,
            "name": "waste_per_capita_kg",
            "old": 0.74,
            "new": 0.5,
            "source": "intervention",
        }
    ]


def test_a_change_mid_run_keeps_diffusion_stable():
    # Found by the property tests: after a change, the sub-steps were recomputed from
    # the hop degree instead of the km operator, and a fast pollution_diffusion on a
    # fine city turned pollution into NaN. Diffusion is now one backward Euler step,
    # stable for every D; a change that leaves D alone keeps the factorisation.
    from waste_harmony.city import grid_city

    model = CityModel(
        grid_city(3, 3, seed=1),
        n_citizens=50,
        rng=0,
        pollution_diffusion=11.0,
        scenarios=[Policy(day=3, set=BAN)],
    )
    before = model.pollution_diffusion_step
    model.run_for(10)
    assert model.pollution_diffusion_step is before
    assert np.isfinite(model.model_frame()["mean_pollution"]).all()


def test_changing_the_diffusion_coefficient_mid_run_refactorises_and_takes_effect():
    from waste_harmony.city import grid_city

    city = grid_city(6, 6, spacing_km=0.05, seed=2)  # 50 m cells: stiff diffusion
    kw = {"n_citizens": 200, "rng": 4, "record_neighborhoods": True}
    # Changed before the first day: the same run as one built with the new D.
    changed = CityModel(city, pollution_diffusion=0.01, **kw)
    changed.set_parameters(pollution_diffusion=100.0)
    built = CityModel(city, pollution_diffusion=100.0, **kw)
    for m in (changed, built):
        m.run_for(15)
    assert changed.pollution_diffusion_step.rate == 100.0
    np.testing.assert_array_equal(
        changed.neighborhood_frame()["pollution"], built.neighborhood_frame()["pollution"]
    )
    # Changed mid-run (an intervention): pollution follows the new D from the next day.
    slow = CityModel(city, pollution_diffusion=0.01, **kw)
    fast = CityModel(city, pollution_diffusion=0.01, **kw)
    slow.run_for(10)
    fast.run_for(10)
    fast.set_parameters(pollution_diffusion=100.0)
    slow.run_for(5)
    fast.run_for(5)
    spread = [np.ptp(m.neighborhoods.pollution) for m in (slow, fast)]
    assert spread[1] < 0.01 * spread[0]  # 100 km²/day mixes the 0.3 km city in a day
    assert fast.interventions[-1]["name"] == "pollution_diffusion"
