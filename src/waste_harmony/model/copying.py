"""Copying and unpickling a CityModel, mid-run included.

``CityModel.copy()`` is a deep copy: the model's columns, agents, random generators,
scheduled events, scenarios, pipeline and parts (recorder, accounts, roster, …) are
copied together, so the copy continues exactly as the original would; pickling
works the same way. What a copy or an unpickled model must restore by hand is
:func:`restore_after_load`, called by ``CityModel.__setstate__``.
"""

from __future__ import annotations

import itertools
from typing import Any

from mesa.time.events import Event as MesaEvent

__all__ = ["restore_after_load"]


def restore_after_load(state: dict[str, Any]) -> None:
    """Restore what copying and pickling drop, after ``state`` became a model's ``__dict__``.

    * The citizens' ``home`` column is read-only for a run (the model's ``homes``
      rely on it); pickling and deep copies drop numpy's read-only flag.
    * Mesa numbers events from a class-level counter and breaks ties between events
      at the same time and priority by that number. In a fresh process (an unpickled
      model) the counter restarts at 0; it is moved past the restored events, so new
      events still sort after older ones, as they would have.

    Parameters
    ----------
    state : dict
        The restored model's ``__dict__``.
    """
    citizens = state.get("citizens")
    if citizens is not None:
        citizens.home.flags.writeable = False
    events = getattr(state.get("_event_list"), "_events", [])
    if events:
        latest = max(e.unique_id for e in events) + 1
        following = next(MesaEvent._ids)
        MesaEvent._ids = itertools.count(max(latest, following + 1))
