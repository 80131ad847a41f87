"""Environmental concern as an opinion: bounded confidence and linear averaging.

The model's concern dynamics are the Deffuant–Weisbuch bounded-confidence model
(Deffuant et al. 2000): two citizens who meet compare their concern and, if it
differs by less than the confidence bound ``epsilon``, each moves a fraction
``mu`` of the way towards the other. Meetings are random matchings within
meeting places (:func:`random_matching`), so one day is one sweep in which
every citizen takes part in at most one encounter — the model runs the very
functions a researcher calls here.

:func:`degroot_consensus` is the linear-averaging benchmark (DeGroot 1974)
against which bounded confidence is usually contrasted.

References
----------
.. [1] Deffuant, G., Neau, D., Amblard, F. & Weisbuch, G. (2000). Mixing beliefs
   among interacting agents. *Advances in Complex Systems* 3, 87–98.
.. [2] Weisbuch, G., Deffuant, G., Amblard, F. & Nadal, J.-P. (2002). Meet, discuss,
   and segregate! *Complexity* 7(3), 55–63.
.. [3] DeGroot, M. H. (1974). Reaching a consensus. *JASA* 69(345), 118–121.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = [
    "cluster_sizes",
    "cohort_encounters",
    "count_clusters",
    "deffuant_update",
    "deffuant_weisbuch",
    "degroot_consensus",
    "degroot_step",
    "random_matching",
]


def random_matching(places: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Pair individuals at random within each meeting place.

    Everyone is shuffled, grouped by place, and consecutive members of a group are
    paired: a place of ``k`` members holds ``k // 2`` pairs, and in a place of odd
    size one member, chosen uniformly at random, sits out. Pairs never span two
    places, and each individual appears in at most one pair.

    Parameters
    ----------
    places : numpy.ndarray of int, shape (n,)
        Meeting place of each individual (any integer labels).
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    first, second : numpy.ndarray of int
        Indices of the two members of each pair (same length).

    Examples
    --------
    >>> import numpy as np
    >>> a, b = random_matching(np.zeros(6, dtype=int), np.random.default_rng(0))
    >>> len(a), sorted(np.concatenate([a, b]).tolist())
    (3, [0, 1, 2, 3, 4, 5])
    """
    n = len(places)
    if n < 2:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    # A random key below 1 keeps places apart and shuffles within each place.
    keys = places + rng.random(n)
    order = _sort_keys(places, keys)
    # Places are now in ascending order, each a run of `counts` members. Pair the 1st
    # and 2nd, 3rd and 4th, ... member of each run (so only the last member of an
    # odd-sized place sits out): pair j of a place starting at s leads at s + 2 j.
    if places.dtype.kind in "iu" and places.min() >= 0 and places.max() < 4 * n:
        counts = np.bincount(places)
    else:
        counts = np.unique(places, return_counts=True)[1]
    pairs = counts // 2
    starts = np.cumsum(counts) - counts
    first_pair = np.cumsum(pairs) - pairs
    lead = 2 * np.arange(int(pairs.sum())) + np.repeat(starts - 2 * first_pair, pairs)
    return order[lead], order[lead + 1]


_RADIX_MAX = 2**18  # above this, the digit sorts' scattered reads cost more than they save


def _sort_keys(places: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """``np.argsort(keys, kind="stable")`` for ``keys = places + u``, faster.

    For places in [0, 2**16), numpy's radix sort (stable sorts of 16-bit integers)
    presorts: by the top 16 bits of ``u`` and then by place when there are at most
    ``_RADIX_MAX`` keys, else by place alone. A final stable sort of the keys on the
    presorted order (of their int64 bit patterns: non-negative floats sort like them)
    then has little left to do. Equal keys share place and ``u``, so the presorts
    keep them in index order: the result is the plain stable argsort's.
    """
    n = len(places)
    if not (n and places.dtype.kind in "iu" and places.min() >= 0 and places.max() < 2**16):
        return np.argsort(keys, kind="stable")
    if n <= _RADIX_MAX:
        digit = ((keys - places) * 65535.0).astype(np.uint16)  # keys - places is in [0, 1]
        order = np.argsort(digit, kind="stable")
        order = order[np.argsort(places[order].astype(np.uint16), kind="stable")]
    else:
        order = np.argsort(places.astype(np.uint16), kind="stable")
    return order[np.argsort(keys[order].view(np.int64), kind="stable")]


def deffuant_update(
    opinions: np.ndarray,
    first: np.ndarray,
    second: np.ndarray,
    epsilon: float,
    mu: float,
) -> int:
    """Apply one bounded-confidence encounter to each pair, in place.

    For a pair (i, j) with ``|x_i - x_j| < epsilon``: ``x_i += mu (x_j - x_i)`` and
    ``x_j += mu (x_i - x_j)`` (simultaneously). Pairs must be disjoint, as returned by
    :func:`random_matching`, so the vectorised update equals the sequential one.

    Parameters
    ----------
    opinions : numpy.ndarray of float
        Opinions, modified in place.
    first, second : numpy.ndarray of int
        Disjoint pairs.
    epsilon : float
        Confidence bound ε ≥ 0.
    mu : float
        Convergence parameter μ in [0, 0.5].

    Returns
    -------
    int
        Number of pairs that interacted (were within ε).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([0.2, 0.4, 0.0, 1.0])
    >>> deffuant_update(x, np.array([0, 2]), np.array([1, 3]), epsilon=0.3, mu=0.5)
    1
    >>> x.tolist()
    [0.30000000000000004, 0.30000000000000004, 0.0, 1.0]
    """
    xi = opinions[first]
    xj = opinions[second]
    diff = xj - xi
    close = np.abs(diff) < epsilon
    step = mu * diff * close
    opinions[first] = xi + step
    opinions[second] = xj - step
    return int(np.count_nonzero(close))


def cohort_encounters(
    opinions: np.ndarray,
    places: np.ndarray,
    epsilon: float,
    mu: float,
) -> np.ndarray:
    """The expected change of a day's encounter for cohorts meeting in places.

    Each individual holds one opinion and stands for a cohort of people who each
    meet one other person of their place a day (:func:`random_matching`), partners
    drawn uniformly among the place's other members. The expected change of the
    cohort's opinion is then the Deffuant–Weisbuch move averaged over partners,

    ``Δx_i = mu / (n_p - 1) * Σ_{j ≠ i, |x_j - x_i| < epsilon} (x_j - x_i)``,

    the rate equation of the bounded-confidence dynamics on the population's
    opinion density (Ben-Naim, Krapivsky & Redner 2003, *Physica D* 183, 190–204:
    bifurcations and patterns in compromise processes), with the cohorts as its
    particles. It is symmetric, so each place's total opinion is conserved as by
    the encounters, and it does not depend on the order in which a few
    individuals happen to meet: a handful of cohorts follows the density of many
    people, where a handful of individuals meeting at random leave gaps that
    many people would bridge. Sums over the partners within ``epsilon`` come
    from one sort and prefix sums, ``O(n log n)`` for any place size.

    Parameters
    ----------
    opinions : numpy.ndarray of float
        Each individual's opinion (not modified).
    places : numpy.ndarray of int
        Each individual's meeting place (non-negative labels).
    epsilon, mu : float
        Confidence bound and convergence parameter.

    Returns
    -------
    numpy.ndarray of float
        The change of each opinion.

    Examples
    --------
    Three in one place: the middle one is within 0.3 of both and stays; the outer two
    move ``0.5 / 2 * 0.2`` towards it (they are 0.4 apart, out of each other's reach):

    >>> import numpy as np
    >>> cohort_encounters(np.array([0.3, 0.5, 0.7]), np.zeros(3, dtype=int), 0.3, 0.5).round(3)
    array([ 0.05,  0.  , -0.05])
    """
    x = np.asarray(opinions, dtype=np.float64)
    n = len(x)
    if n < 2 or mu == 0 or epsilon == 0:
        return np.zeros(n)
    places = np.asarray(places, dtype=np.int64)
    # Opinions lie in [0, 1]: a stride of 3 per place keeps places apart by more
    # than any reach (epsilon <= 1).
    key = places * 3.0 + x
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    prefix = np.concatenate([[0.0], np.cumsum(x[order])])
    lo = np.searchsorted(sorted_key, key - epsilon, side="right")
    hi = np.searchsorted(sorted_key, key + epsilon, side="left")
    partners = hi - lo - 1  # within reach, self excluded
    total = prefix[hi] - prefix[lo] - x
    size = np.bincount(places)[places]
    return np.divide(mu * (total - partners * x), size - 1.0, out=np.zeros(n), where=size > 1)


def deffuant_weisbuch(
    opinions: np.ndarray,
    *,
    epsilon: float,
    mu: float,
    sweeps: int,
    rng: np.random.Generator,
    places: np.ndarray | None = None,
    tol: float | None = None,
) -> np.ndarray:
    """Run the Deffuant–Weisbuch model for a number of sweeps.

    One sweep is one random matching of the whole population (``n/2`` encounters),
    the time unit of Deffuant et al. (2000).

    Parameters
    ----------
    opinions : numpy.ndarray of float
        Initial opinions (not modified).
    epsilon, mu : float
        Confidence bound and convergence parameter.
    sweeps : int
        Number of sweeps.
    rng : numpy.random.Generator
        Source of randomness.
    places : numpy.ndarray of int, optional
        Meeting places; default everyone meets everyone (well mixed).
    tol : float, optional
        Stop before ``sweeps`` once the opinions are at a fixed point up to ``tol``:
        split at gaps of at least ``epsilon`` (groups that can never interact
        again), every group spans at most ``tol``, so no encounter can move anyone
        by more than ``mu * tol``. Checked every 10 sweeps of a well-mixed run
        (``places`` None). Isolated extremists may take very long to meet, so
        ``sweeps`` still bounds the run. Default: always run ``sweeps`` sweeps.

    Returns
    -------
    numpy.ndarray
        Final opinions.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> final = deffuant_weisbuch(rng.random(500), epsilon=0.5, mu=0.5, sweeps=100, rng=rng)
    >>> count_clusters(final)
    1
    """
    x = np.array(opinions, dtype=np.float64, copy=True)
    where = np.zeros(len(x), dtype=np.int64) if places is None else np.asarray(places)
    check_tol = tol if places is None else None
    for sweep in range(1, sweeps + 1):
        first, second = random_matching(where, rng)
        deffuant_update(x, first, second, epsilon, mu)
        if check_tol is not None and sweep % 10 == 0 and _converged(x, epsilon, check_tol):
            break
    return x


def _converged(x: np.ndarray, epsilon: float, tol: float) -> bool:
    xs = np.sort(x)
    breaks = np.flatnonzero(np.diff(xs) >= epsilon)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [xs.size - 1]])
    return bool(np.all(xs[ends] - xs[starts] <= tol))


def cluster_sizes(opinions: np.ndarray, *, gap: float = 0.05) -> np.ndarray:
    """Sizes of opinion clusters: runs of sorted opinions separated by gaps > ``gap``.

    After the Deffuant–Weisbuch dynamics have converged every cluster is a single
    opinion value and neighbouring clusters are at least ε apart, so any ``gap``
    between 0 and ε finds the same clusters.

    Parameters
    ----------
    opinions : numpy.ndarray
        Opinions.
    gap : float
        Minimum distance between neighbouring clusters.

    Returns
    -------
    numpy.ndarray of int
        Cluster sizes in order of increasing opinion (empty for empty input).

    Examples
    --------
    >>> cluster_sizes(np.array([0.1, 0.11, 0.5, 0.52, 0.9])).tolist()
    [2, 2, 1]
    """
    x = np.sort(np.asarray(opinions, dtype=np.float64))
    if x.size == 0:
        return np.zeros(0, dtype=np.int64)
    breaks = np.flatnonzero(np.diff(x) > gap)
    return np.diff(np.concatenate([[0], breaks + 1, [x.size]]))


def count_clusters(
    opinions: np.ndarray, *, gap: float = 0.05, min_size: int = 1, min_share: float = 0.0
) -> int:
    """Count opinion clusters: runs of sorted opinions separated by gaps > ``gap``.

    Deffuant et al. (2000) count *major* clusters and set aside the few isolated
    "extremists" left at the ends of the opinion range; ``min_size`` or
    ``min_share`` does that.

    Parameters
    ----------
    opinions : numpy.ndarray
        Opinions.
    gap : float
        Minimum distance between neighbouring clusters.
    min_size : int
        Clusters with fewer members are ignored (isolated extremists).
    min_share : float
        Clusters holding less than this share of the population are ignored
        (e.g. 0.02 for the major clusters of N = 1000).

    Returns
    -------
    int
        Number of clusters.

    Examples
    --------
    >>> count_clusters(np.array([0.1, 0.11, 0.5, 0.52, 0.9]))
    3
    >>> count_clusters(np.array([0.1, 0.11, 0.5, 0.52, 0.9]), min_size=2)
    2
    >>> count_clusters(np.array([0.1, 0.11, 0.5, 0.52, 0.9]), min_share=0.3)
    2
    """
    sizes = cluster_sizes(opinions, gap=gap)
    if sizes.size == 0:
        return 0
    smallest = max(min_size, min_share * sizes.sum())
    return int(np.count_nonzero(sizes >= smallest))


def degroot_step(weights: sp.sparray | np.ndarray, opinions: np.ndarray) -> np.ndarray:
    """One DeGroot averaging step ``x <- W x`` with a row-stochastic ``W``.

    Parameters
    ----------
    weights : scipy.sparse array or numpy.ndarray, shape (n, n)
        Row-stochastic trust matrix.
    opinions : numpy.ndarray, shape (n,)
        Current opinions.

    Returns
    -------
    numpy.ndarray
        New opinions.

    Examples
    --------
    >>> import numpy as np
    >>> degroot_step(np.array([[0.5, 0.5], [0.5, 0.5]]), np.array([0.0, 1.0])).tolist()
    [0.5, 0.5]
    """
    return np.asarray(weights @ opinions, dtype=np.float64)


def degroot_consensus(
    adjacency: sp.sparray | np.ndarray,
    opinions: np.ndarray,
    *,
    tol: float = 1e-12,
    max_steps: int = 1_000_000,
) -> np.ndarray:
    """Iterate DeGroot averaging with ``W = D^-1 A`` until opinions stop changing.

    On a connected, non-bipartite graph the limit is a consensus equal to the
    degree-weighted mean of the initial opinions, ``sum(d_i x_i) / sum(d_i)``
    (DeGroot 1974): the stationary distribution of the random walk is ``d / sum(d)``.

    Parameters
    ----------
    adjacency : scipy.sparse array or numpy.ndarray, shape (n, n)
        Symmetric adjacency matrix without isolated nodes.
    opinions : numpy.ndarray, shape (n,)
        Initial opinions.
    tol : float
        Stop when the largest change in a step is below this.
    max_steps : int
        Safety bound on the number of steps.

    Returns
    -------
    numpy.ndarray
        The limiting opinions.

    Raises
    ------
    ValueError
        If a node has no neighbours (``W`` would be undefined).
    RuntimeError
        If opinions still change after ``max_steps`` steps (on a bipartite graph
        they oscillate for ever; otherwise raise ``max_steps`` or ``tol``).

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]], dtype=float)
    >>> degroot_consensus(A, np.array([0.0, 0.0, 3.0])).round(6).tolist()
    [1.0, 1.0, 1.0]
    """
    # scipy-stubs lack the (sparse or dense, dtype=...) overload that scipy accepts
    A = sp.csr_array(adjacency, dtype=np.float64)  # type: ignore[arg-type]
    degree = np.asarray(A.sum(axis=1)).ravel()
    if np.any(degree == 0):
        node = int(np.flatnonzero(degree == 0)[0])
        raise ValueError(f"node index {node} has no neighbours: DeGroot weights D^-1 A undefined")
    W = sp.diags_array(1.0 / degree) @ A
    x = np.asarray(opinions, dtype=np.float64)
    for _ in range(max_steps):
        new = W @ x
        if np.max(np.abs(new - x)) < tol:
            return new
        x = new
    raise RuntimeError(
        f"DeGroot averaging did not converge within {max_steps} steps (tol={tol}); on a "
        "bipartite graph opinions oscillate for ever; otherwise raise max_steps or tol"
    )
