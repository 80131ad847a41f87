"""Proportions from runs: a share with its interval, and paired or independent differences.

An outcome that is a category (``facility_status`` is ``"withdrawn"`` or not) is summarised
over runs as a share. These are the interval estimates that behave at the extremes (0 of
20 runs, 20 of 20), where the textbook Wald interval collapses to a point:

* :func:`wilson_interval` — the score interval of one proportion (Wilson 1927), which
  Newcombe (1998a) recommends among seven methods.
* :func:`difference_interval` — the difference of two proportions, from *paired* runs
  (common random numbers: the same seeds with and without a policy) by Newcombe's
  (1998b) method 10, or from independent runs by his square-and-add method 10 of
  (1998c), both built from the two Wilson intervals.
* :func:`mcnemar` — McNemar's test of a paired difference: the exact conditional
  (binomial) p-value on the discordant pairs, and the χ² statistic (Agresti 2002, §10.1).

Pure functions of counts (NumPy and SciPy only), so the experiment machinery and the
analyses share them.

References
----------
Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
inference. *Journal of the American Statistical Association* 22, 209–212.
Newcombe, R. G. (1998a). Two-sided confidence intervals for the single proportion:
comparison of seven methods. *Statistics in Medicine* 17, 857–872.
Newcombe, R. G. (1998b). Improved confidence intervals for the difference between
binomial proportions based on paired data. *Statistics in Medicine* 17, 2635–2650.
Newcombe, R. G. (1998c). Interval estimation for the difference between independent
proportions: comparison of eleven methods. *Statistics in Medicine* 17, 873–890.
Agresti, A. (2002). *Categorical Data Analysis*, 2nd ed., Wiley, §10.1.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["difference_interval", "mcnemar", "wilson_interval"]


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    from scipy import stats

    return float(stats.norm.ppf(0.5 + confidence / 2))


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson's score interval of a proportion ``successes / n``.

    Parameters
    ----------
    successes, n : int
        Count and total (``0 <= successes <= n``); ``n = 0`` gives ``(nan, nan)``.
    confidence : float
        Confidence level.

    Returns
    -------
    (float, float)
        Lower and upper limit, within [0, 1].

    Examples
    --------
    Newcombe (1998a), Table II, 81 of 263 and 15 of 148:

    >>> [round(x, 4) for x in wilson_interval(81, 263)]
    [0.2553, 0.3662]
    >>> [round(x, 4) for x in wilson_interval(15, 148)]
    [0.0624, 0.1605]
    """
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got {successes} of {n}")
    if n == 0:
        return math.nan, math.nan
    z = _z(confidence)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def _phi(a: int, b: int, c: int, d: int) -> float:
    """Newcombe's (1998b) continuity-corrected correlation of the paired table."""
    n = a + b + c + d
    product = (a + b) * (c + d) * (a + c) * (b + d)
    if product == 0:
        return 0.0
    cross = float(a * d - b * c)
    if cross > 0:
        cross = max(cross - n / 2, 0.0)
    return cross / math.sqrt(product)


def difference_interval(
    a: int, b: int, c: int, d: int, *, paired: bool = True, confidence: float = 0.95
) -> dict[str, Any]:
    """The difference of two proportions ``p1 - p2`` with Newcombe's score-based interval.

    For **paired** outcomes the counts are the 2×2 table of pairs: ``a`` both have the
    outcome, ``b`` only the first, ``c`` only the second, ``d`` neither; ``p1 = (a +
    b) / n``, ``p2 = (a + c) / n`` (Newcombe 1998b, method 10). For **independent**
    samples ``a`` of ``a + b`` have it in the first and ``c`` of ``c + d`` in the
    second (Newcombe 1998c, method 10: φ = 0).

    Parameters
    ----------
    a, b, c, d : int
        The counts.
    paired : bool
        Paired (a table of pairs) or independent samples.
    confidence : float
        Confidence level.

    Returns
    -------
    dict
        ``p1``, ``p2``, ``difference``, ``ci_low``, ``ci_high`` (floats; NaN when a
        sample is empty), ``n`` (pairs, or the smaller sample).

    Examples
    --------
    Newcombe (1998b), Table II, the paired table (36, 12, 2, 0):

    >>> r = difference_interval(36, 12, 2, 0)
    >>> round(r["difference"], 4), round(r["ci_low"], 4), round(r["ci_high"], 4)
    (0.2, 0.0569, 0.3404)

    Newcombe (1998c), Table II, 56/70 against 48/80 (independent):

    >>> r = difference_interval(56, 14, 48, 32, paired=False)
    >>> round(r["ci_low"], 4), round(r["ci_high"], 4)
    (0.0524, 0.3339)
    """
    for count in (a, b, c, d):
        if count < 0:
            raise ValueError(f"counts must be >= 0, got {(a, b, c, d)}")
    if paired:
        n = a + b + c + d
        k1, n1, k2, n2 = a + b, n, a + c, n
        phi = _phi(a, b, c, d)
    else:
        k1, n1, k2, n2 = a, a + b, c, c + d
        n = min(n1, n2)
        phi = 0.0
    if n1 == 0 or n2 == 0:
        nan = math.nan
        return {"p1": nan, "p2": nan, "difference": nan, "ci_low": nan, "ci_high": nan, "n": n}
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_interval(k1, n1, confidence)
    l2, u2 = wilson_interval(k2, n2, confidence)
    theta = p1 - p2
    delta = (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2
    epsilon = (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2
    return {
        "p1": p1,
        "p2": p2,
        "difference": theta,
        "ci_low": max(-1.0, theta - math.sqrt(max(delta, 0.0))),
        "ci_high": min(1.0, theta + math.sqrt(max(epsilon, 0.0))),
        "n": n,
    }


def mcnemar(b: int, c: int) -> dict[str, float]:
    """McNemar's test of a paired difference of proportions, from the discordant pairs.

    Parameters
    ----------
    b, c : int
        Pairs with the outcome in the first member only, and in the second only.

    Returns
    -------
    dict
        ``statistic``: ``(b - c)² / (b + c)`` (χ², 1 df, no continuity correction;
        0 when there is no discordant pair); ``p_value``: the exact conditional
        two-sided p-value, ``b ~ Binomial(b + c, 1/2)`` (1 with no discordant pair).

    Examples
    --------
    Agresti (2002), Table 10.1 (approval of the Prime Minister, 1600 people surveyed
    twice: 150 approved then disapproved, 86 the reverse): z² = 17.36.

    >>> r = mcnemar(150, 86)
    >>> round(r["statistic"], 2), r["p_value"] < 0.0001
    (17.36, True)
    """
    if b < 0 or c < 0:
        raise ValueError(f"counts must be >= 0, got {(b, c)}")
    m = b + c
    if m == 0:
        return {"statistic": 0.0, "p_value": 1.0}
    from scipy import stats

    p_value = min(1.0, 2 * float(stats.binom.cdf(min(b, c), m, 0.5)))
    return {"statistic": (b - c) ** 2 / m, "p_value": p_value}
