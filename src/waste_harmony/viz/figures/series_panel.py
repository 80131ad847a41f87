"""The live series panel: model-level series above one strip of the story's events.

Drawn with matplotlib only (no Solara): small multiples of the recorded outputs
(read from the one table of outputs, :data:`~waste_harmony.recording.OUTPUTS`), a
row of ticks per event kind, and days with a facility proposed or built shaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Self, cast

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from waste_harmony.docstrings import shared_sections
from waste_harmony.plotting.markers import FACILITY_STATUS_COLOURS
from waste_harmony.recording import OUTPUTS, OutputVariable
from waste_harmony.viz.figures.canvas import BlitCanvas, LiveFigure

if TYPE_CHECKING:
    from waste_harmony.model import CityModel

__all__ = [
    "DEFAULT_SERIES",
    "MAX_EVENT_ROWS",
    "SERIES_VARIABLES",
    "SeriesView",
    "event_rows",
    "series_figure",
    "series_variables",
]

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


def series_variables(outputs: Sequence[OutputVariable] = OUTPUTS) -> dict[str, tuple[str, str]]:
    """The drawable series of a table of outputs: name → (title, unit).

    Numeric outputs only (a ``"category"`` unit is not drawn); waste masses in tonnes.
    A model's own outputs are drawable as the built-ins:
    ``series_variables(model.outputs)``.

    Examples
    --------
    >>> series_variables()["waste_stock_kg"]
    ('waste stock', 't')
    """
    return {o.name: _series_title(o) for o in outputs if o.unit != "category"}


#: Model-level series :func:`series_figure` can draw, read from the one table of
#: outputs (:data:`~waste_harmony.recording.OUTPUTS`): name → (title, unit).
#: Numeric outputs only; waste masses are shown in tonnes.
SERIES_VARIABLES: dict[str, tuple[str, str]] = series_variables()
_TONNES = frozenset(o.name for o in OUTPUTS if _in_tonnes(o))


def _in_unit_interval(unit: str) -> bool:
    """Whether a unit declares values in [0, 1] (a share, an index)."""
    return "[0, 1]" in unit or unit.startswith("share")


def _flat_span(vmin: float, vmax: float) -> float:
    """The y span given to a series that barely varies: 10 % of its size (1 at zero)."""
    size = max(abs(vmin), abs(vmax))
    return 0.1 * size if size > 0 else 1.0


#: At most this many event rows in the series panel; rarer kinds share an "other" row.
MAX_EVENT_ROWS = 6
_SHADED = ("proposed", "built")


def _column(model: CityModel, name: str) -> list[Any]:
    return model.datacollector.model_vars.get(name, [])


def _horizon(n_days: int) -> int:
    """The x range of the series: stays put for many days, so the axes are redrawn rarely."""
    for days in (30, 60, 120, 180, 365):
        if n_days <= days:
            return days
    return 365 * -(-n_days // 365)


@shared_sections
def event_rows(model: CityModel, max_rows: int = MAX_EVENT_ROWS) -> dict[str, list[int]]:
    """Event days grouped into at most ``max_rows`` labelled rows for the series panel.

    One row per event kind, in order of first occurrence; once there are more kinds
    than rows, the rarest share the last row, labelled ``"other (k kinds)"``.

    Parameters
    ----------
    {model_parameter}
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


class SeriesView(LiveFigure):
    r"""The live series panel: one figure per model, data updated in place.

    Small multiples of :data:`SERIES_VARIABLES` above one event strip (a row of ticks
    per event kind, :func:`event_rows`); days with a facility ``proposed`` or
    ``built`` are shaded. The x range grows in steps (:func:`_horizon`) and each
    panel's y range only when the data leave it, so most days redraw just the lines.

    Parameters
    ----------
    variables : tuple of str, optional
        Keys of :func:`series_variables` of ``outputs`` (default:
        :data:`DEFAULT_SERIES`, then every numeric output of ``outputs`` that is
        not built in: a model's own outputs).
    outputs : sequence of OutputVariable, optional
        The outputs that may be drawn (default: the built-in
        :data:`~waste_harmony.recording.OUTPUTS`; give ``model.outputs`` for a
        model with its own).
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
        self,
        variables: tuple[str, ...] | None = None,
        *,
        outputs: Sequence[OutputVariable] | None = None,
        figsize: tuple[float, float] = (7.0, 6.0),
    ) -> None:
        drawable = series_variables(OUTPUTS if outputs is None else outputs)
        if variables is None:
            own = [n for n in drawable if n not in SERIES_VARIABLES]
            names = (*DEFAULT_SERIES, *own)
        else:
            names = tuple(variables)
        unknown = [v for v in names if v not in drawable]
        if unknown:
            raise ValueError(f"unknown series {unknown[0]!r}; choose from {', '.join(drawable)}")
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
            title, unit = drawable[name]
            (line,) = ax.plot([], [], color="black", lw=1.2)
            line.set_gid(f"series:{name}")
            self.lines.append(line)
            ax.set_title(f"{title} ({unit})", fontsize=9)
            ax.tick_params(labelsize=7)
            formatter = cast(Any, ax.yaxis.get_major_formatter())
            formatter.set_useOffset(False)  # labels read values, never "+4.6e-1" or ×1e-7
            formatter.set_scientific(False)
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
        self._canvas = BlitCanvas(fig, [*self.lines, self.marks], self._cell_artists())
        self._ylim: list[tuple[float, float]] = [(0.0, 1.0)] * len(names)
        # A share or an index in [0, 1] never gets a y range far outside it.
        self._bounded = [_in_unit_interval(drawable[name][1]) for name in names]
        self._data: list[tuple[float, float]] = [(np.nan, np.nan)] * len(names)
        self._key: Any = None
        self._labels: list[str] | None = None
        self._runs: list[tuple[str, float, float]] = []
        self.rows: dict[str, list[int]] = {}

    def _limits(self, i: int, values: np.ndarray, horizon: int) -> tuple[float, float]:
        """The panel's y range: kept while the data fit it well, else fitted again.

        A new range gives the recent trend room to grow (so a steadily growing series,
        a waste stock, seldom forces a full redraw), but at most one data span beyond
        the data, so the data always fill a good part of the panel and its tick labels
        read the data's values; a share stays near [0, 1].
        """
        low, high = self._ylim[i]
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            return low, high
        vmin, vmax = float(finite.min()), float(finite.max())
        span = vmax - vmin
        if (
            self._key is not None
            and low <= vmin
            and vmax <= high
            and (span >= 0.25 * (high - low) or high - low <= _flat_span(vmin, vmax))
        ):
            return low, high
        if finite.size >= 2 and span > 0:
            recent = finite[-min(10, finite.size) :]
            ahead = recent[-1] + (recent[-1] - recent[0]) / (recent.size - 1) * (
                horizon - finite.size
            )
            ahead = float(np.clip(ahead, vmin - span, vmax + span))
            vmin, vmax = min(vmin, ahead), max(vmax, ahead)
        pad = max(0.1 * (vmax - vmin), _flat_span(vmin, vmax) / 2)
        low, high = vmin - pad, vmax + pad
        if self._bounded[i]:
            low, high = max(low, -0.02), min(high, 1.02)
        return low, high

    def ticks(self) -> dict[str, dict[str, Any]]:
        """What each panel shows: its tick labels as drawn, its y range, its data range.

        Read after :meth:`image` (tick labels are set when the panel is drawn); the
        viewer writes it into the page, where the browser test checks that every
        panel's labels read its data's values.

        Returns
        -------
        dict
            Name → ``labels`` (text of the tick labels inside the y range), ``ylim``
            and ``data`` (smallest and largest value shown).
        """
        out = {}
        for name, ax, data in zip(self.names, self.axes, self._data, strict=True):
            low, high = ax.get_ylim()
            labels = [
                t.get_text()
                for t in ax.get_yticklabels()
                if low <= t.get_position()[1] <= high and t.get_text()
            ]
            out[name] = {"labels": labels, "ylim": [low, high], "data": list(data)}
        return out

    @shared_sections
    def update(self, model: CityModel) -> Self:
        """Show the series of ``model`` up to today.

        Parameters
        ----------
        {model_parameter}

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
            finite = values[np.isfinite(values)]
            if finite.size:
                self._data[i] = (float(finite.min()), float(finite.max()))
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

    def _background_keys(self) -> tuple[Any, dict[str, Any]]:
        """A full draw only when the x range or legend changed.

        A panel whose y range changed, or the event strip with a new row, is redrawn on
        its own (a cell of the figure); the lines and marks are drawn on top each day.
        """
        return self._key, self._cell_keys()


@shared_sections
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
    {model_parameter}
    variables : tuple of str, optional
        Names of the model's numeric outputs (default: :data:`DEFAULT_SERIES` and
        the model's own outputs).
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
    return SeriesView(variables, outputs=model.outputs, figsize=figsize).update(model).fig
