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
:func:`cascade_size` gives the same fixed point for many populations at once.

With thresholds drawn from a normal distribution (mean 25, standard deviation σ,
N = 100), the *expected* dynamics ``x_{k+1} = N Φ((x_k - 25)/σ)`` stall at a
handful of participants for small σ and jump to nearly everyone once σ passes a
critical value ≈ 12.2 (Granovetter 1978, Fig. 2): :func:`mean_field_equilibrium`
and :func:`critical_sd`. A finite population of N = 100 draws fluctuates around
this expectation, so its transition is spread over a range of σ around it.

**Cohorts (super-individuals).** A model citizen usually stands for many people
(Scheffer, Baveco, DeAngelis, Rose & van Nes 1995). Read literally, the threshold
rule then gives each of those people the same threshold, and a neighbourhood
sampled by ``k`` citizens sees its participation jump in steps of ``1/k``: one
unconditional protester among four citizens is 25 % of the neighbourhood, enough
to trigger a cascade that 3 protesters among 200 would not. :func:`cohort_participation`
instead takes each citizen as a cohort whose people have thresholds distributed
as the population's (normal, clipped to [0, 1], around the cohort's centre): the
cohort's participation is the share of its people whose threshold the observed
share meets — the threshold distribution function at the observed share. A
neighbourhood's observed share is then the population's expected share for any
number of citizens sampling it, and the cascade follows Granovetter's mean-field
dynamics ``x ← F(x)`` (:func:`mean_field_equilibrium`) in every neighbourhood
however few citizens sample it.

References
----------
.. [1] Granovetter, M. (1978). Threshold models of collective behavior. *American
   Journal of Sociology* 83(6), 1420–1443.
.. [2] Watts, D. J. (2002). A simple model of global cascades on random networks.
   *PNAS* 99(9), 5766–5771.
.. [3] Scheffer, M., Baveco, J. M., DeAngelis, D. L., Rose, K. A. & van Nes, E. H.
   (1995). Super-individuals: a simple solution for modelling large populations on
   an individual basis. *Ecological Modelling* 80, 161–170.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from scipy.special import ndtr

__all__ = [
    "cascade_size",
    "cohort_participation",
    "critical_sd",
    "local_participation",
    "mean_field_equilibrium",
    "threshold_equilibrium",
    "threshold_step",
]


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


def cohort_participation(
    observed_share: np.ndarray,
    centre: np.ndarray | float,
    spread: float,
    eligible: np.ndarray | bool = True,
) -> np.ndarray:
    """Share of a cohort's people who participate: the threshold CDF at the observed share.

    A cohort's people have thresholds ``clip(θ, 0, 1)`` with ``θ`` normal around the
    cohort's ``centre`` with s.d. ``spread`` (the population's law, as
    :func:`threshold_step`'s citizens draw it). The share of them whose threshold is met
    by ``x`` is ``P(clip(θ, 0, 1) <= x)``: 0 below 0, ``Φ((x - centre) / spread)`` in
    [0, 1) (at ``x = 0`` the people clipped to 0, who join unconditionally), 1 from 1.
    With ``spread = 0`` every person of a cohort has the centre as threshold and the
    share is 0 or 1, :func:`threshold_step` itself.

    Parameters
    ----------
    observed_share : numpy.ndarray of float
        Participation share each cohort observes (net of any threshold shift).
    centre : numpy.ndarray of float or float
        Centre of each cohort's thresholds (the mean before clipping).
    spread : float
        Standard deviation of the thresholds within a cohort, ``>= 0``.
    eligible : numpy.ndarray of bool or bool
        Cohorts that can participate at all (their share is 0 otherwise).

    Returns
    -------
    numpy.ndarray of float
        Participation share of each cohort, in [0, 1].

    Examples
    --------
    At the population's law (centre 0.25, s.d. 0.15) a cohort observing nobody has
    its unconditional share Φ(-0.25 / 0.15) = 0.048 in; observing 25 %, half:

    >>> import numpy as np
    >>> cohort_participation(np.array([0.0, 0.25, 1.0]), 0.25, 0.15).round(3).tolist()
    [0.048, 0.5, 1.0]
    >>> cohort_participation(np.array([0.2, 0.3]), 0.25, 0.0).tolist()
    [0.0, 1.0]
    """
    x = np.asarray(observed_share, dtype=np.float64)
    centre = np.asarray(centre, dtype=np.float64)
    if spread > 0:
        share = ndtr((x - centre) / spread)
    else:
        share = (np.clip(centre, 0.0, 1.0) <= x).astype(np.float64)
    share = np.where(x >= 1.0, 1.0, np.where(x < 0.0, 0.0, share))
    return share * eligible


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


def cascade_size(thresholds: np.ndarray) -> np.ndarray:
    """Equilibrium number of participants of well-mixed populations, vectorised.

    With count thresholds and synchronous rounds from nobody participating, the
    dynamics of :func:`threshold_equilibrium` stop at the first ``k`` for which
    the ``k``-th smallest threshold (0-based) exceeds ``k``: the ``k`` people
    already in are not enough for the next one. Sorting gives that directly, for
    each row of a 2-D array at once.

    Parameters
    ----------
    thresholds : numpy.ndarray, shape (n,) or (runs, n)
        Count thresholds of one population, or of one population per row.

    Returns
    -------
    numpy.ndarray of int
        Participants at equilibrium (a 0-d array for 1-D input).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(100); t2 = t.copy(); t2[1] = 2
    >>> cascade_size(np.stack([t, t2])).tolist()
    [100, 1]
    """
    t = np.sort(np.asarray(thresholds, dtype=np.float64), axis=-1)
    n = t.shape[-1]
    blocked = t > np.arange(n)
    # First blocked position, or n when nobody is blocked.
    return np.where(blocked.any(axis=-1), blocked.argmax(axis=-1), n)


def mean_field_equilibrium(
    mean: float, sd: float, n: int = 100, *, tol: float = 1e-10, max_rounds: int = 100_000
) -> float:
    """Expected equilibrium of Granovetter's model with normally distributed thresholds.

    Iterates ``x_{k+1} = n Φ((x_k - mean) / sd)`` from ``x_0 = 0``: the expected
    number of people whose threshold is at most the current number of
    participants (Granovetter 1978, section "Normal distributions").

    Parameters
    ----------
    mean, sd : float
        Mean and standard deviation of the thresholds (counts; ``sd > 0``).
    n : int
        Population size.
    tol : float
        Stop when a round changes ``x`` by less than this.
    max_rounds : int
        Safety bound on the rounds.

    Returns
    -------
    float
        Expected participants at the (lowest) fixed point reached from zero.

    Examples
    --------
    >>> round(mean_field_equilibrium(25.0, 12.0), 1), round(mean_field_equilibrium(25.0, 13.0))
    (4.0, 100)
    """
    if not sd > 0:
        raise ValueError(f"sd must be > 0, got {sd}")
    x = 0.0
    for _ in range(max_rounds):
        new = n * float(ndtr((x - mean) / sd))
        if abs(new - x) < tol:
            return new
        x = new
    return x


def critical_sd(
    mean: float = 25.0,
    n: int = 100,
    *,
    low: float = 1e-3,
    high: float | None = None,
    tol: float = 1e-6,
) -> float:
    """Smallest threshold s.d. at which the mean-field cascade takes most of the population.

    Below it :func:`mean_field_equilibrium` stalls at a few participants; above it
    the lower fixed point has vanished (a saddle-node bifurcation) and the
    equilibrium jumps to nearly ``n``. Found by bisection on
    ``mean_field_equilibrium(mean, sd, n) > n / 2``.

    Parameters
    ----------
    mean : float
        Mean threshold (count).
    n : int
        Population size.
    low, high : float
        Bracket for the s.d. (``high`` defaults to ``n``).
    tol : float
        Bracket width at which to stop.

    Returns
    -------
    float
        The critical standard deviation.

    Examples
    --------
    >>> round(critical_sd(25.0, 100), 1)
    12.2
    """
    hi = float(n) if high is None else float(high)
    lo = float(low)

    def takes_over(sd: float) -> bool:
        return mean_field_equilibrium(mean, sd, n) > n / 2

    if takes_over(lo) or not takes_over(hi):
        raise ValueError(f"no transition between sd={lo} and sd={hi}; widen the bracket")
    while hi - lo > tol * max(1.0, math.fabs(hi)):
        mid = 0.5 * (lo + hi)
        if takes_over(mid):
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)


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
