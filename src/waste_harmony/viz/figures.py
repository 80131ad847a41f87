"""Matplotlib figures of the live city, used by the SolaraViz components.

These functions only need matplotlib (a core dependency), so they can be tested and
timed without Solara. They draw neighbourhood *aggregates* — one marker per node,
one :class:`~matplotlib.collections.LineCollection` for all streets — never one
marker per citizen, so a city of 1,000 nodes and 10^5 citizens redraws in a
fraction of a second. Node positions are the city's own ``pos`` attributes (km);
no layout is ever computed.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self, cast

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.transforms import Bbox, IdentityTransform
from PIL import Image

from waste_harmony.plotting.maps import add_scale_bar, city_polygons
from waste_harmony.plotting.markers import (
    COLONY,
    FACILITY,
    FACILITY_STATUS_COLOURS,
    FESTIVAL,
    PROTEST,
    legend_handle,
)
from waste_harmony.recording import OUTPUTS, OutputVariable

if TYPE_CHECKING:
    from waste_harmony.model import CityModel

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

#: Model-level series shown by default in :func:`series_figure` (names of
#: :data:`~waste_harmony.recording.OUTPUTS`).
DEFAULT_SERIES: tuple[str, ...] = (
    "mean_concern",
    "protest_share",
    "recycling_rate",
    "waste_stock_kg",
    "mean_pollution",
    "biodiversity_index",
    "organism_biomass",
    "biotech_adoption",
)


def _in_tonnes(output: OutputVariable) -> bool:
    return output.name.startswith("waste_") and output.unit.startswith("kg")


def _series_title(output: OutputVariable) -> tuple[str, str]:
    """(title, unit) of a panel: the output's name in words and its unit (waste in t)."""
    title = output.name.removesuffix("_kg").replace("_", " ")
    unit = "t" + output.unit.removeprefix("kg") if _in_tonnes(output) else output.unit
    return title, unit


#: Model-level series :func:`series_figure` can draw, read from the one table of
#: outputs (:data:`~waste_harmony.recording.OUTPUTS`): name → (title, unit).
#: Numeric outputs only; waste masses are shown in tonnes.
SERIES_VARIABLES: dict[str, tuple[str, str]] = {
    o.name: _series_title(o) for o in OUTPUTS if o.unit != "category"
}
_TONNES = frozenset(o.name for o in OUTPUTS if _in_tonnes(o))

#: At most this many event rows in the series panel; rarer kinds share an "other" row.
MAX_EVENT_ROWS = 6
#: Colour scales of the map: ``"auto"`` follows today's values, ``"fixed"`` is the
#: variable's full range (0–1 for shares, 0 to today's maximum otherwise).
COLOUR_SCALES = ("auto", "fixed")
_SHADED = ("proposed", "built")
_RESIDENT_MEANS = ("concern", "protest_share")


def node_values(model: CityModel, variable: str) -> np.ndarray:
    """Today's value of a map variable at every node, in ``model.node_ids`` order.

    Citizen variables are aggregated by home node with :func:`numpy.bincount`
    (mean over residents; 0 where nobody lives).

    Parameters
    ----------
    model : CityModel
        The model.
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


def festival_rows(model: CityModel) -> np.ndarray:
    """Rows (in ``model.node_ids`` order) where the festival is held.

    Read from the run itself: the nodes of the ``festival`` events logged so far and,
    before the first festival, the festival ground each installed festival scenario
    chose (its ``plaza_rows_``; e.g. ``HarmonyFestival(plaza=0)`` → node 0, a city
    without a plaza zone → its most central node). Empty without a festival.

    Parameters
    ----------
    model : CityModel
        The model.

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


def _room(
    lo: float,
    hi: float,
    blocks: list[tuple[float, float, bool]],
    spare: float,
    gap: float,
    size: float,
) -> tuple[float, float]:
    """Grow ``[lo, hi]`` (pixels along one axis) by up to ``spare`` each way.

    A side stops ``gap`` short of a static block, or halfway to a neighbouring
    cell (``half``), which grows towards this one just as far; and at the image
    edges ``0`` and ``size``. ``blocks`` are the ``(low, high, half)`` extents,
    along this axis, of the blocks that overlap the cell along the other axis.
    """
    lows, highs = [lo - spare, 0.0], [hi + spare, float(size)]
    for b_lo, b_hi, half in blocks:
        if b_hi <= lo:
            lows.append((b_hi + lo) / 2 if half else b_hi + gap)
        elif b_lo >= hi:
            highs.append((b_lo + hi) / 2 if half else b_lo - gap)
    return max(lows), min(highs)


class _Canvas:
    """Agg drawing with blitting: a full draw only when the static part changes.

    Artists marked animated are left out of the cached background and drawn on top
    of it on every render; ``key`` names everything the whole background depends on
    (figure-wide limits, legends): when it changes, the whole figure is drawn again.

    ``cells`` are parts of the background that change on their own (one panel's y
    range, the colour bar's range): name → artists. Each cell owns a rectangle of the
    figure (its artists' extent after a full draw and free room around it, clear of
    everything else). When only cells' keys change, just those rectangles are
    painted over with the figure's colour and their artists drawn again into the
    background: a few ticks instead of the whole figure. A cell whose artists no
    longer fit their rectangle, or overlapping rectangles, fall back to a full draw,
    so the picture is always the one a full draw gives.
    """

    #: Room (pixels) a cell's rectangle leaves its artists on every side, where free.
    SPARE = 40.0
    #: Pixels kept clear of other artists' extents (antialiased edges reach past them).
    GAP = 2.0

    def __init__(
        self, fig: Figure, dynamic: list[Any], cells: dict[str, list[Any]] | None = None
    ) -> None:
        self.fig = fig
        self.canvas = FigureCanvasAgg(fig)
        self.dynamic = dynamic
        self.cells = cells or {}
        self.key: Any = None
        self.cell_keys: dict[str, Any] = {}
        self.boxes: dict[str, Bbox] | None = None
        self.background: Any = None
        self.full_draws = 0
        self.cell_draws = 0

    def _extent(self, name: str, renderer: Any) -> Bbox:
        boxes = [a.get_tightbbox(renderer) for a in self.cells[name] if a.get_visible()]
        return Bbox.union([b for b in boxes if b is not None and b.width > 0])

    def _layout_cells(self, renderer: Any) -> None:
        """Each cell's rectangle: its extent plus free room around it, clear of everything else."""
        extents = {name: self._extent(name, renderer) for name in self.cells}
        in_cells = {id(a) for artists in self.cells.values() for a in artists}
        others = [
            a.get_tightbbox(renderer)
            for a in [*self.fig.axes, *self.fig.legends, *self.fig.texts, *self.fig.artists]
            if id(a) not in in_cells and a.get_visible() and not a.get_animated()
        ]
        boxes = {}
        width, height = self.canvas.get_width_height()
        statics = [b for b in others if b is not None and b.width > 0]
        for name, extent in extents.items():
            neighbours = [b for other, b in extents.items() if other != name]
            if any(extent.overlaps(b) for b in [*neighbours, *statics]):
                self.boxes = None  # the extents themselves overlap: full draws only
                return
            # Grow each side by up to SPARE pixels: up to a static artist, or halfway to
            # a neighbouring cell (which grows towards this one just as far).
            blocks = [*((b, True) for b in neighbours), *((b, False) for b in statics)]
            x0, x1 = _room(
                extent.x0,
                extent.x1,
                [(b.x0, b.x1, half) for b, half in blocks if b.y1 > extent.y0 and b.y0 < extent.y1],
                self.SPARE,
                self.GAP,
                width,
            )
            y0, y1 = _room(
                extent.y0,
                extent.y1,
                [(b.y0, b.y1, half) for b, half in blocks if b.x1 > x0 and b.x0 < x1],
                self.SPARE,
                self.GAP,
                height,
            )
            boxes[name] = Bbox.from_extents(np.ceil(x0), np.ceil(y0), np.floor(x1), np.floor(y1))
        self.boxes = boxes

    def _redraw_cells(self, names: list[str]) -> bool:
        """Redraw the background of the named cells; ``False`` if a full draw is needed."""
        if self.boxes is None:
            return False
        renderer = self.canvas.get_renderer()
        self.canvas.restore_region(self.background)
        for name in names:
            box = self.boxes[name]
            blank = Rectangle(
                (box.x0, box.y0),
                box.width,
                box.height,
                transform=IdentityTransform(),
                facecolor=self.fig.get_facecolor(),
                edgecolor="none",
                linewidth=0,
                antialiased=False,
            )
            blank.set_figure(self.fig)
            blank.draw(renderer)
            for artist in self.cells[name]:
                if artist.get_visible():
                    artist.draw(renderer)
            extent = self._extent(name, renderer)
            if not (box.contains(*extent.min) and box.contains(*extent.max)):
                return False  # grew out of its rectangle (wider tick labels)
        self.background = self.canvas.copy_from_bbox(self.fig.bbox)
        self.cell_draws += len(names)
        return True

    def render(
        self, key: Any, dpi: float, fmt: str, cell_keys: dict[str, Any] | None = None
    ) -> bytes:
        cell_keys = dict(cell_keys or {})
        if self.fig.dpi != dpi:
            self.fig.set_dpi(dpi)
            self.key = None
        for artist in self.dynamic:  # left out of the background, drawn on top
            artist.set_animated(True)
        changed = [n for n in self.cells if cell_keys.get(n) != self.cell_keys.get(n)]
        full = key != self.key or self.background is None
        if not full and changed and not self._redraw_cells(changed):
            full = True
        if full:
            self.canvas.draw()
            self.background = self.canvas.copy_from_bbox(self.fig.bbox)
            self._layout_cells(self.canvas.get_renderer())
            self.key = key
            self.full_draws += 1
        else:
            self.canvas.restore_region(self.background)
        self.cell_keys = cell_keys
        renderer = self.canvas.get_renderer()
        for artist in self.dynamic:
            if artist.get_visible():
                artist.draw(renderer)
        width, height = self.canvas.get_width_height()
        image = Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba())
        image = image.convert("RGB")  # opaque figure
        buffer = io.BytesIO()
        if fmt == "png":
            image.save(buffer, format="png", compress_level=1)
        else:  # JPEG at full chroma: ~1 ms instead of ~30 ms for PNG, text stays sharp
            image.save(buffer, format="jpeg", quality=92, subsampling=0)
        return buffer.getvalue()


class CityMapView:
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
        self.coloured: Any = self.districts if self.districts is not None else self.nodes
        self.bar = fig.colorbar(self.coloured, cax=cax)
        handles = [legend_handle(PROTEST), legend_handle(COLONY)]
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
        self._canvas = _Canvas(
            fig,
            [
                *([self.districts] if self.districts is not None else []),
                self.nodes,
                self.protests,
                self.colonies,
                self.festival,
                self.facility,
                self.title,
            ],
            cells={"colour bar": [cax]},
        )
        self._key: Any = None

    def update(self, model: CityModel, variable: str = "concern", scale: str = "auto") -> Self:
        """Show today's state of ``model`` (the view's model or a rebuilt one on the same city).

        Parameters
        ----------
        model : CityModel
            The model.
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
        self._key = (variable, scale, vmin, vmax)
        return self

    def image(self, fmt: str = "jpeg", dpi: float = 80) -> bytes:
        """The map as an image (a full draw only once; a new colour range redraws the bar).

        Parameters
        ----------
        fmt : {"jpeg", "png"}
            Image format; JPEG encodes some 30 times faster, which the live page needs.
        dpi : float
            Resolution.

        Returns
        -------
        bytes
            The encoded image.
        """
        # only the colour bar depends on the day: a new range redraws just its cell
        return self._canvas.render(None, dpi, fmt, {"colour bar": self._key})


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
    model : CityModel
        The model.
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


def _column(model: CityModel, name: str) -> list[Any]:
    return model.datacollector.model_vars.get(name, [])


def _horizon(n_days: int) -> int:
    """The x range of the series: stays put for many days, so the axes are redrawn rarely."""
    for days in (30, 60, 120, 180, 365):
        if n_days <= days:
            return days
    return 365 * -(-n_days // 365)


def event_rows(model: CityModel, max_rows: int = MAX_EVENT_ROWS) -> dict[str, list[int]]:
    """Event days grouped into at most ``max_rows`` labelled rows for the series panel.

    One row per event kind, in order of first occurrence; once there are more kinds
    than rows, the rarest share the last row, labelled ``"other (k kinds)"``.

    Parameters
    ----------
    model : CityModel
        The model.
    max_rows : int
        Most rows.

    Returns
    -------
    dict
        Row label → sorted unique event days.

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> event_rows(CityModel(n_citizens=200, rng=1))
    {}
    """
    days: dict[str, set[int]] = {}
    counts: dict[str, int] = {}
    for event in model.event_log:
        days.setdefault(event.kind, set()).add(int(event.day))
        counts[event.kind] = counts.get(event.kind, 0) + 1
    kinds = list(days)
    if len(kinds) > max_rows:
        keep = set(sorted(kinds, key=lambda k: -counts[k])[: max_rows - 1])
        rest = [k for k in kinds if k not in keep]
        merged = set().union(*(days[k] for k in rest))
        rows = {k.replace("_", " "): sorted(days[k]) for k in kinds if k in keep}
        rows[f"other ({len(rest)} kinds)"] = sorted(merged)
        return rows
    return {k.replace("_", " "): sorted(v) for k, v in days.items()}


class SeriesView:
    r"""The live series panel: one figure per model, data updated in place.

    Small multiples of :data:`SERIES_VARIABLES` above one event strip (a row of ticks
    per event kind, :func:`event_rows`); days with a facility ``proposed`` or
    ``built`` are shaded. The x range grows in steps (:func:`_horizon`) and each
    panel's y range only when the data leave it, so most days redraw just the lines.

    Parameters
    ----------
    variables : tuple of str, optional
        Keys of :data:`SERIES_VARIABLES` (default: :data:`DEFAULT_SERIES`).
    figsize : tuple of float
        Figure size in inches.

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> model = CityModel(n_citizens=200, rng=1)
    >>> model.run_for(3)
    >>> SeriesView().update(model).image("png")[:4]
    b'\x89PNG'
    """

    def __init__(
        self, variables: tuple[str, ...] | None = None, *, figsize: tuple[float, float] = (7.0, 6.0)
    ) -> None:
        names = DEFAULT_SERIES if variables is None else tuple(variables)
        unknown = [v for v in names if v not in SERIES_VARIABLES]
        if unknown:
            raise ValueError(
                f"unknown series {unknown[0]!r}; choose from {', '.join(SERIES_VARIABLES)}"
            )
        self.names = names
        fig = Figure(figsize=figsize)
        cols = 2
        rows = -(-len(names) // cols)
        grid = fig.add_gridspec(
            rows, cols, left=0.09, right=0.98, top=0.95, bottom=0.31, hspace=0.55, wspace=0.28
        )
        self.axes = [fig.add_subplot(grid[i // cols, i % cols]) for i in range(len(names))]
        # the event strip below, with room on the left for its row labels
        self.events_ax = fig.add_axes((0.26, 0.07, 0.72, 0.15))
        self.lines = []
        for ax, name in zip(self.axes, names, strict=True):
            title, unit = SERIES_VARIABLES[name]
            (line,) = ax.plot([], [], color="black", lw=1.2)
            line.set_gid(f"series:{name}")
            self.lines.append(line)
            ax.set_title(f"{title} ({unit})", fontsize=9)
            ax.tick_params(labelsize=7)
            cast(Any, ax.yaxis.get_major_formatter()).set_useOffset(False)
            ax.grid(alpha=0.3, lw=0.5)
        self.events_ax.tick_params(labelsize=7)
        self.events_ax.set_xlabel("day", fontsize=8)
        self.events_ax.set_title("events (one row per kind)", fontsize=9, loc="left")
        self.marks = self.events_ax.scatter(
            [], [], marker="|", s=60, c="#1f77b4", linewidths=1.0, zorder=3
        )
        self.marks.set_gid("events")
        self.shading: list[Any] = []
        self.fig = fig
        self._canvas = _Canvas(fig, [*self.lines, self.marks], self._cell_artists())
        self._ylim: list[tuple[float, float]] = [(0.0, 1.0)] * len(names)
        self._key: Any = None
        self._labels: list[str] | None = None
        self._runs: list[tuple[str, float, float]] = []
        self.rows: dict[str, list[int]] = {}

    def _limits(self, i: int, values: np.ndarray, horizon: int) -> tuple[float, float]:
        """The panel's y range: kept while the data fit, else widened with room to grow.

        A widened range reaches the recent trend's value at the end of the x range,
        so a steadily growing series (a waste stock) seldom forces a full redraw.
        """
        low, high = self._ylim[i]
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            return low, high
        vmin, vmax = float(finite.min()), float(finite.max())
        if self._key is not None and low <= vmin and vmax <= high:
            return low, high
        if finite.size >= 2:
            recent = finite[-min(10, finite.size) :]
            ahead = recent[-1] + (recent[-1] - recent[0]) / (recent.size - 1) * (
                horizon - finite.size
            )
            vmin, vmax = min(vmin, float(ahead)), max(vmax, float(ahead))
        pad = max(0.25 * (vmax - vmin), 0.05 * max(abs(vmax), abs(vmin)), 1e-6)
        return vmin - pad, vmax + pad

    def update(self, model: CityModel) -> Self:
        """Show the series of ``model`` up to today.

        Parameters
        ----------
        model : CityModel
            The model.

        Returns
        -------
        SeriesView
            ``self``.
        """
        n_days = len(_column(model, "mean_concern"))
        days = np.asarray(model.recorded_days[:n_days])  # day 0 is the initial state
        horizon = _horizon(n_days)
        for i, (line, name) in enumerate(zip(self.lines, self.names, strict=True)):
            # the same days for every column, even if the model steps meanwhile (Play)
            values = np.asarray(_column(model, name)[:n_days], dtype=np.float64)
            if name in _TONNES:
                values = values / 1000.0
            line.set_data(days, values)
            self._ylim[i] = self._limits(i, values, horizon)
        rows = event_rows(model)
        labels = list(rows)
        points = [(d, -r) for r, label in enumerate(labels) for d in rows[label]]
        self.marks.set_offsets(np.array(points, dtype=np.float64).reshape(-1, 2))
        self.rows = rows
        status = _column(model, "facility_status")[:n_days]
        runs = []
        for state in _SHADED:
            mask = np.array([s == state for s in status], dtype=bool)
            if mask.any():
                edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
                runs += [
                    (state, int(a) + 0.5, int(b) + 0.5)
                    for a, b in zip(
                        np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True
                    )
                ]
        if runs != self._runs:
            self._shade(runs)
        states = list(dict.fromkeys(state for state, _, _ in runs))
        key = (horizon, tuple(states))
        if key != self._key:
            self._redraw_static(horizon, states)
        self._key = key
        for ax, ylim in zip(self.axes, self._ylim, strict=True):
            if ax.get_ylim() != ylim:
                ax.set_ylim(*ylim)
        if labels != self._labels:
            self.events_ax.set_yticks(range(0, -len(labels), -1), labels)
            self.events_ax.set_ylim(-max(len(labels), 1) + 0.5, 0.5)
            self._labels = labels
        return self

    def _cell_artists(self) -> dict[str, list[Any]]:
        """Parts of the panel redrawn on their own: each series panel, the event strip."""
        cells: dict[str, list[Any]] = {
            name: [ax] for name, ax in zip(self.names, self.axes, strict=True)
        }
        cells["events"] = [self.events_ax, *self.fig.legends]
        return cells

    def _cell_keys(self) -> dict[str, Any]:
        keys: dict[str, Any] = dict(zip(self.names, self._ylim, strict=True))
        keys["events"] = tuple(self._labels or ())
        return keys

    def _shade(self, runs: list[tuple[str, float, float]]) -> None:
        """Facility shading: drawn on top of the background like the lines."""
        for patch in self.shading:
            patch.remove()
        self.shading = [
            ax.axvspan(a, b, color=FACILITY_STATUS_COLOURS[state], alpha=0.15, lw=0, zorder=0)
            for ax in [*self.axes, self.events_ax]
            for state, a, b in runs
        ]
        self._runs = runs
        self._canvas.dynamic = [*self.shading, *self.lines, self.marks]

    def _redraw_static(self, horizon: int, states: list[str]) -> None:
        for ax in [*self.axes, self.events_ax]:
            ax.set_xlim(0, horizon)
        for i, ax in enumerate(self.axes):  # day labels on the lowest panel of each column
            ax.tick_params(labelbottom=i >= len(self.axes) - 2)
        for legend in list(self.fig.legends):
            legend.remove()
        if states:
            self.fig.legend(
                handles=[
                    Patch(color=FACILITY_STATUS_COLOURS[s], alpha=0.3, label=f"facility {s}")
                    for s in states
                ],
                loc="lower right",  # beside the strip's title, above no data
                bbox_to_anchor=(0.98, self.events_ax.get_position().y1 + 0.005),
                ncols=len(states),
                fontsize=7,
                frameon=False,
            )
        self._canvas.cells = self._cell_artists()

    def image(self, fmt: str = "jpeg", dpi: float = 80) -> bytes:
        """The panel as an image (a full draw only when the x range or legend changed).

        A panel whose y range changed, or the event strip with a new row, is redrawn on
        its own (a cell of the figure); the lines and marks are drawn on top each day.

        Parameters
        ----------
        fmt : {"jpeg", "png"}
            Image format; JPEG encodes some 30 times faster, which the live page needs.
        dpi : float
            Resolution.

        Returns
        -------
        bytes
            The encoded image.
        """
        return self._canvas.render(self._key, dpi, fmt, self._cell_keys())


def series_figure(
    model: CityModel,
    variables: tuple[str, ...] | None = None,
    *,
    figsize: tuple[float, float] = (7.0, 6.0),
) -> Figure:
    """Small multiples of model-level series with scenario events and facility status.

    The panels share one event strip at the bottom: a row of ticks per event kind (at
    most :data:`MAX_EVENT_ROWS`, :func:`event_rows`), so a year of daily events stays
    readable; days with a facility ``proposed`` or ``built`` are shaded, with their
    legend above the panels, outside the data.

    Parameters
    ----------
    model : CityModel
        The model.
    variables : tuple of str, optional
        Keys of :data:`SERIES_VARIABLES` (default: :data:`DEFAULT_SERIES`).
    figsize : tuple of float
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        A new figure: one axes per variable, then the event strip.

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> model = CityModel(n_citizens=200, rng=1)
    >>> model.run_for(3)
    >>> len(series_figure(model).axes)
    9
    """
    return SeriesView(variables, figsize=figsize).update(model).fig
