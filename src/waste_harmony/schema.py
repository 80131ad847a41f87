"""The one results schema: file names, id columns, dtypes, and a model's results as tables.

Every results folder — a ``waste-harmony run`` folder, a saved
:class:`~waste_harmony.results.RunResult`, and each run of
:func:`waste_harmony.experiments.run`, ``ensemble``, ``sweep`` or ``compare`` —
holds the same files with the same columns, built by :func:`model_tables`:

=========================  ============================================================
file                       columns (in this order)
=========================  ============================================================
``model.parquet``          id columns, ``day`` (int64), one float64 column per
                           model variable (a category, such as ``facility_status``
                           or an own output of unit ``"category"``: string)
``neighborhoods.parquet``  id columns, ``day`` (int64), ``node`` (node id, see below),
                           ``zone`` (string), ``area_km2`` (float64), one float64
                           column per neighbourhood variable
``events.parquet``         id columns, ``day`` (int64), ``kind`` (string), ``node``
                           (node id or null for citywide events), ``scenario`` (the
                           scenario that logged it, or null), ``details`` (the other
                           details as a JSON object, keys sorted)
``manifest.json``          parameters, seed, scenarios, city, versions, timing;
                           written last, so a folder with a manifest is complete
``city.graphml``           the city graph (CLI runs and saved ``RunResult`` only)
=========================  ============================================================

The id columns are ``run_id`` (string), ``label`` (string, only in labelled runs
such as a comparison's ``baseline``/``variant``), ``point``, ``replicate`` and
``seed`` (int64), then one column per swept parameter. A single run has
``run_id="run"``, ``point=0``, ``replicate=0``. Frames have a plain
:class:`~pandas.RangeIndex`; ``day`` is a column.

**Node ids** are stored in Parquet as JSON text (``3``, ``"market"``, ``[0, 1]``)
so that integer, string and tuple ids (e.g. from :func:`networkx.grid_2d_graph`)
all survive the round trip: :func:`decode_node` turns the text back into the
original id (JSON arrays become tuples), and every reader in the library
(:func:`table_to_frame`, :func:`waste_harmony.load_results`,
:class:`~waste_harmony.experiments.SweepResult`) does so, giving an object column
of the original ids. **Event details** differ by kind; :func:`expand_details`
turns the ``details`` column into one column per key.

Examples
--------
>>> encode_node((0, 1)), decode_node(encode_node((0, 1)))
('[0, 1]', (0, 1))
>>> decode_node(encode_node(3)), decode_node(encode_node("3"))
(3, '3')
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "CITY_FILE",
    "EVENT_COLUMNS",
    "EVENT_FILE",
    "FILES",
    "ID_COLUMNS",
    "MANIFEST",
    "MODEL_FILE",
    "NEIGHBORHOOD_FILE",
    "RunIds",
    "decode_node",
    "encode_node",
    "expand_details",
    "frame_to_table",
    "json_safe",
    "json_text",
    "key_columns",
    "model_tables",
    "read_json",
    "table_to_frame",
    "write_table",
]

#: File names inside a results folder.
MODEL_FILE = "model.parquet"
NEIGHBORHOOD_FILE = "neighborhoods.parquet"
EVENT_FILE = "events.parquet"
MANIFEST = "manifest.json"
CITY_FILE = "city.graphml"

#: Table kind → file name.
FILES = {"model": MODEL_FILE, "neighborhoods": NEIGHBORHOOD_FILE, "events": EVENT_FILE}

#: Columns identifying a run, first in every table (``label`` only in labelled runs),
#: followed by one column per swept parameter.
ID_COLUMNS = ("run_id", "label", "point", "replicate", "seed")

#: The columns of the events table after the id columns.
EVENT_COLUMNS = ("day", "kind", "node", "scenario", "details")


def json_safe(value: Any) -> Any:
    """A JSON-serialisable copy of ``value`` (numpy scalars → Python, tuples → lists).

    Parameters
    ----------
    value : object
        Nested dicts, lists, tuples and scalars.

    Returns
    -------
    object
        Dict keys become strings; unknown objects become their ``repr``.

    Examples
    --------
    >>> import numpy as np
    >>> json_safe({1: (np.int64(2), None)})
    {'1': [2, None]}
    """
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return repr(value)


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return repr(value)


def json_text(value: Any) -> str:
    """``value`` as compact JSON text with sorted keys (numpy scalars and sets allowed).

    Parameters
    ----------
    value : object
        Anything; objects JSON cannot hold are written as their ``repr``.

    Returns
    -------
    str
        The JSON text.

    Examples
    --------
    >>> json_text({"b": 1, "a": {2, 3}})
    '{"a": [2, 3], "b": 1}'
    """
    return json.dumps(value, default=_json_default, sort_keys=True)


def encode_node(node: Any) -> str | None:
    """A node id as JSON text (``None`` stays ``None``); see :func:`decode_node`.

    Parameters
    ----------
    node : hashable or None
        An int, str or tuple node id (numpy scalars allowed).

    Returns
    -------
    str or None
        The JSON text.
    """
    if node is None:
        return None
    return json.dumps(json_safe(node))


def _tuples(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


def decode_node(text: str | None) -> Any:
    """The node id that :func:`encode_node` wrote (JSON arrays become tuples).

    Parameters
    ----------
    text : str or None
        JSON text.

    Returns
    -------
    object
        The node id, or ``None``.
    """
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return None
    return _tuples(json.loads(text))


def _object_array(values: list[Any]) -> np.ndarray:
    # np.asarray would turn a list of tuples into a 2-D array.
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        out[i] = v
    return out


@dataclass(frozen=True)
class RunIds:
    """What identifies a run in its tables: the values of the id columns.

    Attributes
    ----------
    run_id : str
        The run's id (``"run"`` for a single run).
    seed : int
        Its seed.
    point, replicate : int
        Parameter point and replicate in an experiment's plan (0 for a single run).
    label : str or None
        A label (``"baseline"``, ``"variant"``, ...); no ``label`` column if ``None``.
    parameters : dict
        Swept parameter → value at this point.
    kinds : dict
        Swept parameter → column kind (``"int"``, ``"float"``, ``"bool"``, ``"str"``
        or ``"json"``); one column per entry, in this order.
    """

    run_id: str = "run"
    seed: int = 0
    point: int = 0
    replicate: int = 0
    label: str | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    kinds: Mapping[str, str] = field(default_factory=dict)

    def columns(self, n: int) -> dict[str, Any]:
        """The id and parameter columns, each ``n`` long (Arrow arrays).

        Parameters
        ----------
        n : int
            Rows.

        Returns
        -------
        dict
            Column name → array.
        """
        import pyarrow as pa

        columns: dict[str, Any] = {"run_id": pa.repeat(pa.scalar(self.run_id), n)}
        if self.label is not None:
            columns["label"] = pa.repeat(pa.scalar(self.label), n)
        columns["point"] = pa.array(np.full(n, self.point, dtype=np.int64))
        columns["replicate"] = pa.array(np.full(n, self.replicate, dtype=np.int64))
        columns["seed"] = pa.array(np.full(n, self.seed, dtype=np.int64))
        for name, kind in self.kinds.items():
            columns[name] = _constant(self.parameters.get(name), kind, n)
        return columns


def _arrow_type(kind: str) -> Any:
    import pyarrow as pa

    return {
        "int": pa.int64(),
        "float": pa.float64(),
        "bool": pa.bool_(),
        "str": pa.string(),
        "json": pa.string(),
    }[kind]


def _constant(value: Any, kind: str, n: int) -> Any:
    import pyarrow as pa

    kind_type = _arrow_type(kind)
    if value is None:
        return pa.nulls(n, kind_type)
    if kind == "json":
        value = json_text(value)
    elif hasattr(value, "item"):
        value = value.item()
    if kind == "float":
        value = float(value)
    return pa.repeat(pa.scalar(value, type=kind_type), n)


def model_tables(model: Any, ids: RunIds | None = None) -> dict[str, pa.Table]:
    """A finished model's results as the schema's Arrow tables.

    Parameters
    ----------
    model : CityModel
        A model that has run.
    ids : RunIds, optional
        The id columns (default: a single run, ``run_id="run"``, the model's seed).

    Returns
    -------
    dict
        ``"model"``, ``"neighborhoods"`` (absent if the model did not record them)
        and ``"events"``: :class:`pyarrow.Table` with the columns of the module
        docstring.

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> model = CityModel(n_citizens=100, rng=1)
    >>> model.run_for(2)
    >>> tables = model_tables(model)
    >>> tables["model"].column_names[:6]
    ['run_id', 'point', 'replicate', 'seed', 'day', 'mean_concern']
    >>> tables["events"].column_names
    ['run_id', 'point', 'replicate', 'seed', 'day', 'kind', 'node', 'scenario', 'details']
    """
    import pyarrow as pa

    if ids is None:
        ids = RunIds(seed=int(model.seed))
    series = model.datacollector.model_vars
    n = len(next(iter(series.values()))) if series else 0
    columns = ids.columns(n)
    # The recorded days: day 0 (the initial state) and each simulated day.
    columns["day"] = pa.array(np.asarray(model.recorded_days, dtype=np.int64))
    # A category (unit "category": a status, a yes/no outcome) is stored as text.
    categories = {o.name for o in getattr(model, "outputs", ()) if o.unit == "category"}
    for name, values in series.items():
        if name in categories:
            columns[name] = pa.array([str(v) for v in values], type=pa.string())
        elif values and isinstance(values[0], str):
            columns[name] = pa.array(values, type=pa.string())
        else:
            columns[name] = pa.array(np.asarray(values, dtype=np.float64))
    tables = {"model": pa.table(columns)}

    recorder = model.neighborhood_recorder
    if recorder is not None:
        days, m = recorder.n_days, recorder.n_nodes
        columns = ids.columns(days * m)
        columns["day"] = pa.array(np.repeat(np.asarray(recorder.days, dtype=np.int64), m))
        positions = pa.array(np.tile(np.arange(m, dtype=np.int32), days))
        nodes = pa.array([encode_node(v) for v in model.node_ids], type=pa.string())
        columns["node"] = nodes.take(positions)
        zones = pa.array([str(z) for z in model.neighborhoods.zone], type=pa.string())
        columns["zone"] = zones.take(positions)
        area = np.asarray(model.neighborhoods.area_km2, dtype=np.float64)
        columns["area_km2"] = pa.array(np.tile(area, days))
        for name in recorder.variables:
            columns[name] = pa.array(np.asarray(recorder.array(name), dtype=np.float64).reshape(-1))
        tables["neighborhoods"] = pa.table(columns)

    log = model.event_log
    columns = ids.columns(len(log))
    columns["day"] = pa.array(np.array([e.day for e in log], dtype=np.int64))
    columns["kind"] = pa.array([e.kind for e in log], type=pa.string())
    columns["node"] = pa.array([encode_node(e.node) for e in log], type=pa.string())
    columns["scenario"] = pa.array(
        [None if e.details.get("scenario") is None else str(e.details["scenario"]) for e in log],
        type=pa.string(),
    )
    columns["details"] = pa.array(
        [json_text({k: v for k, v in e.details.items() if k != "scenario"}) for e in log],
        type=pa.string(),
    )
    tables["events"] = pa.table(columns)
    return tables


def table_to_frame(table: pa.Table) -> pd.DataFrame:
    """A schema table as a pandas frame, with node ids decoded (:func:`decode_node`).

    Parameters
    ----------
    table : pyarrow.Table
        A table of :func:`model_tables` or read from a results file.

    Returns
    -------
    pandas.DataFrame
        The frame (RangeIndex; ``node`` an object column of the original ids).
    """
    frame = table.to_pandas()
    if "node" in frame.columns:
        codes, uniques = pd.factorize(frame["node"], use_na_sentinel=True)
        decoded = _object_array([decode_node(u) for u in uniques] + [None])
        frame["node"] = pd.Series(decoded[codes], index=frame.index, dtype=object)
    return frame


def frame_to_table(frame: pd.DataFrame) -> pa.Table:
    """A schema frame back as an Arrow table (node ids encoded; inverse of :func:`table_to_frame`).

    Parameters
    ----------
    frame : pandas.DataFrame
        A frame of a :class:`~waste_harmony.results.RunResult`.

    Returns
    -------
    pyarrow.Table
        The table to write.
    """
    import pyarrow as pa

    columns: dict[str, Any] = {}
    for name in frame.columns:
        if name == "node":
            values = frame["node"].tolist()
            columns[name] = pa.array([encode_node(v) for v in values], type=pa.string())
        else:
            array = pa.Array.from_pandas(frame[name])
            columns[name] = array.cast(pa.string()) if array.type == pa.large_string() else array
    return pa.table(columns)


def read_json(path: Any, what: str = "file") -> Any:
    """Read a JSON file of a results folder, naming the file in every error.

    Parameters
    ----------
    path : str or os.PathLike
        The file (``manifest.json``, ``experiment.json``, a failure record).
    what : str
        What the file is, for messages.

    Returns
    -------
    object
        The parsed JSON.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If it is not readable JSON (truncated by a crash, edited by hand, or a folder).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> bad = pathlib.Path(tempfile.mkdtemp()) / "manifest.json"
    >>> _ = bad.write_text('{"days": ')
    >>> read_json(bad, "manifest")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: manifest .../manifest.json is not valid JSON (Expecting value: line 1 ...
    """
    file = Path(path)
    if file.is_dir():
        raise ValueError(f"{what} {file} is a folder, not a JSON file")
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{what} {file} is not a text file ({exc})") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{what} {file} is not valid JSON ({exc}); it may be truncated by a crash or "
            "edited by hand: restore it, or write the results again"
        ) from exc


def write_table(path: Any, table: pa.Table) -> None:
    """Write one table as Parquet (snappy; dictionary-encoded string columns).

    Parameters
    ----------
    path : str or os.PathLike
        Destination.
    table : pyarrow.Table
        The table.
    """
    import pyarrow.parquet as pq

    strings = [f.name for f in table.schema if str(f.type) in ("string", "large_string")]
    # pyarrow-stubs type use_dictionary as bool; pyarrow also takes a list of columns
    pq.write_table(table, path, compression="snappy", use_dictionary=strings)  # type: ignore[arg-type]


def key_columns(names: Sequence[str], parameters: Sequence[str] = ()) -> list[str]:
    """The identifying columns among ``names``: id columns, parameters, day, node, zone.

    Parameters
    ----------
    names : list of str
        A table's columns.
    parameters : list of str
        Swept parameter names.

    Returns
    -------
    list of str
        The key columns present, in schema order.
    """
    keys = [c for c in ID_COLUMNS if c in names]
    keys += [p for p in parameters if p in names and p not in keys]
    keys += [c for c in ("day", "node", "zone") if c in names]
    return keys


def expand_details(events: pd.DataFrame) -> pd.DataFrame:
    """The events frame with its JSON ``details`` spread into one column per key.

    Parameters
    ----------
    events : pandas.DataFrame
        An events frame of the schema.

    Returns
    -------
    pandas.DataFrame
        ``details`` replaced by one column per detail key (missing: NaN/None).

    Examples
    --------
    >>> events = pd.DataFrame({"day": [3], "kind": ["festival"], "node": [7],
    ...                        "scenario": ["harmony-festival"],
    ...                        "details": ['{"attendance": 120}']})
    >>> expand_details(events)["attendance"].tolist()
    [120]
    """
    details = pd.DataFrame(
        [json.loads(text) if isinstance(text, str) else {} for text in events["details"]],
        index=events.index,
    )
    return pd.concat([events.drop(columns="details"), details], axis=1)
