"""Matplotlib figures of the live city, used by the SolaraViz components.

These modules only need matplotlib (a core dependency), so they can be tested and
timed without a browser. They draw neighbourhood *aggregates* — one marker per node,
one :class:`~matplotlib.collections.LineCollection` for all streets — never one
marker per citizen, so a city of 1,000 nodes and 10^5 citizens redraws in a
fraction of a second. Node positions are the city's own ``pos`` attributes (km);
no layout is ever computed. One module per figure:

- :mod:`~waste_harmony.viz.figures.city_map` — :class:`CityMapView`, the map;
- :mod:`~waste_harmony.viz.figures.series_panel` — :class:`SeriesView`, the series;
- :mod:`~waste_harmony.viz.figures.canvas` — the cached (blitted) drawing both use.
"""

from waste_harmony.viz.figures.city_map import (
    COLOUR_SCALES,
    MAP_VARIABLES,
    CityMapView,
    MapVariable,
    city_map_figure,
    colour_limits,
    festival_rows,
    node_values,
)
from waste_harmony.viz.figures.series_panel import (
    DEFAULT_SERIES,
    MAX_EVENT_ROWS,
    SERIES_VARIABLES,
    SeriesView,
    event_rows,
    series_figure,
)

__all__ = [
    "COLOUR_SCALES",
    "DEFAULT_SERIES",
    "MAP_VARIABLES",
    "MAX_EVENT_ROWS",
    "SERIES_VARIABLES",
    "CityMapView",
    "MapVariable",
    "SeriesView",
    "city_map_figure",
    "colour_limits",
    "event_rows",
    "festival_rows",
    "node_values",
    "series_figure",
]
