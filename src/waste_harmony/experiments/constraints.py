"""The model's declared constraints on calibrated parameters, as one function.

A calibration (and the identifiability check before it) draws parameter sets from
priors; every set must satisfy the ranges and joint constraints the model declares
for its parameters (:class:`waste_harmony.parameters.Parameters`) and for the
parameters of its scenarios (:meth:`waste_harmony.scenarios.Scenario.violations`),
evaluated together with the fixed settings of the runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["model_violations"]


def model_violations(
    model: Any, fixed: Mapping[str, Any]
) -> Callable[[Mapping[str, float]], list[str]]:
    """The model's declared checks on a calibrated parameter set, as a function.

    Combines :func:`waste_harmony.parameters.violations` (ranges and joint
    constraints of the model parameters) and :meth:`Scenario.violations` for dotted
    scenario parameters ``"scenarios.<name>.<parameter>"``, each evaluated on the
    calibrated values merged with the fixed ones (``fixed`` keyword arguments and a
    run file's parameters and scenarios).

    Parameters
    ----------
    model : class, callable, RunConfig or None
        What the calibration builds (a run file's settings are taken into account).
    fixed : mapping
        The fixed keyword arguments of the runs.

    Returns
    -------
    callable
        ``check(values) -> list of str`` (empty when admissible).

    Examples
    --------
    >>> check = model_violations(None, {"initial_concern_mean": 0.1})
    >>> check({"initial_concern_sd": 0.05}), len(check({"initial_concern_sd": 0.4}))
    ([], 1)
    """
    from waste_harmony.parameters import Parameters
    from waste_harmony.scenarios import available

    config = getattr(model, "config", model)
    base = dict(getattr(config, "parameters", None) or {})
    scenarios = {k: dict(v) for k, v in (getattr(config, "scenarios", None) or {}).items()}
    declared = {spec.name for spec in Parameters.specs()}
    base.update({k: v for k, v in fixed.items() if k in declared})
    for key, value in fixed.items():
        if key.startswith("scenarios.") and key.count(".") >= 2:
            _, name, param = key.split(".", 2)
            scenarios.setdefault(name, {})[param] = value
    registry = available()

    def check(values: Mapping[str, float]) -> list[str]:
        params = dict(base)
        scen = {k: dict(v) for k, v in scenarios.items()}
        for key, value in values.items():
            if key.startswith("scenarios.") and key.count(".") >= 2:
                _, name, param = key.split(".", 2)
                scen.setdefault(name, {})[param] = value
            elif key in declared:
                params[key] = value
        found = Parameters.violations(params)
        for name, given in scen.items():
            if name in registry:
                found += registry[name].violations(given)
        return found

    return check
