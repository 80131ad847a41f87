# Over 600 lines by choice: one published method (ABC-SMC), its steps in the order it runs them.
"""Approximate Bayesian computation by sequential Monte Carlo (ABC-SMC), as pure functions.

The algorithm works on a *batch simulator* — ``simulate(step, thetas)`` returns
the summary statistics of every parameter set in ``thetas`` (``replicates`` each) —
so each batch of runs can run in parallel on any executor, and
the result depends only on the seed, never on the order in which runs finish.

One generation ``t`` of ``abc_smc``:

1. **Distance weights** adapt to the scale of each summary statistic among the
   previous generation's simulations (median absolute deviation; Prangle 2017); the
   distance is the weighted Euclidean distance to the observations.
2. **Tolerance** (Del Moral, Doucet & Jasra 2012): the smallest ε at which the
   previous population, re-measured with the new distance weights, keeps ``alpha``
   of its effective sample size.
3. **Propose** parameter sets from the previous weighted population moved by a
   Gaussian kernel with twice its weighted covariance (Beaumont et al. 2009;
   Filippi et al. 2013); proposals outside the prior's support or violating the
   ``constraint`` are redrawn, which only renormalises the proposal density.
4. **Simulate** them in batches through ``simulate`` until ``population_size``
   particles are within ε (population Monte Carlo: Toni et al. 2009; Beaumont et
   al. 2009), so every population keeps an effective sample size near
   ``population_size``.
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

Toni, T., Welch, D., Strelkowa, N., Ipsen, A. & Stumpf, M. P. H. (2009). Approximate
Bayesian computation scheme for parameter inference and model selection in dynamical
systems. *Journal of the Royal Society Interface* 6(31), 187–202.

Examples
--------
>>> import numpy as np
>>> from scipy import stats
>>> def simulate(step, thetas, rng_seed=0):
...     rng = np.random.default_rng([step, rng_seed])
...     return thetas[:, None, :] + rng.normal(0, 1, (len(thetas), 1, 1))
>>> out = abc_smc(simulate, {"mu": stats.norm(0, 3)}, observed=np.array([1.0]),
...               population_size=200, generations=3, seed=1)
>>> len(out.generations), int(out.generations[-1].accepted.sum()) >= 200
(3, True)
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
    """One generation of ABC-SMC: proposals, simulations, weights and diagnostics.

    A generation may hold several simulation batches (``batches``); ``theta`` and
    ``summaries`` concatenate all of them, accepted or not.
    """

    theta: np.ndarray  # (n, n_parameters) proposals
    summaries: np.ndarray  # (n, replicates, n_stats) simulated statistics
    weight: np.ndarray  # (n,) normalised posterior weights (0 = rejected)
    distance: np.ndarray  # (n, replicates) under this generation's distance weights
    epsilon: float
    ess: float
    distance_weights: np.ndarray
    batches: list[int] = field(default_factory=list)  # the simulate() steps it used
    complete: bool = True  # reached population_size accepted particles

    @property
    def accepted(self) -> np.ndarray:
        """Mask of the particles with positive weight."""
        return self.weight > 0

    @property
    def n_runs(self) -> int:
        """Model runs of this generation (particles × replicates)."""
        return int(self.summaries.shape[0] * self.summaries.shape[1])

    @property
    def acceptance_rate(self) -> float:
        """Share of the proposals accepted."""
        return float(self.accepted.mean()) if len(self.weight) else 0.0


@dataclass
class SMCResult:
    """All generations of an ABC-SMC run; the last one is the posterior.

    ``stopped`` says which stop rule ended the run; ``discarded`` counts the
    proposals of a last, unfinished generation that was dropped (too few accepted).
    """

    names: list[str]
    generations: list[Generation] = field(default_factory=list)
    stopped: str = ""
    discarded: int = 0


def abc_smc(
    simulate: Simulator,
    priors: Mapping[str, Any],
    observed: np.ndarray,
    *,
    population_size: int,
    seed: int,
    generations: int | None = None,
    max_proposals: int | None = None,
    alpha: float = 0.5,
    min_acceptance: float = 0.02,
    min_epsilon_change: float = 0.0,
    scales: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    constraint: Constraint | None = None,
    min_epsilon: float = 0.0,
    on_generation: Callable[[int, Generation], None] | None = None,
) -> SMCResult:
    """Run ABC-SMC (population Monte Carlo) with adaptive tolerance, kernel and distance.

    Every generation proposes and simulates batches until ``population_size``
    particles fall within its tolerance (Toni et al. 2009; Beaumont et al. 2009), so
    each population has an effective sample size close to ``population_size`` instead
    of shrinking generation after generation.

    Generation 0 samples the prior (ε = ∞: every finite simulation is accepted).
    Generation ``t ≥ 1``:

    1. **Distance weights** from all of generation ``t − 1``'s simulations (median
       absolute deviation per statistic; Prangle 2017).
    2. **Tolerance** ε_t: the smallest ε at which generation ``t − 1``'s population,
       re-measured with those weights, keeps ``alpha`` of its effective sample size
       (Del Moral, Doucet & Jasra 2012; with equal weights, the α-quantile of the
       distances).
    3. **Batches**: propose from the previous population moved by a Gaussian kernel
       with twice its weighted covariance, simulate, accept the particles within ε_t;
       the next batch is sized from the acceptance rate so far, until
       ``population_size`` are accepted (all accepted particles are kept).
    4. **Weights** ``prior(θ) / Σ_j w_j K(θ | θ_j)`` times the share of the
       particle's replicates within ε_t (Del Moral et al. 2012's unbiased likelihood
       estimate for noisy simulators).

    Stop rules (whichever comes first): ``generations`` generations; the proposal
    budget ``max_proposals`` is spent; a generation's acceptance rate falls below
    ``min_acceptance`` (more proposals would be wasted: the tolerance is near what
    the model and data allow); ε falls to ``min_epsilon``; ε changes by less than
    ``min_epsilon_change`` (relative). A generation cut short by the budget or by
    ``min_acceptance`` is kept as the posterior if it accepted at least half of
    ``population_size`` particles (a valid, smaller importance sample), otherwise
    dropped in favour of the previous one.

    Parameters
    ----------
    simulate : callable
        ``simulate(step, thetas)`` → array ``(len(thetas), replicates, n_stats)``
        of summary statistics (NaN for a failed run); ``step`` numbers the batches
        0, 1, 2, … across the whole run. Must be deterministic in its arguments for
        the result to be reproducible.
    priors : mapping
        Name → ``(low, high)`` or a frozen scipy distribution (see :func:`make_priors`).
    observed : ndarray, shape (n_stats,)
        The observed statistics.
    population_size : int
        Particles accepted per generation (also the size of generation 0 and of
        each generation's first batch).
    seed : int
        Seed of the proposals.
    generations : int, optional
        Maximum number of generations (``None``: stop by the other rules only; then
        give ``max_proposals`` or ``min_epsilon_change``).
    max_proposals : int, optional
        Budget of proposals (simulated parameter sets) in total.
    alpha : float
        Share of the effective sample size kept when the tolerance shrinks.
    min_acceptance : float
        Stop once a generation's acceptance rate falls below this share.
    min_epsilon_change : float
        Stop once ε shrinks by less than this share of the previous ε (both measured
        with the current distance weights; 0: never).
    scales, weights : ndarray, optional
        Fixed scales (NaN: adaptive) and relative weights of the statistics.
    constraint : callable, optional
        ``constraint(params_dict) -> bool``; proposals violating it are redrawn.
    min_epsilon : float
        Stop once the tolerance falls to this value.
    on_generation : callable, optional
        Called with ``(t, generation)`` after each generation.

    Returns
    -------
    SMCResult

    References
    ----------
    Toni, T., Welch, D., Strelkowa, N., Ipsen, A. & Stumpf, M. P. H. (2009).
    Approximate Bayesian computation scheme for parameter inference and model
    selection in dynamical systems. *J. R. Soc. Interface* 6, 187–202.
    """
    priors = make_priors(priors)
    if population_size < 2:
        raise ValueError(f"population_size must be >= 2, got {population_size}")
    if generations is not None and generations < 1:
        raise ValueError(f"generations must be >= 1, got {generations}")
    if generations is None and max_proposals is None and min_epsilon_change <= 0:
        raise ValueError("give generations, max_proposals or min_epsilon_change to stop")
    if max_proposals is not None and max_proposals < population_size:
        raise ValueError(
            f"max_proposals = {max_proposals} is less than one population ({population_size})"
        )
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if not 0 < min_acceptance <= 1:
        raise ValueError(f"min_acceptance must be in (0, 1], got {min_acceptance}")
    observed = np.asarray(observed, dtype=float)
    result = SMCResult(names=list(priors))
    budget = np.inf if max_proposals is None else int(max_proposals)
    spent = 0
    step = 0

    def run(thetas: np.ndarray) -> np.ndarray:
        nonlocal step, spent
        summaries = np.asarray(simulate(step, thetas), dtype=float)
        if summaries.ndim != 3 or summaries.shape[0] != len(thetas):
            raise ValueError(
                "simulate must return an array of shape (n_particles, replicates, n_stats), "
                f"got {summaries.shape}"
            )
        step += 1
        spent += len(thetas)
        return summaries

    # generation 0: the prior
    rng = np.random.default_rng([seed, 0, 0])
    theta = sample_prior(priors, population_size, rng, constraint)
    summaries = run(theta)
    dw = distance_weights(summaries, scales=scales, weights=weights)
    dist = distances(summaries, observed, dw)
    w = np.isfinite(dist).mean(axis=1)
    if not w.sum() > 0:
        raise RuntimeError("every simulation of the prior failed — check the simulations")
    previous = Generation(
        theta=theta,
        summaries=summaries,
        weight=w / w.sum(),
        distance=dist,
        epsilon=float("inf"),
        ess=effective_sample_size(w),
        distance_weights=dw,
        batches=[0],
    )
    result.generations.append(previous)
    if on_generation is not None:
        on_generation(0, previous)
    t = 0
    while True:
        if generations is not None and t + 1 >= generations:
            result.stopped = "generations"
            break
        if spent >= budget:
            result.stopped = "budget"
            break
        t += 1
        keep = previous.accepted
        old, old_w = previous.theta[keep], previous.weight[keep]
        cov = perturbation_covariance(old, old_w)
        dw = distance_weights(previous.summaries, scales=scales, weights=weights)
        before = distances(previous.summaries[keep], observed, dw)
        eps = choose_epsilon(before, old_w, alpha)
        # the previous tolerance on the new distance scale: its largest accepted distance
        finite = before[np.isfinite(before)]
        change = 1.0 - eps / float(finite.max()) if t > 1 and len(finite) else np.inf
        thetas, sums, dists, imps, batches = [], [], [], [], []
        accepted, proposed, batch = 0, 0, 0
        most = int(np.ceil(population_size / min_acceptance))
        while accepted < population_size and proposed < most and spent < budget:
            if batch == 0:
                size = population_size
            else:
                rate = max(accepted / proposed, min_acceptance)
                size = int(np.ceil(1.2 * (population_size - accepted) / rate))
                size = max(size, population_size // 10, 1)
            size = int(min(size, most - proposed, budget - spent))
            rng = np.random.default_rng([seed, t, batch])
            theta = propose(old, old_w, cov, size, rng, priors, constraint)
            batches.append(step)
            summaries = run(theta)
            dist = distances(summaries, observed, dw)
            thetas.append(theta)
            sums.append(summaries)
            dists.append(dist)
            imps.append(importance_weights(theta, priors, old, old_w, cov))
            accepted += int((acceptance(dist, eps) > 0).sum())
            proposed += size
            batch += 1
        theta, summaries = np.concatenate(thetas), np.concatenate(sums)
        dist = np.concatenate(dists)
        w = np.concatenate(imps) * acceptance(dist, eps)
        complete = accepted >= population_size
        if not complete and accepted < population_size / 2:
            result.discarded = proposed
            result.stopped = "budget" if spent >= budget else "min_acceptance"
            break
        generation = Generation(
            theta=theta,
            summaries=summaries,
            weight=w / w.sum(),
            distance=dist,
            epsilon=eps,
            ess=effective_sample_size(w),
            distance_weights=dw,
            batches=batches,
            complete=complete,
        )
        result.generations.append(generation)
        if on_generation is not None:
            on_generation(t, generation)
        previous = generation
        if not complete or generation.acceptance_rate < min_acceptance:
            result.stopped = "budget" if spent >= budget else "min_acceptance"
            break
        if eps <= min_epsilon:
            result.stopped = "min_epsilon"
            break
        if min_epsilon_change > 0 and change < min_epsilon_change:
            result.stopped = "min_epsilon_change"
            break
    return result
