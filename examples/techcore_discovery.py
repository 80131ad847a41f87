"""Scenario discovery: under which conditions does TechCore withdraw its facility?

A Latin-hypercube sweep over the firm's expected benefit, its reputation cost and
citizens' concern dynamics, then PRIM (Friedman & Fisher 1999) on the outcome
"the facility was withdrawn": the box of parameter values where withdrawal is
likely, its coverage and density, the peeling trade-off and which parameters matter.

Run:  python examples/techcore_discovery.py [--points 24] [--citizens 60] [--out DIR]
(the defaults are sized for a quick demonstration: 60 citizens on the default city
are below the converged size of 10 per district, docs/convergence.md, and warn; for
a study use a few hundred points and at least 880 citizens).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from waste_harmony import experiments
from waste_harmony.config import parse_run_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=24)
    parser.add_argument("--citizens", type=int, default=60)
    parser.add_argument("--out", default="techcore_discovery")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # the proposal is announced on day 3 and decided after a 20-day comment period
    config = parse_run_config(
        {
            "days": 25,
            "citizens": args.citizens,
            "scenarios": {"techcore": {"announce_day": 3, "comment_period_days": 20}},
        }
    )
    ranges = {
        "scenarios.techcore.expected_benefit": (0.1, 3.0),
        "scenarios.techcore.reputation_cost": (0.1, 3.0),
        "concern_convergence": (0.0, 0.5),
    }
    result = experiments.sweep(
        config,
        parameters=experiments.latin_hypercube(ranges, args.points, seed=1),
        root_seed=1,
        executor="serial",
        progress=False,
    )

    def withdrew(frame):
        return (frame["facility_status"] == "withdrawn").any()

    share = result.to_pandas().groupby("run_id").apply(withdrew, include_groups=False).mean()
    print(f"TechCore withdrew in {share:.0%} of {args.points} runs")
    if 0 < share < 1:
        box = experiments.discover(result, withdrew, threshold=0.8, min_support=0.1)
        print(f"PRIM box: coverage {box.coverage:.2f}, density {box.density:.2f}")
        print(box.limits.to_string())
        print(box.importance.to_string(index=False))
        fig = box.plot_tradeoff()
    else:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots()
        ax.text(0.5, 0.5, f"withdrawal share {share:.0%}: nothing to discover", ha="center")
        print("the outcome never varies at this size; raise --points or --citizens")
    fig.savefig(out / "techcore_discovery.png", dpi=100)
    print(f"figure -> {out / 'techcore_discovery.png'}")


if __name__ == "__main__":
    main()
