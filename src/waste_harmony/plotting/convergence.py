"""Convergence in the number of citizens: each output's estimate against the sample size."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from waste_harmony.docstrings import shared_sections
from waste_harmony.plotting._common import new_figure, pretty

__all__ = ["convergence_figure"]


@shared_sections
def convergence_figure(table: pd.DataFrame, *, ncols: int = 3, title: str | None = None) -> Figure:
    """One panel per output: estimate and interval per size, the tolerance band, convergence.

    The x axis is citizens per populated district when the table knows it (else
    ``n_citizens``), on a log scale. Each panel shows the estimate at every size with
    its confidence interval, the largest size's estimate (dashed) with the band of
    sizes that agree with it (shaded: a difference of shares for a category, a factor
    for a number), and the converged size (the smallest from which every larger size
    agrees; a dotted line).

    Parameters
    ----------
    table : pandas.DataFrame
        :attr:`waste_harmony.experiments.ConvergenceResult.table` (or the rows of some
        outputs).
    ncols : int
        Panels per row.
    title : str, optional
        Figure title.

    {figure_returns}

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({
    ...     "output": ["x", "x"], "statistic": ["final"] * 2, "size": [100, 1000],
    ...     "per_district": [1.0, 10.0], "estimate": [1.3, 1.0], "ci_low": [1.1, 0.9],
    ...     "ci_high": [1.5, 1.1], "reference": [1.0, 1.0], "tolerance": [1.1, 1.1],
    ...     "category": [False, False], "agrees": [False, True],
    ...     "converged_size": [float("nan")] * 2})
    >>> fig = convergence_figure(table)
    >>> fig.axes[0].get_xscale()
    'log'
    """
    outputs = list(dict.fromkeys(table["output"]))
    ncols = max(1, min(ncols, len(outputs)))
    nrows = math.ceil(len(outputs) / ncols)
    fig, axes = new_figure(nrows, ncols)
    per_district = bool(np.isfinite(table["per_district"].to_numpy(dtype=float)).all())
    xcol = "per_district" if per_district else "size"
    for ax, name in zip(axes.flat, outputs, strict=False):
        rows = table[table["output"] == name].sort_values("size")
        x = rows[xcol].to_numpy(dtype=float)
        y = rows["estimate"].to_numpy(dtype=float)
        # Clipped at 0: an interval of (near) zero width can end a rounding error
        # inside its estimate.
        low = np.maximum(y - rows["ci_low"].to_numpy(dtype=float), 0.0)
        high = np.maximum(rows["ci_high"].to_numpy(dtype=float) - y, 0.0)
        ax.errorbar(x, y, yerr=[low, high], fmt="o-", ms=4, capsize=3, color="C0")
        ref = float(rows["reference"].iloc[0])
        tol = float(rows["tolerance"].iloc[0])
        category = bool(rows["category"].iloc[0])
        band = (ref - tol, ref + tol) if category else (ref / tol, ref * tol)
        ax.axhline(ref, color="k", ls="--", lw=0.8)
        ax.axhspan(*sorted(band), color="0.85", zorder=0)
        converged = float(rows["converged_size"].iloc[0])
        if math.isfinite(converged):
            at = rows.loc[rows["size"] == converged, xcol]
            ax.axvline(float(at.iloc[0]), color="C3", ls=":", lw=1.2)
        ax.set_xscale("log")
        statistic = str(rows["statistic"].iloc[0])
        label = f"share of runs: {statistic}" if category else f"{statistic} {pretty(name)}"
        ax.set_title(f"{pretty(name)} ({label})" if category else label, fontsize=9)
        ax.set_xlabel("citizens per district" if per_district else "n_citizens")
    for ax in list(axes.flat)[len(outputs) :]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    return fig
