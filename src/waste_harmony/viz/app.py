"""The SolaraViz page of the city: the rebuildable model, its controls and the page.

Mesa's ``SolaraViz`` rebuilds the model on *Reset* as ``type(model)(**controls)``,
where ``controls`` holds the current value of every entry of ``model_params``.
:class:`VizCityModel` is the :class:`~waste_harmony.CityModel` that understands
those controls: a city choice, the number of citizens, a seed, one checkbox per
registered scenario (``"scenario:<name>"``) and the main behaviour parameters.

In Jupyter, display :func:`make_page` (``make_page(n_citizens=20_000)`` as the last
line of a cell); in a browser, run ``waste-harmony viz`` or ``python -m
waste_harmony.viz``, which serve :func:`Page`.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from typing import Any

import networkx as nx
import solara
from mesa.visualization import Slider, SolaraViz

from waste_harmony.agents import Citizen
from waste_harmony.city import default_city, organic_city
from waste_harmony.model import CityModel
from waste_harmony.parameters import Parameters
from waste_harmony.paramspec import ParamSpec
from waste_harmony.scenarios import Scenario, available
from waste_harmony.viz.components import CityMap, SeriesPanel, wait_for_page
from waste_harmony.viz.runfile import RUNFILE_ENV, load_run_model

__all__ = [
    "CITY_CHOICES",
    "COMPONENTS",
    "PARAMETER_CONTROLS",
    "RUNFILE_ENV",
    "SCENARIO_PREFIX",
    "SLIDER_STEPS",
    "STORY_SCENARIOS",
    "Page",
    "VizCityModel",
    "make_page",
    "model_params",
    "page_arguments",
    "parameter_control",
    "settings_of",
]

#: Prefix of the scenario checkboxes' control names: ``"scenario:techcore"``.
SCENARIO_PREFIX = "scenario:"
#: Scenarios ticked by default when they are registered.
STORY_SCENARIOS: tuple[str, ...] = ("techcore", "harmony-festival")

#: Cities offered when the page was not given one: label → builder.
CITY_CHOICES: dict[str, Callable[[], nx.Graph]] = {
    "grid, 100 nodes (default city)": default_city,
    "organic, 400 nodes": lambda: organic_city(400, seed=1),
    "organic, 1,000 nodes": lambda: organic_city(1000, seed=1),
}

#: Main parameters shown as controls in the page. Their ranges, kinds and units come
#: from the one parameter declaration (:meth:`Parameters.specs`,
#: :func:`parameter_control`); only the choice of what to show lives here.
PARAMETER_CONTROLS: tuple[str, ...] = (
    "waste_per_capita_kg",
    "concern_confidence",
    "concern_convergence",
    "mobility",
    "protest_threshold_mean",
    "bass_q",
    "organism_growth_rate",
)
#: Slider steps of the span when the declaration gives no step: about this many.
SLIDER_STEPS = 100

#: The page's components, in Mesa's ``(component, page)`` form.
#: Two side by side: Mesa's grid items have a fixed height, and taller content would
#: overlap an item placed below.
COMPONENTS: list[tuple[Any, int]] = [(CityMap, 0), (SeriesPanel, 0)]


@cache
def _choice_city(label: str) -> nx.Graph:
    return CITY_CHOICES[label]()


def _parse_seed(seed: Any) -> int | None:
    if seed is None or (isinstance(seed, str) and not seed.strip()):
        return None
    try:
        return int(str(seed).strip())
    except ValueError:
        raise ValueError(
            f"seed must be a whole number, got {seed!r}; type digits, or leave "
            "it empty for a fresh random seed"
        ) from None


def _scenario_name(spec: Any) -> str:
    if isinstance(spec, str):
        return spec
    return str(spec.name)


def _fresh(spec: Any) -> Any:
    """A not-yet-installed copy of a scenario template (instances install only once)."""
    if isinstance(spec, Scenario):
        if dataclasses.is_dataclass(spec):
            return dataclasses.replace(spec)
        return type(spec)()
    return spec


class VizCityModel(CityModel):
    """A :class:`~waste_harmony.CityModel` built from the viz page's controls.

    Shown on a page, each step first waits until the page has drawn the day before
    (:func:`~waste_harmony.viz.components.wait_for_page`), so Mesa's Play loop, which
    steps from its own thread, cannot outrun the page.

    Parameters
    ----------
    city : networkx.Graph, optional
        A fixed city; if ``None``, ``city_choice`` picks one of :data:`CITY_CHOICES`
        (default: the default city).
    city_choice : str, optional
        A key of :data:`CITY_CHOICES`, used when ``city`` is ``None``.
    n_citizens : int
        Number of citizens.
    scenarios : iterable
        Scenario templates (instances, classes or names); a fresh copy of each
        ticked one is installed, so the model can be rebuilt any number of times.
    rng : int or str, optional
        Random seed, spelled as for :class:`~waste_harmony.CityModel` and Mesa 3.5
        (text from the seed box is parsed; empty means random). ``seed=`` is a
        deprecated alias (a :class:`FutureWarning`).
    citizen_class : type
        Citizen class.
    scenario : mesa.experimental.scenarios.Scenario, optional
        Mesa's own parameter container (not a scenario module), which SolaraViz's
        Reset passes to every model; ignored, the ``rng`` control sets the seed.
    **controls
        ``"scenario:<name>"`` flags (ticked scenarios are installed: templates with
        their parameters, other registered names with defaults; when no flag is
        given, every template is installed) and behaviour parameters.

    Examples
    --------
    >>> model = VizCityModel(n_citizens=300, rng="7", mobility=0.5)
    >>> model.n_nodes, model.params.mobility, model.seed
    (100, 0.5, 7)
    """

    def __init__(
        self,
        city: nx.Graph | None = None,
        *,
        city_choice: str | None = None,
        n_citizens: int = 10_000,
        scenarios: Iterable[Any] = (),
        rng: Any = None,
        citizen_class: type[Citizen] = Citizen,
        scenario: Any = None,
        **controls: Any,
    ) -> None:
        del scenario  # Mesa's own parameter container, see the docstring
        if city is None and city_choice is not None:
            if city_choice not in CITY_CHOICES:
                raise ValueError(
                    f"unknown city choice {city_choice!r}; choose one of {', '.join(CITY_CHOICES)}"
                )
            city = _choice_city(city_choice)
        flags = {
            key.removeprefix(SCENARIO_PREFIX): bool(controls.pop(key))
            for key in [k for k in controls if k.startswith(SCENARIO_PREFIX)]
        }
        templates = [scenarios] if isinstance(scenarios, str | Scenario) else list(scenarios)
        names = [_scenario_name(t) for t in templates]
        chosen = [
            _fresh(t) for t, name in zip(templates, names, strict=True) if flags.get(name, True)
        ]
        chosen += [name for name, on in flags.items() if on and name not in names]
        if "seed" in controls:  # deprecated spelling: CityModel warns
            controls["seed"] = _parse_seed(controls["seed"])
        super().__init__(
            city=city,
            n_citizens=int(n_citizens),
            scenarios=chosen,
            rng=_parse_seed(rng),
            citizen_class=citizen_class,
            **controls,
        )

    def _wrapped_step(self) -> None:
        # Mesa's Model.__init__ makes this wrapper the instance's `step`. Mesa's Play loop
        # steps from its own thread: each day first waits until the page has drawn the
        # day before (wait_for_page), so playing never outruns the page.
        wait_for_page(self)
        super()._wrapped_step()


def settings_of(model: CityModel) -> dict[str, Any]:
    """The settings that rebuild ``model`` from day 0, as keyword arguments of :func:`make_page`.

    Parameters
    ----------
    model : CityModel
        Any city model (e.g. one built from a run file).

    Returns
    -------
    dict
        ``city``, ``n_citizens``, ``scenarios`` (fresh copies), ``rng``,
        ``citizen_class``, the study's own outputs (``model_reporters``,
        ``neighborhood_reporters``, when given) and the parameters that differ from
        their defaults.

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> settings = settings_of(CityModel(n_citizens=300, rng=3, bass_q=0.5))
    >>> settings["n_citizens"], settings["rng"], settings["bass_q"]
    (300, 3, 0.5)
    """
    defaults = Parameters().to_dict()
    changed = {k: v for k, v in model.params.to_dict().items() if defaults.get(k) != v}
    seed = model.seed if isinstance(model.seed, int) else None
    return {
        "city": model.city,
        "n_citizens": model.n_citizens,
        "scenarios": tuple(_fresh(s) for s in model.scenarios),
        "rng": seed,
        "citizen_class": model.citizen_class,
        **{argument: own for argument, own in model.own_reporters.items() if own},
        **changed,
    }


def model_params(
    *,
    city: nx.Graph | None = None,
    n_citizens: int = 10_000,
    scenarios: Iterable[Any] | None = None,
    rng: int | None = 42,
    citizen_class: type[Citizen] = Citizen,
    model_reporters: Any = None,
    neighborhood_reporters: Any = None,
    **params: Any,
) -> dict[str, Any]:
    """The ``model_params`` of the page: controls plus fixed settings.

    Parameters
    ----------
    city : networkx.Graph, optional
        A fixed city; ``None`` offers a city selector (:data:`CITY_CHOICES`).
    n_citizens : int
        Initial number of citizens (slider up to 10^5).
    scenarios : iterable, optional
        Scenarios ticked at first (instances keep their parameters). ``None`` ticks
        the story's scenarios (:data:`STORY_SCENARIOS`) that are registered. Every
        registered scenario gets a checkbox.
    rng : int, optional
        Initial seed (shown in a text box).
    citizen_class : type
        Citizen class (fixed).
    model_reporters, neighborhood_reporters : mapping or sequence, optional
        A study's own outputs (fixed; as for :class:`~waste_harmony.CityModel`): the
        series panels draw them.
    **params
        Behaviour parameters: the main ones (:data:`PARAMETER_CONTROLS`) start the
        sliders, the others are fixed.

    Returns
    -------
    dict
        Mesa ``model_params``: name → fixed value, :class:`mesa.visualization.Slider`
        or control dict.

    Raises
    ------
    TypeError
        For an unknown parameter name.

    Examples
    --------
    >>> controls = model_params(n_citizens=500)
    >>> controls["n_citizens"].value, controls["city_choice"]["type"]
    (500, 'Select')
    """
    Parameters.from_kwargs(params)  # unknown names fail here, naming the closest one
    registry = available()
    if scenarios is None:
        templates: list[Any] = [name for name in STORY_SCENARIOS if name in registry]
    else:
        templates = [scenarios] if isinstance(scenarios, str | Scenario) else list(scenarios)
    ticked = [_scenario_name(t) for t in templates]
    controls: dict[str, Any] = {}
    if city is None:
        controls["city_choice"] = {
            "type": "Select",
            "label": "City",
            "value": next(iter(CITY_CHOICES)),
            "values": list(CITY_CHOICES),
        }
    else:
        controls["city"] = city
    controls["n_citizens"] = Slider(
        "Citizens",
        value=int(n_citizens),
        min=1_000,
        max=max(100_000, int(n_citizens)),
        step=1_000,
        dtype=int,
    )
    controls["rng"] = {
        "type": "InputText",
        "label": "Seed (empty: random)",
        "value": "" if rng is None else str(rng),
    }
    controls["scenarios"] = tuple(templates)
    for name in dict.fromkeys([*ticked, *registry]):
        description = getattr(registry.get(name), "description", "") or ""
        label = f"{name}: {description}" if description else name
        controls[f"{SCENARIO_PREFIX}{name}"] = {
            "type": "Checkbox",
            "label": label,
            "value": name in ticked,
        }
    defaults = Parameters().to_dict()
    specs = {spec.name: spec for spec in Parameters.specs()}
    for name in PARAMETER_CONTROLS:
        controls[name] = parameter_control(specs[name], params.get(name, defaults[name]))
    for name, value in params.items():
        if name not in PARAMETER_CONTROLS:
            controls[name] = value
    if citizen_class is not Citizen:
        controls["citizen_class"] = citizen_class
    if model_reporters:
        controls["model_reporters"] = model_reporters
    if neighborhood_reporters:
        controls["neighborhood_reporters"] = neighborhood_reporters
    return controls


def _round_step(span: float) -> float:
    """A 1-2-5 step giving about :data:`SLIDER_STEPS` steps over ``span``."""
    raw = max(span, 1e-12) / SLIDER_STEPS
    power = 10.0 ** math.floor(math.log10(raw))
    return next(f * power for f in (1.0, 2.0, 5.0, 10.0) if raw <= f * power * (1 + 1e-9))


def _decimals(value: float) -> int:
    """Decimal places of ``value`` as typed (at most 6): 0.74 → 2, 3.0 → 0."""
    text = f"{value:.6f}".rstrip("0")
    return len(text.split(".")[1]) if "." in text else 0


def parameter_control(spec: ParamSpec, value: Any = None) -> Any:
    """The page control of one parameter, from its declaration.

    Numbers become sliders over the declared range (an open end starts one step
    inside it; an unbounded end stops at ten times the larger of the value and 1),
    labelled with the parameter's name and unit; a parameter with a few
    ``choices`` becomes a select box, a ``bool`` a checkbox.

    Parameters
    ----------
    spec : ParamSpec
        The declaration (:meth:`Parameters.specs` or :meth:`Scenario.parameter_specs`).
    value : optional
        Start value (default: the declared default).

    Returns
    -------
    mesa.visualization.Slider or dict
        A Mesa control.

    Raises
    ------
    ValueError
        For a kind the page cannot show (node ids, mappings, text without choices).

    Examples
    --------
    >>> spec = {s.name: s for s in Parameters.specs()}["mobility"]
    >>> slider = parameter_control(spec, 0.3)
    >>> slider.label, slider.min, slider.max, slider.step
    ('mobility (probability per day)', 0.0, 1.0, 0.01)
    """
    value = spec.default if value is None else value
    unit = "" if spec.unit in ("", "dimensionless") else spec.unit
    label = f"{spec.name.replace('_', ' ')} ({unit})" if unit else spec.name.replace("_", " ")
    if spec.choices:
        return {"type": "Select", "label": label, "value": value, "values": list(spec.choices)}
    if spec.kind == "bool":
        return {"type": "Checkbox", "label": label, "value": bool(value)}
    if not spec.numeric:
        raise ValueError(
            f"parameter {spec.name!r} of kind {spec.kind!r} has no page control; pass it "
            "as a fixed setting instead"
        )
    value = float(value)
    top = spec.high if spec.high is not None else 10.0 * max(abs(value), 1.0)
    bottom = spec.low if spec.low is not None else min(value, 0.0) - (top - min(value, 0.0))
    if spec.kind == "int":
        step = max(1.0, float(round(_round_step(top - bottom))))
    else:
        step = _round_step(top - bottom)
    # the browser shows and reports a slider's value to its step's decimals: a step
    # coarser than the value's last digit would round the value (0.74 → 0.7)
    digits = _decimals(value)
    if spec.kind != "int" and digits:
        step = min(step, 10.0**-digits)
    if spec.low_open:
        bottom += step
    if spec.high_open:
        top -= step
    bottom, top = min(bottom, value), max(top, value)
    # The browser's slider snaps to min + k * step (and reports the snapped value):
    # start the scale so that the current value lies on it.
    low = round(value - math.floor((value - bottom) / step + 1e-9) * step, 10)
    if spec.kind == "int":
        return Slider(
            label, value=int(value), min=int(low), max=int(top), step=int(step), dtype=int
        )
    return Slider(label, value=value, min=low, max=top, step=step, dtype=float)


def _initial_values(controls: Mapping[str, Any]) -> dict[str, Any]:
    """What Mesa's ModelCreator passes on the first Reset: each control's start value."""
    values = {}
    for name, control in controls.items():
        if isinstance(control, Slider):
            values[name] = control.value
        elif isinstance(control, dict) and "type" in control:
            values[name] = control["value"]
        else:
            values[name] = control
    return values


def page_class_of(model_class: type[CityModel]) -> type[VizCityModel]:
    """The class the page builds for a model of ``model_class``: the study's own, shown.

    A subclass of :class:`~waste_harmony.CityModel` (its own agent types, its own
    ``step``) is shown as itself: the page's class derives from both
    :class:`VizCityModel` (which waits for the page) and ``model_class``.

    Parameters
    ----------
    model_class : type
        ``CityModel``, ``VizCityModel`` or a study's subclass of either.

    Returns
    -------
    type
        ``VizCityModel`` itself for the built-in classes.

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> class DepotCity(CityModel):
    ...     pass
    >>> page_class_of(DepotCity).__mro__[1:3] == (VizCityModel, DepotCity)
    True
    """
    if issubclass(model_class, VizCityModel):
        return model_class
    if model_class is CityModel:
        return VizCityModel
    return type(
        model_class.__name__,
        (VizCityModel, model_class),
        {"__module__": model_class.__module__, "__doc__": model_class.__doc__},
    )


def _build(page_class: type[VizCityModel], values: dict[str, Any]) -> VizCityModel:
    """The page's first model; a study's subclass that cannot be rebuilt says how to fix it."""
    try:
        return page_class(**values)
    except TypeError as error:
        if page_class is VizCityModel:
            raise
        raise TypeError(
            f"the page rebuilds {page_class.__name__} from CityModel's keyword arguments "
            f"({', '.join(sorted(values))}) and failed: {error}. Give its __init__ "
            "**kwargs and pass them to super().__init__(**kwargs); its own arguments "
            "need defaults"
        ) from error


def page_arguments(
    model: CityModel | None = None,
    *,
    play_interval: int = 20,
    name: str = "Waste Harmony",
    **settings: Any,
) -> dict[str, Any]:
    """Keyword arguments of Mesa's ``SolaraViz`` for the city page (see :func:`make_page`).

    Parameters
    ----------
    model : CityModel, optional
        See :func:`make_page`.
    play_interval : int
        Milliseconds between steps when playing.
    name : str
        Title in the app bar.
    **settings
        See :func:`make_page`.

    Returns
    -------
    dict
        ``model``, ``components``, ``model_params``, ``name``, ``play_interval``.

    Examples
    --------
    >>> args = page_arguments(n_citizens=2_000, rng=1)
    >>> args["model"].n_citizens, args["model"].day
    (2000, 0)
    """
    if model is not None and settings:
        raise TypeError(
            f"give either a model or settings, not both; got a model and {', '.join(settings)}"
        )
    shown = model if isinstance(model, VizCityModel) else None
    page_class: type[VizCityModel] = VizCityModel
    if model is not None:
        settings = settings_of(model)
        page_class = page_class_of(type(model))
    controls = model_params(**settings)
    if shown is None:
        shown = _build(page_class, _initial_values(controls))
    return {
        "model": shown,
        "components": list(COMPONENTS),
        "model_params": controls,
        "name": name,
        "play_interval": play_interval,
    }


def make_page(model: CityModel | None = None, **kwargs: Any) -> Any:
    """The SolaraViz page of a city: map, live series, summary and controls.

    Parameters
    ----------
    model : CityModel, optional
        A :class:`VizCityModel` is shown as it is; any other city model (e.g. from a
        run file) provides the settings (:func:`settings_of`) of a fresh run from day 0.
    **kwargs
        ``play_interval`` (ms between steps when playing), ``name`` (title), and, when
        no model is given, the keyword arguments of :func:`model_params` (``city``,
        ``n_citizens``, ``scenarios``, ``rng``, behaviour parameters).

    Returns
    -------
    solara element
        Display it in Jupyter (last expression of a cell) or return it from a page.

    Examples
    --------
    >>> page = make_page(n_citizens=2_000, rng=1)
    >>> type(page).__name__
    'Element'
    """
    return SolaraViz(**page_arguments(model, **kwargs))


def _settings_from_environment() -> dict[str, Any]:
    path = os.environ.get(RUNFILE_ENV)
    if not path:
        return {}
    return {"model": load_run_model(path)}


@solara.component
def Page() -> Any:  # noqa: N802  (Solara components are CapWords)
    """The page served by ``waste-harmony viz``: one fresh model per browser session.

    Reads a run file from the ``WASTE_HARMONY_VIZ_RUNFILE`` environment variable,
    if set; otherwise starts from the default settings.
    """
    arguments = solara.use_memo(lambda: page_arguments(**_settings_from_environment()), [])
    return SolaraViz(**arguments)
