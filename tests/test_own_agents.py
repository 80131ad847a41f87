"""A study's own agent types: stepped at a named point of the day, recorded that day.

Issue 19, item 2: overriding ``CityModel.step`` to call ``super().step()`` and then the
new agents ran them after the day had been recorded (a depot "collected" 0, 0 and 1 kg
in the records). Both ways now land the depot's work in the same day's records.
"""

import pickle

import mesa
import numpy as np
import pytest

from waste_harmony import CityModel
from waste_harmony.plotting.markers import Marker
from waste_harmony.viz.figures import CityMapView


class Depot(mesa.discrete_space.FixedAgent):
    marker = Marker("s", "#8c564b", "white", 0.8, 70.0, "recycling depot")

    def __init__(self, model, cell, capacity_kg=400.0):
        super().__init__(model)
        self.cell = cell
        self.capacity_kg = capacity_kg
        self.collected_kg = []

    def step(self):
        nodes = [self.cell.coordinate, *(c.coordinate for c in self.cell.neighborhood)]
        self.collected_kg.append(self.model.recycle_waste(self.capacity_kg / len(nodes), nodes))


class DepotCity(CityModel):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.depot = Depot(self, self.space[self.node_ids[44]])

    def step(self):
        super().step()
        self.agents_by_type[Depot].shuffle_do("step")


class TwiceOverridden(DepotCity):
    def step(self):
        super().step()
        self.extra_days = getattr(self, "extra_days", 0) + 1


def _recycled(model):
    return model.model_frame()["waste_recycled_kg"].to_numpy()[1:]


@pytest.fixture(scope="module")
def without():
    model = CityModel(n_citizens=2_000, rng=3)
    model.run_for(10)
    return _recycled(model)


def test_overridden_step_records_the_extra_work_the_same_day(without):
    city = DepotCity(n_citizens=2_000, rng=3)
    city.run_for(10)
    assert len(city.depot.collected_kg) == 10 and min(city.depot.collected_kg) > 0
    np.testing.assert_allclose(_recycled(city) - without, city.depot.collected_kg)
    assert len(city.model_frame()) == 11  # recorded once a day, not twice
    frame = city.model_frame()
    assert float(frame["waste_balance_error_kg"].abs().max()) < 1e-6


def test_nested_overrides_record_once_after_the_outermost():
    city = TwiceOverridden(n_citizens=500, rng=3)
    city.run_for(4)
    assert city.extra_days == 4 and city.recorded_days == [0, 1, 2, 3, 4]


def test_add_agent_step_runs_the_agents_at_the_named_point(without):
    model = CityModel(n_citizens=2_000, rng=3)
    depot = Depot(model, model.space[model.node_ids[44]])
    assert model.add_agent_step(Depot, after="collection") == "depot"
    names = model.pipeline.names()
    assert names.index("depot") == names.index("collection") + 1
    model.run_for(10)
    np.testing.assert_allclose(_recycled(model) - without, depot.collected_kg)
    with pytest.raises(TypeError, match="no method collect"):
        model.add_agent_step(Depot, method="collect", name="other")
    with pytest.raises(TypeError, match="mesa.Agent subclass"):
        model.add_agent_step(int)


@pytest.mark.parametrize("how", ["copy", "pickle"])
def test_own_agents_copy_and_pickle_with_their_state(how):
    model = CityModel(n_citizens=500, rng=5)
    Depot(model, model.space[model.node_ids[10]])
    model.add_agent_step(Depot, before="organism")
    model.run_for(3)
    twin = model.copy() if how == "copy" else pickle.loads(pickle.dumps(model))
    model.run_for(4)
    twin.run_for(4)
    assert model.model_frame().equals(twin.model_frame())
    (a,), (b,) = model.agents_by_type[Depot], twin.agents_by_type[Depot]
    assert a.collected_kg == b.collected_kg and a is not b


def test_the_map_draws_own_agent_types_that_carry_a_marker():
    model = CityModel(n_citizens=300, rng=5)
    Depot(model, model.space[model.node_ids[10]])
    view = CityMapView(model).update(model)
    assert view.counts["Depot"] == 1
    offsets = view.own[Depot].get_offsets()
    np.testing.assert_allclose(offsets[0], view.xy[10])
