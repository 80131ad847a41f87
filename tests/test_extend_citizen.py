"""Extending citizens: per-agent and vectorised hooks, and the Mesa habits refused."""

from __future__ import annotations

import numpy as np
import pytest

from waste_harmony import Citizen, CityModel
from waste_harmony.agents import CitizenRows


class PerAgent(Citizen):
    def recycling_probability(self) -> float:
        return min(1.0, 0.5 * self.concern + 0.3)


class Vectorised(Citizen):
    @classmethod
    def recycling_probabilities(cls, rows: CitizenRows) -> np.ndarray:
        return np.minimum(1.0, 0.5 * rows.concern + 0.3)


def _frame(citizen_class: type[Citizen]):
    model = CityModel(n_citizens=400, rng=11, citizen_class=citizen_class)
    model.run_for(15)
    return model.model_frame()


def test_vectorised_override_gives_the_per_agent_result_for_a_fixed_seed():
    per_agent, vectorised, default = _frame(PerAgent), _frame(Vectorised), _frame(Citizen)
    assert per_agent.equals(vectorised)
    assert not vectorised["recycling_rate"].equals(default["recycling_rate"])


def test_vectorised_override_receives_the_class_rows_and_the_default():
    seen = {}

    class Spy(Citizen):
        @classmethod
        def recycling_probabilities(cls, rows: CitizenRows) -> np.ndarray:
            seen["index"], seen["default"] = rows.index, rows.default
            seen["concern"] = rows.concern
            return rows.default

    spy = CityModel(n_citizens=200, rng=4, citizen_class=Spy)
    spy.step()
    assert seen["index"].tolist() == list(range(200))
    assert seen["default"].shape == (200,) and np.all(
        (seen["default"] >= 0) & (seen["default"] <= 1)
    )
    # Returning the default changes nothing.
    default = CityModel(n_citizens=200, rng=4)
    default.step()
    assert spy.model_frame().equals(default.model_frame())
    with pytest.raises(AttributeError, match="no citizen column 'concen'"):
        _ = CitizenRows(spy, np.arange(2), np.zeros(2)).concen


def test_overriding_both_forms_of_a_hook_is_refused():
    class Both(PerAgent):
        @classmethod
        def recycling_probabilities(cls, rows: CitizenRows) -> np.ndarray:
            return rows.default

    with pytest.raises(TypeError, match="both recycling_probability"):
        CityModel(n_citizens=10, rng=1, citizen_class=Both)


def test_overridden_step_is_refused_with_a_pointer_to_the_hooks():
    # Mesa users override step(); here a day is the model's pipeline, so a step()
    # would silently never run. It is refused, naming what to do instead.
    class Stepper(Citizen):
        def step(self) -> None:
            self.concern = 1.0

    with pytest.raises(TypeError, match=r"overrides step\(\).*recycling_probability.*pipeline"):
        CityModel(n_citizens=10, rng=1, citizen_class=Stepper)


def test_removing_a_citizen_is_refused_and_leaves_no_ghost():
    model = CityModel(n_citizens=50, rng=1)
    citizen = model.agents_by_type[Citizen][0]
    with pytest.raises(NotImplementedError, match="cannot be removed.*active"):
        citizen.remove()
    assert len(model.agents_by_type[Citizen]) == model.n_citizens == 50
    assert citizen.cell is not None
