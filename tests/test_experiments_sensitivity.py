"""Sensitivity analysis: validated on functions with known indices, then on the model."""

import sys
from pathlib import Path

import numpy as np
import pytest

from waste_harmony import experiments as ex

sys.path.insert(0, str(Path(__file__).resolve().parent))

import experiment_helpers as helpers

PI = np.pi
ISHIGAMI = {"x1": (-PI, PI), "x2": (-PI, PI), "x3": (-PI, PI)}


def _ishigami_indices(a=7.0, b=0.1):
    # Analytic variance decomposition (Ishigami and Homma 1990; Sobol' and Levitan 1999)
    v1 = 0.5 * (1 + b * PI**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * PI**8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return {
        "S1": {"x1": v1 / v, "x2": v2 / v, "x3": 0.0},
        "ST": {"x1": (v1 + v13) / v, "x2": v2 / v, "x3": v13 / v},
    }


@pytest.mark.validation
def test_sobol_indices_of_the_ishigami_function():
    truth = _ishigami_indices()
    assert truth["S1"]["x1"] == pytest.approx(0.314, abs=1e-3)
    assert truth["ST"]["x3"] == pytest.approx(0.244, abs=1e-3)
    result = ex.sensitivity(
        ISHIGAMI, method="sobol", n=2048, function=helpers.ishigami, root_seed=1
    )
    table = result.indices.set_index(["index", "parameter"])
    for index in ("S1", "ST"):
        for name, value in truth[index].items():
            # Monte Carlo error at n = 2048 (10 240 evaluations) is about 0.01-0.02
            assert table.loc[(index, name), "value"] == pytest.approx(value, abs=0.04)
            assert table.loc[(index, name), "conf"] < 0.1
    assert result.ranking() == ["x1", "x2", "x3"]
    assert {"ci_low", "ci_high", "output"} <= set(result.indices.columns)


@pytest.mark.validation
def test_morris_mu_star_of_a_linear_function_and_ishigami_ranking():
    problem = {"a": (0, 1), "b": (0, 1), "c": (0, 2), "d": (0, 1)}
    result = ex.sensitivity(problem, method="morris", n=20, function=helpers.linear)
    mu_star = result.indices.query("index == 'mu_star'").set_index("parameter")["value"]
    # For y = sum(k_i x_i), every elementary effect (in range units) is k_i (hi - lo).
    assert mu_star.to_dict() == pytest.approx({"a": 5.0, "b": 2.0, "c": 1.0, "d": 0.0})
    assert result.ranking() == ["a", "b", "c", "d"]
    ishigami = ex.sensitivity(ISHIGAMI, method="morris", n=50, function=helpers.ishigami)
    assert ishigami.ranking()[-1] == "x3"  # the least influential, as Sobol' ST says


def test_model_sensitivity_smoke(tmp_path):
    problem = {"waste_per_capita_kg": (0.5, 1.0), "concern_confidence": (0.1, 0.4)}
    result = ex.sensitivity(
        problem,
        method="sobol",
        n=8,
        model=helpers.small_model,
        outputs=["waste_generated_kg", "mean_concern"],
        days=8,
        n_citizens=200,
        executor="serial",
        progress=False,
        out=tmp_path / "sa",
    )
    assert result.result.n_finished == 8 * 4
    waste = result.indices.query("output == 'waste_generated_kg' and index == 'S1'")
    s1 = waste.set_index("parameter")["value"]
    assert s1["waste_per_capita_kg"] > 0.8  # waste is driven by the per-capita rate
    assert result.ranking("waste_generated_kg")[0] == "waste_per_capita_kg"
    fig = result.plot()
    assert len(fig.axes) == 2


def test_problem_validation():
    with pytest.raises(ValueError, match="low < high"):
        ex.sensitivity({"a": (1, 0)}, function=helpers.ishigami)
    with pytest.raises(ValueError, match="method must be"):
        ex.sensitivity(ISHIGAMI, method="fast", function=helpers.ishigami)
    with pytest.raises(TypeError, match="outputs is required"):
        ex.sensitivity({"bass_p": (0.01, 0.02)}, n=2, days=2)
