"""Observations for calibration: checked, and matched to the runs' values.

Observations are a tidy frame of ``day``, ``variable``, ``value`` (and ``node`` for
neighbourhood variables). :func:`check_observed` validates them;
:func:`simulated_values` reads the runs' values at the observations back from an
experiment folder, and :class:`RunStatistics` computes the same values inside each
worker, so a calibration's parent process reads no run file. Both match runs to
observations by the value of ``day`` (never by row position) and by node id.

Examples
--------
>>> import pandas as pd
>>> check_observed(pd.DataFrame({"day": [3, 1], "variable": ["mean_concern"] * 2,
...                              "value": [0.5, 0.4]}))["day"].tolist()
[1, 3]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from waste_harmony.batch.store import SweepResult

__all__ = [
    "OBSERVATION_KEYS",
    "UNRECORDED",
    "RunStatistics",
    "check_observed",
    "simulated_values",
]

#: The columns that identify an observation (one row each).
OBSERVATION_KEYS = ["variable", "node", "day"]
#: The start of the error a worker reports when the runs lack an observed variable.
UNRECORDED = "the runs do not record the observed variable(s)"


def check_observed(
    observed: pd.DataFrame,
    scales: Mapping[str, float] | None = None,
    weights: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Validate observations; one row per (variable, node, day), sorted.

    Observations are matched to the runs by the value of ``day`` (never by row
    position), so a series that starts at day 0 or day 1 is handled alike.

    Parameters
    ----------
    observed : pandas.DataFrame
        ``day``, ``variable``, ``value`` and optionally ``node``.
    scales, weights : mapping, optional
        Variable → fixed scale / relative weight in the distance.

    Returns
    -------
    pandas.DataFrame
        ``variable``, ``node`` ("" at model level), ``day``, ``value``, ``scale``,
        ``weight``.

    Examples
    --------
    >>> check_observed(pd.DataFrame({"day": [5], "variable": ["recycling_rate"],
    ...                              "value": [0.3]}))["node"].tolist()
    ['']
    """
    if not isinstance(observed, pd.DataFrame):
        raise TypeError(
            "observed must be a pandas DataFrame with columns day, variable, value "
            f"(and node for neighbourhood variables), got {type(observed).__name__}"
        )
    missing = {"day", "variable", "value"} - set(observed.columns)
    if missing:
        raise ValueError(
            f"observed lacks the column(s) {sorted(missing)}; it needs day, variable, "
            "value (one row per observation) and optionally node"
        )
    if observed.empty:
        raise ValueError("observed has no rows; give at least one observation")
    frame = observed.copy()
    if "node" not in frame.columns:
        frame["node"] = None
    frame["node"] = [_node_id(v) for v in frame["node"]]
    frame["day"] = frame["day"].astype(int)
    frame["variable"] = frame["variable"].astype(str)
    frame["value"] = frame["value"].astype(float)
    if not np.isfinite(frame["value"]).all():
        raise ValueError("observed values must be finite; drop the missing observations")
    if frame.duplicated(OBSERVATION_KEYS).any():
        raise ValueError("observed holds duplicate (variable, node, day) rows; keep one each")
    for label, mapping in (("scales", scales), ("weights", weights)):
        for name, value in (mapping or {}).items():
            if name not in set(frame["variable"]):
                raise KeyError(f"{label} names {name!r}, which is not an observed variable")
            if not float(value) > 0:
                raise ValueError(f"{label}[{name!r}] must be positive, got {value!r}")
    frame["scale"] = frame["variable"].map(dict(scales or {})).astype(float)
    frame["weight"] = frame["variable"].map(dict(weights or {})).fillna(1.0).astype(float)
    return frame.sort_values(OBSERVATION_KEYS, ignore_index=True)[
        [*OBSERVATION_KEYS, "value", "scale", "weight"]
    ]


def _node_id(value: Any) -> str:
    """Neighbourhood id as the results store it (a string); ``""`` for model level."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _matched(
    frame: pd.DataFrame, part: pd.DataFrame, node_level: bool, variables: list[str]
) -> pd.DataFrame:
    """The simulated values at the observations ``part``: ``stat``, ``value`` and the ids."""
    id_cols = ["point", "replicate", "day"] + (["node"] if node_level else [])
    long = frame.melt(id_vars=id_cols, value_vars=variables)
    if node_level:
        long["node"] = long["node"].astype(str)
    else:
        long["node"] = ""
    return long.merge(part, on=OBSERVATION_KEYS)


def _observation_parts(observed: pd.DataFrame) -> list[tuple[bool, pd.DataFrame, list[str]]]:
    """Observations split into model level and neighbourhood level, with ``stat`` numbers."""
    key = observed[OBSERVATION_KEYS].reset_index().rename(columns={"index": "stat"})
    return [
        (bool(node_level), part, sorted(set(part["variable"])))
        for node_level, part in key.groupby(key["node"] != "")
    ]


def simulated_values(result: SweepResult, observed: pd.DataFrame, replicates: int) -> np.ndarray:
    """Array ``(points, replicates, n_obs)`` of the simulated values, read from the files.

    Parameters
    ----------
    result : SweepResult
        A sweep of ``points × replicates`` runs (missing runs give NaN).
    observed : pandas.DataFrame
        The observations (:func:`check_observed`).
    replicates : int
        Runs per point.

    Returns
    -------
    numpy.ndarray
        The runs' values at the observations, NaN where a run has none.
    """
    n_points = result.n_runs // replicates
    out = np.full((n_points, replicates, len(observed)), np.nan)
    if not result.n_finished:
        return out
    for node_level, part, variables in _observation_parts(observed):
        kind = "neighborhoods" if node_level else "model"
        where = {"day": sorted(set(part["day"].tolist()))}
        frame = result.load(variables, kind=kind, where=where)
        merged = _matched(frame, part, node_level, variables)
        out[
            merged["point"].to_numpy(),
            merged["replicate"].to_numpy(),
            merged["stat"].to_numpy(),
        ] = merged["value"].to_numpy(dtype=float)
    return out


class RunStatistics:
    """A run's simulated values at the observations, computed where the run ran.

    Sent with every task of a calibration (it pickles as the observation keys), so
    each worker returns its run's ``n_obs`` statistics with the outcome and the
    parent never reads the run files back; the values equal those read from the
    files (same matching as :func:`simulated_values`, on the same tables).

    Parameters
    ----------
    observed : pandas.DataFrame
        The observations (:func:`check_observed`).

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> from waste_harmony.schema import model_tables
    >>> obs = check_observed(pd.DataFrame({"day": [2], "variable": ["mean_concern"],
    ...                                    "value": [0.4]}))
    >>> model = CityModel(n_citizens=50, rng=1)
    >>> model.run_for(2)
    >>> RunStatistics(obs)(model_tables(model)).shape
    (1,)
    """

    def __init__(self, observed: pd.DataFrame) -> None:
        self.keys = observed[OBSERVATION_KEYS].reset_index(drop=True)
        # Model-level observations as plain (position, variable, day) triples, so a
        # worker matches them to a run's columns without building any frame.
        self._model = [
            (int(i), str(v), int(d))
            for i, (v, n, d) in enumerate(self.keys.itertuples(index=False))
            if n == ""
        ]
        self._model_variables = sorted({v for _, v, _ in self._model})

    def __call__(self, tables: Mapping[str, Any]) -> np.ndarray:
        """The run's statistics (NaN where the run has no value), shape ``(n_obs,)``."""
        out = np.full(len(self.keys), np.nan)
        if self._model:
            table = self._table(tables, "model", self._model_variables)
            row = {int(d): i for i, d in enumerate(table.column("day").to_numpy())}
            columns = {v: table.column(v).to_numpy() for v in self._model_variables}
            for stat, variable, day in self._model:
                if day in row:
                    out[stat] = float(columns[variable][row[day]])
        if len(self._model) < len(self.keys):
            self._neighbourhoods(tables, out)
        return out

    def _table(self, tables: Mapping[str, Any], kind: str, variables: list[str]) -> Any:
        table = tables.get(kind)
        names = [] if table is None else table.column_names
        missing = [v for v in variables if v not in names]
        if table is None or missing:
            keys = {"run_id", "label", "point", "replicate", "seed", "day", "node", "zone"}
            available = [c for c in names if c not in keys]
            raise KeyError(
                f"{UNRECORDED} {missing} in the {kind} results; available: "
                f"{', '.join(available) or 'none'}"
            )
        return table

    def _neighbourhoods(self, tables: Mapping[str, Any], out: np.ndarray) -> None:
        from waste_harmony.schema import table_to_frame

        for node_level, part, variables in _observation_parts(self.keys):
            if not node_level:
                continue
            table = self._table(tables, "neighborhoods", variables)
            table = table.select(["point", "replicate", "day", "node", *variables])
            frame = table_to_frame(table)
            frame = frame[frame["day"].isin(set(part["day"].tolist()))]
            merged = _matched(frame, part, True, variables)
            out[merged["stat"].to_numpy()] = merged["value"].to_numpy(dtype=float)
