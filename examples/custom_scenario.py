"""A new scenario in a few lines: a monthly repair café that reuses waste.

Shows the plug-in contract: a dataclass of parameters, ``setup`` scheduling a bound
method on Mesa's clock, ``log`` for the event log, registration by name, and the
conformance kit. A package would instead declare it under the entry point group
``waste_harmony.scenarios`` in its ``pyproject.toml``::

    [project.entry-points."waste_harmony.scenarios"]
    repair-cafe = "mypackage.cafe:RepairCafe"

    python examples/custom_scenario.py [--out DIR]
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from waste_harmony import CityModel
from waste_harmony.scenarios import Scenario, parameter, register
from waste_harmony.testing import check_scenario


@register
@dataclass
class RepairCafe(Scenario):
    """Volunteers repair broken things once a month: waste at the plaza is reused."""

    name = "repair-cafe"
    description = "A monthly repair café at the plaza reuses waste"
    interval_days: int = parameter(30, unit="days", low=1, doc="days between cafés")
    kg_per_cafe: float = parameter(400.0, unit="kg", low=0.0, doc="waste repaired per café")

    def setup(self, model):
        self.schedule_every(
            self.open, start_day=self.interval_days, interval_days=self.interval_days
        )

    def open(self):
        stock = self.model.neighborhoods.waste_stock_kg
        share = min(1.0, self.kg_per_cafe / max(float(stock.sum()), 1e-9))
        self.log("repair_cafe", repaired_kg=self.model.reuse_waste(stock * share))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/custom_scenario"))
    args = parser.parse_args()

    check_scenario(RepairCafe)  # the conformance kit third parties run in their tests
    model = CityModel(n_citizens=2000, scenarios=["repair-cafe", "harmony-festival"], rng=7)
    model.run_for(365)
    cafes = model.event_log.of_kind("repair_cafe")
    print(
        f"{len(cafes)} repair cafés reused {sum(e.details['repaired_kg'] for e in cafes):,.0f} "
        "kg of waste in a year"
    )

    args.out.mkdir(parents=True, exist_ok=True)
    frame = model.model_frame()
    fig, ax = plt.subplots(figsize=(8, 3.5), layout="constrained")
    ax.plot(frame.index, frame["waste_reused_kg"])
    ax.set_xlabel("day")
    ax.set_ylabel("waste reused (kg per day)")
    ax.set_title("repair cafés (monthly) and the festival's waste art (day 120)")
    path = args.out / "custom_scenario.png"
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
