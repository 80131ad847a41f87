"""Cities from OpenStreetMap streets, in square cells (needs the ``geo`` extra).

:func:`from_osm` reads an osmnx street graph or an ``.osm`` XML file offline
(:func:`osmnx.graph_from_xml`), projects it to its local UTM zone
(:func:`osmnx.projection.project_graph`) and aggregates the streets into
square neighbourhood cells of ``cell_km`` a side, aligned on multiples of
``cell_km`` in that CRS (so 500 m cells are unions of 250 m cells):

* nodes are the cells that a street passes through; edges join cells that a
  street crosses between (streets are cut into pieces of ``cell_km / 4`` so
  no cell is skipped);
* ``pos`` is the cell centre, in km; ``area_km2`` is the cell's *land*: the
  part of its square within ``street_buffer_km`` (default 50 m) of a street
  (a binary dasymetric mask, Eicher & Brewer 2001; Mennis 2003: the streets
  mark the land the city occupies), and ``geometry_wkt`` that land's polygon.
  So the city covers the same land whatever the cell size: a 500 m cell at
  the edge of the streets does not bring in the streetless quarters that no
  250 m cell holds (on central Aguascalientes 4.83 km² at 500 m and 4.80 km²
  at 250 m, against 11.0 and 7.75 km² for whole squares), and emissions,
  capacities and outings per km² apply to the same land. 50 m is half the
  depth of a block: in both vendored extracts 90 % of the blocks enclosed by
  streets lie wholly within 34-42 m of one, so the mask keeps built blocks
  whole and leaves out land beyond the last street and the inside of large
  open tracts. Two cells that share a side exchange pollution across the part
  of the side that is land (``border_km`` on the edge, see
  :mod:`waste_harmony.dynamics.diffusion`); ``street_buffer_km=None`` takes
  the whole squares (the former rule);
* ``zone`` comes from OSM land use read from the same file
  (:func:`osmnx.features_from_xml`): each zone class scores the share of the
  cell's land it covers (for ``plaza`` also the share of the cell's street length
  that is pedestrian), and the best class wins when its score reaches
  ``min_share``; otherwise the cell is residential. See :data:`ZONE_TAGS`.
  When no cell reaches ``min_share`` as a plaza but some cell has a square or
  a pedestrian street, the cell with the highest plaza score is the plaza;
* the numeric attributes conserve land use across cell sizes (areal
  weighting, Goodchild & Lam 1980; the land-use polygons as the ancillary
  layer of dasymetric mapping, Mennis 2003): each zone class owns the share
  of the cell's land its polygons cover (where polygons of several classes overlap,
  the first class in :data:`LAND_PRIORITY` owns the land; pedestrian streets
  count for the ``zone`` label, not as land), residential owns the rest, and
  every zone-dependent attribute is the share-weighted mixture of the
  generators' expected values per zone
  (:func:`~waste_harmony.city.generators.expected_attributes` with
  ``shares``). ``industrial_emission`` is a density (it raises the cell's
  concentration) and ``habitat`` a fraction of the cell, so
  ``industrial_emission * area_km2`` and ``habitat * area_km2`` of four
  250 m cells add up to their 500 m cell's: a 500 m cell with 30 % industrial
  land emits 30 % of an industrial cell's density whatever its label. The
  ``zone`` label (the winning class above) only says where industry and the
  plaza are: it places the festival and TechCore, and sets the distance terms
  of marginalisation (so marginalisation, and the attributes derived from it,
  are per cell, not conserved);
* ``population`` is proportional to the street length in the cell times the
  cell's residential density (the land-share mixture of the generators'
  densities per zone), scaled to ``population`` residents in total;
* every other attribute is the generators' expected value for the cell's land
  shares and geography.

Only the largest street-connected group of cells is kept (a warning says how
many cells were dropped).

Data from OpenStreetMap is © OpenStreetMap contributors, ODbL 1.0.

References
----------
.. [1] Goodchild, M. F. & Lam, N. S.-N. (1980). Areal interpolation: a variant
   of the traditional spatial problem. *Geo-Processing* 1, 297-312.
.. [2] Mennis, J. (2003). Generating surface models of population using
   dasymetric mapping. *The Professional Geographer* 55(1), 31-42.
.. [3] Eicher, C. L. & Brewer, C. A. (2001). Dasymetric mapping and areal
   interpolation: implementation and evaluation. *Cartography and Geographic
   Information Science* 28(2), 125-138.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Mapping
from typing import Any

import networkx as nx
import numpy as np

from .generators import expected_attributes
from .geo import GEO_EXTRA_HINT, require_geo
from .zones import NODE_ATTRIBUTES, ZONES

__all__ = ["LAND_PRIORITY", "MAX_OSM_BYTES", "ZONE_TAGS", "check_osm_file", "from_osm"]

#: Default limit on an OSM file's XML once decompressed (bytes). osmnx holds the
#: whole extract in memory at roughly 10-20 times its XML size, so 1 GiB of XML is
#: already more than a 24 GiB machine builds a city from.
MAX_OSM_BYTES = 1 << 30
_CHUNK = 1 << 20

#: OSM tags (key -> values, ``True`` = any value) that mark each zone class.
ZONE_TAGS: Mapping[str, Mapping[str, Any]] = {
    "green": {
        "leisure": ["park", "garden", "nature_reserve", "playground", "pitch", "dog_park"],
        "landuse": [
            "meadow",
            "grass",
            "forest",
            "recreation_ground",
            "village_green",
            "orchard",
            "allotments",
            "cemetery",
        ],
        "natural": ["wood", "scrub", "grassland", "heath", "wetland"],
    },
    "industrial": {"landuse": ["industrial", "railway", "landfill", "quarry", "port"]},
    "commercial": {"landuse": ["commercial", "retail"]},
    "plaza": {"place": ["square"], "highway": ["pedestrian"]},
}

#: Order in which overlapping land-use polygons claim land for the land shares:
#: the more specific features (squares, parks inside a land-use area) before the
#: broad ``landuse`` classes. Land claimed by none of them is residential.
LAND_PRIORITY: tuple[str, ...] = ("plaza", "green", "commercial", "industrial")

_NUMERIC = tuple(a for a in NODE_ATTRIBUTES if a not in ("zone", "pos"))


def _require_osmnx() -> Any:
    require_geo("from_osm")
    try:
        import osmnx
    except ImportError as exc:
        raise ImportError(f"from_osm needs osmnx; {GEO_EXTRA_HINT}") from exc
    return osmnx


def _query_tags() -> dict[str, Any]:
    tags: dict[str, list[str]] = {}
    for table in ZONE_TAGS.values():
        for key, values in table.items():
            tags.setdefault(key, []).extend(values)
    return tags


def _matches(frame: Any, table: Mapping[str, Any]) -> np.ndarray:
    hit = np.zeros(len(frame), dtype=bool)
    for key, values in table.items():
        if key in frame.columns:
            hit |= frame[key].isin(values).to_numpy()
    return hit


def _is_pedestrian(highway: Any) -> bool:
    if isinstance(highway, list):
        return "pedestrian" in highway
    return highway == "pedestrian"


def _polygonal(shape: Any) -> Any:
    """The polygons of an intersection (dropping lines and points where shapes touch)."""
    import shapely

    if shape.geom_type in ("Polygon", "MultiPolygon"):
        return shape
    polygons = [
        p
        for part in shapely.get_parts(shape)
        for p in shapely.get_parts(part)
        if p.geom_type == "Polygon"
    ]
    return shapely.MultiPolygon(polygons)


def _open_decompressed(path: str) -> Any:
    """``path`` opened for reading its XML, decompressed as its first bytes say."""
    import bz2
    import gzip
    import lzma

    with open(path, "rb") as fh:
        magic = fh.read(6)
    if magic.startswith(b"BZh"):
        return bz2.open(path, "rb")
    if magic.startswith(b"\x1f\x8b"):
        return gzip.open(path, "rb")
    if magic.startswith(b"\xfd7zXZ"):
        return lzma.open(path, "rb")
    return open(path, "rb")


def check_osm_file(path: str | os.PathLike[str], max_bytes: int = MAX_OSM_BYTES) -> int:
    """Check an OSM XML file before osmnx reads it: its decompressed size and its XML.

    The file (plain, ``.bz2``, ``.gz`` or ``.xz``, recognised by its first bytes)
    is decompressed and parsed as a stream, a megabyte at a time, with
    :mod:`defusedxml`'s expat reader (as :func:`~waste_harmony.city.read_graphml`
    does): no tree is built, so this costs little memory whatever the size.
    Reading stops as soon as ``max_bytes`` of XML have come out, so a
    decompression bomb (a 9 KiB ``.bz2`` that expands to 10 GB) is refused after
    reading ``max_bytes``; entity declarations (the "billion laughs") and external
    entities are refused.

    Parameters
    ----------
    path : str or os.PathLike
        The OSM file.
    max_bytes : int, default MAX_OSM_BYTES (1 GiB)
        Largest decompressed XML accepted.

    Returns
    -------
    int
        The decompressed size, bytes.

    Raises
    ------
    ValueError
        Naming the file and the limit it passed, or the XML problem.

    Examples
    --------
    >>> import bz2, tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     bomb = pathlib.Path(tmp) / "bomb.osm.bz2"
    ...     _ = bomb.write_bytes(bz2.compress(b"<osm>" + b" " * 10**6 + b"</osm>"))
    ...     check_osm_file(bomb, max_bytes=10**5)
    Traceback (most recent call last):
    ...
    ValueError: OSM file '...bomb.osm.bz2' expands to more than 100,000 bytes of XML ...
    """
    from xml.sax import SAXParseException

    from defusedxml import DefusedXmlException
    from defusedxml.expatreader import create_parser

    where = f"OSM file {os.fspath(path)!r}"
    parser = create_parser()
    size = 0
    try:
        with _open_decompressed(os.fspath(path)) as fh:
            while chunk := fh.read(_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise ValueError(
                        f"{where} expands to more than {max_bytes:,} bytes of XML "
                        f"(max_bytes); a city is built from a district, not a region: cut "
                        f"a smaller extract (e.g. osmium extract --bbox ...), or pass a "
                        f"larger max_bytes if this machine can hold about 15 times that"
                    )
                parser.feed(chunk)
        parser.close()
    except DefusedXmlException as err:
        raise ValueError(
            f"{where} is refused: it declares XML entities or refers to external resources "
            f"({type(err).__name__}); OSM data needs neither: download the extract again"
        ) from None
    except SAXParseException as err:
        raise ValueError(
            f"{where} is not well-formed XML ({err.getMessage()} at line "
            f"{err.getLineNumber()}); the file may be truncated: download it again"
        ) from None
    except (OSError, EOFError) as err:
        raise ValueError(
            f"{where} cannot be decompressed ({type(err).__name__}: {err}); the file "
            "may be truncated or not what its name says: download it again"
        ) from None
    return size


def from_osm(
    source: Any,
    *,
    cell_km: float = 0.25,
    population: float | None = None,
    features: Any = None,
    min_share: float = 0.25,
    street_buffer_km: float | None = 0.05,
    name: str | None = None,
    max_bytes: int = MAX_OSM_BYTES,
) -> nx.Graph:
    """A city of square cells from OpenStreetMap streets and land use.

    Parameters
    ----------
    source : networkx.MultiDiGraph or os.PathLike
        An osmnx street graph (any CRS) or an ``.osm`` XML file, read offline.
    cell_km : float, default 0.25
        Side of a cell, km.
    population : float, optional
        Total population (residential weight) spread over the cells; default
        the generators' scale (about 1 per 0.25 km² of residential streets).
    features : geopandas.GeoDataFrame, optional
        OSM land-use features (as from :func:`osmnx.features_from_xml`);
        read from ``source`` when it is a file, none for a graph.
    min_share : float, default 0.25
        Score a zone class needs to zone a cell (see the module notes).
    street_buffer_km : float or None, default 0.05
        A cell's land (its ``area_km2`` and polygon) is the part of its square
        within this distance of a street; ``None``: the whole square.
    name : str, optional
        ``G.graph["name"]``; default the file name.
    max_bytes : int, default MAX_OSM_BYTES (1 GiB)
        Largest decompressed XML read from a file (see :func:`check_osm_file`,
        which vets the file first: size, entities, well-formedness).

    Returns
    -------
    networkx.Graph
        Integer nodes with every node attribute plus ``cell_col``,
        ``cell_row``, ``street_km`` and ``geometry_wkt`` (the cell's land in
        km); edges carry ``length_km``, and ``border_km`` (the land on the
        shared side) between cells that share a side. ``G.graph`` holds ``name``, ``crs``,
        ``units = "km"`` and ``cell_km``.

    Raises
    ------
    ImportError
        If the ``geo`` extra is not installed.
    ValueError
        On a bad ``cell_km``, ``population``, ``min_share`` or
        ``street_buffer_km``, when no street or no residential street is found,
        or for a file that :func:`check_osm_file` refuses.

    Examples
    --------
    >>> from waste_harmony.city import from_osm
    >>> G = from_osm("tests/data/osm/West-Oakland.osm.bz2", cell_km=0.1)  # doctest: +SKIP
    """
    ox = _require_osmnx()
    gpd = require_geo("from_osm")
    import shapely

    if not (isinstance(cell_km, int | float) and math.isfinite(cell_km) and cell_km > 0):
        raise ValueError(f"cell_km must be a positive number of km, got {cell_km!r}")
    if population is not None and not (math.isfinite(population) and population > 0):
        raise ValueError(f"population must be a positive total, got {population!r}")
    if not 0.0 < min_share <= 1.0:
        raise ValueError(f"min_share must lie in (0, 1], got {min_share!r}")
    if street_buffer_km is not None and not (
        isinstance(street_buffer_km, int | float)
        and math.isfinite(street_buffer_km)
        and street_buffer_km > 0
    ):
        raise ValueError(
            f"street_buffer_km must be a positive number of km (or None for whole cells), "
            f"got {street_buffer_km!r}"
        )

    if isinstance(source, str | os.PathLike):
        path = os.fspath(source)
        if not os.path.exists(path):
            raise FileNotFoundError(f"OSM file not found: {path}")
        check_osm_file(path, max_bytes)
        graph = ox.graph_from_xml(path, retain_all=True)
        if features is None:
            try:
                features = ox.features_from_xml(path, tags=_query_tags())
            except Exception:  # osmnx raises when the file has no such feature
                features = None
        default_name = os.path.basename(path)
    elif isinstance(source, nx.Graph):
        graph = source
        default_name = str(source.graph.get("name", "osm"))
    else:
        raise TypeError(
            f"source must be an osmnx graph or a path to an .osm file, got {type(source).__name__}"
        )
    if graph.number_of_edges() == 0:
        raise ValueError("the OSM source has no streets")
    if not ox.projection.is_projected(graph.graph["crs"]):
        graph = ox.projection.project_graph(graph)
    crs = graph.graph["crs"]
    km_per_unit = gpd.GeoSeries([], crs=crs).crs.axis_info[0].unit_conversion_factor / 1000.0
    cell = cell_km / km_per_unit  # cell side in CRS units
    edges = ox.graph_to_gdfs(ox.convert.to_undirected(graph), nodes=False)

    # streets cut into short pieces; each piece belongs to its midpoint's cell
    lines = shapely.segmentize(edges.geometry.to_numpy(), cell / 4.0)
    xy, line = shapely.get_coordinates(lines, return_index=True)
    same = line[1:] == line[:-1]
    a, b = xy[:-1][same], xy[1:][same]
    piece_line = line[1:][same]
    piece_km = np.hypot(*(b - a).T) * km_per_unit
    pedestrian = np.array([_is_pedestrian(h) for h in edges["highway"]], dtype=bool)[piece_line]
    ij_a = np.floor(a / cell).astype(np.int64)
    ij_b = np.floor(b / cell).astype(np.int64)
    ij_mid = np.floor((a + b) / 2.0 / cell).astype(np.int64)

    cells, inverse = np.unique(np.concatenate([ij_a, ij_b, ij_mid]), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    m = len(a)
    node_a, node_b, node_mid = inverse[:m], inverse[m : 2 * m], inverse[2 * m :]
    n = len(cells)
    street_km = np.bincount(node_mid, weights=piece_km, minlength=n)
    pedestrian_km = np.bincount(node_mid, weights=piece_km * pedestrian, minlength=n)
    cross = node_a != node_b
    links: nx.Graph = nx.Graph()
    links.add_nodes_from(range(n))
    links.add_edges_from(zip(node_a[cross].tolist(), node_b[cross].tolist(), strict=True))
    components = sorted(nx.connected_components(links), key=len, reverse=True)
    keep = np.array(sorted(components[0]))
    if len(components) > 1:
        warnings.warn(
            f"kept the largest street-connected group of {len(keep)} cells; dropped "
            f"{n - len(keep)} cells in {len(components) - 1} detached groups",
            UserWarning,
            stacklevel=2,
        )

    boxes = gpd.GeoSeries(
        shapely.box(
            cells[keep, 0] * cell,
            cells[keep, 1] * cell,
            (cells[keep, 0] + 1) * cell,
            (cells[keep, 1] + 1) * cell,
        ),
        crs=crs,
    )
    # Each cell's land: the part of its square within street_buffer_km of a street
    # (binary dasymetric mask, Eicher & Brewer 2001), so a cell's area does not
    # depend on how much streetless land the grid happens to put in it.
    if street_buffer_km is None:
        cell_land = boxes
    else:
        mask = shapely.union_all(
            shapely.buffer(edges.geometry.to_numpy(), street_buffer_km / km_per_unit, quad_segs=4)
        )
        cell_land = boxes.intersection(mask).apply(_polygonal)
    land_area = cell_land.area.to_numpy()  # CRS units², > 0: a street passes through
    scores = {z: np.zeros(len(keep)) for z in ZONE_TAGS}
    land = {z: np.zeros(len(keep)) for z in ZONE_TAGS}
    if features is not None and len(features):
        polys = features[features.geom_type.isin(["Polygon", "MultiPolygon"])].to_crs(crs)
        shapes = {}
        for zone_name, table in ZONE_TAGS.items():
            chosen = polys[_matches(polys, table)]
            if len(chosen):
                shapes[zone_name] = chosen.geometry.union_all()
                covers = cell_land.intersection(shapes[zone_name]).area.to_numpy()
                scores[zone_name] = covers / land_area
        covered = None  # land already given to a class earlier in LAND_PRIORITY
        for zone_name in LAND_PRIORITY:
            if zone_name in shapes:
                shape = shapes[zone_name]
                own = shape if covered is None else shape.difference(covered)
                land[zone_name] = cell_land.intersection(own).area.to_numpy() / land_area
                covered = shape if covered is None else covered.union(shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(street_km[keep] > 0, pedestrian_km[keep] / street_km[keep], 0.0)
    scores["plaza"] = np.maximum(scores["plaza"], share)
    names = list(scores)
    stacked = np.column_stack([scores[z] for z in names])
    best = stacked.argmax(axis=1)
    zones = np.where(
        stacked.max(axis=1) >= min_share, np.array(names, dtype=object)[best], "residential"
    ).astype(object)
    if "plaza" not in zones and scores["plaza"].max() > 0:
        zones[int(scores["plaza"].argmax())] = "plaza"  # the most pedestrian cell

    centre = (cells[keep] + 0.5) * cell * km_per_unit
    area = land_area * km_per_unit**2
    shares = np.zeros((len(keep), len(ZONES)))
    for zone_name, share in land.items():
        shares[:, ZONES.index(zone_name)] = share
    residential = np.clip(1.0 - shares.sum(axis=1), 0.0, None)
    shares[:, ZONES.index("residential")] = residential
    shares /= shares.sum(axis=1, keepdims=True)
    attrs = expected_attributes(centre, zones, area, shares=shares)
    density = attrs["population"] / area  # generators' residents per km² by zone
    weight = street_km[keep] * density
    if not weight.sum() > 0:
        raise ValueError(
            "no street lies in a zone with residents (all cells are industrial?); "
            "check the extract or lower min_share"
        )
    total = float(population) if population is not None else float(attrs["population"].sum())
    attrs["population"] = weight * (total / weight.sum())

    G: nx.Graph = nx.Graph(
        name=name or default_name, crs=str(crs), units="km", cell_km=float(cell_km)
    )
    in_km = [km_per_unit, 0, 0, km_per_unit, 0, 0]
    wkt = cell_land.affine_transform(in_km).to_wkt().tolist()
    for i, c in enumerate(keep.tolist()):
        G.add_node(
            i,
            zone=str(zones[i]),
            pos=(float(centre[i, 0]), float(centre[i, 1])),
            cell_col=int(cells[c, 0]),
            cell_row=int(cells[c, 1]),
            street_km=float(street_km[c]),
            geometry_wkt=wkt[i],
            **{k: float(attrs[k][i]) for k in _NUMERIC},
        )
    index = {c: i for i, c in enumerate(keep.tolist())}
    pairs = np.array(
        [(index[u], index[v]) for u, v in links.subgraph(keep.tolist()).edges], dtype=np.int64
    ).reshape(-1, 2)
    p, q = pairs.T
    length_km = np.hypot(*(centre[p] - centre[q]).T)
    # Cells that share a side exchange across the part of it that is land (the
    # finite-volume border, see dynamics.diffusion); cells that meet at a corner
    # keep the model's default conductance for their centre distance.
    shared = shapely.intersection(
        cell_land.to_numpy()[p], cell_land.to_numpy()[q], grid_size=cell * 1e-9
    )
    border_km = shapely.length(shared) * km_per_unit
    side = np.abs(cells[keep][p] - cells[keep][q]).sum(axis=1) == 1
    for k in range(len(pairs)):
        extra = {"border_km": float(border_km[k])} if side[k] and border_km[k] > 0 else {}
        G.add_edge(int(p[k]), int(q[k]), length_km=float(length_km[k]), **extra)
    return G
