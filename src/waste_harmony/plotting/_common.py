"""Shared helpers of the figures: run coercion and event markers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = [
    "STORY_EVENTS",
    "STORY_EVENT_WORDS",
    "RunData",
    "as_run",
    "event_days",
    "figure_of",
    "mark_events",
    "new_figure",
    "pretty",
]

#: Event kinds marked by default, with their labels on the figures: the scenario
#: events of the story (announcement, festivals, decision). Kinds not listed but
#: containing one of :data:`STORY_EVENT_WORDS` are marked too, labelled by kind.
STORY_EVENTS: dict[str, str] = {
    "proposal_announced": "announcement",
    "facility_proposed": "announcement",
    "festival": "festival",
    "facility_built": "decision: built",
    "facility_withdrawn": "decision: withdrawn",
}
STORY_EVENT_WORDS: tuple[str, ...] = ("festival", "announce")

_EVENT_COLOURS = {"announcement": "tab:red", "decision": "black", "festival": "tab:purple"}


@dataclass
class RunData:
    """What a figure needs from a run, whatever form the run came in.

    Attributes
    ----------
    model_frame : pandas.DataFrame
        Model-level series indexed by day.
    events : pandas.DataFrame or None
        The event log.
    neighborhood_frame : pandas.DataFrame or None
        Per-neighbourhood series.
    city : networkx.Graph or None
        The city graph (node positions for maps).
    colony_kg : float
        Biomass at which a node counts as colonised.
    label : str or None
        Name for legends.
    """

    model_frame: pd.DataFrame
    events: pd.DataFrame | None = None
    neighborhood_frame: pd.DataFrame | None = None
    city: nx.Graph | None = None
    colony_kg: float = 1.0
    label: str | None = None


def as_run(run: Any, *, label: str | None = None) -> RunData:
    """Gather the pieces figures use from a run, whatever form it came in.

    Accepts a :class:`~waste_harmony.CityModel`, a
    :class:`~waste_harmony.results.RunResult`, a results folder path or a
    model-level DataFrame.

    Parameters
    ----------
    run : CityModel, RunResult, os.PathLike or pandas.DataFrame
        The run.
    label : str, optional
        Name for legends.

    Returns
    -------
    RunData
        The pieces figures use.

    Raises
    ------
    TypeError
        For anything else.
    """
    from os import PathLike

    from waste_harmony.model import CityModel
    from waste_harmony.results import RunResult
    from waste_harmony.schema import ID_COLUMNS

    if isinstance(run, RunData):
        return run
    if isinstance(run, str | PathLike):
        run = RunResult.load(run)
    if isinstance(run, CityModel):
        hoods = run.neighborhood_frame() if run.neighborhood_recorder is not None else None
        return RunData(
            run.model_frame(),
            run.event_frame(),
            hoods,
            run.city,
            run.params.organism_colony_kg,
            label,
        )
    if isinstance(run, RunResult):
        colony = run.manifest.get("parameters", {}).get("organism_colony_kg", 1.0)
        keys = [*ID_COLUMNS, *run.manifest.get("swept", {})]
        series = run.model_frame
        if "day" in series.columns:  # the results schema: id columns, day, variables
            series = series.drop(columns=[c for c in keys if c in series.columns])
            series = series.set_index("day")
        return RunData(
            series,
            run.events,
            run.neighborhood_frame,
            getattr(run, "city", None),
            float(colony),
            label,
        )
    if isinstance(run, pd.DataFrame):
        frame = run
        if "day" in frame.columns:
            frame = frame.set_index("day")
        return RunData(frame, label=label)
    raise TypeError(
        f"expected a CityModel, RunResult, results folder or DataFrame, got {type(run).__name__}"
    )


def _label_for(kind: str) -> str | None:
    if kind in STORY_EVENTS:
        return STORY_EVENTS[kind]
    if any(word in kind for word in STORY_EVENT_WORDS):
        return kind.replace("_", " ")
    return None


def event_days(
    events: pd.DataFrame | None, kinds: Iterable[str] | str | None = None
) -> list[tuple[int, str]]:
    """The (day, label) pairs to mark on a time axis, one per distinct pair.

    Parameters
    ----------
    events : pandas.DataFrame or None
        An event log (columns ``day`` and ``kind``).
    kinds : iterable of str, ``"all"`` or None
        Which kinds to mark: ``None`` marks the story's events (:data:`STORY_EVENTS`
        and kinds containing a word of :data:`STORY_EVENT_WORDS`), ``"all"`` every
        kind, a list exactly those kinds (labelled by kind).

    Returns
    -------
    list of (int, str)
        Sorted by day.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({"day": [3, 9, 9, 40], "kind": ["facility_proposed", "protest",
    ...                     "festival_opened", "facility_withdrawn"]})
    >>> event_days(log)
    [(3, 'announcement'), (9, 'festival opened'), (40, 'decision: withdrawn')]
    >>> event_days(log, ["protest"])
    [(9, 'protest')]
    """
    if events is None or len(events) == 0:
        return []
    if isinstance(kinds, str) and kinds != "all":
        kinds = [kinds]
    wanted = None if kinds is None or kinds == "all" else set(kinds)
    marks: set[tuple[int, str]] = set()
    for day, kind in zip(events["day"].tolist(), events["kind"].astype(str).tolist(), strict=True):
        if kinds is None:
            label = _label_for(kind)
        elif wanted is None or kind in wanted:
            label = STORY_EVENTS.get(kind, pretty(kind))
        else:
            label = None
        if label is not None:
            marks.add((int(day), label))
    return sorted(marks)


def _colour(label: str) -> str:
    for word, colour in _EVENT_COLOURS.items():
        if word in label:
            return colour
    return "tab:gray"


def mark_events(ax: Axes, marks: Sequence[tuple[int, str]], *, labels: bool = True) -> None:
    """Draw a dashed vertical line (and a rotated label) at each marked day.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Target axes.
    marks : sequence of tuple
        (day, label) pairs, from :func:`event_days`.
    labels : bool
        Write the labels at the top of the axes.
    """
    seen: set[int] = set()
    for day, label in marks:
        ax.axvline(
            day,
            color=_colour(label),
            linestyle="--",
            linewidth=0.9,
            alpha=0.8,
            gid=f"event:{label}",
        )
        if labels:
            # Stack labels of the same day; keep them inside the axes.
            offset = 0.97 - 0.18 * sum(1 for d, _ in marks if d == day and d in seen)
            seen.add(day)
            ax.text(
                day,
                offset,
                f" {label}",
                transform=ax.get_xaxis_transform(),
                rotation=90,
                ha="left",
                va="top",
                fontsize=7,
                color=_colour(label),
                clip_on=True,
                bbox={"facecolor": "white", "alpha": 0.7, "edgecolor": "none", "pad": 0.5},
            )


def figure_of(ax: Axes) -> Figure:
    """The figure an Axes is drawn in (the top-level one if the Axes sit in a subfigure).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Axes placed in a figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure to show or save.

    Examples
    --------
    >>> fig, axes = new_figure(1, 2)
    >>> figure_of(axes[0, 1]) is fig
    True
    """
    fig = ax.get_figure(root=True)
    if fig is None:
        raise ValueError("these axes are not placed in a figure; create them with a figure")
    return fig


def new_figure(
    nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float] | None = None, **kwargs: Any
) -> tuple[Figure, np.ndarray]:
    """A pyplot figure with a grid of axes (always returned as a 2-D array).

    Parameters
    ----------
    nrows, ncols : int
        Grid shape.
    figsize : (float, float), optional
        Inches; default scales with the grid.
    **kwargs
        Passed to :func:`matplotlib.pyplot.subplots`.

    Returns
    -------
    (matplotlib.figure.Figure, numpy.ndarray of Axes)
        The figure and its axes.
    """
    import matplotlib.pyplot as plt

    if figsize is None:
        figsize = (min(4.2 * ncols, 14.0), 2.6 * nrows + 0.6)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=figsize, squeeze=False, layout="constrained", **kwargs
    )
    return fig, axes


def pretty(name: str) -> str:
    """A variable name as an axis label (``mean_concern`` → ``mean concern``).

    Parameters
    ----------
    name : str
        Variable name.

    Returns
    -------
    str
        Label.
    """
    return name.replace("_", " ")
