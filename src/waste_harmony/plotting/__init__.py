"""Figures researchers want, drawn with matplotlib.

Every function returns the :class:`matplotlib.figure.Figure` (or draws into an
``ax`` you pass), so you can restyle, annotate and save it as usual. Runs may be
given as a :class:`~waste_harmony.CityModel`, a
:class:`~waste_harmony.results.RunResult`, a results folder or a model-level
DataFrame.

* :func:`plot_series` — time series of chosen variables with the scenario events
  (announcement, festivals, decision) marked;
* :func:`plot_ensemble` — median and a 5–95 % band across seeds;
* :func:`plot_city_map` / :func:`plot_city_maps` — the city at its real positions,
  coloured by a variable, sized by population, with the facility site and organism
  colonies marked; small multiples at chosen days;
* :func:`plot_comparison` — two runs or scenarios side by side, with their
  difference over time;
* :func:`convergence_figure` — each output's estimate against the number of
  citizens, with intervals and the tolerance band (``experiments.convergence``);
* :func:`standard_figures` — what ``waste-harmony run`` writes and ``plot`` redraws.

Examples
--------
>>> from waste_harmony import CityModel
>>> from waste_harmony.plotting import plot_series
>>> model = CityModel(n_citizens=200, rng=3)
>>> model.run_for(20)
>>> fig = plot_series(model, ["mean_concern", "mean_pollution"])
>>> bool(fig.axes[0].lines[0].get_ydata()[-1] == model.mean_concern)
True
"""

from waste_harmony.plotting._common import STORY_EVENTS, event_days, mark_events
from waste_harmony.plotting.convergence import convergence_figure
from waste_harmony.plotting.ensemble import ensemble_frame, ensemble_summary, plot_ensemble
from waste_harmony.plotting.maps import map_values, plot_city_map, plot_city_maps
from waste_harmony.plotting.series import DEFAULT_VARIABLES, plot_comparison, plot_series
from waste_harmony.plotting.standard import (
    STANDARD_FIGURES,
    save_standard_figures,
    standard_figures,
)

__all__ = [
    "DEFAULT_VARIABLES",
    "STANDARD_FIGURES",
    "STORY_EVENTS",
    "convergence_figure",
    "ensemble_frame",
    "ensemble_summary",
    "event_days",
    "map_values",
    "mark_events",
    "plot_city_map",
    "plot_city_maps",
    "plot_comparison",
    "plot_ensemble",
    "plot_series",
    "save_standard_figures",
    "standard_figures",
]
