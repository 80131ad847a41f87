"""Fingerprints of seeded runs: one hash per frame, to show a refactoring changed nothing.

For no scenario, every registered scenario alone, the story's full set (``techcore``,
``harmony-festival``, ``story-roles``, ``aftermath``), and no scenario with citizen
subclasses overriding the per-agent hook and the vectorised hook, the script builds a
seeded :class:`~waste_harmony.CityModel` on the default city, runs it, and prints a
short SHA-256 of

- ``model_frame()``, ``neighborhood_frame()`` and ``event_frame()`` after the run;
- the model frame and the neighbourhood frame of a ``copy()`` continued ``--more``
  days;
- the same of a pickled and unpickled model continued ``--more`` days.

Only the public API is used, so the same script runs on any tree: run it on the old
code and on the new and compare the output (``diff``). A frame is hashed through its
CSV text (floats written exactly, as Python's shortest round-trip ``repr``) plus its
dtypes and index, so any change of a value, a column, an order or a type changes the
hash.

Usage::

    python benchmarks/fingerprint.py > after.txt
    PYTHONPATH=/path/to/old/src python benchmarks/fingerprint.py > before.txt
    diff before.txt after.txt          # nothing: the runs are identical

    python benchmarks/fingerprint.py --days 30 --citizens 500   # quicker
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from waste_harmony import Citizen

#: The story's full set of scenarios, as in ``examples/flagship.py``.
STORY = ("techcore", "harmony-festival", "story-roles", "aftermath")


class Careful(Citizen):
    """Recycles a little more than the default rule: the per-agent hook, overridden."""

    def recycling_probability(self) -> float:
        """The default probability, raised by 0.1 (at most 1)."""
        return min(1.0, super().recycling_probability() + 0.1)


class Keen(Citizen):
    """Recycles more than the default rule: the vectorised hook, overridden."""

    @classmethod
    def recycling_probabilities(cls, rows: Any) -> np.ndarray:
        """The default probabilities, raised by 0.2 (at most 1)."""
        return np.minimum(1.0, rows.default + 0.2)


#: Citizen classes besides the default, by label.
CITIZEN_CLASSES: dict[str, type[Citizen]] = {"careful": Careful, "keen": Keen}


def frame_hash(frame: pd.DataFrame) -> str:
    """A short SHA-256 of a frame's values, columns, dtypes and index.

    Parameters
    ----------
    frame : pandas.DataFrame
        Any frame.

    Returns
    -------
    str
        The first 16 hex digits.

    Examples
    --------
    >>> a = pd.DataFrame({"x": [0.1, 0.2]})
    >>> frame_hash(a) == frame_hash(a.copy()), frame_hash(a) == frame_hash(a * 1.0000001)
    (True, False)
    """
    digest = hashlib.sha256()
    digest.update(frame.to_csv().encode())
    digest.update(repr(list(frame.dtypes.astype(str).items())).encode())
    digest.update(repr(frame.index.dtype).encode())
    return digest.hexdigest()[:16]


def continued(model: Any, more: int) -> tuple[str, str]:
    """Hashes of the model and neighbourhood frames after ``more`` further days."""
    model.run_for(more)
    return frame_hash(model.model_frame()), frame_hash(model.neighborhood_frame())


def fingerprint(
    scenarios: Sequence[str],
    *,
    days: int,
    more: int,
    citizens: int,
    seed: int,
    citizen_class: type[Citizen] = Citizen,
) -> dict[str, Any]:
    """The hashes of one seeded run, its copy and its pickle.

    Parameters
    ----------
    scenarios : sequence of str
        Registered scenario names.
    days, more : int
        Days run before hashing; further days the copy and the unpickled model run.
    citizens, seed : int
        ``n_citizens`` and ``rng`` of the model.
    citizen_class : type
        ``citizen_class`` of the model.

    Returns
    -------
    dict
        ``model``, ``neighborhoods``, ``events``, ``copy`` and ``pickle`` hashes,
        and the number of events.
    """
    from waste_harmony import CityModel

    model = CityModel(
        n_citizens=citizens, scenarios=list(scenarios), rng=seed, citizen_class=citizen_class
    )
    model.run_for(days)
    events = model.event_frame()
    out: dict[str, Any] = {
        "model": frame_hash(model.model_frame()),
        "neighborhoods": frame_hash(model.neighborhood_frame()),
        "events": frame_hash(events),
        "n_events": len(events),
    }
    twin = model.copy()
    thawed = pickle.loads(pickle.dumps(model))
    out["copy"] = "/".join(continued(twin, more))
    out["pickle"] = "/".join(continued(thawed, more))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Print one line of hashes per scenario set."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=200, help="days per scenario alone (200)")
    parser.add_argument(
        "--story-days", type=int, default=400, help="days of the story's full set (400)"
    )
    parser.add_argument("--more", type=int, default=10, help="days the copies continue (10)")
    parser.add_argument("--citizens", type=int, default=2000, help="n_citizens (2000)")
    parser.add_argument("--seed", type=int, default=7, help="rng seed (7)")
    args = parser.parse_args(argv)

    from waste_harmony.scenarios import available

    sets: list[tuple[tuple[str, ...], int, str]] = [((), args.days, "")]
    sets += [((name,), args.days, "") for name in sorted(available())]
    sets.append((STORY, args.story_days, ""))
    sets += [((), args.days, label) for label in CITIZEN_CLASSES]
    for scenarios, days, citizen in sets:
        found = fingerprint(
            scenarios,
            days=days,
            more=args.more,
            citizens=args.citizens,
            seed=args.seed,
            citizen_class=CITIZEN_CLASSES.get(citizen, Citizen),
        )
        label = "+".join(scenarios) or "(none)"
        label += f" citizens={citizen}" if citizen else ""
        hashes = " ".join(f"{k}={v}" for k, v in found.items())
        print(f"{label} days={days} {hashes}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
