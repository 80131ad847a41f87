"""The ``policy`` scenario: on given days, set model parameters (interventions).

A policy study changes a parameter partway through a run — "a plastic-bag ban
from day 30 cuts waste per capita by 15 %". :class:`Policy` schedules such
changes on the model's clock; each one goes through
:meth:`waste_harmony.CityModel.set_parameters`, which validates it with the one
parameter system (:mod:`waste_harmony.parameters`: kinds, ranges, joint
constraints), logs a ``parameters_changed`` event with the old and new values,
and records it in the run's manifest (``interventions``), so a saved run can be
re-run bit for bit (:meth:`waste_harmony.results.RunResult.rerun`).

Two forms, one class:

* one change: ``Policy(day=30, set={"waste_per_capita_kg": 0.629})``;
* several: ``Policy(steps={30: {"waste_per_capita_kg": 0.629}, 90: {"mobility": 0.1}})``
  (day → parameter changes; in TOML the day is a key, ``30 = { ... }``).

A change takes effect in the morning of its day, before that day's rules, so the
row recorded for day ``d`` already shows it. Parameters that are only read when
the model is built (:data:`BUILD_ONLY`: the initial concern and protest
threshold distributions, the role counts) and the model's structural arguments
(``n_citizens``, the city, ...) cannot change mid-run and are refused.

This module also holds :func:`change_problems`, the one check of a set of
mid-run changes, shared by the scenario (before the run) and the model (when a
change is applied).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from waste_harmony.parameters import Parameters
from waste_harmony.paramspec import unknown_keyword
from waste_harmony.scenarios.base import Scenario, days, parameter
from waste_harmony.scenarios.registry import register

if TYPE_CHECKING:
    from waste_harmony.services import CityServices

__all__ = ["BUILD_ONLY", "STRUCTURAL", "Policy", "change_problems"]

#: Parameters read only when the model is built (they draw the initial population, or,
#: for ``cohorts``, fix what the citizens' threshold column means): changing them
#: mid-run would have no effect or no meaning, so it is refused.
BUILD_ONLY: tuple[str, ...] = (
    "initial_concern_mean",
    "initial_concern_sd",
    "protest_threshold_mean",
    "protest_threshold_sd",
    "cohorts",
    "roles",
)

#: Arguments of :class:`~waste_harmony.CityModel` that fix the model's structure.
STRUCTURAL: tuple[str, ...] = (
    "city",
    "n_citizens",
    "population",
    "citizens",
    "scenarios",
    "rng",
    "seed",
    "citizen_class",
    "record_neighborhoods",
    "days",
)


def change_problems(current: Mapping[str, Any], changes: Mapping[str, Any]) -> list[str]:
    """Every problem of changing parameters mid-run, without raising.

    Parameters
    ----------
    current : Mapping
        The parameter values in force (e.g. ``model.params.to_dict()``).
    changes : Mapping
        Parameter name → new value.

    Returns
    -------
    list of str
        One message per problem (unknown or structural name, build-only parameter,
        wrong kind, out of range, joint constraint violated); empty when the
        changes are admissible.

    Examples
    --------
    >>> now = Parameters().to_dict()
    >>> change_problems(now, {"waste_per_capita_kg": 0.629})
    []
    >>> change_problems(now, {"waste_per_capita": 0.6})
    ["unknown parameter 'waste_per_capita'; did you mean 'waste_per_capita_kg'?"]
    >>> change_problems(now, {"n_citizens": 10})[0][:40]
    "'n_citizens' fixes the model's structure"
    """
    found = []
    valid = Parameters.names()
    admissible = {}
    for name, value in changes.items():
        if name in STRUCTURAL:
            found.append(
                f"{name!r} fixes the model's structure and cannot change mid-run; "
                f"build a new model with the new {name} instead"
            )
        elif name in BUILD_ONLY:
            found.append(
                f"{name!r} is only read when the model is built (it draws the initial "
                "population) and cannot change mid-run; build a new model with it instead"
            )
        elif name not in valid:
            found.append(unknown_keyword(str(name), valid))
        else:
            admissible[name] = value
    if admissible:
        merged = {k: v for k, v in current.items() if k != "roles"}
        found += Parameters.violations({**merged, **admissible})
    return found


@register
@dataclass
class Policy(Scenario):
    """On given days, set model parameters: interventions with provenance.

    The defaults are the plastic-bag ban of the docs: from day 30, 15 % less waste
    per capita (``waste_per_capita_kg`` 0.74 → 0.629).

    Parameters
    ----------
    day : int
        Day of a single change (the simple form, with ``set``).
    set : dict
        Parameter name → new value on ``day``.
    steps : dict
        Day → {parameter name: new value}: several changes. When given, it replaces
        the simple form (``day`` and ``set`` must then keep their defaults).

    Examples
    --------
    A plastic-bag ban from day 3 cuts waste per capita by 15 %:

    >>> from waste_harmony import CityModel
    >>> ban = Policy(day=3, set={"waste_per_capita_kg": 0.74 * 0.85})
    >>> model = CityModel(n_citizens=100, scenarios=[ban], rng=0)
    >>> model.run_for(4)
    >>> model.params.waste_per_capita_kg, model.initial_params.waste_per_capita_kg
    (0.629, 0.74)
    >>> [(c["day"], c["name"], c["old"], c["new"]) for c in model.interventions]
    [(3, 'waste_per_capita_kg', 0.74, 0.629)]
    >>> Policy(day=3, set={"waste_per_capita": 0.6}).check_parameters()
    Traceback (most recent call last):
    ...
    ValueError: scenario 'policy': unknown parameter 'waste_per_capita'; did you mean \
'waste_per_capita_kg'?
    """

    name = "policy"
    description = "On given days, set model parameters (recorded as interventions)."

    day: int = days(30, unit="day", doc="day of a single change (with set)")
    set: dict[str, Any] = parameter(  # noqa: RUF009 (a declared field, copied per instance)
        {"waste_per_capita_kg": 0.629},
        kind="mapping",
        doc="parameter → new value on day (the simple form; default: a plastic-bag ban, "
        "15 % less waste per capita)",
    )
    steps: dict[Any, Any] = parameter(  # noqa: RUF009
        {}, kind="mapping", doc="day → {parameter: new value} (several changes)"
    )

    def plan(self) -> dict[int, dict[str, Any]]:
        """The changes by day, from either form.

        Returns
        -------
        dict
            Day → {parameter: new value}, in day order.

        Raises
        ------
        ValueError
            If both forms or no change are given, or a day is not a whole number ≥ 1.
        """
        if not self.steps:
            if not self.set:
                raise ValueError(
                    f"scenario {self.name!r}: nothing to do; give day and set, e.g. "
                    "Policy(day=30, set={'waste_per_capita_kg': 0.629})"
                )
            return {self.day: dict(self.set)}
        if self.day != _DEFAULT_DAY or self.set != _DEFAULT_SET:
            raise ValueError(
                f"scenario {self.name!r}: give either day and set (one change) or "
                "steps (several), not both"
            )
        plan: dict[int, dict[str, Any]] = {}
        for key, changes in self.steps.items():
            day = _day(key)
            if day is None:
                raise ValueError(
                    f"scenario {self.name!r}: steps key {key!r} is not a day (a whole number >= 1)"
                )
            if not isinstance(changes, Mapping) or not changes:
                raise ValueError(
                    f"scenario {self.name!r}: steps[{key!r}] must be a non-empty table of "
                    f"parameter = value, got {changes!r}"
                )
            if day in plan:
                raise ValueError(f"scenario {self.name!r}: day {day} is given twice in steps")
            plan[day] = dict(changes)
        return dict(sorted(plan.items()))

    def check_parameters(self) -> None:
        """Check the days and every change against the default parameters.

        Raises
        ------
        TypeError
            If a value has the wrong kind.
        ValueError
            If a form is incomplete, a day is invalid, or a change is refused
            (:func:`change_problems`).
        """
        super().check_parameters()
        base = Parameters().to_dict()
        for day, changes in self.plan().items():
            self._refuse(change_problems(base, changes), day)

    def validate(self, model: CityServices) -> None:
        """Check each day against the run and the changes against the model's parameters.

        Parameters
        ----------
        model : CityServices
            The model.
        """
        current = model.params.to_dict()
        for day, changes in self.plan().items():
            self.check_day("day", day, model)
            self._refuse(change_problems(current, changes), day)
            current.update(changes)

    def setup(self, model: CityServices) -> None:
        """Schedule one change per day, in the morning of that day."""
        self._plan = self.plan()
        for day in self._plan:
            self.schedule(self.apply_today, day=day)

    def apply_today(self) -> None:
        """Apply today's changes (called on the model's clock)."""
        model = self.model
        model.set_parameters(self._plan[model.day], source=self.name)

    def _refuse(self, found: list[str], day: int) -> None:
        if found:
            where = f" (day {day})" if self.steps else ""
            raise ValueError(f"scenario {self.name!r}{where}: " + "; ".join(found))


_DEFAULT_DAY = 30
_DEFAULT_SET = {"waste_per_capita_kg": 0.629}


def _day(key: Any) -> int | None:
    if isinstance(key, bool):
        return None
    if isinstance(key, str) and key.strip().isdigit():
        key = int(key)
    if isinstance(key, int) and key >= 1:
        return key
    return None
