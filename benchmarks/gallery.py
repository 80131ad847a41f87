"""The gallery: every polygon layer bundled with libpysal and the two OSM extracts, as cities.

Each layer is loaded with the options of :data:`LAYERS` (the options the layer needs, as a
user would pass them: a CRS for a shapefile without one, ``connect="nearest"`` for a layer
in pieces), checked to be one connected city in km, and run for 30 days of the story
(:data:`STORY`: its events brought into 30 days) with :func:`citizens_for` citizens. The
report gives, per layer, its districts, extent (km), what it needed, the time to load it
and to build the model, and whether every output stayed finite. ``tests/test_gallery.py``
runs the same table.

The gap study (``--gaps``) measures what ``from_districts``' snapping defaults rest on:
for every polygon layer, the distances between districts that do not share a border
exactly, in decades, and the shortest shared borders (docs/gallery.md).

Polygons: libpysal's bundled examples (``libpysal.examples``, read offline). Streets:
tests/data/osm (© OpenStreetMap contributors, ODbL 1.0). Timings are wall-clock on
whatever machine runs it: compare layers within one report, not across machines.

    python benchmarks/gallery.py                  # the gallery table (markdown)
    python benchmarks/gallery.py --gaps           # the gap study (markdown)
    python benchmarks/gallery.py --json out.json  # both, as JSON too
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from waste_harmony import CityModel
from waste_harmony.city import connector_links, from_districts, from_osm

ROOT = Path(__file__).resolve().parents[1]
OSM = ROOT / "tests" / "data" / "osm"
#: The flagship story (examples/chicago.py) with its events brought into 30 days:
#: TechCore announces on day 5 and decides at the end of a 15-day comment period,
#: the festival is on day 10.
STORY: dict[str, dict[str, Any]] = {
    "techcore": {"announce_day": 5, "comment_period_days": 15},
    "harmony-festival": {"day": 10},
    "story-roles": {},
    "aftermath": {},
}
DAYS = 30
#: Gap decades of the study, in metres (upper bounds).
DECADES_M = (0.001, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)


@dataclass(frozen=True)
class Layer:
    """A gallery layer: where it is and how to load it."""

    #: ``libpysal`` example file (``examples/<dir>/<file>``) or an OSM extract in tests/data/osm.
    path: str
    #: Keyword arguments of the loader (``from_districts`` or ``from_osm``).
    options: dict[str, Any] = field(default_factory=dict)
    #: What the layer is.
    place: str = ""
    #: Why it needs its options (the "needed" column).
    why: str = ""

    @property
    def osm(self) -> bool:
        """True for an OpenStreetMap extract."""
        return self.path.endswith(".osm.bz2")


#: Every polygon layer under libpysal/examples/*/*.shp and both OSM extracts.
LAYERS: dict[str, Layer] = {
    "10740": Layer(
        "10740/10740.shp",
        {"id_column": "STFID", "zone": "zone", "crs": "EPSG:4269", "connect": "nearest"},
        "Albuquerque census tracts, 2000 (195)",
        "no CRS (lon/lat, NAD83); one tract 6.1 km from any other: two pieces",
    ),
    "Polygon": Layer(
        "Polygon/Polygon.shp",
        {"id_column": "Name", "zone": "zone", "connect": "nearest"},
        "three separate test polygons",
        "three pieces",
    ),
    "Polygon_Holes": Layer(
        "Polygon_Holes/Polygon_Holes.shp",
        {"id_column": "Name", "zone": "zone", "connect": "nearest"},
        "three test polygons, with holes",
        "three pieces",
    ),
    "chicago": Layer(
        "chicago/Chicago77.shp",
        {"id_column": "AREANO", "zone": "zone", "crs": "EPSG:3435"},
        "Chicago community areas (77)",
        "no CRS (Illinois State Plane East, US feet)",
    ),
    "columbus": Layer(
        "columbus/columbus.shp",
        {"id_column": "POLYID", "zone": "zone", "unit_km": 1.0},
        "Columbus, Ohio, neighbourhoods (49)",
        "no CRS, planar units of unstated length (taken as km)",
    ),
    "georgia": Layer(
        "georgia/G_utm.shp",
        {"id_column": "AreaKey", "zone": "zone", "crs": "EPSG:26916"},
        "Georgia counties (159)",
        "no CRS (UTM 16N, metres); regional: declared km",
    ),
    "mexico": Layer(
        "mexico/mexicojoin.shp",
        {"id_column": "POLY_ID", "zone": "zone", "crs": "EPSG:4326"},
        "Mexican states (32)",
        "no CRS (lon/lat); national: declared km",
    ),
    "sids2": Layer(
        "sids2/sids2.shp",
        {"id_column": "FIPSNO", "zone": "zone", "crs": "EPSG:4267"},
        "North Carolina counties (100)",
        "no CRS (lon/lat, NAD27); regional: declared km",
    ),
    "stl": Layer(
        "stl/stl_hom.shp",
        {"id_column": "FIPSNO", "zone": "zone", "crs": "EPSG:4267"},
        "St Louis region counties (78)",
        "no CRS (lon/lat, NAD27); regional: declared km",
    ),
    "tokyo": Layer(
        "tokyo/tokyomet262.shp",
        {"id_column": "AreaID", "zone": "zone"},
        "Tokyo metropolitan municipalities (262)",
        "digitising gaps and slivers: snapped (default)",
    ),
    "us48": Layer(
        "us_income/us48.shp",
        {"id_column": "STATE_FIPS", "zone": "zone", "crs": "EPSG:4326"},
        "contiguous US states (48)",
        "no CRS (lon/lat); continental: declared km",
    ),
    "virginia": Layer(
        "virginia/virginia.shp",
        {"id_column": "POLY_ID", "zone": "zone", "connect": "nearest"},
        "Virginia counties, lon/lat (136)",
        "the Eastern Shore across the Chesapeake Bay: two pieces",
    ),
    "vautm17n": Layer(
        "virginia/vautm17n.shp",
        {"id_column": "POLY_ID", "zone": "zone", "connect": "nearest"},
        "Virginia counties, UTM 17N (136)",
        "the Eastern Shore across the Chesapeake Bay: two pieces",
    ),
    "lattice10x10": Layer(
        "wmat/lattice10x10.shp",
        {"id_column": "cell", "zone": "zone", "unit_km": 1.0},
        "10 x 10 lattice of unit squares",
        "no CRS, no id column (row numbers added)",
    ),
    "rook31": Layer(
        "wmat/rook31.shp",
        {"id_column": "POLY_ID", "zone": "zone", "unit_km": 1.0},
        "three test squares",
        "no CRS (planar units taken as km)",
    ),
    "aguascalientes": Layer(
        "aguascalientes.osm.bz2",
        {"cell_km": 0.25},
        "central Aguascalientes, Mexico (OSM)",
        "none",
    ),
    "west-oakland": Layer(
        "West-Oakland.osm.bz2",
        {"cell_km": 0.1},
        "a few blocks of West Oakland (OSM)",
        "100 m cells (a few blocks); no land use: one cell marked green",
    ),
}


def source(layer: Layer) -> Any:
    """The layer's file (OSM) or GeoDataFrame (polygons, with the columns of :func:`zones`)."""
    if layer.osm:
        return OSM / layer.path
    import geopandas as gpd
    import libpysal

    frame = gpd.read_file(Path(libpysal.__file__).parent / "examples" / layer.path)
    return frame.assign(cell=np.arange(len(frame)), zone=zones(frame))


def zones(frame: Any) -> np.ndarray:
    """The gallery's zones for a layer that has none (an assumption, not land-use data).

    The story needs a biodiverse district for TechCore and a square for the festival:
    the largest district is ``"green"`` and the one whose centre is nearest the
    layer's is the ``"plaza"``; every other district is residential.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # centroids of lon/lat layers: fine for ranking
        centre = frame.geometry.centroid
        area = frame.geometry.area.to_numpy()
    xy = np.column_stack([centre.x, centre.y])
    out = np.full(len(frame), "residential", dtype=object)
    out[int(np.argmin(np.hypot(*(xy - xy.mean(axis=0)).T)))] = "plaza"
    out[int(np.argmax(area))] = "green"
    return out


def load(name: str) -> nx.Graph:
    """The gallery layer ``name`` as a city graph, loaded with its documented options."""
    layer = LAYERS[name]
    with warnings.catch_warnings():
        # expected and documented: lon/lat layers are projected to UTM with a warning,
        # and from_osm says how many detached street cells it dropped
        warnings.filterwarnings("ignore", message=".*geographic CRS.*", category=UserWarning)
        warnings.filterwarnings("ignore", message=".*street-connected.*", category=UserWarning)
        if layer.osm:
            return green_if_none(from_osm(source(layer), **layer.options))
        return from_districts(source(layer), **layer.options)


def green_if_none(G: nx.Graph) -> nx.Graph:
    """Mark the cell with the fewest streets green when an extract has no land use.

    TechCore needs a biodiverse node; an extract without land-use polygons (West
    Oakland) has none (an assumption of the gallery, not data).
    """
    if not any(
        zone == "green" or h >= 0.5
        for (_, zone), (_, h) in zip(G.nodes(data="zone"), G.nodes(data="habitat"), strict=True)
    ):
        node = min(G.nodes, key=lambda n: (G.nodes[n]["street_km"], n))
        G.nodes[node]["zone"] = "green"
    return G


def citizens_for(G: nx.Graph) -> int:
    """A small sample: 5 citizens per district, at least 200."""
    return max(200, 5 * G.number_of_nodes())


def extent_km(G: nx.Graph) -> tuple[float, float]:
    """Width and height of the node positions, km."""
    xy = np.array([p for _, p in G.nodes(data="pos")], dtype=float)
    width, height = xy.max(axis=0) - xy.min(axis=0)
    return float(width), float(height)


def finite_outputs(model: CityModel) -> bool:
    """True when every numeric model series is finite on every day."""
    frame = model.datacollector.get_model_vars_dataframe()
    numeric = frame.select_dtypes("number").to_numpy(dtype=float)
    return bool(np.isfinite(numeric).all())


def gallery_row(name: str, *, days: int = DAYS) -> dict[str, Any]:
    """Load, build and run one layer; what the table reports."""
    layer = LAYERS[name]
    start = time.perf_counter()
    G = load(name)
    loaded = time.perf_counter()
    model = CityModel(G, n_citizens=citizens_for(G), scenarios=STORY, rng=1)
    built = time.perf_counter()
    model.run_for(days)
    ran = time.perf_counter()
    width, height = extent_km(G)
    return {
        "layer": name,
        "place": layer.place,
        "districts": G.number_of_nodes(),
        "links": G.number_of_edges(),
        "declared_links": len(connector_links(G)),
        "width_km": width,
        "height_km": height,
        "options": {k: v for k, v in layer.options.items() if k != "id_column"},
        "needed": layer.why,
        "load_s": loaded - start,
        "build_s": built - loaded,
        "days": days,
        "run_s": ran - built,
        "citizens": model.n_citizens,
        "finite": finite_outputs(model),
        "facility_status": model.facility_status,
    }


def polygons_km(name: str) -> Any:
    """The layer's polygons in km, projected as ``from_districts`` projects them."""
    layer = LAYERS[name]
    frame = source(layer)
    if frame.crs is None and "crs" in layer.options:
        frame = frame.set_crs(layer.options["crs"])
    if frame.crs is None:
        km = layer.options["unit_km"]
    else:
        if frame.crs.is_geographic:
            frame = frame.to_crs(frame.estimate_utm_crs())
        km = frame.crs.axis_info[0].unit_conversion_factor / 1000.0
    geoms = frame.geometry.reset_index(drop=True)
    return geoms.affine_transform([km, 0, 0, km, 0, 0]).make_valid()


def gap_study(name: str) -> dict[str, Any]:
    """Distances between districts that share no exact border, and the shortest borders.

    Works on the layer's polygons in km, projected as the loader projects them
    (exact geometry, not the WKT rounded to the mm that the nodes keep): every pair
    within 1 km, its distance, its exactly shared border and its border within 1 m
    (the default ``snap_km``).
    """
    import shapely

    geoms = polygons_km(name)
    shapes = geoms.to_numpy()
    left, right = geoms.sindex.query(geoms, predicate="dwithin", distance=1.0)
    keep = left < right
    left, right = left[keep], right[keep]
    gap_m = shapely.distance(shapes[left], shapes[right]) * 1000
    boundary = shapely.boundary(shapes)
    exact_m = shapely.length(shapely.intersection(boundary[left], boundary[right])) * 1000
    reach = shapely.buffer(shapes, 0.001, quad_segs=2)
    near_m = (
        np.minimum(
            shapely.length(shapely.intersection(boundary[left], reach[right])),
            shapely.length(shapely.intersection(boundary[right], reach[left])),
        )
        * 1000
    )
    apart = gap_m > 0
    counts = []
    low = 0.0
    for high in DECADES_M:
        counts.append(int(((gap_m > low) & (gap_m <= high)).sum()))
        low = high
    crossing = (gap_m == 0) & (exact_m == 0) & (near_m > 10)
    small = apart & (gap_m <= 1.0)
    wide = apart & (gap_m > 1.0)
    shared = exact_m > 0
    return {
        "layer": name,
        "pairs_within_1km": len(left),
        "exact_borders": int(shared.sum()),
        "gaps_by_decade_m": dict(zip([str(h) for h in DECADES_M], counts, strict=True)),
        "largest_gap_below_1m": float(gap_m[small].max()) if small.any() else None,
        "smallest_gap_above_1m": float(gap_m[wide].min()) if wide.any() else None,
        "overlapping_without_exact_border": int(crossing.sum()),
        "shortest_exact_borders_m": [round(float(b), 3) for b in np.sort(exact_m[shared])[:3]],
        "corner_borders_at_1m": [
            round(float(b), 2) for b in np.sort(near_m[(near_m > 0) & (near_m <= 10)])[-3:]
        ],
    }


def _fmt_m(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value * 1000:.2g} mm" if value < 0.01 else f"{value:.3g} m"


def gallery_markdown(rows: list[dict[str, Any]]) -> str:
    """The gallery table."""
    lines = [
        "| layer | what | districts | links (declared) | extent km | options | needed | "
        "citizens | load s | build s | days s | finite |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        options = ", ".join(f"`{k}={v!r}`" for k, v in r["options"].items()) or "–"
        lines.append(
            f"| {r['layer']} | {r['place']} | {r['districts']} | {r['links']} "
            f"({r['declared_links']}) | {_fmt_km(r['width_km'])} × {_fmt_km(r['height_km'])} | "
            f"{options} | {r['needed']} | {r['citizens']} | {r['load_s']:.2f} | "
            f"{r['build_s']:.2f} | {r['run_s']:.2f} | {'yes' if r['finite'] else '**no**'} |"
        )
    return "\n".join(lines)


def _fmt_km(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def gaps_markdown(rows: list[dict[str, Any]]) -> str:
    """The gap study table."""
    heads = ["≤ 1 mm", "1 mm–1 cm", "1–10 cm", "10 cm–1 m", "1–10 m", "10–100 m", "0.1–1 km"]
    lines = [
        "| layer | exact borders | crossing slivers | "
        + " | ".join(f"gaps {h}" for h in heads)
        + " | largest gap ≤ 1 m | smallest gap > 1 m | shortest exact borders (m) "
        "| corner borders at 1 m (m) |",
        "|---" * (len(heads) + 7) + "|",
    ]
    for r in rows:
        counts = " | ".join(str(c) for c in r["gaps_by_decade_m"].values())
        lines.append(
            f"| {r['layer']} | {r['exact_borders']} | {r['overlapping_without_exact_border']} | "
            f"{counts} | {_fmt_m(r['largest_gap_below_1m'])} | "
            f"{_fmt_m(r['smallest_gap_above_1m'])} | "
            f"{', '.join(f'{b:g}' for b in r['shortest_exact_borders_m'])} | "
            f"{', '.join(f'{b:g}' for b in r['corner_borders_at_1m']) or '–'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the gallery (or the gap study) and print the markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gaps", action="store_true", help="only the gap study")
    parser.add_argument("--layers", nargs="*", default=list(LAYERS), choices=list(LAYERS))
    parser.add_argument("--days", type=int, default=DAYS)
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args(argv)
    report: dict[str, Any] = {}
    polygons = [name for name in args.layers if not LAYERS[name].osm]
    report["gaps"] = [gap_study(name) for name in polygons]
    print(gaps_markdown(report["gaps"]))
    if not args.gaps:
        report["gallery"] = [gallery_row(name, days=args.days) for name in args.layers]
        print()
        print(gallery_markdown(report["gallery"]))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=str))
    return report


if __name__ == "__main__":
    main()
