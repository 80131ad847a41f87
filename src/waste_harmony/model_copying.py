"""Copying and pickling a CityModel, mid-run included.

:class:`CopyingMixin` is the part of :class:`waste_harmony.CityModel` (composed in
:mod:`waste_harmony.model`) that copies a model (a deep copy) and restores Mesa's
event numbering when a pickled model is loaded in a fresh process.
"""

from __future__ import annotations

import copy as copy_module
import itertools
from typing import Any, Self

import mesa

from waste_harmony.agents import StateTable

__all__ = ["CopyingMixin"]


class CopyingMixin(mesa.Model):
    """Copies and unpickles a :class:`~waste_harmony.CityModel`.

    A part of ``CityModel``, not a model on its own.
    """

    # Built by BuildingMixin (model_building.py).
    citizens: StateTable

    # ------------------------------------------------------------------ copying
    def copy(self) -> Self:
        """An independent copy of this model, mid-run included.

        The copy holds its own columns, agents, random generators (in the same
        state), scheduled events and recurring event generators, scenarios (bound to
        the copy), pipeline, DataCollector and recorders; continuing both for the
        same number of days gives identical series. Used to branch a run at an
        intervention day (:func:`waste_harmony.experiments.compare`). Pickling a
        model works the same way.

        Returns
        -------
        CityModel
            The copy.

        Examples
        --------
        >>> from waste_harmony import CityModel
        >>> model = CityModel(n_citizens=200, rng=4)
        >>> model.run_for(10)
        >>> twin = model.copy()
        >>> model.run_for(20); twin.run_for(20)
        >>> model.model_frame().equals(twin.model_frame())
        True
        """
        return copy_module.deepcopy(self)

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Mesa numbers events from a class-level counter and breaks ties between
        # events at the same time and priority by that number. In a fresh process
        # (an unpickled model) the counter restarts at 0; move it past the restored
        # events so new events still sort after older ones, as they would have.
        self.__dict__.update(state)
        if "citizens" in state:  # pickling and deepcopy drop the read-only flag
            self.citizens.home.flags.writeable = False
        events = getattr(state.get("_event_list"), "_events", [])
        if events:
            from mesa.time.events import Event as MesaEvent

            latest = max(e.unique_id for e in events) + 1
            following = next(MesaEvent._ids)
            MesaEvent._ids = itertools.count(max(latest, following + 1))
