"""Cities from GIS district polygons (needs the ``geo`` extra).

:func:`from_districts` turns a polygon layer (a GeoDataFrame or any file that
geopandas reads: GeoJSON, shapefile, GeoPackage) into a city graph: one node
per polygon, an edge between two polygons that share a border of positive
length (rook contiguity, found with geopandas' spatial index and shapely's
boundary intersection), positions at the centroids and areas from the
geometry. All geometry is measured in a projected CRS and expressed in km; a
geographic (lon/lat) layer is projected to its local UTM zone
(:meth:`geopandas.GeoDataFrame.estimate_utm_crs`) with a warning.

Positions are the projected coordinates divided into km (``x_km = x_m / 1000``),
so a node's ``pos`` times 1000 is its centroid in ``G.graph["crs"]``. Each
node keeps its polygon, in the same km coordinates, as WKT text in the node
attribute ``geometry_wkt`` (a string, so it survives GraphML);
:func:`district_geometries` turns it back into a GeoSeries.

References
----------
.. [1] Anselin, L. (1988). *Spatial Econometrics: Methods and Models*. Kluwer
   (rook and queen contiguity).
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
from .zones import NODE_ATTRIBUTES, ZONES

if TYPE_CHECKING:
    import geopandas as gpd
    from geopandas import GeoSeries

__all__ = ["GEO_EXTRA_HINT", "district_geometries", "from_districts", "require_geo"]

#: What to install when the ``geo`` extra is missing.
GEO_EXTRA_HINT = 'install the geo extra: pip install "waste-harmony[geo]"'

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
            raise ValueError(
                "the district layer has no CRS, so its units are unknown; pass crs= (e.g. "
                "crs='EPSG:3435' for Illinois State Plane feet) or, for a layer in plain "
                "planar units, unit_km= (the length of one coordinate unit in km)"
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
    name : str, optional
        ``G.graph["name"]``; default the file name.

    Returns
    -------
    networkx.Graph
        Nodes are the district ids with every node attribute, ``geometry_wkt``
        (polygon in km) and the layer's id; edges join districts sharing a
        border, with ``border_km`` (shared border length) and ``length_km``
        (centroid distance). ``G.graph`` holds ``name``, ``crs`` and
        ``units = "km"``. Missing attributes take the generators' expected
        values (:func:`~waste_harmony.city.generators.expected_attributes`):
        zone ``"residential"``, population proportional to area.

    Raises
    ------
    ImportError
        If the ``geo`` extra is not installed.
    ValueError
        On a layer without CRS (and no ``crs``/``unit_km``), a missing
        column, duplicate ids, non-polygon geometry, ids missing from the
        table, or zones that are not zones.

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

    # rook contiguity: candidates from the spatial index, kept when the shared
    # boundary has positive length (a single touching corner is not a border)
    left, right = geom.sindex.query(geom, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    boundary = geom.boundary
    shared = (
        boundary.iloc[left]
        .reset_index(drop=True)
        .intersection(boundary.iloc[right].reset_index(drop=True))
    )
    border_km = shared.length.to_numpy() * km_per_unit
    touching = border_km > 0.0
    left, right, border_km = left[touching], right[touching], border_km[touching]

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
    return G


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
