"""City maps: neighbourhoods at their real positions, coloured by a variable.

A city with polygons (districts from :func:`~waste_harmony.city.from_districts`,
OSM cells from :func:`~waste_harmony.city.from_osm`: each node's ``geometry_wkt``,
in km) is drawn as a choropleth, one filled polygon per district; any other city
as points at their ``pos`` (km) sized by population, with streets as thin grey
lines. Either way the axes are in km and carry a scale bar. The marks follow
:mod:`waste_harmony.plotting.markers` (the same as the live viewer): the facility
site (from the event log) is a cross coloured by its status, the festival a star
where it was held, organism colonies (biomass at or above the colony threshold)
green triangles.

Polygons need shapely (the ``geo`` extra) to read the WKT; without it the map
falls back to points, with a warning naming the extra.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any, cast

import matplotlib as mpl
import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from mpl_toolkits.axes_grid1.anchored_artists import (  # type: ignore[import-untyped]
    AnchoredSizeBar,
)

from waste_harmony.docstrings import shared_sections
from waste_harmony.plotting._common import RunData, as_run, new_figure, pretty
from waste_harmony.plotting.markers import COLONY, FACILITY, FACILITY_STATUS_COLOURS, FESTIVAL

__all__ = [
    "RESIDENT_VARIABLES",
    "CityPolygons",
    "add_scale_bar",
    "city_polygons",
    "km_axes",
    "map_values",
    "plot_city_map",
    "plot_city_maps",
]

_FACILITY_KINDS = ("facility_proposed", "facility_built", "facility_withdrawn")
#: Neighbourhood variables that are shares of residents: undefined where nobody lives.
RESIDENT_VARIABLES = ("concern", "protest_share", "recycling_share", "biotech_adoption")


class CityPolygons:
    """The polygons of a city's nodes, ready for a :class:`~matplotlib.collections.PolyCollection`.

    Attributes
    ----------
    verts : list of numpy.ndarray
        Exterior rings (``(k, 2)`` arrays, km), one per polygon part, the larger
        parts first so that a district lying in another's hole is drawn on top.
    owner : numpy.ndarray
        Row (in the node order given) of each part: colours are ``values[owner]``.
    """

    def __init__(self, verts: list[np.ndarray], owner: np.ndarray) -> None:
        self.verts = verts
        self.owner = owner

    def colours(self, values: np.ndarray) -> np.ndarray:
        """Per-part values from per-node ``values``."""
        return np.asarray(values, dtype=np.float64)[self.owner]


def city_polygons(G: nx.Graph, nodes: Sequence[Any] | None = None) -> CityPolygons | None:
    """The node polygons of a city (``geometry_wkt``, km), or ``None`` if it has none.

    Parameters
    ----------
    G : networkx.Graph
        The city.
    nodes : sequence, optional
        Node order of ``owner`` (default: ``G.nodes``).

    Returns
    -------
    CityPolygons or None
        ``None`` when some node has no ``geometry_wkt``, or when shapely (the
        ``geo`` extra) is missing — then with a warning: the map shows points.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.Graph()
    >>> G.add_node("a", pos=(0.5, 0.5), geometry_wkt="POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0))")
    >>> polygons = city_polygons(G)
    >>> len(polygons.verts), polygons.owner.tolist()
    (1, [0])
    """
    order = list(G.nodes) if nodes is None else list(nodes)
    wkt = [G.nodes[n].get("geometry_wkt") for n in order]
    if not order or any(not isinstance(w, str) or not w for w in wkt):
        return None
    try:
        import shapely
    except ImportError:
        warnings.warn(
            "the city has polygons (geometry_wkt) but shapely is not installed, so the map "
            'shows points; install the geo extra: pip install "waste-harmony[geo]"',
            UserWarning,
            stacklevel=3,
        )
        return None
    parts: list[tuple[float, int, np.ndarray]] = []
    for row, shape in enumerate(shapely.from_wkt(wkt)):
        for part in getattr(shape, "geoms", [shape]):
            ring = np.asarray(part.exterior.coords, dtype=np.float64)[:, :2]
            parts.append((float(part.area), row, ring))
    parts.sort(key=lambda p: -p[0])
    return CityPolygons([p[2] for p in parts], np.array([p[1] for p in parts], dtype=np.int64))


def _scale_length(span_km: float) -> float:
    """A round length (1, 2 or 5 × 10^k km) of about a fifth of ``span_km``."""
    raw = max(span_km, 1e-6) / 5.0
    power = 10.0 ** math.floor(math.log10(raw))
    return max(f * power for f in (1.0, 2.0, 5.0) if f * power <= raw * (1 + 1e-9))


def add_scale_bar(ax: Axes, *, loc: str = "lower left") -> AnchoredSizeBar:
    """Add a scale bar (a round number of km) to a map whose data are in km.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        A map in km (call after the data are drawn, so the limits are known).
    loc : str
        Where, as for a legend.

    Returns
    -------
    mpl_toolkits.axes_grid1.anchored_artists.AnchoredSizeBar
        The bar; its gid is ``"scale-bar"``.

    Examples
    --------
    >>> import matplotlib.figure
    >>> ax = matplotlib.figure.Figure().add_subplot()
    >>> ax.set_xlim(0, 12)
    (0.0, 12.0)
    >>> add_scale_bar(ax).get_gid()
    'scale-bar'
    """
    low, high = ax.get_xlim()
    length = _scale_length(abs(high - low))
    text = f"{length:g} km" if length >= 1 else f"{length * 1000:g} m"
    bar = AnchoredSizeBar(
        ax.transData,
        length,
        text,
        loc,
        pad=0.4,
        borderpad=0.5,
        sep=3,
        frameon=True,
        size_vertical=0,
        fontproperties={"size": 7},
    )
    bar.patch.set_alpha(0.7)
    bar.patch.set_edgecolor("none")
    bar.set_gid("scale-bar")
    ax.add_artist(bar)
    return bar


def km_axes(ax: Axes) -> None:
    """Label a map's axes in km and keep the aspect equal.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The map.
    """
    ax.set_aspect("equal")
    ax.set_xlabel("x (km)", fontsize=8)
    ax.set_ylabel("y (km)", fontsize=8)
    ax.tick_params(labelsize=7)


def _checked(data: RunData) -> RunData:
    if data.city is None:
        raise ValueError(
            "this run carries no city graph; pass a CityModel, or results "
            "saved with their city (RunResult.save writes city.graphml)"
        )
    return data


def _city(data: RunData) -> nx.Graph:
    G = _checked(data).city
    assert G is not None  # checked above
    return G


def map_values(run: Any, variable: str = "pollution", *, day: int | None = None) -> pd.DataFrame:
    """Per-node data a map draws on one day: position, value, population, colony flag.

    Parameters
    ----------
    run : CityModel, RunResult or results folder
        A run with a city graph and per-neighbourhood series (or a static node
        attribute of the city, such as ``marginalisation``, as ``variable``).
    variable : str
        Neighbourhood variable (see ``neighborhood_frame()``) or node attribute.
    day : int, optional
        Day to show (default: the last recorded day).

    Returns
    -------
    pandas.DataFrame
        Indexed by node (in graph order): ``x``, ``y``, ``value``, ``population``,
        ``colony``. Shares of residents (:data:`RESIDENT_VARIABLES`) are NaN where
        nobody lives (drawn grey).

    Raises
    ------
    ValueError
        If the run has no city, the variable is unknown, or the day was not recorded.

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> from waste_harmony.city import grid_city
    >>> model = CityModel(grid_city(3, 3, seed=0), n_citizens=90, rng=0)
    >>> model.run_for(2)
    >>> values = map_values(model, "concern", day=2)
    >>> len(values), list(values.columns)
    (9, ['x', 'y', 'value', 'population', 'colony'])
    """
    data = _checked(as_run(run))
    G = _city(data)
    nodes = list(G.nodes)
    xy = np.array([G.nodes[n]["pos"] for n in nodes], dtype=np.float64).reshape(-1, 2)
    hoods = data.neighborhood_frame
    static = {n: G.nodes[n].get(variable) for n in nodes}
    # tupleize_cols=False: tuple node ids (nx.grid_2d_graph) stay one level of ids
    index = pd.Index(nodes, name="node", dtype=object, tupleize_cols=False)
    out = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1]}, index=index)
    if hoods is not None and len(hoods):
        days = hoods["day"].to_numpy()
        chosen = int(days.max()) if day is None else int(day)
        today = hoods[days == chosen]
        if today.empty:
            raise ValueError(
                f"day {chosen} was not recorded; days run from {int(days.min())} "
                f"to {int(days.max())}"
            )
        # match rows by node id itself (int, str or tuple; 1 and "1" are different nodes)
        row_of = {node: i for i, node in enumerate(today["node"])}
        today = today.iloc[[row_of[n] for n in nodes]]
        if variable in today.columns:
            out["value"] = today[variable].to_numpy(dtype=np.float64)
        elif all(v is not None for v in static.values()):
            out["value"] = np.array([float(static[n]) for n in nodes])  # type: ignore[arg-type]
        else:
            choices = [c for c in today.columns if c not in ("day", "node", "zone")]
            raise ValueError(
                f"unknown neighbourhood variable {variable!r}; choose from: {', '.join(choices)}"
            )
        out["population"] = today["population"].to_numpy(dtype=np.float64)
        if variable in RESIDENT_VARIABLES:
            out.loc[out["population"].to_numpy() == 0, "value"] = np.nan
        out["colony"] = today["organism_biomass"].to_numpy() >= data.colony_kg
        return out
    if any(v is None for v in static.values()):
        raise ValueError(
            f"{variable!r} is not a node attribute and the run recorded no "
            "neighbourhood series (record_neighborhoods=True)"
        )
    out["value"] = np.array([float(static[n]) for n in nodes])  # type: ignore[arg-type]
    out["population"] = np.array([float(G.nodes[n].get("population", 1.0)) for n in nodes])
    out["colony"] = False
    return out


def _facility(data: RunData, day: int | None) -> tuple[Any, str] | None:
    events = data.events
    if events is None or len(events) == 0:
        return None
    rows = events[events["kind"].isin(_FACILITY_KINDS)]
    if day is not None:
        rows = rows[rows["day"] <= day]
    if rows.empty:
        return None
    last = rows.iloc[-1]
    return last["node"], str(last["kind"]).removeprefix("facility_")


def _festival(data: RunData, day: int | None) -> list[Any]:
    """Nodes where a festival was held up to ``day`` (from the event log)."""
    events = data.events
    if events is None or len(events) == 0:
        return []
    rows = events[events["kind"] == "festival"]
    if day is not None:
        rows = rows[rows["day"] <= day]
    return list(dict.fromkeys(n for n in rows["node"].tolist() if n is not None))


def _draw_map(
    ax: Axes,
    data: RunData,
    values: pd.DataFrame,
    variable: str,
    day: int | None,
    norm: Any,
    cmap: str,
    show_edges: bool,
    node_size: float,
) -> Any:
    G = _city(data)
    index = {n: i for i, n in enumerate(values.index)}
    xy = values[["x", "y"]].to_numpy()
    colours = mpl.colormaps[cmap].with_extremes(bad="0.85")
    polygons = city_polygons(G, list(values.index))
    nodes: Any
    if polygons is not None:
        nodes = PolyCollection(
            polygons.verts,
            array=polygons.colours(values["value"].to_numpy()),
            cmap=colours,
            norm=norm,
            edgecolors="white",
            linewidths=0.4,
            zorder=1,
            gid="districts",
        )
        ax.add_collection(nodes)
    else:
        if show_edges and G.number_of_edges():
            segments = [(xy[index[u]], xy[index[v]]) for u, v in G.edges]
            ax.add_collection(
                LineCollection(segments, colors="0.8", linewidths=0.6, zorder=1, gid="streets")
            )
        population = values["population"].to_numpy()
        scale = population.max() if population.max() > 0 else 1.0
        sizes = node_size * (0.15 + population / scale)
        nodes = ax.scatter(
            xy[:, 0],
            xy[:, 1],
            c=values["value"].to_numpy(),
            s=sizes,
            cmap=colours,
            plotnonfinite=True,
            norm=norm,
            edgecolors="0.3",
            linewidths=0.3,
            zorder=2,
            gid="nodes",
        )
    colonies = values["colony"].to_numpy()
    if colonies.any():
        ax.scatter(
            xy[colonies, 0],
            xy[colonies, 1],
            **COLONY.scatter_kwargs(),
            zorder=3,
            gid="colonies",
            label="organism colony",
        )
    held = [index[n] for n in _festival(data, day) if n in index]
    if held:
        ax.scatter(
            xy[held, 0],
            xy[held, 1],
            **FESTIVAL.scatter_kwargs(s=node_size * 2.5),
            zorder=4,
            gid="festival",
            label="festival",
        )
    site = _facility(data, day)
    if site is not None and site[0] in index:
        x, y = xy[index[site[0]]]
        ax.scatter(
            [x],
            [y],
            **FACILITY.scatter_kwargs(
                s=node_size * 2.5, facecolors=FACILITY_STATUS_COLOURS.get(site[1], "black")
            ),
            zorder=5,
            gid="facility",
            label=f"facility ({site[1]})",
        )
    ax.autoscale_view()
    km_axes(ax)
    add_scale_bar(ax)
    ax.set_title(
        f"{pretty(variable)}, day {day}" if day is not None else pretty(variable), fontsize=9
    )
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower right", fontsize=7, markerscale=0.5, framealpha=0.8)
    return nodes


def _norm(low: float, high: float, scale: str) -> Any:
    if scale == "log":
        top = high if high > 0 else 1.0
        bottom = max(low, top * 1e-3)
        return mpl.colors.LogNorm(vmin=bottom, vmax=max(top, bottom * 1.001), clip=True)
    if scale != "linear":
        raise ValueError(f"scale must be 'linear' or 'log', got {scale!r}")
    return mpl.colors.Normalize(vmin=low, vmax=high if high > low else low + 1e-9)


def _last_day(data: RunData) -> int | None:
    hoods = data.neighborhood_frame
    return int(hoods["day"].max()) if hoods is not None and len(hoods) else None


@shared_sections
def plot_city_map(
    run: Any,
    variable: str = "pollution",
    *,
    day: int | None = None,
    ax: Axes | None = None,
    cmap: str = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
    scale: str = "linear",
    colorbar: bool = True,
    show_edges: bool = True,
    node_size: float = 80.0,
) -> Figure:
    """Map of the city on one day, coloured by a neighbourhood variable.

    Parameters
    ----------
    run : CityModel, RunResult or results folder
        The run (with its city graph).
    variable : str
        Neighbourhood variable or node attribute (default ``"pollution"``).
    day : int, optional
        Day to show (default: the last recorded day).
    ax : matplotlib.axes.Axes, optional
        Draw into this axes.
    cmap : str
        Colour map.
    vmin, vmax : float, optional
        Colour scale limits.
    scale : {"linear", "log"}
        Colour scale (``"log"`` suits skewed variables such as pollution).
    colorbar : bool
        Add a colour bar.
    show_edges : bool
        Draw the streets (maps of points; a map of polygons shows their borders).
    node_size : float
        Marker area (points²) of the most populous node.

    {figure_returns}

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> from waste_harmony.city import grid_city
    >>> model = CityModel(grid_city(4, 4, seed=0), n_citizens=160, rng=0)
    >>> model.run_for(3)
    >>> fig = plot_city_map(model, "concern")
    >>> fig.axes[0].get_title()
    'concern, day 3'
    """
    data = _checked(as_run(run))
    day = _last_day(data) if day is None else day
    values = map_values(data, variable, day=day)
    norm = _norm(
        float(np.nanmin(values["value"])) if vmin is None else vmin,
        float(np.nanmax(values["value"])) if vmax is None else vmax,
        scale,
    )
    if ax is None:
        _, axes = new_figure(1, 1, figsize=(5.2, 4.6))
        ax = axes[0, 0]
    nodes = _draw_map(ax, data, values, variable, day, norm, cmap, show_edges, node_size)
    if colorbar:
        ax.figure.colorbar(nodes, ax=ax, label=pretty(variable), shrink=0.85)
    return cast(Figure, ax.figure)


def plot_city_maps(
    run: Any,
    variable: str = "pollution",
    days: Sequence[int] | None = None,
    *,
    ncols: int = 4,
    cmap: str = "viridis",
    scale: str = "linear",
    show_edges: bool = True,
    node_size: float = 50.0,
) -> Figure:
    """Small multiples of the city map at chosen days, on one shared colour scale.

    Parameters
    ----------
    run : CityModel, RunResult or results folder
        The run.
    variable : str
        Neighbourhood variable.
    days : sequence of int, optional
        Days to show (default: four days spread over the run).
    ncols : int
        Maps per row.
    cmap : str
        Colour map.
    scale : {"linear", "log"}
        Colour scale, shared by all maps.
    show_edges : bool
        Draw the streets (maps of points; a map of polygons shows their borders).
    node_size : float
        Marker area of the most populous node.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (one axes per day, then the colour bar).

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> from waste_harmony.city import grid_city
    >>> model = CityModel(grid_city(3, 3, seed=0), n_citizens=90, rng=0)
    >>> model.run_for(6)
    >>> fig = plot_city_maps(model, "pollution", days=[1, 6])
    >>> [a.get_title() for a in fig.axes[:2]]
    ['pollution, day 1', 'pollution, day 6']
    """
    data = _checked(as_run(run))
    if days is None:
        last = _last_day(data)
        if last is None:
            raise ValueError(
                "the run recorded no neighbourhood series; pass days= for a map "
                "of a node attribute, or record neighbourhoods"
            )
        days = sorted({int(d) for d in np.linspace(1, last, num=min(4, last))})
    days = list(days)
    if not days:
        raise ValueError("days is empty; pass at least one day")
    tables = [map_values(data, variable, day=d) for d in days]
    low = min(float(np.nanmin(t["value"])) for t in tables)
    high = max(float(np.nanmax(t["value"])) for t in tables)
    norm = _norm(low, high, scale)
    ncols = max(1, min(ncols, len(days)))
    nrows = -(-len(days) // ncols)
    fig, axes = new_figure(nrows, ncols, figsize=(3.3 * ncols + 0.8, 3.1 * nrows + 0.3))
    nodes = None
    for i, ax in enumerate(axes.flat):
        if i >= len(days):
            ax.set_visible(False)
            continue
        nodes = _draw_map(ax, data, tables[i], variable, days[i], norm, cmap, show_edges, node_size)
    if nodes is not None:  # at least one day was drawn
        fig.colorbar(nodes, ax=axes, label=pretty(variable), shrink=0.8)
    return fig
