"""Run files: TOML descriptions of a run, validated before anything runs.

A run file names the city, the citizens, the parameters, the scenarios with their
own parameters, the length, the seed and the outputs::

    seed = 7
    days = 365
    citizens = 20000

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

    [output]
    folder = "results/my-run"   # relative to this file, like every path in it

Every key is checked: an unknown key raises :class:`ConfigError` naming its path
(``scenarios.techcore.anounce_day``) and the closest valid key; a wrong type or an
out-of-range value names the key and what it expects. Files are read with the
standard library's :mod:`tomllib`.
"""

from __future__ import annotations

import difflib
import inspect
import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from waste_harmony import city as city_module
from waste_harmony.parameters import Parameters, violations

__all__ = [
    "GENERATORS",
    "CityConfig",
    "ConfigError",
    "OutputConfig",
    "RunConfig",
    "combine_errors",
    "load_run_file",
    "parse_run_config",
    "read_toml",
]

#: City generators a run file may name.
GENERATORS: dict[str, Callable[..., nx.Graph]] = {
    "default": city_module.default_city,
    "grid": city_module.grid_city,
    "organic": city_module.organic_city,
}

_TOP_KEYS = ("seed", "days", "citizens", "city", "parameters", "scenarios", "output")
_OUTPUT_KEYS = ("folder", "neighborhoods", "figures")


class ConfigError(ValueError):
    """A run or sweep file (or its values) is invalid.

    Attributes
    ----------
    key : str
        Dotted path of the offending key (empty for file-level problems).
    """

    def __init__(self, message: str, key: str = "") -> None:
        super().__init__(f"{key}: {message}" if key else message)
        self.key = key
        #: Every problem found (one :class:`ConfigError` each; just ``[self]`` unless
        #: several were collected with :func:`combine_errors`).
        self.problems: list[ConfigError] = [self]


def combine_errors(problems: list[ConfigError]) -> ConfigError:
    """One :class:`ConfigError` reporting every problem in ``problems`` (at least one).

    Parameters
    ----------
    problems : list of ConfigError
        The problems found, in file order.

    Returns
    -------
    ConfigError
        ``problems[0]`` if it is the only one, else an error whose message lists them
        all (``"3 problems: days: ...; city.generator: ...; ..."``) and whose
        ``problems`` attribute holds them.

    Examples
    --------
    >>> str(combine_errors([ConfigError("must be >= 1", "days"), ConfigError("bad", "seed")]))
    '2 problems: days: must be >= 1; seed: bad'
    """
    flat = [p for problem in problems for p in problem.problems]
    if len(flat) == 1:
        return flat[0]
    error = ConfigError(f"{len(flat)} problems: " + "; ".join(str(p) for p in flat))
    error.problems = flat
    return error


def _did_you_mean(key: str, valid: Any) -> str:
    close = difflib.get_close_matches(key, list(valid), n=1, cutoff=0.5)
    if close:
        return f"did you mean {close[0]!r}?"
    return f"valid keys: {', '.join(valid)}"


def _check_keys(table: dict[str, Any], valid: Any, path: str) -> None:
    problems = [
        ConfigError(f"unknown key; {_did_you_mean(key, valid)}", f"{path}.{key}" if path else key)
        for key in table
        if key not in valid
    ]
    if problems:
        raise combine_errors(problems)


def check_keys(table: dict[str, Any], valid: Any, path: str) -> None:
    """Raise :class:`ConfigError` naming every key of ``table`` not in ``valid``.

    Parameters
    ----------
    table : dict
        A TOML table.
    valid : collection of str
        Accepted keys.
    path : str
        The table's dotted path (for the message).
    """
    _check_keys(table, valid, path)


def did_you_mean(key: str, valid: Any) -> str:
    """A hint naming the valid key closest to ``key`` (or listing them all).

    Parameters
    ----------
    key : str
        The unknown key.
    valid : collection of str
        Accepted keys.

    Returns
    -------
    str
        ``"did you mean 'x'?"`` or the list of valid keys.
    """
    return _did_you_mean(key, valid)


def leaf_paths(table: Any, prefix: str = "") -> list[str]:
    """Dotted paths of the non-table values inside a (nested) table.

    Parameters
    ----------
    table : object
        A TOML value; a dict is walked, anything else is a leaf.
    prefix : str
        Path of ``table`` itself.

    Returns
    -------
    list of str
        ``prefix`` alone for a leaf; the paths of its leaves for a table.

    Examples
    --------
    >>> leaf_paths({"day": 30, "set": {"mobility": 0.1}})
    ['day', 'set.mobility']
    """
    if not isinstance(table, dict) or not table:
        return [prefix] if prefix else []
    out = []
    for key, value in table.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        out += leaf_paths(value, path) if isinstance(value, dict) else [path]
    return out


def with_path(table: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of a (nested) table with the value at a dotted path replaced.

    Used for swept scenario parameters inside tables, such as
    ``scenarios.policy.set.waste_per_capita_kg``. Tables on the way are copied,
    never changed in place; a key given as a number in the path (a day in
    ``steps``) matches the table's key of that text or number.

    Parameters
    ----------
    table : dict
        The table.
    path : str
        Dotted path, e.g. ``"set.waste_per_capita_kg"``.
    value : object
        The new value.

    Returns
    -------
    dict
        The new table.

    Examples
    --------
    >>> with_path({"day": 30, "set": {"mobility": 0.1}}, "set.mobility", 0.2)
    {'day': 30, 'set': {'mobility': 0.2}}
    """
    head, _, rest = path.partition(".")
    out = dict(table)
    key: Any = head
    if head not in out:
        key = next((k for k in out if str(k) == head), head)
    if rest:
        inner = out.get(key)
        out[key] = with_path(inner if isinstance(inner, dict) else {}, rest, value)
    else:
        out[key] = value
    return out


def check_int(value: Any, key: str, *, minimum: int) -> int:
    """``value`` if it is an integer ``>= minimum``, else :class:`ConfigError` at ``key``.

    Parameters
    ----------
    value : object
        The TOML value.
    key : str
        Its dotted key (for the message).
    minimum : int
        Smallest accepted value.

    Returns
    -------
    int
        The value.
    """
    return _int(value, key, minimum=minimum)


def _int(value: Any, key: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"expected an integer, got {type(value).__name__} {value!r}", key)
    if value < minimum:
        raise ConfigError(f"must be >= {minimum}, got {value}", key)
    return value


@dataclass(frozen=True)
class CityConfig:
    """Where the city comes from: a generator with options, or a GraphML file.

    Attributes
    ----------
    generator : str
        Name in :data:`GENERATORS` (ignored when ``graphml`` is set).
    options : dict
        Keyword arguments of the generator.
    graphml : pathlib.Path or None
        A GraphML file to load instead.
    file : pathlib.Path or None
        A district polygon file for :func:`~waste_harmony.city.from_districts`
        (``options`` holds its column mapping).
    osm : pathlib.Path or None
        An ``.osm`` file for :func:`~waste_harmony.city.from_osm` (``options``
        holds ``cell_km`` and the other keywords).
    """

    generator: str = "default"
    options: dict[str, Any] = field(default_factory=dict)
    graphml: Path | None = None
    file: Path | None = None
    osm: Path | None = None

    def build(self) -> nx.Graph:
        """Make the city graph.

        Returns
        -------
        networkx.Graph
            The city.
        """
        if self.graphml is not None:
            return city_module.load_city(self.graphml)
        if self.file is not None:
            return _district_city(self.file, self.options)
        if self.osm is not None:
            return city_module.from_osm(self.osm, **self.options)
        return GENERATORS[self.generator](**self.options)


def _district_city(file: Path, options: dict[str, Any]) -> nx.Graph:
    """``from_districts`` for a run file: a layer in pieces names the ``[city]`` key."""
    import warnings

    with warnings.catch_warnings():
        # the loader's warning names the Python keyword; the error below names the key
        warnings.filterwarnings("ignore", "the district layer falls into", UserWarning)
        G = city_module.from_districts(file, **options)
    pieces = nx.number_connected_components(G)
    if pieces > 1:
        raise ValueError(
            f"the district layer falls into {pieces} pieces that share no border (islands, "
            'or gaps wider than snap_km); add connect = "nearest" to [city] (on the command '
            "line: --city connect=nearest) to join them with declared links that citizens "
            "travel and pollution does not cross, or a larger snap_km if the gaps are "
            "digitising errors"
        )
    return G


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
    days: int = 365
    seed: int | None = None
    city: CityConfig = field(default_factory=CityConfig)
    parameters: dict[str, Any] = field(default_factory=dict)
    scenarios: dict[str, dict[str, Any]] = field(default_factory=dict)
    output: OutputConfig = field(default_factory=OutputConfig)
    source: Path | None = None

    def make_scenarios(self) -> list[Any]:
        """Instantiate the scenarios with their parameters.

        Returns
        -------
        list of Scenario
            In file order.
        """
        from waste_harmony.scenarios import scenario_class

        base = self.source.parent if self.source is not None else None
        return [
            scenario_class(name, base_dir=base)(**params) for name, params in self.scenarios.items()
        ]

    def build_model(self, **overrides: Any) -> Any:
        """Build the :class:`~waste_harmony.CityModel` this file describes.

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
            "rng": self.seed,
            "days": self.days,
            "record_neighborhoods": self.output.neighborhoods,
            **self.parameters,
            **overrides,
        }
        try:
            city = self.city.build()
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
        city: dict[str, Any] = (
            {"graphml": str(self.city.graphml)}
            if self.city.graphml
            else {"generator": self.city.generator, **self.city.options}
        )
        for key in ("file", "osm"):
            if getattr(self.city, key) is not None:
                options = {
                    k: str(v) if isinstance(v, Path) else v for k, v in self.city.options.items()
                }
                city = {key: str(getattr(self.city, key)), **options}
        output: dict[str, Any] = {
            "neighborhoods": self.output.neighborhoods,
            "figures": self.output.figures,
        }
        if self.output.folder is not None:
            output["folder"] = str(self.output.folder)
        data: dict[str, Any] = {
            "citizens": self.citizens,
            "days": self.days,
            "city": city,
            "parameters": dict(self.parameters),
            "scenarios": {k: dict(v) for k, v in self.scenarios.items()},
            "output": output,
        }
        if self.seed is not None:
            data["seed"] = self.seed
        return data


def _blame(message: str, config: RunConfig) -> str:
    for name in config.parameters:
        if repr(name) in message:
            return f"parameters.{name}"
    for name in config.scenarios:
        if repr(name) in message:
            return f"scenarios.{name}"
    return "parameters"


def _parse_city(table: Any, base_dir: Path | None) -> CityConfig:
    if not isinstance(table, dict):
        raise ConfigError('expected a table like [city] generator = "grid"', "city")
    if "graphml" in table:
        _check_keys(table, ("graphml",), "city")
        path = Path(table["graphml"])
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        if not path.exists():
            raise ConfigError(f"GraphML file not found: {path}", "city.graphml")
        return CityConfig(graphml=path)
    for key in ("file", "osm"):
        if key in table:
            return _parse_geo_city(table, key, base_dir)
    name = table.get("generator", "default")
    if name not in GENERATORS:
        raise ConfigError(
            f"unknown generator {name!r}; {_did_you_mean(str(name), GENERATORS)}", "city.generator"
        )
    options = {k: v for k, v in table.items() if k != "generator"}
    accepted = [p for p in inspect.signature(GENERATORS[name]).parameters]
    for key in options:
        if key not in accepted:
            raise ConfigError(_city_key_message(key, name, accepted), f"city.{key}")
    return CityConfig(generator=name, options=options)


def _city_key_message(key: str, generator: str, accepted: list[str]) -> str:
    """An unknown ``[city]`` key: the closest key and every valid one, by source."""
    sources = ["generator", "graphml", "file", "osm"]
    close = difflib.get_close_matches(key, [*accepted, *sources], n=1, cutoff=0.5)
    hint = f"did you mean {close[0]!r}? " if close else ""
    owners = [
        g
        for g, make in GENERATORS.items()
        if g != generator and key in inspect.signature(make).parameters
    ]
    if owners:
        hint += f"({key!r} is an option of generator = {owners[0]!r}) "
    listing = "; ".join(
        f'generator = "{g}": {", ".join(inspect.signature(make).parameters)}'
        for g, make in GENERATORS.items()
    )
    return (
        f"unknown key for generator = {generator!r}; {hint}valid [city] keys: generator, "
        f"or graphml, file or osm (a city from a file); {listing}"
    )


_GEO_CITY_KEYS = {
    "file": (
        "id_column",
        "population",
        "zone",
        "marginalisation",
        "columns",
        "table",
        "table_id",
        "zone_map",
        "crs",
        "unit_km",
        "snap_km",
        "min_border_km",
        "connect",
        "name",
    ),
    "osm": ("cell_km", "population", "min_share", "street_buffer_km", "name"),
}


def _parse_geo_city(table: dict[str, Any], key: str, base_dir: Path | None) -> CityConfig:
    """``[city] file = ...`` (districts) or ``[city] osm = ...`` (streets)."""
    _check_keys(table, (key, *_GEO_CITY_KEYS[key]), "city")

    def resolve(value: Any, where: str) -> Path:
        if not isinstance(value, str):
            raise ConfigError(f"expected a path string, got {type(value).__name__}", where)
        path = Path(value)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        if not path.exists():
            raise ConfigError(f"file not found: {path}", where)
        return path

    path = resolve(table[key], f"city.{key}")
    options = {k: v for k, v in table.items() if k != key}
    if key == "file" and "id_column" not in options:
        raise ConfigError('a district file needs id_column = "..." (the id column)', "city")
    if "table" in options:
        options["table"] = resolve(options["table"], "city.table")
    for name in ("columns", "zone_map"):
        if name in options and not isinstance(options[name], dict):
            raise ConfigError('expected a table like { land_price = "HOVAL" }', f"city.{name}")
    numbers = (
        ("cell_km", "population", "min_share", "street_buffer_km") if key == "osm" else ("unit_km",)
    )
    for name in numbers:
        value = options.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ConfigError(
                f"expected a number, got {type(value).__name__} {value!r}", f"city.{name}"
            )
        if value is not None and not value > 0:
            raise ConfigError(f"must be > 0, got {value}", f"city.{name}")
    if key == "file":
        return CityConfig(options=options, file=path)
    return CityConfig(options=options, osm=path)


def _parse_parameters(table: Any) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ConfigError("expected a table of parameter = value", "parameters")
    problems: list[ConfigError] = []
    try:
        _check_keys(table, Parameters.names(), "parameters")
    except ConfigError as exc:
        problems.append(exc)
    known = {k: v for k, v in table.items() if k in Parameters.names()}
    for message in violations(known):
        key = next((k for k in known if repr(k) in message), "")
        problems.append(ConfigError(message, f"parameters.{key}" if key else "parameters"))
    if problems:
        raise combine_errors(problems)
    try:
        Parameters.from_kwargs(table)
    except (TypeError, ValueError) as exc:
        key = next((k for k in table if repr(k) in str(exc)), "")
        raise ConfigError(str(exc), f"parameters.{key}" if key else "parameters") from exc
    return dict(table)


def _parse_scenarios(table: Any, base: Path | None = None) -> dict[str, dict[str, Any]]:
    from waste_harmony.scenarios import available, scenario_class
    from waste_harmony.scenarios.registry import is_reference

    if not isinstance(table, dict):
        raise ConfigError("expected one table per scenario, like [scenarios.techcore]", "scenarios")
    registry = available()
    scenarios: dict[str, dict[str, Any]] = {}
    problems: list[ConfigError] = []
    for name, params in table.items():
        if is_reference(name):
            # Your own scenario: 'package.module:Class' or 'path/to/file.py:Class'
            # (relative to this file's folder). Loading it runs that code.
            try:
                registry[name] = scenario_class(name, base_dir=base)
            except (TypeError, ValueError) as exc:
                problems.append(ConfigError(str(exc), f"scenarios.{name}"))
                continue
        try:
            scenarios[name] = _parse_scenario(registry, name, params)
        except ConfigError as exc:
            problems.append(exc)
    if problems:
        raise combine_errors(problems)
    return scenarios


def _parse_scenario(registry: dict[str, Any], name: str, params: Any) -> dict[str, Any]:
    key = f"scenarios.{name}"
    if name not in registry:
        close = difflib.get_close_matches(name, list(registry), n=1, cutoff=0.5)
        hint = f"did you mean {close[0]!r}? " if close else ""
        listing = ", ".join(sorted(registry)) or "none registered"
        raise ConfigError(f"unknown scenario; {hint}available: {listing}", key)
    if not isinstance(params, dict):
        raise ConfigError("expected a table of the scenario's parameters", key)
    cls = registry[name]
    fields = [f.name for f in cls.parameter_fields()]
    _check_keys(params, fields, key)
    found = cls.violations(params)
    if found:
        raise combine_errors(
            [
                ConfigError(msg, next((f"{key}.{k}" for k in params if repr(k) in msg), key))
                for msg in found
            ]
        )
    try:
        instance = cls(**params)
        instance.check_parameters()
    except (TypeError, ValueError) as exc:
        bad = next((k for k in params if repr(k) in str(exc)), "")
        raise ConfigError(str(exc), f"{key}.{bad}" if bad else key) from exc
    return dict(params)


def _parse_output(table: Any, base_dir: Path | None) -> OutputConfig:
    if not isinstance(table, dict):
        raise ConfigError('expected a table like [output] folder = "results/run"', "output")
    _check_keys(table, _OUTPUT_KEYS, "output")
    folder = table.get("folder")
    if folder is not None:
        if not isinstance(folder, str):
            raise ConfigError(f"expected a path string, got {folder!r}", "output.folder")
        folder = Path(folder)
        if not folder.is_absolute() and base_dir is not None:
            folder = base_dir / folder  # like every path in a run file: relative to it
    for flag in ("neighborhoods", "figures"):
        if flag in table and not isinstance(table[flag], bool):
            raise ConfigError(f"expected true or false, got {table[flag]!r}", f"output.{flag}")
    return OutputConfig(
        folder=folder,
        neighborhoods=table.get("neighborhoods", True),
        figures=table.get("figures", True),
    )


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
        Folder that relative paths (GraphML) are resolved against.
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
    base = Path(base_dir) if base_dir is not None else None
    problems: list[ConfigError] = []

    def attempt(parse: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return parse(*args, **kwargs)
        except ConfigError as exc:  # keep going: report every mistake at once
            problems.append(exc)
            return None

    attempt(_check_keys, data, _TOP_KEYS, "")
    seed = data.get("seed")
    if seed is not None:
        seed = attempt(_int, seed, "seed", minimum=0)
    values = {
        "citizens": attempt(_int, data.get("citizens", 10_000), "citizens", minimum=0),
        "days": attempt(_int, data.get("days", 365), "days", minimum=1),
        "seed": seed,
        "city": attempt(_parse_city, data.get("city", {}), base),
        "parameters": attempt(_parse_parameters, data.get("parameters", {})),
        "scenarios": attempt(_parse_scenarios, data.get("scenarios", {}), base),
        "output": attempt(_parse_output, data.get("output", {}), base),
    }
    if problems:
        raise combine_errors(problems)
    return RunConfig(**values, source=source)


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
    """
    file = Path(path)
    return parse_run_config(read_toml(file, "run file"), base_dir=file.parent, source=file)


def read_toml(path: str | os.PathLike[str], what: str) -> dict[str, Any]:
    """Read a TOML file, turning a missing file or bad syntax into :class:`ConfigError`.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    what : str
        What the file is, for messages (``"run file"``, ``"sweep file"``).

    Returns
    -------
    dict
        The parsed TOML.
    """
    file = Path(path)
    if file.is_dir():
        raise ConfigError(f"{what} {file} is a folder; give the path of a TOML {what}")
    if not file.is_file():
        raise ConfigError(f"{what} not found: {file}")
    try:
        return tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file} is not valid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{file} is not a UTF-8 text file ({exc.reason} at byte {exc.start}); save the "
            f"{what} as UTF-8 text"
        ) from exc
