"""The scenario plug-in base class.

A scenario is a named, parameterised module that drives the story by scheduling
its own bound methods on the model's clock and/or adding rules to the step
pipeline. Like a scikit-learn estimator, ``__init__`` only stores parameters
(declare them as dataclass fields); validation happens in :meth:`Scenario.validate`
when the scenario is installed, and all randomness comes from ``model.rng``.

Timing: an event scheduled with :meth:`Scenario.schedule` for day ``d`` runs in
the *morning* of day ``d`` (model time ``d - 0.5``), before that day's rules, so
the row recorded for day ``d`` shows its effect.

Parameters carry their unit, admissible range and meaning in dataclass field
metadata, declared with :func:`parameter` (as :mod:`waste_harmony.parameters`
does for the model): the types and ranges are checked when the scenario is
installed, before anything runs, and :meth:`Scenario.parameter_table` lists them
(``waste-harmony list`` shows it).

Run length: the model does not know how long it will be run (``run_for`` can be
called many times). Pass the optional hint ``CityModel(days=...)`` to have every
scenario's schedule checked against it at install time (:meth:`Scenario.check_day`);
without the hint only the lower bound (not in the past) is checked.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from mesa.time import Schedule

from waste_harmony import paramspec
from waste_harmony.paramspec import Constraint, Kind, ParamSpec, declare, kind_of

if TYPE_CHECKING:
    from waste_harmony.pipeline import Rule
    from waste_harmony.services import CityServices

__all__ = ["Scenario", "amount", "days", "parameter", "share"]


def parameter(
    default: Any,
    *,
    unit: str = "",
    low: float | None = None,
    high: float | None = None,
    doc: str = "",
    source: str = "",
    kind: Kind | None = None,
    low_open: bool = False,
    high_open: bool = False,
    choices: tuple[Any, ...] = (),
    optional: bool | None = None,
    constraints: tuple[Constraint, ...] = (),
) -> Any:
    """Declare a scenario parameter: a dataclass field with unit, range and meaning.

    The same declaration as the model's parameters
    (:class:`waste_harmony.paramspec.ParamSpec`): one validation path (kind, finite,
    range, choices, constraints) and one renderer for both.

    Parameters
    ----------
    default : object
        Default value (immutable).
    unit : str
        Unit, e.g. ``"days"`` or ``"concern units"``.
    low, high : float, optional
        Admissible range for numbers, checked at install time (closed unless
        ``low_open``/``high_open``). Numbers must be finite in any case.
    doc : str
        One-line meaning.
    source : str
        Published source or ``"assumption"``.
    kind : {"float", "int", "bool", "str", "node", "mapping"}, optional
        The kind of value. Default: taken from ``default`` (``None`` gives
        ``"node"``, any hashable value; a whole-number default of a field annotated
        ``float`` gives ``"float"``).
    low_open, high_open : bool
        Exclude the bound itself.
    choices : tuple
        The admissible values, if only a few are.
    optional : bool, optional
        ``None`` is admissible (default: when ``default`` is ``None``).
    constraints : tuple of Constraint
        Conditions on this parameter alone beyond its range; joint conditions
        between parameters go to the class attribute :attr:`Scenario.constraints`.

    Returns
    -------
    dataclasses.Field
        The field (use as the class attribute's default).

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Drill(Scenario):
    ...     name = "drill"
    ...     day: int = parameter(10, unit="day", low=1, doc="day of the drill")
    >>> row = Drill.parameter_table()[0]
    >>> row["range"], row["range_text"], row["kind"]
    ((1, None), '[1, ∞)', 'int')
    """
    field_ = declare(
        default,
        kind=kind_of(default) if kind is None else kind,
        unit=unit,
        low=low,
        high=high,
        low_open=low_open,
        high_open=high_open,
        choices=tuple(choices),
        optional=(default is None) if optional is None else optional,
        source=source,
        meaning=doc,
        constraints=tuple(constraints),
    )
    if kind is None:
        field_.metadata = types.MappingProxyType({**field_.metadata, "kind_inferred": True})
    return field_


# The three ranges most scenario parameters have, declared once: a declaration then
# says what the value is (a share, an amount, days) and :func:`parameter` the rest.


def share(default: float, *, unit: str = "", doc: str = "", source: str = "") -> Any:
    """Declare a share or a probability: a :func:`parameter` in [0, 1].

    Examples
    --------
    >>> share(0.2, unit="probability", doc="who comes").metadata["range"]
    (0.0, 1.0)
    """
    return parameter(default, unit=unit, low=0.0, high=1.0, doc=doc, source=source)


def amount(
    default: float, *, unit: str = "", doc: str = "", source: str = "", high: float | None = None
) -> Any:
    """Declare an amount, a rate or a weight: a :func:`parameter` ``>= 0`` (``<= high``)."""
    return parameter(default, unit=unit, low=0.0, high=high, doc=doc, source=source)


def days(
    default: int, *, unit: str = "days", doc: str = "", source: str = "", high: int | None = None
) -> Any:
    """Declare a day of the run or a number of days: a whole-number :func:`parameter` ``>= 1``."""
    return parameter(default, unit=unit, low=1, high=high, doc=doc, source=source)


class Scenario:
    """Base class of scenario modules.

    Subclasses are dataclasses whose fields are the scenario's parameters, set
    ``name`` and ``description``, and implement :meth:`setup` (schedule events, add
    rules) and optionally :meth:`validate`.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> from waste_harmony import CityModel
    >>> @dataclass
    ... class CleanUpDay(Scenario):
    ...     name = "clean-up-day"
    ...     description = "Volunteers clear a share of every neighbourhood's waste once."
    ...     day: int = 5
    ...     share: float = 0.5
    ...     def setup(self, model):
    ...         self.schedule(self.clean, day=self.day)
    ...     def clean(self):
    ...         stock = self.model.neighborhoods.waste_stock_kg
    ...         self.model.consume_waste(stock * self.share)
    ...         self.log("clean_up")
    >>> model = CityModel(n_citizens=100, scenarios=[CleanUpDay()], rng=0)
    >>> model.run_for(6)
    >>> [e.day for e in model.event_log.of_kind("clean_up")]
    [5]
    """

    #: Registry name (lower-case, hyphenated).
    name: ClassVar[str] = ""
    #: One-line description shown by ``waste-harmony list``.
    description: ClassVar[str] = ""
    #: Names of scenarios that cannot be installed in the same model.
    conflicts_with: ClassVar[tuple[str, ...]] = ()
    #: Conditions that must hold jointly between parameters, checked before anything
    #: runs and shown in the parameter table (see :class:`waste_harmony.paramspec.Constraint`).
    constraints: ClassVar[tuple[Constraint, ...]] = ()

    # -- lifecycle ---------------------------------------------------------------
    def install(self, model: CityServices) -> None:
        """Validate and attach this scenario to ``model`` (called by the model).

        Parameters
        ----------
        model : CityServices
            The model.

        Raises
        ------
        ValueError
            If already installed, or if :meth:`validate` rejects the parameters.
        """
        if getattr(self, "_model", None) is not None:
            raise ValueError(
                f"scenario {self.name!r} is already installed in a model; "
                "create a new instance for each model"
            )
        self.check_parameters()
        self.validate(model)
        self._model = model
        self._events: list[Any] = []
        self._generators: list[Any] = []
        self._rules: list[str] = []
        self.active = True
        self.setup(model)

    def validate(self, model: CityServices) -> None:
        """Check parameters against the model before anything runs (override).

        Parameters
        ----------
        model : CityServices
            The model the scenario is about to be installed in.
        """

    def setup(self, model: CityServices) -> None:
        """Schedule events and add rules (override).

        Parameters
        ----------
        model : CityServices
            The model.
        """

    def switch_off(self) -> None:
        """Stop this scenario mid-run: cancel its events, stop recurring ones, remove its rules."""
        if not getattr(self, "active", False):
            return
        for event in self._events:
            event.cancel()
        for generator in self._generators:
            generator.stop()
        for rule in self._rules:
            if rule in self.model.pipeline:
                self.model.pipeline.remove(rule)
        self.active = False
        self.log("scenario_switched_off")

    def check_day(self, label: str, day: float, model: CityServices) -> None:
        """Check that a scheduled ``day`` is in the run: not past, not beyond the hint.

        Parameters
        ----------
        label : str
            Name of the parameter holding the day (used in the message).
        day : float
            The day.
        model : CityServices
            The model (its ``day`` and optional ``days`` hint).

        Raises
        ------
        ValueError
            If ``day`` is before the next day to simulate, or after ``model.days``.
        """
        first = model.day + 1 if model.time > 0 else 1
        if day < first:
            raise ValueError(
                f"scenario {self.name!r}: {label}={day} is in the past (the next "
                f"day to simulate is {first}); choose a later day"
            )
        horizon = getattr(model, "days", None)
        if horizon is not None and day > horizon:
            raise ValueError(
                f"scenario {self.name!r}: {label}={day} is beyond the run "
                f"(days={horizon}); choose a day <= {horizon} or run longer"
            )

    def _check_not_past(self, label: str, day: float, at: float, method: Any) -> None:
        # Our message instead of Mesa's "Cannot schedule event in the past".
        model = self.model
        if at < model.time:
            first = model.day + 1 if model.time > 0 else 1
            raise ValueError(
                f"scenario {self.name!r}: {getattr(method, '__name__', 'an event')} is "
                f"scheduled on {label}={day}, which is in the past (the next day to "
                f"simulate is {first}; day 0 is the initial state); choose a later day"
            )

    # -- helpers for subclasses --------------------------------------------------
    @property
    def model(self) -> CityServices:
        """The model this scenario is installed in."""
        model = getattr(self, "_model", None)
        if model is None:
            raise RuntimeError(f"scenario {self.name!r} is not installed in a model")
        return model

    def schedule(
        self, method: Callable[[], None], *, day: float, after_others: bool = False
    ) -> Any:
        """Run a bound method in the morning of ``day``.

        Parameters
        ----------
        method : callable
            A bound method of this scenario (Mesa holds it by weak reference, so
            lambdas and ``functools.partial`` are refused).
        day : float
            The day (≥ the current day + 1, or the current day if it has not run yet).
        after_others : bool
            Run later that morning, after the events scheduled without it (for
            example a demonstration at a festival, after the festival has gathered
            its visitors).

        Returns
        -------
        mesa.time.Event
            The scheduled event (cancel with ``.cancel()``).
        """
        _check_callback(method)
        at = day - (0.25 if after_others else 0.5)
        self._check_not_past("day", day, at, method)
        event = self.model.schedule_event(method, at=at)
        self._events.append(event)
        return event

    def schedule_every(
        self,
        method: Callable[[], None],
        *,
        start_day: float,
        interval_days: float,
        end_day: float | None = None,
    ) -> Any:
        """Run a bound method in the morning of ``start_day`` and every ``interval_days``.

        Parameters
        ----------
        method : callable
            A bound method of this scenario.
        start_day : float
            First day.
        interval_days : float
            Days between runs.
        end_day : float, optional
            Last possible day.

        Returns
        -------
        mesa.time.EventGenerator
            The generator (stop with ``.stop()``).
        """
        schedule = Schedule(
            interval=interval_days,
            start=start_day - 0.5,
            end=None if end_day is None else end_day - 0.5,
        )
        _check_callback(method)
        self._check_not_past("start_day", start_day, start_day - 0.5, method)
        generator = self.model.schedule_recurring(method, schedule)
        self._generators.append(generator)
        return generator

    def add_rule(
        self, name: str, rule: Rule, *, before: str | None = None, after: str | None = None
    ) -> None:
        """Add a vectorised rule to the model's pipeline; removed by :meth:`switch_off`.

        Parameters
        ----------
        name : str
            Unique rule name.
        rule : callable
            ``rule(model) -> None``.
        before, after : str, optional
            Position relative to an existing rule.
        """
        self.model.pipeline.add(name, rule, before=before, after=after)
        self._rules.append(name)

    def remove_rule(self, name: str) -> bool:
        """Remove a rule this scenario added with :meth:`add_rule` (e.g. when an activity ends).

        Parameters
        ----------
        name : str
            The rule's name.

        Returns
        -------
        bool
            ``True`` if the rule was in the pipeline and is now removed, ``False`` if
            it was gone already.

        Raises
        ------
        KeyError
            If this scenario never added a rule of that name.
        """
        if name not in self._rules:
            raise KeyError(
                f"scenario {self.name!r} has no rule named {name!r}; its rules: {self._rules}"
            )
        self._rules.remove(name)
        if name in self.model.pipeline:
            self.model.pipeline.remove(name)
            return True
        return False

    def stop_recurring(self) -> None:
        """Stop every recurring event this scenario started with :meth:`schedule_every`.

        One-off events (:meth:`schedule`) and rules stay; :meth:`switch_off` stops all.
        """
        for generator in self._generators:
            generator.stop()

    def log(self, kind: str, node: Any = None, **details: Any) -> None:
        """Write an event to the model's log, tagged with this scenario's name.

        Parameters
        ----------
        kind : str
            What happened.
        node : hashable, optional
            Where.
        **details
            Anything else.
        """
        self.model.log_event(kind, node=node, scenario=self.name, **details)

    # -- introspection -------------------------------------------------------------
    @classmethod
    def parameter_fields(cls) -> list[dataclasses.Field]:
        """The scenario's parameters (dataclass fields).

        Returns
        -------
        list of dataclasses.Field
            Empty if the subclass declares none.
        """
        if not dataclasses.is_dataclass(cls):
            return []
        return [f for f in dataclasses.fields(cls) if not f.name.startswith("_")]

    @classmethod
    def parameter_specs(cls) -> list[ParamSpec]:
        """The scenario's declared parameters, one :class:`~waste_harmony.paramspec.ParamSpec` each.

        Returns
        -------
        list of ParamSpec
            In definition order (plain dataclass fields get a spec from their default).
        """
        out = []
        for spec, f in zip(paramspec.specs(cls), cls.parameter_fields(), strict=True):
            inferred = f.metadata.get("kind_inferred", "spec" not in f.metadata)
            if inferred and spec.kind == "int" and f.type in (float, "float"):
                spec = dataclasses.replace(spec, kind="float")  # `x: float = parameter(1)`
            out.append(spec)
        return out

    def parameters(self) -> dict[str, Any]:
        """Current parameter values.

        Returns
        -------
        dict
            Name → value.
        """
        return {f.name: getattr(self, f.name) for f in self.parameter_fields()}

    @classmethod
    def parameter_table(cls) -> list[dict[str, Any]]:
        """One row per parameter: name, default, kind, unit, range, meaning, source.

        The same rows as the model's (:func:`waste_harmony.paramspec.rows`); joint
        :attr:`constraints` appear in ``range_text``.

        Returns
        -------
        list of dict
            Rows in definition order (unit, range, meaning empty when not declared).
        """
        return paramspec.rows(cls.parameter_specs(), cls.constraints)

    @classmethod
    def violations(cls, values: Mapping[str, Any]) -> list[str]:
        """Every problem of a set of this scenario's parameter values, without raising.

        Unknown names, wrong kinds, non-finite or out-of-range values and violated
        :attr:`constraints` are all reported (checks that need the city, such as a
        site id, happen in :meth:`validate` at install time).

        Parameters
        ----------
        values : Mapping
            Parameter name → value (missing ones take their defaults).

        Returns
        -------
        list of str
            One message per problem; empty when the values are admissible.
        """
        found = paramspec.problems(cls.parameter_specs(), values, cls.constraints)
        return [f"scenario {cls.name!r}: {msg}" for _, msg in found]

    def check_parameters(self) -> None:
        """Check this scenario's parameter values (kind, finite, range, constraints).

        Called when the scenario is installed, before anything runs.

        Raises
        ------
        TypeError
            If a value has the wrong kind.
        ValueError
            If a value is not finite, out of range, or a constraint fails.
        """
        paramspec.check(
            self.parameter_specs(),
            self.parameters(),
            self.constraints,
            owner=f"scenario {self.name!r}: ",
        )

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.parameters().items())
        return f"{type(self).__name__}({params})"


def _check_callback(method: Any) -> None:
    # Mesa keeps event callbacks by weak reference: a partial, lambda or closure made on
    # the spot dies at once and its event silently never runs. Refuse it up front.
    if not inspect.ismethod(method):
        raise TypeError(
            f"schedule a bound method of the scenario (e.g. self.open_gates), not {method!r}: "
            "Mesa holds event callbacks by weak reference, so partials, lambdas and local "
            "functions would be dropped and never run; store arguments on self instead"
        )
