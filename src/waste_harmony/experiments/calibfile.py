"""Calibration files: a TOML run file plus a ``[calibration]`` table.

A calibration file is a run file (:mod:`waste_harmony.config`) — the model
configuration shared by every run — whose ``[calibration]`` table says what to
calibrate against which observations::

    days = 60
    citizens = 200
    [scenarios.techcore]

    [calibration]
    observed = "observed.csv"   # day, variable, value[, node]; relative to this file
    budget = 2000               # model runs in total
    method = "abc-reg"          # default; or "abc-smc"
    replicates = 1              # runs per parameter set
    seed = 1                    # default: the file's seed, else 0
    check = true                # the identifiability check first (default true)
    # abc-reg: accept = 200 (simulations kept; default a tenth of the budget)
    # abc-smc: population = 100, generations = 8, alpha = 0.5, min_acceptance = 0.02,
    #          min_epsilon_change = 0.0, [calibration.scales], [calibration.weights]

    [calibration.priors]
    recycling_weight_concern = [0.0, 8.0]                  # uniform(low, high)
    concern_convergence = { distribution = "beta", args = [2, 5] }  # any scipy.stats
    "scenarios.techcore.announce_day" = [20, 40]

    [calibration.scales]        # abc-smc, optional: variable = fixed scale of its distance
    [calibration.weights]       # abc-smc, optional: variable = relative weight

Calibrated names are model parameters or ``scenarios.<name>.<parameter>`` for a
scenario installed in the file. Every key is validated and errors name its path
(``calibration.priors.recycling_weight_concren``), as in run and sweep files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from waste_harmony.config import (
    ConfigError,
    RunConfig,
    check_int,
    check_keys,
    did_you_mean,
    parse_run_config,
    read_toml,
)
from waste_harmony.experiments.calibration import check_observed, model_violations
from waste_harmony.parameters import Parameters
from waste_harmony.recording import MODEL_VARIABLES, NEIGHBORHOOD_VARIABLES

__all__ = ["CalibrationConfig", "load_calibration_file", "parse_calibration_config"]

_KEYS = (
    "observed",
    "budget",
    "method",
    "accept",
    "check",
    "population",
    "replicates",
    "seed",
    "generations",
    "alpha",
    "min_acceptance",
    "min_epsilon_change",
    "priors",
    "scales",
    "weights",
)


@dataclass(frozen=True)
class CalibrationConfig:
    """A validated calibration file.

    Attributes
    ----------
    run : RunConfig
        The model configuration of every run.
    priors : dict
        Name → ``(low, high)`` or a frozen ``scipy.stats`` distribution.
    observed : pandas.DataFrame
        The observations (``day``, ``variable``, ``value``, ``node``).
    budget, replicates, seed : int
        As in :func:`~waste_harmony.experiments.calibrate`.
    method : str
        ``"abc-reg"`` (default) or ``"abc-smc"``.
    population : int or None
        ``abc-smc``'s particles per generation (``None`` with ``abc-reg``).
    options : dict
        Other keyword arguments of :func:`~waste_harmony.experiments.calibrate`
        (``check``, ``accept``; ``generations``, ``alpha``, ``scales``, ... for
        ``abc-smc``).

    Examples
    --------
    >>> import pandas as pd
    >>> obs = pd.DataFrame({"day": [5], "variable": ["recycling_rate"], "value": [0.3]})
    >>> c = parse_calibration_config({"days": 5, "citizens": 50, "calibration": {
    ...     "observed": obs, "budget": 40,
    ...     "priors": {"recycling_weight_concern": [0.0, 8.0]}}})
    >>> c.priors, c.budget, c.method
    ({'recycling_weight_concern': (0.0, 8.0)}, 40, 'abc-reg')
    """

    run: RunConfig
    priors: dict[str, Any]
    observed: pd.DataFrame
    budget: int
    method: str = "abc-reg"
    population: int | None = None
    replicates: int = 1
    seed: int = 0
    options: dict[str, Any] = field(default_factory=dict)


def _names(run: RunConfig) -> list[str]:
    from waste_harmony.scenarios import available

    names = list(Parameters.names())
    registry = available()
    for scenario in run.scenarios:
        names += [f"scenarios.{scenario}.{f.name}" for f in registry[scenario].parameter_fields()]
    return names


def _number(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"expected a number, got {value!r}", key)
    return float(value)


def _prior(spec: Any, key: str) -> Any:
    from scipy import stats

    if isinstance(spec, list):
        if len(spec) != 2:
            raise ConfigError(f"expected [low, high], got {spec!r}", key)
        low, high = (_number(v, key) for v in spec)
        if not low < high:
            raise ConfigError(f"needs low < high, got {spec!r}", key)
        return (low, high)
    if isinstance(spec, dict):
        check_keys(spec, ("distribution", "args", "kwds"), key)
        name = spec.get("distribution")
        dist = getattr(stats, name, None) if isinstance(name, str) else None
        if not isinstance(dist, stats.rv_continuous):
            raise ConfigError(
                f"unknown continuous scipy.stats distribution {name!r}; e.g. "
                '{ distribution = "beta", args = [2, 5] }',
                f"{key}.distribution",
            )
        args = spec.get("args", [])
        kwds = spec.get("kwds", {})
        if not isinstance(args, list) or not isinstance(kwds, dict):
            raise ConfigError("args must be a list and kwds a table of numbers", key)
        try:
            return dist(
                *[_number(a, f"{key}.args") for a in args],
                **{k: _number(v, f"{key}.kwds.{k}") for k, v in kwds.items()},
            )
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"invalid arguments for {name}: {exc}", key) from exc
    raise ConfigError(
        f'expected [low, high] or {{ distribution = "...", args = [...] }}, got {spec!r}', key
    )


def _support(prior: Any) -> tuple[float, float]:
    if isinstance(prior, tuple):
        return prior
    low, high = prior.ppf([0.001, 0.999])
    return float(low), float(high)


def _read_observed(value: Any, base_dir: Path | None) -> pd.DataFrame:
    key = "calibration.observed"
    if isinstance(value, pd.DataFrame):
        frame = value
    elif isinstance(value, str):
        path = Path(value)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        if not path.exists():
            raise ConfigError(f"no such file: {path} (paths are relative to the file)", key)
        try:
            frame = pd.read_csv(path)
        except (ValueError, OSError) as exc:
            raise ConfigError(f"cannot read {path} as CSV: {exc}", key) from exc
    else:
        raise ConfigError(
            f"expected the path of a CSV file (day, variable, value[, node]), got {value!r}", key
        )
    try:
        obs = check_observed(frame)
    except (TypeError, ValueError, KeyError) as exc:
        raise ConfigError(str(exc), key) from exc
    for variable, node in zip(obs["variable"], obs["node"], strict=True):
        valid = NEIGHBORHOOD_VARIABLES if node else MODEL_VARIABLES
        if variable not in valid:
            kind = "neighbourhood" if node else "model"
            raise ConfigError(
                f"unknown {kind} variable {variable!r}; {did_you_mean(variable, list(valid))}",
                key,
            )
    return frame


def parse_calibration_config(
    data: dict[str, Any],
    *,
    base_dir: str | os.PathLike[str] | None = None,
    source: Path | None = None,
) -> CalibrationConfig:
    """Validate calibration-file data (as parsed from TOML) into a :class:`CalibrationConfig`.

    Parameters
    ----------
    data : dict
        The parsed file.
    base_dir : path, optional
        Folder that relative paths (the observed CSV, the city) are resolved against.
    source : pathlib.Path, optional
        The file.

    Returns
    -------
    CalibrationConfig

    Raises
    ------
    ConfigError
        Naming the key path of the first problem.
    """
    data = dict(data)
    table = data.pop("calibration", None)
    run = parse_run_config(data, base_dir=base_dir, source=source)
    if table is None:
        raise ConfigError(
            'a calibration file needs a [calibration] table (observed = "obs.csv", budget = '
            "..., [calibration.priors])",
            "calibration",
        )
    if not isinstance(table, dict):
        raise ConfigError("expected a table", "calibration")
    check_keys(table, _KEYS, "calibration")
    for required in ("observed", "budget", "priors"):
        if required not in table:
            raise ConfigError("missing (required)", f"calibration.{required}")
    folder = Path(base_dir) if base_dir is not None else None
    observed = _read_observed(table["observed"], folder)
    priors_table = table["priors"]
    if not isinstance(priors_table, dict) or not priors_table:
        raise ConfigError("expected a table of parameter = [low, high]", "calibration.priors")
    valid = _names(run)
    priors: dict[str, Any] = {}
    for name, spec in priors_table.items():
        key = f"calibration.priors.{name}"
        if name not in valid:
            raise ConfigError(f"unknown parameter; {did_you_mean(name, valid)}", key)
        if name in run.parameters:
            raise ConfigError("also fixed in [parameters]; remove it from one of the two", key)
        priors[name] = _prior(spec, key)
    check = model_violations(run, {})
    for name, prior in priors.items():
        for end in _support(prior):
            found = [m for m in check({name: end}) if name.split(".")[-1] in m]
            if found:
                raise ConfigError(found[0], f"calibration.priors.{name}")
    method = table.get("method", "abc-reg")
    if method not in ("abc-reg", "abc-smc"):
        raise ConfigError(
            f'expected "abc-reg" (the default) or "abc-smc", got {method!r}', "calibration.method"
        )
    smc_only = ["population", "generations", "alpha", "min_acceptance", "min_epsilon_change"]
    smc_only += ["scales", "weights"]
    for key in smc_only if method == "abc-reg" else ["accept"]:
        if key in table:
            other = "abc-smc" if method == "abc-reg" else "abc-reg"
            raise ConfigError(
                f'applies to method = "{other}" only; remove it or set method = "{other}"',
                f"calibration.{key}",
            )
    options: dict[str, Any] = {}
    if "check" in table:
        if not isinstance(table["check"], bool):
            raise ConfigError(
                f"expected true or false, got {table['check']!r}", "calibration.check"
            )
        options["check"] = table["check"]
    if "accept" in table:
        options["accept"] = check_int(table["accept"], "calibration.accept", minimum=2)
    if "generations" in table:
        options["generations"] = check_int(
            table["generations"], "calibration.generations", minimum=1
        )
    for name, low, high in (
        ("alpha", 0.0, 1.0),
        ("min_acceptance", 0.0, 1.0),
        ("min_epsilon_change", 0.0, 1.0),
    ):
        if name in table:
            value = _number(table[name], f"calibration.{name}")
            if not low <= value <= high:
                raise ConfigError(f"expected a number in [{low}, {high}]", f"calibration.{name}")
            options[name] = value
    variables = set(observed["variable"])
    for name in ("scales", "weights"):
        if name in table:
            mapping = table[name]
            if not isinstance(mapping, dict):
                raise ConfigError("expected a table of variable = number", f"calibration.{name}")
            for variable, value in mapping.items():
                key = f"calibration.{name}.{variable}"
                if variable not in variables:
                    raise ConfigError(
                        f"not an observed variable; {did_you_mean(variable, sorted(variables))}",
                        key,
                    )
                if not _number(value, key) > 0:
                    raise ConfigError("must be positive", key)
            options[name] = {k: float(v) for k, v in mapping.items()}
    seed = table.get("seed", run.seed if run.seed is not None else 0)
    population = None
    if method == "abc-smc":
        population = check_int(table.get("population", 100), "calibration.population", minimum=2)
    config = CalibrationConfig(
        run=run,
        priors=priors,
        observed=observed,
        budget=check_int(table["budget"], "calibration.budget", minimum=1),
        method=method,
        population=population,
        replicates=check_int(table.get("replicates", 1), "calibration.replicates", minimum=1),
        seed=check_int(seed, "calibration.seed", minimum=0),
        options=options,
    )
    if population is not None and config.budget < population * config.replicates:
        raise ConfigError(
            f"budget = {config.budget} runs is less than one generation (population × "
            f"replicates = {population * config.replicates})",
            "calibration.budget",
        )
    if population is None and config.budget // config.replicates * config.replicates < 20:
        raise ConfigError(
            f"budget = {config.budget} runs is too small for a reference table (at least 20)",
            "calibration.budget",
        )
    if "accept" in options and options["accept"] > config.budget:
        raise ConfigError(
            f"accept = {options['accept']} is more than the budget ({config.budget} runs)",
            "calibration.accept",
        )
    last = int(observed["day"].max())
    if last > run.days:
        raise ConfigError(
            f"observations reach day {last} but runs last {run.days} days; raise days", "days"
        )
    return config


def load_calibration_file(path: str | os.PathLike[str]) -> CalibrationConfig:
    """Read and validate a TOML calibration file.

    Parameters
    ----------
    path : path
        The file.

    Returns
    -------
    CalibrationConfig

    Raises
    ------
    ConfigError
        If the file is missing, is not valid TOML, or holds an invalid key or value.
    """
    file = Path(path)
    data = read_toml(file, "calibration file")
    return parse_calibration_config(data, base_dir=file.parent, source=file)
