"""Organism colonies: one fixed Mesa agent per colonised node."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa.discrete_space import FixedAgent

if TYPE_CHECKING:
    from waste_harmony.services import CityServices

__all__ = ["Organism"]


class Organism(FixedAgent):
    """A colony of the waste-eating, air-purifying organism at one node.

    The colony's biomass is the node's ``organism_biomass`` column; growth, spread
    and what it eats are the vectorised rule
    :mod:`waste_harmony.dynamics.organism`. The model creates a colony agent when
    a node's biomass first reaches ``organism_colony_kg`` and removes it when the
    biomass falls below a tenth of that.

    Parameters
    ----------
    model : CityServices
        The model.
    row : int
        Index of the colonised node.
    cell : mesa.discrete_space.Cell
        The node's cell.
    founded : int
        Day the colony was founded.

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> model = CityModel(n_citizens=100, rng=0)
    >>> node = model.node_ids[int(model.neighborhoods.habitat.argmax())]
    >>> model.deploy_organism(node, biomass_kg=50.0)
    >>> [colony.biomass_kg for colony in model.agents_by_type[Organism]]
    [50.0]
    """

    def __init__(self, model: CityServices, row: int, cell, founded: int) -> None:
        super().__init__(model)
        self.row = row
        self.cell = cell
        self.founded = founded

    @property
    def biomass_kg(self) -> float:
        """Biomass of the colony (kg)."""
        return float(self.model.neighborhoods.organism_biomass[self.row])

    @property
    def node(self):
        """Id of the colonised node in the city graph."""
        return self.model.node_ids[self.row]
