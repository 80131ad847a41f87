"""A year in the default city of Waste Harmony.

Runs the default city (10 x 10 street grid, 10,000 citizens) for 365 days with the
story's scenarios that are installed, prints a summary table, and writes the
series (Parquet), the events and the standard figures (drawn with
:mod:`waste_harmony.plotting`) to ``results/flagship/``.

    python examples/flagship.py [--days 365] [--citizens 10000] [--seed 2143] [--out DIR]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from waste_harmony import CityModel
from waste_harmony.cli import publish_results, summary_table
from waste_harmony.results import RunResult
from waste_harmony.scenarios import available

STORY = ("techcore", "harmony-festival", "story-roles", "aftermath")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--citizens", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2143)
    parser.add_argument("--out", type=Path, default=Path("results/flagship"))
    args = parser.parse_args()

    scenarios = [name for name in STORY if name in available()]
    model = CityModel(n_citizens=args.citizens, scenarios=scenarios, rng=args.seed)
    start = time.perf_counter()
    model.run_for(args.days)
    wall = time.perf_counter() - start

    frame = model.model_frame()
    print(
        f"Waste Harmony: {args.citizens} citizens, {model.n_nodes} neighbourhoods, "
        f"{args.days} days, seed {args.seed}, scenarios: {', '.join(scenarios) or 'none'}"
    )
    print(summary_table(frame))
    print(
        f"facility status at the end: {frame['facility_status'].iloc[-1]}; "
        f"events logged: {len(model.event_log)}; simulated in {wall:.1f} s"
    )

    result = RunResult.from_model(model, wall_time_s=wall)
    # RunResult.save through a staging folder: a crash never leaves a half-written result
    written = publish_results(result, args.out, force=True)
    print(f"wrote {args.out}/ ({', '.join(p.name for p in written)})")


if __name__ == "__main__":
    main()
