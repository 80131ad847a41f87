"""Inequality of access: Gini, Theil, Atkinson and the concentration index.

All measures take optional population weights, as the model weights each
neighbourhood by its residents. Definitions follow Cowell (2011) and, for the
concentration index, O'Donnell et al. (2008), who use it to measure how a good
(here: biotech access) is distributed along a ranking of deprivation.

References
----------
.. [1] Cowell, F. A. (2011). *Measuring Inequality*, 3rd ed. Oxford University Press.
.. [2] Atkinson, A. B. (1970). On the measurement of inequality. *J. Economic Theory*
   2, 244–263.
.. [3] O'Donnell, O., van Doorslaer, E., Wagstaff, A. & Lindelow, M. (2008). *Analyzing
   Health Equity Using Household Survey Data*. World Bank, ch. 8.
"""

from __future__ import annotations

import numpy as np

__all__ = ["atkinson", "concentration_index", "gini", "theil"]


def _prepare(x: np.ndarray, weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    values = np.asarray(x, dtype=np.float64)
    w = np.ones_like(values) if weights is None else np.asarray(weights, dtype=np.float64)
    if values.shape != w.shape:
        raise ValueError(f"values and weights differ in shape: {values.shape} vs {w.shape}")
    if np.any(values < 0):
        raise ValueError("inequality measures need non-negative values")
    if np.any(w < 0):
        raise ValueError("weights must be non-negative")
    keep = w > 0
    return values[keep], w[keep]


def gini(x: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Weighted Gini coefficient, ``sum_ij w_i w_j |x_i - x_j| / (2 W^2 mean)``.

    Parameters
    ----------
    x : array_like
        Non-negative values.
    weights : array_like, optional
        Non-negative weights (for example population).

    Returns
    -------
    float
        Gini in [0, 1); 0 for equal values, an all-zero or empty input.

    Examples
    --------
    >>> round(gini([1, 2, 3, 4, 5]), 4)
    0.2667
    """
    values, w = _prepare(x, weights)
    total = float(np.sum(w * values))
    if values.size == 0 or total == 0.0:
        return 0.0
    order = np.argsort(values, kind="stable")
    values, w = values[order], w[order]
    cum_pop = np.concatenate([[0.0], np.cumsum(w)]) / np.sum(w)
    cum_share = np.concatenate([[0.0], np.cumsum(w * values)]) / total
    area = np.sum(np.diff(cum_pop) * (cum_share[1:] + cum_share[:-1]))
    return float(1.0 - area)


def theil(x: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Weighted Theil T index, ``(1/W) sum w_i (x_i/mean) ln(x_i/mean)``.

    Parameters
    ----------
    x : array_like
        Non-negative values (0 contributes 0, the limit of ``s ln s``).
    weights : array_like, optional
        Non-negative weights.

    Returns
    -------
    float
        Theil index ≥ 0.

    Examples
    --------
    >>> round(theil([1, 2, 3, 4, 5]), 4)
    0.1197
    """
    values, w = _prepare(x, weights)
    mean = float(np.sum(w * values) / np.sum(w)) if values.size else 0.0
    if mean == 0.0:
        return 0.0
    s = values / mean
    terms = np.where(s > 0, s * np.log(np.where(s > 0, s, 1.0)), 0.0)
    return float(np.sum(w * terms) / np.sum(w))


def atkinson(x: np.ndarray, epsilon: float = 1.0, weights: np.ndarray | None = None) -> float:
    """Weighted Atkinson index with inequality aversion ``epsilon``.

    ``1 - (equally distributed equivalent) / mean``; the equivalent is the weighted
    geometric mean for ``epsilon = 1`` and the power mean of order ``1 - epsilon``
    otherwise.

    Parameters
    ----------
    x : array_like
        Non-negative values (strictly positive for ``epsilon >= 1``).
    epsilon : float
        Inequality aversion, ≥ 0.
    weights : array_like, optional
        Non-negative weights.

    Returns
    -------
    float
        Index in [0, 1].

    Raises
    ------
    ValueError
        For ``epsilon < 0``, or a zero value with ``epsilon >= 1``.

    Examples
    --------
    >>> round(atkinson([1, 2, 3, 4, 5], 1.0), 4)
    0.1316
    """
    if epsilon < 0:
        raise ValueError(f"epsilon must be >= 0, got {epsilon}")
    values, w = _prepare(x, weights)
    if values.size == 0:
        return 0.0
    p = w / np.sum(w)
    mean = float(np.sum(p * values))
    if mean == 0.0:
        return 0.0
    if epsilon >= 1.0 and np.any(values == 0):
        raise ValueError("Atkinson index with epsilon >= 1 is undefined for zero values")
    if epsilon == 1.0:
        ede = float(np.exp(np.sum(p * np.log(values))))
    else:
        ede = float(np.sum(p * values ** (1.0 - epsilon)) ** (1.0 / (1.0 - epsilon)))
    return 1.0 - ede / mean


def concentration_index(
    x: np.ndarray, rank_by: np.ndarray, weights: np.ndarray | None = None
) -> float:
    """Concentration index of ``x`` along the ranking ``rank_by``.

    ``C = 2 cov_w(x, R) / mean(x)`` with ``R`` the weighted fractional rank by
    ``rank_by`` (ascending): ``R_i = (sum of the weights ranked below i + w_i / 2) / W``.
    Tied values of ``rank_by`` share the mean fractional rank of their group,
    ``(weight below the group + half the group's weight) / W``, the convention of
    O'Donnell et al. (2008, ch. 8), so the index does not depend on the order of the
    rows. Negative when ``x`` is concentrated among the low-ranked, positive when
    among the high-ranked; ``gini(x)`` when ranking by ``x`` itself.

    Parameters
    ----------
    x : array_like
        Non-negative values.
    rank_by : array_like
        Ranking variable (for example ``-marginalisation``, so the deprived rank low).
    weights : array_like, optional
        Non-negative weights.

    Returns
    -------
    float
        Index in (-1, 1); 0 when ``x`` sums to zero, every ranking value is tied,
        or the input is empty.

    Raises
    ------
    ValueError
        If ``x``, ``rank_by`` and ``weights`` differ in shape, a value or weight is
        negative, or a ranking value is NaN.

    References
    ----------
    O'Donnell, O., van Doorslaer, E., Wagstaff, A. & Lindelow, M. (2008). *Analyzing
    Health Equity Using Household Survey Data*. World Bank, ch. 8 (fractional rank,
    ties given their mean rank).

    Examples
    --------
    >>> x = [1, 2, 3, 4, 5]
    >>> round(concentration_index(x, rank_by=x), 4) == round(gini(x), 4)
    True
    >>> round(concentration_index([1, 2, 3, 4], rank_by=[0, 0, 1, 1]), 4)
    0.2
    """
    rank_var = np.asarray(rank_by, dtype=np.float64)
    if rank_var.shape != np.shape(x):
        raise ValueError(f"x and rank_by differ in shape: {np.shape(x)} vs {rank_var.shape}")
    if np.any(np.isnan(rank_var)):
        raise ValueError("rank_by contains NaN; every individual needs a ranking value")
    values, w = _prepare(x, weights)
    rank_var = rank_var[w > 0] if weights is not None else rank_var
    if values.size == 0:
        return 0.0
    order = np.argsort(rank_var, kind="stable")
    values, w, rank_var = values[order], w[order], rank_var[order]
    total_w = np.sum(w)
    mean = float(np.sum(w * values) / total_w)
    if mean == 0.0:
        return 0.0
    # Groups of tied ranking values: each gets (weight below it + half its weight) / W.
    starts = np.flatnonzero(np.r_[True, rank_var[1:] != rank_var[:-1]])
    group_w = np.add.reduceat(w, starts)
    below = np.cumsum(group_w) - group_w
    group_rank = (below + 0.5 * group_w) / total_w
    rank = np.repeat(group_rank, np.diff(np.r_[starts, values.size]))
    cov = float(np.sum(w * (values - mean) * (rank - np.sum(w * rank) / total_w)) / total_w)
    return 2.0 * cov / mean
