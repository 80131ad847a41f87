"""Neighbourhoods: one fixed Mesa agent per city node, a view of the node columns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import mesa
import numpy as np
from mesa.discrete_space import Cell, FixedAgent

from waste_harmony.agents.bulk import create_in_cells
from waste_harmony.agents.columns import Column

if TYPE_CHECKING:
    from waste_harmony.services import CityServices

__all__ = ["Neighborhood"]


class Neighborhood(FixedAgent):
    """The local environment of one city node.

    Holds the node's waste stock, air pollution, habitat, biotech access and
    marginalisation, and hosts the local assembly. Its attributes read and write
    row ``row`` of ``model.neighborhoods``.

    Parameters
    ----------
    model : CityServices
        The model.
    row : int
        Index of the node (row in ``model.neighborhoods``).
    cell : mesa.discrete_space.Cell
        The node's cell.

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> model = CityModel(n_citizens=100, rng=0)
    >>> hood = model.neighborhood_at(model.node_ids[0])
    >>> hood.waste_stock_kg >= 0.0
    True
    """

    zone = Column("neighborhoods", "zone: residential, commercial, industrial, green or plaza")
    population = Column("neighborhoods", "number of resident citizens")
    waste_stock_kg = Column("neighborhoods", "waste present at the node (kg)")
    pollution = Column("neighborhoods", "air pollution (µg/m³, PM2.5-equivalent)")
    habitat = Column("neighborhoods", "share of the node's area that is natural habitat")
    area_km2 = Column("neighborhoods", "area (km²)")
    biotech_access = Column("neighborhoods", "access to biotechnology in [0, 1]")
    marginalisation = Column("neighborhoods", "deprivation index in [0, 1]")
    recycling_infrastructure = Column("neighborhoods", "recycling infrastructure in [0, 1]")
    recycling_norm = Column("neighborhoods", "share of residents who recycled yesterday")
    organism_biomass = Column("neighborhoods", "organism biomass (kg)")
    protest_threshold_shift = Column(
        "neighborhoods", "shift of residents' protest thresholds (negative: easier to join)"
    )

    def __init__(self, model: CityServices, row: int, cell) -> None:
        super().__init__(model)
        self.row = row
        self.cell = cell

    @classmethod
    def create_in_cells(
        cls, model: mesa.Model, rows: Sequence[int] | np.ndarray, cells: Sequence[Cell]
    ) -> list[Neighborhood]:
        """Create one neighbourhood per row: row ``i`` is fixed in ``cells[rows[i]]``.

        The same agents as ``[cls(model, i, cells[r]) for i, r in enumerate(rows)]``,
        created in bulk (:func:`waste_harmony.agents.bulk.create_in_cells`).

        Parameters
        ----------
        model : mesa.Model
            The model the neighbourhoods belong to.
        rows : sequence of int
            Index into ``cells`` of each neighbourhood's cell.
        cells : sequence of mesa.discrete_space.Cell
            The cells.

        Returns
        -------
        list of Neighborhood
            The agents, in row order.
        """
        return create_in_cells(cls, model, rows, cells, like=Neighborhood)

    @property
    def node(self):
        """Id of the node in the city graph."""
        return self.model.node_ids[self.row]
