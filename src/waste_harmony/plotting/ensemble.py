"""Ensemble views: the median and a percentile band across runs (seeds)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from waste_harmony.docstrings import shared_sections
from waste_harmony.plotting._common import (
    as_run,
    event_days,
    figure_of,
    mark_events,
    new_figure,
    pretty,
)

__all__ = ["ensemble_frame", "ensemble_summary", "plot_ensemble"]

_RUN_COLUMNS = ("seed", "run_id", "run")


def ensemble_frame(runs: Any, *, by: str | None = None) -> pd.DataFrame:
    """Bring an ensemble into one tidy frame: a run column, ``day`` and the variables.

    Parameters
    ----------
    runs : pandas.DataFrame or sequence
        A tidy frame with a run column (``seed``, ``run_id`` or ``run``, or ``by``)
        and ``day`` (as column or index level), as :mod:`waste_harmony.experiments`
        produces; or a sequence of runs (models, results, results folders or
        model-level frames indexed by day), numbered 0, 1, … in column ``run``.
    by : str, optional
        Name of the run column (default: the first of ``seed``, ``run_id``,
        ``run`` present).

    Returns
    -------
    pandas.DataFrame
        Columns: the run column, ``day`` and the variables.

    Raises
    ------
    ValueError
        If the frame has no run or day column.

    Examples
    --------
    >>> import pandas as pd
    >>> runs = [pd.DataFrame({"x": [1.0, 2.0]}, index=pd.Index([1, 2], name="day")),
    ...         pd.DataFrame({"x": [3.0, 4.0]}, index=pd.Index([1, 2], name="day"))]
    >>> ensemble_frame(runs)[["run", "day", "x"]].values.tolist()
    [[0.0, 1.0, 1.0], [0.0, 2.0, 2.0], [1.0, 1.0, 3.0], [1.0, 2.0, 4.0]]
    """
    if isinstance(runs, pd.DataFrame):
        frame = runs.reset_index() if "day" in (runs.index.names or []) else runs
        column = by or next((c for c in _RUN_COLUMNS if c in frame.columns), None)
        if column is None or column not in frame.columns:
            raise ValueError(
                f"the ensemble frame needs a run column ({', '.join(_RUN_COLUMNS)}"
                " or by=NAME); pass by= naming the column that tells runs apart"
            )
        if "day" not in frame.columns:
            raise ValueError("the ensemble frame needs a 'day' column (or index level)")
        return frame
    parts = []
    for i, run in enumerate(runs):
        frame = as_run(run).model_frame.reset_index()
        frame.insert(0, by or "run", i)
        parts.append(frame)
    if not parts:
        raise ValueError("the ensemble is empty; pass at least one run")
    return pd.concat(parts, ignore_index=True)


def ensemble_summary(
    runs: Any,
    variables: str | Iterable[str],
    *,
    by: str | None = None,
    band: tuple[float, float] = (5.0, 95.0),
) -> pd.DataFrame:
    """Median and percentile band of each variable across runs, per day.

    Parameters
    ----------
    runs : pandas.DataFrame or sequence
        See :func:`ensemble_frame`.
    variables : str or list of str
        Variables to summarise.
    by : str, optional
        Run column.
    band : (float, float)
        Lower and upper percentiles (default 5 and 95).

    Returns
    -------
    pandas.DataFrame
        Indexed by day; columns ``(variable, stat)`` with stats ``median``,
        ``low``, ``high`` and ``n`` (runs covering that day).

    Examples
    --------
    >>> import pandas as pd
    >>> tidy = pd.DataFrame({"seed": [1, 2, 3], "day": [1, 1, 1], "x": [0.0, 1.0, 10.0]})
    >>> ensemble_summary(tidy, "x", band=(0, 100)).loc[1, "x"].tolist()
    [1.0, 0.0, 10.0, 3.0]
    """
    names = [variables] if isinstance(variables, str) else list(variables)
    if not 0 <= band[0] < band[1] <= 100:
        raise ValueError(f"band must be two percentiles 0 <= low < high <= 100, got {band}")
    frame = ensemble_frame(runs, by=by)
    missing = [v for v in names if v not in frame.columns]
    if missing:
        raise ValueError(
            f"unknown variable {missing[0]!r}; the ensemble has: "
            f"{', '.join(c for c in frame.columns if c != 'day')}"
        )
    grouped = frame.groupby("day")
    columns = {}
    for name in names:
        values = grouped[name]
        columns[(name, "median")] = values.median()
        columns[(name, "low")] = values.quantile(band[0] / 100)
        columns[(name, "high")] = values.quantile(band[1] / 100)
        columns[(name, "n")] = values.count().astype(np.float64)
    return pd.DataFrame(columns)


@shared_sections
def plot_ensemble(
    runs: Any,
    variables: str | Iterable[str],
    *,
    by: str | None = None,
    band: tuple[float, float] = (5.0, 95.0),
    ax: Axes | None = None,
    events: Any = None,
    ncols: int = 2,
    label: str | None = None,
    color: str | None = None,
) -> Figure:
    """Median with a percentile band (default 5–95 %) across the runs of an ensemble.

    Parameters
    ----------
    runs : pandas.DataFrame or sequence
        See :func:`ensemble_frame`.
    variables : str or list of str
        Variables to draw, one panel each.
    by : str, optional
        Run column.
    band : (float, float)
        Percentiles of the band.
    ax : matplotlib.axes.Axes, optional
        Draw (one variable) into this axes, e.g. to overlay two ensembles.
    events : pandas.DataFrame, optional
        An event log whose story events to mark (for example one run's
        ``event_frame()``; events differ between seeds, so none by default).
    ncols : int
        Panels per row.
    label : str, optional
        Legend label of the median.
    color : str, optional
        Colour of median and band.

    {figure_returns}

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> models = [CityModel(n_citizens=100, rng=s) for s in range(3)]
    >>> for m in models:
    ...     m.run_for(4)
    >>> fig = plot_ensemble(models, "mean_concern")
    >>> fig.axes[0].get_ylabel(), len(fig.axes[0].collections)
    ('mean concern', 1)
    """
    names = [variables] if isinstance(variables, str) else list(variables)
    summary = ensemble_summary(runs, names, by=by, band=band)
    marks = event_days(events) if isinstance(events, pd.DataFrame) else []
    band_label = f"{band[0]:g}–{band[1]:g} %"
    if ax is not None:
        if len(names) != 1:
            raise ValueError("drawing into a given ax takes one variable; pass one name")
        _draw(ax, summary, names[0], label, band_label, color)
        mark_events(ax, marks)
        return figure_of(ax)
    ncols = max(1, min(ncols, len(names)))
    nrows = -(-len(names) // ncols)
    fig, axes = new_figure(nrows, ncols, sharex=True)
    for i, a in enumerate(axes.flat):
        if i >= len(names):
            a.set_visible(False)
            continue
        _draw(a, summary, names[i], label, band_label, color)
        if i + ncols < len(names):
            a.set_xlabel("")  # only the bottom panel of each column says "day"
        mark_events(a, marks, labels=i == 0)
    n_runs = int(summary[(names[0], "n")].max())
    fig.suptitle(f"median and {band_label} band across {n_runs} runs", fontsize=10)
    return fig


def _draw(
    ax: Axes,
    summary: pd.DataFrame,
    name: str,
    label: str | None,
    band_label: str,
    color: str | None,
) -> None:
    days = summary.index.to_numpy()
    (line,) = ax.plot(days, summary[(name, "median")], label=f"{label or 'median'}", color=color)
    ax.fill_between(
        days,
        summary[(name, "low")],
        summary[(name, "high")],
        alpha=0.25,
        color=line.get_color(),
        linewidth=0,
        label=f"{label + ' ' if label else ''}{band_label}",
    )
    ax.set_xlabel("day")
    ax.set_ylabel(pretty(name))
    ax.legend(fontsize=8)
