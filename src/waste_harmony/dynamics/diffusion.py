r"""Air pollution on the city graph: sources, graph-Laplacian diffusion and decay.

Pollution ``P`` (µg/m³, PM2.5-equivalent) at each neighbourhood follows the
discrete reaction–diffusion equation on a graph (Chung 1997; the graph analogue
of the advection-free dispersion equation of Seinfeld & Pandis 2016):

.. math:: P_{t+1} = e^{-\delta} \left( P_t + S_t - D\,L P_t \right)

with ``S`` the day's emissions, ``L`` a graph Laplacian, ``D`` the diffusion
coefficient and ``δ`` the removal (deposition and chemistry) rate per day.
Diffusion alone conserves the total (``1ᵀL = 0``, or the area-weighted total for
the finite-volume operator); decay alone is exactly exponential. Diffusion is
split into sub-steps so that every sub-step is positivity preserving
(``D·max diag(L) ≤ 1/2``).

**Physical units.** The model uses the finite-volume (two-point flux) discretisation
of ``∂u/∂t = D ∇²u`` on the city's cells (Eymard, Gallouët & Herbin 2000):

.. math:: \frac{du_i}{dt} = \frac{D}{A_i} \sum_j \frac{b_{ij}}{d_{ij}} (u_j - u_i)

with ``A_i`` the cell area (km²), ``b_ij`` the shared border (km) and ``d_ij`` the
distance between the cell centres (km); ``D`` is then in km²/day and the result
does not depend on how finely the city is cut (:func:`finite_volume_laplacian`).
Where the border is unknown (street graphs) it is taken as ``√(A_i A_j) / d_ij``,
exact for a square grid, so the weight becomes ``1/d²`` there.

References
----------
.. [1] Chung, F. R. K. (1997). *Spectral Graph Theory*. AMS.
.. [2] Seinfeld, J. H. & Pandis, S. N. (2016). *Atmospheric Chemistry and Physics*,
   3rd ed. Wiley. (Deposition as first-order removal.)
.. [3] Eymard, R., Gallouët, T. & Herbin, R. (2000). Finite volume methods. In
   *Handbook of Numerical Analysis* VII, 713–1020. North-Holland.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

__all__ = [
    "diffuse",
    "diffusion_substeps",
    "finite_volume_laplacian",
    "laplacian",
    "pollution_step",
]


def laplacian(adjacency: sp.sparray) -> sp.csr_array:
    """Combinatorial graph Laplacian ``L = Deg - A`` as a CSR array.

    Parameters
    ----------
    adjacency : scipy.sparse array
        Symmetric, non-negative adjacency.

    Returns
    -------
    scipy.sparse.csr_array
        The Laplacian.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> laplacian(sp.csr_array(np.array([[0.0, 1.0], [1.0, 0.0]]))).toarray().tolist()
    [[1.0, -1.0], [-1.0, 1.0]]
    """
    # scipy-stubs lack the (sparse, dtype=...) overload that scipy accepts
    A = sp.csr_array(adjacency, dtype=np.float64)  # type: ignore[call-overload]
    degree = np.asarray(A.sum(axis=1)).ravel()
    return sp.csr_array(sp.diags_array(degree) - A)


def finite_volume_laplacian(
    lengths_km: sp.sparray, area_km2: np.ndarray, borders_km: sp.sparray | None = None
) -> sp.csr_array:
    """Finite-volume diffusion operator ``L = diag(1/A) (Deg_c - C)`` in 1/km².

    ``C_ij = b_ij / d_ij`` is the conductance of each edge: shared border over the
    distance between cell centres (two-point flux approximation, Eymard et al.
    2000). Where ``borders_km`` has no entry for an edge the border is taken as
    ``√(A_i A_j) / d_ij`` (exact on a square grid: ``C = 1``), i.e. the weight
    ``1/d²`` of a regular lattice. An edge whose border is 0 (a declared link
    such as a ferry, :func:`waste_harmony.city.connect_pieces`) has conductance
    0: it exchanges nothing. ``D L u`` with ``D`` in km²/day is then the
    daily exchange of a concentration ``u``; it conserves ``Σ A_i u_i``. For an
    amount per cell (kg) use the transpose ``L.T``, which conserves ``Σ x_i``.

    Parameters
    ----------
    lengths_km : scipy.sparse array
        Symmetric, positive edge lengths (km) on the street adjacency's pattern.
    area_km2 : numpy.ndarray
        Cell areas (km², > 0).
    borders_km : scipy.sparse array, optional
        Shared border lengths (km) on the same pattern, ``nan`` where unknown.

    Returns
    -------
    scipy.sparse.csr_array
        The operator; on a square grid of spacing ``h`` it is ``L_graph / h²``.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> lengths = sp.csr_array(np.array([[0.0, 0.5], [0.5, 0.0]]))
    >>> finite_volume_laplacian(lengths, np.array([0.25, 0.25])).toarray().tolist()
    [[4.0, -4.0], [-4.0, 4.0]]
    """
    d = sp.csr_array(lengths_km, dtype=np.float64)  # type: ignore[call-overload]
    d.sort_indices()
    area = np.asarray(area_km2, dtype=np.float64)
    rows = np.repeat(np.arange(d.shape[0]), np.diff(d.indptr))
    cols = d.indices
    border = np.sqrt(area[rows] * area[cols]) / d.data
    if borders_km is not None:
        b = sp.csr_array(borders_km, dtype=np.float64)  # type: ignore[call-overload]
        b.sort_indices()
        if b.nnz != d.nnz or not np.array_equal(b.indices, cols):
            raise ValueError("borders_km must have the same sparsity pattern as lengths_km")
        border = np.where(np.isfinite(b.data), b.data, border)
    C = sp.csr_array((border / d.data, cols.copy(), d.indptr.copy()), shape=d.shape)
    inv_area = sp.diags_array(1.0 / area)
    return sp.csr_array(inv_area @ laplacian(C))


def diffusion_substeps(rate: float, max_degree: float) -> int:
    """Number of explicit sub-steps keeping each one positivity preserving.

    Parameters
    ----------
    rate : float
        Diffusion rate per day.
    max_degree : float
        Largest (weighted) degree in the graph, i.e. the largest diagonal entry of
        the operator (1/km² for :func:`finite_volume_laplacian`).

    Returns
    -------
    int
        At least 1.

    Examples
    --------
    >>> diffusion_substeps(0.1, 4), diffusion_substeps(0.5, 4)
    (1, 4)
    """
    return max(1, math.ceil(rate * max_degree / 0.5))


def diffuse(values: np.ndarray, lap: sp.sparray, rate: float, substeps: int = 1) -> np.ndarray:
    """Exchange ``rate`` per day along edges: ``x <- x - rate L x`` in sub-steps.

    Parameters
    ----------
    values : numpy.ndarray
        Quantity per node.
    lap : scipy.sparse array
        Graph Laplacian.
    rate : float
        Exchange rate per day.
    substeps : int
        Number of explicit sub-steps within the day.

    Returns
    -------
    numpy.ndarray
        New values; the total is unchanged.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> L = laplacian(sp.csr_array(np.array([[0.0, 1.0], [1.0, 0.0]])))
    >>> diffuse(np.array([1.0, 0.0]), L, 0.25).tolist()
    [0.75, 0.25]
    """
    x = values
    h = rate / substeps
    for _ in range(substeps):
        x = x - h * (lap @ x)
    return x


def pollution_step(
    pollution: np.ndarray,
    emissions: np.ndarray,
    lap: sp.sparray,
    *,
    diffusion: float,
    decay: float,
    substeps: int = 1,
) -> np.ndarray:
    """One day of pollution: add emissions, diffuse along edges, decay.

    Parameters
    ----------
    pollution : numpy.ndarray
        Concentration per node (µg/m³).
    emissions : numpy.ndarray
        Emissions added today (µg/m³ per day).
    lap : scipy.sparse array
        Graph Laplacian.
    diffusion : float
        Diffusion coefficient D (km²/day with :func:`finite_volume_laplacian`;
        exchange rate per day with the plain :func:`laplacian`).
    decay : float
        First-order removal rate δ per day.
    substeps : int
        Diffusion sub-steps (see :func:`diffusion_substeps`).

    Returns
    -------
    numpy.ndarray
        New concentrations, never negative.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> L = laplacian(sp.csr_array((2, 2)))
    >>> pollution_step(np.array([1.0, 2.0]), np.zeros(2), L, diffusion=0.0,
    ...                decay=np.log(2)).round(12).tolist()
    [0.5, 1.0]
    """
    mixed = diffuse(pollution + emissions, lap, diffusion, substeps)
    return np.maximum(mixed * math.exp(-decay), 0.0)
