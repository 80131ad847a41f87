"""The parameters of a CityModel over a run: those it was built with, those in force, the changes.

:class:`ParameterHistory` is the part of a :class:`~waste_harmony.CityModel` behind
``model.params``, ``model.initial_params``, ``model.interventions`` and
``model.set_parameters``: it checks a change with the one parameter system
(:func:`waste_harmony.scenarios.policy.change_problems`), applies all of it or none,
and keeps the record the manifest saves. The model then tells the parts that depend
on the rates (the geometry's diffusion steps) and logs one event per change.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from waste_harmony.parameters import Parameters
from waste_harmony.scenarios.policy import change_problems

__all__ = ["ParameterHistory"]


class ParameterHistory:
    """The initial parameters, the parameters in force and the changes in between.

    Parameters
    ----------
    params : Parameters
        The parameters the model is built with.

    Attributes
    ----------
    initial : Parameters
        The parameters the model was built with.
    current : Parameters
        The parameters in force.

    Examples
    --------
    >>> history = ParameterHistory(Parameters())
    >>> [c["name"] for c in history.change({"waste_per_capita_kg": 0.5}, time=2.0, source="me")]
    ['waste_per_capita_kg']
    >>> history.current.waste_per_capita_kg, history.changes[0]["day"]
    (0.5, 3)
    """

    def __init__(self, params: Parameters) -> None:
        self.initial = params
        self.current = params
        self._changes: list[dict[str, Any]] = []

    @property
    def changes(self) -> list[dict[str, Any]]:
        """The changes so far, in order (copies of the records of :meth:`change`)."""
        return [dict(c) for c in self._changes]

    def change(
        self, wanted: Mapping[str, Any], *, time: float, source: str
    ) -> list[dict[str, Any]]:
        """Check and apply parameter changes together; return the records of those that changed.

        Parameters
        ----------
        wanted : Mapping
            Parameter name → new value.
        time : float
            Mesa's model time of the change: between days (a whole number) a change
            first applies to the next day, during a day to that day.
        source : str
            Who makes the change.

        Returns
        -------
        list of dict
            One record per parameter whose value changed (empty if none did).

        Raises
        ------
        TypeError, ValueError
            Naming every refused change (``TypeError`` if all are unknown names);
            nothing is changed then.
        """
        found = change_problems(self.current.to_dict(), wanted)
        if found:
            unknown = all(m.startswith("unknown parameter") for m in found)
            message = "cannot change parameters: " + "; ".join(found)
            raise TypeError(message) if unknown else ValueError(message)
        old = self.current
        new = dataclasses.replace(old, **wanted)
        changed = [n for n in wanted if getattr(new, n) != getattr(old, n)]
        if not changed:
            return []
        self.current = new
        day = int(time) + 1 if float(time).is_integer() else math.ceil(time)
        records = [
            {
                "day": day,
                "time": float(time),
                "name": name,
                "old": getattr(old, name),
                "new": getattr(new, name),
                "source": source,
            }
            for name in changed
        ]
        self._changes += records
        return [dict(r) for r in records]
