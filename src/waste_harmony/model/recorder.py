"""Recording a CityModel: its outputs each day, per-neighbourhood series, events, frames.

:class:`Recorder` is the part of a :class:`~waste_harmony.CityModel` that owns what a
run leaves behind: Mesa's :class:`~mesa.DataCollector` of model-level series, the
per-neighbourhood series (:class:`~waste_harmony.recording.NeighborhoodRecorder`),
the recorded days and the event log. The model calls :meth:`Recorder.record` once
when it is built (day 0, the initial state) and after every day.

What is recorded is a table the recorder is given, one per model: ``outputs``
(:class:`~waste_harmony.recording.OutputVariable` entries; the model passes the
built-in :data:`~waste_harmony.recording.OUTPUTS`) and ``neighborhood_reporters``
(name → ``compute(model)`` returning one value per node; the model passes
:data:`NEIGHBORHOOD_REPORTERS`). A study's own outputs are more entries of these
tables, recorded from day 0 like the built-ins; as each value is also set as the
model's attribute of the output's name (what Mesa's string reporters read), an own
output's name must not be one of the model's attributes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import mesa
import numpy as np
import pandas as pd

from waste_harmony.dynamics.inequality import gini
from waste_harmony.recording import (
    OUTPUTS,
    EventLog,
    NeighborhoodRecorder,
    OutputVariable,
)

__all__ = ["NEIGHBORHOOD_REPORTERS", "NeighborhoodReporter", "Recorder"]

#: ``compute(model)`` of a per-neighbourhood variable: one value per node, in row order.
NeighborhoodReporter = Callable[[Any], np.ndarray]


# Named functions, not lambdas: a model's recorder pickles its table by reference.
def _population(model: Any) -> np.ndarray:
    return model.residents


def _concern(model: Any) -> np.ndarray:
    return model.homes.means(model.citizens.concern)


def _waste_stock(model: Any) -> np.ndarray:
    return model.neighborhoods.waste_stock_kg


def _pollution(model: Any) -> np.ndarray:
    return model.neighborhoods.pollution


def _habitat(model: Any) -> np.ndarray:
    return model.neighborhoods.habitat


def _biotech_access(model: Any) -> np.ndarray:
    return model.neighborhoods.biotech_access


def _organism_biomass(model: Any) -> np.ndarray:
    return model.neighborhoods.organism_biomass


def _protest_share(model: Any) -> np.ndarray:
    return model.homes.means(model.citizens.protesting)


def _recycling_share(model: Any) -> np.ndarray:
    return model.homes.means(model.citizens.recycled)


def _biotech_adoption(model: Any) -> np.ndarray:
    return model.homes.means(model.citizens.adopted)


#: How each variable of :data:`~waste_harmony.recording.NEIGHBORHOOD_VARIABLES` is
#: computed (same names, same order): shares and means are over each node's residents.
NEIGHBORHOOD_REPORTERS: dict[str, NeighborhoodReporter] = {
    "population": _population,
    "concern": _concern,
    "waste_stock_kg": _waste_stock,
    "pollution": _pollution,
    "habitat": _habitat,
    "biotech_access": _biotech_access,
    "organism_biomass": _organism_biomass,
    "protest_share": _protest_share,
    "recycling_share": _recycling_share,
    "biotech_adoption": _biotech_adoption,
}


class Recorder:
    """The outputs, per-neighbourhood series, recorded days and events of one model.

    Parameters
    ----------
    outputs : sequence of OutputVariable
        The model-level outputs, in column order.
    n_nodes : int
        Number of neighbourhoods.
    neighborhood_reporters : mapping or None
        Per-neighbourhood variable name → ``compute(model)``; ``None`` records no
        per-neighbourhood series.

    Attributes
    ----------
    outputs : tuple of OutputVariable
        The outputs recorded each day.
    datacollector : mesa.DataCollector
        The model-level series: one reporter per output, reading the model's
        attribute of the same name (set by :meth:`record`).
    neighborhoods : NeighborhoodRecorder or None
        The per-neighbourhood series.
    days : list of int
        The recorded days, in order.
    event_log : EventLog
        The events.

    Examples
    --------
    >>> from waste_harmony.recording import OUTPUTS
    >>> recorder = Recorder(OUTPUTS, n_nodes=4, neighborhood_reporters=None)
    >>> list(recorder.datacollector.model_reporters)[:2], recorder.days
    (['mean_concern', 'protest_share'], [])
    """

    def __init__(
        self,
        outputs: Sequence[OutputVariable],
        *,
        n_nodes: int,
        neighborhood_reporters: Mapping[str, NeighborhoodReporter] | None,
    ) -> None:
        self.outputs = tuple(outputs)
        self.datacollector = mesa.DataCollector(
            model_reporters={v.name: v.name for v in self.outputs}
        )
        self.reporters = dict(neighborhood_reporters or {})
        self.neighborhoods = (
            NeighborhoodRecorder(n_nodes, self.reporters)
            if neighborhood_reporters is not None
            else None
        )
        self.days: list[int] = []
        self.event_log = EventLog()
        self._gini: tuple[np.ndarray, np.ndarray, float] | None = None

    def record(self, model: Any, day: int) -> None:
        """Record ``day``: every output, then every per-neighbourhood variable.

        Each output's value is also set as the model's attribute of the same name,
        which the DataCollector's reporter reads (Mesa's string reporters).

        Parameters
        ----------
        model : CityModel
            The model the outputs read.
        day : int
            The day being recorded.
        """
        self.days.append(day)
        for output in self.outputs:
            if output.compute is not None:
                setattr(model, output.name, output.compute(model))
        self.datacollector.collect(model)
        if self.neighborhoods is not None:
            values = {name: compute(model) for name, compute in self.reporters.items()}
            self.neighborhoods.append(day, values)

    def model_frame(self) -> pd.DataFrame:
        """Model-level series indexed by day (the DataCollector's frame)."""
        frame = self.datacollector.get_model_vars_dataframe()
        frame.index = pd.Index(self.days, dtype=np.int64, name="day")
        return frame

    def neighborhood_frame(
        self, node_ids: Sequence[Any], zones: np.ndarray, area_km2: np.ndarray
    ) -> pd.DataFrame:
        """Per-neighbourhood series, one row per (day, node): ``day``, ``node``, ``zone``, ….

        Parameters
        ----------
        node_ids : sequence
            Node ids in row order (they keep their own type, tuples included).
        zones : numpy.ndarray
            Each node's zone, in row order.
        area_km2 : numpy.ndarray
            Each node's area (km²), in row order: the column ``area_km2``, the weight
            of the node's concentrations when they are averaged over nodes.

        Returns
        -------
        pandas.DataFrame
            The frame.

        Raises
        ------
        RuntimeError
            If this recorder records no per-neighbourhood series.
        """
        recorder = self.neighborhoods
        if recorder is None:
            raise RuntimeError(
                "this model was built with record_neighborhoods=False; "
                "build it with record_neighborhoods=True to get the frame"
            )
        m = len(node_ids)
        frame = recorder.frame(list(range(m)))
        # Node ids keep their own type; built element-wise so tuple ids stay one value.
        ids = np.empty(m, dtype=object)
        for i, node in enumerate(node_ids):
            ids[i] = node
        frame["node"] = pd.Series(ids[frame["node"].to_numpy(dtype=np.int64)], dtype=object)
        frame.insert(2, "zone", np.tile(zones, recorder.n_days))
        frame.insert(3, "area_km2", np.tile(area_km2, recorder.n_days))
        return frame

    def series(self, name: str, since_day: int) -> np.ndarray:
        """Recorded values of one output from ``since_day`` on (``KeyError`` if unknown)."""
        values = self.datacollector.model_vars.get(name)
        if values is None:
            raise KeyError(
                f"{name!r} is not a recorded model variable; recorded: "
                f"{sorted(self.datacollector.model_vars)}"
            )
        return np.asarray(values[max(since_day, 0) :])

    def access_gini(self, access: np.ndarray, residents: np.ndarray) -> float:
        """Population-weighted Gini of ``access``, recomputed only when an input changed."""
        # Access and residents rarely change: recompute the Gini (a sort) only when they do.
        cached = self._gini
        if (
            cached is None
            or not np.array_equal(cached[0], access)
            or not np.array_equal(cached[1], residents)
        ):
            cached = (access.copy(), residents.copy(), gini(access, residents))
            self._gini = cached
        return cached[2]

    def __getstate__(self) -> dict[str, Any]:
        # A built-in output is kept as its name, so a model pickles although the
        # built-in table computes with lambdas; a study's own outputs pickle as they are.
        state = dict(self.__dict__)
        state["outputs"] = tuple(_builtin_name(v) or v for v in self.outputs)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        builtin = {v.name: v for v in OUTPUTS}
        state["outputs"] = tuple(builtin[v] if isinstance(v, str) else v for v in state["outputs"])
        self.__dict__.update(state)


def _builtin_name(output: OutputVariable) -> str | None:
    return output.name if any(output is v for v in OUTPUTS) else None
