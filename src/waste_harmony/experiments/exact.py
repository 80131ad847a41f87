"""Exact posteriors of two of the model's own parameters, to check a calibration against.

Two observations of a :class:`~waste_harmony.CityModel` with no scenario have a
likelihood in closed form, so the posterior of one parameter given them is known
exactly (up to a one-dimensional integral done on a fine grid):

* **Waste per citizen from daily totals.** Each citizen's daily waste is
  Gamma(k, μ/k) with ``k = 1 / waste_cv²`` and mean μ = ``waste_per_capita_kg``
  (:func:`waste_harmony.dynamics.waste.group_waste`), independently across citizens
  and days, so a city of ``n`` citizens generates ``T_d ~ Gamma(n k, μ / k)`` on day
  ``d`` (``waste_generated_kg``, facilities aside) and
  ``log L(μ) = −n k D log μ − k Σ_d T_d / μ + const``.
* **The recycling intercept from recycling counts.** With the weights of concern,
  norm and infrastructure at 0, every citizen recycles each day with probability
  ``σ(β₀)`` independently (:mod:`waste_harmony.dynamics.recycling`), so the number of
  recyclers on day ``d`` (``recycling_participation × n``) is Binomial(n, σ(β₀)).

Both use the library's own rules, so a calibration of the real model can be
compared with the truth: interval width ratio, mean error in posterior standard
deviations, coverage (``benchmarks/calibration_exact.py``, ``tests/test_exact.py``).

Examples
--------
>>> from scipy import stats
>>> post = waste_per_capita_posterior([740.0] * 6, n_citizens=1000, cv=0.5,
...                                   prior=stats.uniform(0.2, 1.8))
>>> round(post.mean, 3), bool(post.sd < 0.005)
(0.74, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

__all__ = ["GridPosterior", "recycling_intercept_posterior", "waste_per_capita_posterior"]


@dataclass(frozen=True)
class GridPosterior:
    """A one-parameter posterior on a fine grid.

    Attributes
    ----------
    grid : ndarray
        Parameter values (equally spaced).
    density : ndarray
        Normalised posterior probability of each grid cell (sums to 1).
    """

    grid: np.ndarray
    density: np.ndarray

    @property
    def mean(self) -> float:
        """Posterior mean."""
        return float(np.sum(self.grid * self.density))

    @property
    def sd(self) -> float:
        """Posterior standard deviation."""
        return float(np.sqrt(np.sum((self.grid - self.mean) ** 2 * self.density)))

    def quantile(self, q: float | Sequence[float]) -> np.ndarray:
        """Posterior quantiles (linear interpolation of the CDF)."""
        cdf = np.cumsum(self.density) - 0.5 * self.density
        return np.interp(np.atleast_1d(q), cdf, self.grid)

    def interval(self, level: float = 0.9) -> tuple[float, float]:
        """Equal-tailed credible interval."""
        low, high = self.quantile([(1 - level) / 2, (1 + level) / 2])
        return float(low), float(high)


def _on_grid(prior: Any, log_likelihood: Any, centre: float, width: float) -> GridPosterior:
    """Posterior ∝ prior × likelihood on a grid covering ±12 widths around ``centre``."""
    low, high = (float(v) for v in prior.support())
    grid = np.linspace(max(low, centre - 12 * width), min(high, centre + 12 * width), 200_001)
    log_post = log_likelihood(grid) + prior.logpdf(grid)
    density = np.exp(log_post - np.max(log_post))
    return GridPosterior(grid, density / density.sum())


def waste_per_capita_posterior(
    daily_totals: Sequence[float], *, n_citizens: int, cv: float, prior: Any
) -> GridPosterior:
    """Exact posterior of ``waste_per_capita_kg`` from a city's daily waste totals.

    Parameters
    ----------
    daily_totals : sequence of float
        ``waste_generated_kg`` on the observed days (kg; no facility waste).
    n_citizens : int
        Citizens in the city.
    cv : float
        ``waste_cv``, the coefficient of variation of one citizen's daily waste.
    prior : scipy frozen distribution
        Prior of ``waste_per_capita_kg``.

    Returns
    -------
    GridPosterior

    References
    ----------
    Kaza et al. (2018), *What a Waste 2.0* (the mean); the Gamma sum rule of
    :func:`waste_harmony.dynamics.waste.group_waste`.
    """
    totals = np.asarray(daily_totals, dtype=float)
    shape = n_citizens / cv**2  # per day: Gamma(n k, mu / k), k = 1 / cv²
    k = 1.0 / cv**2
    total, days = float(totals.sum()), len(totals)

    def log_likelihood(mu: np.ndarray) -> np.ndarray:
        return -shape * days * np.log(mu) - k * total / mu

    centre = total / (n_citizens * days)
    return _on_grid(prior, log_likelihood, centre, centre / np.sqrt(shape * days))


def recycling_intercept_posterior(
    daily_shares: Sequence[float], *, n_citizens: int, prior: Any
) -> GridPosterior:
    """Exact posterior of ``recycling_intercept`` from daily recycling counts.

    Valid when ``recycling_weight_concern``, ``recycling_weight_norm`` and
    ``recycling_weight_infrastructure`` are 0 (no hook overrides): each citizen then
    recycles with probability ``σ(β₀)`` every day, independently.

    Parameters
    ----------
    daily_shares : sequence of float
        ``recycling_participation`` on the observed days.
    n_citizens : int
        Citizens in the city (counts are ``share × n_citizens``).
    prior : scipy frozen distribution
        Prior of ``recycling_intercept``.

    Returns
    -------
    GridPosterior
    """
    counts = np.rint(np.asarray(daily_shares, dtype=float) * n_citizens)
    successes, trials = float(counts.sum()), n_citizens * len(counts)

    def log_likelihood(beta: np.ndarray) -> np.ndarray:
        # log σ(β) and log(1 − σ(β)), stable for large |β|
        return -successes * np.logaddexp(0.0, -beta) - (trials - successes) * np.logaddexp(
            0.0, beta
        )

    share = min(max(successes / trials, 0.5 / trials), 1 - 0.5 / trials)
    centre = float(special.logit(share))
    return _on_grid(prior, log_likelihood, centre, 1.0 / np.sqrt(trials * share * (1 - share)))
