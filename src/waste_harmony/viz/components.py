"""Solara components of the city for Mesa's :func:`~mesa.visualization.SolaraViz`.

Each component is a ``@solara.component`` taking the model, the extension point
Mesa's ``SolaraViz(model, components=[...])`` expects. They subscribe to Mesa's
``update_counter`` so they redraw after every step, play tick and reset, and they
memoise their figure on (model, day, choice) so an unrelated re-render costs nothing.

- :func:`CityMap` — the city at its real node positions, neighbourhoods coloured by a
  chosen variable (:data:`~waste_harmony.viz.figures.MAP_VARIABLES`), with the
  facility site, festival plaza, organism colonies and protests marked;
- :func:`SeriesPanel` — live small multiples of the key model series with scenario
  events and the facility's status marked, followed by a :func:`CitySummary`;
- :func:`CitySummary` — setup, headline numbers, parameters and the latest events.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, cast

import solara
from mesa.visualization.utils import update_counter

from waste_harmony.viz.figures import city_map_figure, series_figure

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.figure import Figure

    from waste_harmony.model import CityModel

__all__ = ["MAP_CHOICES", "CityMap", "CitySummary", "SeriesPanel", "png_bytes"]

#: Labels of the map's colour selector → :data:`MAP_VARIABLES` keys.
MAP_CHOICES: dict[str, str] = {
    "concern": "concern",
    "pollution": "pollution",
    "waste stock": "waste_stock_kg",
    "habitat": "habitat",
    "biotech access": "biotech_access",
    "organism biomass": "organism_biomass",
    "protest share": "protest_share",
}


def png_bytes(fig: Figure, *, dpi: float = 90) -> bytes:
    r"""Encode a figure as PNG (fast zlib level; the page re-encodes every step).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    dpi : float
        Resolution.

    Returns
    -------
    bytes
        The PNG file.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> png_bytes(Figure(figsize=(1, 1)))[:4]
    b'\x89PNG'
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


def _version(model: CityModel) -> tuple[int, int, int]:
    # A new model (reset), a new day or a forced update all change the picture.
    return (id(model), int(model.steps), update_counter.value)


@solara.component
def CityMap(model: CityModel) -> None:  # noqa: N802
    """The city map with a selector for the neighbourhood colour variable.

    Parameters
    ----------
    model : CityModel
        The model shown.
    """
    update_counter.get()
    choice = solara.use_reactive("concern")
    version = _version(model)

    def draw() -> tuple[bytes, int]:
        fig = city_map_figure(model, MAP_CHOICES[choice.value])
        # the stubs say ArrayLike; a scatter's offsets are an (n, 2) array
        drawn = len(cast("np.ndarray", fig.axes[0].collections[1].get_offsets()))
        return png_bytes(fig), drawn

    image, drawn = solara.use_memo(draw, [*version, choice.value])
    with solara.Column(gap="4px", style={"padding": "4px"}):
        solara.Text(
            f"Day {model.day}",
            classes=["wh-day"],
            style={"font-size": "20px", "font-weight": "bold"},
        )
        solara.Select(
            label="Colour neighbourhoods by",
            value=choice,
            values=list(MAP_CHOICES),
            classes=["wh-map-choice"],
        )
        solara.Image(image, width="100%", classes=["wh-city-map"])
        solara.Text(
            f"{drawn:,} neighbourhoods drawn at their city positions · "
            f"{model.n_citizens:,} citizens (marker area ∝ residents)",
            classes=["wh-map-caption"],
            style={"font-size": "12px"},
        )


@solara.component
def SeriesPanel(model: CityModel) -> None:  # noqa: N802
    """Live model-level series with scenario events marked.

    Parameters
    ----------
    model : CityModel
        The model shown.
    """
    update_counter.get()
    version = _version(model)
    image = solara.use_memo(lambda: png_bytes(series_figure(model)), list(version))
    with solara.Column(gap="4px", style={"padding": "4px"}):
        solara.Image(image, width="100%", classes=["wh-series"])
        solara.Text(
            f"{len(model.datacollector.model_vars.get('mean_concern', [])):,} days "
            "recorded; dashed lines: scenario events; shading: facility status",
            classes=["wh-series-caption"],
            style={"font-size": "12px"},
        )
        CitySummary(model)


@solara.component
def CitySummary(model: CityModel) -> None:  # noqa: N802
    """Setup, today's headline numbers, the parameters and the latest scenario events.

    Parameters
    ----------
    model : CityModel
        The model shown.
    """
    update_counter.get()
    vars_ = model.datacollector.model_vars
    latest: dict[str, float] = {k: v[-1] for k, v in vars_.items() if v}
    names = ", ".join(s.name for s in model.scenarios) or "none"
    p = model.params
    with solara.Column(gap="2px", style={"padding": "8px", "font-size": "13px"}):
        solara.Text(
            f"{model.n_nodes:,} neighbourhoods · {model.n_citizens:,} citizens · "
            f"scenarios: {names} · facility: {model.facility_status}",
            classes=["wh-setup"],
        )
        if "mean_concern" in latest:
            solara.Markdown(
                f"mean concern **{latest['mean_concern']:.3f}** · protesting "
                f"**{100 * latest['protest_share']:.1f} %** · recycling "
                f"**{100 * latest['recycling_rate']:.1f} %** · pollution "
                f"**{latest['mean_pollution']:.1f} µg/m³** · biotech adoption "
                f"**{100 * latest['biotech_adoption']:.1f} %**"
            )
        solara.Text(
            f"parameters: waste {p.waste_per_capita_kg:g} kg/citizen/day · ε "
            f"{p.concern_confidence:g} · μ {p.concern_convergence:g} · mobility "
            f"{p.mobility:g} · protest threshold {p.protest_threshold_mean:g} · Bass q "
            f"{p.bass_q:g}/yr · organism r {p.organism_growth_rate:g}/day",
            classes=["wh-parameters"],
        )
        events = list(model.event_log)[-6:]
        if events:
            solara.Markdown(
                "**Latest events**\n\n"
                + "\n".join(
                    f"- day {e.day}: {e.kind.replace('_', ' ')}"
                    + ("" if e.node is None else f" at node {e.node}")
                    for e in reversed(events)
                )
            )
