"""Run files: TOML descriptions of a run, validated before anything runs.

A run file names the city, the citizens, the parameters, the scenarios with their
own parameters, the length, the seed and the outputs::

    seed = 7
    days = 365
    citizens = 20000
    population = 2000000    # the people they stand for (default: one each)

    [city]                  # or: graphml = "my_city.graphml" (relative to this file),
                            # file = "districts.geojson" with id_column = "..." and
                            # column keys, or osm = "place.osm" with cell_km = 0.25
    generator = "grid"      # "default", "grid" or "organic"
    rows = 12
    cols = 12

    [parameters]            # any CityModel parameter
    concern_confidence = 0.25
    roles = { designer = 1, organiser = 2, scientist = 1, artist = 1 }

    [scenarios.techcore]    # one table per scenario, installed in file order
    [scenarios.harmony-festival]

    [model_reporters]       # a study's own outputs: name = "module:function"
    high_concern_share = "study.py:high_concern_share"    # or "file.py:function"
    [neighborhood_reporters]
    high_concern = "study.py:high_concern_by_node"

    [output]
    folder = "results/my-run"   # relative to this file, like every path in it

Every key is checked: an unknown key raises :class:`ConfigError` naming its path
(``scenarios.techcore.anounce_day``) and the closest valid key; a wrong type or an
out-of-range value names the key and what it expects; every mistake of the file is
reported at once. Sweep and calibration files are run files with one more table
(:func:`read_run_file`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from waste_harmony.city.size import check_city_size
from waste_harmony.config.city import CityConfig, city_seed, read_city
from waste_harmony.config.errors import ConfigError, closest, combine_errors
from waste_harmony.config.reader import (
    Key,
    Problems,
    Reading,
    Table,
    check_keys,
    flag,
    integer,
    join,
    load_file,
    number,
    relative_path,
)
from waste_harmony.parameters import Parameters, violations

__all__ = [
    "OutputConfig",
    "RunConfig",
    "load_run_file",
    "parse_run_config",
    "read_run_file",
]


@dataclass(frozen=True)
class OutputConfig:
    """What a run writes.

    Attributes
    ----------
    folder : pathlib.Path or None
        Results folder.
    neighborhoods : bool
        Record and write per-neighbourhood series.
    figures : bool
        Draw the standard figures.
    """

    folder: Path | None = None
    neighborhoods: bool = True
    figures: bool = True


@dataclass(frozen=True)
class RunConfig:
    """A validated description of one run.

    Examples
    --------
    >>> config = parse_run_config({"citizens": 200, "days": 5, "seed": 3,
    ...                            "city": {"generator": "grid", "rows": 4, "cols": 4}})
    >>> model = config.build_model()
    >>> model.run_for(config.days)
    >>> model.n_citizens, model.n_nodes, len(model.model_frame())  # day 0 and days 1-5
    (200, 16, 6)
    >>> parse_run_config({"citizen": 10})
    Traceback (most recent call last):
    ...
    waste_harmony.config.ConfigError: citizen: unknown key; did you mean 'citizens'?
    """

    citizens: int = 10_000
    population: float | None = None
    days: int = 365
    seed: int | None = None
    city: CityConfig = field(default_factory=CityConfig)
    parameters: dict[str, Any] = field(default_factory=dict)
    scenarios: dict[str, dict[str, Any]] = field(default_factory=dict)
    output: OutputConfig = field(default_factory=OutputConfig)
    model_reporters: dict[str, str] = field(default_factory=dict)
    neighborhood_reporters: dict[str, str] = field(default_factory=dict)
    source: Path | None = None

    @property
    def base_dir(self) -> Path | None:
        """The folder of the run file (where its scenario files are found), if any."""
        return self.source.parent if self.source is not None else None

    def make_scenarios(self) -> list[Any]:
        """Instantiate the scenarios with their parameters.

        Returns
        -------
        list of Scenario
            In file order.
        """
        from waste_harmony.scenarios import scenario_class

        return [
            scenario_class(name, base_dir=self.base_dir)(**params)
            for name, params in self.scenarios.items()
        ]

    def reporters(self) -> dict[str, dict[str, Any]]:
        """The own outputs' functions, loaded: ``{"model_reporters": {...}, ...}``.

        References are resolved against the file's folder; each call loads the
        same objects (a file is loaded once per version).
        """
        from waste_harmony.references import load_reference

        return {
            what: {name: load_reference(ref, base_dir=self.base_dir) for name, ref in refs.items()}
            for what, refs in (
                ("model_reporters", self.model_reporters),
                ("neighborhood_reporters", self.neighborhood_reporters),
            )
            if refs
        }

    def build_model(self, **overrides: Any) -> Any:
        """Build the :class:`~waste_harmony.CityModel` this file describes.

        The run's seed (``rng``) fixes everything random in it: a random city
        without a seed of its own is generated with :func:`~waste_harmony.config.city.city_seed`
        of it. Without any seed one is drawn (and recorded in the model).

        Parameters
        ----------
        **overrides
            Keyword arguments replacing the file's (``rng``, ``n_citizens``, parameters).

        Returns
        -------
        CityModel
            A fresh model, not yet run.

        Raises
        ------
        ConfigError
            If a value is rejected by the model or a scenario (naming the key).
        """
        from waste_harmony.model import CityModel

        kwargs: dict[str, Any] = {
            "n_citizens": self.citizens,
            "population": self.population,
            "rng": self.seed,
            "days": self.days,
            "record_neighborhoods": self.output.neighborhoods,
            **self.parameters,
            **overrides,
        }
        kwargs["rng"] = seed = _seed(kwargs["rng"])
        where = self.city.seeded(city_seed(seed)) if isinstance(seed, int) else self.city
        size = where.size()
        if size is not None and isinstance(kwargs["n_citizens"], int):
            # refused from the estimate, before minutes of building (issue 23)
            check_city_size(
                *size,
                kwargs["n_citizens"],
                model=True,
                what=f"the run file's city ({where.generator}, {where.options})",
                fix="a smaller city or fewer citizens",
            )
        try:
            kwargs.update(self.reporters())
        except (ValueError, TypeError) as exc:
            raise ConfigError(str(exc), "model_reporters") from exc
        try:
            city = where.build()
        except (ValueError, TypeError, OSError, ImportError) as exc:
            # ImportError: a geo city without the geo extra (the message names it)
            raise ConfigError(str(exc), "city") from exc
        try:
            scenarios = self.make_scenarios()
        except (ValueError, TypeError) as exc:
            raise ConfigError(str(exc), "scenarios") from exc
        try:
            return CityModel(city, scenarios=scenarios, **kwargs)
        except (ValueError, TypeError) as exc:
            raise ConfigError(str(exc), _blame(str(exc), self)) from exc

    def to_dict(self) -> dict[str, Any]:
        """The configuration as plain data (TOML/JSON-serialisable).

        Returns
        -------
        dict
            Keys as in a run file.
        """
        output: dict[str, Any] = {
            "neighborhoods": self.output.neighborhoods,
            "figures": self.output.figures,
        }
        if self.output.folder is not None:
            output["folder"] = str(self.output.folder)
        data: dict[str, Any] = {
            "citizens": self.citizens,
            "days": self.days,
            "city": self.city.to_dict(),
            "parameters": dict(self.parameters),
            "scenarios": {k: dict(v) for k, v in self.scenarios.items()},
            "output": output,
        }
        if self.model_reporters:
            data["model_reporters"] = dict(self.model_reporters)
        if self.neighborhood_reporters:
            data["neighborhood_reporters"] = dict(self.neighborhood_reporters)
        if self.seed is not None:
            data["seed"] = self.seed
        if self.population is not None:
            data["population"] = self.population
        return data


def _seed(rng: Any) -> Any:
    """The run's seed as the int CityModel will record (anything it refuses passes on)."""
    import numpy as np

    from waste_harmony.model.checks import seed_of

    seed = seed_of(rng)
    valid = isinstance(seed, int | np.integer) and not isinstance(seed, bool)
    return int(seed) if valid and 0 <= seed < 2**63 else seed


def _blame(message: str, config: RunConfig) -> str:
    for name in config.parameters:
        if repr(name) in message:
            return f"parameters.{name}"
    for name in config.scenarios:
        if repr(name) in message:
            return f"scenarios.{name}"
    return "parameters"


def _key_in(message: str, table: dict[str, Any], where: str) -> str:
    """The key of ``table`` a message names (``'mobility'``), else the table itself."""
    return next((join(where, k) for k in table if repr(k) in message), where)


def read_parameters(value: Any, where: str, reading: Reading) -> dict[str, Any]:
    """Read ``[parameters]``: model parameters, checked alone and together."""
    if not isinstance(value, dict):
        raise ConfigError("expected a table of parameter = value", where)
    problems = Problems()
    check_keys(value, Parameters.names(), where, problems, what="parameter")
    known = {k: v for k, v in value.items() if k in Parameters.names()}
    for message in violations(known):
        problems.add(message, _key_in(message, known, where))
    problems.raise_any()
    try:
        Parameters.from_kwargs(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(str(exc), _key_in(str(exc), value, where)) from exc
    return dict(value)


def read_scenarios(value: Any, where: str, reading: Reading) -> dict[str, dict[str, Any]]:
    """Read ``[scenarios]``: one table of parameters per scenario, checked by its class."""
    from waste_harmony.scenarios import available, scenario_class
    from waste_harmony.scenarios.registry import is_reference

    if not isinstance(value, dict):
        raise ConfigError("expected one table per scenario, like [scenarios.techcore]", where)
    registry = available()
    problems = Problems()
    scenarios: dict[str, dict[str, Any]] = {}
    for name, params in value.items():
        at = join(where, name)
        if is_reference(name):
            # Your own scenario: 'package.module:Class' or 'path/to/file.py:Class'
            # (relative to this file's folder). Loading it runs that code.
            try:
                registry[name] = scenario_class(name, base_dir=reading.base_dir)
            except (TypeError, ValueError) as exc:
                problems.add(str(exc), at)
                continue
        if name not in registry:
            problems.add(_unknown_scenario(name, registry), at)
            continue
        checked = problems.attempt(_read_scenario, registry[name], params, at)
        if checked is not None:
            scenarios[name] = checked
    problems.raise_any()
    return scenarios


def _unknown_scenario(name: str, registry: dict[str, Any]) -> str:
    close = closest(name, registry)
    hint = f"did you mean {close!r}? " if close else ""
    return f"unknown scenario; {hint}available: {', '.join(sorted(registry)) or 'none registered'}"


def _read_scenario(cls: Any, params: Any, where: str) -> dict[str, Any]:
    if not isinstance(params, dict):
        raise ConfigError("expected a table of the scenario's parameters", where)
    problems = Problems()
    check_keys(params, [f.name for f in cls.parameter_fields()], where, problems, what="parameter")
    problems.raise_any()
    found = cls.violations(params)
    if found:
        raise combine_errors([ConfigError(m, _key_in(m, params, where)) for m in found])
    try:
        cls(**params).check_parameters()
    except (TypeError, ValueError) as exc:
        raise ConfigError(str(exc), _key_in(str(exc), params, where)) from exc
    return dict(params)


def read_reporters(value: Any, where: str, reading: Reading) -> dict[str, str]:
    """Read ``[model_reporters]`` or ``[neighborhood_reporters]``: name = "module:function".

    Each reference is loaded (running its code, as ``import`` does) and checked as
    the model checks its own outputs: a function with a unit and a meaning, or an
    ``OutputVariable``, under a name that is new.
    """
    from waste_harmony.model.checks import own_outputs
    from waste_harmony.references import is_reference, load_reference, reference_of

    if not isinstance(value, dict):
        raise ConfigError(f'expected a table of name = "module:function", like [{where}]', where)
    problems = Problems()
    loaded: dict[str, Any] = {}
    refs: dict[str, str] = {}
    for name, ref in value.items():
        at = join(where, name)
        if not isinstance(ref, str) or not is_reference(ref):
            problems.add(
                'expected "package.module:function" or "path/to/file.py:function" '
                "(relative to this file)",
                at,
            )
            continue
        try:
            loaded[name] = load_reference(ref, base_dir=reading.base_dir)
        except (ValueError, TypeError, OSError) as exc:
            problems.add(str(exc), at)
            continue
        # A file is kept by its absolute path, so the reference means the same
        # file wherever the configuration goes next (a worker, a manifest).
        refs[name] = reference_of(loaded[name]) if _is_file(ref) else ref
    problems.raise_any()
    node_level = where == "neighborhood_reporters"
    try:
        own_outputs(
            None if node_level else loaded,
            loaded if node_level else None,
            record_neighborhoods=True,
        )
    except (ValueError, TypeError) as exc:
        raise ConfigError(str(exc), _key_in(str(exc), value, where)) from exc
    return refs


def _is_file(ref: str) -> bool:
    where = ref.rpartition(":")[0]
    return where.endswith(".py") or "/" in where or os.sep in where


def _read_output(value: Any, where: str, reading: Reading) -> OutputConfig:
    return OutputConfig(**OUTPUT(value, where, reading))


def output_folder(value: Any, where: str, reading: Reading) -> Path:
    """``[output] folder``: a path relative to the file, not the file's own folder.

    Results are replaced only where every file is the library's own
    (:mod:`waste_harmony.storage`); a file's own folder holds the file itself,
    so it is refused at once rather than when a run is over.
    """
    folder = relative_path(exists=False)(value, where, reading)
    if reading.base_dir is not None and folder.resolve() == reading.base_dir.resolve():
        raise ConfigError(
            "this is the file's own folder; results need a folder of their own, "
            'e.g. folder = "results/run"',
            where,
        )
    return folder


#: ``[output]``: what a run writes, and where (relative to the file).
OUTPUT = Table(
    (
        Key("folder", output_folder),
        Key("neighborhoods", flag, default=True),
        Key("figures", flag, default=True),
    ),
    like='[output] folder = "results/run"',
)

#: The top level of a run file.
RUN_KEYS = (
    Key("seed", integer(minimum=0)),
    Key("days", integer(minimum=1), default=365),
    Key("citizens", integer(minimum=0), default=10_000),
    Key("population", number(positive=True)),
    Key("city", read_city, default={}),
    Key("parameters", read_parameters, default={}),
    Key("scenarios", read_scenarios, default={}),
    Key("output", _read_output, default={}),
    Key("model_reporters", read_reporters, default={}),
    Key("neighborhood_reporters", read_reporters, default={}),
)


def read_run_file(
    data: dict[str, Any], reading: Reading, *own: Key
) -> tuple[RunConfig, dict[str, Any]]:
    """Read a run file, or a run file with tables of its own (sweep, calibration files).

    Parameters
    ----------
    data : dict
        The parsed file.
    reading : Reading
        The file (relative paths start from its folder).
    *own : Key
        The tables the file kind adds to a run file (``[sweep]``, ``[calibration]``):
        checked with the rest, every problem reported at once.

    Returns
    -------
    run : RunConfig
        The run part.
    values : dict
        The checked values of ``own``, by key.

    Raises
    ------
    ConfigError
        Naming the key path of every problem found.
    """
    values = Table((*RUN_KEYS, *own))(data, "", reading)
    extra = {key.name: values.pop(key.name) for key in own}
    return RunConfig(**values, source=reading.source), extra


def parse_run_config(
    data: dict[str, Any],
    *,
    base_dir: str | os.PathLike[str] | None = None,
    source: Path | None = None,
) -> RunConfig:
    """Validate run-file data (as parsed from TOML) into a :class:`RunConfig`.

    Parameters
    ----------
    data : dict
        The parsed file.
    base_dir : str or os.PathLike, optional
        Folder that relative paths (GraphML, scenario files, output) start from.
    source : pathlib.Path, optional
        The file the data came from (kept for the manifest).

    Returns
    -------
    RunConfig
        The validated configuration.

    Raises
    ------
    ConfigError
        Naming the key path of every problem found (its ``problems`` attribute
        lists them one by one).
    """
    reading = Reading(Path(base_dir) if base_dir is not None else None, source)
    return read_run_file(data, reading)[0]


def load_run_file(path: str | os.PathLike[str]) -> RunConfig:
    """Read and validate a TOML run file.

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    RunConfig
        The validated configuration.

    Raises
    ------
    ConfigError
        If the file is missing, is not valid TOML, or holds an invalid key or value.

    Examples
    --------
    >>> load_run_file("no/such/run.toml")
    Traceback (most recent call last):
    ...
    waste_harmony.config.ConfigError: run file not found: no/such/run.toml
    """
    return load_file(path, "run file", parse_run_config)
