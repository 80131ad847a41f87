"""Where scenarios act: biodiverse nodes, plazas, graph distance, role holders.

Small vectorised helpers shared by the scenario modules (and useful for
third-party ones). They read the model's columns and never change them.

* a **biodiverse** node is a ``"green"`` zone or any node whose habitat share is
  at least :data:`BIODIVERSE_HABITAT` (0.5);
* the **plaza** nodes are the ``"plaza"`` zone; a city without one uses its most
  central node (smallest total hop distance);
* **hop distance** is the unweighted shortest-path length along streets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.sparse.csgraph import dijkstra

from waste_harmony.parameters import ROLE_NAMES

if TYPE_CHECKING:
    from waste_harmony.services import CityServices

__all__ = [
    "BIODIVERSE_HABITAT",
    "biodiverse_rows",
    "hop_distance",
    "plaza_rows",
    "role_rows",
]

#: Habitat share above which a node counts as biodiverse whatever its zone.
BIODIVERSE_HABITAT = 0.5


def biodiverse_rows(model: CityServices) -> np.ndarray:
    """Rows of the biodiverse nodes: green zones and nodes with habitat ≥ 0.5.

    Parameters
    ----------
    model : CityServices
        The model.

    Returns
    -------
    numpy.ndarray of int
        Rows in ascending order.

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> model = CityModel(n_citizens=50, rng=0)
    >>> rows = biodiverse_rows(model)
    >>> bool((model.neighborhoods.zone[rows] == "green").any())
    True
    """
    hoods = model.neighborhoods
    return np.flatnonzero((hoods.zone == "green") | (hoods.habitat >= BIODIVERSE_HABITAT))


def plaza_rows(model: CityServices) -> np.ndarray:
    """Rows of the plaza nodes (or the node nearest the city's centre if it has none).

    Parameters
    ----------
    model : CityServices
        The model.

    Returns
    -------
    numpy.ndarray of int
        At least one row.
    """
    rows = np.flatnonzero(model.neighborhoods.zone == "plaza")
    if rows.size:
        return rows
    # Nearest to the centroid of the node positions: O(n), unlike a graph-centrality search.
    offset = model.positions - model.positions.mean(axis=0)
    return np.array([int(np.argmin(np.einsum("ij,ij->i", offset, offset)))])


def hop_distance(model: CityServices, rows: Any) -> np.ndarray:
    """Hop distance of every node to the nearest of ``rows``.

    Parameters
    ----------
    model : CityServices
        The model.
    rows : int or array of int
        Source rows.

    Returns
    -------
    numpy.ndarray of float, shape (n_nodes,)
        0 at the sources; ``inf`` where unreachable.

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> model = CityModel(n_citizens=50, rng=0)
    >>> d = hop_distance(model, 0)
    >>> float(d[0]), float(d.max())
    (0.0, 18.0)
    """
    sources = np.atleast_1d(np.asarray(rows, dtype=np.int64))
    return np.asarray(
        dijkstra(model.adjacency, unweighted=True, indices=sources, min_only=True), dtype=np.float64
    )


def role_rows(model: CityServices, role: str) -> np.ndarray:
    """Rows of the citizens holding a story role (set by ``CityModel(roles=...)``).

    Parameters
    ----------
    model : CityServices
        The model.
    role : str
        One of :data:`waste_harmony.parameters.ROLE_NAMES`.

    Returns
    -------
    numpy.ndarray of int
        Citizen rows (empty when the role is switched off).

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> model = CityModel(n_citizens=50, rng=0, roles={"artist": 2})
    >>> len(role_rows(model, "artist")), len(role_rows(model, "designer"))
    (2, 1)
    """
    if role not in ROLE_NAMES:
        raise ValueError(f"unknown role {role!r}; valid roles: {', '.join(ROLE_NAMES)}")
    return np.flatnonzero(model.citizens.role_code == ROLE_NAMES.index(role) + 1)
