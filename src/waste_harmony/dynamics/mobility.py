"""Daily outings in km: where a citizen who goes out can spend the day.

A citizen who goes out travels along streets up to a daily outing distance and
spends the day at a place within that reach. The reach is a distance, not a
number of graph links, so the same place cut into finer cells offers the same
land to go to: the *activity space* of a day is the area reachable within a
travel budget (Hägerstrand 1970; Schönfelder & Axhausen 2003), and the default
budget is the length of a typical walking trip, about half a mile (0.8 km; the
median walking trip of the 2009 US National Household Travel Survey, Yang &
Diez-Roux 2012).

:func:`destinations_within` lists, for every cell, the other cells whose centre
lies within the outing distance along streets, weighted by their area (a place
drawn uniformly over the reachable land falls in a cell in proportion to its
area); :func:`choose_destinations` draws one destination per traveller from
those weights, vectorised.

References
----------
.. [1] Hägerstrand, T. (1970). What about people in regional science? *Papers of
   the Regional Science Association* 24, 7–21.
.. [2] Schönfelder, S. & Axhausen, K. W. (2003). Activity spaces: measures of
   social exclusion? *Transport Policy* 10(4), 273–286.
.. [3] Yang, Y. & Diez-Roux, A. V. (2012). Walking distance by trip purpose and
   population subgroups. *American Journal of Preventive Medicine* 43(1), 11–19.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

__all__ = ["choose_destinations", "destinations_within"]

#: Sources per Dijkstra batch: bounds the dense (batch × n) distance block.
_BATCH = 256


def destinations_within(lengths_km: sp.csr_array, weights: np.ndarray, km: float) -> sp.csr_array:
    """The other cells within ``km`` of street distance of each cell, weighted.

    Parameters
    ----------
    lengths_km : scipy.sparse.csr_array, shape (n, n)
        Symmetric street lengths (km) between linked cells.
    weights : numpy.ndarray, shape (n,)
        Weight of each cell as a destination (its area, km²).
    km : float
        Outing distance (km): cells whose centre is at most this far along streets.

    Returns
    -------
    scipy.sparse.csr_array, shape (n, n)
        Row ``i`` holds ``weights[j]`` at each reachable ``j != i`` (sorted indices);
        a cell with nothing in reach has an empty row.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> path = sp.csr_array(np.array([[0, .5, 0], [.5, 0, .5], [0, .5, 0]]))
    >>> destinations_within(path, np.ones(3), 0.8).toarray().tolist()
    [[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    >>> destinations_within(path, np.ones(3), 1.0).toarray().tolist()[0]
    [0.0, 1.0, 1.0]
    """
    if not (np.isfinite(km) and km >= 0):
        raise ValueError(f"the outing distance must be a finite number of km >= 0, got {km}")
    n = lengths_km.shape[0]
    weights = np.asarray(weights, dtype=np.float64)
    reach = km * (1.0 + 1e-9)  # a radius of exactly one link includes that link
    data = lengths_km.data
    if data.size == 0 or reach < data.min():
        return sp.csr_array((n, n), dtype=np.float64)
    if 2.0 * data.min() > reach:
        # No path of two or more links is short enough: the reach is the direct links.
        coo = sp.coo_array(lengths_km)
        keep = (coo.data <= reach) & (coo.row != coo.col)
        i, j = coo.row[keep], coo.col[keep]
    else:
        rows, cols = [], []
        for start in range(0, n, _BATCH):
            sources = np.arange(start, min(start + _BATCH, n))
            d = dijkstra(lengths_km, indices=sources, limit=reach)
            r, c = np.nonzero(np.isfinite(d))
            other = sources[r] != c
            rows.append(sources[r[other]])
            cols.append(c[other])
        i, j = np.concatenate(rows), np.concatenate(cols)
    out = sp.csr_array((weights[j], (i, j)), shape=(n, n))
    out.sort_indices()
    return out


def choose_destinations(
    destinations: sp.csr_array, origin: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """One destination per traveller, drawn in proportion to the row's weights.

    Parameters
    ----------
    destinations : scipy.sparse.csr_array
        From :func:`destinations_within` (sorted indices).
    origin : numpy.ndarray of int
        Each traveller's cell; every row must be non-empty.
    u : numpy.ndarray
        One uniform draw in [0, 1) per traveller.

    Returns
    -------
    numpy.ndarray of int
        Destination cells. When all weights are equal the draw is
        ``floor(u * count)`` into the row (a uniform choice among the reachable
        cells), exactly.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> W = sp.csr_array(np.array([[0.0, 1.0, 3.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0]]))
    >>> choose_destinations(W, np.array([0, 0, 1, 2]), np.array([0.2, 0.3, 0.9, 0.6])).tolist()
    [1, 2, 0, 1]
    """
    indptr, data = destinations.indptr, destinations.data
    first = indptr[origin]
    count = indptr[origin + 1] - first
    if data.size == 0 or np.all(data == data[0]):
        pick = (u * count).astype(np.int64)
        return destinations.indices[first + pick]
    cum = np.cumsum(data)
    before = np.where(first > 0, cum[np.maximum(first - 1, 0)], 0.0)
    last = first + count - 1
    target = before + u * (cum[last] - before)
    k = np.minimum(np.searchsorted(cum, target, side="right"), last)
    return destinations.indices[k]
