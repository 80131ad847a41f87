"""Household waste: stochastic generation, diversion and collection.

Each citizen generates a Gamma-distributed amount of waste per day with mean
``waste_per_capita_kg`` (World Bank *What a Waste 2.0*, Kaza et al. 2018: a global
average of 0.74 kg per person per day) and coefficient of variation ``cv``.
Because a sum of ``n`` independent Gamma(k, θ) draws is Gamma(n k, θ), the waste of
any group of citizens is drawn in one number per group — exact in distribution
and independent of the number of citizens (:func:`group_waste`).

Waste that is not diverted (recycled, reused or consumed) joins the neighbourhood's
stock; collection moves a share of each neighbourhood's stock to the landfill
nodes every day (:func:`collect_to_landfill`). Both are transfers inside the
city, so the daily balance ``generated = recycled + reused + consumed + Δstock``
holds exactly.

References
----------
.. [1] Kaza, S., Yao, L. C., Bhada-Tata, P. & Van Woerden, F. (2018). *What a Waste
   2.0: A Global Snapshot of Solid Waste Management to 2050*. World Bank.
"""

from __future__ import annotations

import numpy as np

__all__ = ["collect_to_landfill", "group_waste"]


def group_waste(
    counts: np.ndarray,
    *,
    mean_kg: float,
    cv: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Total one-day waste of groups of citizens, each Gamma(k, θ) per citizen.

    Parameters
    ----------
    counts : numpy.ndarray of int
        Number of citizens in each group.
    mean_kg : float
        Mean waste per citizen per day (kg).
    cv : float
        Coefficient of variation of one citizen's daily waste (> 0).
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    numpy.ndarray of float
        Waste per group in kg (0 for empty groups).

    Examples
    --------
    >>> import numpy as np
    >>> w = group_waste(np.array([0, 100_000]), mean_kg=0.74, cv=0.5,
    ...                 rng=np.random.default_rng(0))
    >>> float(w[0]), bool(abs(w[1] / 100_000 - 0.74) < 0.01)
    (0.0, True)
    """
    shape = 1.0 / (cv * cv)
    scale = mean_kg / shape
    return rng.gamma(shape * np.asarray(counts, dtype=np.float64), scale)


def collect_to_landfill(
    stock: np.ndarray,
    landfill: np.ndarray,
    rate: float,
) -> float:
    """Move a share ``rate`` of every non-landfill stock to the landfill nodes, in place.

    Parameters
    ----------
    stock : numpy.ndarray of float
        Waste stock per node (kg); modified in place.
    landfill : numpy.ndarray of bool
        Landfill nodes, which receive equal shares of what is collected.
    rate : float
        Share of the stock collected per day, in [0, 1].

    Returns
    -------
    float
        Kilograms collected.

    Examples
    --------
    >>> import numpy as np
    >>> s = np.array([10.0, 0.0, 4.0])
    >>> collect_to_landfill(s, np.array([False, True, False]), 0.5)
    7.0
    >>> s.tolist()
    [5.0, 7.0, 2.0]
    """
    n_landfills = int(np.count_nonzero(landfill))
    if n_landfills == 0 or rate == 0.0:
        return 0.0
    outside = ~landfill
    taken = stock[outside] * rate
    stock[outside] -= taken
    collected = float(taken.sum())
    stock[landfill] += collected / n_landfills
    return collected
