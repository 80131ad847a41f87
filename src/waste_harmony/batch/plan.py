# Over 600 lines: the plan is one job (seeds, points, factories, tasks, fixed before anything
# runs); the next split would move the factories (ConfigFactory, RunFilePair,
# resolve_factory, pin_city_seed) to a module of their own.
"""Planning an experiment: seeds, parameter points, model factories and tasks.

A *plan* is the list of runs an experiment will make, fixed before anything runs:
each run has an id, a parameter point, a replicate number and a seed. Seeds come
from one root seed through :meth:`numpy.random.SeedSequence.spawn`, so a run's
result depends only on the plan, never on which worker ran it or in what order.

Workers receive small, picklable :class:`Task` objects (a model factory, keyword
arguments and a seed) and build the model themselves; models are never sent
between processes.
"""

from __future__ import annotations

import dataclasses
import inspect
import itertools
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from waste_harmony.config import with_path

__all__ = [
    "ConfigFactory",
    "RunFilePair",
    "Task",
    "accepts_days",
    "check_days",
    "check_fixed",
    "grid",
    "latin_hypercube",
    "make_plan",
    "pin_city_seed",
    "plan_seeds",
    "resolve_factory",
    "root_entropy",
    "run_seed",
]

#: Seeds of single runs are stored in signed 64-bit columns (``seed`` in every frame).
SEED_LIMIT = 2**63


def root_entropy(root_seed: int | None) -> int:
    """The root seed to record: ``root_seed`` itself, or fresh OS entropy if ``None``.

    Parameters
    ----------
    root_seed : int or None
        A non-negative integer, or ``None`` for fresh entropy (recorded in the
        manifest, so the experiment can still be repeated).

    Returns
    -------
    int
        The root seed.
    """
    if root_seed is None:
        # (SeedSequence() draws its entropy itself, so it is an int)
        return int(cast(int, np.random.SeedSequence().entropy))
    if isinstance(root_seed, bool) or not isinstance(root_seed, int | np.integer) or root_seed < 0:
        raise ValueError(f"root_seed must be a non-negative integer, got {root_seed!r}")
    return int(root_seed)


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


def run_seed(seed: int | None) -> int:
    """The seed of one run: ``seed`` itself (checked), or fresh OS entropy if ``None``.

    Unlike a root seed (any non-negative integer, spawned into run seeds), a run's
    seed is stored in the results' signed 64-bit ``seed`` column, so it must lie in
    ``[0, 2**63)``.

    Parameters
    ----------
    seed : int or None
        The run's seed, or ``None`` for fresh entropy (recorded in the manifest).

    Returns
    -------
    int
        The seed.

    Examples
    --------
    >>> run_seed(3)
    3
    >>> 0 <= run_seed(None) < 2**63
    True
    """
    if seed is None:
        return _seed_int(np.random.SeedSequence())
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
    if seed >= SEED_LIMIT:
        raise ValueError(
            f"seed must be below 2**63 (results store it as a 64-bit integer), got {seed}; "
            "take it modulo 2**63, or pass it as root_seed of an ensemble"
        )
    return int(seed)


def _seed_int(sequence: np.random.SeedSequence) -> int:
    hi, lo = sequence.generate_state(2, dtype=np.uint32).tolist()
    return ((hi << 32) | lo) >> 1  # 63 bits: fits a signed 64-bit Parquet column


def plan_seeds(root_seed: int, n: int) -> list[int]:
    """``n`` independent integer seeds spawned from one root seed.

    Parameters
    ----------
    root_seed : int
        Root of the :class:`numpy.random.SeedSequence`.
    n : int
        Number of seeds.

    Returns
    -------
    list of int
        Seed ``i`` is derived from child ``i`` of ``SeedSequence(root_seed).spawn(n)``
        and does not depend on ``n``.

    Examples
    --------
    >>> plan_seeds(1, 3) == plan_seeds(1, 5)[:3]
    True
    >>> len(set(plan_seeds(1, 100)))
    100
    """
    return [_seed_int(child) for child in np.random.SeedSequence(root_seed).spawn(n)]


def grid(parameters: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of parameter values (a full factorial grid).

    Parameters
    ----------
    parameters : mapping
        Parameter name → list of values.

    Returns
    -------
    list of dict
        One dict per point, the last parameter varying fastest.

    Examples
    --------
    >>> grid({"a": [1, 2], "b": ["x", "y"]})
    [{'a': 1, 'b': 'x'}, {'a': 1, 'b': 'y'}, {'a': 2, 'b': 'x'}, {'a': 2, 'b': 'y'}]
    """
    names = list(parameters)
    for name in names:
        values = parameters[name]
        if isinstance(values, str | bytes) or not isinstance(values, Iterable):
            raise TypeError(f"grid values for {name!r} must be a list, got {values!r}")
    lists = [list(parameters[name]) for name in names]
    for name, values in zip(names, lists, strict=True):
        if not values:
            raise ValueError(f"grid values for {name!r} are empty; give at least one value")
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*lists)]


def latin_hypercube(
    ranges: Mapping[str, tuple[float, float]],
    n: int,
    *,
    seed: int | None = None,
    integers: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """``n`` points of a Latin hypercube sample over parameter ranges.

    Parameters
    ----------
    ranges : mapping
        Parameter name → ``(low, high)``.
    n : int
        Number of points.
    seed : int, optional
        Seed of the sample.
    integers : iterable of str
        Parameters rounded to integers.

    Returns
    -------
    list of dict
        One dict per point.

    Examples
    --------
    >>> points = latin_hypercube({"a": (0.0, 1.0), "k": (1, 10)}, 4, seed=0, integers=["k"])
    >>> len(points), all(0 <= p["a"] <= 1 and isinstance(p["k"], int) for p in points)
    (4, True)
    """
    from scipy.stats import qmc

    names = list(ranges)
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    bounds = np.array([ranges[name] for name in names], dtype=float).reshape(len(names), 2)
    if np.any(bounds[:, 0] > bounds[:, 1]):
        bad = names[int(np.argmax(bounds[:, 0] > bounds[:, 1]))]
        raise ValueError(f"range of {bad!r} has low > high: {ranges[bad]}")
    unit = qmc.LatinHypercube(d=len(names), rng=np.random.default_rng(seed)).random(n)
    values = bounds[:, 0] + unit * (bounds[:, 1] - bounds[:, 0])
    rounded = set(integers)
    return [
        {
            name: (round(float(v)) if name in rounded else float(v))
            for name, v in zip(names, row, strict=True)
        }
        for row in values
    ]


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


def column_kinds(points: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The column type of each swept parameter over all points.

    Parameters
    ----------
    points : sequence of mapping
        Parameter points.

    Returns
    -------
    dict
        Name → ``"bool"``, ``"int"``, ``"float"``, ``"str"`` or ``"json"``.

    Examples
    --------
    >>> column_kinds([{"a": 1, "b": "x"}, {"a": 2.5, "c": True}])
    {'a': 'float', 'b': 'str', 'c': 'bool'}
    """
    kinds: dict[str, set[str]] = {}
    for point in points:
        for name, value in point.items():
            if isinstance(value, bool | np.bool_):
                kind = "bool"
            elif isinstance(value, int | np.integer):
                kind = "int"
            elif isinstance(value, float | np.floating):
                kind = "float"
            elif isinstance(value, str):
                kind = "str"
            else:
                kind = "json"
            kinds.setdefault(name, set()).add(kind)
    result = {}
    for name, found in kinds.items():
        if len(found) == 1:
            result[name] = found.pop()
        elif found <= {"int", "float"}:
            result[name] = "float"
        else:
            result[name] = "json"
    return result


#: Memory a planned run costs the experiment's process until it ends (its plan
#: entry, check and manifest record), bytes: measured as 1.6 GB for 10^6 runs.
PLAN_BYTES_PER_RUN = 1600


def free_memory_bytes() -> int | None:
    """Memory this machine has available now, bytes (``None`` where unknown)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def check_plan_size(n_points: int, n_replicates: int) -> None:
    """Refuse, before building it, a plan this machine cannot hold, saying how large it is.

    ``seeds = 10**9`` was accepted and then spent minutes building a plan that could
    never fit. A plan whose runs would take more than half the memory available now
    (:data:`PLAN_BYTES_PER_RUN` each) is refused at once, with its number of runs.

    Raises
    ------
    MemoryError
        Naming the runs, points and replicates, the memory they need and what is free.

    Examples
    --------
    >>> check_plan_size(10, 5)  # fits
    >>> check_plan_size(1, 10**12)
    Traceback (most recent call last):
    ...
    MemoryError: the plan has 1,000,000,000,000 runs (1 point x 1,000,000,000,000 replicates)...
    """
    runs = n_points * n_replicates
    free = free_memory_bytes()
    need = runs * PLAN_BYTES_PER_RUN
    if free is not None and need > free // 2:
        raise MemoryError(
            f"the plan has {runs:,} runs ({n_points:,} point{'s' * (n_points != 1)} x "
            f"{n_replicates:,} replicates), about {need / 1e9:,.1f} GB to plan here "
            f"({PLAN_BYTES_PER_RUN} bytes a run) where {free / 1e9:,.1f} GB are free: "
            "split it into several experiments (fewer points or seeds each, different "
            "root seeds)"
        )


def make_plan(
    points: Sequence[Mapping[str, Any]],
    seeds: int | Sequence[int],
    root_seed: int,
    *,
    common_random_numbers: bool = True,
) -> list[dict[str, Any]]:
    """The runs of an experiment: every point × every replicate, with its seed.

    Parameters
    ----------
    points : sequence of mapping
        Parameter points (``[{}]`` for an ensemble).
    seeds : int or sequence of int
        Number of replicates (seeds spawned from ``root_seed``) or explicit seeds.
    root_seed : int
        Root seed.
    common_random_numbers : bool
        Replicate ``r`` uses the same seed at every point (default), so differences
        between points are not blurred by different random draws; otherwise every
        run gets its own seed.

    Returns
    -------
    list of dict
        ``run_id``, ``point``, ``replicate``, ``seed``, ``parameters``.

    Examples
    --------
    >>> plan = make_plan([{"a": 1}, {"a": 2}], 2, root_seed=0)
    >>> [r["run_id"] for r in plan]
    ['p0000-r0000', 'p0000-r0001', 'p0001-r0000', 'p0001-r0001']
    >>> plan[0]["seed"] == plan[2]["seed"] != plan[1]["seed"]
    True
    """
    if isinstance(seeds, bool | str | bytes) or not isinstance(
        seeds, int | np.integer | Sequence | np.ndarray
    ):
        raise TypeError(
            "seeds must be a number of replicates (seeds=12) or a list of seeds "
            f"(seeds=[1, 2]), got {type(seeds).__name__} {seeds!r}"
        )
    if isinstance(seeds, int | np.integer):
        if seeds < 1:
            raise ValueError(f"seeds must be >= 1, got {seeds}")
        n_reps = int(seeds)
        explicit = None
    else:
        bad = [
            s for s in seeds if isinstance(s, bool) or not isinstance(s, int | np.integer) or s < 0
        ]
        if bad:
            raise TypeError(
                f"seeds must be non-negative integers, got {bad[0]!r} in {list(seeds)!r}"
            )
        explicit = [int(s) for s in seeds]
        if any(s >= SEED_LIMIT for s in explicit):
            raise ValueError(
                f"seeds must be below 2**63 (results store them as 64-bit integers), got "
                f"{max(explicit)} in {explicit!r}"
            )
        if len(set(explicit)) < len(explicit):
            twice = sorted({s for s in explicit if explicit.count(s) > 1})
            raise ValueError(
                f"seeds repeat {twice!r} in {explicit!r}: replicates with the same seed are "
                "identical runs; give distinct seeds or a number of replicates"
            )
        if not explicit:
            raise ValueError("seeds is an empty list; give a number of replicates or seeds")
        n_reps = len(explicit)
    if not points:
        raise ValueError("no parameter points to run")
    check_plan_size(len(points), n_reps)
    if explicit is not None:
        table = [explicit] * len(points) if common_random_numbers else None
        if table is None:
            raise ValueError(
                "explicit seeds cannot be combined with "
                "common_random_numbers=False; give a number of replicates"
            )
    elif common_random_numbers:
        table = [plan_seeds(root_seed, n_reps)] * len(points)
    else:
        flat = plan_seeds(root_seed, n_reps * len(points))
        table = [flat[p * n_reps : (p + 1) * n_reps] for p in range(len(points))]
    return [
        {
            "run_id": f"p{p:04d}-r{r:04d}",
            "point": p,
            "replicate": r,
            "seed": table[p][r],
            "parameters": dict(point),
        }
        for p, point in enumerate(points)
        for r in range(n_reps)
    ]


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
