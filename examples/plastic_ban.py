"""Your own scenario: a plastic-bag ban that cuts waste per capita from a given day.

The scenario is the one built in the tutorial ``docs/custom_scenario.md``: its
parameters are declared with ``parameter()`` (unit, range, meaning), its day is
checked against the run (``check_day``), and it is used without packaging, as
``examples/plastic_ban.py:PlasticBan`` — in Python, from the command line
(``waste-harmony run --scenario examples/plastic_ban.py:PlasticBan``) and from a
run file (``examples/runs/plastic_ban.toml``). The script compares a year with and
without the ban.

    python examples/plastic_ban.py [--out results/plastic_ban] [--days 365]
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from pathlib import Path

from waste_harmony import CityModel
from waste_harmony.scenarios import Scenario, parameter


@dataclass
class PlasticBan(Scenario):
    """A plastic-bag ban: from ``start_day`` on, citizens generate ``cut`` less waste.

    Bans and levies on single-use bags cut bag litter and use sharply (Ireland's
    2002 levy: bag use down about 90 %); the share of municipal waste they remove
    is smaller, so the default cut is a modest 15 %.

    References
    ----------
    .. [1] Convery, F., McDonnell, S. & Ferreira, S. (2007). The most popular tax in
       Europe? Lessons from the Irish plastic bags levy. Environmental and Resource
       Economics 38, 1-11.
    """

    name = "plastic-ban"
    description = "A plastic-bag ban cuts waste per capita from a given day"

    start_day: int = parameter(30, unit="day", low=1, doc="first day of the ban")
    cut: float = parameter(
        0.15, unit="share", low=0.0, high=1.0, doc="share of waste per capita the ban removes"
    )

    def validate(self, model):
        # Runs when the scenario is installed, before anything runs: a day in the
        # past or beyond the run (when the model knows its length) is an error.
        self.check_day("start_day", self.start_day, model)

    def setup(self, model):
        # The ban changes the waste rule only: lower the waste per capita just
        # before it, restore the run's parameters just after (so model.params, and
        # the saved manifest, keep the parameters the run started with).
        self.add_rule("plastic_ban_on", self.ban_on, before="waste")
        self.add_rule("plastic_ban_off", self.ban_off, after="waste")
        self.schedule(self.announce, day=self.start_day)

    def announce(self):
        self.log("plastic_ban", cut=self.cut)

    def ban_on(self, model):
        self.saved_ = model.params
        if model.day >= self.start_day:
            lower = self.saved_.waste_per_capita_kg * (1.0 - self.cut)
            model.params = dataclasses.replace(self.saved_, waste_per_capita_kg=lower)

    def ban_off(self, model):
        model.params = self.saved_


def main() -> None:
    parser = argparse.ArgumentParser(description="A plastic-bag ban as your own scenario.")
    parser.add_argument("--out", type=Path, default=Path("results/plastic_ban"))
    parser.add_argument("--days", type=int, default=120)
    args = parser.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = {}
    for label, scenarios in (("no ban", []), ("ban from day 30", [PlasticBan(start_day=30)])):
        model = CityModel(n_citizens=2000, rng=7, scenarios=scenarios, days=args.days)
        model.run_for(args.days)
        runs[label] = frame = model.model_frame()
        after = frame.loc[30:, "waste_generated_kg"].mean() / model.n_citizens
        print(f"{label:>16}: waste generated from day 30 {after:.3f} kg per citizen per day")

    args.out.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    for label, frame in runs.items():
        ax.plot(frame.index, frame["waste_stock_kg"] / 1000, label=label)
    ax.set(xlabel="day", ylabel="waste in the city (t)", title="A plastic-bag ban from day 30")
    ax.legend()
    fig.savefig(args.out / "plastic_ban.png", dpi=110)
    print(f"wrote {args.out / 'plastic_ban.png'}")


if __name__ == "__main__":
    main()
