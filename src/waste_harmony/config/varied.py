"""The names a sweep or a calibration file may vary, and the checks of their values.

Sweep grids and ranges (``[sweep.grid]``, ``[sweep.sample.ranges]``) and calibration
priors (``[calibration.priors]``) name what they vary the same way: a model
parameter, ``citizens`` (sweeps), or ``scenarios.<name>.<parameter>`` for a
scenario installed in the file — and a misspelt name gets the same message in both.
"""

from __future__ import annotations

from typing import Any

from waste_harmony.config.errors import ConfigError, did_you_mean, unknown
from waste_harmony.config.reader import Reading, integer, leaf_paths, with_path
from waste_harmony.config.run import RunConfig
from waste_harmony.parameters import Parameters

__all__ = ["check_name", "check_value", "varied_names"]


def varied_names(run: RunConfig, *, citizens: bool = True, nested: bool = True) -> list[str]:
    """Every name a file built on ``run`` may vary.

    Parameters
    ----------
    run : RunConfig
        The run part of the file (its scenarios add their parameters).
    citizens : bool
        Include ``citizens``.
    nested : bool
        Include values inside a scenario's table parameters by their dotted path
        (``scenarios.policy.set.waste_per_capita_kg``).

    Returns
    -------
    list of str
        Model parameters, then scenario parameters in file order.

    Examples
    --------
    >>> from waste_harmony.config import parse_run_config
    >>> run = parse_run_config({"scenarios": {"techcore": {}}})
    >>> names = varied_names(run)
    >>> names[0], "mobility" in names, "scenarios.techcore.announce_day" in names
    ('citizens', True, True)
    """
    from waste_harmony.scenarios import scenario_class

    names = ["citizens"] if citizens else []
    names += Parameters.names()
    for scenario, params in run.scenarios.items():
        cls = scenario_class(scenario, base_dir=run.base_dir)
        names += [f"scenarios.{scenario}.{f.name}" for f in cls.parameter_fields()]
        if nested:  # values inside a table parameter (a policy's set.waste_per_capita_kg)
            for name, value in params.items():
                if isinstance(value, dict):
                    names += [f"scenarios.{scenario}.{p}" for p in leaf_paths(value, name)]
    return names


def check_name(name: str, valid: list[str], where: str) -> None:
    """Refuse a name that is not in ``valid``, naming the closest valid one.

    Examples
    --------
    >>> check_name("mobilty", ["mobility"], "sweep.grid.mobilty")
    Traceback (most recent call last):
    ...
    waste_harmony.config.ConfigError: sweep.grid.mobilty: unknown parameter; did you mean \
'mobility'?
    """
    if name in valid:
        return
    if name.startswith("scenarios."):
        raise ConfigError(
            "unknown scenario parameter (is the scenario in the file's [scenarios]?); "
            + did_you_mean(name, valid, what="parameters"),
            where,
        )
    raise ConfigError(unknown(name, valid, what="parameter"), where)


def check_value(name: str, value: Any, run: RunConfig, where: str) -> None:
    """Validate one value of a varied name the way the model will, naming the key.

    Parameters
    ----------
    name : str
        A name of :func:`varied_names`.
    value : object
        Its value at one point.
    run : RunConfig
        The run part of the file (the fixed values the point goes with).
    where : str
        The key, for the message (``sweep.grid.mobility[1]``).

    Raises
    ------
    ConfigError
        What the model or scenario says about the value.
    """
    if name == "citizens":
        integer(minimum=0)(value, where, Reading())
        return
    if name.startswith("scenarios."):
        from waste_harmony.scenarios import scenario_class

        # The scenario may be a reference with dots ('pkg.mod:Class', 'ban.py:Ban').
        # The parameter may be a nested path ('policy.set.waste_per_capita_kg'): the
        # scenario is the longest installed name the key starts with.
        rest = name.removeprefix("scenarios.")
        owners = [n for n in run.scenarios if rest.startswith(f"{n}.")]
        scenario = max(owners, key=len) if owners else rest.rsplit(".", 1)[0]
        param = rest[len(scenario) + 1 :]
        cls = scenario_class(scenario, base_dir=run.base_dir)
        try:
            cls(**with_path(run.scenarios[scenario], param, value)).check_parameters()
        except (TypeError, ValueError) as exc:
            raise ConfigError(str(exc), where) from exc
        return
    try:
        Parameters.from_kwargs({**run.parameters, name: value})
    except (TypeError, ValueError) as exc:
        raise ConfigError(str(exc), where) from exc
