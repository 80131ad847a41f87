"""Cost of overriding a citizen hook: default rule vs vectorised vs per-agent.

Times whole runs of ``CityModel`` (default city, recording on) with three citizen
classes: the default :class:`~waste_harmony.Citizen`, a subclass overriding the
vectorised hook ``recycling_probabilities`` (a class method over the class's rows)
and one overriding the per-agent hook ``recycling_probability`` with the same
rule. Reports wall and CPU seconds and each ratio to the default.

    python benchmarks/bench_overrides.py [--citizens 5000] [--days 120] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from waste_harmony import Citizen, CityModel
from waste_harmony.agents import CitizenRows


class PerAgent(Citizen):
    """The per-agent form: a Python call per citizen per day."""

    def recycling_probability(self) -> float:
        return min(1.0, 0.5 * self.concern + 0.3)


class Vectorised(Citizen):
    """The same rule, vectorised: one numpy expression per day."""

    @classmethod
    def recycling_probabilities(cls, rows: CitizenRows) -> np.ndarray:
        return np.minimum(1.0, 0.5 * rows.concern + 0.3)


def time_run(cls: type[Citizen], n: int, days: int, seed: int) -> tuple[float, float]:
    """CPU seconds of ``days`` steps (the build is not timed) and of the waste rule alone.

    The waste rule (``generate_and_recycle``) is the one that asks for the
    recycling probabilities, so its time is where an override's cost shows.
    """
    model = CityModel(n_citizens=n, rng=seed, citizen_class=cls)
    waste_rule = model.pipeline.get("waste")
    spent = [0.0]

    def timed(m: CityModel) -> None:
        start = time.process_time()
        waste_rule(m)
        spent[0] += time.process_time() - start

    model.pipeline.replace("waste", timed)
    cpu = time.process_time()
    model.run_for(days)
    return time.process_time() - cpu, spent[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=5000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--repeats", type=int, default=3, help="best of N (per-agent: 1)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    results = {}
    for label, cls, repeats in (
        ("default rule", Citizen, args.repeats),
        ("vectorised hook", Vectorised, args.repeats),
        ("per-agent hook", PerAgent, 1),
    ):
        runs = [time_run(cls, args.citizens, args.days, args.seed) for _ in range(repeats)]
        results[label] = (min(r[0] for r in runs), min(r[1] for r in runs))
    base_run, base_rule = results["default rule"]
    print(f"{args.citizens:,} citizens x {args.days} days (CPU seconds, best of {args.repeats}):")
    print("| citizens | whole run | ratio | waste rule | ratio |")
    print("|---|---|---|---|---|")
    for label, (run, rule) in results.items():
        print(
            f"| {label} | {run:.2f} | {run / base_run:.2f}x "
            f"| {rule:.3f} | {rule / base_rule:.2f}x |"
        )


if __name__ == "__main__":
    main()
