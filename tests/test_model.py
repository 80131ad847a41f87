"""The CityModel contract: agents, recording, balance, reproducibility, errors."""

import math

import networkx as nx
import numpy as np
import pytest

from waste_harmony import Citizen, CityModel, Corporation, Neighborhood, Organism
from waste_harmony.recording import MODEL_VARIABLES, NEIGHBORHOOD_VARIABLES


@pytest.fixture(scope="module")
def year_model():
    model = CityModel(n_citizens=3000, rng=11)
    model.run_for(365)
    return model


def test_one_row_per_day_with_every_contract_variable(year_model):
    df = year_model.datacollector.get_model_vars_dataframe()
    assert len(df) == 366  # day 0 (the initial state) and days 1..365
    for name in MODEL_VARIABLES:
        assert name in df.columns, name
    assert year_model.model_frame().index.tolist() == list(range(366))
    assert year_model.recorded_days == list(range(366))


def test_series_have_no_nan_shares_in_unit_interval_stocks_non_negative(year_model):
    df = year_model.model_frame()
    numeric = df.drop(columns="facility_status")
    assert not numeric.isna().any().any()
    for share in (
        "mean_concern",
        "protest_share",
        "recycling_rate",
        "biotech_adoption",
        "biotech_access_gini",
    ):
        assert df[share].between(0, 1).all(), share
    for stock in ("waste_stock_kg", "organism_biomass", "mean_pollution", "waste_generated_kg"):
        assert (df[stock] >= 0).all(), stock
    hoods = year_model.neighborhood_frame()
    assert not hoods.drop(columns=["node", "zone"]).isna().any().any()
    assert (hoods["waste_stock_kg"] >= 0).all()


def test_waste_balances_exactly_every_day(year_model):
    df = year_model.model_frame()
    stock = np.concatenate([[0.0], df["waste_stock_kg"].to_numpy()])
    inflow = df["waste_generated_kg"].to_numpy()
    outflow = (df["waste_recycled_kg"] + df["waste_reused_kg"] + df["waste_consumed_kg"]).to_numpy()
    np.testing.assert_allclose(inflow - outflow, np.diff(stock), rtol=1e-9, atol=1e-6)


def test_generation_averages_n_citizens_times_per_capita(year_model):
    # 365 days of 3000 Gamma(cv=0.5) draws: the mean's standard error is
    # 0.74 * 0.5 / sqrt(365 * 3000) ≈ 0.00035 kg, so 1 % (≈ 20 s.e.) is honest and safe.
    mean = year_model.model_frame()["waste_generated_kg"].mean()
    assert mean == pytest.approx(3000 * 0.74, rel=0.01)


def test_no_scenario_means_no_facility_no_protest(year_model):
    df = year_model.model_frame()
    assert set(df["facility_status"]) == {"none"}
    assert (df["protest_share"] == 0).all()


def test_neighborhood_frame_has_one_row_per_day_and_node(year_model):
    frame = year_model.neighborhood_frame()
    assert len(frame) == 366 * year_model.n_nodes  # day 0 and days 1..365
    assert sorted(set(frame["day"])) == list(range(366))
    for name in (
        "population",
        "concern",
        "waste_stock_kg",
        "pollution",
        "habitat",
        "biotech_access",
        "organism_biomass",
    ):
        assert name in frame.columns
    assert set(NEIGHBORHOOD_VARIABLES) <= set(frame.columns)
    day_one = frame[frame["day"] == 1]
    assert day_one["population"].sum() == year_model.n_citizens


def test_agents_are_mesa_agents_and_views_of_columns():
    model = CityModel(n_citizens=400, rng=5)
    citizens = model.agents_by_type[Citizen]
    assert len(citizens) == 400
    assert len(model.agents_by_type[Neighborhood]) == model.n_nodes
    np.testing.assert_array_equal(citizens.get("concern"), model.citizens.concern)
    agent = next(iter(citizens))
    agent.concern = 0.123
    assert model.citizens.concern[agent.row] == 0.123
    assert agent.cell.coordinate == model.node_ids[model.citizens.home[agent.row]]
    firm = Corporation(model, "TestCorp", emission_per_day=1.0)
    model.deploy_organism(model.node_ids[0], 10.0)
    assert firm in model.agents_by_type[Corporation]
    assert len(model.agents_by_type[Organism]) == 1
    assert citizens.select(lambda a: a.concern > 0.5).get("concern")


def test_same_seed_identical_series_different_seed_different():
    def run(seed):
        model = CityModel(n_citizens=800, rng=seed)
        model.run_for(40)
        return model.model_frame(), model.neighborhood_frame()

    (a, na), (b, nb), (c, _) = run(7), run(7), run(8)
    assert a.equals(b) and na.equals(nb)
    assert not a["mean_concern"].equals(c["mean_concern"])


def test_numpy_generator_as_rng_is_reproducible():
    frames = []
    for _ in range(2):
        model = CityModel(n_citizens=300, rng=np.random.default_rng(99))
        model.run_for(10)
        frames.append(model.model_frame())
    assert frames[0].equals(frames[1])


def test_initial_state_is_recorded_as_day_zero():
    # Mesa's examples collect in __init__: the initial state is the first row.
    model = CityModel(n_citizens=300, rng=5)
    concern0 = model.citizen_mean(model.citizens.concern)  # over the people they stand for
    stock0 = float(model.neighborhoods.waste_stock_kg.sum())
    pollution0 = float(model.neighborhoods.pollution.mean())
    frame = model.model_frame()
    assert frame.index.tolist() == [0]
    row = frame.loc[0]
    assert row["mean_concern"] == concern0
    assert row["mean_pollution"] == pollution0
    # Waste balance on day 0: no flows yet, the stock is the initial stock.
    for flow in ("waste_generated_kg", "waste_recycled_kg", "waste_reused_kg"):
        assert row[flow] == 0.0
    assert row["waste_stock_kg"] == stock0 and row["waste_balance_error_kg"] == 0.0
    assert model.series("mean_concern").tolist() == [concern0]
    hoods = model.neighborhood_frame()
    assert set(hoods["day"]) == {0} and len(hoods) == model.n_nodes
    model.run_for(3)
    assert model.model_frame().index.tolist() == [0, 1, 2, 3]
    assert model.series("mean_concern", since_day=2).shape == (2,)
    assert model.series("mean_concern")[0] == concern0


def test_mesa_clock_methods_work():
    model = CityModel(n_citizens=200, rng=1)
    model.step()
    model.run_for(4)
    model.run_until(10)
    assert model.day == 10 and len(model.model_frame()) == 11


def test_string_node_ids_are_supported():
    G = nx.relabel_nodes(nx.cycle_graph(6), {i: f"n{i}" for i in range(6)})
    for i, node in enumerate(G):
        G.nodes[node]["pos"] = (math.cos(i), math.sin(i))
    model = CityModel(G, n_citizens=120, rng=2)
    model.run_for(5)
    assert set(model.neighborhood_frame()["node"]) == set(G.nodes)


def test_facility_build_destroys_habitat_per_species_area():
    model = CityModel(n_citizens=200, rng=3, species_area_z=0.3)
    hoods = model.neighborhoods
    site = int(np.argmax(hoods.habitat * hoods.area_km2))
    total = float((hoods.habitat * hoods.area_km2).sum())
    lost_area = hoods.habitat[site] * hoods.area_km2[site] * 0.9
    firm = Corporation(model, "TechCore", habitat_loss=0.9, waste_kg_per_day=100.0)
    firm.propose(model.node_ids[site])
    firm.build()
    model.pipeline.remove("organism")  # nothing restores habitat in this check
    model.step()
    expected = (1 - lost_area / total) ** 0.3
    assert model.biodiversity_index == pytest.approx(expected, rel=1e-12)
    assert model.facility_status == "built"
    assert [e.kind for e in model.event_log] == ["facility_proposed", "facility_built"]


def test_protest_needs_an_open_grievance():
    model = CityModel(n_citizens=2000, rng=4, protest_threshold_mean=0.05)
    model.run_for(5)
    assert model.protest_share == 0
    model.open_grievance("test")
    model.run_for(10)
    assert model.protest_share > 0
    model.close_grievance("test")
    model.step()
    assert model.protest_share == 0


def test_organism_consumes_waste_and_grows():
    model = CityModel(n_citizens=1000, rng=6)
    node = model.node_ids[int(np.argmax(model.neighborhoods.habitat))]
    model.deploy_organism(node, 20.0)
    model.run_for(120)
    df = model.model_frame()
    assert df["organism_biomass"].iloc[-1] > 20.0
    assert df["waste_consumed_kg"].sum() > 0
    assert len(model.agents_by_type[Organism]) > 1  # it spread to neighbours


class KeenRecycler(Citizen):
    def recycling_probability(self) -> float:
        return 1.0


def test_citizen_subclass_hook_changes_outcome():
    base = CityModel(n_citizens=500, rng=9)
    keen = CityModel(n_citizens=500, rng=9, citizen_class=KeenRecycler)
    base.run_for(5)
    keen.run_for(5)
    assert keen.recycling_rate == pytest.approx(0.38, abs=0.02)
    assert keen.recycling_rate > base.recycling_rate + 0.1
    assert all(isinstance(a, KeenRecycler) for a in keen.agents_by_type[KeenRecycler])


def test_default_hook_matches_vectorised_rule():
    class Same(Citizen):
        def recycling_probability(self) -> float:
            return super().recycling_probability()

    a = CityModel(n_citizens=300, rng=12)
    b = CityModel(n_citizens=300, rng=12, citizen_class=Same)
    a.run_for(10)
    b.run_for(10)
    np.testing.assert_allclose(a.model_frame()["recycling_rate"], b.model_frame()["recycling_rate"])


def test_pipeline_rules_can_be_added_and_replaced():
    def green_campaign(model):
        model.citizens.concern[:] = np.minimum(model.citizens.concern + 0.01, 1.0)

    base = CityModel(n_citizens=500, rng=10)
    added = CityModel(n_citizens=500, rng=10)
    added.pipeline.add("green_campaign", green_campaign, before="waste")
    replaced = CityModel(n_citizens=500, rng=10)
    replaced.pipeline.replace("collection", lambda model: None)
    for m in (base, added, replaced):
        m.run_for(20)
    assert added.mean_concern > base.mean_concern + 0.1
    assert replaced.waste_stock_kg == pytest.approx(base.waste_stock_kg, rel=0.05)
    assert replaced.mean_pollution > base.mean_pollution


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"waste_per_capita": 1.0}, TypeError, "did you mean 'waste_per_capita_kg'"),
        ({"concern_confidense": 0.2}, TypeError, "did you mean 'concern_confidence'"),
        ({"n_citizens": -5}, ValueError, "n_citizens must be >= 0"),
        ({"n_citizens": 2.5}, TypeError, "n_citizens must be an integer"),
        ({"mobility": 1.5}, ValueError, "'mobility' = 1.5 is out of range"),
        ({"waste_per_capita_kg": -1.0}, ValueError, "out of range"),
        ({"bass_q": "high"}, TypeError, "must be a number"),
        ({"roles": {"artsit": 2}}, ValueError, "did you mean 'artist'"),
        ({"roles": {"artist": -1}}, ValueError, "non-negative integer"),
        ({"citizen_class": int}, TypeError, "citizen_class must be Citizen"),
        ({"scenarios": ["no-such-scenario"]}, ValueError, "unknown scenario"),
    ],
)
def test_bad_input_raises_clear_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        CityModel(**{"n_citizens": 50, **kwargs})


def test_invalid_city_is_rejected_with_node_and_attribute():
    G = nx.path_graph(3)
    for node in G:
        G.nodes[node]["pos"] = (float(node), 0.0)
    G.nodes[1]["population"] = -2.0
    with pytest.raises(ValueError, match=r"1.*population|population.*1"):
        CityModel(G, n_citizens=10)
    with pytest.raises(TypeError, match="networkx.Graph"):
        CityModel({"not": "a graph"}, n_citizens=10)


def test_unseeded_run_records_a_seed_that_repeats_it():
    first = CityModel(n_citizens=300)
    first.run_for(8)
    assert isinstance(first.seed, int)
    again = CityModel(n_citizens=300, rng=first.seed)
    again.run_for(8)
    assert first.model_frame().equals(again.model_frame())


def test_reuse_and_consume_take_at_most_the_stock_and_keep_the_balance():
    model = CityModel(n_citizens=500, rng=13)
    model.run_for(3)
    node = model.node_ids[int(np.argmax(model.neighborhoods.waste_stock_kg))]
    there = model.neighborhoods.waste_stock_kg[model.node_index(node)]
    taken = model.reuse_waste([there, there], nodes=[node, node])  # asks twice the stock
    assert taken == pytest.approx(there)
    assert model.neighborhoods.waste_stock_kg[model.node_index(node)] == 0.0
    model.consume_waste(1.0)  # 1 kg from every node, at most what each holds
    with pytest.raises(ValueError, match="non-negative"):
        model.reuse_waste(-1.0, nodes=node)
    model.step()
    assert abs(model.waste_balance_error_kg) < 1e-6
    assert model.waste_reused_kg == pytest.approx(there)


def test_mesa_batch_run_works_on_the_model():
    import multiprocessing

    import mesa

    method = multiprocessing.get_start_method(allow_none=True)
    try:  # batch_run sets the start method for the whole process; put it back afterwards
        rows = mesa.batch_run(
            CityModel,
            parameters={"n_citizens": 200, "concern_confidence": [0.1, 0.3]},
            rng=[1],
            max_steps=5,
            display_progress=False,
            number_processes=1,
        )
    finally:
        multiprocessing.set_start_method(method, force=True)
    assert len(rows) == 2
    assert {row["concern_confidence"] for row in rows} == {0.1, 0.3}
    assert all(row["Step"] == 5 and 0 <= row["mean_concern"] <= 1 for row in rows)


def test_tuple_node_ids_work_for_waste_taking_and_scenarios():
    G = nx.grid_2d_graph(5, 5)
    for node in G:
        G.nodes[node]["pos"] = (float(node[0]), float(node[1]))
    model = CityModel(G, n_citizens=300, rng=2, scenarios=["story-roles", "harmony-festival"])
    model.run_for(60)
    stock = model.neighborhoods.waste_stock_kg
    before = stock[model.node_index((1, 1))], stock[model.node_index((0, 1))]
    taken = model.reuse_waste([1.0, 2.0], nodes=[(1, 1), (0, 1)])
    assert taken == pytest.approx(min(before[0], 1.0) + min(before[1], 2.0))
    model.reuse_waste(0.5, nodes=(2, 2))  # one tuple id, not two ints
    model.step()
    assert abs(model.waste_balance_error_kg) < 1e-6


@pytest.mark.parametrize(
    ("wrong", "suggestion"),
    [
        ("n_citizen", "n_citizens"),
        ("record_neighbourhoods", "record_neighborhoods"),
        ("scenario", "scenarios"),
    ],
)
def test_misspelled_model_arguments_name_the_right_one(wrong, suggestion):
    with pytest.raises(TypeError, match=f"did you mean '{suggestion}'"):
        CityModel(n_citizens=10, **{wrong: 1})


def test_seed_is_a_deprecated_alias_of_rng_as_in_mesa():
    # Mesa 3.5 takes rng= and still accepts seed= with a FutureWarning; so do we.
    with pytest.warns(FutureWarning, match="use rng= instead"):
        old = CityModel(n_citizens=100, seed=3)
    new = CityModel(n_citizens=100, rng=3)
    assert old.seed == new.seed == 3
    old.run_for(3)
    new.run_for(3)
    assert old.model_frame().equals(new.model_frame())
    with pytest.raises(ValueError, match="either rng= or seed="):
        CityModel(n_citizens=100, seed=3, rng=3)


def test_initial_pollution_is_the_steady_state_of_industrial_emissions():
    model = CityModel(
        n_citizens=200,
        rng=1,
        pollution_diffusion=0.0,
        waste_emission_factor=0.0,
        landfill_emission_factor=0.0,
    )
    start = model.neighborhoods.pollution.copy()
    model.pipeline.remove("organism")
    model.run_for(30)
    np.testing.assert_allclose(model.neighborhoods.pollution, start, rtol=1e-12)


@pytest.mark.parametrize("dispersal", [0.3, 0.5])
def test_organism_dispersal_conserves_biomass_at_any_allowed_rate(dispersal):
    model = CityModel(
        n_citizens=200,
        rng=1,
        organism_growth_rate=0.0,
        organism_waste_uptake=0.0,
        organism_dispersal=dispersal,
    )
    model.deploy_organism(model.node_ids[5], 100.0)
    model.run_for(30)
    biomass = model.neighborhoods.organism_biomass
    assert biomass.sum() == pytest.approx(100.0, rel=1e-9)
    assert biomass.min() >= 0.0


def test_default_city_pollution_sits_in_published_urban_pm25_ranges():
    # Calibration (docs/model.md 7.5a): homes near the background (WHO 2021 interim
    # targets 4-3, 10-15 µg/m³), industrial nodes between interim targets 2 and 1
    # (25-35 µg/m³, the hottest a little above), an area-weighted city mean of a
    # moderately polluted city, and the zone contrast kept. Measured on day 365:
    # homes 10.0-13.2, industry 19.0-41.3 (median 25.6), city mean 12.5.
    model = CityModel(n_citizens=1000, rng=0, record_neighborhoods=False)
    model.run_for(365)
    hoods = model.neighborhoods
    home = hoods.pollution[hoods.zone == "residential"]
    industry = hoods.pollution[hoods.zone == "industrial"]
    assert home.min() >= 10.0 and home.max() < 15.0
    assert industry.min() > 15.0 and industry.max() < 50.0
    assert 20.0 < np.median(industry) < 35.0
    assert np.median(industry) > 2 * np.median(home)
    assert 10.0 < model.mean_pollution < 20.0


def test_intensive_outputs_are_means_weighted_by_what_they_average():
    # On cells of unequal area and population, the recorded pollution is the
    # area-weighted mean and the exposure the population-weighted one, and neither is
    # the unweighted mean over nodes (which changes when the city is cut differently).
    from waste_harmony.city import organic_city
    from waste_harmony.recording import OUTPUTS

    city = organic_city(80, seed=5)
    rng = np.random.default_rng(0)
    for node in city.nodes:
        city.nodes[node]["area_km2"] = float(rng.uniform(0.05, 1.0))
    model = CityModel(city, n_citizens=500, rng=2, record_neighborhoods=True)
    model.run_for(20)
    hoods = model.neighborhoods
    area, people, air = hoods.area_km2, hoods.population_weight, hoods.pollution
    assert model.mean_pollution == pytest.approx(float(area @ air / area.sum()), rel=1e-12)
    assert model.pollution_exposure == pytest.approx(float(people @ air / people.sum()), rel=1e-12)
    assert abs(model.mean_pollution - air.mean()) > 1e-3 * air.mean()
    # Every output says what it is a mean of, unless it is a total or a category.
    totals = {"kg", "kg per day", "category"}
    for output in OUTPUTS:
        assert bool(output.mean_over) is (output.unit not in totals), output.name
    # The neighbourhood frame carries the area that weighs each node's concentration.
    frame = model.neighborhood_frame()
    last = frame[frame["day"] == 20]
    weighted = float((last["pollution"] * last["area_km2"]).sum() / last["area_km2"].sum())
    assert weighted == pytest.approx(model.mean_pollution, rel=1e-12)
