"""What ``waste-harmony run`` shows and writes: the summary table and the results folder.

Both are public (scripts such as ``examples/flagship.py`` print and publish their
runs the way the command does).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from waste_harmony.recording import OUTPUTS
from waste_harmony.schema import CITY_FILE, FILES, MANIFEST

__all__ = ["SUMMARY_VARIABLES", "check_empty", "publish_results", "summary_table"]

#: Model variables in the summary table printed after a run (``summary`` in
#: :data:`waste_harmony.recording.OUTPUTS`).
SUMMARY_VARIABLES: tuple[str, ...] = tuple(v.name for v in OUTPUTS if v.summary)

#: Files of a results folder that a new run replaces (``--force``), besides the manifest.
RESULT_FILES = (*FILES.values(), CITY_FILE)


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


def check_empty(folder: Path, *, force: bool) -> None:
    """Refuse an output folder that is a file, or holds something and ``force`` is false.

    Raises
    ------
    FileExistsError
        Naming the folder and the way out (``--out``, ``--force``).
    """
    if folder.exists() and not folder.is_dir():
        raise FileExistsError(f"output folder {folder} is a file; choose a folder with --out")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise FileExistsError(
            f"output folder {folder} is not empty; choose another with --out "
            "or replace its results with --force"
        )


def publish_results(
    result: Any, folder: Path, *, force: bool = False, figures: bool = True
) -> list[Path]:
    """Write results (and their standard figures) into ``folder``, crash-safely.

    Everything is first written into a hidden staging folder next to ``folder``
    (through :meth:`~waste_harmony.results.RunResult.save`); only when all files
    are complete are they renamed into place, the manifest last. A crash while
    writing leaves ``folder`` untouched; a folder with a manifest is complete.

    Parameters
    ----------
    result : RunResult
        The results.
    folder : pathlib.Path
        Destination.
    force : bool
        Allow writing into a non-empty folder (replacing earlier results there).
    figures : bool
        Also write the standard figures.

    Returns
    -------
    list of pathlib.Path
        The files now in ``folder`` from this run.

    Raises
    ------
    FileExistsError
        If ``folder`` is not empty and ``force`` is false.
    """
    from waste_harmony.plotting import STANDARD_FIGURES, save_standard_figures

    check_empty(folder, force=force)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.staging-"))
    try:
        result.save(staging, overwrite=True)
        if figures:
            save_standard_figures(result, staging)
        folder.mkdir(exist_ok=True)
        (folder / MANIFEST).unlink(missing_ok=True)  # incomplete until the new one lands
        new = {p.name for p in staging.iterdir()}
        stale = [folder / name for name in RESULT_FILES if name not in new]
        stale += [p for p in folder.iterdir() if p.stem in STANDARD_FIGURES and p.name not in new]
        for path in stale:
            path.unlink(missing_ok=True)
        for name in sorted(new - {MANIFEST}):
            os.replace(staging / name, folder / name)
        os.replace(staging / MANIFEST, folder / MANIFEST)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return sorted(folder / name for name in new)
