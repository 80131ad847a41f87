"""Protest participation: Granovetter's threshold model.

Each citizen has a threshold θ: the share of participants among the people they
observe above which they join (Granovetter 1978). The model iterates the
synchronous threshold rule once per day, so a cascade unfolds over days. Citizens
observe their own neighbourhood and, with weight ``link_weight``, the linked
neighbourhoods (graph neighbours or assembly links), a network version of the
rule (Watts 2002).

:func:`threshold_equilibrium` runs the original well-mixed model to its fixed
point, reproducing Granovetter's examples: thresholds 0, 1, …, 99 → everyone
joins; change the threshold-1 person to 2 → only the instigator joins.

References
----------
.. [1] Granovetter, M. (1978). Threshold models of collective behavior. *American
   Journal of Sociology* 83(6), 1420–1443.
.. [2] Watts, D. J. (2002). A simple model of global cascades on random networks.
   *PNAS* 99(9), 5766–5771.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["local_participation", "threshold_equilibrium", "threshold_step"]


def threshold_step(
    thresholds: np.ndarray,
    observed_share: np.ndarray,
    eligible: np.ndarray | bool = True,
) -> np.ndarray:
    """Who participates next: eligible people whose threshold is met.

    Parameters
    ----------
    thresholds : numpy.ndarray of float
        Threshold of each person, as a share in [0, 1] (0: joins unconditionally).
    observed_share : numpy.ndarray of float
        Participation share each person observes.
    eligible : numpy.ndarray of bool or bool
        Who can participate at all (for example: concerned citizens while a grievance
        is open).

    Returns
    -------
    numpy.ndarray of bool
        New participation.

    Examples
    --------
    >>> import numpy as np
    >>> threshold_step(np.array([0.0, 0.3, 0.6]), np.array([0.5, 0.5, 0.5])).tolist()
    [True, True, False]
    """
    return (thresholds <= observed_share) & eligible


def threshold_equilibrium(thresholds: np.ndarray, *, max_rounds: int | None = None) -> np.ndarray:
    """Run the well-mixed Granovetter model from nobody participating to its fixed point.

    Thresholds are *counts*: person i joins when at least ``thresholds[i]`` others
    (including those already in) participate, as in Granovetter's riot example.

    Parameters
    ----------
    thresholds : numpy.ndarray of float
        Threshold of each person as a number of participants.
    max_rounds : int, optional
        Maximum number of synchronous rounds (default: population size + 1, enough to
        reach the fixed point).

    Returns
    -------
    numpy.ndarray of bool
        Who participates at equilibrium.

    Examples
    --------
    >>> import numpy as np
    >>> int(threshold_equilibrium(np.arange(100)).sum())
    100
    >>> t = np.arange(100); t[1] = 2
    >>> int(threshold_equilibrium(t).sum())
    1
    """
    t = np.asarray(thresholds, dtype=np.float64)
    rounds = len(t) + 1 if max_rounds is None else max_rounds
    active = np.zeros(len(t), dtype=bool)
    for _ in range(rounds):
        new = t <= np.count_nonzero(active)
        if np.array_equal(new, active):
            break
        active = new
    return active


def local_participation(
    participants: np.ndarray,
    population: np.ndarray,
    links: sp.sparray,
    link_weight: float,
) -> np.ndarray:
    """Participation share each neighbourhood observes, own and linked.

    ``share = (1 - w) * own_share + w * linked_share``, where ``linked_share`` is the
    population-weighted share over the linked neighbourhoods (``links @ x``).

    Parameters
    ----------
    participants, population : numpy.ndarray of float, shape (m,)
        Participants and residents per neighbourhood.
    links : scipy.sparse array, shape (m, m)
        Non-negative link weights between neighbourhoods.
    link_weight : float
        Weight ``w`` in [0, 1] of the linked neighbourhoods.

    Returns
    -------
    numpy.ndarray of float
        Observed share per neighbourhood, in [0, 1].

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> L = sp.csr_array(np.array([[0.0, 1.0], [1.0, 0.0]]))
    >>> local_participation(np.array([5.0, 0.0]), np.array([10.0, 10.0]), L, 0.5).tolist()
    [0.25, 0.25]
    """
    own = np.divide(participants, population, out=np.zeros_like(participants), where=population > 0)
    linked_people = links @ population
    linked = np.divide(
        links @ participants, linked_people, out=np.zeros_like(own), where=linked_people > 0
    )
    return (1.0 - link_weight) * own + link_weight * linked
