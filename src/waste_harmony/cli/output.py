"""What ``waste-harmony run`` shows and writes: the summary table and the results folder.

Both are public (scripts such as ``examples/flagship.py`` print and publish their
runs the way the command does).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from waste_harmony.recording import OUTPUTS
from waste_harmony.results import run_files, save_run
from waste_harmony.storage import check_destination, check_writable

__all__ = [
    "FIGURE_FORMATS",
    "SUMMARY_VARIABLES",
    "TABLE_POINTS",
    "check_output_folder",
    "publish_results",
    "summary_table",
    "sweep_table",
]

#: Model variables in the summary table printed after a run (``summary`` in
#: :data:`waste_harmony.recording.OUTPUTS`).
SUMMARY_VARIABLES: tuple[str, ...] = tuple(v.name for v in OUTPUTS if v.summary)

#: Points a sweep's table shows side by side; of more, the first and last halves (a
#: 1,000-point sweep printed a table 1,000 columns wide).
TABLE_POINTS = 6

#: File formats of the standard figures (``waste-harmony plot --format``).
FIGURE_FORMATS = ("png", "pdf", "svg")

#: What to do about a non-empty output folder, on the command line.
FORCE = "choose another with --out, or replace its results with --force"


def _legacy_figures() -> list[str]:
    """The figure files a results folder held before manifests listed their files."""
    from waste_harmony.plotting import STANDARD_FIGURES

    return [f"{name}.{fmt}" for name in STANDARD_FIGURES for fmt in FIGURE_FORMATS]


def summary_table(frame: pd.DataFrame, *, variables: Sequence[str] = SUMMARY_VARIABLES) -> str:
    """A short text table of a run's outcome: per variable its start, final value and peak.

    The peak is the largest value over every day of the run, with the (first) day it
    was reached, so a short-lived episode (a protest wave) shows even when it is over
    by the end.

    Parameters
    ----------
    frame : pandas.DataFrame
        Model-level series indexed by day.
    variables : sequence of str
        Rows of the table (those missing from ``frame`` are skipped; a variable
        that is not a number gets no peak).

    Returns
    -------
    str
        The table.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"protest_share": [0.0, 0.055, 0.0]},
    ...                      index=pd.Index([1, 2, 3], name="day"))
    >>> print(summary_table(frame))
                  start (day 1) final (day 3)  peak peak day
    protest_share         0.000         0.000 0.055        2
    """
    first, last = frame.index[0], frame.index[-1]
    rows = {}
    for name in (v for v in variables if v in frame.columns):
        series = frame[name]
        row: dict[str, Any] = {"start": series.iloc[0], "final": series.iloc[-1]}
        if pd.api.types.is_numeric_dtype(series):
            row["peak"] = float(series.max())
            row["peak day"] = str(series.idxmax())
        else:
            row["peak"], row["peak day"] = "", ""
        rows[name] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table = table.rename(columns={"start": f"start (day {first})", "final": f"final (day {last})"})

    def show(v: Any) -> str:
        return f"{v:,.3f}" if isinstance(v, float) else str(v)

    return table.to_string(formatters=dict.fromkeys(table.columns, show))


def sweep_table(
    summary: pd.DataFrame, parameters: Sequence[str], *, max_points: int = TABLE_POINTS
) -> str:
    """The last day of a sweep: each variable's mean and interval, one column per point.

    Parameters
    ----------
    summary : pandas.DataFrame
        :meth:`~waste_harmony.experiments.SweepResult.summary` of the variables (a
        categorical one gives the share of runs per category).
    parameters : sequence of str
        The swept parameters (they head the columns).
    max_points : int
        Columns at most: of more points, the first and last ``max_points // 2``
        with a ``…`` column between them.

    Returns
    -------
    str
        One row per variable (and category: ``facility_status = withdrawn``), one
        column per point: ``mean [ci_low, ci_high]`` on the last day.

    Examples
    --------
    >>> import pandas as pd
    >>> summary = pd.DataFrame({"point": [0, 1], "bass_q": [0.2, 0.4], "day": [9, 9],
    ...     "variable": "biotech_adoption", "mean": [0.1, 0.3], "ci_low": [0.05, 0.2],
    ...     "ci_high": [0.15, 0.4]})
    >>> print(sweep_table(summary, ["bass_q"]))
                            bass_q=0.2      bass_q=0.4
    biotech_adoption  0.1 [0.05, 0.15]  0.3 [0.2, 0.4]
    """
    last = summary[summary["day"] == summary["day"].max()].copy()
    last["cell"] = [
        f"{m:,.3g} [{lo:,.3g}, {hi:,.3g}]"
        for m, lo, hi in zip(last["mean"], last["ci_low"], last["ci_high"], strict=True)
    ]
    if "category" in last:  # a category's rows: "facility_status = withdrawn"
        named = last["category"].notna()
        last.loc[named, "variable"] = last["variable"] + " = " + last["category"].astype(str)
    swept = [p for p in parameters if p in last.columns]
    last["at"] = [
        ", ".join(
            f"{p}={row[p]:g}" if isinstance(row[p], float) else f"{p}={row[p]}" for p in swept
        )
        or f"point {row['point']}"
        for _, row in last.iterrows()
    ]
    order = list(dict.fromkeys(last.sort_values("point")["at"]))
    table = last.pivot_table(index="variable", columns="at", values="cell", aggfunc="first")
    half = max(max_points // 2, 1)
    if len(order) > max_points:
        table = table.reindex(columns=order[:half] + order[-half:])
        table.insert(half, "…", "…")
    else:
        table = table.reindex(columns=order)
    table.columns.name = None
    table.index.name = None
    return table.to_string()


def check_output_folder(
    folder: str | Path, *, force: bool, forbid: Iterable[tuple[Path, str]] = ()
) -> Path:
    """Refuse an output folder the run may not write into, before the run starts.

    Refused: empty text, the current directory and the ``forbid`` folders (the run
    file's own); a file; a folder holding anything without ``force``; with
    ``force``, a folder holding files waste-harmony did not write (named); a folder
    that cannot be written (permission, read-only file system).

    Raises
    ------
    ValueError, FileExistsError
        Naming the folder and the way out (``--out``, ``--force``).
    waste_harmony.storage.WriteError
        If the folder cannot be written.
    """
    path = check_destination(
        folder,
        replace=force,
        owned=lambda path: run_files(path, legacy=_legacy_figures()),
        forbid=forbid,
        how=FORCE,
    )
    check_writable(path)
    return path


def publish_results(
    result: Any,
    folder: str | Path,
    *,
    force: bool = False,
    figures: bool = True,
    forbid: Iterable[tuple[Path, str]] = (),
) -> list[Path]:
    """Write results (and their standard figures) into ``folder``, all or nothing.

    Through :func:`waste_harmony.results.save_run`: everything is first written
    into a hidden staging folder inside ``folder``; only when every file is
    complete are they renamed into place, the manifest (listing every file with
    its SHA-256) last. A crash while writing leaves ``folder`` as it was; a folder
    with a manifest is complete. ``force`` replaces only files waste-harmony wrote
    (those the manifest lists); a folder holding anything else is refused.

    Parameters
    ----------
    result : RunResult
        The results.
    folder : str or pathlib.Path
        Destination.
    force : bool
        Replace earlier results in ``folder``.
    figures : bool
        Also write the standard figures.
    forbid : iterable of (pathlib.Path, str)
        Folders that must not be the destination, with why (the run file's own).

    Returns
    -------
    list of pathlib.Path
        The files now in ``folder`` from this run.

    Raises
    ------
    FileExistsError
        If ``folder`` is not empty and ``force`` is false, or holds files
        waste-harmony did not write.
    ValueError
        If ``folder`` is empty text, the current directory or forbidden.
    waste_harmony.storage.WriteError
        If the environment refuses a write (disk full, read-only, ...).
    """

    def draw(staging: Path) -> None:
        if figures:
            from waste_harmony.plotting import save_standard_figures

            save_standard_figures(result, staging)

    out = save_run(
        folder,
        result.tables(),
        result.manifest,
        city=result.city,
        replace=force,
        extra=draw,
        legacy=_legacy_figures(),
        forbid=forbid,
        how=FORCE,
    )
    return sorted(out / name for name in run_files(out))
