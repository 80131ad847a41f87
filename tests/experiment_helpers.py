"""Importable helpers for the experiments tests.

Worker processes (spawned process pools, Dask workers) must import what a task
refers to, so scenarios, factories and interventions used by the tests live here
rather than in the test modules: ``tests/`` is put on ``sys.path`` by pytest and on
``PYTHONPATH`` by the tests' fixtures, so spawned workers import this module too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from waste_harmony import CityModel
from waste_harmony.city import grid_city
from waste_harmony.scenarios import Scenario

__all__ = [
    "BUILD_LOG_ENV",
    "Pulse",
    "count_and_build",
    "dying_model",
    "failing_model",
    "interrupting_model",
    "ishigami",
    "linear",
    "no_intervention",
    "pulse_intervention",
    "small_model",
    "square_city",
]

#: Environment variable naming a file that :func:`count_and_build` appends to.
BUILD_LOG_ENV = "WASTE_HARMONY_TEST_BUILD_LOG"


@dataclass
class Pulse(Scenario):
    """A tiny scenario with a one-off future event, a recurring event and a rule.

    On ``day`` it releases organism biomass at a random node; every ``every`` days
    from ``start_day`` it raises the concern of a random tenth of the citizens; its
    rule adds a little extra waste at random nodes each day. All randomness is
    drawn from ``model.rng``, so copying a model mid-run must copy the generator.
    """

    name = "test-pulse"
    description = "test scenario: one-off release, recurring concern pulses, waste rule"
    day: int = 40
    start_day: int = 5
    every: int = 7
    boost: float = 0.05

    def setup(self, model):
        self.schedule(self.release, day=self.day)
        self.schedule_every(self.pulse, start_day=self.start_day, interval_days=self.every)
        self.add_rule("test_pulse_waste", self.extra_waste, before="waste")
        self.pulses = 0

    def release(self):
        node = self.model.node_ids[int(self.model.rng.integers(self.model.n_nodes))]
        self.model.deploy_organism(node, 50.0)

    def pulse(self):
        rows = self.model.rng.random(self.model.n_citizens) < 0.1
        self.model.nudge_concern(rows, self.boost)
        self.pulses += 1
        self.log("pulse", count=self.pulses)

    def extra_waste(self, model):
        hoods = model.neighborhoods
        hoods.extra_waste_kg[:] = model.rng.random(model.n_nodes) * 0.5


def square_city(side: int = 4):
    """A small grid city (``side`` × ``side`` nodes)."""
    return grid_city(side, side, seed=1)


def small_model(
    *,
    rng=None,
    n_citizens: int = 300,
    side: int = 4,
    pulse: bool = False,
    pulse_boost: float = 0.05,
    **params,
):
    """Build a small model (a module-level factory a worker process can import)."""
    scenarios = [Pulse(boost=pulse_boost)] if pulse else []
    return CityModel(
        square_city(side),
        n_citizens=n_citizens,
        rng=rng,
        scenarios=scenarios,
        record_neighborhoods=True,
        **params,
    )


def count_and_build(*, rng=None, **kwargs):
    """Like :func:`small_model`, appending one line per build to the file in ``BUILD_LOG_ENV``."""
    log = os.environ.get(BUILD_LOG_ENV)
    if log:
        with Path(log).open("a") as fh:
            fh.write(f"{rng}\n")
    return small_model(rng=rng, **kwargs)


def failing_model(*, rng=None, fail: bool = False, **kwargs):
    """Raise ``RuntimeError`` when ``fail`` is true, else build :func:`small_model`."""
    if fail:
        raise RuntimeError("this run was told to fail")
    return small_model(rng=rng, **kwargs)


def dying_model(*, rng=None, die: bool = False, **kwargs):
    """End the worker process at once with ``os._exit(1)`` when ``die`` is true.

    As a segfault or the out-of-memory killer would: no exception, no clean-up. Else
    build :func:`small_model`.
    """
    if die:
        os._exit(1)
    return small_model(rng=rng, **kwargs)


def interrupting_model(*, rng=None, stop: bool = False, **kwargs):
    """Raise ``KeyboardInterrupt`` (as Ctrl-C would) when ``stop`` is true and no flag file.

    The flag file named by ``BUILD_LOG_ENV`` + ``.resume`` lets a resumed sweep pass.
    """
    log = os.environ.get(BUILD_LOG_ENV, "")
    if stop and not Path(log + ".resume").exists():
        raise KeyboardInterrupt
    return small_model(rng=rng, **kwargs)


def pulse_intervention(model):
    """Intervention for branching tests: install the :class:`Pulse` scenario now."""
    day = model.day + 1
    model.add_scenario(Pulse(day=day + 5, start_day=day, every=3, boost=0.2))


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    """The Ishigami function on rows of ``x`` (three inputs in [-π, π])."""
    x = np.atleast_2d(x)
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def no_intervention(model):
    """An intervention that changes nothing (the branches must stay identical)."""


def linear(x: np.ndarray) -> np.ndarray:
    """``5 x0 + 2 x1 + 0.5 x2 + 0 x3``: Morris μ* equals |coefficient| × range."""
    x = np.atleast_2d(x)
    return 5 * x[:, 0] + 2 * x[:, 1] + 0.5 * x[:, 2] + 0 * x[:, 3]
