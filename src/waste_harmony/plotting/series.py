"""Time series of a run with its scenario events marked, and two runs side by side."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

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

__all__ = ["DEFAULT_VARIABLES", "plot_comparison", "plot_series"]

#: Variables drawn when none are chosen.
DEFAULT_VARIABLES: tuple[str, ...] = (
    "mean_concern",
    "protest_share",
    "recycling_rate",
    "mean_pollution",
    "biodiversity_index",
    "biotech_adoption",
)


def _numeric(frame: pd.DataFrame, variables: Sequence[str]) -> pd.DataFrame:
    missing = [v for v in variables if v not in frame.columns]
    if missing:
        numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
        raise ValueError(f"unknown variable {missing[0]!r}; choose from: {', '.join(numeric)}")
    for v in variables:
        if not pd.api.types.is_numeric_dtype(frame[v]):
            raise ValueError(
                f"variable {v!r} is not numeric (it is a category); plot a numeric series instead"
            )
    return frame[list(variables)]


def _variables(variables: str | Iterable[str] | None) -> list[str]:
    if variables is None:
        return list(DEFAULT_VARIABLES)
    return [variables] if isinstance(variables, str) else list(variables)


def plot_series(
    run: Any,
    variables: str | Iterable[str] | None = None,
    *,
    events: Iterable[str] | str | None = None,
    ax: Axes | None = None,
    ncols: int = 2,
    label: str | None = None,
    **line_kwargs: Any,
) -> Figure:
    """Time series of chosen model variables with the scenario events marked.

    Parameters
    ----------
    run : CityModel, RunResult, results folder or pandas.DataFrame
        The run (a DataFrame is a model-level frame indexed by day).
    variables : str or list of str, optional
        Model variables (default :data:`DEFAULT_VARIABLES`).
    events : list of str, ``"all"`` or None
        Event kinds to mark (default: the story's events — announcement,
        festivals, decision; see :func:`~waste_harmony.plotting.event_days`).
        ``[]`` marks none.
    ax : matplotlib.axes.Axes, optional
        Draw every variable into this axes (one line each) instead of one panel
        per variable.
    ncols : int
        Panels per row.
    label : str, optional
        Legend label of the lines (default: the variable names when drawing into ``ax``).
    **line_kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot`.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (``ax.figure`` when ``ax`` is given).

    Raises
    ------
    ValueError
        If a variable is unknown or not numeric.

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> model = CityModel(n_citizens=200, rng=1)
    >>> model.run_for(10)
    >>> fig = plot_series(model, ["mean_concern", "recycling_rate"])
    >>> [a.get_ylabel() for a in fig.axes]
    ['mean concern', 'recycling rate']
    """
    data = as_run(run, label=label)
    names = _variables(variables)
    frame = _numeric(data.model_frame, names)
    marks = event_days(data.events, events) if events != [] else []
    if ax is not None:
        for name in names:
            ax.plot(frame.index, frame[name], label=label or pretty(name), **line_kwargs)
        ax.set_xlabel("day")
        if len(names) == 1:
            ax.set_ylabel(pretty(names[0]))
        mark_events(ax, marks)
        ax.legend(fontsize=8)
        return figure_of(ax)
    ncols = max(1, min(ncols, len(names)))
    nrows = math.ceil(len(names) / ncols)
    fig, axes = new_figure(nrows, ncols, sharex=True)
    for i, a in enumerate(axes.flat):
        if i >= len(names):
            a.set_visible(False)
            continue
        name = names[i]
        a.plot(frame.index, frame[name], label=label, **line_kwargs)
        a.set_ylabel(pretty(name))
        if i // ncols == nrows - 1 or i + ncols >= len(names):
            a.set_xlabel("day")
        mark_events(a, marks, labels=i == 0 or len(names) == 1)
        if label:
            a.legend(fontsize=8)
    return fig


@shared_sections
def plot_comparison(
    a: Any,
    b: Any,
    variables: str | Iterable[str] | None = None,
    *,
    labels: tuple[str, str] = ("A", "B"),
    events: Iterable[str] | str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Two runs (or scenarios) side by side: both series, and their difference over time.

    For each variable, the top panel shows both runs and the bottom panel the
    difference ``b - a`` on the days both runs cover. Events of both runs are
    marked (run ``a``'s labelled).

    Parameters
    ----------
    a, b : CityModel, RunResult, results folder or pandas.DataFrame
        The runs.
    variables : str or list of str, optional
        Model variables (default :data:`DEFAULT_VARIABLES`).
    labels : (str, str)
        Names of the runs.
    events : list of str, ``"all"`` or None
        Event kinds to mark (as in :func:`plot_series`).
    ax : matplotlib.axes.Axes, optional
        Draw only the differences, one line per variable, into this axes.

    {figure_returns}

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> base, keen = CityModel(n_citizens=200, rng=1), CityModel(n_citizens=200, rng=1,
    ...                                                          concern_confidence=0.5)
    >>> base.run_for(5); keen.run_for(5)
    >>> fig = plot_comparison(base, keen, "mean_concern", labels=("base", "ε = 0.5"))
    >>> fig.axes[1].get_ylabel()
    'difference'
    """
    ra, rb = as_run(a), as_run(b)
    names = _variables(variables)
    fa, fb = _numeric(ra.model_frame, names), _numeric(rb.model_frame, names)
    days = fa.index.intersection(fb.index)
    diff = fb.loc[days] - fa.loc[days]
    marks_a = event_days(ra.events, events) if events != [] else []
    marks_b = event_days(rb.events, events) if events != [] else []
    title = f"{labels[1]} − {labels[0]}"
    if ax is not None:
        for name in names:
            ax.plot(days, diff[name], label=pretty(name))
        ax.axhline(0.0, color="0.6", linewidth=0.8)
        ax.set_xlabel("day")
        ax.set_ylabel("difference")
        ax.set_title(title)
        mark_events(ax, marks_a)
        ax.legend(fontsize=8)
        return figure_of(ax)
    fig, axes = new_figure(2, len(names), sharex="col", figsize=(min(4.2 * len(names), 16), 5.2))
    for j, name in enumerate(names):
        top, bottom = axes[0, j], axes[1, j]
        top.plot(fa.index, fa[name], label=labels[0])
        top.plot(fb.index, fb[name], label=labels[1])
        top.set_ylabel(pretty(name))
        top.legend(fontsize=8)
        bottom.plot(days, diff[name], color="tab:green")
        bottom.axhline(0.0, color="0.6", linewidth=0.8)
        bottom.set_ylabel("difference")
        bottom.set_xlabel("day")
        bottom.set_title(f"{pretty(name)}: {title}", fontsize=9)
        for axis in (top, bottom):
            mark_events(axis, marks_a, labels=axis is top)
            mark_events(axis, [m for m in marks_b if m not in marks_a], labels=False)
    return fig
