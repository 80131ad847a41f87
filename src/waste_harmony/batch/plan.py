"""Planning an experiment: model factories and tasks (and, re-exported, seeds and points).

A *plan* is the set of runs an experiment will make, fixed before anything runs:
each run has an id, a parameter point, a replicate number and a seed. Seeds come
from one root seed (:mod:`~waste_harmony.batch.seeds`); the runs are computed by
index from the plan's recipe (:mod:`~waste_harmony.batch.recipe`), never listed; a
plan too large for this machine is refused first (:mod:`~waste_harmony.batch.limits`).
Those modules' names are importable from here too, where they used to live.

Workers receive small, picklable :class:`Task` objects (a model factory, keyword
arguments and a seed) and build the model themselves; models are never sent
between processes.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from waste_harmony.batch.limits import PLAN_BYTES_PER_RUN, check_plan_size
from waste_harmony.batch.recipe import column_kinds, grid, latin_hypercube, make_plan
from waste_harmony.batch.seeds import SEED_LIMIT, plan_seeds, root_entropy, run_seed
from waste_harmony.config import with_path
from waste_harmony.machine import available_memory_bytes as free_memory_bytes

__all__ = [
    "PLAN_BYTES_PER_RUN",
    "SEED_LIMIT",
    "ConfigFactory",
    "RunFilePair",
    "Task",
    "accepts_days",
    "check_days",
    "check_fixed",
    "check_plan_size",
    "column_kinds",
    "free_memory_bytes",
    "grid",
    "latin_hypercube",
    "make_plan",
    "pin_city_seed",
    "plan_seeds",
    "resolve_factory",
    "root_entropy",
    "run_seed",
]


def check_days(days: Any, default: int | None) -> int:
    """The days each run simulates: ``days``, else ``default``; a positive integer.

    Parameters
    ----------
    days : int or None
        Asked for.
    default : int or None
        The run file's ``days``.

    Returns
    -------
    int
        The days.
    """
    if days is None:
        days = default
    if days is None:
        raise TypeError("days is required: how many days each run simulates (365 = a year)")
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValueError(f"days must be a positive integer, got {days!r}")
    return days


def check_fixed(fixed: Mapping[str, Any]) -> dict[str, Any]:
    """The model keyword arguments shared by all runs (refusing ``rng``/``seed``).

    Parameters
    ----------
    fixed : mapping
        Keyword arguments.

    Returns
    -------
    dict
        A copy.
    """
    if "rng" in fixed or "seed" in fixed:
        raise TypeError(
            "do not pass rng/seed to an experiment: each run's seed comes from "
            "root_seed (or pass seeds=[...] explicitly)"
        )
    return dict(fixed)


@dataclass(frozen=True)
class ConfigFactory:
    """Build models from a validated run file (:class:`~waste_harmony.config.RunConfig`).

    Called like a model class, ``factory(rng=seed, **overrides)``; besides
    :class:`~waste_harmony.CityModel` keywords it accepts ``citizens`` (the run
    file's key) and dotted scenario parameters ``"scenarios.<name>.<parameter>"``.

    Parameters
    ----------
    config : RunConfig
        The run file.
    """

    config: Any

    def __call__(self, **kwargs: Any) -> Any:
        """Build one model."""
        scenarios = {name: dict(params) for name, params in self.config.scenarios.items()}
        overrides: dict[str, Any] = {}
        for key, value in kwargs.items():
            if key.startswith("scenarios."):
                # The name may be a reference with dots ('pkg.mod:Class', 'ban.py:Ban')
                # and the parameter a nested path ('policy.set.waste_per_capita_kg'):
                # the scenario is the longest installed name the key starts with.
                rest = key.removeprefix("scenarios.")
                owners = [n for n in scenarios if rest.startswith(f"{n}.")]
                name = max(owners, key=len) if owners else rest.rsplit(".", 1)[0]
                param = rest[len(name) + 1 :]
                if name not in scenarios:
                    raise ValueError(
                        f"{key!r}: scenario {name!r} is not in the run file; "
                        f"installed: {', '.join(scenarios) or 'none'}"
                    )
                scenarios[name] = with_path(scenarios[name], param, value)
            elif key == "citizens":
                overrides["n_citizens"] = value
            else:
                overrides[key] = value
        config = dataclasses.replace(self.config, scenarios=scenarios)
        return config.build_model(**overrides)

    def describe(self) -> str:
        """A short name for manifests: ``RunConfig(<file name>)``."""
        source = self.config.source
        return f"RunConfig({source.name if source else 'inline'})"


@dataclass(frozen=True)
class RunFilePair:
    """Build the model of one of two run files: ``factory(arm="baseline" | "variant", ...)``.

    What ``waste-harmony compare BASELINE VARIANT`` runs: the two files' models, paired
    by seed (common random numbers). Other keywords go to the chosen file's factory
    (:class:`ConfigFactory`).

    Parameters
    ----------
    baseline, variant : RunConfig
        The two run files.
    """

    baseline: Any
    variant: Any

    def __call__(self, *, arm: str, **kwargs: Any) -> Any:
        """Build the model of ``arm``."""
        if arm not in ("baseline", "variant"):
            raise ValueError(f"arm must be 'baseline' or 'variant', got {arm!r}")
        return ConfigFactory(getattr(self, arm))(**kwargs)

    def describe(self) -> str:
        """A short name for manifests."""
        return (
            f"{ConfigFactory(self.baseline).describe()} vs {ConfigFactory(self.variant).describe()}"
        )


def resolve_factory(model: Any) -> tuple[Callable[..., Any], int | None]:
    """Turn what the user passed as ``model`` into a factory and its default days.

    Parameters
    ----------
    model : None, class, callable or RunConfig
        ``None`` for :class:`~waste_harmony.CityModel`; a model class or any
        callable ``factory(rng=..., **kwargs)`` returning a model; or a run file's
        :class:`~waste_harmony.config.RunConfig`.

    Returns
    -------
    (callable, int or None)
        The factory, and the run file's ``days`` (``None`` otherwise).
    """
    from waste_harmony.config import RunConfig

    if model is None:
        from waste_harmony.model import CityModel

        return CityModel, None
    if isinstance(model, RunConfig):
        return ConfigFactory(model), model.days
    if isinstance(model, ConfigFactory):
        return model, model.config.days
    if isinstance(model, RunFilePair):
        return model, model.baseline.days
    if callable(model):
        return model, None
    raise TypeError(
        f"model must be a model class, a factory function or a RunConfig, got {model!r}"
    )


def pin_city_seed(model: Any, seed: int) -> Any:
    """A run file's random city fixed by ``seed`` for every run made from it.

    A run file's generated city without a seed of its own would otherwise follow
    each run's seed (:meth:`~waste_harmony.config.RunConfig.build_model`), and every
    replicate of an experiment would run on a different city. An experiment pins
    it once, from its root seed: every run — each replicate at each point — shares
    one city, so replicates differ by chance alone and points are compared on the
    same streets (common random numbers), and a re-run or a resume builds the same
    city. (A sweep cannot vary the city's keys, so one city per point would be the
    same city anyway.) A calibration pins it from its own seed, once for every
    generation.

    Parameters
    ----------
    model : object
        What the experiment builds; only a :class:`~waste_harmony.config.RunConfig`
        (or its :class:`ConfigFactory`) with a random city and no city seed changes.
    seed : int
        The experiment's root seed.

    Returns
    -------
    object
        ``model``, with ``seed = city_seed(seed)`` in its ``[city]`` if it needed one.

    Examples
    --------
    >>> from waste_harmony.config import parse_run_config
    >>> config = parse_run_config({"city": {"generator": "grid", "rows": 3, "cols": 3}})
    >>> "seed" in pin_city_seed(config, 1).city.options
    True
    """
    from waste_harmony.config import RunConfig
    from waste_harmony.config.city import city_seed

    config = model.config if isinstance(model, ConfigFactory) else model
    if not isinstance(config, RunConfig) or not config.city.needs_seed:
        return model
    pinned = dataclasses.replace(config, city=config.city.seeded(city_seed(seed)))
    return ConfigFactory(pinned) if isinstance(model, ConfigFactory) else pinned


@dataclass(frozen=True)
class Branch:
    """Branching: run to ``at_day``, copy, apply ``intervention`` to the copy only.

    Attributes
    ----------
    at_day : int
        Day after which the branches split.
    intervention : callable or Scenario
        ``intervention(model)`` or a scenario (installed in the variant branch).
    """

    at_day: int
    intervention: Any


@dataclass(frozen=True)
class Task:
    """One unit of work for a worker: build, run, tidy and (optionally) write.

    A task makes one run, or two for a branching comparison (baseline and variant
    from one copied model).

    Attributes
    ----------
    run_ids : tuple of str
        The run(s) it produces.
    point, replicate : int
        Parameter point and replicate number.
    seed : int
        The model's seed.
    parameters : dict
        The point's swept values (the parameter columns).
    factory : callable
        Builds the model: ``factory(rng=seed, **fixed, **parameters)``.
    fixed : dict
        Keyword arguments shared by all runs.
    days : int
        Days to simulate.
    labels : tuple of str
        Label of each run (``"baseline"``/``"variant"`` in comparisons), or empty.
    columns : dict
        Parameter name → column kind (``int``, ``float``, ``bool``, ``str``, ``json``).
    folder : str or None
        Where to write the runs (``None``: return them to the caller).
    branch : Branch or None
        Branching comparison.
    extra : dict
        More manifest entries (experiment kind, fingerprint).
    nonce : str
        Makes every submission unique (Dask otherwise deduplicates identical calls).
    statistics : callable or None
        ``statistics(tables)`` computed in the worker from each run's tables
        (:func:`~waste_harmony.schema.model_tables`) and returned with its outcome, so
        the parent need not read the files back (calibration's summary statistics).
    keep_tables : bool
        With ``folder=None``, return the run's tables to the caller (default); with
        ``False`` only the outcome and the statistics travel back (a calibration's
        reference table keeps nothing else of a run).
    """

    run_ids: tuple[str, ...]
    point: int
    replicate: int
    seed: int
    parameters: dict[str, Any]
    factory: Callable[..., Any]
    fixed: dict[str, Any]
    days: int
    labels: tuple[str, ...] = ()
    columns: dict[str, str] = field(default_factory=dict)
    folder: str | None = None
    branch: Branch | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    nonce: str = ""
    statistics: Callable[[dict[str, Any]], Any] | None = None
    keep_tables: bool = True

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments of the factory (without ``rng``; with ``days`` if it takes it)."""
        kwargs = {**self.fixed, **self.parameters}
        if "days" not in kwargs and accepts_days(self.factory):
            kwargs["days"] = self.days
        return kwargs


def qualified_name(obj: Any) -> str:
    """``module.qualname`` of a class or function (or of an instance's class)."""
    if isinstance(obj, ConfigFactory):
        return obj.describe()
    target = (
        obj if isinstance(obj, type | types.FunctionType | types.BuiltinFunctionType) else type(obj)
    )
    return f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', repr(target))}"


def accepts_days(factory: Callable[..., Any]) -> bool:
    """Whether ``factory`` takes the ``days`` hint (a run file or a ``days=`` keyword).

    Models built with the planned ``days`` check their scenarios' days against it
    (a festival on day 100 of a 30-day run is refused, not silently skipped).
    """
    if isinstance(factory, ConfigFactory):
        return True
    try:
        return "days" in inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return False
