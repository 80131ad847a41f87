"""Extend behaviour the Mesa way: subclass Citizen and override a per-agent hook.

Here, citizens of a "zero-waste" household recycle whenever their concern is above
0.4, and otherwise follow the default rule. The model detects the overridden hook
and calls it on every ZeroWasteCitizen each day (slower than the vectorised
default, always correct). The script compares a year with and without them.

    python examples/extend_citizen.py [--out results/extend_citizen]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from waste_harmony import Citizen, CityModel


class ZeroWasteCitizen(Citizen):
    """A citizen who always recycles once concerned enough."""

    def recycling_probability(self) -> float:
        if self.concern > 0.4:
            return 1.0
        return super().recycling_probability()


def main() -> None:
    parser = argparse.ArgumentParser(description="Subclass Citizen to change recycling.")
    parser.add_argument("--out", type=Path, default=Path("results/extend_citizen"))
    parser.add_argument("--days", type=int, default=120)
    args = parser.parse_args()

    runs = {}
    for label, cls in (("default citizens", Citizen), ("zero-waste citizens", ZeroWasteCitizen)):
        model = CityModel(n_citizens=2000, rng=7, citizen_class=cls)
        model.run_for(args.days)
        runs[label] = model.model_frame()
        print(
            f"{label:>20}: mean recycling rate {runs[label]['recycling_rate'].mean():.3f}, "
            f"waste stock at the end {runs[label]['waste_stock_kg'].iloc[-1]:,.0f} kg"
        )

    args.out.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    for label, frame in runs.items():
        ax.plot(frame.index, frame["recycling_rate"], label=label)
    ax.set(xlabel="day", ylabel="recycling rate", title="A per-agent hook changes the outcome")
    ax.legend()
    fig.savefig(args.out / "extend_citizen.png", dpi=110)
    print(f"wrote {args.out / 'extend_citizen.png'}")


if __name__ == "__main__":
    main()
