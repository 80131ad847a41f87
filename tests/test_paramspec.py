"""One parameter system: declarations, validation, constraints, finite values, outputs."""

import math
from pathlib import Path

import numpy as np
import pytest

from waste_harmony import CityModel, docs_tables
from waste_harmony.city import grid_city
from waste_harmony.parameters import Parameters, parameter_table, violations
from waste_harmony.paramspec import ParamSpec, unknown_keyword
from waste_harmony.recording import MODEL_VARIABLES, OUTPUTS
from waste_harmony.scenarios import Scenario, TechCoreProposal, available
from waste_harmony.scenarios.roles import Scientist

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_non_finite_model_parameters_are_refused(bad):
    with pytest.raises(ValueError, match="'waste_emission_factor' = .* is not finite"):
        CityModel(n_citizens=10, rng=0, waste_emission_factor=bad)


@pytest.mark.parametrize("bad", [math.inf, math.nan])
def test_non_finite_scenario_parameters_are_refused(bad):
    with pytest.raises(ValueError, match="scenario 'harmony-festival'.*exhibit_waste_kg.*finite"):
        CityModel(
            n_citizens=10, rng=0, scenarios=[available()["harmony-festival"](exhibit_waste_kg=bad)]
        )


def test_techcore_review_interval_beyond_comment_period_is_refused_before_the_run():
    scenario = TechCoreProposal(comment_period_days=5, review_interval_days=7)
    assert TechCoreProposal.violations(scenario.parameters()) == [
        "scenario 'techcore': review_interval_days <= comment_period_days does not hold "
        "(review_interval_days=7, comment_period_days=5); lower review_interval_days or "
        "raise comment_period_days"
    ]
    with pytest.raises(ValueError, match="review_interval_days <= comment_period_days"):
        CityModel(n_citizens=50, rng=0, scenarios=[scenario])


def test_initial_concern_constraint_matches_what_the_model_refuses():
    rng = np.random.default_rng(7)
    for _ in range(100):
        mean, sd = float(rng.uniform(0.001, 0.999)), float(rng.uniform(0.01, 0.49))
        admitted = not violations({"initial_concern_mean": mean, "initial_concern_sd": sd})
        assert admitted == (mean * (1 - mean) / sd**2 - 1 > 0)
    assert violations({"initial_concern_mean": 0.0})  # the Beta needs 0 < mean < 1
    with pytest.raises(ValueError, match="initial_concern_sd < sqrt"):
        Parameters(initial_concern_mean=0.05, initial_concern_sd=0.3)


def test_violations_reports_every_problem_at_once():
    found = violations(
        {"mobilty": 0.1, "mobility": 2.0, "bass_q": "high", "pollution_decay": 1e-300}
    )
    assert len(found) == 4
    assert "did you mean 'mobility'" in found[0]
    assert any("pollution_decay = 0 or pollution_decay >= 1e-06" in f for f in found)
    assert violations({}) == []


def test_subnormal_rates_are_refused():
    with pytest.raises(ValueError, match="pollution_decay"):
        Parameters(pollution_decay=5e-324)
    assert Scientist.violations({"development_cv": 1e-300})
    assert Scientist.violations({"development_cv": 0.0}) == []


def test_one_unknown_keyword_message_everywhere():
    expected = unknown_keyword("mobilty", Parameters.names())
    with pytest.raises(TypeError) as model_error:
        CityModel(n_citizens=10, mobilty=0.1)
    with pytest.raises(TypeError) as params_error:
        Parameters.from_kwargs({"mobilty": 0.1})
    assert str(model_error.value) == str(params_error.value) == expected
    assert "did you mean 'mobility'" in expected


def test_scenario_parameters_declare_kinds_explicitly_or_by_default():
    rows = {r["name"]: r for r in TechCoreProposal.parameter_table()}
    assert rows["site"]["kind"] == "node" and rows["announce_day"]["kind"] == "int"
    with pytest.raises(TypeError, match="'site' must be a node id"):
        CityModel(n_citizens=10, rng=0, scenarios=[TechCoreProposal(site=[1, 2])])
    with pytest.raises(TypeError, match="'announce_day' must be a whole number"):
        TechCoreProposal(announce_day=2.5).check_parameters()
    spec = ParamSpec(name="x", kind="float", low=0.0, low_open=True)
    assert spec.range_text == "(0, ∞)" and spec.problem(0.0) is not None


def test_model_and_scenario_tables_have_the_same_columns():
    assert set(parameter_table()[0]) == set(TechCoreProposal.parameter_table()[0])


def _extremes():
    for spec in Parameters.specs():
        if not spec.numeric:
            continue
        for end, open_ in ((spec.low, spec.low_open), (spec.high, spec.high_open)):
            if end is None:
                continue
            value = math.nextafter(end, spec.default) if open_ else end
            yield spec.name, value


EXTREMES = list(_extremes())


def test_every_numeric_parameter_has_a_finite_range():
    for spec in Parameters.specs():
        if spec.numeric:
            assert spec.low is not None and spec.high is not None, spec.name


@pytest.mark.parametrize(("name", "value"), EXTREMES, ids=[f"{n}={v:g}" for n, v in EXTREMES])
def test_model_stays_finite_at_the_ends_of_every_range(name, value):
    values = {name: value}
    if name == "initial_concern_sd":
        values["initial_concern_mean"] = 0.5  # the joint constraint admits sd up to 0.5
    if name == "initial_concern_mean":
        values["initial_concern_sd"] = 0.01
    assert violations(values) == []
    model = CityModel(grid_city(4, 4), n_citizens=120, rng=3, **values)
    model.run_for(60)
    frame = model.model_frame().drop(columns="facility_status")
    assert np.isfinite(frame.to_numpy(dtype=float)).all()
    hoods = model.neighborhood_frame().select_dtypes("number")
    assert np.isfinite(hoods.to_numpy(dtype=float)).all()


def test_every_output_is_recorded_and_documented():
    model = CityModel(n_citizens=100, rng=1)
    model.run_for(3)
    frame = model.model_frame()
    names = [v.name for v in OUTPUTS]
    assert list(frame.columns) == names == list(MODEL_VARIABLES)
    assert "waste_balance_error_kg" in names
    assert abs(frame["waste_balance_error_kg"]).max() < 1e-6
    text = (DOCS / "model.md").read_text(encoding="utf-8")
    for name in names:
        assert f"| `{name}` |" in text, name
    assert model.mean_concern == frame["mean_concern"].iloc[-1]


def test_generated_tables_of_both_documents_match_the_code():
    for doc in ("model.md", "scenarios.md"):
        assert not docs_tables.update_document(DOCS / doc, check=True), (
            f"regenerate with `python -m waste_harmony.docs_tables docs/{doc}`"
        )
    text = (DOCS / "scenarios.md").read_text(encoding="utf-8")
    assert "review_interval_days <= comment_period_days" in text


def test_third_party_plain_fields_get_a_spec_from_their_default():
    from dataclasses import dataclass

    from waste_harmony.scenarios import parameter

    @dataclass
    class Drill(Scenario):
        name = "drill-test"
        day: int = 5
        share: float = parameter(1, low=0.0, high=1.0)

    kinds = {r["name"]: r["kind"] for r in Drill.parameter_table()}
    assert kinds == {"day": "int", "share": "float"}
    assert Drill.violations({"share": 0.5}) == []
    assert Drill.violations({"day": "x"})
