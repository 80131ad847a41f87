"""The standard figures of a run, as ``waste-harmony run`` writes and ``plot`` redraws them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from waste_harmony.plotting._common import as_run
from waste_harmony.plotting.maps import plot_city_maps
from waste_harmony.plotting.series import DEFAULT_VARIABLES, plot_series

__all__ = ["STANDARD_FIGURES", "save_standard_figures", "standard_figures"]

#: Names (file stems) of the standard figures and what they show.
STANDARD_FIGURES: dict[str, str] = {
    "overview": "the main model variables over time, scenario events marked",
    "map": "pollution across the city at four days, log colour scale (needs neighbourhood "
    "series and the city)",
}


def standard_figures(run: Any) -> dict[str, Figure]:
    """Draw the standard figures of a run.

    Parameters
    ----------
    run : CityModel, RunResult or results folder
        The run.

    Returns
    -------
    dict
        Figure name (see :data:`STANDARD_FIGURES`) → Figure. ``"map"`` is left out
        when the run has no neighbourhood series or no city graph.

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> model = CityModel(n_citizens=200, rng=0)
    >>> model.run_for(5)
    >>> sorted(standard_figures(model))
    ['map', 'overview']
    """
    data = as_run(run)
    figures = {"overview": plot_series(data, DEFAULT_VARIABLES, ncols=3)}
    if data.city is not None and data.neighborhood_frame is not None:
        figures["map"] = plot_city_maps(data, "pollution", scale="log")
    return figures


def save_standard_figures(
    run: Any, folder: str | os.PathLike[str], *, fmt: str = "png", dpi: int = 110
) -> list[Path]:
    """Draw the standard figures and write them into ``folder`` (atomically, one file each).

    Parameters
    ----------
    run : CityModel, RunResult or results folder
        The run.
    folder : str or os.PathLike
        Destination folder (created if missing); existing figures are replaced.
    fmt : str
        File format understood by matplotlib (``png``, ``pdf``, ``svg``).
    dpi : int
        Resolution of raster formats.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    import matplotlib.pyplot as plt

    from waste_harmony.results import write_atomic

    out = Path(folder)
    written = []
    for name, fig in standard_figures(run).items():
        path = out / f"{name}.{fmt}"
        try:
            write_atomic(path, lambda p, fig=fig: fig.savefig(p, format=fmt, dpi=dpi))
        finally:
            plt.close(fig)
        written.append(path)
    return written
