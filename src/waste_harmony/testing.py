"""A conformance kit for scenario modules, in the spirit of scikit-learn's estimator checks.

Third parties run :func:`check_scenario` on their own scenario classes in their
test suites; the library runs it on every built-in scenario::

    import pytest
    from waste_harmony.testing import check_scenario
    from mypackage import MyScenario

    def test_my_scenario_conforms():
        check_scenario(MyScenario)

Each check raises :class:`AssertionError` naming the rule the scenario breaks.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from waste_harmony.scenarios.base import Scenario

__all__ = ["SCENARIO_CHECKS", "check_scenario"]

#: The checks :func:`check_scenario` runs, in order.
SCENARIO_CHECKS: tuple[str, ...] = (
    "is a named, described Scenario subclass",
    "instantiates with defaults; __init__ only stores parameters",
    "parameters round-trip through the constructor",
    "a parameter of the wrong type is rejected at install",
    "installs, runs and logs events",
    "the same seed gives identical series and events",
    "cannot be installed twice",
    "waste balances exactly every day",
    "can be switched off mid-run and then stays quiet",
)


def _model(scenario: Scenario, n_citizens: int, seed: int, days: int) -> Any:
    from waste_harmony.model import CityModel

    return CityModel(
        n_citizens=n_citizens, scenarios=[scenario], rng=seed, days=days, record_neighborhoods=False
    )


def _names(model: Any) -> set[str]:
    return {s.name for s in model.scenarios}


def check_scenario(
    cls: type[Scenario], *, n_citizens: int = 300, days: int = 365, seed: int = 0
) -> None:
    """Check that a scenario class follows the scenario contract.

    Runs :data:`SCENARIO_CHECKS` on ``cls`` in a small default city.

    Parameters
    ----------
    cls : type
        The Scenario subclass (it must be constructible with its defaults).
    n_citizens : int
        Citizens in the test city.
    days : int
        Days to run (long enough for the scenario to act with its defaults).
    seed : int
        Seed of the test runs.

    Raises
    ------
    AssertionError
        Naming the first broken rule.

    Examples
    --------
    >>> from waste_harmony.scenarios import HarmonyFestival
    >>> check_scenario(HarmonyFestival, n_citizens=200, days=130)
    """
    # 1. identity
    assert isinstance(cls, type) and issubclass(cls, Scenario), (
        f"{cls!r} is not a waste_harmony.scenarios.Scenario subclass"
    )
    assert cls.name and cls.name == cls.name.strip(), f"{cls.__name__} has no registry name"
    assert cls.description, f"{cls.__name__} ({cls.name!r}) has no description"

    # 2. estimator hygiene: __init__ only stores parameters
    instance = cls()
    params = instance.parameters()
    stored = set(vars(instance))
    extra = stored - set(params)
    assert not extra, (
        f"{cls.__name__}.__init__ stores more than its parameters: {sorted(extra)}; "
        "do the work in setup(model)"
    )
    assert getattr(instance, "_model", None) is None, (
        f"{cls.__name__}.__init__ touched a model; only store parameters"
    )

    # 3. parameters round-trip
    clone = cls(**params)
    assert clone.parameters() == params, f"{cls.__name__}(**parameters()) changes parameters"
    if dataclasses.is_dataclass(cls):
        for f in dataclasses.fields(cls):
            assert f.name.startswith("_") or f.name in params, f"field {f.name} is not a parameter"

    # 4. wrong parameter type rejected before the run
    for f in cls.parameter_fields():
        type_name = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
        if str(type_name) in ("int", "float"):
            bad = cls(**{**params, f.name: "not a number"})
            try:
                _model(bad, n_citizens, seed, days)
            except TypeError as exc:
                assert f.name in str(exc), f"the TypeError for {f.name!r} does not name it"
            else:
                raise AssertionError(
                    f"{cls.__name__}: a str for parameter {f.name!r} "
                    f"(typed {type_name}) was accepted"
                )
            break

    # 5. installs, runs, logs
    first = cls()
    model = _model(first, n_citizens, seed, days)
    assert first in model.scenarios, f"{cls.__name__} is not kept referenced by the model"
    model.run_for(days)
    assert len(model.event_log) > 0, (
        f"{cls.__name__} logged no event in {days} days; log what the scenario does"
    )
    frame = model.model_frame()

    # 6. determinism
    again = _model(cls(), n_citizens, seed, days)
    again.run_for(days)
    assert again.model_frame().equals(frame), (
        f"{cls.__name__}: the same seed gave different series; take all randomness from model.rng"
    )
    assert again.event_frame().equals(model.event_frame()), (
        f"{cls.__name__}: the same seed gave different events"
    )

    # 7. installed once only
    try:
        again.add_scenario(first)
    except ValueError:
        pass
    else:
        raise AssertionError(f"{cls.__name__}: one instance was installed in two models")

    # 8. waste balance
    stock = np.concatenate([[0.0], frame["waste_stock_kg"].to_numpy()])
    inflow = frame["waste_generated_kg"].to_numpy()
    outflow = (
        frame["waste_recycled_kg"] + frame["waste_reused_kg"] + frame["waste_consumed_kg"]
    ).to_numpy()
    error = np.abs(inflow - outflow - np.diff(stock))
    assert np.all(error <= 1e-6 + 1e-9 * np.abs(inflow)), (
        f"{cls.__name__}: waste does not balance (worst {error.max():.3g} kg on day "
        f"{int(np.argmax(error)) + 1}); report waste moved through reuse_waste, "
        "consume_waste or account_waste"
    )

    # 9. switch off mid-run
    scenario = cls()
    model = _model(scenario, n_citizens, seed, days)
    half = days // 2
    model.run_for(half)
    scenario.switch_off()
    off = {s.name for s in model.scenarios if not getattr(s, "active", True)}
    assert scenario.name in off, f"{cls.__name__}.switch_off() left it active"
    rules = set(model.pipeline.names())
    for s in model.scenarios:
        if s.name in off:
            left = rules & set(getattr(s, "_rules", []))
            assert not left, f"{s.name!r} left rules {sorted(left)} after switch_off()"
    switched_day = model.day
    model.run_for(days - half)
    late = [e for e in model.event_log if e.day > switched_day and e.details.get("scenario") in off]
    assert not late, (
        f"{cls.__name__} still acted after switch_off(): {late[0]}; cancel its "
        "events and stop its recurring schedules"
    )
