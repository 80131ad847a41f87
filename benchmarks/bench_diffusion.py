"""Cost of a day at any diffusion coefficient: backward Euler against the default's cost.

Pollution diffusion is one backward Euler step a day with a sparse LU factorisation
computed once and reused (:class:`waste_harmony.dynamics.diffusion.ImplicitDiffusion`);
the former explicit scheme took ``⌈D max L_ii / 0.5⌉`` sub-steps a day, which on 50 m
cells at the top of the documented range (100 km²/day) meant 320,000 sparse products.

For each city and each coefficient the script builds a model, runs one untimed day
(which factorises), then times blocks of days **interleaved** across the coefficients
(round-robin, so all run under the same load) with ``time.process_time`` (CPU time: the
machine is shared). It reports the median CPU time per day, the median time of the
pollution rule alone, and each day's ratio to the default coefficient's day on the same
city. With ``--organism`` the organism is released too and ``organism_dispersal`` is
varied the same way (documented range [0, 10] km²/day).

For comparison, ``--former`` times the former explicit pollution step alone (the same
sparse product repeated over its sub-steps) for one day per coefficient; above
``--former-cap`` sub-steps it times that many and scales up linearly (the cost is one
product per sub-step), and says so.

    python benchmarks/bench_diffusion.py                       # about a minute
    python benchmarks/bench_diffusion.py --former --json out.json
    python benchmarks/bench_diffusion.py --organism --cities fine10
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from waste_harmony import CityModel
from waste_harmony.city import grid_city
from waste_harmony.dynamics.diffusion import diffuse, diffusion_substeps
from waste_harmony.parameters import Parameters

CITIES = {
    "default": lambda: None,  # the default city: 10 x 10 cells of 500 m
    "fine10": lambda: grid_city(10, 10, spacing_km=0.05, seed=1),  # 10 x 10 cells of 50 m
    "fine30": lambda: grid_city(30, 30, spacing_km=0.05, seed=1),  # 30 x 30 cells of 50 m
}
POLLUTION_D = (Parameters().pollution_diffusion, 0.1, 1.0, 10.0, 100.0)
ORGANISM_D = (Parameters().organism_dispersal, 0.1, 1.0, 10.0)


def _model(city_name: str, parameter: str, value: float, citizens: int, seed: int) -> CityModel:
    model = CityModel(
        CITIES[city_name](),
        n_citizens=citizens,
        rng=seed,
        record_neighborhoods=False,
        **{parameter: value},
    )
    if parameter == "organism_dispersal":
        hoods = model.neighborhoods
        model.deploy_organism(model.node_ids[int(np.argmax(hoods.habitat))], 10.0)
    return model


def _timed_rule(model: CityModel, name: str, spent: list[float]) -> None:
    rule = model.pipeline.get(name)

    def timed(m: CityModel) -> None:
        start = time.process_time()
        rule(m)
        spent.append(time.process_time() - start)

    model.pipeline.replace(name, timed)


def measure(
    city_name: str,
    parameter: str,
    values: tuple[float, ...],
    *,
    citizens: int,
    days: int,
    rounds: int,
    seed: int,
) -> list[dict[str, Any]]:
    """Median CPU s/day and s/day of the rule, per value, interleaved across values."""
    rule = "pollution" if parameter == "pollution_diffusion" else "organism"
    models, rule_times, day_times = [], [], []
    for value in values:
        model = _model(city_name, parameter, value, citizens, seed)
        spent: list[float] = []
        _timed_rule(model, rule, spent)
        model.run_for(1)  # warm-up: factorises, fills caches
        spent.clear()
        models.append(model)
        rule_times.append(spent)
        day_times.append([])
    for _ in range(rounds):
        for model, times in zip(models, day_times, strict=True):
            for _ in range(days):
                start = time.process_time()
                model.step()
                times.append(time.process_time() - start)
    base = float(np.median(day_times[0]))
    rows = []
    for value, model, times, spent in zip(values, models, day_times, rule_times, strict=True):
        lap = model.laplacian
        rows.append(
            {
                "city": city_name,
                "nodes": model.n_nodes,
                "parameter": parameter,
                "value": value,
                "former_substeps": diffusion_substeps(value, float(lap.diagonal().max())),
                "cpu_s_per_day": float(np.median(times)),
                "rule_cpu_s_per_day": float(np.median(spent)),
                "ratio_to_default": float(np.median(times)) / base,
                "finite": bool(np.isfinite(model.neighborhoods.pollution).all()),
            }
        )
    return rows


def former_cost(city_name: str, value: float, cap: int, seed: int) -> dict[str, Any]:
    """CPU seconds of one day of the former explicit pollution diffusion (maybe scaled)."""
    model = _model(city_name, "pollution_diffusion", value, 10, seed)
    lap = model.laplacian
    steps = diffusion_substeps(value, float(lap.diagonal().max()))
    timed = min(steps, cap)
    x = model.neighborhoods.pollution.copy()
    start = time.process_time()
    diffuse(x, lap, value / steps, substeps=timed)  # ``timed`` products of the same size
    spent = time.process_time() - start
    return {
        "city": city_name,
        "value": value,
        "former_substeps": steps,
        "former_cpu_s_per_day": spent * steps / timed,
        "extrapolated": steps > timed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cities", nargs="+", default=list(CITIES), choices=list(CITIES))
    parser.add_argument("--citizens", type=int, default=1000)
    parser.add_argument("--days", type=int, default=5, help="days per timed block")
    parser.add_argument("--rounds", type=int, default=4, help="interleaved blocks per value")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--organism", action="store_true", help="also vary organism_dispersal")
    parser.add_argument("--former", action="store_true", help="time the former explicit scheme")
    parser.add_argument("--former-cap", type=int, default=20_000)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    rows: list[dict[str, Any]] = []
    studies = [("pollution_diffusion", POLLUTION_D)]
    if args.organism:
        studies.append(("organism_dispersal", ORGANISM_D))
    for city in args.cities:
        for parameter, values in studies:
            rows += measure(
                city,
                parameter,
                values,
                citizens=args.citizens,
                days=args.days,
                rounds=args.rounds,
                seed=args.seed,
            )
    print("| city | nodes | parameter | value | former sub-steps | ms/day | rule ms/day | ratio |")
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['city']} | {r['nodes']} | {r['parameter']} | {r['value']:g} | "
            f"{r['former_substeps']} | {1e3 * r['cpu_s_per_day']:.2f} | "
            f"{1e3 * r['rule_cpu_s_per_day']:.3f} | {r['ratio_to_default']:.2f} |"
        )
    worst = max(r["ratio_to_default"] for r in rows)
    print(f"\nlargest ratio to the default coefficient's day: {worst:.2f} (target: < 2)")
    former = []
    if args.former:
        print("\n| city | D | former sub-steps | former explicit diffusion, s/day |")
        print("|---|---:|---:|---:|")
        for city in args.cities:
            for value in POLLUTION_D:
                f = former_cost(city, value, args.former_cap, args.seed)
                former.append(f)
                note = " (scaled from the cap)" if f["extrapolated"] else ""
                print(
                    f"| {city} | {value:g} | {f['former_substeps']} | "
                    f"{f['former_cpu_s_per_day']:.4g}{note} |"
                )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {"rows": rows, "former": former, "args": vars(args) | {"json": str(args.json)}}
        args.json.write_text(json.dumps(payload, indent=1))
    if not all(r["finite"] for r in rows):
        raise SystemExit("a run produced non-finite pollution")
    if not math.isfinite(worst):
        raise SystemExit("no timing")


if __name__ == "__main__":
    main()
