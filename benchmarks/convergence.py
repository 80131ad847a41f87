"""Convergence in the number of citizens on real layers: the story's answers by sample size.

For each layer (``--layers``: libpysal polygons and OSM cells, loaded as the gallery
loads them, :mod:`gallery`) the TechCore story (``techcore``, ``harmony-festival``,
``story-roles``) runs for ``--days`` days at each size in ``--per-district`` citizens
per populated district, with the same ``--seeds`` seeds at every size, every size
standing for the same people (the largest size's citizens, one person each), through
:func:`waste_harmony.experiments.convergence`. Judged: the share of runs in which
TechCore withdraws (within 0.1 of the largest size's), the peak protest share (within
a factor 1.25), and the final mean concern, recycling rate, area-weighted pollution
and biotech adoption (within a factor 1.1). ``--individual`` runs the same study with
``cohorts=False`` (each citizen one person with one threshold, random encounters,
independent draws: the model before cohorts) for comparison.

    python benchmarks/convergence.py                                   # every layer
    python benchmarks/convergence.py --layers columbus --seeds 10     # a quick look
    python benchmarks/convergence.py --json docs/_static/convergence/cohorts.json \\
        --figures docs/_static/convergence
    python benchmarks/convergence.py --individual --json docs/_static/convergence/individual.json

Runs are serial by default (``--workers N`` for a process pool); the study of four
layers, six sizes and 30 seeds takes about half an hour on one core.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gallery

from waste_harmony import SampleSizeWarning
from waste_harmony.experiments import convergence

STORY = ["techcore", "harmony-festival", "story-roles"]
LAYERS = ("tokyo", "columbus", "sids2", "aguascalientes")
PER_DISTRICT = (2, 5, 10, 20, 50, 200)
#: The issue's targets at 10 citizens per district: outcome share within 0.1 and peak
#: protest within a factor 1.25 of the values at the largest size.
TARGET = 10


def study(
    layer: str, per_district: list[float], seeds: int, days: int, *, cohorts: bool, workers: int
) -> dict[str, Any]:
    """The convergence study of one layer: its table, converged sizes and the target's rows."""
    G = gallery.load(layer)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SampleSizeWarning)  # the small sizes are the point
        result = convergence(
            per_district=per_district,
            city=G,
            scenarios=STORY,
            seeds=seeds,
            days=days,
            root_seed=2024,
            record_neighborhoods=False,
            cohorts=cohorts,
            executor="serial" if workers == 1 else None,
            workers=workers,
            progress=False,
        )
    table = result.table.drop(columns=["category"])
    target = table[table["per_district"].round(6) == TARGET]
    return {
        "layer": layer,
        "districts": result.districts,
        "cohorts": cohorts,
        "seeds": seeds,
        "days": days,
        "wall_s": time.perf_counter() - start,
        "table": table.to_dict("records"),
        "converged": result.converged,
        "at_target": target.to_dict("records"),
        "result": result,
    }


def report(studies: list[dict[str, Any]]) -> str:
    """Markdown: per layer and output, the estimate at the target and at the largest size."""
    lines = [
        "| layer | output | at 10/district [95 % CI] | at largest [95 % CI] | difference [95 % CI] "
        "| tolerance | agrees | converged from (per district) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in studies:
        largest = max(r["size"] for r in s["table"])
        for row in s["at_target"]:
            ref = next(
                r for r in s["table"] if r["output"] == row["output"] and r["size"] == largest
            )
            conv = s["converged"][row["output"]]
            where = "—" if conv is None else f"{conv / s['districts']:.0f}"
            lines.append(
                f"| {s['layer']} ({s['districts']}) | {row['output']} ({row['statistic']}) | "
                f"{row['estimate']:.4g} [{row['ci_low']:.3g}, {row['ci_high']:.3g}] | "
                f"{ref['estimate']:.4g} [{ref['ci_low']:.3g}, {ref['ci_high']:.3g}] | "
                f"{row['difference']:+.3g} "
                f"[{row['diff_ci_low']:+.3g}, {row['diff_ci_high']:+.3g}] | "
                f"{row['tolerance']:g} | {'yes' if row['agrees'] else 'NO'} | {where} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", nargs="+", default=list(LAYERS), choices=sorted(gallery.LAYERS))
    parser.add_argument("--per-district", nargs="+", type=float, default=list(PER_DISTRICT))
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--days", type=int, default=200)
    parser.add_argument(
        "--individual", action="store_true", help="cohorts=False (the former rules)"
    )
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None, help="write every table here")
    parser.add_argument("--figures", type=Path, default=None, help="one figure per layer here")
    args = parser.parse_args()
    studies = []
    for layer in args.layers:
        s = study(
            layer,
            args.per_district,
            args.seeds,
            args.days,
            cohorts=not args.individual,
            workers=args.workers,
        )
        studies.append(s)
        print(f"{layer}: {s['wall_s']:.0f} s, converged {s['converged']}", file=sys.stderr)
        if args.json is not None:  # after every layer, so a long study keeps what it did
            args.json.parent.mkdir(parents=True, exist_ok=True)
            data = [{k: v for k, v in t.items() if k != "result"} for t in studies]
            args.json.write_text(json.dumps(data, indent=1, default=float))
        if args.figures is not None:
            args.figures.mkdir(parents=True, exist_ok=True)
            mode = "individual" if args.individual else "cohorts"
            fig = s["result"].plot(title=f"{layer} ({s['districts']} districts), {mode}")
            fig.savefig(args.figures / f"{layer}-{mode}.png", dpi=90)
    print(report(studies))


if __name__ == "__main__":
    main()
