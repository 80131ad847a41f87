"""Chicago at 1:1 scale: the 77 community areas with one citizen per resident.

Builds Chicago's 77 community areas from the polygons that libpysal ships
(``libpysal.examples``, ``Chicago77.shp``, read offline) with
:func:`waste_harmony.city.from_districts`, gives each area its population in the
2020 Decennial Census (``examples/data/chicago_community_areas.csv``: 2,746,388
residents in all; sources in ``examples/data/README.md``), and runs a year of the
flagship story (TechCore, the Harmony Festival, the four roles and the aftermath)
with one citizen per resident. Prints the build time, seconds per simulated day and
peak memory, a summary table, and writes the results and figures to ``--out``.

    python examples/chicago.py [--scale 1.0] [--days 365] [--seed 2143] [--out DIR]

``--scale 0.01`` runs the same city with 1 % of the residents (27,464 citizens),
for a quick look; the census counts stay the weights that place the citizens.
Needs the ``geo`` extra and libpysal (both in ``pip install -e ".[dev]"``).

**What is data and what is assumed.** Polygons: libpysal's Chicago77 (City of
Chicago community-area boundaries; Anselin & Rey). Population: the 2020 census by
community area (CMAP Community Data Snapshots; see the data README). Citizens are
placed on the areas by the model's multinomial draw with the census counts as
weights, so an area's head count differs from the census by sampling noise (the
script prints the largest difference; about 0.5 % for an area of 40,000). Zones are
*not* from a land-use data set; the example marks three areas by landmarks
(:data:`ZONES`) and leaves every other area residential, with no industrial area.
Marginalisation, land prices and habitat take the library's expected values
(:func:`waste_harmony.city.expected_attributes`).

**Measured** (full scale: ``python examples/chicago.py --out results/chicago``, seed
2143, 365 days; 2-core machine shared with other jobs, CPU time of the process in
brackets): city from the polygons 8.4 s (2.8 s); model with 2,746,388 Mesa agents built
in 90.6 s (27.0 s); 365 days in 546.6 s, 1.50 s/day (0.97 s/day); peak memory 1.27 GiB.
Re-measure on an idle machine with the same command. A scaled run is not a miniature:
waste and the pollution it emits grow with the citizens per km² (see the section
"Chicago at 1:1 scale" in ``docs/your_city.md``).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd

from waste_harmony import CityModel
from waste_harmony.cli import publish_results, summary_table
from waste_harmony.results import RunResult
from waste_harmony.scenarios import available

STORY = ("techcore", "harmony-festival", "story-roles", "aftermath")

#: The census table typed into the repository (see data/README.md for its sources).
CENSUS = Path(__file__).parent / "data" / "chicago_community_areas.csv"

#: Chicago's population in the 2020 Decennial Census (U.S. Census Bureau, P.L. 94-171
#: redistricting data, table P1, Chicago city, Illinois); the table must add up to it.
CHICAGO_2020 = 2_746_388

#: Zones by community-area number, from landmarks (an assumption of this example, not
#: a land-use data set); every other area is residential.
ZONES = {
    32: "plaza",  # Loop: Grant Park, where the city holds its large public festivals
    12: "green",  # Forest Glen: Cook County forest preserves along the North Branch
    51: "green",  # South Deering: Big Marsh and the Lake Calumet wetlands
    55: "green",  # Hegewisch: Wolf Lake and Hegewisch Marsh
}

#: The CRS of Chicago77.shp, which ships without a .prj: Illinois State Plane East,
#: US survey feet (NAD83).
CRS = "EPSG:3435"


def census() -> pd.DataFrame:
    """The 2020 census table, checked against the city's total.

    Returns
    -------
    pandas.DataFrame
        One row per community area: ``area_number``, ``community_area``,
        ``pop2010``, ``pop2020``.
    """
    table = pd.read_csv(CENSUS)
    if len(table) != 77 or int(table["pop2020"].sum()) != CHICAGO_2020:
        raise ValueError(f"{CENSUS} must list 77 areas adding up to {CHICAGO_2020:,} residents")
    return table


def chicago_city() -> object:
    """Chicago's 77 community areas as a city graph, with 2020 census populations.

    Returns
    -------
    networkx.Graph
        Nodes are the area numbers (1-77), ``population`` the 2020 census count.

    Raises
    ------
    ImportError
        Without the geo extra or libpysal.
    ValueError
        If the census table's area names do not match the polygons' names.
    """
    try:
        import geopandas as gpd
        import libpysal.examples
    except ImportError as exc:
        raise ImportError(
            f"this example needs the geo extra and libpysal ({exc}); "
            'pip install "waste-harmony[geo]" libpysal'
        ) from exc
    from waste_harmony.city import from_districts

    table = census()
    layer = gpd.read_file(libpysal.examples.get_path("Chicago77.shp"))

    def key(name: object) -> str:
        return "".join(ch for ch in str(name).upper() if ch.isalpha())

    names = dict(zip(layer["AREANO"], layer["COMMUNITY"].map(key), strict=True))
    wrong = [
        (n, name)
        for n, name in zip(table["area_number"], table["community_area"], strict=True)
        if names.get(n) != key(name)
    ]
    if wrong:
        raise ValueError(f"census rows do not match the polygons' names: {wrong[:5]}")
    layer["zone"] = layer["AREANO"].map(ZONES).fillna("residential")
    return from_districts(
        layer,
        id_column="AREANO",
        crs=CRS,
        table=table,
        table_id="area_number",
        population="pop2020",
        zone="zone",
        name="Chicago, 77 community areas (2020 census)",
    )


def peak_memory_gib() -> float:
    """Peak resident memory of this process so far, GiB (``ru_maxrss``)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**30 if sys.platform == "darwin" else rss / 2**20  # bytes on macOS, KiB else


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="citizens per resident (default 1: one per resident; 0.01 for a quick run)",
    )
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=2143)
    parser.add_argument("--out", type=Path, default=Path("results/chicago"))
    args = parser.parse_args()
    if not 0 < args.scale <= 1:
        parser.error(f"--scale must lie in (0, 1], got {args.scale}")

    start, cpu = time.perf_counter(), time.process_time()
    city = chicago_city()
    city_s = time.perf_counter() - start
    city_cpu = time.process_time() - cpu
    residents = np.array([p for _, p in city.nodes(data="population")])
    n_citizens = round(float(residents.sum()) * args.scale)
    scenarios = [name for name in STORY if name in available()]
    try:
        model = CityModel(
            city, n_citizens=n_citizens, scenarios=scenarios, rng=args.seed, days=args.days
        )
    except ValueError as exc:  # e.g. --days shorter than a scenario's schedule
        parser.error(str(exc))
    build = time.perf_counter() - start - city_s
    build_cpu = time.process_time() - cpu - city_cpu

    start, cpu = time.perf_counter(), time.process_time()
    model.run_for(args.days)
    wall = time.perf_counter() - start
    run_cpu = time.process_time() - cpu

    placed = np.bincount(model.citizens.home, minlength=model.n_nodes)
    expected = residents * args.scale
    worst = int(np.argmax(np.abs(placed - expected) / expected))
    frame = model.model_frame()
    print(
        f"Chicago: {n_citizens:,} citizens ({args.scale:g} per resident of the 2020 census), "
        f"{model.n_nodes} community areas, {args.days} days, seed {args.seed}, "
        f"scenarios: {', '.join(scenarios)}"
    )
    # wall-clock time, and in brackets the process's CPU time (steadier on a shared machine)
    print(
        f"city from the polygons in {city_s:.1f} s ({city_cpu:.1f} s CPU); model "
        f"({n_citizens:,} Mesa agents) built in {build:.1f} s ({build_cpu:.1f} s CPU); "
        f"simulated {args.days} days in {wall:.1f} s ({run_cpu:.1f} s CPU), "
        f"{wall / args.days:.3f} s/day ({run_cpu / args.days:.3f} s CPU/day); "
        f"peak memory {peak_memory_gib():.2f} GiB"
    )
    print(
        f"largest difference from the census: {model.node_ids[worst]} "
        f"({placed[worst]:,} citizens for {expected[worst]:,.0f} expected, "
        f"{(placed[worst] - expected[worst]) / expected[worst]:+.2%})"
    )
    print(summary_table(frame))
    print(
        f"facility status at the end: {frame['facility_status'].iloc[-1]}; "
        f"events logged: {len(model.event_log)}"
    )
    result = RunResult.from_model(
        model,
        wall_time_s=wall,
        extra={
            "example": "chicago",
            "scale": args.scale,
            "city_s": city_s,
            "build_s": build,
            "cpu_s": {"city": city_cpu, "build": build_cpu, "run": run_cpu},
        },
    )
    written = publish_results(result, args.out, force=True)
    print(f"wrote {args.out}/ ({', '.join(p.name for p in written)})")


if __name__ == "__main__":
    main()
