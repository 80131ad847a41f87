"""Calibration files: a TOML run file plus a ``[calibration]`` table.

A calibration file is a run file (:mod:`waste_harmony.config.run`) — the model
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
(``calibration.priors.recycling_weight_concren``), as in run and sweep files; every
mistake of the file is reported at once.

This module sits with the experiments (it checks the observations and the priors
with :mod:`waste_harmony.experiments.calibration`), above the rest of
:mod:`waste_harmony.config`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from waste_harmony.config.errors import ConfigError, did_you_mean
from waste_harmony.config.reader import (
    Key,
    Problems,
    Reading,
    Table,
    flag,
    integer,
    interval,
    join,
    load_file,
    mapping,
    number,
    one_of,
    relative_path,
)
from waste_harmony.config.run import RunConfig, read_run_file
from waste_harmony.config.varied import check_name, varied_names
from waste_harmony.experiments.constraints import model_violations
from waste_harmony.experiments.observations import check_observed
from waste_harmony.recording import MODEL_VARIABLES, NEIGHBORHOOD_VARIABLES

__all__ = [
    "CALIBRATION",
    "METHODS",
    "CalibrationConfig",
    "load_calibration_file",
    "parse_calibration_config",
]


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


#: Calibration methods (:func:`~waste_harmony.experiments.calibrate`'s ``method``).
METHODS = ("abc-reg", "abc-smc")


def _observed(value: Any, where: str, reading: Reading) -> pd.DataFrame:
    """``observed``: a CSV file (day, variable, value[, node]), or a frame given in Python."""
    if isinstance(value, pd.DataFrame):
        frame = value
    elif isinstance(value, str):
        file = relative_path()(value, where, reading)
        try:
            frame = pd.read_csv(file)
        except (ValueError, OSError) as exc:
            raise ConfigError(f"cannot read {file} as CSV: {exc}", where) from exc
    else:
        raise ConfigError(
            f"expected the path of a CSV file (day, variable, value[, node]), got {value!r}",
            where,
        )
    try:
        check_observed(frame)
    except (TypeError, ValueError, KeyError) as exc:
        raise ConfigError(str(exc), where) from exc
    return frame


def _observed_variables(observed: pd.DataFrame, run: RunConfig) -> None:
    """Every observed variable is recorded: built in, or the run part's own reporters."""
    obs = check_observed(observed)
    for variable, node in zip(obs["variable"], obs["node"], strict=True):
        own = run.neighborhood_reporters if node else run.model_reporters
        valid = [*(NEIGHBORHOOD_VARIABLES if node else MODEL_VARIABLES), *own]
        if variable not in valid:
            kind = "neighbourhood" if node else "model"
            hint = did_you_mean(variable, valid, what="variables")
            raise ConfigError(
                f"unknown {kind} variable {variable!r}; {hint} (or record your own: "
                f"[{'neighborhood' if node else 'model'}_reporters])",
                "calibration.observed",
            )


def _distribution(value: Any, where: str, reading: Reading) -> Any:
    from scipy import stats

    dist = getattr(stats, value, None) if isinstance(value, str) else None
    if not isinstance(dist, stats.rv_continuous):
        raise ConfigError(
            f"unknown continuous scipy.stats distribution {value!r}; e.g. "
            '{ distribution = "beta", args = [2, 5] }',
            where,
        )
    return dist


def _numbers(value: Any, where: str, reading: Reading) -> list[float]:
    if not isinstance(value, list):
        raise ConfigError(f"expected a list of numbers, got {value!r}", where)
    return [number()(v, f"{where}[{i}]", reading) for i, v in enumerate(value)]


#: A prior given as a ``scipy.stats`` distribution.
DISTRIBUTION = Table(
    (
        Key("distribution", _distribution, missing='missing: e.g. distribution = "beta"'),
        Key("args", _numbers, default=[]),
        Key("kwds", mapping("name = number", values=number()), default={}),
    ),
    like='{ distribution = "beta", args = [2, 5] }',
)


def _prior(spec: Any, where: str, reading: Reading) -> Any:
    """A prior: ``[low, high]`` (uniform) or a ``scipy.stats`` distribution table."""
    if isinstance(spec, list):
        return interval(strict=True)(spec, where, reading)
    if isinstance(spec, dict):
        table = DISTRIBUTION(spec, where, reading)
        try:
            return table["distribution"](*table["args"], **table["kwds"])
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"invalid arguments for {spec['distribution']}: {exc}", where
            ) from exc
    raise ConfigError(
        f'expected [low, high] or {{ distribution = "...", args = [...] }}, got {spec!r}', where
    )


def _support(prior: Any) -> tuple[float, float]:
    if isinstance(prior, tuple):
        return prior
    low, high = prior.ppf([0.001, 0.999])
    return float(low), float(high)


def _share(value: Any, where: str, reading: Reading) -> float:
    return float(number(low=0.0, high=1.0)(value, where, reading))


def _positive(value: Any, where: str, reading: Reading) -> float:
    return float(number(positive=True)(value, where, reading))


_POSITIVE = mapping("variable = number", values=_positive)

#: ``[calibration]``: the observations, the budget and the priors.
CALIBRATION = Table(
    (
        Key(
            "observed",
            _observed,
            missing='missing: the observations, e.g. observed = "observed.csv"',
        ),
        Key(
            "budget",
            integer(minimum=1),
            missing="missing: the model runs in total, e.g. budget = 2000",
        ),
        Key("method", one_of(METHODS, what="method"), default="abc-reg"),
        Key("accept", integer(minimum=2)),
        Key("check", flag),
        Key("population", integer(minimum=2)),
        Key("replicates", integer(minimum=1), default=1),
        Key("seed", integer(minimum=0)),
        Key("generations", integer(minimum=1)),
        Key("alpha", _share),
        Key("min_acceptance", _share),
        Key("min_epsilon_change", _share),
        Key(
            "priors",
            mapping("parameter = [low, high]", empty=False),
            missing="missing: the priors, e.g. [calibration.priors] mobility = [0.1, 0.5]",
        ),
        Key("scales", _POSITIVE),
        Key("weights", _POSITIVE),
    ),
    like='[calibration] observed = "observed.csv"',
)

#: Keys that apply to one method only: method → its own keys.
METHOD_KEYS = {
    "abc-reg": ("accept",),
    "abc-smc": (
        "population",
        "generations",
        "alpha",
        "min_acceptance",
        "min_epsilon_change",
        "scales",
        "weights",
    ),
}

#: Keys of ``[calibration]`` passed on to :func:`~waste_harmony.experiments.calibrate`
#: as options: the check and every method's own keys but ``population``, which sets
#: the budget's unit and is passed on by itself.
OPTIONS = ("check", *(k for keys in METHOD_KEYS.values() for k in keys if k != "population"))


def _priors(table: dict[str, Any], run: RunConfig, reading: Reading) -> dict[str, Any]:
    valid = varied_names(run, citizens=False, nested=False)
    check = model_violations(run, {})
    problems = Problems()
    priors: dict[str, Any] = {}
    for name, spec in table.items():
        where = join("calibration.priors", name)
        if not problems.passes(check_name, name, valid, where):
            continue
        if name in run.parameters:
            problems.add("also fixed in [parameters]; remove it from one of the two", where)
            continue
        prior = problems.attempt(_prior, spec, where, reading)
        if prior is None:
            continue
        priors[name] = prior
        for end in _support(prior):
            found = [m for m in check({name: end}) if name.split(".")[-1] in m]
            if found:
                problems.add(found[0], where)
                break
    problems.raise_any()
    return priors


def parse_calibration_config(
    data: dict[str, Any],
    *,
    base_dir: str | os.PathLike[str] | None = None,
    source: Path | None = None,
) -> CalibrationConfig:
    """Validate calibration-file data (as parsed from TOML) into a :class:`CalibrationConfig`.

    The arguments are those of :func:`~waste_harmony.config.parse_run_config`
    (``base_dir`` is where the observed CSV is found, too). A
    :class:`~waste_harmony.config.ConfigError` names the key path of every problem
    found in the run part and the ``[calibration]`` table, then of the priors and of
    the settings that go together (budget and population, observed days and run
    length).
    """
    reading = Reading(Path(base_dir) if base_dir is not None else None, source)
    needs = (
        'a calibration file needs a [calibration] table (observed = "obs.csv", budget = '
        "..., [calibration.priors])"
    )
    run, own = read_run_file(data, reading, Key("calibration", CALIBRATION, missing=needs))
    table = own["calibration"]
    observed: pd.DataFrame = table["observed"]
    problems = Problems()
    problems.attempt(_observed_variables, observed, run)
    priors = problems.attempt(_priors, table["priors"], run, reading)
    variables = set(observed["variable"])
    for name in ("scales", "weights"):
        for variable in table[name] or {}:
            if variable not in variables:
                hint = did_you_mean(variable, sorted(variables), what="variables")
                problems.add(f"not an observed variable; {hint}", f"calibration.{name}.{variable}")
    method = table["method"]
    for other, keys in METHOD_KEYS.items():
        for key in keys if other != method else ():
            if table[key] is not None:
                problems.add(
                    f'applies to method = "{other}" only; remove it or set method = "{other}"',
                    f"calibration.{key}",
                )
    population = None
    if method == "abc-smc":
        population = table["population"] if table["population"] is not None else 100
        runs = population * table["replicates"]
        if table["budget"] < runs:
            problems.add(
                f"budget = {table['budget']} runs is less than one generation (population × "
                f"replicates = {runs})",
                "calibration.budget",
            )
    elif table["budget"] // table["replicates"] * table["replicates"] < 20:
        problems.add(
            f"budget = {table['budget']} runs is too small for a reference table (at least 20)",
            "calibration.budget",
        )
    if table["accept"] is not None and table["accept"] > table["budget"]:
        problems.add(
            f"accept = {table['accept']} is more than the budget ({table['budget']} runs)",
            "calibration.accept",
        )
    last = int(observed["day"].max())
    if last > run.days:
        problems.add(
            f"observations reach day {last} but runs last {run.days} days; raise days", "days"
        )
    problems.raise_any()
    seed = table["seed"]
    if seed is None:
        seed = run.seed if run.seed is not None else 0
    return CalibrationConfig(
        run=run,
        priors=priors,
        observed=observed,
        budget=table["budget"],
        method=method,
        population=population,
        replicates=table["replicates"],
        seed=seed,
        options={k: table[k] for k in OPTIONS if table[k] is not None},
    )


def load_calibration_file(path: str | os.PathLike[str]) -> CalibrationConfig:
    """Read and validate a TOML calibration file (as :func:`.load_run_file` does).

    Returns
    -------
    CalibrationConfig
        The validated calibration.
    """
    return load_file(path, "calibration file", parse_calibration_config)
