r"""Concern fades: relaxation of heightened (or lowered) concern towards a baseline.

Downs (1972) described public concern for an environmental problem as an
*issue-attention cycle*: alarmed discovery raises it, then it declines gradually —
even while the problem persists — to a *post-problem* level. Attitude changes
induced by persuasion decay the same way, back towards the person's standing
attitude, over weeks to months (Cook & Flay 1978). The model takes the simplest
form that has both properties: each citizen's concern relaxes towards their own
baseline ``b`` (their concern at the start of the run, a standing disposition) at a
constant rate ``λ`` per day,

.. math:: c_{t+1} = c_t + \lambda\,(b - c_t),

so a departure from the baseline — raised by pollution, a threat or a festival,
lowered by corporate PR — halves every ``ln 2 / -ln(1 - λ)`` days (about
``0.693 / λ``; :func:`half_life_days`). Under constant perceived harm ``h`` raising
concern at rate ``k`` (:mod:`~waste_harmony.dynamics.perception`) the two balance
at :func:`equilibrium_concern`, ``c* ≈ (λ b + k h) / (λ + k h)`` for small rates:
concern no longer only rises. The form (first-order relaxation) and the rate are modelling
assumptions; Downs gives the cycle's stages, not a rate.

**The baseline.** A survey of concern measures people in the air they breathe. The
model therefore takes the initial concern as already in balance with the initial
air, and gives each citizen the baseline at which it is
(:func:`baseline_for_equilibrium`): the concern they would settle at in clean air.
A city left alone then keeps its concern; cleaner air lets it fall towards the
baselines, dirtier air raises it, and events move it for a while.

References
----------
.. [1] Downs, A. (1972). Up and down with ecology — the "issue-attention cycle".
   *The Public Interest* 28, 38–50.
.. [2] Cook, T. D. & Flay, B. R. (1978). The persistence of experimentally induced
   attitude change. *Advances in Experimental Social Psychology* 11, 1–57.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "baseline_for_equilibrium",
    "equilibrium_concern",
    "fade_concern",
    "half_life_days",
    "relaxation_closed_form",
]


def fade_concern(concern: np.ndarray, baseline: np.ndarray, rate: float) -> None:
    """Move concern towards the baseline by the share ``rate``, in place.

    Parameters
    ----------
    concern : numpy.ndarray
        Concern in [0, 1], modified in place (stays in [0, 1]: a convex combination).
    baseline : numpy.ndarray
        Each individual's baseline concern, in [0, 1].
    rate : float
        Share ``λ`` of the gap closed per day, in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> c = np.array([0.8, 0.2])
    >>> fade_concern(c, np.array([0.4, 0.4]), rate=0.5)
    >>> c.round(6).tolist()
    [0.6, 0.3]
    """
    if rate:
        concern += rate * (baseline - concern)


def half_life_days(rate: float) -> float:
    """Days in which a departure from the baseline halves, ``ln 2 / -ln(1 - rate)``.

    Parameters
    ----------
    rate : float
        Share ``λ`` closed per day, in (0, 1).

    Returns
    -------
    float
        The half-life in days (``inf`` for a rate of 0).

    Examples
    --------
    >>> round(half_life_days(0.0019), 1)
    364.5
    """
    return math.inf if rate == 0 else math.log(2.0) / -math.log1p(-rate)


def relaxation_closed_form(
    start: np.ndarray | float, baseline: np.ndarray | float, rate: float, days: float
) -> np.ndarray:
    """Concern after ``days`` of fading alone: ``b + (c0 - b)(1 - λ)^t``.

    Parameters
    ----------
    start, baseline : array_like
        Concern on day 0 and the baseline.
    rate : float
        ``λ`` per day.
    days : float
        Days elapsed.

    Returns
    -------
    numpy.ndarray
        Concern on day ``days``.

    Examples
    --------
    >>> relaxation_closed_form(0.8, 0.4, 0.5, 2).round(6).tolist()
    0.5
    """
    b = np.asarray(baseline, dtype=np.float64)
    return b + (np.asarray(start, dtype=np.float64) - b) * (1.0 - rate) ** days


def equilibrium_concern(
    baseline: np.ndarray | float, harm: np.ndarray | float, raise_rate: float, fade_rate: float
) -> np.ndarray:
    """Fixed point of raising by perceived harm, then fading, each day.

    With :func:`~waste_harmony.dynamics.perception.raise_concern` at rate ``k`` and
    harm ``h`` followed by :func:`fade_concern` at rate ``λ`` each day,
    ``c' = (1 - λ)(c + k h (1 - c)) + λ b`` is an affine contraction whose fixed point
    ``((1 - λ) k h + λ b) / (λ + k h - λ k h)`` concern converges to; for small rates
    it is ``(λ b + k h) / (λ + k h)``.

    Parameters
    ----------
    baseline : array_like
        Baseline concern ``b``.
    harm : array_like
        Constant perceived harm ``h`` in [0, 1).
    raise_rate : float
        ``k`` per day.
    fade_rate : float
        ``λ`` per day (> 0, or ``k h`` > 0).

    Returns
    -------
    numpy.ndarray
        The equilibrium concern.

    Examples
    --------
    >>> round(float(equilibrium_concern(0.45, 0.0, 0.001, 0.0019)), 12)
    0.45
    >>> round(float(equilibrium_concern(0.45, 0.4, 0.001, 0.0019)), 4)
    0.5455
    """
    b = np.asarray(baseline, dtype=np.float64)
    kh = raise_rate * np.asarray(harm, dtype=np.float64)
    # The day raises first, then fades: c' = (1 - λ)(c + k h (1 - c)) + λ b.
    lam = fade_rate
    return ((1.0 - lam) * kh + lam * b) / (1.0 - (1.0 - lam) * (1.0 - kh))


def baseline_for_equilibrium(
    concern: np.ndarray, harm: np.ndarray | float, raise_rate: float, fade_rate: float
) -> np.ndarray:
    """The baseline at which ``concern`` is in equilibrium under perceived harm ``harm``.

    Inverts :func:`equilibrium_concern`: ``b = c - (1 - λ) k h (1 - c) / λ``, clipped
    to [0, 1] (a citizen whose concern is below what the harm alone sustains gets
    baseline 0 and drifts up to ``(1 - λ) k h / (λ + k h - λ k h)``). Without fading
    (``λ = 0``) or perceived harm the baseline is the concern itself.

    Parameters
    ----------
    concern : numpy.ndarray
        Concern in [0, 1] (the initial concern).
    harm : array_like
        Perceived harm of each individual, in [0, 1).
    raise_rate : float
        ``k`` per day (``pollution_concern_rate``).
    fade_rate : float
        ``λ`` per day (``concern_fading``).

    Returns
    -------
    numpy.ndarray
        Baselines in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> b = baseline_for_equilibrium(np.array([0.55]), 0.4, 0.001, 0.0019)
    >>> b.round(4).tolist(), equilibrium_concern(b, 0.4, 0.001, 0.0019).round(6).tolist()
    ([0.4554], [0.55])
    """
    c = np.asarray(concern, dtype=np.float64)
    if fade_rate == 0:
        return c.copy()
    kh = raise_rate * np.asarray(harm, dtype=np.float64)
    return np.clip(c - (1.0 - fade_rate) * kh * (1.0 - c) / fade_rate, 0.0, 1.0)
