"""The city graph: generators, loading, validation and zones.

A city is a plain undirected :class:`networkx.Graph` whose nodes are
neighbourhoods carrying the attributes of :data:`NODE_ATTRIBUTES`:

============================  =====================================================
``zone``                      one of :data:`ZONES` (``"green"`` is biodiverse)
``pos``                       ``(x, y)`` in km
``population``                relative residential weight, >= 0
``marginalisation``           deprivation index in [0, 1]
``biotech_access``            access to biotechnology in [0, 1]
``habitat``                   natural-habitat fraction of the area, in [0, 1]
``area_km2``                  area, km², > 0
``recycling_infrastructure``  quality of recycling collection in [0, 1]
``industrial_emission``       baseline emission, pollution units per day, >= 0
``land_price``                relative land price, >= 0
============================  =====================================================

Positions are in km; a graph can declare it with ``G.graph["units"] = "km"`` (the
GIS loaders do), and :func:`validate_city` then trusts it rather than guess the
unit. A city in several pieces (islands) is joined explicitly by
:func:`connect_pieces` (declared links that citizens travel and pollution does
not cross).

This is the lowest layer of the package: it depends only on NumPy, SciPy and
networkx. :func:`from_districts` (GIS polygons) and :func:`from_osm`
(OpenStreetMap streets) need the ``geo`` extra (geopandas, osmnx); they are
imported on first use, so ``import waste_harmony.city`` stays light.

Examples
--------
>>> from waste_harmony.city import default_city, validate_city, city_arrays
>>> G = default_city()
>>> validate_city(G)
>>> city_arrays(G)["adjacency"].shape
(100, 100)
"""

from typing import Any

from .arrays import city_arrays
from .generators import default_city, grid_city, organic_city
from .io import (
    SPRING_LAYOUT_MAX_NODES,
    from_graph,
    load_city,
    read_graphml,
    save_city,
    with_defaults,
)
from .pieces import connect_pieces, connector_links
from .validation import check_units, missing_node_hint, validate_city
from .zones import (
    ATTRIBUTE_DEFAULTS,
    BIODIVERSE_ZONE,
    DEFAULT_ZONE_SHARES,
    NODE_ATTRIBUTES,
    ZONE_DEFAULTS,
    ZONES,
)

__all__ = [
    "ATTRIBUTE_DEFAULTS",
    "BIODIVERSE_ZONE",
    "DEFAULT_ZONE_SHARES",
    "NODE_ATTRIBUTES",
    "SPRING_LAYOUT_MAX_NODES",
    "ZONES",
    "ZONE_DEFAULTS",
    "check_units",
    "city_arrays",
    "connect_pieces",
    "connector_links",
    "default_city",
    "district_geometries",
    "from_districts",
    "from_graph",
    "from_osm",
    "grid_city",
    "load_city",
    "missing_node_hint",
    "organic_city",
    "read_graphml",
    "save_city",
    "validate_city",
    "with_defaults",
]

_LAZY = {
    "from_districts": "geo",
    "district_geometries": "geo",
    "from_osm": "osm",
}


def __getattr__(name: str) -> Any:
    """Import the GIS loaders (``geo`` extra) only when they are first used."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
