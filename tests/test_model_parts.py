"""The parts of the model package (waste_harmony.model.*), each through its own API."""

import inspect
import pickle
import random

import mesa
import numpy as np
import pytest

from waste_harmony import CityModel, city
from waste_harmony.batch.plan import qualified_name
from waste_harmony.model.accounts import WasteAccounts
from waste_harmony.model.building import build_citizens, build_city
from waste_harmony.model.checks import (
    check_agent_step,
    check_rules_ran,
    scenario_instances,
    seed_of,
)
from waste_harmony.model.geometry import Geometry
from waste_harmony.model.history import ParameterHistory
from waste_harmony.model.members import (
    facility_status,
    gathering_rows,
    linked,
    parameter_events,
    people_mean,
    rows_of,
)
from waste_harmony.model.recorder import NEIGHBORHOOD_REPORTERS, Recorder
from waste_harmony.parameters import Parameters
from waste_harmony.recording import NEIGHBORHOOD_VARIABLES, OUTPUTS, OutputVariable
from waste_harmony.scenarios import HarmonyFestival


def share_recycling(model) -> float:
    """A study's own output (a module-level function, so it pickles)."""
    return float(model.citizens.recycled.mean())


def residents_twice(model) -> np.ndarray:
    """A study's own per-neighbourhood variable."""
    return 2.0 * model.residents


OWN = OutputVariable("share_recycling", "share", "share of citizens who recycled", share_recycling)


# ---------------------------------------------------------------------------- the model's name
def test_city_model_keeps_its_public_path_for_pickles_and_manifests():
    # Experiment manifests and resume fingerprints record the model by this name.
    assert qualified_name(CityModel) == "waste_harmony.model.CityModel"
    assert inspect.getsource(CityModel).startswith("class CityModel(mesa.Model):")
    model = CityModel(n_citizens=50, rng=0)
    thawed = pickle.loads(pickle.dumps(model))
    assert type(thawed) is CityModel
    assert not thawed.citizens.home.flags.writeable  # restored after loading


# ---------------------------------------------------------------------------- recorder
def test_builtin_neighborhood_reporters_compute_every_documented_variable():
    assert list(NEIGHBORHOOD_REPORTERS) == list(NEIGHBORHOOD_VARIABLES)


def test_recorder_records_its_own_table_of_outputs_from_day_zero():
    model = CityModel(n_citizens=300, rng=5)
    recorder = Recorder(
        (OUTPUTS[0], OWN),
        n_nodes=model.n_nodes,
        neighborhood_reporters={"residents_twice": residents_twice},
    )
    recorder.record(model, 0)
    model.step()
    recorder.record(model, 1)
    frame = recorder.model_frame()
    assert list(frame.columns) == ["mean_concern", "share_recycling"]
    assert frame.index.tolist() == [0, 1]
    assert frame.loc[1, "share_recycling"] == pytest.approx(model.citizens.recycled.mean())
    hoods = recorder.neighborhood_frame(
        model.node_ids, model.neighborhoods.zone, model.neighborhoods.area_km2
    )
    assert hoods["residents_twice"].sum() == pytest.approx(2 * 2 * 300)
    assert hoods["area_km2"].tolist() == model.neighborhoods.area_km2.tolist() * 2


def test_recorder_pickles_builtin_outputs_by_name_and_own_outputs_as_they_are():
    recorder = Recorder((*OUTPUTS, OWN), n_nodes=3, neighborhood_reporters=None)
    thawed = pickle.loads(pickle.dumps(recorder))
    # Built-ins come back as the very entries of the table (their lambdas cannot pickle).
    assert all(a is b for a, b in zip(thawed.outputs[:-1], OUTPUTS, strict=True))
    assert thawed.outputs[-1] == OWN


def test_recorder_series_names_what_is_recorded():
    recorder = Recorder(OUTPUTS[:1], n_nodes=3, neighborhood_reporters=None)
    with pytest.raises(KeyError, match="recorded: \\['mean_concern'\\]"):
        recorder.series("pollution", 0)
    with pytest.raises(RuntimeError, match="record_neighborhoods=True"):
        recorder.neighborhood_frame([0, 1, 2], np.array(["a", "b", "c"]), np.ones(3))


# ---------------------------------------------------------------------------- waste accounts
def test_waste_accounts_take_at_most_the_stock_and_add_up_repeated_nodes():
    accounts = WasteAccounts(stock_kg=9.0)
    stock = np.array([5.0, 4.0])
    taken = accounts.take("reused", stock, np.array([1, 1, 0]), np.array([3.0, 3.0, 1.0]))
    assert taken == 5.0
    assert stock.tolist() == [4.0, 0.0]
    assert accounts.today["reused"] == 5.0
    with pytest.raises(ValueError, match="finite and non-negative"):
        accounts.take("consumed", stock, np.array([0]), -1.0)
    assert stock.tolist() == [4.0, 0.0]  # a refused request takes nothing
    accounts.close_day(4.0)
    assert accounts.today == dict.fromkeys(accounts.today, 0.0)
    assert accounts.stock_yesterday_kg == 4.0


# ---------------------------------------------------------------------------- geometry
def test_geometry_steps_follow_the_rates_and_outings_follow_the_reach():
    arrays = city.city_arrays(city.load_city(city.grid_city(4, 4)))
    geometry = Geometry(arrays, Parameters())
    slow = geometry.pollution_diffusion_step
    organism = geometry.organism_dispersal_step
    faster = Parameters(pollution_diffusion=Parameters().pollution_diffusion * 50)
    geometry.set_rates(faster)
    assert geometry.pollution_diffusion_step is not slow
    assert geometry.pollution_diffusion_step.rate == faster.pollution_diffusion
    assert geometry.organism_dispersal_step is organism  # its rate did not change
    geometry.set_rates(faster)
    assert geometry.pollution_diffusion_step.rate == faster.pollution_diffusion
    area = np.asarray(arrays["area_km2"], dtype=float)
    near = geometry.outing_destinations(0.3, area)
    assert geometry.outing_destinations(0.3, area) is near  # cached
    far = geometry.outing_destinations(5.0, area)
    assert far.nnz > near.nnz


# ---------------------------------------------------------------------------- parameter history
def test_parameter_history_applies_all_changes_or_none():
    history = ParameterHistory(Parameters())
    with pytest.raises(ValueError, match="cannot change parameters"):
        history.change({"waste_per_capita_kg": 0.5, "bass_p": -1.0}, time=0.0, source="me")
    assert history.current is history.initial and history.changes == []
    with pytest.raises(TypeError, match="did you mean 'waste_per_capita_kg'"):
        history.change({"waste_per_capita": 0.5}, time=0.0, source="me")
    same = history.change({"waste_per_capita_kg": 0.74}, time=0.0, source="me")
    assert same == [] and history.current is history.initial
    (record,) = history.change({"waste_per_capita_kg": 0.5}, time=2.5, source="me")
    assert (record["day"], record["old"], record["new"]) == (3, 0.74, 0.5)


# ---------------------------------------------------------------------------- building
def test_build_citizens_numbers_citizens_home_by_home():
    built = build_city(city.load_city(city.grid_city(3, 3)), Parameters(), random=random.Random(1))
    people = build_citizens(Parameters(), np.random.default_rng(2), 500, built.neighborhoods)
    home = people.citizens.home
    assert np.all(np.diff(home) >= 0) and not home.flags.writeable
    assert people.residents.tolist() == np.bincount(home, minlength=9).tolist()
    # The neighbourhoods' population is the people the citizens stand for (one each).
    assert built.neighborhoods.population.tolist() == people.people.tolist()
    assert people.people.sum() == pytest.approx(500)
    assert (people.citizens.role_code > 0).sum() == sum(Parameters().roles.values())


def test_build_citizens_refuses_more_roles_than_citizens():
    built = build_city(city.load_city(city.grid_city(2, 3)), Parameters(), random=random.Random(1))
    with pytest.raises(ValueError, match="roles ask for 4 citizens but n_citizens is 3"):
        build_citizens(Parameters(), np.random.default_rng(0), 3, built.neighborhoods)


# ---------------------------------------------------------------------------- checks
def test_seed_of_keeps_an_int_draws_from_a_generator_and_from_entropy():
    assert seed_of(12) == 12
    assert seed_of(np.random.default_rng(3)) == seed_of(np.random.default_rng(3))
    assert 0 <= seed_of(None) < 2**63


def test_scenario_instances_accept_one_or_many_spellings():
    one = scenario_instances("harmony-festival")
    assert [type(s) for s in one] == [HarmonyFestival]
    both = scenario_instances([HarmonyFestival, "techcore"])
    assert [s.name for s in both] == ["harmony-festival", "techcore"]
    with pytest.raises(ValueError, match="given twice"):
        scenario_instances([HarmonyFestival(), "harmony-festival"])


# ---------------------------------------------------------------------------- members
def test_rows_of_reads_none_one_id_a_tuple_id_and_many_ids():
    index = {(0, 0): 0, (0, 1): 1, "x": 2}
    assert rows_of(index, None, n_nodes=3).tolist() == [0, 1, 2]
    assert rows_of(index, (0, 1)).tolist() == [1]  # a tuple that is an id, not two ids
    assert rows_of(index, "x").tolist() == [2]
    assert rows_of(index, [(0, 1), (0, 0)]).tolist() == [1, 0]
    with pytest.raises(KeyError, match="not in the city graph"):
        rows_of(index, [(5, 5)])


def test_gathering_rows_takes_a_node_or_rows_but_not_both():
    assert gathering_rows({"a": 4}, "a", None) == 4
    rows = np.array([1, 2])
    assert gathering_rows({"a": 4}, None, rows) is rows
    for node, node_rows in (("a", rows), (None, None)):
        with pytest.raises(TypeError, match="node=<node id> or node_rows=<rows>"):
            gathering_rows({"a": 4}, node, node_rows)


def test_linked_adds_both_directions_and_leaves_the_links_unchanged():
    import scipy.sparse as sp

    links = sp.csr_array(np.eye(3))
    new = linked(links, [0, 0], [2, 2], [1.0, 0.5])  # twice: the weights add up
    assert new[0, 2] == new[2, 0] == 1.5
    assert links[0, 2] == 0
    with pytest.raises(ValueError, match="pair up"):
        linked(links, [0, 1], [2], 1.0)
    with pytest.raises(ValueError, match="finite and >= 0"):
        linked(links, [0], [2], -1.0)


def test_people_mean_weighs_citizens_by_the_people_they_stand_for():
    model = CityModel(n_citizens=300, population=1e5, rng=3)
    values = model.citizens.concern
    # the weighted mean by hand: each citizen counts with its home's people per citizen
    weights = model.people_per_citizen[model.citizens.home]
    expected = float(np.sum(values * weights) / np.sum(weights))
    got = people_mean(
        values, homes=model.homes, people=model.people, population=model.population, uniform=False
    )
    assert got == pytest.approx(expected, rel=1e-12)
    assert people_mean(values, homes=None, people=None, population=1.0, uniform=True) == float(
        np.mean(values)
    )


def test_facility_status_ranks_built_over_proposed_over_withdrawn():
    assert facility_status(["withdrawn", "built", "proposed"]) == "built"
    assert facility_status(["withdrawn"]) == "withdrawn"
    assert facility_status([]) == "none"


def test_parameter_events_name_the_scenario_only_when_one_made_the_change():
    changes = [{"day": 3, "name": "bass_p", "old": 0.01, "new": 0.02}]
    (by_user,) = parameter_events(changes, source="set_parameters", scenarios=["policy"])
    (by_policy,) = parameter_events(changes, source="policy", scenarios=["policy"])
    assert (by_user.day, by_user.kind) == (3, "parameters_changed")
    assert "scenario" not in by_user.details
    assert by_policy.details["scenario"] == "policy"


def test_own_agent_step_and_step_override_checks_name_the_way():
    with pytest.raises(TypeError, match="mesa.Agent subclass"):
        check_agent_step(int, "step")
    with pytest.raises(TypeError, match="method='...'"):
        check_agent_step(mesa.Agent, "collect")
    check_rules_ran("Mine.step", 1)
    with pytest.raises(RuntimeError, match="without calling super"):
        check_rules_ran("Mine.step", 0)
    with pytest.raises(RuntimeError, match="2 times in one day"):
        check_rules_ran("Mine.step", 2)
