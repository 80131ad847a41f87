"""A year in the default city of Waste Harmony.

Runs the default city (10 x 10 street grid, 10,000 citizens) for 365 days with the
story's scenarios that are installed, prints a summary table, and writes the
series (Parquet), the events and a figure to ``results/flagship/``.

    python examples/flagship.py [--days 365] [--citizens 10000] [--seed 2143] [--out DIR]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from waste_harmony import CityModel
from waste_harmony.results import RunResult
from waste_harmony.scenarios import available

STORY = ("techcore", "harmony-festival", "story-roles", "aftermath")
SUMMARY = ("mean_concern", "recycling_rate", "protest_share", "waste_stock_kg", "mean_pollution",
           "biodiversity_index", "organism_biomass", "biotech_adoption", "biotech_access_gini")


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
    table = frame.loc[[1, frame.index[len(frame) // 2], frame.index[-1]], list(SUMMARY)]
    print(f"Waste Harmony: {args.citizens} citizens, {model.n_nodes} neighbourhoods, "
          f"{args.days} days, seed {args.seed}, scenarios: {', '.join(scenarios) or 'none'}")
    print(table.T.to_string(float_format=lambda v: f"{v:,.3f}"))
    print(f"facility status at the end: {frame['facility_status'].iloc[-1]}; "
          f"events logged: {len(model.event_log)}; simulated in {wall:.1f} s")

    result = RunResult.from_model(model, wall_time_s=wall)
    out = result.save(args.out, overwrite=True)
    fig, axes = plt.subplots(2, 2, figsize=(10, 6), sharex=True, layout="constrained")
    for ax, name in zip(axes.flat, ("mean_concern", "recycling_rate", "mean_pollution",
                                    "biotech_adoption"), strict=True):
        ax.plot(frame.index, frame[name])
        ax.set_title(name.replace("_", " "))
    for ax in axes[1]:
        ax.set_xlabel("day")
    fig.savefig(out / "overview.png", dpi=120)
    print(f"wrote {out}/ (model.parquet, neighborhoods.parquet, events.parquet, "
          "manifest.json, overview.png)")


if __name__ == "__main__":
    main()
