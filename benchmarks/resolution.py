"""Resolution robustness: the same real place cut at two resolutions gives the same story.

Five pairs of cities, each the same place at two resolutions:

* ``osm``: central Aguascalientes (tests/data/osm, © OpenStreetMap contributors,
  ODbL) aggregated into cells of 250 m and of 500 m (:func:`waste_harmony.city.from_osm`;
  each cell's area is its land within 50 m of a street); with ``--whole-cells`` also
  ``osm-whole``, the same cells with the whole squares as areas;
* ``osm-blocks``: the same 250 m cells and the cells merged in 2 x 2 blocks
  (attributes conserved, see :func:`merge_nodes`);
* ``sids2``, ``tokyo`` (``--layers``): North Carolina's 100 counties and Tokyo's 262
  municipalities as the gallery loads them (benchmarks/gallery.py) and the same
  districts merged in adjacent pairs on the graph (:func:`layer_pair`);
* ``districts``: Columbus's 49 neighbourhoods (libpysal's bundled example) and the
  same neighbourhoods merged in adjacent pairs (a maximal matching on the rook
  adjacency, polygons dissolved with geopandas; population summed, intensive
  attributes area-weighted, the plaza kept).

Each city runs the TechCore story (``techcore``, ``harmony-festival``,
``story-roles``) for ``--days`` days with ``--citizens`` citizens (at least 10 per
district of the finer city, the same at both resolutions) over ``--seeds`` seeds.
Per run: mean concern on the last day, festival attendance share, mean pollution
(area-weighted over the city, µg/m³, on the last day), pollution exposure
(population-weighted, µg/m³, on the last day) and TechCore's decision. The
comparison (see docs/resolution.md) asks each variable's difference between the two
resolutions to stay within its tolerance, relative to the quantity
(:func:`tolerances`). ``--verdicts-from FILE`` recomputes the verdicts of a stored
``--json`` result with this version's tolerances, without running anything.

Run it against any version of the package; the docs page compares this release
with ``a150427`` (km distances, per-cell sources, sinks, outings and assembly
networks) and ``22ac46f`` (hop-based mechanisms)::

    PYTHONPATH=src python benchmarks/resolution.py --seeds 20 --citizens 1000 --json km.json
    git worktree add /tmp/hops 22ac46f
    PYTHONPATH=/tmp/hops/src python benchmarks/resolution.py --seeds 20 --citizens 1000 \
        --json hops.json

The script uses only default parameters, so it runs unchanged on both.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from waste_harmony import CityModel
from waste_harmony.city import from_districts, from_osm, load_city

ROOT = Path(__file__).resolve().parents[1]
AGUAS = ROOT / "tests" / "data" / "osm" / "aguascalientes.osm.bz2"
STORY = ["techcore", "harmony-festival", "story-roles"]
VARIABLES = (
    "mean_concern",
    "festival_attendance",
    "mean_pollution",
    "pollution_exposure",
    "withdrawn",
)
#: Tolerance of each continuous variable relative to its fine-resolution mean, and an
#: absolute floor small against the quantity (for values near 0); see tolerances().
RELATIVE = {
    "mean_concern": 0.04,
    "festival_attendance": 0.10,
    "mean_pollution": 0.10,
    "pollution_exposure": 0.10,
}
FLOOR = {
    "mean_concern": 1e-3,
    "festival_attendance": 1e-4,
    "mean_pollution": 0.01,
    "pollution_exposure": 0.01,
}
#: Gallery layers (benchmarks/gallery.py) compared with their districts merged in
#: adjacent pairs (:func:`layer_pair`).
NEW_LAYERS = ("sids2", "tokyo")
INTENSIVE = (
    "marginalisation",
    "biotech_access",
    "habitat",
    "recycling_infrastructure",
    "industrial_emission",
    "land_price",
)


def osm_pair(street_buffer_km: float | None = 0.05) -> tuple[nx.Graph, nx.Graph]:
    """Aguascalientes in 250 m and 500 m cells (``None``: whole squares, not land)."""
    kw: dict[str, Any] = {"population": 20_000}
    if street_buffer_km != 0.05:  # so the default call runs on versions without it
        kw["street_buffer_km"] = street_buffer_km
    fine, coarse = (load_city(from_osm(AGUAS, cell_km=km, **kw)) for km in (0.25, 0.5))
    return fine, coarse


def block_depths(path: Path = AGUAS) -> dict[str, float]:
    """How far the land of the extract's blocks lies from a street (m).

    The blocks are the faces of the street network (:func:`shapely.polygonize`
    on the projected streets); a block's depth is the radius of its largest
    inscribed circle, the distance from its innermost point to a street. Gives
    the 50th and 90th percentiles over blocks and the share of the blocks' land
    within 50 m of a street (the default ``street_buffer_km`` of ``from_osm``).
    """
    import osmnx as ox
    import shapely

    graph = ox.projection.project_graph(ox.graph_from_xml(path, retain_all=True))
    streets = ox.graph_to_gdfs(ox.convert.to_undirected(graph), nodes=False)
    lines = shapely.union_all(streets.geometry.to_numpy())
    blocks = shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
    depth = [shapely.maximum_inscribed_circle(b, 1.0).length for b in blocks]
    land = shapely.union_all(blocks)
    near = shapely.intersection(land, shapely.buffer(lines, 50.0)).area / land.area
    return {
        "blocks": float(len(blocks)),
        "depth_p50_m": float(np.percentile(depth, 50)),
        "depth_p90_m": float(np.percentile(depth, 90)),
        "land_within_50m": float(near),
    }


def merge_nodes(G: nx.Graph, key: dict[Any, Any]) -> nx.Graph:
    """Merge the nodes of ``G`` into groups ``key[node]``, conserving the attributes.

    Population and area are summed, intensive attributes area-weighted, the
    position is the area-weighted centroid, the zone is ``"plaza"`` if any member
    is one and otherwise the zone of the largest member; groups are linked when
    any of their members are, at the distance between their positions.
    """
    H = nx.Graph(**G.graph)
    groups: dict[Any, list[Any]] = {}
    for node in G.nodes:
        groups.setdefault(key[node], []).append(node)
    for group, members in groups.items():
        data = [G.nodes[m] for m in members]
        area = np.array([d["area_km2"] for d in data])
        pos = np.array([d["pos"] for d in data]) * area[:, None]
        zones = [d["zone"] for d in data]
        H.add_node(
            group,
            zone="plaza" if "plaza" in zones else zones[int(np.argmax(area))],
            pos=tuple((pos.sum(axis=0) / area.sum()).tolist()),
            area_km2=float(area.sum()),
            population=float(sum(d["population"] for d in data)),
            **{a: float(np.dot([d[a] for d in data], area) / area.sum()) for a in INTENSIVE},
        )
    for a, b in G.edges:
        ga, gb = key[a], key[b]
        if ga != gb:
            pa, pb = np.array(H.nodes[ga]["pos"]), np.array(H.nodes[gb]["pos"])
            H.add_edge(ga, gb, length_km=float(np.hypot(*(pa - pb))))
    return H


def osm_blocks_pair(fine: nx.Graph | None = None) -> tuple[nx.Graph, nx.Graph]:
    """Aguascalientes in 250 m cells, and the same cells merged in 2 x 2 blocks (500 m).

    ``fine``: the 250 m city if already built (e.g. by :func:`osm_pair`).
    """
    if fine is None:
        fine = load_city(from_osm(AGUAS, cell_km=0.25, population=20_000))
    key = {n: (d["cell_col"] // 2, d["cell_row"] // 2) for n, d in fine.nodes(data=True)}
    coarse = merge_nodes(fine, key)
    return fine, load_city(nx.convert_node_labels_to_integers(coarse))


def _columbus_frame() -> Any:
    import geopandas as gpd
    import libpysal

    frame = gpd.read_file(libpysal.examples.get_path("columbus.shp"))
    # A zoning rule for the demonstration, from the layer's own columns: the
    # neighbourhood nearest the CBD is the plaza, the next four are commercial, the
    # fifth with most open space are green; marginalisation from the income rank.
    zone = np.full(len(frame), "residential", dtype=object)
    by_cbd = np.argsort(frame["DISCBD"].to_numpy(), kind="stable")
    zone[by_cbd[0]] = "plaza"
    zone[by_cbd[1:5]] = "commercial"
    by_open = [
        i for i in np.argsort(-frame["OPEN"].to_numpy(), kind="stable") if zone[i] == "residential"
    ]
    zone[by_open[: len(frame) // 5]] = "green"
    zone[int(np.argmax(frame["DISCBD"].to_numpy()))] = "industrial"
    frame["ZONE"] = zone
    frame["MARG"] = 1.0 - frame["INC"].rank(pct=True).to_numpy()
    return frame


def district_pair() -> tuple[nx.Graph, nx.Graph]:
    """Columbus's neighbourhoods and the same neighbourhoods merged in adjacent pairs."""
    frame = _columbus_frame()
    fine = load_city(
        from_districts(frame, id_column="POLYID", unit_km=1.0, zone="ZONE", marginalisation="MARG")
    )
    ids = frame["POLYID"].tolist()
    label = {node: f"m{node}" for node in ids}
    for a, b in sorted(nx.maximal_matching(fine), key=lambda e: (min(e), max(e))):
        label[b] = label[a] = f"m{min(a, b)}-{max(a, b)}"
    attrs = {
        a: np.array([fine.nodes[n][a] for n in ids], dtype=float)
        for a in (*INTENSIVE, "population", "area_km2")
    }
    area = attrs["area_km2"]
    frame = frame.assign(GROUP=[label[n] for n in ids], W=area)
    for a in INTENSIVE:
        frame[a] = attrs[a] * area
    frame["population"] = attrs["population"]
    zones = {}
    for group, rows in frame.groupby("GROUP").groups.items():
        members = frame.loc[rows]
        zones[group] = (
            "plaza"
            if (members["ZONE"] == "plaza").any()
            else members["ZONE"].iloc[int(np.argmax(members["W"].to_numpy()))]
        )
    merged = frame[["GROUP", "W", "population", *INTENSIVE, "geometry"]].dissolve(
        by="GROUP", aggfunc="sum"
    )
    merged = merged.reset_index()
    for a in INTENSIVE:
        merged[a] = merged[a] / merged["W"]
    merged["ZONE"] = merged["GROUP"].map(zones)
    coarse = from_districts(
        merged,
        id_column="GROUP",
        unit_km=1.0,
        zone="ZONE",
        population="population",
        columns={a: a for a in INTENSIVE},
    )
    return fine, load_city(coarse)


def layer_pair(name: str) -> tuple[nx.Graph, nx.Graph]:
    """A gallery layer (:mod:`gallery`) and its districts merged in adjacent pairs.

    The pairs are a maximal matching of the contiguity graph (deterministic: edges in
    sorted order); :func:`merge_nodes` conserves population and area and area-weights
    the intensive attributes, as :func:`district_pair` does with the polygons.
    """
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import gallery

    fine = load_city(gallery.load(name))
    key = {node: node for node in fine.nodes}
    edges = sorted((min(a, b), max(a, b)) for a, b in fine.edges)
    matched: set[Any] = set()
    for a, b in edges:
        if a not in matched and b not in matched:
            matched |= {a, b}
            key[b] = a
    coarse = merge_nodes(fine, key)
    return fine, load_city(nx.convert_node_labels_to_integers(coarse))


def citizens_for(G: nx.Graph, citizens: int) -> int:
    """``citizens``, or 10 per district of the finer city if that is more.

    Both resolutions of a pair run with the same number (the same people), at or
    above the converged size per district of docs/convergence.md.
    """
    return max(citizens, 10 * G.number_of_nodes())


def run_one(G: nx.Graph, seed: int, citizens: int, days: int) -> dict[str, float]:
    """One run of the story on ``G``: the four compared variables."""
    model = CityModel(G, n_citizens=citizens, scenarios=STORY, rng=seed, record_neighborhoods=False)
    model.run_for(days)
    # Means over the people the citizens stand for (the plain mean on versions where
    # each citizen is one person).
    mean = getattr(model, "citizen_mean", lambda v: float(np.mean(v)))
    festival = model.event_log.of_kind("festival")
    area = model.neighborhoods.area_km2
    people = model.neighborhoods.population_weight  # the city's population, as recorded
    decision = model.scenario_named("techcore").decision_
    return {
        "mean_concern": mean(model.citizens.concern),
        "festival_attendance": float(festival[0].details["attendance_share"])
        if festival
        else math.nan,
        "mean_pollution": float((model.neighborhoods.pollution * area).sum() / area.sum()),
        "pollution_exposure": float(model.neighborhoods.pollution @ people / people.sum()),
        "withdrawn": float(decision == "withdraw"),
    }


def study(
    pairs: dict[str, tuple[nx.Graph, nx.Graph]], seeds: int, citizens: int, days: int
) -> dict[str, Any]:
    """Every variable, per pair and resolution: per-seed values, mean and SD.

    A city object that appears in several pairs is run once.
    """
    out: dict[str, Any] = {}
    done: dict[tuple[int, int], list[dict[str, float]]] = {}
    for name, (fine, coarse) in pairs.items():
        out[name] = {}
        n = citizens_for(fine, citizens)
        for level, G in (("fine", fine), ("coarse", coarse)):
            if (id(G), n) not in done:
                done[id(G), n] = [run_one(G, seed, n, days) for seed in range(seeds)]
            runs = done[id(G), n]
            out[name][level] = {
                "nodes": G.number_of_nodes(),
                "citizens": n,
                **{
                    v: {
                        "values": [r[v] for r in runs],
                        "mean": float(np.mean([r[v] for r in runs])),
                        "sd": float(np.std([r[v] for r in runs], ddof=1)),
                    }
                    for v in VARIABLES
                },
            }
    return out


def tolerances(fine: dict[str, Any]) -> dict[str, float]:
    """Tolerance per variable (see docs/resolution.md for the reasoning).

    Continuous variables: the largest of the seed-to-seed SD of one run at the fine
    resolution, a share of the fine mean (:data:`RELATIVE`: 4 % of mean concern, the
    0.02 of a survey of about 1,000 residents at concern near 0.5; 10 % of festival
    attendance and of pollution) and an absolute floor small against the quantity
    (:data:`FLOOR`). TechCore's withdrawal share: ±0.15.
    """
    tol = {
        v: max(fine[v]["sd"], RELATIVE[v] * abs(fine[v]["mean"]), FLOOR[v])
        for v in RELATIVE
        if v in fine
    }
    tol["withdrawn"] = 0.15
    return tol


def verdicts(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per pair and variable: fine mean, coarse mean, difference, tolerance, pass.

    Variables a stored result lacks (e.g. ``pollution_exposure`` in results of older
    versions) are left out.
    """
    table: dict[str, dict[str, Any]] = {}
    for name, levels in result.items():
        tol = tolerances(levels["fine"])
        table[name] = {}
        for v in VARIABLES:
            if v not in levels["fine"]:
                continue
            f, c = levels["fine"][v]["mean"], levels["coarse"][v]["mean"]
            table[name][v] = {
                "fine": f,
                "coarse": c,
                "difference": c - f,
                "tolerance": tol[v],
                "agrees": bool(abs(c - f) <= tol[v]),
            }
    return table


def figure(result: dict[str, Any], path: Path, title: str) -> None:
    """Per-seed values at both resolutions, one panel per variable and pair."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pairs = list(result)
    variables = [v for v in VARIABLES if v in result[pairs[0]]["fine"]]
    fig, axes = plt.subplots(len(pairs), len(variables), figsize=(12, 3.2 * len(pairs)))
    axes = np.atleast_2d(axes)
    for i, name in enumerate(pairs):
        for j, v in enumerate(variables):
            ax = axes[i, j]
            for k, level in enumerate(("fine", "coarse")):
                vals = np.asarray(result[name][level][v]["values"], dtype=float)
                x = k + np.linspace(-0.15, 0.15, len(vals))
                ax.plot(x, vals, "o", alpha=0.5, ms=3)
                ax.plot([k - 0.25, k + 0.25], [vals.mean()] * 2, "k-", lw=2)
            ax.set_xticks(
                [0, 1],
                [
                    f"fine ({result[name]['fine']['nodes']})",
                    f"coarse ({result[name]['coarse']['nodes']})",
                ],
            )
            ax.set_title(f"{name}: {v}", fontsize=9)
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--citizens", type=int, default=2000)
    parser.add_argument("--days", type=int, default=200)
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--figure", type=Path, default=None, help="write the figure here")
    parser.add_argument("--title", default="km-based mechanisms")
    parser.add_argument(
        "--whole-cells",
        action="store_true",
        help="add the pair 'osm-whole': the osm pair with whole squares as cell areas "
        "(street_buffer_km=None)",
    )
    parser.add_argument(
        "--layers",
        nargs="*",
        default=list(NEW_LAYERS),
        help="gallery layers also compared with their districts merged in pairs",
    )
    parser.add_argument(
        "--blocks", action="store_true", help="print how deep the extracts' blocks are, and stop"
    )
    parser.add_argument(
        "--verdicts-from",
        type=Path,
        default=None,
        help="recompute the verdicts of a stored --json result with this version's "
        "tolerances (nothing is run)",
    )
    args = parser.parse_args()
    if args.blocks:
        for path in (AGUAS, AGUAS.with_name("West-Oakland.osm.bz2")):
            print(path.name, {k: round(v, 3) for k, v in block_depths(path).items()})
        return
    if args.verdicts_from is not None:
        result = json.loads(args.verdicts_from.read_text())["result"]
    else:
        osm = osm_pair()
        pairs = {"osm": osm, "osm-blocks": osm_blocks_pair(osm[0]), "districts": district_pair()}
        for layer in args.layers:
            pairs[layer] = layer_pair(layer)
        if args.whole_cells:
            pairs["osm-whole"] = osm_pair(street_buffer_km=None)
        result = study(pairs, args.seeds, args.citizens, args.days)
    table = verdicts(result)
    print("| place | variable | fine | coarse | difference | tolerance | agrees |")
    print("|---|---|---:|---:|---:|---:|---|")
    for name, rows in table.items():
        for v, r in rows.items():
            print(
                f"| {name} | {v} | {r['fine']:.4g} | {r['coarse']:.4g} | "
                f"{r['difference']:+.3g} | {r['tolerance']:.3g} | "
                f"{'yes' if r['agrees'] else 'NO'} |"
            )
    if args.json and args.verdicts_from is None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"result": result, "verdicts": table}, indent=1))
    if args.figure:
        figure(result, args.figure, args.title)


if __name__ == "__main__":
    main()
