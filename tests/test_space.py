"""The city's Network, its cells connected in bulk, is Mesa's Network built one by one.

:func:`waste_harmony.agents.space.network_space` lets Mesa's ``Network.__init__``
create the cells and connects them in one pass. These tests compare the result
with ``mesa.discrete_space.Network`` attribute by attribute (every slot of every
cell, the space's own attributes), so a Mesa release that changes how cells are
created or connected fails here instead of leaving a subtly different space.
"""

from __future__ import annotations

import random

import mesa
import networkx as nx
import numpy as np
import pytest
from mesa.discrete_space import Cell, Network

from waste_harmony import CityModel
from waste_harmony.agents.space import network_space
from waste_harmony.city import grid_city, organic_city


def _slots(cell: Cell) -> list[str]:
    return [name for klass in type(cell).__mro__ for name in getattr(klass, "__slots__", ())]


def _cell_state(cell: Cell, coordinate_of: dict[int, object]) -> dict:
    """Every slot of a cell, cells replaced by their coordinates (as plain values)."""
    state = {}
    for name in _slots(cell):
        if not hasattr(cell, name):
            state[name] = "<unset>"
            continue
        value = getattr(cell, name)
        if name == "connections":
            value = [(key, coordinate_of[id(other)]) for key, other in value.items()]
        elif isinstance(value, np.ndarray):
            value = (value.dtype.str, value.tolist())
        elif isinstance(value, random.Random):
            value = "random"
        state[name] = value
    return state


def _portrait(space: Network) -> dict:
    cells = list(space.all_cells)
    coordinate_of = {id(cell): cell.coordinate for cell in cells}
    return {
        "type": type(space),
        "attributes": sorted(vars(space)),
        "cells": [(key, _cell_state(cell, coordinate_of)) for key, cell in space._cells.items()],
        "kdtree_cells": [cell.coordinate for cell in space._kdtree_cells],
        "kdtree": None if space._kdtree is None else space._kdtree.data.tolist(),
        "empties": list(space._empties),
    }


def _graphs() -> list[nx.Graph]:
    star = nx.star_graph(4)
    star.add_node("lonely")  # a cell without connections
    shuffled = nx.Graph()
    shuffled.add_edges_from([(3, 1), (0, 2), (1, 0), (2, 3), (3, 0)])  # neighbours out of order
    return [grid_city(4, 5, seed=1), organic_city(40, seed=2), star, shuffled, nx.Graph()]


@pytest.mark.parametrize("graph", _graphs(), ids=["grid", "organic", "star", "shuffled", "empty"])
@pytest.mark.parametrize("with_positions", [True, False])
def test_bulk_network_is_mesas_network(graph: nx.Graph, with_positions: bool) -> None:
    layout = (
        {node: (float(i), float(i % 3)) for i, node in enumerate(graph)} if with_positions else None
    )
    mesa_space = Network(graph, layout=layout, random=random.Random(5))
    ours = network_space(graph, layout=layout, random=random.Random(5))
    assert type(ours) is Network
    assert ours.G is graph
    assert _portrait(ours) == _portrait(mesa_space)


def test_bulk_network_caches_and_changes_as_mesas() -> None:
    graph = grid_city(4, 5, seed=1)
    layout = {node: tuple(graph.nodes[node]["pos"]) for node in graph}
    spaces = [
        Network(graph.copy(), layout=layout, random=random.Random(0)),
        network_space(graph.copy(), layout=layout, random=random.Random(0)),
    ]
    for space in spaces:
        # a cached neighbourhood, then a change: Mesa clears the caches of the cells
        assert len(space[6].get_neighborhood(radius=2)) == 10
        space.add_connection(space[0], space[19])
    mesa_space, ours = spaces
    for node in graph:
        for radius in (1, 2):
            theirs = [c.coordinate for c in mesa_space[node].get_neighborhood(radius=radius)]
            mine = [c.coordinate for c in ours[node].get_neighborhood(radius=radius)]
            assert mine == theirs
    for point in ([0.6, 0.4], [1.7, 0.2], [-3.0, 9.0]):
        nearest = ours.find_nearest_cell(np.array(point)).coordinate
        assert nearest == mesa_space.find_nearest_cell(np.array(point)).coordinate
    assert _portrait(ours) == _portrait(mesa_space)


def test_other_cell_classes_are_connected_by_mesa() -> None:
    class Tagged(Cell):
        __slots__ = ("tag",)

        def connect(self, other: Cell, key=None) -> None:
            super().connect(other, key)
            self.tag = "connected"

    space = network_space(nx.path_graph(3), layout=None, random=random.Random(0), cell_klass=Tagged)
    assert type(space) is Network
    assert all(cell.tag == "connected" for cell in space.all_cells)


def test_model_space_is_a_mesa_network() -> None:
    model = CityModel(grid_city(3, 4, seed=0), n_citizens=50, rng=0)
    assert type(model.space) is Network
    reference = Network(model.city, layout=None, random=mesa.Model(rng=0).random)
    for node in model.node_ids:
        mine = [c.coordinate for c in model.space[node].connections.values()]
        assert mine == [c.coordinate for c in reference[node].connections.values()]
        assert list(model.space[node].connections) == list(model.city.neighbors(node))
