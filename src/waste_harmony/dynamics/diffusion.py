r"""Air pollution on the city graph: sources, graph-Laplacian diffusion and decay.

Pollution ``P`` (µg/m³, PM2.5-equivalent) at each neighbourhood follows the
discrete reaction–diffusion equation on a graph (Chung 1997; the graph analogue
of the advection-free dispersion equation of Seinfeld & Pandis 2016), one day at
a time: the day's emissions ``S`` are added, the result diffuses for a day and
decays,

.. math:: P_{t+1} = B + e^{-\delta} \left[(I + D\,L)^{-1} (P_t + S_t) - B\right]

with ``L`` a graph Laplacian, ``D`` the diffusion coefficient, ``δ`` the removal
(deposition, chemistry and ventilation) rate per day and ``B`` the background: the
concentration of the air arriving from outside the modelled sources (regional
background plus urban increment, Lenschow et al. 2001). Diffusion alone conserves the
total (``1ᵀL = 0``, or the area-weighted total for the finite-volume operator);
decay alone is exactly exponential.

**Time step: backward Euler.** The day's diffusion is one implicit (backward
Euler) step, ``(I + D L) x = P + S`` (:class:`ImplicitDiffusion`). It is stable
and positivity preserving for *every* ``D`` — ``I + D L`` is an M-matrix (positive
diagonal, non-positive off-diagonal, strictly diagonally dominant by rows), so
its inverse has no negative entry (Varga 2000, ch. 3) — and it conserves the total
exactly: ``1ᵀA (I + D L) = 1ᵀA`` when ``1ᵀA L = 0``. The matrix is factorised
once (sparse LU) and the factorisation is reused every day, so a day costs two
sparse triangular solves whatever ``D`` is; an explicit step ``x - D L x`` would
need ``⌈D max L_ii / 0.5⌉`` sub-steps a day to stay positive
(:func:`diffusion_substeps`, :func:`diffuse`), which grows without bound with
``D`` over the cell size squared. Backward Euler is first-order in time; no
linear scheme of higher order keeps positivity for every step length (Bolley &
Crouzeix 1978), which is why Crank–Nicolson is not used. For small ``D`` the two
schemes agree to second order in ``D`` (their difference over a day is
``O((D L)²)``).

**Physical units.** The model uses the finite-volume (two-point flux) discretisation
of ``∂u/∂t = D ∇²u`` on the city's cells (Eymard, Gallouët & Herbin 2000):

.. math:: \frac{du_i}{dt} = \frac{D}{A_i} \sum_j \frac{b_{ij}}{d_{ij}} (u_j - u_i)

with ``A_i`` the cell area (km²), ``b_ij`` the shared border (km) and ``d_ij`` the
distance between the cell centres (km); ``D`` is then in km²/day and the result
does not depend on how finely the city is cut (:func:`finite_volume_laplacian`).
Where the border is unknown (street graphs) it is taken as ``√(A_i A_j) / d_ij``,
exact for a square grid, so the weight becomes ``1/d²`` there; a border of 0
(e.g. a bridge or ferry link) carries no exchange.

References
----------
.. [1] Chung, F. R. K. (1997). *Spectral Graph Theory*. AMS.
.. [2] Seinfeld, J. H. & Pandis, S. N. (2016). *Atmospheric Chemistry and Physics*,
   3rd ed. Wiley. (Deposition as first-order removal.)
.. [3] Eymard, R., Gallouët, T. & Herbin, R. (2000). Finite volume methods. In
   *Handbook of Numerical Analysis* VII, 713–1020. North-Holland.
.. [4] Varga, R. S. (2000). *Matrix Iterative Analysis*, 2nd ed. Springer.
   (M-matrices and their non-negative inverses, ch. 3.)
.. [5] Bolley, C. & Crouzeix, M. (1978). Conservation de la positivité lors de la
   discrétisation des problèmes d'évolution paraboliques. *RAIRO Analyse
   numérique* 12(3), 237–245.
.. [6] Lenschow, P., Abraham, H.-J., Kutzner, K., Lutz, M., Preuß, J.-D. &
   Reichenbächer, W. (2001). Some ideas about the sources of PM10. *Atmospheric
   Environment* 35(Suppl. 1), S23–S33.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

__all__ = [
    "ImplicitDiffusion",
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

    The explicit scheme (:func:`diffuse`) needs this many sub-steps a day; it grows
    with ``rate`` over the cell size squared, which is why the model diffuses
    pollution with :class:`ImplicitDiffusion` instead.

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
    """Exchange ``rate`` per day along edges: ``x <- x - rate L x`` in explicit sub-steps.

    The explicit (forward Euler) scheme: positivity preserving only with
    :func:`diffusion_substeps` sub-steps. The model uses it for the organism while a
    single step is stable (the scheme whose front speed
    :func:`~waste_harmony.dynamics.organism.lattice_front_speed` predicts), and
    :class:`ImplicitDiffusion` otherwise.

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


class ImplicitDiffusion:
    """A day of diffusion by backward Euler, ``x <- (I + rate L)^-1 x``, factorised once.

    ``I + rate L`` is factorised (sparse LU, diagonal pivots in a symmetric fill-
    reducing order) on the first call and the factorisation is reused by every
    later call, so each call costs two sparse triangular solves whatever the rate.
    Build a new one when the rate or the operator changes. For a Laplacian-like
    ``L`` (non-negative diagonal, non-positive off-diagonal, zero row or column sums)
    the step is positivity preserving and conserves what ``L`` conserves, for every
    rate: ``I + rate L`` is then an M-matrix, whose LU factors without pivoting keep
    the signs, so even the computed result has no negative entry.

    Parameters
    ----------
    lap : scipy.sparse array
        Diffusion operator, shape ``(n, n)`` (:func:`laplacian`,
        :func:`finite_volume_laplacian` or its transpose).
    rate : float
        Diffusion rate over the step (``D`` in km²/day with the finite-volume
        operator), ``>= 0``.
    steps : int
        Backward Euler sub-steps of ``rate / steps`` each (1 in the model; more
        only to measure the scheme's convergence in time).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> L = laplacian(sp.csr_array(np.array([[0.0, 1.0], [1.0, 0.0]])))
    >>> step = ImplicitDiffusion(L, 1.0)
    >>> step(np.array([1.0, 0.0])).round(12).tolist()
    [0.666666666667, 0.333333333333]
    >>> ImplicitDiffusion(L, 1e6)(np.array([1.0, 0.0])).round(6).tolist()
    [0.5, 0.5]
    """

    def __init__(self, lap: sp.sparray, rate: float, *, steps: int = 1) -> None:
        rate = float(rate)
        if not math.isfinite(rate) or rate < 0:
            raise ValueError(f"diffusion rate must be finite and >= 0, got {rate!r}")
        if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 1:
            raise ValueError(f"steps must be a whole number >= 1, got {steps!r}")
        # scipy-stubs lack the (sparse array) overload that scipy accepts
        self.lap: sp.csr_array = sp.csr_array(lap)  # type: ignore[call-overload]
        self.rate = rate
        self.steps = int(steps)
        self._solve: Any = None

    def _factorise(self) -> Any:
        n = self.lap.shape[0]
        matrix = sp.csc_array(sp.eye_array(n, format="csc") + (self.rate / self.steps) * self.lap)
        # Diagonal pivots in a symmetric ordering: the M-matrix's LU factors keep
        # their signs, so the triangular solves only add non-negative terms.
        lu = splu(
            matrix,
            permc_spec="MMD_AT_PLUS_A",
            diag_pivot_thresh=0.0,
            options={"SymmetricMode": True},
        )
        return lu.solve

    def __call__(self, values: np.ndarray) -> np.ndarray:
        """Diffuse ``values`` over one step; returns a new array."""
        x = np.array(values, dtype=np.float64)
        if self.rate == 0 or x.size == 0:
            return x
        if self._solve is None:
            self._solve = self._factorise()
        for _ in range(self.steps):
            x = self._solve(x)
        return x

    def __getstate__(self) -> dict[str, Any]:
        # SuperLU factorisations cannot be pickled: copies refactorise on first use.
        state = dict(self.__dict__)
        state["_solve"] = None
        return state

    def __repr__(self) -> str:
        return f"ImplicitDiffusion(n={self.lap.shape[0]}, rate={self.rate!r}, steps={self.steps})"


def pollution_step(
    pollution: np.ndarray,
    emissions: np.ndarray,
    lap: sp.sparray | ImplicitDiffusion,
    *,
    diffusion: float | None = None,
    decay: float,
    background: float = 0.0,
) -> np.ndarray:
    """One day of pollution: add emissions, diffuse (backward Euler), decay towards the background.

    ``P' = B + e^{-δ} ((I + D L)^{-1} (P + S) - B)``: the pollution above the
    background ``B`` is removed at rate ``δ`` (deposition, chemistry, and air
    exchanged with the surrounding region, which arrives at ``B``). Diffusion leaves
    a uniform field unchanged, so ``B`` is a steady state without sources.

    Parameters
    ----------
    pollution : numpy.ndarray
        Concentration per node (µg/m³).
    emissions : numpy.ndarray
        Emissions added today (µg/m³ per day).
    lap : scipy.sparse array or ImplicitDiffusion
        Graph Laplacian (then give ``diffusion``; it is factorised for this call),
        or an :class:`ImplicitDiffusion` already factorised for the coefficient in
        force (what the model passes: one factorisation for the whole run).
    diffusion : float, optional
        Diffusion coefficient D (km²/day with :func:`finite_volume_laplacian`;
        exchange rate per day with the plain :func:`laplacian`). Required with a
        Laplacian, refused with an :class:`ImplicitDiffusion` (it has its own).
    decay : float
        First-order removal rate δ per day.
    background : float
        Background concentration ``B`` (µg/m³) the pollution relaxes towards.

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
    >>> pollution_step(np.array([1.0, 2.0]), np.zeros(2), L, diffusion=0.0,
    ...                decay=np.log(2), background=4.0).round(12).tolist()
    [2.5, 3.0]
    """
    if isinstance(lap, ImplicitDiffusion):
        if diffusion is not None:
            raise TypeError(
                "pollution_step: pass diffusion only with a Laplacian; an "
                f"ImplicitDiffusion carries its own rate ({lap.rate})"
            )
        step = lap
    else:
        if diffusion is None:
            raise TypeError("pollution_step: give diffusion=D with a Laplacian")
        step = ImplicitDiffusion(lap, diffusion)
    mixed = step(pollution + emissions)
    # B + e^-δ (mixed - B), written without cancellation (exact when δ = 0)
    renewed = -math.expm1(-decay)  # share of the air replaced today
    return np.maximum(mixed * math.exp(-decay) + background * renewed, 0.0)
