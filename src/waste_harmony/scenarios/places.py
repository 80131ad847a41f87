"""Where scenarios act: biodiverse nodes, plazas, distances in km, role holders.

Small vectorised helpers shared by the scenario modules (and useful for
third-party ones). They read the model's columns and never change them.

* a **biodiverse** node is a ``"green"`` zone or any node whose habitat share is
  at least :data:`BIODIVERSE_HABITAT` (0.5);
* the **plaza** nodes are the ``"plaza"`` zone; a city without one uses its most
  central node (nearest the centroid of the positions);
* **distance** is the shortest-path length along streets in km
  (:func:`distance_km`; edge ``length_km``, else the straight line between the
  node positions), so a mechanism reaching "1.5 km" reaches the same place
  however finely the city is cut. :func:`hop_distance` (the number of edges) is
  kept for comparisons.
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
    "distance_decay",
    "distance_km",
    "hop_distance",
    "nearest",
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
    """Hop distance (number of edges) of every node to the nearest of ``rows``.

    Resolution dependent: kept for comparison; mechanisms use :func:`distance_km`.

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


def distance_km(model: CityServices, rows: Any, *, limit: float = np.inf) -> np.ndarray:
    """Street distance (km) of every node to the nearest of ``rows``.

    One multi-source Dijkstra search on the model's km-weighted street graph
    (``model.lengths_km``, built once per model): cost ``O(E log V)`` whatever the
    number of sources, never all pairs.

    Parameters
    ----------
    model : CityServices
        The model.
    rows : int or array of int
        Source rows.
    limit : float
        Stop the search beyond this distance (km); farther nodes get ``inf``.

    Returns
    -------
    numpy.ndarray of float, shape (n_nodes,)
        0 at the sources; ``inf`` where unreachable (or beyond ``limit``).

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> model = CityModel(n_citizens=50, rng=0)
    >>> d = distance_km(model, 0)
    >>> float(d[0]), float(d.max())
    (0.0, 9.0)
    """
    return nearest(model, rows, limit=limit)[0]


def nearest(
    model: CityServices, rows: Any, *, limit: float = np.inf
) -> tuple[np.ndarray, np.ndarray]:
    """Street distance (km) to, and row of, the nearest of ``rows`` for every node.

    Parameters
    ----------
    model : CityServices
        The model.
    rows : int or array of int
        Source rows.
    limit : float
        Stop the search beyond this distance (km).

    Returns
    -------
    distance : numpy.ndarray of float, shape (n_nodes,)
        In km; ``inf`` where unreachable.
    source : numpy.ndarray of int, shape (n_nodes,)
        Row of the nearest source; ``-1`` where unreachable.

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> model = CityModel(n_citizens=50, rng=0)
    >>> d, source = nearest(model, [0, 99])
    >>> int(source[1]), int(source[98])
    (0, 99)
    """
    sources = np.atleast_1d(np.asarray(rows, dtype=np.int64))
    if sources.size == 0:
        n = model.n_nodes
        return np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
    # A tiny slack so that a radius of exactly 3 x 0.5 km includes the third node.
    reach = limit * (1.0 + 1e-9) if np.isfinite(limit) else np.inf
    d, _, source = dijkstra(
        model.lengths_km, indices=sources, min_only=True, limit=reach, return_predecessors=True
    )
    return np.asarray(d, dtype=np.float64), np.asarray(source, dtype=np.int64)


def distance_decay(distance: np.ndarray, *, halving_km: float, radius_km: float) -> np.ndarray:
    """Exponential distance decay ``0.5 ** (d / halving_km)``, zero beyond ``radius_km``.

    The negative-exponential form of spatial interaction (Wilson 1971; Haynes &
    Fotheringham 1984): each ``halving_km`` of distance halves the weight. It is the
    form fitted to walking and cycling trips by distance (Iacono, Krizek &
    El-Geneidy 2010).

    Parameters
    ----------
    distance : numpy.ndarray
        Distances (km); ``inf`` where unreachable.
    halving_km : float
        Distance (km) over which the weight halves (> 0).
    radius_km : float
        No weight beyond this distance (km).

    Returns
    -------
    numpy.ndarray
        Weights in ``[0, 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> distance_decay(np.array([0.0, 0.5, 1.0, 2.0]), halving_km=0.5, radius_km=1.5).tolist()
    [1.0, 0.5, 0.25, 0.0]
    """
    d = np.asarray(distance, dtype=np.float64)
    inside = d <= radius_km * (1.0 + 1e-9)
    return np.where(inside, 0.5 ** (np.where(inside, d, 0.0) / halving_km), 0.0)


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
