"""The model's agents by type: creating them, their overridden hooks, the organism's colonies.

:class:`Roster` is the part of a :class:`~waste_harmony.CityModel` that knows which
Mesa agent classes the model runs and what each asks of the day: it creates the
neighbourhood and citizen agents (:meth:`Roster.populate`), remembers which
per-agent and vectorised hooks the citizen class overrides (the rules ask through
``model.hooked_citizens`` and ``model.vectorised_overrides``), and keeps one
:class:`~waste_harmony.Organism` agent per colonised node
(:meth:`Roster.sync_colonies`). Mesa's own registry (``model.agents_by_type``) holds
the agents themselves.

An agent type of a study's own, whose ``step`` runs at a named point of the day,
belongs here: the roster creates its agents and adds one rule to the model's
pipeline at that point that steps them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from waste_harmony.agents import Citizen, Neighborhood, Organism

if TYPE_CHECKING:
    import mesa
    from mesa.discrete_space import Cell

    from waste_harmony.services import CityServices

__all__ = ["Roster"]


class Roster:
    """The agent classes of a model, the hooks they override and the organism's colonies.

    Parameters
    ----------
    citizen_class : type
        :class:`~waste_harmony.Citizen` or a subclass.

    Attributes
    ----------
    citizen_class : type
        The citizens' class.
    colonies : dict of int to Organism
        The colony agent of each colonised node row.

    Examples
    --------
    >>> roster = Roster(Citizen)
    >>> roster.hooked_citizens("recycling_probability"), roster.colonies
    ([], {})
    """

    def __init__(self, citizen_class: type[Citizen]) -> None:
        self.citizen_class = citizen_class
        self.colonies: dict[int, Organism] = {}
        self._cells: list[Cell] = []
        self._hooked: dict[str, list[Citizen]] = {}
        self._vectorised: dict[str, list[tuple[type[Citizen], np.ndarray]]] = {}

    def populate(self, model: mesa.Model, cells: Sequence[Cell], homes: np.ndarray) -> None:
        """Create one :class:`Neighborhood` per node and one citizen per row.

        Parameters
        ----------
        model : mesa.Model
            The model the agents belong to.
        cells : sequence of mesa.discrete_space.Cell
            Each node's cell, in row order.
        homes : numpy.ndarray of int
            Each citizen's home row (``citizens.home``).

        Raises
        ------
        TypeError
            If the citizen class overrides ``step()`` or both forms of one hook
            (:meth:`waste_harmony.Citizen.check_class`).
        """
        cls = self.citizen_class
        cls.check_class()  # refuses step()/both forms, naming the hooks
        self._cells = list(cells)
        Neighborhood.create_in_cells(model, np.arange(len(self._cells)), self._cells)
        # In bulk: the same registered agents as cls(model, row, cells[h]) per row.
        cls.create_in_cells(model, homes, self._cells)
        overridden = cls.overridden_hooks()
        if overridden:
            agents = list(model.agents_by_type[cls])
            for hook in overridden:
                self._hooked[hook] = agents
        # Vectorised hooks: called once a day with the arrays of the class's rows.
        self._vectorised = {
            name: [(cls, np.arange(len(homes)))] for name in cls.overridden_vectorised_hooks()
        }

    def hooked_citizens(self, hook: str) -> list[Citizen]:
        """Citizens whose class overrides the per-agent hook ``hook`` (empty if none)."""
        return self._hooked.get(hook, [])

    def vectorised_overrides(self, name: str) -> list[tuple[type[Citizen], np.ndarray]]:
        """Citizen classes overriding the vectorised hook ``name``, with their rows."""
        return self._vectorised.get(name, [])

    def sync_colonies(self, model: CityServices, biomass: np.ndarray, threshold: float) -> None:
        """Create a colony agent where biomass reached ``threshold``; remove it below a tenth.

        Parameters
        ----------
        model : CityServices
            The model (the colonies' model; its ``day`` dates a new colony).
        biomass : numpy.ndarray
            Organism biomass per node row (kg).
        threshold : float
            Biomass that makes a colony (``params.organism_colony_kg``).
        """
        colonies = self.colonies
        for row in np.flatnonzero(biomass >= threshold).tolist():
            if row not in colonies:
                colonies[row] = Organism(model, row, self._cells[row], model.day)
        for row in [r for r in colonies if biomass[r] < threshold / 10]:
            colonies.pop(row).remove()
