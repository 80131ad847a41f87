"""Interactive visualisation of the city in the browser or Jupyter (Mesa's SolaraViz).

Needs the optional ``viz`` extra: ``pip install 'waste-harmony[viz]'`` (Solara and
Altair through Mesa's own ``viz`` extra). ``import waste_harmony`` never imports
this package.

- :func:`make_page` — the page for Jupyter: ``make_page(n_citizens=20_000)``;
- ``waste-harmony viz [RUNFILE]`` or ``python -m waste_harmony.viz [RUNFILE]`` — the
  same page served on localhost (:mod:`waste_harmony.viz.server`, started by
  :mod:`waste_harmony.cli.viz`);
- :func:`CityMap`, :func:`SeriesPanel`, :func:`CitySummary` — the components, usable in
  your own ``SolaraViz(model, components=[...])``;
- :func:`city_map_figure`, :func:`series_figure` — the underlying matplotlib figures.
"""

try:
    import mesa.visualization  # noqa: F401  (imports solara and altair)
    import solara  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
    raise ImportError(
        "waste_harmony.viz needs the optional visualisation dependencies (Solara, Altair), "
        f"which are not installed ({exc}). Install them with: "
        "pip install 'waste-harmony[viz]'"
    ) from exc

from waste_harmony.viz.app import (
    CITY_CHOICES,
    PARAMETER_CONTROLS,
    Page,
    VizCityModel,
    make_page,
    model_params,
    page_arguments,
    settings_of,
)
from waste_harmony.viz.components import CityMap, CitySummary, SeriesPanel
from waste_harmony.viz.figures import (
    DEFAULT_SERIES,
    MAP_VARIABLES,
    SERIES_VARIABLES,
    CityMapView,
    SeriesView,
    city_map_figure,
    colour_limits,
    festival_rows,
    node_values,
    series_figure,
)

__all__ = [
    "CITY_CHOICES",
    "DEFAULT_SERIES",
    "MAP_VARIABLES",
    "PARAMETER_CONTROLS",
    "SERIES_VARIABLES",
    "CityMap",
    "CityMapView",
    "CitySummary",
    "Page",
    "SeriesPanel",
    "SeriesView",
    "VizCityModel",
    "city_map_figure",
    "colour_limits",
    "festival_rows",
    "make_page",
    "model_params",
    "node_values",
    "page_arguments",
    "series_figure",
    "settings_of",
]
