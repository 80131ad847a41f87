"""Matplotlib figures of the live city, used by the SolaraViz components.

These functions only need matplotlib (a core dependency), so they can be tested and
timed without Solara. They draw neighbourhood *aggregates* — one marker per node,
one :class:`~matplotlib.collections.LineCollection` for all streets — never one
marker per citizen, so a city of 1,000 nodes and 10^5 citizens redraws in a
fraction of a second. Node positions are the city's own ``pos`` attributes (km);
no layout is ever computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

if TYPE_CHECKING:
    from waste_harmony.model import CityModel

__all__ = [
    "MAP_VARIABLES",
    "SERIES_VARIABLES",
    "MapVariable",
    "city_map_figure",
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
        ``True`` for shares in [0, 1] (fixed colour scale, comparable across days);
        ``False`` for quantities scaled from 0 to today's maximum.
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

#: Model-level series drawn by :func:`series_figure`: key → (title, unit).
SERIES_VARIABLES: dict[str, tuple[str, str]] = {
    "mean_concern": ("mean concern", "0–1"),
    "protest_share": ("protesting", "share of citizens"),
    "recycling_rate": ("recycling rate", "share of waste"),
    "waste_stock_kg": ("waste stock", "t"),
    "mean_pollution": ("mean pollution", "µg/m³"),
    "biodiversity_index": ("biodiversity index", "(A/A₀)^z"),
    "organism_biomass": ("organism biomass", "kg"),
    "biotech_adoption": ("biotech adoption", "share of citizens"),
}

_FACILITY_COLOURS = {"proposed": "#f0a030", "built": "#c0392b", "withdrawn": "#7f8c8d"}
_EVENT_COLOURS = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#ff7f0e",
    "#7f7f7f",
)


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
    model._viz_geometry = (xy, segments)
    return xy, segments


def _marker_sizes(model: CityModel) -> np.ndarray:
    """Marker areas (pt²) ∝ residents, scaled so the city stays readable at any size."""
    residents = model.residents
    target = 9000.0 / max(model.n_nodes, 1)  # mean marker area shrinks with node count
    mean = residents.mean() if residents.size and residents.mean() > 0 else 1.0
    return np.clip(residents / mean * target, 4.0, 12 * target)


def city_map_figure(
    model: CityModel, variable: str = "concern", *, figsize: tuple[float, float] = (6.4, 6.0)
) -> Figure:
    """The city at its real node positions, neighbourhoods coloured by ``variable``.

    Marker area is proportional to residents; the facility site (cross, coloured by
    status), the festival plaza (star), organism colonies (green triangles) and
    protests (red rings, width ∝ share protesting) are marked. The node markers
    carry the SVG id ``city-nodes`` (one ``<use>`` per neighbourhood).

    Parameters
    ----------
    model : CityModel
        The model.
    variable : str
        A key of :data:`MAP_VARIABLES`.
    figsize : tuple of float
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        A new figure (not registered with pyplot; nothing to close).

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> fig = city_map_figure(CityModel(n_citizens=200, rng=1), "pollution")
    >>> fig.axes[0].collections[1].get_offsets().shape
    (100, 2)
    """
    spec = MAP_VARIABLES.get(variable)
    values = node_values(model, variable)
    xy, segments = _geometry(model)
    # Fixed axes instead of a layout engine: constrained layout doubles the draw time.
    fig = Figure(figsize=figsize)
    ax = fig.add_axes((0.1, 0.16, 0.72, 0.77))
    cax = fig.add_axes((0.85, 0.25, 0.025, 0.6))
    ax.add_collection(LineCollection(segments, colors="#c8c8c8", linewidths=0.6, zorder=1))
    if spec.bounded:
        vmin, vmax = 0.0, 1.0
    else:
        vmin, vmax = 0.0, max(float(values.max(initial=0.0)), 1e-9)
    sizes = _marker_sizes(model)
    nodes = ax.scatter(
        xy[:, 0],
        xy[:, 1],
        c=values,
        s=sizes,
        cmap=spec.cmap,
        vmin=vmin,
        vmax=vmax,
        edgecolors="#555555",
        linewidths=0.3,
        zorder=2,
    )
    nodes.set_gid("city-nodes")
    bar = fig.colorbar(nodes, cax=cax)
    bar.set_label(f"{spec.label} ({spec.unit})")

    handles: list[Any] = []
    protest = model.resident_mean(model.citizens.protesting)
    on = protest > 0
    if on.any():
        ax.scatter(
            xy[on, 0],
            xy[on, 1],
            s=sizes[on] * 2.2,
            facecolors="none",
            edgecolors="#d62728",
            linewidths=0.8 + 3.0 * protest[on],
            zorder=3,
        )
    handles.append(
        Line2D(
            [],
            [],
            ls="",
            marker="o",
            mfc="none",
            mec="#d62728",
            mew=2,
            ms=9,
            label=f"protest ({int(on.sum())} nbhds)",
        )
    )
    plaza = np.flatnonzero(model.neighborhoods.zone == "plaza")
    if plaza.size:
        star = float(np.clip(6 * sizes.mean(), 60, 260))
        ax.scatter(
            xy[plaza, 0],
            xy[plaza, 1],
            marker="*",
            s=star,
            c="#ffd54f",
            edgecolors="black",
            linewidths=0.8,
            zorder=5,
        )
        handles.append(
            Line2D(
                [], [], ls="", marker="*", mfc="#ffd54f", mec="black", ms=12, label="festival plaza"
            )
        )
    colonies = np.flatnonzero(
        model.neighborhoods.organism_biomass >= model.params.organism_colony_kg
    )
    if colonies.size:
        ax.scatter(
            xy[colonies, 0],
            xy[colonies, 1],
            marker="^",
            s=40,
            c="#2e7d32",
            edgecolors="white",
            linewidths=0.5,
            zorder=4,
        )
    handles.append(
        Line2D(
            [],
            [],
            ls="",
            marker="^",
            mfc="#2e7d32",
            mec="white",
            ms=8,
            label=f"organism colony ({colonies.size})",
        )
    )
    for firm in model.corporations:
        if firm.site is None:
            continue
        x, y = xy[firm.site]
        colour = _FACILITY_COLOURS.get(firm.status, "black")
        ax.scatter(
            [x], [y], marker="X", s=220, c=colour, edgecolors="black", linewidths=1.0, zorder=6
        )
        handles.append(
            Line2D(
                [],
                [],
                ls="",
                marker="X",
                mfc=colour,
                mec="black",
                ms=11,
                label=f"{firm.name} site ({firm.status})",
            )
        )
    fig.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.46, 0.0),
        ncols=2,
        fontsize=8,
        frameon=False,
    )
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.set_xlabel("x (km)")
    ax.set_ylabel("y (km)")
    ax.set_title(f"Day {model.day}: {spec.label}", fontsize=11)
    return fig


def _column(model: CityModel, name: str) -> list[Any]:
    return model.datacollector.model_vars.get(name, [])


def series_figure(
    model: CityModel,
    variables: tuple[str, ...] | None = None,
    *,
    figsize: tuple[float, float] = (7.0, 6.0),
) -> Figure:
    """Small multiples of model-level series with scenario events and facility status.

    Each event kind in ``model.event_log`` is drawn as dashed vertical lines of its own
    colour (one collection per kind and panel, SVG id ``events:<kind>``; legend at the
    bottom); days with a facility ``proposed`` or ``built`` are shaded.

    Parameters
    ----------
    model : CityModel
        The model.
    variables : tuple of str, optional
        Keys of :data:`SERIES_VARIABLES` (default: all of them).
    figsize : tuple of float
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        A new figure.

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> model = CityModel(n_citizens=200, rng=1)
    >>> model.run_for(3)
    >>> len(series_figure(model).axes)
    8
    """
    names = tuple(SERIES_VARIABLES) if variables is None else tuple(variables)
    unknown = [v for v in names if v not in SERIES_VARIABLES]
    if unknown:
        raise ValueError(
            f"unknown series {unknown[0]!r}; choose from {', '.join(SERIES_VARIABLES)}"
        )
    fig = Figure(figsize=figsize)
    fig.subplots_adjust(left=0.09, right=0.98, top=0.95, bottom=0.16, hspace=0.5, wspace=0.28)
    cols = 2
    rows = -(-len(names) // cols)
    axes = fig.subplots(rows, cols, sharex=True, squeeze=False).ravel()
    n_days = len(_column(model, "mean_concern"))
    days = np.asarray(model.recorded_days[:n_days])  # day 0 is the initial state
    status = _column(model, "facility_status")
    kinds: dict[str, str] = {}
    event_days: dict[str, list[int]] = {}
    for event in model.event_log:
        if event.kind not in kinds:
            kinds[event.kind] = _EVENT_COLOURS[len(kinds) % len(_EVENT_COLOURS)]
        event_days.setdefault(event.kind, []).append(int(event.day))
    for ax, name in zip(axes, names, strict=False):
        title, unit = SERIES_VARIABLES[name]
        values = np.asarray(_column(model, name), dtype=np.float64)
        if name == "waste_stock_kg":
            values = values / 1000.0
        for state in ("proposed", "built"):
            mask = np.array([s == state for s in status], dtype=bool)
            if mask.any():
                ax.fill_between(
                    days,
                    0,
                    1,
                    where=mask,
                    transform=ax.get_xaxis_transform(),
                    color=_FACILITY_COLOURS[state],
                    alpha=0.12,
                    lw=0,
                    step="mid",
                )
        for kind, when in event_days.items():
            # one collection per kind, however many events: a daily event stays cheap
            marks = ax.vlines(
                sorted(set(when)),
                0,
                1,
                transform=ax.get_xaxis_transform(),
                colors=kinds[kind],
                linestyles="--",
                lw=0.8,
                alpha=0.8,
            )
            marks.set_gid(f"events:{kind}")
        ax.plot(days, values, color="black", lw=1.2)
        ax.set_title(f"{title} ({unit})", fontsize=9)
        ax.tick_params(labelsize=7)
        ax.yaxis.get_major_formatter().set_useOffset(False)
        ax.grid(alpha=0.3, lw=0.5)
        if n_days <= 1:
            ax.set_xlim(0, 2)
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    for ax in axes[-cols:]:
        ax.set_xlabel("day", fontsize=8)
    handles = [
        Line2D([], [], color=c, ls="--", label=k.replace("_", " ")) for k, c in kinds.items()
    ]
    handles += [
        Line2D([], [], color=_FACILITY_COLOURS[s], lw=6, alpha=0.3, label=f"facility {s}")
        for s in ("proposed", "built")
        if s in status
    ]
    if handles:
        fig.legend(handles=handles, loc="lower center", ncols=3, fontsize=7, frameon=False)
    return fig
