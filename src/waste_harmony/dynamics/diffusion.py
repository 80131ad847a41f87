r"""Air pollution on the city graph: sources, graph-Laplacian diffusion and decay.

Pollution ``P`` (µg/m³, PM2.5-equivalent) at each neighbourhood follows the
discrete reaction–diffusion equation on a graph (Chung 1997; the graph analogue
of the advection-free dispersion equation of Seinfeld & Pandis 2016):

.. math:: P_{t+1} = e^{-\delta} \left( P_t + S_t - D\,L P_t \right)

with ``S`` the day's emissions, ``L = Deg - A`` the graph Laplacian, ``D`` the
exchange rate between linked neighbourhoods per day and ``δ`` the removal
(deposition and chemistry) rate per day. Diffusion alone conserves the total
(``1ᵀL = 0``); decay alone is exactly exponential. Diffusion is split into
sub-steps so that every sub-step is positivity preserving (``D·deg_max ≤ 1/2``).

References
----------
.. [1] Chung, F. R. K. (1997). *Spectral Graph Theory*. AMS.
.. [2] Seinfeld, J. H. & Pandis, S. N. (2016). *Atmospheric Chemistry and Physics*,
   3rd ed. Wiley. (Deposition as first-order removal.)
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

__all__ = ["diffuse", "diffusion_substeps", "laplacian", "pollution_step"]


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


def diffusion_substeps(rate: float, max_degree: float) -> int:
    """Number of explicit sub-steps keeping each one positivity preserving.

    Parameters
    ----------
    rate : float
        Diffusion rate per day.
    max_degree : float
        Largest (weighted) degree in the graph.

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
        Exchange rate D between linked nodes, per day.
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
