"""Approximate Bayesian computation by sequential Monte Carlo (ABC-SMC), as pure functions.

The algorithm works on a *batch simulator* — ``simulate(generation, thetas)`` returns
the summary statistics of every parameter set in ``thetas`` (``replicates`` each) —
so one generation is one batch of runs that any executor can run in parallel, and
the result depends only on the seed, never on the order in which runs finish.

One generation ``t`` of ``abc_smc``:

1. **Propose** ``n`` parameter sets: from the prior (``t = 0``), otherwise from the
   previous weighted population moved by a Gaussian kernel with twice the
   population's weighted covariance (Beaumont et al. 2009; Filippi et al. 2013).
   Proposals outside the prior's support or violating the ``constraint`` are
   redrawn (particle and move), which only renormalises the proposal density.
2. **Simulate** them (``n × replicates`` runs) through ``simulate``.
3. **Distance weights** adapt to the scale of each summary statistic among this
   generation's simulations (median absolute deviation; Prangle 2017); the distance
   is the weighted Euclidean distance to the observations.
4. **Tolerance** (Del Moral, Doucet & Jasra 2012): the smallest ε at which the
   previous population, re-measured with the new distance weights, keeps ``alpha``
   of its effective sample size (at least ``min_acceptance`` of the proposals are
   accepted).
5. **Weights**: importance weight ``prior(θ) / Σ_j w_j K(θ | θ_j)`` (Beaumont et al.
   2009) times the share of the particle's replicates within ε (the unbiased
   likelihood estimate of Del Moral et al. 2012 for noisy simulators).

References
----------
Beaumont, M. A., Cornuet, J.-M., Marin, J.-M. & Robert, C. P. (2009). Adaptive
approximate Bayesian computation. *Biometrika* 96(4), 983–990.

Del Moral, P., Doucet, A. & Jasra, A. (2012). An adaptive sequential Monte Carlo
method for approximate Bayesian computation. *Statistics and Computing* 22, 1009–1020.

Filippi, S., Barnes, C. P., Cornebise, J. & Stumpf, M. P. H. (2013). On optimality
of kernels for approximate Bayesian computation using sequential Monte Carlo.
*Statistical Applications in Genetics and Molecular Biology* 12(1), 87–107.

Prangle, D. (2017). Adapting the ABC distance function. *Bayesian Analysis* 12(1), 289–309.

Examples
--------
>>> import numpy as np
>>> from scipy import stats
>>> def simulate(generation, thetas, rng_seed=0):
...     rng = np.random.default_rng([generation, rng_seed])
...     return thetas[:, None, :] + rng.normal(0, 1, (len(thetas), 1, 1))
>>> out = abc_smc(simulate, {"mu": stats.norm(0, 3)}, observed=np.array([1.0]),
...               population_size=200, generations=3, seed=1)
>>> len(out.generations), out.generations[-1].theta.shape
(3, (200, 1))
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

Simulator = Callable[[int, np.ndarray], np.ndarray]
Constraint = Callable[[Mapping[str, float]], bool]

__all__ = [
    "Generation",
    "SMCResult",
    "abc_smc",
    "acceptance",
    "choose_epsilon",
    "distance_weights",
    "distances",
    "effective_sample_size",
    "importance_weights",
    "make_priors",
    "perturbation_covariance",
    "prior_density",
    "propose",
    "sample_prior",
]


def make_priors(priors: Mapping[str, Any]) -> dict[str, Any]:
    """Frozen scipy distributions from a prior specification.

    Parameters
    ----------
    priors : mapping
        Name → ``(low, high)`` (uniform) or a frozen one-dimensional
        ``scipy.stats`` distribution.

    Returns
    -------
    dict
        Name → frozen distribution, in the given order.

    Examples
    --------
    >>> p = make_priors({"a": (0, 2)})
    >>> float(p["a"].mean())
    1.0
    """
    if not priors:
        raise ValueError("priors is empty; give at least one parameter, e.g. {'x': (0, 1)}")
    out: dict[str, Any] = {}
    for name, spec in priors.items():
        if hasattr(spec, "rvs") and hasattr(spec, "pdf") and hasattr(spec, "ppf"):
            out[name] = spec
        elif isinstance(spec, tuple | list) and len(spec) == 2:
            low, high = (float(v) for v in spec)
            if not np.isfinite([low, high]).all() or not high > low:
                raise ValueError(
                    f"prior of {name!r}: (low, high) = {spec!r} needs finite low < high"
                )
            out[name] = stats.uniform(low, high - low)
        else:
            raise TypeError(
                f"prior of {name!r} must be a (low, high) pair or a frozen scipy.stats "
                f"distribution such as scipy.stats.norm(0, 1), got {spec!r}"
            )
    return out


def prior_density(priors: Mapping[str, Any], theta: np.ndarray) -> np.ndarray:
    """Joint prior density of each row of ``theta`` (independent marginals)."""
    theta = np.atleast_2d(theta)
    density = np.ones(len(theta))
    for j, dist in enumerate(priors.values()):
        density *= dist.pdf(theta[:, j])
    return density


def _valid(
    priors: Mapping[str, Any], theta: np.ndarray, constraint: Constraint | None
) -> np.ndarray:
    ok = prior_density(priors, theta) > 0
    if constraint is not None:
        names = list(priors)
        for i in np.flatnonzero(ok):
            ok[i] = bool(constraint(dict(zip(names, theta[i].tolist(), strict=True))))
    return ok


def _fill(
    draw: Callable[[int], np.ndarray],
    n: int,
    priors: Mapping[str, Any],
    constraint: Constraint | None,
    max_tries: int = 1000,
) -> np.ndarray:
    kept: list[np.ndarray] = []
    have = 0
    for _ in range(max_tries):
        batch = draw(max(n - have, 1) * 2)
        batch = batch[_valid(priors, batch, constraint)]
        kept.append(batch)
        have += len(batch)
        if have >= n:
            return np.concatenate(kept)[:n]
    raise RuntimeError(
        f"could not draw {n} parameter sets satisfying the priors and the constraint "
        f"in {max_tries} rounds; is the constraint satisfiable inside the priors?"
    )


def sample_prior(
    priors: Mapping[str, Any],
    n: int,
    rng: np.random.Generator,
    constraint: Constraint | None = None,
) -> np.ndarray:
    """``n`` draws from the prior restricted to the constraint, shape ``(n, n_parameters)``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = sample_prior(make_priors({"a": (0, 1), "b": (0, 1)}), 50, rng,
    ...                  constraint=lambda p: p["a"] < p["b"])
    >>> bool((x[:, 0] < x[:, 1]).all())
    True
    """

    def draw(m: int) -> np.ndarray:
        return np.column_stack([d.rvs(size=m, random_state=rng) for d in priors.values()])

    return _fill(draw, n, priors, constraint)


def perturbation_covariance(theta: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Twice the weighted covariance of the population (Beaumont et al. 2009).

    A tiny ridge keeps it positive definite when a parameter has collapsed.
    """
    cov = 2.0 * np.atleast_2d(np.cov(theta, rowvar=False, aweights=weights))
    ridge = 1e-12 * max(float(np.trace(cov)), 1e-300)
    return cov + ridge * np.eye(len(cov))


def propose(
    theta: np.ndarray,
    weights: np.ndarray,
    cov: np.ndarray,
    n: int,
    rng: np.random.Generator,
    priors: Mapping[str, Any],
    constraint: Constraint | None = None,
) -> np.ndarray:
    """``n`` proposals: resample the population by weight and move by ``N(0, cov)``."""
    chol = np.linalg.cholesky(cov)
    p = weights / weights.sum()

    def draw(m: int) -> np.ndarray:
        idx = rng.choice(len(theta), size=m, p=p)
        return theta[idx] + rng.standard_normal((m, theta.shape[1])) @ chol.T

    return _fill(draw, n, priors, constraint)


def importance_weights(
    new: np.ndarray,
    priors: Mapping[str, Any],
    old: np.ndarray,
    old_weights: np.ndarray,
    cov: np.ndarray,
) -> np.ndarray:
    """``prior(θ) / Σ_j w_j N(θ; θ_j, cov)`` for each new particle (Beaumont et al. 2009)."""
    kernel = stats.multivariate_normal(mean=np.zeros(len(cov)), cov=cov)
    w = old_weights / old_weights.sum()
    mix = np.zeros(len(new))
    for start in range(0, len(old), 256):  # bounded memory: (n_new × 256) at a time
        block = old[start : start + 256]
        diff = new[:, None, :] - block[None, :, :]
        dens = kernel.pdf(diff.reshape(-1, len(cov))).reshape(len(new), len(block))
        mix += dens @ w[start : start + 256]
    return prior_density(priors, new) / mix


def distance_weights(
    summaries: np.ndarray,
    *,
    scales: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Weights ``(user weight / scale)²`` of each summary statistic (Prangle 2017).

    Parameters
    ----------
    summaries : ndarray, shape (..., n_stats)
        This generation's simulated statistics (non-finite values are ignored).
    scales : ndarray, optional
        Fixed scales; NaN entries are estimated as the median absolute deviation
        (1.4826 × MAD) of the simulations, falling back to their standard deviation
        and then to 1.
    weights : ndarray, optional
        Relative importance of each statistic (default 1).

    Returns
    -------
    ndarray, shape (n_stats,)
    """
    flat = summaries.reshape(-1, summaries.shape[-1])
    k = flat.shape[1]
    est = np.ones(k)
    for j in range(k):
        col = flat[:, j][np.isfinite(flat[:, j])]
        if len(col):
            mad = 1.4826 * float(np.median(np.abs(col - np.median(col))))
            sd = float(np.std(col))
            est[j] = mad if mad > 0 else (sd if sd > 0 else 1.0)
    if scales is not None:
        scales = np.asarray(scales, dtype=float)
        est = np.where(np.isnan(scales), est, scales)
    user = np.ones(k) if weights is None else np.asarray(weights, dtype=float)
    return (user / est) ** 2


def distances(summaries: np.ndarray, observed: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted Euclidean distance of each simulation to the observations.

    Simulations with a non-finite statistic (e.g. a failed run) get distance ``inf``.
    """
    d = np.sqrt((weights * (summaries - observed) ** 2).sum(axis=-1))
    return np.where(np.isfinite(d), d, np.inf)


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size ``(Σw)² / Σw²`` (0 for all-zero weights)."""
    total = float(weights.sum())
    return 0.0 if total <= 0 else total**2 / float((weights**2).sum())


def acceptance(dist: np.ndarray, epsilon: float) -> np.ndarray:
    """Share of each particle's replicates within ``epsilon`` (shape ``(n,)``)."""
    return (dist <= epsilon).mean(axis=1)


def choose_epsilon(dist: np.ndarray, weights: np.ndarray, alpha: float) -> float:
    """Adaptive tolerance of Del Moral, Doucet & Jasra (2012).

    The smallest ε such that reweighting the population, ``w × acceptance(ε)``,
    keeps an effective sample size of at least ``alpha`` times the current one. With
    equal weights and one replicate this is the ``alpha``-quantile of the distances.

    Parameters
    ----------
    dist : ndarray, shape (n, replicates)
        Distances of the population's replicates (under the current distance weights).
    weights : ndarray, shape (n,)
        The population's weights.
    alpha : float
        Share of the effective sample size to keep, in (0, 1].

    Returns
    -------
    float

    Examples
    --------
    >>> float(choose_epsilon(np.array([[3.0], [1.0], [2.0], [4.0]]), np.ones(4), 0.5))
    2.0
    """
    candidates = np.unique(dist[(weights > 0)[:, None] & np.isfinite(dist)])
    if not len(candidates):
        raise RuntimeError("every simulation of the population failed or gave no statistics")
    target = alpha * effective_sample_size(weights)
    lo, hi = 0, len(candidates) - 1
    while lo < hi:  # ESS grows with ε: bisect for the smallest ε reaching the target
        mid = (lo + hi) // 2
        if effective_sample_size(weights * acceptance(dist, candidates[mid])) >= target * (
            1 - 1e-12
        ):
            hi = mid
        else:
            lo = mid + 1
    return float(candidates[lo])


@dataclass
class Generation:
    """One generation of ABC-SMC: proposals, simulations, weights and diagnostics."""

    theta: np.ndarray  # (n, n_parameters) proposals
    summaries: np.ndarray  # (n, replicates, n_stats) simulated statistics
    weight: np.ndarray  # (n,) normalised posterior weights (0 = rejected)
    distance: np.ndarray  # (n, replicates) under this generation's distance weights
    epsilon: float
    ess: float
    distance_weights: np.ndarray

    @property
    def accepted(self) -> np.ndarray:
        """Mask of the particles with positive weight."""
        return self.weight > 0

    @property
    def n_runs(self) -> int:
        """Model runs of this generation (particles × replicates)."""
        return int(self.summaries.shape[0] * self.summaries.shape[1])


@dataclass
class SMCResult:
    """All generations of an ABC-SMC run; the last one is the posterior."""

    names: list[str]
    generations: list[Generation] = field(default_factory=list)


def abc_smc(
    simulate: Simulator,
    priors: Mapping[str, Any],
    observed: np.ndarray,
    *,
    population_size: int,
    generations: int,
    seed: int,
    alpha: float = 0.5,
    min_acceptance: float = 0.05,
    scales: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    constraint: Constraint | None = None,
    min_epsilon: float = 0.0,
    on_generation: Callable[[int, Generation], None] | None = None,
) -> SMCResult:
    """Run ABC-SMC with adaptive tolerance, kernel and distance weights.

    Parameters
    ----------
    simulate : callable
        ``simulate(generation, thetas)`` → array ``(len(thetas), replicates, n_stats)``
        of summary statistics (NaN for a failed run). Must be deterministic in its
        arguments for the result to be reproducible.
    priors : mapping
        Name → ``(low, high)`` or a frozen scipy distribution (see :func:`make_priors`).
    observed : ndarray, shape (n_stats,)
        The observed statistics.
    population_size : int
        Particles proposed (and simulated) per generation.
    generations : int
        Number of generations.
    seed : int
        Seed of the proposals.
    alpha : float
        Share of the effective sample size kept when the tolerance shrinks
        (:func:`choose_epsilon`; 0.5 ≈ a weighted median of the distances).
    min_acceptance : float
        The tolerance never accepts fewer than this share of a generation's particles
        (guards against an empty population when the proposals jump far).
    scales, weights : ndarray, optional
        Fixed scales (NaN: adaptive) and relative weights of the statistics.
    constraint : callable, optional
        ``constraint(params_dict) -> bool``; proposals violating it are redrawn.
    min_epsilon : float
        Stop early once the tolerance falls to this value.
    on_generation : callable, optional
        Called with ``(t, generation)`` after each generation.

    Returns
    -------
    SMCResult
    """
    priors = make_priors(priors)
    if population_size < 2:
        raise ValueError(f"population_size must be >= 2, got {population_size}")
    if generations < 1:
        raise ValueError(f"generations must be >= 1, got {generations}")
    if not 0 < alpha <= 1:
        raise ValueError(f"alpha must be in (0, 1], got {alpha}")
    if not 0 < min_acceptance <= 1:
        raise ValueError(f"min_acceptance must be in (0, 1], got {min_acceptance}")
    observed = np.asarray(observed, dtype=float)
    result = SMCResult(names=list(priors))
    root = np.random.SeedSequence(seed)
    previous: Generation | None = None
    for t, child in enumerate(root.spawn(generations)):
        rng = np.random.default_rng(child)
        if previous is None:
            theta = sample_prior(priors, population_size, rng, constraint)
            importance = np.ones(population_size)
        else:
            keep = previous.accepted
            cov = perturbation_covariance(previous.theta[keep], previous.weight[keep])
            old, old_w = previous.theta[keep], previous.weight[keep]
            theta = propose(old, old_w, cov, population_size, rng, priors, constraint)
            importance = importance_weights(theta, priors, old, old_w, cov)
        summaries = np.asarray(simulate(t, theta), dtype=float)
        if summaries.ndim != 3 or summaries.shape[0] != len(theta):
            raise ValueError(
                "simulate must return an array of shape (n_particles, replicates, n_stats), "
                f"got {summaries.shape}"
            )
        dw = distance_weights(summaries, scales=scales, weights=weights)
        dist = distances(summaries, observed, dw)
        # Del Moral et al.: shrink ε on the current population (re-measured with the
        # new distance weights), then accept this generation's proposals at that ε
        if previous is None:
            eps = choose_epsilon(dist, np.ones(len(theta)), alpha)
        else:
            before = distances(previous.summaries[keep], observed, dw)
            eps = choose_epsilon(before, previous.weight[keep], alpha)
        particle = np.sort(dist, axis=1)[:, (dist.shape[1] - 1) // 2]  # median replicate
        floor = np.sort(particle)[max(int(np.ceil(min_acceptance * len(theta))), 1) - 1]
        eps = max(eps, float(floor)) if np.isfinite(floor) else eps
        w = importance * acceptance(dist, eps)
        if not w.sum() > 0:
            raise RuntimeError(
                f"generation {t}: no particle within the tolerance {eps:.4g}; every run "
                "may have failed — check the simulations"
            )
        w = w / w.sum()
        generation = Generation(
            theta=theta,
            summaries=summaries,
            weight=w,
            distance=dist,
            epsilon=eps,
            ess=effective_sample_size(w),
            distance_weights=dw,
        )
        result.generations.append(generation)
        if on_generation is not None:
            on_generation(t, generation)
        previous = generation
        if eps <= min_epsilon:
            break
    return result
