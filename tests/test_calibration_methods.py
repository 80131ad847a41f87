"""The comparison harness's own candidates are right where the answer is known.

``benchmarks/calibration_methods.py`` scores each method on the city model; these tests
check the candidates it implements itself on a normal mean (six statistics
N(mu, 1), uniform prior far wider than the posterior: the exact posterior is
N(mean of the statistics, 1/6)), and that each spends no more than its budget.
"""

from types import SimpleNamespace

import numpy as np
import pytest
from scipy import stats

from benchmark_modules import load_benchmark

methods = load_benchmark("calibration_methods")

PRIORS = {"mu": stats.uniform(-5.0, 10.0)}
EXACT_SD = 1 / np.sqrt(6)


class NormalMean:
    """Six N(mu, 1) statistics per run, seeded per run; counts its runs."""

    def __init__(self) -> None:
        self.runs = 0

    def __call__(self, thetas: np.ndarray, seeds: np.ndarray) -> np.ndarray:
        self.runs += len(thetas)
        pairs = zip(thetas, seeds, strict=True)
        return np.array([np.random.default_rng(int(s)).normal(t[0], 1.0, 6) for t, s in pairs])


def observed(key: int) -> np.ndarray:
    return np.random.default_rng([7, key]).normal(0.7, 1.0, 6)


@pytest.mark.parametrize("key", [0, 4])
def test_synthetic_likelihood_recovers_the_exact_normal_posterior(key):
    """Price et al. (2018): with normal statistics BSL targets the exact posterior.

    2,000 chain steps of 20 runs; over keys 0-5 the mean was within 0.13 exact sd and
    the sd 0.97-1.16 of the exact one: tolerances 0.3 sd and [0.8, 1.3].
    """
    simulate, obs = NormalMean(), observed(key)
    budget = 100 + 20 * 2000
    sample, w = methods.bsl(simulate, SimpleNamespace(priors=PRIORS), obs, budget, key)
    mean = np.average(sample[:, 0], weights=w)
    sd = np.sqrt(np.average((sample[:, 0] - mean) ** 2, weights=w))
    assert simulate.runs <= budget
    assert abs(mean - obs.mean()) / EXACT_SD < 0.3
    assert 0.8 < sd / EXACT_SD < 1.3


def test_synthetic_likelihood_stays_within_a_small_budget():
    simulate = NormalMean()
    methods.bsl(simulate, SimpleNamespace(priors=PRIORS), observed(1), 1000, 1)
    assert 900 < simulate.runs <= 1000


def test_pyabc_stops_at_the_budget_and_keeps_its_last_generation(monkeypatch):
    """pyabc checks its budget only between generations: the harness stops it at it."""
    pytest.importorskip("pyabc")  # not a dependency of the library (pip install pyabc)
    case = SimpleNamespace(priors=PRIORS, names=["mu"])
    monkeypatch.setitem(methods.CASES, "normal", case)
    monkeypatch.setattr(
        methods, "_one", lambda job: np.random.default_rng(int(job[2])).normal(job[1][0], 1.0, 6)
    )
    obs = observed(0)
    sample, w, runs = methods.pyabc_smc("normal", obs, 1500, 1)
    assert runs == 1500
    assert len(sample) == 200 == len(w)  # a completed generation of population 200
    mean = np.average(sample[:, 0], weights=w)
    assert abs(mean - obs.mean()) / EXACT_SD < 0.5
