"""Cities from GIS district polygons (needs the ``geo`` extra).

:func:`from_districts` turns a polygon layer (a GeoDataFrame or any file that
geopandas reads: GeoJSON, shapefile, GeoPackage) into a city graph: one node
per polygon, an edge between two polygons that share a border (rook
contiguity, found with geopandas' spatial index and shapely), positions at the
centroids and areas from the geometry. All geometry is measured in a projected
CRS and expressed in km; a geographic (lon/lat) layer is projected to its local
UTM zone
(:meth:`geopandas.GeoDataFrame.estimate_utm_crs`) with a warning.

Positions are the projected coordinates divided into km (``x_km = x_m / 1000``),
so a node's ``pos`` times 1000 is its centroid in ``G.graph["crs"]``. Each
node keeps its polygon, in the same km coordinates, as WKT text in the node
attribute ``geometry_wkt`` (a string, so it survives GraphML);
:func:`district_geometries` turns it back into a GeoSeries.

**Real layers as they come.** Neighbouring polygons of a real layer rarely share
their border exactly: digitised separately, they leave slivers of gap or overlap
between them (in libpysal's Tokyo layer, 27 pairs of wards are 0.04 to 1.1 mm
apart and 194 more overlap by a few m² with crossing boundaries, which exact rook
contiguity reads as 23 separate pieces). As in libpysal's fuzzy contiguity
(``libpysal.weights.fuzzy_contiguity``), two districts are neighbours when they
come within a snapping tolerance ``snap_km`` of each other (default
:data:`SNAP_KM`, 1 m): their shared border is the length of each one's boundary
that lies within ``snap_km`` of the other (the smaller of the two). Districts that
only meet at a corner get a border of about ``2 snap_km`` (or, with exact
geometry, a tolerance artefact like Chicago's 0.1 m contact between two areas
4.5 km apart), and a corner is no border: a pair is a neighbour only when its
border is longer than ``min_border_km`` (default :data:`MIN_BORDER_KM`, 10 m,
at least ten times ``snap_km``). ``snap_km=0, min_border_km=0`` gives exact rook
contiguity. The defaults are measured on every polygon layer bundled with
libpysal (``python benchmarks/gallery.py --gaps``, table in ``docs/gallery.md``):
every digitising gap found is below 1.2 mm and the narrowest true separation
22.7 m; corners get at most 5.5 m of border at 1 m and the shortest true shared
border is 22.7 m.

A layer in several pieces (islands) is joined explicitly with ``connect="nearest"``
(:func:`~waste_harmony.city.connect_pieces`: declared links that citizens travel
and pollution does not cross); without it, a warning names the option.

References
----------
.. [1] Anselin, L. (1988). *Spatial Econometrics: Methods and Models*. Kluwer
   (rook and queen contiguity).
.. [2] Rey, S. J. & Anselin, L. (2007). PySAL: A Python library of spatial
   analytical methods. *The Review of Regional Studies* 37(1), 5-27 (libpysal's
   fuzzy contiguity, for layers whose polygons do not quite touch).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import networkx as nx
import numpy as np
import pandas as pd

from .generators import expected_attributes
from .pieces import connect_pieces
from .zones import NODE_ATTRIBUTES, ZONES

if TYPE_CHECKING:
    import geopandas as gpd
    from geopandas import GeoSeries

__all__ = [
    "CONNECT",
    "GEO_EXTRA_HINT",
    "MIN_BORDER_KM",
    "SNAP_KM",
    "district_geometries",
    "from_districts",
    "require_geo",
]

#: What to install when the ``geo`` extra is missing.
GEO_EXTRA_HINT = 'install the geo extra: pip install "waste-harmony[geo]"'

#: Default snapping tolerance, km (1 m): districts closer than this are neighbours.
SNAP_KM = 0.001
#: Default minimum shared border, km (10 m): a shorter contact is a corner, no border.
MIN_BORDER_KM = 0.01
#: The ways ``from_districts(connect=...)`` joins a layer's pieces.
CONNECT = ("nearest",)

_NUMERIC = tuple(a for a in NODE_ATTRIBUTES if a not in ("zone", "pos"))


def require_geo(what: str) -> Any:
    """Import geopandas, or raise an ImportError naming the ``geo`` extra.

    Parameters
    ----------
    what : str
        The feature that needs it, for the message.

    Returns
    -------
    module
        :mod:`geopandas`.

    Raises
    ------
    ImportError
        If geopandas (or shapely/pyproj) is not installed.
    """
    try:
        import geopandas
    except ImportError as exc:
        raise ImportError(f"{what} needs geopandas, shapely and pyproj; {GEO_EXTRA_HINT}") from exc
    return geopandas


def _read_frame(source: Any, gpd: Any) -> gpd.GeoDataFrame:
    if isinstance(source, gpd.GeoDataFrame):
        return source.copy()
    if isinstance(source, str | os.PathLike):
        if not os.path.exists(source):
            raise FileNotFoundError(f"district file not found: {source}")
        return gpd.read_file(source)
    raise TypeError(
        f"source must be a GeoDataFrame or a path to a GIS file, got {type(source).__name__}"
    )


def _to_projected_km(
    frame: gpd.GeoDataFrame, crs: Any, unit_km: float | None
) -> tuple[gpd.GeoDataFrame, float, str | None]:
    """Project ``frame`` if needed; return it, km per coordinate unit and the CRS text."""
    if frame.crs is None:
        if crs is not None:
            frame = frame.set_crs(crs)
        elif unit_km is not None:
            if not (np.isfinite(unit_km) and unit_km > 0):
                raise ValueError(f"unit_km must be a positive number, got {unit_km!r}")
            return frame, float(unit_km), None
        else:
            x0, y0, x1, y1 = frame.total_bounds
            lonlat = (
                " Its coordinates lie within ±180 and ±90, so they are probably "
                "longitude/latitude: crs='EPSG:4326' (or the layer's datum, e.g. "
                "'EPSG:4269' for NAD83)."
                if x0 >= -180 and x1 <= 180 and y0 >= -90 and y1 <= 90
                else ""
            )
            raise ValueError(
                "the district layer has no CRS, so its units are unknown; pass crs= (e.g. "
                "crs='EPSG:3435' for Illinois State Plane feet) or, for a layer in plain "
                f"planar units, unit_km= (the length of one coordinate unit in km).{lonlat}"
            )
    assert frame.crs is not None  # set above, or returned early
    if frame.crs.is_geographic:
        utm = frame.estimate_utm_crs()
        warnings.warn(
            f"the district layer is in a geographic CRS ({frame.crs.name}); projected it to "
            f"{utm.name} ({utm.to_string()}) to measure areas and borders in km",
            UserWarning,
            stacklevel=3,
        )
        frame = frame.to_crs(utm)
    projected = frame.crs
    assert projected is not None  # to_crs keeps a CRS
    metres = projected.axis_info[0].unit_conversion_factor
    return frame, metres / 1000.0, projected.to_string()


def _table_columns(
    frame: pd.DataFrame,
    ids: pd.Index,
    table: Any,
    table_id: str | None,
    id_column: str,
) -> pd.DataFrame:
    """The attribute columns: the frame's, joined with ``table`` by district id."""
    data = pd.DataFrame(frame.drop(columns=frame.geometry.name)).set_index(ids)
    if table is None:
        return data
    if isinstance(table, str | os.PathLike):
        table = pd.read_csv(table)
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a DataFrame or a CSV path, got {type(table).__name__}")
    key = table_id or id_column
    if key not in table.columns:
        raise ValueError(
            f"the table has no id column {key!r}; its columns are {list(table.columns)}; "
            "pass table_id= naming the column with the district ids"
        )
    keys = table[key]
    if keys.duplicated().any():
        raise ValueError(
            f"the table's id column {key!r} has duplicates: {keys[keys.duplicated()].tolist()[:5]}"
        )
    # compare ids as text so 7 and "7" match
    table = table.set_index(keys.astype(str)).drop(columns=key)
    wanted = ids.astype(str)
    missing = wanted.difference(table.index)
    extra = table.index.difference(wanted)
    if len(missing):
        raise ValueError(
            f"{len(missing)} district id(s) of {id_column!r} have no row in the table "
            f"(by {key!r}): {sorted(missing)[:10]}; table ids not in the layer: "
            f"{sorted(extra)[:10]}"
        )
    joined = table.loc[wanted]
    joined.index = ids
    return data.drop(columns=[c for c in joined.columns if c in data.columns]).join(joined)


def _column(data: pd.DataFrame, name: str, attr: str) -> pd.Series:
    if name not in data.columns:
        raise ValueError(
            f"{attr}: no column {name!r} in the district layer or table; available columns: "
            f"{[c for c in data.columns]}"
        )
    return data[name]


def _zones(values: pd.Series, zone_map: Mapping[Any, str] | None) -> np.ndarray:
    mapped = values.map(zone_map) if zone_map is not None else values
    bad = [(i, v) for i, v, m in zip(values.index, values, mapped, strict=True) if m not in ZONES]
    if bad:
        i, v = bad[0]
        raise ValueError(
            f"zone of district {i!r} is {v!r}, not one of {ZONES}; pass zone_map= mapping the "
            "column's values to zones"
        )
    return mapped.to_numpy(dtype=object)


def _contact_options(snap_km: Any, min_border_km: Any, connect: Any) -> float:
    """Check ``snap_km``, ``min_border_km`` and ``connect``; return the minimum border."""
    for name, value in (("snap_km", snap_km), ("min_border_km", min_border_km)):
        if value is None and name == "min_border_km":
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
            raise ValueError(
                f"{name} must be a number of km >= 0, got {value!r}; e.g. {name}=0.001 (1 m)"
            )
        if not np.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value!r}")
    if connect is not None and connect not in CONNECT:
        raise ValueError(
            f"connect must be None or one of {CONNECT}, got {connect!r}; connect='nearest' "
            "joins the pieces of a layer at their closest districts"
        )
    if min_border_km is None:
        return max(MIN_BORDER_KM, 10.0 * float(snap_km)) if snap_km > 0 else 0.0
    return float(min_border_km)


def _borders(
    geom: GeoSeries, snap: float, km_per_unit: float, min_border_km: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Neighbouring pairs ``(left, right)`` (row numbers) and their shared border in km.

    The border of two districts is the length of each one's boundary within
    ``snap`` (CRS units) of the other, the smaller of the two; with ``snap = 0``
    it is the length of boundary they share exactly (rook contiguity). Pairs whose border is not
    longer than ``min_border_km`` (corners) are dropped.
    """
    import shapely

    if snap > 0:
        left, right = geom.sindex.query(geom, predicate="dwithin", distance=snap)
    else:
        left, right = geom.sindex.query(geom, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    shapes = geom.to_numpy()
    # each district's reach: the land within snap of it (quad_segs=2: the round
    # corners of the buffer matter to a few mm of border per corner at 1 m)
    boundary = shapely.boundary(shapes)
    reach = shapely.buffer(shapes, snap, quad_segs=2) if snap > 0 else boundary
    one = shapely.length(shapely.intersection(boundary[left], reach[right]))
    other = shapely.length(shapely.intersection(boundary[right], reach[left]))
    border_km = np.minimum(one, other) * km_per_unit
    touching = border_km > min_border_km
    return left[touching], right[touching], border_km[touching]


def _pieces(G: nx.Graph, connect: str | None, shapes: GeoSeries) -> nx.Graph:
    """Join the layer's pieces (``connect="nearest"``) or warn that it has several."""
    if connect == "nearest":
        return connect_pieces(G, shapes=shapes.to_numpy())
    pieces = sorted(map(len, nx.connected_components(G)), reverse=True)
    if len(pieces) > 1:
        warnings.warn(
            f"the district layer falls into {len(pieces)} pieces that share no border "
            f"(sizes {pieces[:5]}{' ...' if len(pieces) > 5 else ''}): islands, or gaps wider "
            "than snap_km; a CityModel needs one piece, so pass connect='nearest' to join "
            "them with declared links (citizens travel them, pollution does not cross "
            "them), or a larger snap_km if the gaps are digitising errors",
            UserWarning,
            stacklevel=3,
        )
    return G


def from_districts(
    source: Any,
    *,
    id_column: str,
    population: str | None = None,
    zone: str | None = None,
    marginalisation: str | None = None,
    columns: Mapping[str, str] | None = None,
    table: Any = None,
    table_id: str | None = None,
    zone_map: Mapping[Any, str] | None = None,
    crs: Any = None,
    unit_km: float | None = None,
    snap_km: float = SNAP_KM,
    min_border_km: float | None = None,
    connect: str | None = None,
    name: str | None = None,
) -> nx.Graph:
    """A city with one node per district polygon.

    Parameters
    ----------
    source : geopandas.GeoDataFrame or os.PathLike
        Polygons; a path is read with :func:`geopandas.read_file`.
    id_column : str
        Column of unique district ids; they become the node ids.
    population, zone, marginalisation : str, optional
        Column (of the layer or of ``table``) giving that attribute.
        ``population`` is a residential weight (e.g. census residents);
        ``zone`` values must be zones or be mapped by ``zone_map``.
    columns : mapping of str to str, optional
        Further node attributes from columns, e.g. ``{"land_price": "HOVAL"}``.
    table : pandas.DataFrame or os.PathLike, optional
        Attribute table joined by district id (e.g. a census table).
    table_id : str, optional
        The table's id column; default ``id_column``.
    zone_map : mapping, optional
        Maps the zone column's values to :data:`~waste_harmony.city.ZONES`.
    crs : optional
        CRS to assume when the layer has none (e.g. ``"EPSG:3435"``).
    unit_km : float, optional
        For a layer without CRS in plain planar units: km per unit.
    snap_km : float, default :data:`SNAP_KM` (0.001 km = 1 m)
        Snapping tolerance: districts that come within this distance of each
        other are neighbours (closes digitising gaps and slivers); 0 asks for
        exactly touching boundaries.
    min_border_km : float, optional
        Minimum shared border of two neighbours, km; a shorter contact is a
        corner. Default ``max(MIN_BORDER_KM, 10 * snap_km)`` (10 m by default;
        0 when ``snap_km`` is 0, which gives exact rook contiguity).
    connect : {None, "nearest"}, default None
        ``"nearest"`` joins a layer in several pieces (islands, exclaves) with
        declared links between the districts of different pieces whose polygons
        come closest (the nearest shores)
        (:func:`~waste_harmony.city.connect_pieces`): citizens travel them,
        pollution does not cross them. ``None`` leaves the pieces apart, with
        a warning (a :class:`~waste_harmony.CityModel` needs one piece).
    name : str, optional
        ``G.graph["name"]``; default the file name.

    Returns
    -------
    networkx.Graph
        Nodes are the district ids with every node attribute, ``geometry_wkt``
        (polygon in km) and the layer's id; edges join districts sharing a
        border, with ``border_km`` (shared border length, within ``snap_km``)
        and ``length_km`` (centroid distance), plus the declared links of
        ``connect``. ``G.graph`` holds ``name``, ``crs`` and ``units = "km"``
        (so :func:`~waste_harmony.city.validate_city` trusts the unit even for
        a region hundreds of km wide). Missing attributes take the generators' expected
        values (:func:`~waste_harmony.city.generators.expected_attributes`):
        zone ``"residential"``, population proportional to area.

    Raises
    ------
    ImportError
        If the ``geo`` extra is not installed.
    ValueError
        On a layer without CRS (and no ``crs``/``unit_km``), a missing
        column, duplicate ids, non-polygon geometry, ids missing from the
        table, zones that are not zones, a negative ``snap_km`` or
        ``min_border_km``, or an unknown ``connect``.

    Warns
    -----
    UserWarning
        When the layer is in a geographic CRS (it is projected to UTM), or
        falls into several pieces and ``connect`` is None.

    Examples
    --------
    >>> import libpysal.examples
    >>> from waste_harmony.city import from_districts
    >>> G = from_districts(libpysal.examples.get_path("columbus.shp"),
    ...                    id_column="POLYID", unit_km=1.0)
    >>> G.number_of_nodes(), G.graph["units"]
    (49, 'km')
    """
    gpd = require_geo("from_districts")
    min_border_km = _contact_options(snap_km, min_border_km, connect)
    frame = _read_frame(source, gpd)
    if id_column not in frame.columns:
        raise ValueError(
            f"no id column {id_column!r} in the district layer; columns: "
            f"{[c for c in frame.columns if c != frame.geometry.name]}"
        )
    ids = pd.Index(frame[id_column])
    if ids.has_duplicates:
        raise ValueError(
            f"district ids in {id_column!r} must be unique; duplicated: "
            f"{ids[ids.duplicated()].tolist()[:10]}"
        )
    if frame.geometry.isna().any() or frame.geometry.is_empty.any():
        raise ValueError("some districts have no geometry; drop or repair them first")
    kinds = set(frame.geom_type)
    if not kinds <= {"Polygon", "MultiPolygon"}:
        raise ValueError(f"districts must be polygons, got geometry types {sorted(kinds)}")
    frame, km_per_unit, crs_text = _to_projected_km(frame, crs, unit_km)
    # the stubs type reset_index as a plain Series; on a GeoSeries it returns a GeoSeries
    geom = cast("GeoSeries", frame.geometry.reset_index(drop=True))
    if not geom.is_valid.all():
        geom = geom.make_valid()

    left, right, border_km = _borders(geom, snap_km / km_per_unit, km_per_unit, min_border_km)

    centroid = geom.centroid
    xy = np.column_stack([centroid.x, centroid.y]) * km_per_unit
    area = geom.area.to_numpy() * km_per_unit**2
    scaled = geom.affine_transform([km_per_unit, 0, 0, km_per_unit, 0, 0])

    data = _table_columns(frame, ids, table, table_id, id_column)
    zones = (
        _zones(_column(data, zone, "zone"), zone_map)
        if zone is not None
        else np.full(len(ids), "residential", dtype=object)
    )
    given: dict[str, np.ndarray] = {}
    mapping = dict(columns or {})
    for attr, col in (("population", population), ("marginalisation", marginalisation)):
        if col is not None:
            mapping[attr] = col
    for attr, col in mapping.items():
        if attr not in _NUMERIC:
            raise ValueError(f"columns: {attr!r} is not a numeric node attribute; use {_NUMERIC}")
        values = pd.to_numeric(_column(data, col, attr), errors="coerce").to_numpy(float)
        if not np.isfinite(values).all():
            bad = ids[~np.isfinite(values)][0]
            raise ValueError(f"{attr}: column {col!r} is missing or not a number for {bad!r}")
        given[attr] = values
    attrs = expected_attributes(xy, zones, area, given.get("marginalisation"))
    attrs.update(given)

    G: nx.Graph = nx.Graph(
        name=name
        or (os.path.basename(os.fspath(source)) if not hasattr(source, "crs") else "districts"),
        crs=crs_text or "",
        units="km",
    )
    node_ids = ids.tolist()
    wkt = scaled.to_wkt().tolist()
    for i, node in enumerate(node_ids):
        G.add_node(
            node,
            zone=str(zones[i]),
            pos=(float(xy[i, 0]), float(xy[i, 1])),
            geometry_wkt=wkt[i],
            **{a: float(attrs[a][i]) for a in _NUMERIC},
        )
    for a, b, km in zip(left.tolist(), right.tolist(), border_km.tolist(), strict=True):
        G.add_edge(
            node_ids[a],
            node_ids[b],
            border_km=km,
            length_km=float(np.hypot(*(xy[a] - xy[b]))),
        )
    return _pieces(G, connect, scaled)


def district_geometries(G: nx.Graph) -> gpd.GeoSeries:
    """The polygons of a city built by :func:`from_districts`, in km, by node.

    Parameters
    ----------
    G : networkx.Graph
        A city whose nodes carry ``geometry_wkt``.

    Returns
    -------
    geopandas.GeoSeries
        Indexed by node, coordinates in km (no CRS attached: divide nothing,
        multiply by 1000 to get ``G.graph["crs"]`` units in metres).

    Raises
    ------
    ValueError
        If a node has no ``geometry_wkt``.

    Examples
    --------
    >>> import libpysal.examples
    >>> from waste_harmony.city import from_districts
    >>> G = from_districts(libpysal.examples.get_path("columbus.shp"),
    ...                    id_column="POLYID", unit_km=1.0)
    >>> len(district_geometries(G))
    49
    """
    gpd = require_geo("district_geometries")
    wkt = dict(G.nodes(data="geometry_wkt"))
    missing = [n for n, w in wkt.items() if w is None]
    if missing:
        raise ValueError(f"node {missing[0]!r} has no 'geometry_wkt'; build it with from_districts")
    return gpd.GeoSeries.from_wkt(list(wkt.values()), index=list(wkt))
