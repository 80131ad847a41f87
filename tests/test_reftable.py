"""Reference tables: statistics only, the same on every executor, resumed by batch."""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from waste_harmony import CityModel
from waste_harmony.experiments.calibration import RunStatistics, check_observed
from waste_harmony.experiments.reftable import simulate_table

OBSERVED = check_observed(
    pd.DataFrame(
        {"day": [3, 5], "variable": ["mean_concern", "recycling_rate"], "value": [0.4, 0.2]}
    )
)
THETAS = np.linspace(0.5, 6.0, 12)[:, None]


def table(folder, **kwargs):
    settings = {
        "names": ["recycling_weight_concern"],
        "thetas": THETAS,
        "statistics": RunStatistics(OBSERVED),
        "n_statistics": 2,
        "days": 5,
        "fixed": {"n_citizens": 40},
        "seed": 3,
        "batch_size": 5,
        "executor": "serial",
        "progress": False,
    }
    return simulate_table(None, folder=folder, **{**settings, **kwargs})


def test_statistics_equal_a_direct_run_and_nothing_else_is_written(tmp_path):
    result = table(tmp_path / "t")
    assert result.statistics.shape == (12, 2) and result.batches == 3 and not result.errors
    model = CityModel(
        n_citizens=40, rng=int(result.seeds[4]), recycling_weight_concern=THETAS[4, 0]
    )
    model.run_for(5)
    frame = model.model_frame()
    expected = [frame.loc[3, "mean_concern"], frame.loc[5, "recycling_rate"]]
    np.testing.assert_array_equal(result.statistics[4], expected)
    files = sorted(p.name for p in (tmp_path / "t").iterdir())
    assert files == [
        "table-0000.parquet",
        "table-0001.parquet",
        "table-0002.parquet",
        "timings.jsonl",
    ]


@pytest.mark.slow
def test_same_table_on_a_process_pool_and_after_a_resume(tmp_path):
    serial = table(tmp_path / "serial")
    pool = table(tmp_path / "pool", executor=None, workers=2, replicates=1)
    np.testing.assert_array_equal(serial.statistics, pool.statistics)
    np.testing.assert_array_equal(serial.seeds, pool.seeds)
    (tmp_path / "pool" / "table-0001.parquet").unlink()  # as if interrupted in batch 1
    stamp = (tmp_path / "pool" / "table-0000.parquet").stat().st_mtime_ns
    resumed = table(tmp_path / "pool")
    np.testing.assert_array_equal(serial.statistics, resumed.statistics)
    assert (tmp_path / "pool" / "table-0000.parquet").stat().st_mtime_ns == stamp


def failing_factory(rng=None, **kwargs):
    """A model that cannot be built for large weights (a failed run)."""
    if kwargs.get("recycling_weight_concern", 0) > 5:
        raise ValueError("too large")
    return CityModel(rng=rng, **kwargs)


def test_failed_runs_have_no_statistics_and_say_why(tmp_path):
    result = simulate_table(
        failing_factory,
        names=["recycling_weight_concern"],
        thetas=THETAS,
        statistics=RunStatistics(OBSERVED),
        n_statistics=2,
        days=5,
        fixed={"n_citizens": 40},
        seed=3,
        folder=tmp_path / "t",
        replicates=2,
        executor="serial",
        progress=False,
    )
    bad = THETAS[:, 0].repeat(2) > 5
    assert result.statistics.shape == (24, 2) and result.failed == bad.sum() == 4
    assert np.isnan(result.statistics[bad]).all() and np.isfinite(result.statistics[~bad]).all()
    assert all("ValueError: too large" in e for e in result.errors) and len(result.errors) == 4
    np.testing.assert_array_equal(result.theta[:, 0], THETAS[:, 0].repeat(2))


def worker_rss_mib(tables):
    """The worker's resident memory (MiB) when a run finishes: a 'statistic' for the test."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return np.array([int(line.split()[1]) / 1024])
    return np.array([np.nan])


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_a_worker_does_not_keep_the_models_of_finished_runs(tmp_path):
    """150 runs of a 200-citizen, 30-day model in one worker: its memory stays flat.

    Before ``batch.worker.release_memory`` each finished model stayed in reference cycles until a
    rare full collection, ~1.7 MB per run (about 250 MB over these runs).
    """
    result = simulate_table(
        None,
        names=["recycling_weight_concern"],
        thetas=np.full((150, 1), 3.0),
        statistics=worker_rss_mib,
        n_statistics=1,
        days=30,
        fixed={"n_citizens": 200},
        seed=1,
        folder=tmp_path / "t",
        workers=1,
        executor=None,
        progress=False,
    )
    rss = result.statistics[:, 0]
    assert np.isfinite(rss).all()
    assert rss[-1] - rss[20] < 40, rss[::10]


@pytest.mark.slow
def test_simulation_based_calibration_on_a_small_city(tmp_path):
    # Talts et al. (2018) on the city model itself, amortised as for regression ABC:
    # one reference table from the prior, then data sets with known truths calibrated
    # against it. Coverage of the 90 % intervals must fall in the 99 % binomial band.
    # 200 data sets: with 40 the band is 30-40 truths and one draw of data sets
    # decides (on the 40 used before even the linear-Gaussian posterior fitted on
    # 3,000 runs covered 34; docs/calibration.md, 'Coverage').
    from scipy import stats

    from waste_harmony.experiments import abc, abcreg
    from waste_harmony.experiments.calibration import weighted_quantile

    priors = {
        "recycling_intercept": stats.uniform(-5.0, 4.0),
        "initial_concern_mean": stats.uniform(0.2, 0.5),
    }
    days = [2, 4, 6]
    observed = check_observed(
        pd.DataFrame(
            [
                {"day": d, "variable": v, "value": 0.0}
                for v in ("recycling_participation", "mean_concern")
                for d in days
            ]
        )
    )

    def simulate(n, seed):
        theta = abc.sample_prior(priors, n, np.random.default_rng([seed, 0, 0]))
        return simulate_table(
            None, names=list(priors), thetas=theta, statistics=RunStatistics(observed),
            n_statistics=len(observed), days=6, fixed={"n_citizens": 60}, seed=seed,
            folder=tmp_path / str(seed), executor="serial", progress=False,
        )  # fmt: skip

    table_, sets = simulate(600, 1), simulate(200, 2)
    covered = np.zeros((len(sets.theta), 2), dtype=bool)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always", RuntimeWarning)
        for i, (truth, data) in enumerate(zip(sets.theta, sets.statistics, strict=True)):
            post = abcreg.regression_posterior(table_.theta, table_.statistics, data, priors)
            for j in range(2):
                low, high = weighted_quantile(post.theta[:, j], post.weight, [0.05, 0.95])
                covered[i, j] = low <= truth[j] <= high
    # A few data sets fall beyond what 600 runs reach (4 of 200 with these seeds): their
    # posterior is the unadjusted rejection sample, with a warning, and still counts.
    fallbacks = [w for w in said if "beyond what the simulations reach" in str(w.message)]
    assert len(fallbacks) <= 0.05 * len(sets.theta), len(fallbacks)
    low, high = stats.binom.ppf([0.005, 0.995], len(sets.theta), 0.9)
    assert ((covered.sum(axis=0) >= low) & (covered.sum(axis=0) <= high)).all(), covered.mean(0)
