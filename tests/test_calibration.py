"""Calibration (regression ABC, ABC-SMC) and scenario discovery (PRIM): known answers, features."""

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from waste_harmony import experiments
from waste_harmony.experiments import abc
from waste_harmony.experiments.calibration import weighted_quantile

# Normal mean with known variance: y_1..y_m ~ N(mu, 1), prior mu ~ N(0, 3²). The sample
# mean is sufficient, so the ABC simulator returns it: ybar ~ N(mu, 1/m).
M_OBS = 4
PRIOR_SD = 3.0


def exact_posterior(ybar: float) -> tuple[float, float]:
    precision = 1 / PRIOR_SD**2 + M_OBS
    return ybar * M_OBS / precision, float(np.sqrt(1 / precision))


def normal_simulator(key: int):
    def simulate(t: int, theta: np.ndarray) -> np.ndarray:
        rng = np.random.default_rng([key, t])
        noise = rng.normal(0.0, 1 / np.sqrt(M_OBS), (len(theta), 1, 1))
        return theta[:, None, :] + noise

    return simulate


def summarise(gen: abc.Generation, level: float = 0.9) -> tuple[float, float, float]:
    x, w = gen.theta[:, 0], gen.weight
    low, high = weighted_quantile(x, w, [(1 - level) / 2, (1 + level) / 2])
    return float(np.average(x, weights=w)), float(low), float(high)


def test_conjugate_normal_posterior_matches_closed_form():
    """ABC posterior mean within 0.1 and 90 % interval ends within 0.15 posterior sd."""
    ybar = 1.3
    out = abc.abc_smc(
        normal_simulator(5),
        {"mu": stats.norm(0, PRIOR_SD)},
        np.array([ybar]),
        population_size=1000,
        generations=7,
        seed=1,
    )
    mean, low, high = summarise(out.generations[-1])
    m, s = exact_posterior(ybar)
    z = stats.norm.ppf(0.95)
    assert abs(mean - m) < 0.1 * s
    assert abs(low - (m - z * s)) < 0.15 * s
    assert abs(high - (m + z * s)) < 0.15 * s
    # every generation keeps a healthy effective sample size (no collapse) ...
    for g in out.generations:
        assert g.accepted.sum() >= 1000 and g.ess > 0.5 * 1000, (g.ess, g.accepted.sum())
    # ... while the tolerances shrink
    raw = [g.epsilon / np.sqrt(g.distance_weights[0]) for g in out.generations]
    assert all(b < a for a, b in itertools.pairwise(raw[1:]))  # raw[0] = inf
    assert raw[-1] < 0.15 * s  # the tolerance ends well below the posterior sd


def test_stop_rules():
    prior = {"mu": stats.norm(0, PRIOR_SD)}
    out = abc.abc_smc(
        normal_simulator(6), prior, np.array([0.5]), population_size=200, max_proposals=1500,
        seed=2,
    )  # fmt: skip
    proposed = sum(len(g.theta) for g in out.generations) + out.discarded
    assert out.stopped == "budget" and proposed <= 1500
    out = abc.abc_smc(
        normal_simulator(6), prior, np.array([0.5]), population_size=200, seed=2,
        min_acceptance=0.3, max_proposals=100_000,
    )  # fmt: skip
    assert out.stopped == "min_acceptance"
    assert out.generations[-2].acceptance_rate >= 0.3
    with pytest.raises(ValueError, match="stop"):
        abc.abc_smc(normal_simulator(6), prior, np.array([0.5]), population_size=20, seed=1)


def test_simulation_based_calibration_coverage():
    """Talts et al. 2018: 90 % intervals cover the true mu in a binomial band over 30 sets."""
    rng = np.random.default_rng(2024)
    n_sets, covered = 30, 0
    for k in range(n_sets):
        mu = rng.normal(0, PRIOR_SD)
        ybar = rng.normal(mu, 1 / np.sqrt(M_OBS))
        out = abc.abc_smc(
            normal_simulator(100 + k),
            {"mu": stats.norm(0, PRIOR_SD)},
            np.array([ybar]),
            population_size=400,
            generations=5,
            seed=k,
        )
        _, low, high = summarise(out.generations[-1])
        covered += low <= mu <= high
    band = stats.binom.ppf([0.005, 0.995], n_sets, 0.9)
    assert band[0] <= covered <= band[1], (covered, band)


def test_proposals_respect_priors_and_constraint():
    priors = abc.make_priors({"a": (0, 1), "b": stats.beta(2, 2)})
    rng = np.random.default_rng(0)
    theta = abc.sample_prior(priors, 200, rng, constraint=lambda p: p["a"] < p["b"])
    assert (theta[:, 0] < theta[:, 1]).all()
    cov = abc.perturbation_covariance(theta, np.ones(len(theta)))
    ordered = lambda p: p["a"] < p["b"]  # noqa: E731
    moved = abc.propose(theta, np.ones(len(theta)), cov, 300, rng, priors, ordered)
    assert (moved[:, 0] < moved[:, 1]).all() and (moved >= 0).all() and (moved <= 1).all()


def test_bad_priors_and_observations_are_explained():
    with pytest.raises(ValueError, match="low < high"):
        abc.make_priors({"a": (1, 0)})
    with pytest.raises(TypeError, match="scipy.stats"):
        abc.make_priors({"a": "uniform"})
    obs = pd.DataFrame({"day": [3], "variable": ["mean_concern"]})
    with pytest.raises(ValueError, match="value"):
        experiments.calibrate(priors={"concern_convergence": (0, 0.5)}, observed=obs, budget=40)
    obs = pd.DataFrame({"day": [3], "variable": ["mean_concern"], "value": [0.4]})
    prior = {"concern_convergence": (0, 0.5)}
    with pytest.raises(ValueError, match="less than one generation"):
        experiments.calibrate(
            priors=prior, observed=obs, budget=4, population_size=8, method="abc-smc"
        )
    with pytest.raises(ValueError, match="too small for a reference table"):
        experiments.calibrate(priors=prior, observed=obs, budget=10)
    with pytest.raises(ValueError, match="population_size apply to method='abc-smc' only"):
        experiments.calibrate(priors=prior, observed=obs, budget=40, population_size=8)
    with pytest.raises(ValueError, match="accept applies to method='abc-reg'"):
        experiments.calibrate(priors=prior, observed=obs, budget=40, accept=8, method="abc-smc")
    with pytest.raises(ValueError, match="method must be 'abc-reg'"):
        experiments.calibrate(priors=prior, observed=obs, budget=40, method="smc")
    with pytest.raises(ValueError, match="both calibrated"):
        experiments.calibrate(priors=prior, observed=obs, budget=40, concern_convergence=0.2)


CITY = {"n_citizens": 50, "days": 6}
OBSERVED = pd.DataFrame(
    {
        "day": [3, 6, 6],
        "variable": ["mean_concern", "recycling_rate", "concern"],
        "value": [0.45, 0.25, 0.4],
        "node": [None, None, 0],
    }
)


def small_calibration(method="abc-reg", **kwargs):
    settings = {
        "priors": {"recycling_weight_concern": (0.0, 8.0)},
        "observed": OBSERVED,
        "budget": 16 if method == "abc-smc" else 40,
        "seed": 3,
        "method": method,
        "check": False,
        "progress": False,
        **({"population_size": 8} if method == "abc-smc" else {}),
        **CITY,
    }
    return experiments.calibrate(**{**settings, **kwargs})


METHODS = pytest.mark.parametrize("method", ["abc-reg", "abc-smc"])


@pytest.mark.slow
@METHODS
def test_same_seed_same_posterior_serial_and_pool(tmp_path, method):
    serial = small_calibration(method, executor="serial")
    pool = small_calibration(method, executor=None, workers=2, out=tmp_path / "pool")
    pd.testing.assert_frame_equal(serial.posterior, pool.posterior)
    pd.testing.assert_frame_equal(serial.generations, pool.generations)
    loaded = experiments.load_calibration(tmp_path / "pool")
    pd.testing.assert_frame_equal(loaded.posterior, pool.posterior)
    assert loaded.manifest["seed"] == 3 and "versions" in loaded.manifest
    assert loaded.method == method
    low, high = loaded.credible_interval("recycling_weight_concern", 0.9)
    assert 0 <= low <= high <= 8
    table = loaded.contraction()
    assert list(table["parameter"]) == ["recycling_weight_concern"]
    assert table["width_ratio"].between(0, 1.5).all()


@pytest.mark.slow
@METHODS
def test_same_seed_same_posterior_on_dask(tmp_path, dask_client, method):
    serial = small_calibration(method, executor="serial")
    dask = small_calibration(method, executor=dask_client, out=tmp_path / "dask")
    pd.testing.assert_frame_equal(serial.posterior, dask.posterior)
    pd.testing.assert_frame_equal(serial.generations, dask.generations)


def test_resume_reloads_the_reference_table(tmp_path):
    """abc-reg: a finished batch file is reloaded, a missing one simulated again, same posterior."""
    out = tmp_path / "cal"
    first = small_calibration(executor="serial", out=out)
    batch = out / "table" / "table-0000.parquet"
    stamp = batch.stat().st_mtime_ns
    with pytest.raises(FileExistsError, match="resume=True"):
        small_calibration(executor="serial", out=out)
    (out / "particles.parquet").unlink()  # as if interrupted after the table
    again = small_calibration(executor="serial", out=out, resume=True)
    pd.testing.assert_frame_equal(first.particles, again.particles)
    assert batch.stat().st_mtime_ns == stamp
    (out / "particles.parquet").unlink()
    batch.unlink()  # as if interrupted inside the batch
    again = small_calibration(executor="serial", out=out, resume=True)
    pd.testing.assert_frame_equal(first.particles, again.particles)
    with pytest.raises(ValueError, match="different calibration"):
        small_calibration(executor="serial", out=out, resume=True, seed=4)


def test_resume_reloads_finished_generations(tmp_path):
    out = tmp_path / "cal"
    first = small_calibration("abc-smc", executor="serial", out=out)
    run_folder = next((out / "batch-000" / "runs").iterdir())
    stamp = (run_folder / "manifest.json").stat().st_mtime_ns
    with pytest.raises(FileExistsError, match="resume=True"):
        small_calibration("abc-smc", executor="serial", out=out)
    (out / "particles.parquet").unlink()  # as if interrupted before the end
    again = small_calibration("abc-smc", executor="serial", out=out, resume=True)
    pd.testing.assert_frame_equal(first.posterior, again.posterior)
    assert (run_folder / "manifest.json").stat().st_mtime_ns == stamp
    with pytest.raises(ValueError, match="different calibration"):
        small_calibration("abc-smc", executor="serial", out=out, resume=True, seed=4)


def test_resume_inside_a_batch_reads_only_the_earlier_runs(tmp_path):
    """Runs finished before an interruption are read from their files, the rest reported."""
    import json
    import shutil

    from waste_harmony.batch.store import write_experiment_manifest

    out = tmp_path / "cal"
    first = small_calibration("abc-smc", executor="serial", out=out)
    (out / "particles.parquet").unlink()
    batch = out / "batch-001"
    for run in sorted((batch / "runs").iterdir())[::2]:  # half the batch never ran
        shutil.rmtree(run)
    manifest = json.loads((batch / "experiment.json").read_text())
    # as the library leaves it when interrupted (an edit by hand would be refused)
    write_experiment_manifest(batch, {**manifest, "status": "interrupted"})
    again = small_calibration("abc-smc", executor="serial", out=out, resume=True)
    pd.testing.assert_frame_equal(first.particles, again.particles)


def test_worker_statistics_equal_the_values_in_the_files(tmp_path):
    from waste_harmony.batch.runner import Execution, experiment
    from waste_harmony.batch.store import load_experiment
    from waste_harmony.experiments.calibration import RunStatistics, check_observed

    obs = check_observed(OBSERVED)
    got = {}
    result = experiment(
        "sweep",
        None,
        points=[{"recycling_weight_concern": 1.0}, {"recycling_weight_concern": 6.0}],
        seeds=2,
        days=6,
        root_seed=2,
        fixed={"n_citizens": 50},
        execution=Execution(out=tmp_path / "s", executor="serial", progress=False),
        statistics=RunStatistics(obs),
        on_outcome=lambda task, outcome: got.update(
            {(task.point, task.replicate): outcome.statistics[0]}
        ),
    )
    assert sorted(got) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    saved = load_experiment(tmp_path / "s")
    model = saved.load(["mean_concern", "recycling_rate"], where={"day": [3, 6]})
    hoods = saved.load(["concern"], kind="neighborhoods", where={"day": 6, "node": 0})
    for (point, replicate), values in got.items():
        run = model[(model["point"] == point) & (model["replicate"] == replicate)]
        hood = hoods[(hoods["point"] == point) & (hoods["replicate"] == replicate)]
        expected = {
            ("mean_concern", 3): run.loc[run["day"] == 3, "mean_concern"].item(),
            ("recycling_rate", 6): run.loc[run["day"] == 6, "recycling_rate"].item(),
            ("concern", 6): hood["concern"].item(),
        }
        for i, row in obs.iterrows():
            assert values[i] == expected[(row["variable"], row["day"])]
    assert result.n_finished == 4


@METHODS
def test_unrecorded_observed_variable_is_named(method):
    observed = pd.DataFrame({"day": [3], "variable": ["no_such_output"], "value": [1.0]})
    with pytest.raises(KeyError, match="no_such_output"):
        small_calibration(method, executor="serial", observed=observed)


def test_predictive_bands_cover_observed_variables():
    cal = small_calibration(executor="serial")
    bands = cal.predictive(6, executor="serial", progress=False)
    assert set(bands["variable"]) == {"mean_concern", "recycling_rate", "concern"}
    assert (bands["low"] <= bands["median"]).all() and (bands["median"] <= bands["high"]).all()
    assert set(bands.loc[bands["variable"] == "concern", "node"]) == {"0"}
    for fig in (cal.plot_marginals(), cal.plot_pairs(), cal.plot_predictive(bands)):
        assert fig.axes


@pytest.mark.slow
@METHODS
def test_recovery_on_the_city_model(method):
    """Synthetic observations from a known recycling weight: the 90 % interval holds it."""
    truth = 3.0
    run = experiments.run(n_citizens=80, days=40, seed=11, recycling_weight_concern=truth)
    frame = run.model_frame.set_index("day")  # matched by the day value, not by position
    days = [10, 20, 30, 40]
    observed = pd.concat(
        pd.DataFrame({"day": days, "variable": v, "value": frame.loc[days, v].to_numpy()})
        for v in ["recycling_rate", "mean_concern"]
    )
    cal = experiments.calibrate(
        priors={"recycling_weight_concern": (0.0, 8.0)},
        observed=observed,
        days=40,
        n_citizens=80,
        budget=300,
        method=method,
        seed=2,
        check=False,
        executor="serial",
        progress=False,
        **({"population_size": 50} if method == "abc-smc" else {}),
    )
    assert (cal.generations["ess"] > 25).all()  # no collapse of the population
    low, high = cal.credible_interval("recycling_weight_concern", 0.9)
    assert low <= truth <= high
    assert cal.contraction()["width_ratio"].iloc[0] < (0.6 if method == "abc-smc" else 0.4)


def test_prim_finds_a_planted_box():
    rng = np.random.default_rng(7)
    x = pd.DataFrame(rng.uniform(0, 1, (3000, 4)), columns=list("abcd"))
    y = (x["a"].between(0.2, 0.6)) & (x["c"] > 0.5)
    box = experiments.prim(x, y, threshold=0.9)
    assert box.coverage >= 0.9 and box.density >= 0.9
    assert set(box.restricted) <= {"a", "c"} and "a" in box.restricted
    assert box.importance["parameter"].iloc[:2].tolist() in (["a", "c"], ["c", "a"])
    assert box.limits.loc["a", "low"] == pytest.approx(0.2, abs=0.05)
    assert box.limits.loc["c", "low"] == pytest.approx(0.5, abs=0.05)
    traj = box.trajectory
    assert traj["coverage"].is_monotonic_decreasing and traj["density"].iloc[-1] > 0.9
    assert box.plot_tradeoff().axes
    with pytest.raises(ValueError, match="never true"):
        experiments.prim(x, np.zeros(len(x), bool))


def test_discover_on_a_sweep():
    result = experiments.sweep(
        parameters=experiments.latin_hypercube(
            {"recycling_weight_concern": (0.0, 8.0), "mobility": (0.0, 1.0)}, 24, seed=1
        ),
        n_citizens=40,
        days=5,
        root_seed=1,
        executor="serial",
        progress=False,
    )
    box = experiments.discover(
        result, lambda f: f["recycling_rate"].iloc[-1] > 0.3, threshold=0.8, min_support=0.1
    )
    assert set(box.limits.index) == {"recycling_weight_concern", "mobility"}
    assert 0 < box.coverage <= 1


@METHODS
def test_model_constraints_reject_proposals(method):
    """The model's joint constraint (initial concern sd vs mean) holds for every parameter set."""
    cal = experiments.calibrate(
        priors={"initial_concern_sd": (0.01, 0.45)},
        observed=pd.DataFrame({"day": [3], "variable": ["mean_concern"], "value": [0.1]}),
        initial_concern_mean=0.1,
        n_citizens=30,
        days=3,
        budget=24,
        method=method,
        seed=1,
        check=False,
        executor="serial",
        progress=False,
        **({"population_size": 8} if method == "abc-smc" else {}),
    )
    limit = np.sqrt(0.1 * 0.9)
    assert (cal.particles["initial_concern_sd"] < limit).all()
    check = experiments.calibration.model_violations(None, {"initial_concern_mean": 0.1})
    assert check({"initial_concern_sd": 0.4}) and not check({"initial_concern_sd": 0.1})


def test_regression_posterior_is_computed_from_the_saved_table(tmp_path):
    """abc-reg's posterior is regression_posterior on its reference table (what benchmarks use)."""
    from waste_harmony.experiments import abcreg

    cal = small_calibration(executor="serial", out=tmp_path / "cal")
    table = pd.read_parquet(tmp_path / "cal" / "table" / "table-0000.parquet")
    stats_ = table[[f"s{j}" for j in range(len(cal.observed))]].to_numpy()
    post = abcreg.regression_posterior(
        table[["recycling_weight_concern"]].to_numpy(), stats_, cal.observed["value"], cal.priors
    )
    np.testing.assert_allclose(
        cal.posterior["recycling_weight_concern"], post.theta[:, 0], rtol=0, atol=0
    )
    assert cal.generations["runs"].sum() == 40 and len(cal.particles.query("generation == 0")) == 40


def test_check_runs_first_and_is_printed(capsys):
    cal = small_calibration(executor="serial", check=True, progress=True, budget=30)
    printed = capsys.readouterr().out
    assert printed.index("Identifiability check") >= 0
    assert "recycling_weight_concern" in printed
    assert cal.identifiability is not None
    assert cal.manifest["identifiability"][0]["parameter"] == "recycling_weight_concern"
