"""Recording a CityModel: the day's outputs, per-neighbourhood series and frames.

:class:`RecordingMixin` is the part of :class:`waste_harmony.CityModel` (composed in
:mod:`waste_harmony.model`) that records each day (``_record``: every entry of
:data:`waste_harmony.recording.OUTPUTS` and the per-neighbourhood variables) and
turns what was recorded into DataFrames.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mesa
import numpy as np
import pandas as pd

from waste_harmony.agents import Corporation, RowGroups, StateTable
from waste_harmony.dynamics.inequality import gini
from waste_harmony.recording import OUTPUTS, EventLog, NeighborhoodRecorder

__all__ = ["RecordingMixin"]


class RecordingMixin(mesa.Model):
    """Records a :class:`~waste_harmony.CityModel` and returns its frames.

    A part of ``CityModel``, not a model on its own.
    """

    # Built by BuildingMixin (model_building.py).
    node_ids: list[Any]
    n_nodes: int
    neighborhoods: StateTable
    citizens: StateTable
    residents: np.ndarray
    homes: RowGroups
    # Set by CityModel.__init__ (model.py).
    event_log: EventLog
    datacollector: mesa.DataCollector
    neighborhood_recorder: NeighborhoodRecorder | None
    recorded_days: list[int]
    _accounts: dict[str, float]
    _stock_at_last_record: float

    if TYPE_CHECKING:  # defined by CityModel (model.py)

        @property
        def day(self) -> int:
            """The current day."""
            ...

    # ------------------------------------------------------------------ recording
    @property
    def corporations(self) -> list[Corporation]:
        """All :class:`Corporation` agents."""
        return [a for t, s in self.agents_by_type.items() if issubclass(t, Corporation) for a in s]

    @property
    def facility_status(self) -> str:
        """``"built"`` if any firm built, else ``"proposed"``, ``"withdrawn"`` or ``"none"``."""
        statuses = {c.status for c in self.corporations}
        for status in ("built", "proposed", "withdrawn"):
            if status in statuses:
                return status
        return "none"

    @property
    def waste_today(self) -> dict[str, float]:
        """Today's waste accounts so far (kg): generated, recycled, reused, consumed.

        Reset after each day is recorded.
        """
        return dict(self._accounts)

    @property
    def waste_stock_yesterday_kg(self) -> float:
        """Waste in the city at the end of the last recorded day (kg)."""
        return self._stock_at_last_record

    def _record(self) -> None:
        # Every model-level output is one entry of recording.OUTPUTS.
        self.recorded_days.append(self.day)
        for output in OUTPUTS:
            if output.compute is not None:
                setattr(self, output.name, output.compute(self))
        self.datacollector.collect(self)
        if self.neighborhood_recorder is not None:
            self.neighborhood_recorder.append(self.day, self._neighborhood_values())
        self._stock_at_last_record = float(self.neighborhoods.waste_stock_kg.sum())
        for key in self._accounts:
            self._accounts[key] = 0.0

    def resident_mean(self, values: np.ndarray) -> np.ndarray:
        """Mean of a per-citizen column over each node's residents (0 where nobody lives).

        Parameters
        ----------
        values : numpy.ndarray, shape (n_citizens,)
            Per-citizen values; a boolean column gives the share of residents.

        Returns
        -------
        numpy.ndarray, shape (n_nodes,)
            Per-node means, in node row order.
        """
        return self.homes.means(values)

    def _neighborhood_values(self) -> dict[str, np.ndarray]:
        c, hoods, residents = self.citizens, self.neighborhoods, self.residents
        share = self.resident_mean
        return {
            "population": residents,
            "concern": share(c.concern),
            "waste_stock_kg": hoods.waste_stock_kg,
            "pollution": hoods.pollution,
            "habitat": hoods.habitat,
            "biotech_access": hoods.biotech_access,
            "organism_biomass": hoods.organism_biomass,
            "protest_share": share(c.protesting),
            "recycling_share": share(c.recycled),
            "biotech_adoption": share(c.adopted),
        }

    def neighborhood_frame(self) -> pd.DataFrame:
        """Per-neighbourhood series: one row per (day, node).

        Returns
        -------
        pandas.DataFrame
            Columns ``day``, ``node``, ``zone``, ``area_km2`` (the weight of the
            node's concentrations when averaged over nodes; ``population`` weighs its
            residents' shares) and the variables of
            :data:`waste_harmony.recording.NEIGHBORHOOD_VARIABLES`.

        Raises
        ------
        RuntimeError
            If the model was built with ``record_neighborhoods=False``.
        """
        if self.neighborhood_recorder is None:
            raise RuntimeError(
                "this model was built with record_neighborhoods=False; "
                "build it with record_neighborhoods=True to get the frame"
            )
        recorder = self.neighborhood_recorder
        frame = recorder.frame(list(range(self.n_nodes)))
        # Node ids keep their own type; built element-wise so tuple ids stay one value.
        ids = np.empty(self.n_nodes, dtype=object)
        for i, node in enumerate(self.node_ids):
            ids[i] = node
        frame["node"] = pd.Series(ids[frame["node"].to_numpy(dtype=np.int64)], dtype=object)
        zones = np.tile(self.neighborhoods.zone, recorder.n_days)
        frame.insert(2, "zone", zones)
        # The weight of the node's concentrations when they are averaged (constant).
        frame.insert(3, "area_km2", np.tile(self.neighborhoods.area_km2, recorder.n_days))
        return frame

    def event_frame(self) -> pd.DataFrame:
        """The event log as a DataFrame (``day``, ``kind``, ``node``, details).

        Returns
        -------
        pandas.DataFrame
            One row per event.
        """
        return self.event_log.frame()

    def model_frame(self) -> pd.DataFrame:
        """Model-level series indexed by day (the DataCollector's frame).

        Returns
        -------
        pandas.DataFrame
            One row per recorded day, from day 0 (the initial state: waste flows
            are 0, the stock is the initial stock) to the latest day.
        """
        frame = self.datacollector.get_model_vars_dataframe()
        frame.index = pd.Index(self.recorded_days, dtype=np.int64, name="day")
        return frame

    def access_gini(self) -> float:
        """Population-weighted Gini of neighbourhood biotech access (cached until either changes).

        Returns
        -------
        float
        """
        # Access and residents rarely change: recompute the Gini (a sort) only when they do.
        access, residents = self.neighborhoods.biotech_access, self.residents
        cached = getattr(self, "_gini_cache", None)
        if (
            cached is None
            or not np.array_equal(cached[0], access)
            or not np.array_equal(cached[1], residents)
        ):
            cached = (access.copy(), residents.copy(), gini(access, residents))
            self._gini_cache = cached
        return cached[2]
