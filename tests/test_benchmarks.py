"""The benchmark script runs and reports its fields; the per-agent baseline follows the rules.

No timing assertions: speed is measured by ``benchmarks/bench_model.py``, never asserted.
"""

import json
import math

import numpy as np
import pytest

from benchmark_modules import load_benchmark
from waste_harmony import CityModel
from waste_harmony.city import grid_city

bench = load_benchmark("bench_model")
baseline = load_benchmark("baseline")


@pytest.mark.slow
def test_quick_mode_reports_every_field(tmp_path, capsys):
    out = tmp_path / "bench.json"
    report = bench.main(["--quick", "--json", str(out)])
    assert json.loads(out.read_text()) == json.loads(json.dumps(report))
    assert [row["n"] for row in report["sizes"]] == [500, 2_000]
    for row in report["sizes"]:
        assert row["fresh_process"] is True
        assert row["nodes"] >= 5
        assert row["build_s"] > 0 and row["sec_per_day"] > 0 and row["cpu_sec_per_day"] > 0
        assert len(row["sec_per_day_all"]) == 2
        assert row["peak_rss_mib"] >= row["import_rss_mib"] > 0
        recording = row["recording"]
        assert recording["no_recording_cpu_sec_per_day"] > 0
        assert row["recording_overhead"] == pytest.approx(
            recording["cpu_sec_per_day"] / recording["no_recording_cpu_sec_per_day"]
        )
    pair = report["sizes"][0]["pair"]
    assert len(pair["baseline_sec_per_day_all"]) == len(pair["sec_per_day_all"]) == 2
    assert pair["speed_ratio"] == pytest.approx(
        pair["baseline_cpu_sec_per_day"] / pair["cpu_sec_per_day"]
    )
    assert pair["speed_ratio_wall"] == pytest.approx(
        pair["baseline_sec_per_day"] / pair["sec_per_day"]
    )
    assert "pair" not in report["sizes"][1]
    assert math.isfinite(report["scaling_exponent"])
    assert math.isfinite(report["scaling_exponent_cpu"])
    assert report["year"]["days"] == 10 and report["year"]["run_cpu_s"] > 0
    table = capsys.readouterr().out
    assert "| 2,000 |" in table and "speed ratio" in table and "scaling exponent" in table


def test_grid_cities_have_about_one_node_per_hundred_citizens():
    assert bench.grid_shape(1_000_000) == (100, 100)
    assert bench.grid_shape(100_000) == (25, 40)
    assert bench.grid_shape(10_000) == (10, 10)
    assert math.prod(bench.grid_shape(1_000)) == 10
    for n in (500, 1_300, 2_000, 37_000):
        rows, cols = bench.grid_shape(n)
        assert rows * cols >= 5 and cols <= 4 * rows + 1
        assert abs(rows * cols - n / 100) <= max(2, 0.1 * n / 100)


def test_scaling_exponent_is_the_log_log_slope_within_the_range():
    points = [(n, 3e-7 * n**1.1) for n in (1_000, 10_000, 100_000, 1_000_000)]
    points[0] = (1_000, 1.0)  # outside the default range: ignored
    assert bench.scaling_exponent(points) == pytest.approx(1.1)
    assert bench.scaling_exponent(points[:2]) is None


def _run_both(n, days, seed, **params):
    city = grid_city(6, 5, seed=seed)
    base = baseline.BaselineModel(city, n_citizens=n, rng=seed, grievance=True, **params)
    # The baseline's citizens are one person each with their own threshold and random
    # encounters: the model's former rules (cohorts=False).
    model = CityModel(city, n_citizens=n, rng=seed, cohorts=False, **params)
    model.open_grievance("test")
    shares = []
    for _ in range(days):
        base.step()
        model.step()
        shares.append(float(np.mean(model.citizens.recycled)))
    # The baseline records from day 1; drop CityModel's day-0 row to align the rows.
    frame = model.model_frame().loc[1:].reset_index(drop=True)
    return base.datacollector.get_model_vars_dataframe(), frame, np.array(shares)


def test_baseline_is_a_mesa_model_of_per_agent_citizens():
    base = baseline.BaselineModel(grid_city(4, 5, seed=1), n_citizens=300, rng=1)
    assert len(base.agents_by_type[baseline.BaselineCitizen]) == 300
    assert len(base.agents_by_type[baseline.BaselineNeighborhood]) == 20
    citizen = base.agents_by_type[baseline.BaselineCitizen][0]
    assert citizen.cell is citizen.home.cell and citizen not in citizen.peers
    assert len(citizen.peers) == len(citizen.home.residents) - 1


def test_baseline_waste_averages_n_times_per_capita_and_balances():
    n, days = 2_000, 30
    base = baseline.BaselineModel(grid_city(6, 5, seed=4), n_citizens=n, rng=4)
    stocks = [sum(h.waste_stock_kg for h in base.hoods)]
    for _ in range(days):
        base.step()
        stocks.append(sum(h.waste_stock_kg for h in base.hoods))
    df = base.datacollector.get_model_vars_dataframe()
    # Daily total: sd = sqrt(n) * 0.74 * cv = 16.5 kg on 1,480 kg; 30-day mean: 0.2 %.
    assert df["waste_generated_kg"].mean() / n == pytest.approx(0.74, rel=0.012)
    change = np.diff(stocks)
    balance = df["waste_generated_kg"] - df["waste_recycled_kg"] - df["waste_consumed_kg"] - change
    assert np.abs(balance).max() < 1e-6 * df["waste_generated_kg"].max()


@pytest.mark.parametrize("seed", [0, 3])
def test_baseline_recycling_and_concern_match_the_vectorised_model(seed):
    # Same parameters, same city: the two implementations differ only in sampling
    # (random matching vs sequential encounters; group vs per-citizen waste draws).
    # Over days 10-40 the recycling share's sampling s.d. is about 0.01 per day and
    # the observed gap between the models is below 0.01; 0.025 leaves room.
    n = 3_000
    base, model, shares = _run_both(n, 40, seed)
    assert 0.4 < shares[10:].mean() < 0.8
    assert base["recycling_share"][10:].mean() == pytest.approx(shares[10:].mean(), abs=0.025)
    assert base["recycling_rate"][10:].mean() == pytest.approx(
        model["recycling_rate"][10:].mean(), abs=0.01
    )
    # Mean concern: both start from Beta(0.45, s.d. 0.2) samples of n (s.d. 0.004).
    assert base["mean_concern"].iloc[-1] == pytest.approx(model["mean_concern"].iloc[-1], abs=0.02)
    # Pollution follows the same waste stock and emissions: within 2 %.
    assert base["mean_pollution"].iloc[-1] == pytest.approx(
        model["mean_pollution"].iloc[-1], rel=0.02
    )


def test_baseline_protest_cascade_tracks_the_vectorised_model():
    # Low thresholds: a Granovetter cascade rises over a few days, then fades as
    # encounters pull protesters' concern below the minimum. The peaks agree.
    base, model, _ = _run_both(10_000, 8, 5, protest_threshold_mean=0.1)
    peak_base, peak_model = base["protest_share"].max(), model["protest_share"].max()
    assert peak_model > 0.15
    assert peak_base == pytest.approx(peak_model, abs=0.04)
    assert base["protest_share"].iloc[0] == pytest.approx(model["protest_share"].iloc[0], abs=0.015)


@pytest.mark.parametrize(
    "places",
    [
        np.repeat(np.arange(50), 40),  # grouped, as homes are
        np.random.default_rng(1).integers(0, 300, 5_000),  # scattered, as locations are
        np.random.default_rng(2).integers(-5, 5, 1_000),  # negative labels: plain path
        np.random.default_rng(3).integers(0, 2**20, 1_000),  # labels past 2**16: plain path
        np.random.default_rng(4).integers(0, 3_000, 300_000),  # past _RADIX_MAX: grouping only
    ],
)
def test_fast_matching_sort_equals_the_stable_argsort(places):
    # Speed-up of random_matching made for the benchmark: it must not change any result.
    from waste_harmony.dynamics.opinion import _sort_keys

    rng = np.random.default_rng(0)
    keys = places + rng.random(len(places))
    keys[::7] = places[::7] + 0.5  # ties inside places: stability decides their order
    expected = np.argsort(keys, kind="stable")
    assert np.array_equal(_sort_keys(places, keys), expected)


def _reference_matching(places, rng):
    # The plain statement of the rule: shuffle by random keys, group by place (stable
    # sort), pair members at even offsets within their place with the next member.
    keys = places + rng.random(len(places))
    order = np.argsort(keys, kind="stable")
    sorted_places = places[order]
    first, second = [], []
    start = 0
    for i in range(1, len(order) + 1):
        if i == len(order) or sorted_places[i] != sorted_places[start]:
            for lead in range(start, i - 1, 2):
                first.append(order[lead])
                second.append(order[lead + 1])
            start = i
    return np.array(first, dtype=np.int64), np.array(second, dtype=np.int64)


@pytest.mark.parametrize(
    "places",
    [
        np.repeat(np.arange(50), 41),  # grouped, odd-sized
        np.random.default_rng(1).integers(0, 300, 5_000),  # scattered, with empty labels
        np.random.default_rng(2).integers(-5, 5, 1_000),  # negative labels
        np.random.default_rng(3).integers(0, 2**20, 1_000),  # sparse, large labels
        np.array([0, 2, 2, 1, 1, 1]),  # sizes 1, 3, 2
        np.array([7]),
    ],
)
def test_fast_pairing_equals_the_plain_rule(places):
    # The pairing by run lengths (made for the benchmark) must not change any result.
    from waste_harmony.dynamics.opinion import random_matching

    for seed in range(3):
        got = random_matching(places, np.random.default_rng(seed))
        expected = _reference_matching(places, np.random.default_rng(seed))
        assert np.array_equal(got[0], expected[0]) and np.array_equal(got[1], expected[1])


def test_in_place_recycling_probability_equals_the_formula():
    from waste_harmony.dynamics.recycling import recycling_probability

    rng = np.random.default_rng(5)
    concern, norm, infra = rng.random(1_000), rng.random(1_000), rng.random(1_000)
    kw = dict(intercept=-3.0, weight_concern=3.0, weight_norm=2.0, weight_infrastructure=1.5)
    for c, n, i in [(concern, norm, infra), (concern, 0.0, infra), (0.3, 0.2, 0.9)]:
        expected = 1.0 / (
            1.0 + np.exp(-(-3.0 + 3.0 * np.asarray(c) + 2.0 * np.asarray(n) + 1.5 * np.asarray(i)))
        )
        got = recycling_probability(c, n, i, **kw)
        assert np.shape(got) == np.shape(expected)
        assert np.array_equal(got, expected)


def test_cached_access_gini_follows_changes_of_access():
    from waste_harmony.dynamics.inequality import gini

    model = CityModel(n_citizens=500, rng=2)
    model.step()
    assert model.biotech_access_gini == gini(model.neighborhoods.biotech_access, model.people)
    model.neighborhoods.biotech_access[:10] = 1.0  # in place, as a funding scenario might
    model.step()
    assert model.biotech_access_gini == gini(model.neighborhoods.biotech_access, model.people)
    assert model.model_frame()["biotech_access_gini"].diff().iloc[-1] != 0


@pytest.mark.slow
def test_checksum_benchmark_reports_every_field(tmp_path):
    checksums = load_benchmark("bench_checksums")
    report = checksums.main(["--runs", "4", "--chunks", "2", "--json", str(tmp_path / "c.json")])
    assert report["runs"] == 4 and report["damaged_found"] == 0
    for key in ("write_overhead_ratio", "hash_share_of_run", "resume_check_share_of_sweep"):
        assert math.isfinite(report[key]) and report[key] > 0


def test_diffusion_benchmark_reports_every_coefficient_and_the_former_sub_steps():
    diffusion_bench = load_benchmark("bench_diffusion")
    rows = diffusion_bench.measure(
        "fine10", "pollution_diffusion", (0.0125, 100.0), citizens=100, days=1, rounds=1, seed=0
    )
    assert [r["value"] for r in rows] == [0.0125, 100.0]
    # 50 m cells: max L_ii = 4 / 0.05² = 1600 per km², so ⌈D 1600 / 0.5⌉ former sub-steps
    # (one more than 40 and 320,000: the float 4 / 0.05² is a hair above 1600)
    assert [r["former_substeps"] for r in rows] == [41, 320_001]
    assert all(r["finite"] and r["cpu_s_per_day"] >= 0 for r in rows)
    assert rows[0]["ratio_to_default"] == 1.0
    former = diffusion_bench.former_cost("fine10", 100.0, cap=10, seed=0)
    assert former["former_substeps"] == 320_001 and former["extrapolated"] is True
