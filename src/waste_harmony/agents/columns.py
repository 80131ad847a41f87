"""Agents as views of columns: the :class:`Column` descriptor.

Citizen and neighbourhood state lives in the model's
:class:`~waste_harmony.tables.StateTable` objects (one array per attribute, one row
per agent). Agents are views: a :class:`Column` descriptor on the agent class reads
and writes the agent's row, so ``citizen.concern`` and
``model.citizens.concern[citizen.row]`` are the same number, and Mesa's
``AgentSet.get("concern")`` returns the column's values.

:class:`StateTable` and :class:`RowGroups` are defined in :mod:`waste_harmony.tables`
(below the services protocol, which names them) and importable from here too.
"""

from __future__ import annotations

from typing import Any

from waste_harmony.tables import RowGroups, StateTable

__all__ = ["Column", "RowGroups", "StateTable"]


class Column:
    """Descriptor exposing one row of a model-owned column as an agent attribute.

    Parameters
    ----------
    table : str
        Name of the model attribute holding the :class:`StateTable`
        (``"citizens"`` or ``"neighborhoods"``).
    doc : str
        Description with unit, shown in ``help()``.
    """

    def __init__(self, table: str, doc: str = "") -> None:
        self.table = table
        self.__doc__ = doc
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, agent: Any, owner: type | None = None) -> Any:
        if agent is None:
            return self
        return getattr(agent.model, self.table)[self.name][agent.row].item()

    def __set__(self, agent: Any, value: Any) -> None:
        getattr(agent.model, self.table)[self.name][agent.row] = value
