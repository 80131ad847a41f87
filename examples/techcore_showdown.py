"""The TechCore showdown: does the city stop the facility, and do the four roles matter?

Runs the TechCore proposal with the Harmony Festival and the story's four roles over
several seeds, with the roles active and with every role switched off, prints the
firm's decisions and saves a figure (protest share of one run with its events, and
the withdrawal rate of both ensembles) to ``--out``.

    python examples/techcore_showdown.py [--seeds 10] [--citizens 3000] [--out DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from waste_harmony import CityModel

STORY = ["techcore", "harmony-festival", "story-roles"]
NO_ROLES = dict.fromkeys(("designer", "organiser", "scientist", "artist"), 0)
MARKED = ("proposal_announced", "festival", "facility_decision")


def run(seed: int, citizens: int, roles: bool) -> CityModel:
    extra = {} if roles else {"roles": NO_ROLES}
    model = CityModel(
        n_citizens=citizens, scenarios=STORY, rng=seed, record_neighborhoods=False, **extra
    )
    model.run_for(200)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--citizens", type=int, default=3000)
    parser.add_argument("--out", type=Path, default=Path("results/techcore_showdown"))
    args = parser.parse_args()

    rates = {}
    example = None
    for roles in (True, False):
        decisions = []
        for seed in range(args.seeds):
            model = run(seed, args.citizens, roles)
            firm = model.scenario_named("techcore")
            decisions.append(firm.decision_)
            if roles and example is None:
                example = model
        label = "four roles active" if roles else "roles switched off"
        rates[label] = decisions.count("withdraw") / len(decisions)
        print(
            f"{label:>20}: TechCore withdrew in {decisions.count('withdraw')}/{len(decisions)} "
            f"runs ({', '.join(d or 'undecided' for d in decisions)})"
        )

    decision = example.event_log.of_kind("facility_decision")[0]
    print(
        f"seed 0 with the roles: {decision.details['decision']} on day {decision.day} "
        f"(campaign cost {decision.details['cost']:.2f} vs benefit "
        f"{decision.details['benefit']:.2f}; sustained protest "
        f"{decision.details['sustained_share']:.1%}, assemblies against "
        f"{decision.details['votes_against']:.1%})"
    )

    args.out.mkdir(parents=True, exist_ok=True)
    frame = example.model_frame()
    fig, (ax, bx) = plt.subplots(
        1, 2, figsize=(11, 4), layout="constrained", gridspec_kw={"width_ratios": [3, 1]}
    )
    ax.plot(frame.index, frame["protest_share"], label="protest share")
    ax.plot(
        frame.index,
        frame["mean_concern"] - frame["mean_concern"].iloc[0],
        label="mean concern − day 1",
    )
    ax.axhline(0.035, color="grey", lw=0.8, ls=":", label="3.5 % reference")
    for event in example.event_log:
        if event.kind in MARKED:
            ax.axvline(event.day, color="k", lw=0.6, alpha=0.5)
            ax.text(
                event.day,
                ax.get_ylim()[1] * 0.95,
                event.kind.replace("_", " "),
                rotation=90,
                va="top",
                ha="right",
                fontsize=7,
            )
    ax.set_xlabel("day")
    ax.set_title("seed 0, four roles active")
    ax.legend(fontsize=8, loc="center left")
    bx.bar(list(rates), list(rates.values()), color=["tab:green", "tab:grey"])
    bx.set_ylim(0, 1)
    bx.set_ylabel("share of runs TechCore withdrew")
    bx.tick_params(axis="x", labelsize=8)
    path = args.out / "techcore_showdown.png"
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
