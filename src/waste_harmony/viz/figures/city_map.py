"""The live city map: neighbourhoods coloured by a variable, with the story's marks.

Drawn with matplotlib only (no Solara), one marker per node — never one per citizen
— and one :class:`~matplotlib.collections.LineCollection` for all streets, so a city
of 1,000 nodes and 10^5 citizens redraws in a fraction of a second. Node positions
are the city's own ``pos`` attributes (km); no layout is ever computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

import numpy as np
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure

from waste_harmony.docstrings import shared_sections
from waste_harmony.plotting.maps import add_scale_bar, city_polygons
from waste_harmony.plotting.markers import (
    COLONY,
    FACILITY,
    FACILITY_STATUS_COLOURS,
    FESTIVAL,
    PROTEST,
    Marker,
    legend_handle,
)
from waste_harmony.viz.figures.canvas import BlitCanvas, LiveFigure

if TYPE_CHECKING:
    from waste_harmony.model import CityModel

__all__ = [
    "COLOUR_SCALES",
    "MAP_VARIABLES",
    "CityMapView",
    "MapVariable",
    "agent_rows",
    "city_map_figure",
    "colour_limits",
    "festival_rows",
    "node_values",
    "own_marked_types",
]


@dataclass(frozen=True)
class MapVariable:
    """A neighbourhood variable the city map can be coloured by.

    Parameters
    ----------
    label : str
        Human-readable name.
    unit : str
        Unit shown on the colour bar.
    cmap : str
        Matplotlib colour map.
    bounded : bool
        ``True`` for shares in [0, 1] (the fixed colour scale is 0–1);
        ``False`` for quantities (the fixed scale is 0 to today's maximum).
    """

    label: str
    unit: str
    cmap: str
    bounded: bool


#: Variables the map can be coloured by: key → :class:`MapVariable`.
MAP_VARIABLES: dict[str, MapVariable] = {
    "concern": MapVariable("concern (mean of residents)", "0–1", "magma_r", True),
    "pollution": MapVariable("air pollution", "µg/m³", "YlOrBr", False),
    "waste_stock_kg": MapVariable("waste stock", "kg", "copper_r", False),
    "habitat": MapVariable("habitat", "share of area", "Greens", True),
    "biotech_access": MapVariable("biotech access", "0–1", "PuBu", True),
    "organism_biomass": MapVariable("organism biomass", "kg", "BuGn", False),
    "protest_share": MapVariable("protesting", "share of residents", "Reds", True),
}

#: Colour scales of the map: ``"auto"`` follows today's values, ``"fixed"`` is the
#: variable's full range (0–1 for shares, 0 to today's maximum otherwise).
COLOUR_SCALES = ("auto", "fixed")
_RESIDENT_MEANS = ("concern", "protest_share")


@shared_sections
def node_values(model: CityModel, variable: str) -> np.ndarray:
    """Today's value of a map variable at every node, in ``model.node_ids`` order.

    Citizen variables are aggregated by home node with :func:`numpy.bincount`
    (mean over residents; 0 where nobody lives).

    Parameters
    ----------
    {model_parameter}
    variable : str
        A key of :data:`MAP_VARIABLES`.

    Returns
    -------
    numpy.ndarray
        One value per node.

    Raises
    ------
    ValueError
        For an unknown variable (the message lists the valid ones).

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> model = CityModel(n_citizens=200, rng=1)
    >>> node_values(model, "habitat").shape
    (100,)
    """
    if variable not in MAP_VARIABLES:
        raise ValueError(
            f"unknown map variable {variable!r}; choose one of {', '.join(MAP_VARIABLES)}"
        )
    if variable == "concern":
        return model.resident_mean(model.citizens.concern)
    if variable == "protest_share":
        return model.resident_mean(model.citizens.protesting)
    return np.asarray(getattr(model.neighborhoods, variable), dtype=np.float64)


def _geometry(model: CityModel) -> tuple[np.ndarray, np.ndarray]:
    """Node positions (n, 2) and street segments (e, 2, 2), cached on the model."""
    cached = getattr(model, "_viz_geometry", None)
    if cached is not None:
        return cached
    graph = model.city
    xy = np.array([graph.nodes[n]["pos"] for n in model.node_ids], dtype=np.float64)
    upper = model.adjacency.tocoo()
    keep = upper.row < upper.col
    segments = np.stack([xy[upper.row[keep]], xy[upper.col[keep]]], axis=1)
    setattr(model, "_viz_geometry", (xy, segments))  # noqa: B010  (cache on the model)
    return xy, segments


def _marker_sizes(model: CityModel) -> np.ndarray:
    """Marker areas (pt²) ∝ residents, scaled so the city stays readable at any size."""
    residents = model.residents
    target = 9000.0 / max(model.n_nodes, 1)  # mean marker area shrinks with node count
    mean = residents.mean() if residents.size and residents.mean() > 0 else 1.0
    return np.clip(residents / mean * target, 4.0, 12 * target)


@shared_sections
def festival_rows(model: CityModel) -> np.ndarray:
    """Rows (in ``model.node_ids`` order) where the festival is held.

    Read from the run itself: the nodes of the ``festival`` events logged so far and,
    before the first festival, the festival ground each installed festival scenario
    chose (its ``plaza_rows_``; e.g. ``HarmonyFestival(plaza=0)`` → node 0, a city
    without a plaza zone → its most central node). Empty without a festival.

    Parameters
    ----------
    {model_parameter}

    Returns
    -------
    numpy.ndarray
        Sorted unique row indices.

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> from waste_harmony.scenarios import HarmonyFestival
    >>> model = CityModel(n_citizens=300, scenarios=[HarmonyFestival(plaza=0)], rng=1)
    >>> festival_rows(model).tolist()
    [0]
    >>> festival_rows(CityModel(n_citizens=300, rng=1)).tolist()
    []
    """
    rows = [
        model.node_index(e.node) for e in model.event_log.of_kind("festival") if e.node is not None
    ]
    for scenario in model.scenarios:
        ground = getattr(scenario, "plaza_rows_", None)
        if ground is not None:
            rows.extend(int(r) for r in np.atleast_1d(ground))
    return np.unique(np.asarray(rows, dtype=np.int64))


def own_marked_types(model: CityModel) -> list[type]:
    """The model's agent types that are not built in and carry a ``marker`` to draw them.

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> own_marked_types(CityModel(n_citizens=10, rng=0))
    []
    """
    return [
        cls
        for cls in model.agents_by_type
        if isinstance(getattr(cls, "marker", None), Marker)
        and not cls.__module__.startswith("waste_harmony.")
    ]


@shared_sections
def agent_rows(model: CityModel, agent_class: type) -> np.ndarray:
    """Node rows of the cells of every agent of ``agent_class`` that stands on one.

    Parameters
    ----------
    {model_parameter}
    agent_class : type
        A Mesa agent class.

    Returns
    -------
    numpy.ndarray of int
        One row per agent with a cell on the city (agents without one are skipped).
    """
    rows = []
    for agent in model.agents_by_type.get(agent_class, ()):
        cell = getattr(agent, "cell", None)
        if cell is not None:
            rows.append(model.node_index(cell.coordinate))
    return np.asarray(rows, dtype=np.int64)


def _nice_step(span: float) -> float:
    """A 1-2-5 step giving about twenty steps over ``span``."""
    raw = max(span, 1e-12) / 20.0
    power = 10.0 ** np.floor(np.log10(raw))
    for factor in (1.0, 2.0, 5.0, 10.0):
        if raw <= factor * power:
            return float(factor * power)
    return float(10 * power)  # pragma: no cover


def colour_limits(values: np.ndarray, variable: str, scale: str = "auto") -> tuple[float, float]:
    """The colour range of the map for today's ``values``.

    ``"auto"`` (the default) follows the data: today's minimum and maximum, widened
    to a round step (about a twentieth of the span) so the scale is stable from day to
    day and values such as concern 0.38–0.65 use the whole colour map. ``"fixed"``
    is the variable's full range: 0–1 for shares, 0 to today's maximum otherwise.

    Parameters
    ----------
    values : numpy.ndarray
        Today's node values.
    variable : str
        A key of :data:`MAP_VARIABLES`.
    scale : {"auto", "fixed"}
        The colour scale.

    Returns
    -------
    tuple of float
        ``(vmin, vmax)`` with ``vmin < vmax``.

    Raises
    ------
    ValueError
        For an unknown scale.

    Examples
    --------
    >>> colour_limits(np.array([0.38, 0.5, 0.65]), "concern")
    (0.38, 0.66)
    >>> colour_limits(np.array([0.38, 0.5, 0.65]), "concern", "fixed")
    (0.0, 1.0)
    """
    if scale not in COLOUR_SCALES:
        raise ValueError(
            f"unknown colour scale {scale!r}; choose one of {', '.join(COLOUR_SCALES)}"
        )
    spec = MAP_VARIABLES[variable]
    finite = values[np.isfinite(values)]
    top = float(finite.max()) if finite.size else 0.0
    if scale == "fixed":
        return (0.0, 1.0) if spec.bounded else (0.0, max(top, 1e-9))
    bottom = float(finite.min()) if finite.size else 0.0
    step = _nice_step(top - bottom if top > bottom else max(abs(top), 1.0) * 0.1)
    low = np.floor(bottom / step + 1e-9) * step
    high = np.ceil(top / step - 1e-9) * step
    if high <= low:
        high = low + step
    if spec.bounded:
        low, high = max(low, 0.0), min(high, 1.0) if high - low > step / 2 else high
    return round(float(low), 12), round(float(high), 12)


class CityMapView(LiveFigure):
    r"""The live city map: one figure per model, updated in place every day.

    The streets, axes, colour bar and legend are drawn once (a new colour range or
    variable redraws only the colour bar); the neighbourhood markers, protests,
    colonies, festival and facility are updated with ``set_offsets``/``set_array``
    and blitted on top. A city with polygons (``geometry_wkt``, e.g. from
    :func:`~waste_harmony.city.from_districts`; needs shapely) is drawn as one
    :class:`~matplotlib.collections.PolyCollection` of districts (gid
    ``city-polygons``) recoloured in place with ``set_array``; its node markers are
    then hidden and the marks sit at the centroids. Axes are in km, with a scale bar.

    Parameters
    ----------
    model : CityModel
        The model (its geometry is fixed for the view's life).
    figsize : tuple of float
        Figure size in inches.
    title : bool
        Title the map with the day and variable (``False`` for a page that shows the
        day itself: a new title each day is a third of a frame's drawing time).

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> view = CityMapView(CityModel(n_citizens=200, rng=1))
    >>> view.update(view.model, "concern").image("png")[:4]
    b'\x89PNG'
    """

    def __init__(
        self, model: CityModel, *, figsize: tuple[float, float] = (6.4, 6.0), title: bool = True
    ) -> None:
        self.model = model
        xy, segments = _geometry(model)
        self.xy = xy
        fig = Figure(figsize=figsize)
        # Fixed axes instead of a layout engine: constrained layout doubles the draw time.
        ax = fig.add_axes((0.1, 0.16, 0.72, 0.77))
        cax = fig.add_axes((0.85, 0.25, 0.025, 0.6))
        ax.add_collection(
            LineCollection(list(segments), colors="#c8c8c8", linewidths=0.6, zorder=1)
        )
        x0, y0 = np.empty(0), np.empty(0)
        self.nodes = ax.scatter(
            xy[:, 0], xy[:, 1], c=np.zeros(len(xy)), edgecolors="#555555", linewidths=0.3, zorder=2
        )
        self.nodes.set_gid("city-nodes")
        self.polygons = city_polygons(model.city, model.node_ids)
        self.districts: PolyCollection | None = None
        if self.polygons is not None:
            self.districts = PolyCollection(
                self.polygons.verts,
                array=np.zeros(len(self.polygons.verts)),
                edgecolors="white",
                linewidths=0.4,
                zorder=0.5,
            )
            self.districts.set_gid("city-polygons")
            ax.add_collection(self.districts)
            self.nodes.set_visible(False)
        self.protests: Any = ax.scatter(x0, y0, **PROTEST.scatter_kwargs(), zorder=3)
        self.protests.set_gid("protests")
        self.colonies = ax.scatter(x0, y0, **COLONY.scatter_kwargs(), zorder=4)
        self.colonies.set_gid("colonies")
        self.festival = ax.scatter(x0, y0, **FESTIVAL.scatter_kwargs(), zorder=5)
        self.festival.set_gid("festival")
        self.facility: Any = ax.scatter(x0, y0, **FACILITY.scatter_kwargs(), zorder=6)
        self.facility.set_gid("facility")
        # A study's own agent types that say how to draw them (a class attribute
        # ``marker``, a plotting.markers.Marker), at their cells' nodes.
        self.own: dict[type, Any] = {}
        for cls in own_marked_types(model):
            mark: Marker = cls.marker  # type: ignore[attr-defined]
            self.own[cls] = ax.scatter(x0, y0, **mark.scatter_kwargs(), zorder=7)
            self.own[cls].set_gid(f"agents:{cls.__name__}")
        self.coloured: Any = self.districts if self.districts is not None else self.nodes
        self.bar = fig.colorbar(self.coloured, cax=cax)
        handles = [legend_handle(PROTEST), legend_handle(COLONY)]
        handles += [legend_handle(cls.marker) for cls in self.own]  # type: ignore[attr-defined]
        if festival_rows(model).size or any(hasattr(s, "plaza_rows_") for s in model.scenarios):
            handles.append(legend_handle(FESTIVAL))
        handles += [
            legend_handle(FACILITY, f"facility {status}", face=colour)
            for status, colour in FACILITY_STATUS_COLOURS.items()
        ]
        fig.legend(
            handles=handles,
            loc="lower center",
            bbox_to_anchor=(0.46, 0.0),
            ncols=3,
            fontsize=8,
            frameon=False,
        )
        ax.set_aspect("equal")
        ax.autoscale_view()
        ax.set_xlabel("x (km)")
        ax.set_ylabel("y (km)")
        add_scale_bar(ax)
        self.title = ax.set_title("", fontsize=11)
        self.title.set_visible(title)
        self.fig, self.ax = fig, ax
        self.counts: dict[str, int] = {}
        self._canvas = BlitCanvas(
            fig,
            [
                *([self.districts] if self.districts is not None else []),
                self.nodes,
                self.protests,
                self.colonies,
                self.festival,
                self.facility,
                *self.own.values(),
                self.title,
            ],
            cells={"colour bar": [cax]},
        )
        self._key: Any = None

    @shared_sections
    def update(self, model: CityModel, variable: str = "concern", scale: str = "auto") -> Self:
        """Show today's state of ``model`` (the view's model or a rebuilt one on the same city).

        Parameters
        ----------
        {model_parameter}
        variable : str
            A key of :data:`MAP_VARIABLES`.
        scale : {"auto", "fixed"}
            The colour scale (:func:`colour_limits`).

        Returns
        -------
        CityMapView
            ``self``.
        """
        values = node_values(model, variable)
        spec = MAP_VARIABLES[variable]
        # where nobody lives a resident mean is a placeholder 0: leave it out of the scale
        lived = values[model.residents > 0] if variable in _RESIDENT_MEANS else values
        vmin, vmax = colour_limits(lived if lived.size else values, variable, scale)
        if self._key is not None and self._key[:2] == (variable, scale):
            # keep yesterday's range while today's data still fill most of it: a new
            # colour bar means a full redraw
            old_min, old_max = self._key[2:]
            if old_min <= vmin and vmax <= old_max and vmax - vmin >= 0.7 * (old_max - old_min):
                vmin, vmax = old_min, old_max
        xy = self.xy
        sizes = _marker_sizes(model)
        self.nodes.set_array(values)
        self.nodes.set_sizes(sizes)
        if self.districts is not None and self.polygons is not None:
            self.districts.set_array(self.polygons.colours(values))
        if self._key != (variable, scale, vmin, vmax):  # the colour bar redraws on any change
            for coloured in (self.nodes, self.districts):
                if coloured is not None:
                    coloured.set_cmap(spec.cmap)
                    coloured.set_clim(vmin, vmax)
            self.bar.set_label(f"{spec.label} ({spec.unit})")
        protest = model.resident_mean(model.citizens.protesting)
        on = protest > 0
        self.protests.set_offsets(xy[on])
        self.protests.set_sizes(sizes[on] * 2.2)
        self.protests.set_linewidths(0.8 + 3.0 * protest[on])
        colonies = np.flatnonzero(
            model.neighborhoods.organism_biomass >= model.params.organism_colony_kg
        )
        self.colonies.set_offsets(xy[colonies])
        festival = festival_rows(model)
        self.festival.set_offsets(xy[festival])
        self.festival.set_sizes([float(np.clip(6 * sizes.mean(), 60, 260))])
        sites = [f for f in model.corporations if f.site is not None]
        self.facility.set_offsets(xy[[f.site for f in sites if f.site is not None]].reshape(-1, 2))
        self.facility.set_facecolors(
            [FACILITY_STATUS_COLOURS.get(f.status, "black") for f in sites] or "none"
        )
        self.title.set_text(f"Day {model.day}: {spec.label}")
        self.counts = {
            "protest": int(on.sum()),
            "colony": int(colonies.size),
            "festival": int(festival.size),
            "facility": len(sites),
        }
        for cls, marks in self.own.items():
            rows = agent_rows(model, cls)
            marks.set_offsets(xy[rows].reshape(-1, 2))
            self.counts[cls.__name__] = int(rows.size)
        self._key = (variable, scale, vmin, vmax)
        return self

    def _background_keys(self) -> tuple[Any, dict[str, Any]]:
        """A full draw only once; a new colour range redraws just the colour bar's cell."""
        return None, {"colour bar": self._key}


@shared_sections
def city_map_figure(
    model: CityModel,
    variable: str = "concern",
    *,
    scale: str = "auto",
    figsize: tuple[float, float] = (6.4, 6.0),
) -> Figure:
    """The city at its real node positions, neighbourhoods coloured by ``variable``.

    Marker area is proportional to residents; the marks follow
    :mod:`waste_harmony.plotting.markers`: the facility site (cross, coloured by
    status), the festival ground where the festival is actually held
    (:func:`festival_rows`; star), organism colonies (green triangles) and protests
    (red rings, width ∝ share protesting). The node markers carry the gid
    ``city-nodes``.

    Parameters
    ----------
    {model_parameter}
    variable : str
        A key of :data:`MAP_VARIABLES`.
    scale : {"auto", "fixed"}
        Colour scale: follow today's data (default) or the variable's full range
        (:func:`colour_limits`).
    figsize : tuple of float
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        A new figure (not registered with pyplot; nothing to close).

    Raises
    ------
    ValueError
        For an unknown variable or scale.

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> fig = city_map_figure(CityModel(n_citizens=200, rng=1), "pollution")
    >>> fig.axes[0].collections[1].get_offsets().shape
    (100, 2)
    """
    node_values(model, variable)  # validates the name
    return CityMapView(model, figsize=figsize).update(model, variable, scale).fig
