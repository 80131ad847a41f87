"""A study's own agent types: stepped at a named point of the day, recorded that day.

Issue 19, item 2: overriding ``CityModel.step`` to call ``super().step()`` and then the
new agents ran them after the day had been recorded (a depot "collected" 0, 0 and 1 kg
in the records). Both ways now land the depot's work in the same day's records, an
override that skips ``super().step()`` (or calls it twice) is refused, and agents that
move on the city's cells are stepped, drawn where they are, copied and resumed.
"""

import pickle

import mesa
import numpy as np
import pandas as pd
import pytest

from waste_harmony import CityModel, experiments, reporter
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


class Truck(mesa.discrete_space.CellAgent):
    """Moves to a random neighbouring node each day and recycles a little there."""

    marker = Marker("^", "#2ca02c", "white", 0.8, 60.0, "collection truck")

    def __init__(self, model, cell):
        super().__init__(model)
        self.cell = cell
        self.route = [cell.coordinate]

    def step(self):
        self.cell = self.cell.neighborhood.select_random_cell()
        self.route.append(self.cell.coordinate)
        self.model.recycle_waste(5.0, [self.cell.coordinate])


class TruckCity(CityModel):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        Depot(self, self.space[self.node_ids[4]])
        Truck(self, self.space[self.node_ids[2]])
        self.add_agent_step(Depot, after="collection")
        self.add_agent_step(Truck, after="depot")


@reporter("kg/day", "waste the depots took that day")
def depot_kg(model):
    return float(sum(d.collected_kg[-1] for d in model.agents_by_type[Depot] if d.collected_kg))


class Skipping(CityModel):
    def step(self):
        self.skipped = True


class Doubling(CityModel):
    def step(self):
        super().step()
        super().step()


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


@pytest.mark.parametrize("cls, said", [(Skipping, "without calling"), (Doubling, "2 times")])
def test_an_override_that_does_not_run_the_day_once_is_refused_with_the_way(cls, said):
    # Before: an override without super().step() recorded days in which nothing ran.
    model = cls(n_citizens=100, rng=1)
    with pytest.raises(RuntimeError, match=said) as refused:
        model.step()
    assert "super().step() once" in str(refused.value)
    assert "add_agent_step" in str(refused.value) and cls.__name__ in str(refused.value)
    assert model.recorded_days == [0]  # the refused day is not recorded


def test_moving_agents_are_stepped_drawn_where_they_are_copied_and_pickled():
    model = TruckCity(n_citizens=300, rng=2)
    names = model.pipeline.names()
    assert names.index("truck") == names.index("depot") + 1 == names.index("collection") + 2
    model.run_for(3)
    (truck,) = model.agents_by_type[Truck]
    assert len(truck.route) == 4
    view = CityMapView(model).update(model)
    at = view.xy[model.node_index(truck.cell.coordinate)]
    np.testing.assert_allclose(view.own[Truck].get_offsets()[0], at)
    twins = [model.copy(), pickle.loads(pickle.dumps(model))]
    for city in [model, *twins]:
        city.run_for(3)
    routes = [city.agents_by_type[Truck][0].route for city in [model, *twins]]
    assert routes[0] == routes[1] == routes[2] and len(routes[0]) == 7
    view.update(model)  # the marker follows the truck
    at = view.xy[model.node_index(model.agents_by_type[Truck][0].cell.coordinate)]
    np.testing.assert_allclose(view.own[Truck].get_offsets()[0], at)


def test_experiments_run_and_resume_a_model_with_own_agents_and_outputs(tmp_path):
    settings = dict(
        model=TruckCity,
        n_citizens=200,
        model_reporters={"depot_kg": depot_kg},
        seeds=3,
        days=3,
        root_seed=1,
        executor="serial",
        progress=False,
        out=tmp_path / "ensemble",
    )
    first = experiments.ensemble(**settings).summary("depot_kg")
    assert (first[first["day"] > 0]["mean"] > 0).all()
    runs = sorted((tmp_path / "ensemble" / "runs").iterdir())
    (runs[0] / "manifest.json").unlink()  # as if interrupted before the first run finished
    again = experiments.ensemble(**settings, resume=True)
    assert again.manifest["skipped_on_resume"] == 2
    pd.testing.assert_frame_equal(again.summary("depot_kg"), first)


def test_day_0_is_recorded_after_a_subclass_adds_its_agents():
    # A reporter reading the agents a subclass's __init__ adds failed at day 0 inside
    # Mesa ("Lambda reporter 'depot_kg' failed validation: <class Depot>"): day 0 was
    # recorded in CityModel.__init__, before the subclass's agents existed.
    model = TruckCity(n_citizens=200, rng=1, model_reporters={"depot_kg": depot_kg})
    assert model.recorded_days == [0] and model.model_frame()["depot_kg"].tolist() == [0.0]
    model.run_for(2)
    assert model.recorded_days == [0, 1, 2]
    assert (
        model.model_frame()["depot_kg"].iloc[-1] == model.agents_by_type[Depot][0].collected_kg[-1]
    )


def test_a_reporter_failing_on_day_0_names_itself_and_the_usual_cause():
    @reporter("kg/day", "what the first truck carries")
    def truck_load(model):
        return float(model.agents_by_type[Truck][0].route[-1])

    with pytest.raises(RuntimeError, match="'truck_load' failed on day 0: KeyError") as e:
        CityModel(n_citizens=100, rng=1, model_reporters={"truck_load": truck_load})
    assert "subclass's __init__" in str(e.value)
    with pytest.raises(RuntimeError, match="'by_node' failed on day 0"):
        CityModel(n_citizens=100, rng=1, neighborhood_reporters={"by_node": truck_load})


def test_the_live_page_shows_a_study_subclass_and_its_own_outputs_as_they_are():
    # Before: make_page(model) rebuilt a plain VizCityModel from the model's settings,
    # silently dropping a subclass's own agents and the model's own outputs.
    pytest.importorskip("solara")
    from waste_harmony.viz.app import VizCityModel, page_arguments

    model = TruckCity(n_citizens=300, rng=2, model_reporters={"depot_kg": depot_kg})
    shown = page_arguments(model)["model"]
    assert isinstance(shown, VizCityModel) and isinstance(shown, TruckCity)
    assert len(shown.agents_by_type[Depot]) == 1 and "truck" in shown.pipeline.names()
    assert shown.outputs[-1].name == "depot_kg"
    shown.step()
    assert shown.recorded_days == [0, 1] and shown.agents_by_type[Depot][0].collected_kg

    class Positional(CityModel):
        def __init__(self, depots, **kwargs):
            super().__init__(**kwargs)

    with pytest.raises(TypeError, match=r"\*\*kwargs and pass them to super"):
        page_arguments(Positional(1, n_citizens=100, rng=1))
