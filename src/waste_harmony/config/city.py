"""The ``[city]`` table of a run file: where the city comes from.

One of four sources, each with its own keys::

    [city]                      # a generator and its options
    generator = "grid"          # "default", "grid" or "organic"
    rows = 12

    [city]                      # a GraphML file (relative to the run file)
    graphml = "my_city.graphml"

    [city]                      # district polygons (the geo extra)
    file = "districts.geojson"
    id_column = "GEOID"

    [city]                      # OpenStreetMap streets cut into cells (the geo extra)
    osm = "place.osm"
    cell_km = 0.25

The generator's keys are its keyword arguments (read from its signature); an
unknown key lists every valid one, by source.

**The run's seed fixes the city.** A random generator (``grid``, ``organic``)
without its own ``seed`` gets one derived from the run's seed (:func:`city_seed`),
so the same run file and seed give the same city, and the same series, every
time; in an experiment the seed derives from the root seed, so every run of it
shares one city (:func:`waste_harmony.batch.plan.pin_city_seed`). A ``seed`` in
``[city]`` fixes the city whatever the run's seed. ``generator = "default"`` is the
one documented city (:func:`~waste_harmony.city.default_city`, seed 0) unless given a
seed. The city's seed is recorded in every run's manifest (``city.seed``) with a
hash of the city.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from waste_harmony import city as city_module
from waste_harmony.config.errors import ConfigError, closest
from waste_harmony.config.reader import (
    Key,
    Problems,
    Reading,
    Table,
    anything,
    join,
    mapping,
    number,
    one_of,
    relative_path,
)

__all__ = ["GENERATORS", "RANDOM_GENERATORS", "CityConfig", "city_seed", "read_city"]

#: City generators a run file may name.
GENERATORS: dict[str, Callable[..., nx.Graph]] = {
    "default": city_module.default_city,
    "grid": city_module.grid_city,
    "organic": city_module.organic_city,
}

#: Generators whose city is random: without a seed of their own, the run's seed fixes it.
RANDOM_GENERATORS = ("grid", "organic")

#: The keys that choose the source; the generator's options are the rest.
SOURCES = ("generator", "graphml", "file", "osm")

#: Spawn key separating a city's seed from the seed it derives from.
_CITY_STREAM = 0xC17


def city_seed(seed: int) -> int:
    """The seed of a generated city, derived from a run's (or an experiment's root) seed.

    A stream of its own (:class:`numpy.random.SeedSequence` with a spawn key), so
    the city's random draws are independent of the model's, though both follow
    from one seed.

    Parameters
    ----------
    seed : int
        The run's seed, or an experiment's root seed.

    Returns
    -------
    int
        A seed in ``[0, 2**32)``.

    Examples
    --------
    >>> city_seed(1) == city_seed(1), city_seed(1) == city_seed(2)
    (True, False)
    """
    sequence = np.random.SeedSequence(int(seed), spawn_key=(_CITY_STREAM,))
    return int(sequence.generate_state(1, dtype=np.uint32)[0])


@dataclass(frozen=True)
class CityConfig:
    """Where the city comes from: a generator with options, or a file.

    Attributes
    ----------
    generator : str
        Name in :data:`GENERATORS` (ignored when a file is given).
    options : dict
        Keyword arguments of the generator, of
        :func:`~waste_harmony.city.from_districts` or of
        :func:`~waste_harmony.city.from_osm`.
    graphml : pathlib.Path or None
        A GraphML file to load instead.
    file : pathlib.Path or None
        A district polygon file for :func:`~waste_harmony.city.from_districts`.
    osm : pathlib.Path or None
        An ``.osm`` file for :func:`~waste_harmony.city.from_osm`.

    Examples
    --------
    >>> CityConfig(generator="grid", options={"rows": 2, "cols": 3}).build().number_of_nodes()
    6
    """

    generator: str = "default"
    options: dict[str, Any] = field(default_factory=dict)
    graphml: Path | None = None
    file: Path | None = None
    osm: Path | None = None

    @property
    def needs_seed(self) -> bool:
        """Whether the city is random and has no seed of its own (see :meth:`seeded`)."""
        return (
            self.graphml is None
            and self.file is None
            and self.osm is None
            and self.generator in RANDOM_GENERATORS
            and "seed" not in self.options
        )

    def seeded(self, seed: int) -> CityConfig:
        """The city with ``seed`` if it is random and has none of its own, else unchanged.

        Examples
        --------
        >>> CityConfig(generator="grid").seeded(7).options
        {'seed': 7}
        >>> CityConfig(generator="grid", options={"seed": 1}).seeded(7).options
        {'seed': 1}
        """
        if not self.needs_seed:
            return self
        return CityConfig(generator=self.generator, options={**self.options, "seed": int(seed)})

    def size(self) -> tuple[int, int] | None:
        """Neighbourhoods and streets a generated city will have (``None`` for a file).

        Read from the generator's options (or its defaults) without building it; a
        street count is the grid's exact one, an organic city's expected one.

        Examples
        --------
        >>> CityConfig(generator="grid", options={"rows": 3, "cols": 4}).size()
        (12, 17)
        """
        if self.graphml is not None or self.file is not None or self.osm is not None:
            return None
        defaults = {
            name: p.default
            for name, p in inspect.signature(GENERATORS[self.generator]).parameters.items()
        }
        options = {**defaults, **self.options}
        if self.generator == "organic":
            n = options["n_nodes"]
            if not _whole(n) or n < 2 or not isinstance(options.get("radius") or 0.0, float | int):
                return None  # the generator names the wrong value
            radius = options.get("radius") or math.sqrt(2.0 * math.log(max(n, 2)) / (math.pi * n))
            return n, int(0.5 * n * (n - 1) * min(math.pi * radius**2, 1.0))
        rows, cols = (10, 10) if self.generator == "default" else (options["rows"], options["cols"])
        if not all(_whole(v) for v in (rows, cols)):
            return None  # the generator names the wrong value
        return rows * cols, rows * (cols - 1) + cols * (rows - 1)

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

    def to_dict(self) -> dict[str, Any]:
        """The ``[city]`` table as plain data (paths as strings)."""
        if self.graphml is not None:
            return {"graphml": str(self.graphml)}
        options = {k: str(v) if isinstance(v, Path) else v for k, v in self.options.items()}
        for key in ("file", "osm"):
            source = getattr(self, key)
            if source is not None:
                return {key: str(source), **options}
        return {"generator": self.generator, **options}


def _whole(value: Any) -> bool:
    """Whether ``value`` is a whole number (not a bool): a size the estimate can use."""
    return isinstance(value, int) and not isinstance(value, bool)


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


_POSITIVE = number(positive=True)

#: The keys of each file source.
GRAPHML = Table((Key("graphml", relative_path()),))
DISTRICTS = Table(
    (
        Key("file", relative_path()),
        Key(
            "id_column",
            anything,
            missing='a district file needs id_column = "..." (the column of unique district ids)',
        ),
        *(Key(name, anything) for name in ("population", "zone", "marginalisation")),
        Key("columns", mapping('columns like { land_price = "HOVAL" }')),
        Key("table", relative_path()),
        Key("table_id", anything),
        Key("zone_map", mapping('zones like { R = "residential" }')),
        Key("crs", anything),
        Key("unit_km", _POSITIVE),
        # checked by from_districts, whose messages name them
        *(Key(name, anything) for name in ("snap_km", "min_border_km", "connect")),
        Key("name", anything),
    )
)
STREETS = Table(
    (
        Key("osm", relative_path()),
        *(Key(name, _POSITIVE) for name in ("cell_km", "population", "min_share")),
        Key("street_buffer_km", _POSITIVE),
        Key("name", anything),
    )
)


def read_city(value: Any, where: str, reading: Reading) -> CityConfig:
    """Read a ``[city]`` table (a :data:`~waste_harmony.config.reader.Check`).

    Parameters
    ----------
    value : object
        The table.
    where : str
        Its key (``"city"``).
    reading : Reading
        The file (relative paths start from its folder).

    Returns
    -------
    CityConfig
        The source and its options.

    Raises
    ------
    ConfigError
        Naming every unknown key, missing file and wrong value.
    """
    if not isinstance(value, dict):
        raise ConfigError('expected a table like [city] generator = "grid"', where)
    for key, table in (("graphml", GRAPHML), ("file", DISTRICTS), ("osm", STREETS)):
        if key in value:
            checked = table(value, where, reading)
            options = {k: checked[k] for k in value if k != key}  # in the file's order
            return CityConfig(options=options, **{key: checked[key]})
    name = one_of(GENERATORS, what="generator")(
        value.get("generator", "default"), join(where, "generator"), reading
    )
    accepted = list(inspect.signature(GENERATORS[name]).parameters)
    problems = Problems()
    for key in value:
        if key != "generator" and key not in accepted:
            problems.add(_unknown_key_message(key, name, accepted), join(where, key))
    problems.raise_any()
    return CityConfig(generator=name, options={k: v for k, v in value.items() if k != "generator"})


def _unknown_key_message(key: str, generator: str, accepted: list[str]) -> str:
    """An unknown ``[city]`` key: the closest key and every valid one, by source."""
    close = closest(key, [*accepted, *SOURCES])
    hint = f"did you mean {close!r}? " if close else ""
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
