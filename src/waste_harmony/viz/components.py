"""Solara components of the city for Mesa's :func:`~mesa.visualization.SolaraViz`.

Each component is a ``@solara.component`` taking the model, the extension point
Mesa's ``SolaraViz(model, components=[...])`` expects. They subscribe to Mesa's
``update_counter`` so they redraw after every step, play tick and reset; each keeps
one figure per model and updates it in place (blitting only what changed), and
memoises its image on (model, day, choice) so an unrelated re-render costs nothing.

- :func:`CityMap` — the city at its real node positions, neighbourhoods coloured by a
  chosen variable (:data:`~waste_harmony.viz.figures.MAP_VARIABLES`) on a colour
  scale that follows the data or is fixed, with the facility site, the festival
  ground, organism colonies and protests marked; it also makes every slider of the
  page show its value (:data:`SLIDER_VALUES_CSS`);
- :func:`SeriesPanel` — live small multiples of the key model series with a strip of
  scenario events and the facility's status shaded, followed by a :func:`CitySummary`;
- :func:`CitySummary` — setup, headline numbers, parameters and the latest events.
"""

from __future__ import annotations

import html
import io
import json
import threading
import weakref
from typing import TYPE_CHECKING, Any

import numpy as np
import reacton.core
import solara
from mesa.visualization.utils import update_counter

from waste_harmony.docstrings import shared_sections
from waste_harmony.viz.figures import CityMapView, SeriesView

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from waste_harmony.model import CityModel

__all__ = [
    "MAP_CHOICES",
    "SCALE_CHOICES",
    "SLIDER_VALUES_CSS",
    "CityMap",
    "CitySummary",
    "SeriesPanel",
    "png_bytes",
    "wait_for_page",
]

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
#: Labels of the map's colour-scale selector → :func:`colour_limits` scales.
SCALE_CHOICES: dict[str, str] = {
    "follow the data": "auto",
    "fixed (full range)": "fixed",
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


#: One figure drawn at a time: Mesa's Play loop renders from its own thread.
_DRAWING = threading.RLock()
#: The render context showing each model (see :func:`wait_for_page`).
_PAGES: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def _version(model: CityModel) -> tuple[int, int, int]:
    # A new model (reset), a new day or a forced update all change the picture.
    return (id(model), int(model.steps), update_counter.value)


def _remember_page(model: CityModel) -> None:
    context = reacton.core.get_render_context(required=False)
    if context is not None:
        _PAGES[model] = weakref.ref(context)


@shared_sections
def wait_for_page(model: CityModel, timeout: float = 5.0) -> None:
    """Block until the page showing ``model`` has finished drawing its last step.

    Mesa's Play loop steps the model from its own thread and asks for a render after
    each step; when another thread is rendering the page at that moment (a click,
    a choice), the loop does not wait and steps again mid-render. Called before each
    step of a :class:`~waste_harmony.viz.app.VizCityModel`, this lets every step be
    drawn before the next one, so Play cannot outrun the page
    (no skipped days, no "Too many renders"). It returns at once when no page shows
    ``model``, in the rendering thread itself, or after ``timeout`` seconds.

    Parameters
    ----------
    {model_parameter}
    timeout : float
        Longest wait, in seconds.

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> wait_for_page(CityModel(n_citizens=200, rng=1))  # no page: returns at once
    """
    ref = _PAGES.get(model)
    context = ref() if ref is not None else None
    lock = getattr(context, "thread_lock", None)
    if lock is None or getattr(context, "_lock_thread", None) is threading.current_thread():
        return
    if lock.acquire(timeout=timeout):
        lock.release()


#: Shows every slider's value next to its thumb, not only while dragging (Vuetify
#: hides the thumb label with an inline ``display: none`` when not focused).
SLIDER_VALUES_CSS = """
.v-slider__thumb-label-container { display: block !important; }
.v-slider__thumb-label { transform: translateY(-20%) translateX(-50%) rotate(45deg) scale(0.85); }
.v-input__slider { margin-top: 18px; }
"""


@solara.component
def CityMap(model: CityModel) -> None:  # noqa: N802
    """The city map with selectors for the colour variable and the colour scale.

    One :class:`~waste_harmony.viz.figures.CityMapView` per model is kept and
    updated in place; only its changing artists are redrawn each day. Only the day
    label, the image and its caption are rendered again after a step, not the
    selectors.

    Parameters
    ----------
    model : CityModel
        The model shown.
    """
    choice = solara.use_reactive("concern")
    scale = solara.use_reactive(next(iter(SCALE_CHOICES)))
    view = solara.use_memo(lambda: CityMapView(model, title=False), [id(model)])
    with solara.Column(gap="4px", style={"padding": "4px"}):
        solara.v.Html(tag="style", children=[SLIDER_VALUES_CSS], class_="wh-slider-values")
        _Day(model)
        with solara.Row(gap="8px"):
            solara.Select(
                label="Colour neighbourhoods by",
                value=choice,
                values=list(MAP_CHOICES),
                classes=["wh-map-choice"],
            )
            solara.Select(
                label="Colour scale",
                value=scale,
                values=list(SCALE_CHOICES),
                classes=["wh-map-scale"],
            )
        _MapFrame(model, view, choice.value, scale.value)


@solara.component
def _Day(model: CityModel) -> None:  # noqa: N802
    update_counter.get()
    solara.Text(
        f"Day {model.day}",
        classes=["wh-day"],
        style={"font-size": "20px", "font-weight": "bold"},
    )


@solara.component
def _MapFrame(model: CityModel, view: CityMapView, choice: str, scale: str) -> None:  # noqa: N802
    """Today's map image and caption: what a step renders again."""
    update_counter.get()
    _remember_page(model)
    version = _version(model)

    def draw() -> tuple[bytes, dict[str, int]]:
        with _DRAWING:  # Play steps and renders from more than one thread
            view.update(model, MAP_CHOICES[choice], SCALE_CHOICES[scale])
            return view.image(), dict(view.counts)

    image, counts = solara.use_memo(draw, [*version, choice, scale])
    with solara.Column(gap="4px"):
        solara.Image(image, format="jpeg", width="100%", classes=["wh-city-map"])
        solara.Text(
            f"{model.n_nodes:,} neighbourhoods drawn at their city positions · "
            f"{model.n_citizens:,} citizens (marker area ∝ residents) · protests in "
            f"{counts['protest']} · colonies {counts['colony']}",
            classes=["wh-map-caption"],
            style={"font-size": "12px"},
        )


@solara.component
def SeriesPanel(model: CityModel) -> None:  # noqa: N802
    """Live model-level series with scenario events on a strip below.

    One :class:`~waste_harmony.viz.figures.SeriesView` per model is kept and updated
    in place.

    Parameters
    ----------
    model : CityModel
        The model shown.
    """
    view = solara.use_memo(lambda: SeriesView(outputs=model.outputs), [id(model)])
    with solara.Column(gap="4px", style={"padding": "4px"}):
        _SeriesFrame(model, view)
        CitySummary(model)


@solara.component
def _SeriesFrame(model: CityModel, view: SeriesView) -> None:  # noqa: N802
    update_counter.get()
    version = _version(model)

    def draw() -> tuple[bytes, int, str]:
        with _DRAWING:
            image = view.update(model).image()
            # the panels' tick labels as drawn, for readers and tests of the page
            ticks = json.dumps(view.ticks())
            return image, int(np.size(view.lines[0].get_xdata())), ticks

    image, n_days, ticks = solara.use_memo(draw, list(version))
    with solara.Column(gap="4px"):
        solara.Image(image, format="jpeg", width="100%", classes=["wh-series"])
        solara.HTML(
            tag="div",
            unsafe_innerHTML=html.escape(ticks),
            classes=["wh-series-ticks"],
            style={"display": "none"},
        )
        solara.Text(
            f"{n_days:,} days recorded; ticks below: scenario events (a row per kind); "
            "shading: facility status",
            classes=["wh-series-caption"],
            style={"font-size": "12px"},
        )


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
    latest: dict[str, Any] = {k: (v[-1] if v else None) for k, v in vars_.items()}
    names = ", ".join(s.name for s in model.scenarios) or "none"
    p = model.params
    with solara.Column(gap="2px", style={"padding": "8px", "font-size": "13px"}):
        solara.Text(
            f"{model.n_nodes:,} neighbourhoods · {model.n_citizens:,} citizens · "
            f"scenarios: {names} · facility: {model.facility_status}",
            classes=["wh-setup"],
        )
        if latest.get("mean_concern") is not None:
            # plain HTML, not Markdown: a step re-renders this, and Markdown is slow
            solara.HTML(
                tag="div",
                unsafe_innerHTML=(
                    f"mean concern <b>{latest['mean_concern']:.3f}</b> · protesting "
                    f"<b>{100 * latest['protest_share']:.1f} %</b> · recycling "
                    f"<b>{100 * latest['recycling_rate']:.1f} %</b> · pollution "
                    f"<b>{latest['mean_pollution']:.1f} µg/m³</b> · biotech adoption "
                    f"<b>{100 * latest['biotech_adoption']:.1f} %</b>"
                ),
                classes=["wh-headline"],
            )
        solara.Text(
            f"parameters: waste {p.waste_per_capita_kg:g} kg/citizen/day · ε "
            f"{p.concern_confidence:g} · μ {p.concern_convergence:g} · mobility "
            f"{p.mobility:g} · protest threshold {p.protest_threshold_mean:g} · Bass q "
            f"{p.bass_q:g}/yr · organism r {p.organism_growth_rate:g}/day",
            classes=["wh-parameters"],
        )
        events = list(model.event_log)[-6:]
        solara.HTML(
            tag="div",
            unsafe_innerHTML=(
                "<b>Latest events</b><ul>"
                + "".join(
                    f"<li>day {e.day}: {html.escape(e.kind.replace('_', ' '))}"
                    + ("" if e.node is None else f" at node {html.escape(str(e.node))}")
                    + "</li>"
                    for e in reversed(events)
                )
                + "</ul>"
                if events
                else ""
            ),
            classes=["wh-events"],
        )
