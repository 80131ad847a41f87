"""Seeds of an experiment: one root seed, and every run's seed derived from it by index.

Run seeds come from one root seed through :meth:`numpy.random.SeedSequence.spawn`:
child ``i`` of ``SeedSequence(root)`` is ``SeedSequence(root, spawn_key=(i,))``, so
the ``i``-th seed is computed by itself (:func:`spawned_seed`) without spawning the
``i - 1`` before it. A plan of 10^9 runs therefore needs no list of 10^9 seeds, and a
run's seed depends only on the root seed and its index, never on the plan's size,
on which worker ran it or in what order.
"""

from __future__ import annotations

import collections
import functools
from collections.abc import Sequence
from typing import Any, cast

import numpy as np

__all__ = [
    "SEED_LIMIT",
    "check_seeds",
    "plan_seeds",
    "root_entropy",
    "run_seed",
    "seed_of",
    "spawned_seed",
]

#: Seeds of single runs are stored in signed 64-bit columns (``seed`` in every frame).
SEED_LIMIT = 2**63


def root_entropy(root_seed: int | None) -> int:
    """The root seed to record: ``root_seed`` itself, or fresh OS entropy if ``None``.

    Parameters
    ----------
    root_seed : int or None
        A non-negative integer, or ``None`` for fresh entropy (recorded in the
        manifest, so the experiment can still be repeated).

    Returns
    -------
    int
        The root seed.

    Examples
    --------
    >>> root_entropy(5)
    5
    """
    if root_seed is None:
        # (SeedSequence() draws its entropy itself, so it is an int)
        return int(cast(int, np.random.SeedSequence().entropy))
    if isinstance(root_seed, bool) or not isinstance(root_seed, int | np.integer) or root_seed < 0:
        raise ValueError(f"root_seed must be a non-negative integer, got {root_seed!r}")
    return int(root_seed)


def seed_of(sequence: np.random.SeedSequence) -> int:
    """The 63-bit integer seed a :class:`~numpy.random.SeedSequence` stands for.

    Examples
    --------
    >>> 0 <= seed_of(np.random.SeedSequence(1)) < SEED_LIMIT
    True
    """
    hi, lo = sequence.generate_state(2, dtype=np.uint32).tolist()
    return ((hi << 32) | lo) >> 1  # 63 bits: fits a signed 64-bit Parquet column


def run_seed(seed: int | None) -> int:
    """The seed of one run: ``seed`` itself (checked), or fresh OS entropy if ``None``.

    Unlike a root seed (any non-negative integer, spawned into run seeds), a run's
    seed is stored in the results' signed 64-bit ``seed`` column, so it must lie in
    ``[0, 2**63)``.

    Parameters
    ----------
    seed : int or None
        The run's seed, or ``None`` for fresh entropy (recorded in the manifest).

    Returns
    -------
    int
        The seed.

    Examples
    --------
    >>> run_seed(3)
    3
    >>> 0 <= run_seed(None) < 2**63
    True
    """
    if seed is None:
        return seed_of(np.random.SeedSequence())
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
    if seed >= SEED_LIMIT:
        raise ValueError(
            f"seed must be below 2**63 (results store it as a 64-bit integer), got {seed}; "
            "take it modulo 2**63, or pass it as root_seed of an ensemble"
        )
    return int(seed)


@functools.lru_cache(maxsize=1 << 16)
def spawned_seed(root_seed: int, index: int) -> int:
    """Seed ``index`` of the children of ``SeedSequence(root_seed)``, computed alone.

    Equal to ``plan_seeds(root_seed, n)[index]`` for any ``n > index``; the last
    65,536 are cached (replicate seeds repeat at every point of a sweep).

    Parameters
    ----------
    root_seed : int
        Root of the :class:`numpy.random.SeedSequence`.
    index : int
        Which child.

    Returns
    -------
    int
        The seed.

    Examples
    --------
    >>> spawned_seed(1, 2) == plan_seeds(1, 3)[2]
    True
    """
    return seed_of(np.random.SeedSequence(root_seed, spawn_key=(index,)))


def plan_seeds(root_seed: int, n: int) -> list[int]:
    """``n`` independent integer seeds spawned from one root seed.

    Parameters
    ----------
    root_seed : int
        Root of the :class:`numpy.random.SeedSequence`.
    n : int
        Number of seeds.

    Returns
    -------
    list of int
        Seed ``i`` is derived from child ``i`` of ``SeedSequence(root_seed).spawn(n)``
        and does not depend on ``n``.

    Examples
    --------
    >>> plan_seeds(1, 3) == plan_seeds(1, 5)[:3]
    True
    >>> len(set(plan_seeds(1, 100)))
    100
    """
    return [seed_of(child) for child in np.random.SeedSequence(root_seed).spawn(n)]


def check_seeds(seeds: Any) -> tuple[int, tuple[int, ...] | None]:
    """Read an experiment's ``seeds``: a number of replicates, or explicit seeds.

    Parameters
    ----------
    seeds : int or sequence of int
        ``12`` (replicates, seeds spawned from the root seed) or ``[1, 2]``.

    Returns
    -------
    (int, tuple of int or None)
        The number of replicates, and the explicit seeds (``None`` when spawned).

    Raises
    ------
    TypeError, ValueError
        Naming what is wrong: not a number or a list, below 1, a negative, too large
        or repeated seed, an empty list.

    Examples
    --------
    >>> check_seeds(3), check_seeds([5, 7])
    ((3, None), (2, (5, 7)))
    """
    if isinstance(seeds, bool | str | bytes) or not isinstance(
        seeds, int | np.integer | Sequence | np.ndarray
    ):
        raise TypeError(
            "seeds must be a number of replicates (seeds=12) or a list of seeds "
            f"(seeds=[1, 2]), got {type(seeds).__name__} {seeds!r}"
        )
    if isinstance(seeds, int | np.integer):
        if seeds < 1:
            raise ValueError(f"seeds must be >= 1, got {seeds}")
        return int(seeds), None
    bad = [s for s in seeds if isinstance(s, bool) or not isinstance(s, int | np.integer) or s < 0]
    if bad:
        raise TypeError(f"seeds must be non-negative integers, got {bad[0]!r} in {list(seeds)!r}")
    explicit = [int(s) for s in seeds]
    if any(s >= SEED_LIMIT for s in explicit):
        raise ValueError(
            f"seeds must be below 2**63 (results store them as 64-bit integers), got "
            f"{max(explicit)} in {explicit!r}"
        )
    if len(set(explicit)) < len(explicit):
        twice = sorted(s for s, n in collections.Counter(explicit).items() if n > 1)
        raise ValueError(
            f"seeds repeat {twice!r} in {explicit!r}: replicates with the same seed are "
            "identical runs; give distinct seeds or a number of replicates"
        )
    if not explicit:
        raise ValueError("seeds is an empty list; give a number of replicates or seeds")
    return len(explicit), tuple(explicit)
