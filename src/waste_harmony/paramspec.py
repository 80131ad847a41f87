# Over 600 lines by choice: one parameter declaration with its one validation path and renderer.
"""Declared parameters: one specification per parameter, one validation path, one renderer.

The model's parameters (:class:`waste_harmony.parameters.Parameters`) and every
scenario's parameters (:func:`waste_harmony.scenarios.parameter`) are declared the
same way: a dataclass field whose metadata holds a :class:`ParamSpec` — name,
default, kind (declared, never parsed from an annotation), unit, admissible range
with open or closed ends, choices, source and meaning. Joint conditions between
parameters are :class:`Constraint` objects declared next to them. From these:

* :func:`problems` checks a set of values (type, finiteness, range, choices,
  constraints) and returns *every* problem found; :func:`check` raises on the first
  kind of problem (:class:`TypeError` before :class:`ValueError`), naming all of them;
* :func:`rows` renders the table shown by ``waste-harmony list``, the documents and
  the viewer's controls;
* :func:`unknown_keyword` is the one "unknown name, did you mean …?" message.

This module sits at the bottom of the layers: it imports nothing from the package.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
import numbers
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "Constraint",
    "ParamSpec",
    "check",
    "declare",
    "problems",
    "rows",
    "specs",
    "unknown_keyword",
    "zero_or_at_least",
]

#: The kinds of value a parameter may hold.
Kind = Literal["float", "int", "bool", "str", "node", "mapping"]
KINDS: tuple[str, ...] = ("float", "int", "bool", "str", "node", "mapping")


@dataclass(frozen=True)
class Constraint:
    """A condition that must hold jointly between parameters (checked before anything runs).

    Parameters
    ----------
    text : str
        The condition as a reader would write it, e.g.
        ``"review_interval_days <= comment_period_days"`` (shown in tables and errors).
    check : callable
        ``check(values) -> bool`` over a mapping of parameter name → value; ``True``
        when the condition holds. Called only when every parameter it reads passed
        its own type and range check.
    fix : str
        What to change when it fails (ends the error message).
    names : tuple of str
        The parameters it reads (used to skip it when one of them is already wrong,
        and to point configuration errors at a key).

    Examples
    --------
    >>> c = Constraint("low <= high", lambda v: v["low"] <= v["high"],
    ...                "lower low or raise high", names=("low", "high"))
    >>> c.holds({"low": 1, "high": 2}), c.holds({"low": 3, "high": 2})
    (True, False)
    """

    text: str
    check: Callable[[Mapping[str, Any]], bool]
    fix: str
    names: tuple[str, ...] = ()

    def holds(self, values: Mapping[str, Any]) -> bool:
        """Whether the condition holds for ``values``.

        Parameters
        ----------
        values : Mapping
            Parameter name → value.

        Returns
        -------
        bool
        """
        return bool(self.check(values))

    def message(self, values: Mapping[str, Any]) -> str:
        """The error text for ``values`` (which violate the constraint).

        Parameters
        ----------
        values : Mapping
            Parameter name → value.

        Returns
        -------
        str
        """
        shown = ", ".join(f"{n}={values[n]!r}" for n in self.names if n in values)
        return f"{self.text} does not hold ({shown}); {self.fix}"


def zero_or_at_least(name: str, floor: float) -> Constraint:
    """The condition "``name`` is 0 (switched off) or at least ``floor``".

    For rates and spreads whose tiny positive values overflow the model (a steady
    state ``S / δ``, a Gamma shape ``1 / cv²``) while 0 has its own exact meaning.

    Parameters
    ----------
    name : str
        The parameter.
    floor : float
        The smallest positive value the model honours.

    Returns
    -------
    Constraint

    Examples
    --------
    >>> c = zero_or_at_least("cv", 1e-3)
    >>> c.text, c.holds({"cv": 0.0}), c.holds({"cv": 1e-300})
    ('cv = 0 or cv >= 0.001', True, False)
    """
    return Constraint(
        f"{name} = 0 or {name} >= {floor:g}",
        functools.partial(_zero_or_at_least, name, floor),
        f"use 0 (switched off) or a value of at least {floor:g}",
        names=(name,),
    )


def _zero_or_at_least(name: str, floor: float, values: Mapping[str, Any]) -> bool:
    return values[name] == 0 or values[name] >= floor


@dataclass(frozen=True, kw_only=True)
class ParamSpec:
    """Everything declared about one parameter.

    Parameters
    ----------
    name : str
        Parameter name (filled in from the dataclass field by :func:`specs`).
    default : object
        Default value.
    kind : {"float", "int", "bool", "str", "node", "mapping"}
        The kind of value: ``"float"`` accepts any real number, ``"int"`` whole
        numbers, ``"node"`` any hashable node id (checked against the city by the
        owner), ``"mapping"`` a dictionary (checked by the owner).
    unit : str
        Unit, e.g. ``"days"``.
    low, high : float, optional
        Bounds of the admissible range (``None``: unbounded; values are still finite).
    low_open, high_open : bool
        Whether the bound itself is excluded.
    choices : tuple
        The admissible values, if only a few are.
    optional : bool
        ``None`` is admissible too.
    source : str
        Published source, or ``"assumption"``.
    meaning : str
        One-line meaning.
    constraints : tuple of Constraint
        Conditions on this parameter beyond its range (e.g. "0 or at least 0.001").
    """

    name: str = ""
    default: Any = None
    kind: Kind = "float"
    unit: str = ""
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[Any, ...] = ()
    optional: bool = False
    source: str = ""
    meaning: str = ""
    constraints: tuple[Constraint, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")

    @property
    def numeric(self) -> bool:
        """Whether the parameter holds a number."""
        return self.kind in ("float", "int")

    @property
    def range_text(self) -> str:
        """The admissible range in interval notation, e.g. ``"(0, 10]"``; ``""`` if none."""
        if self.choices:
            return "{" + ", ".join(_show(c) for c in self.choices) + "}"
        if self.kind == "mapping" and self.low is not None:
            return f"each ≥ {_show(self.low)}"
        if not self.numeric:
            return ""
        low = "−∞" if self.low is None else _show(self.low)
        high = "∞" if self.high is None else _show(self.high)
        left = "(" if self.low is None or self.low_open else "["
        right = ")" if self.high is None or self.high_open else "]"
        text = f"{left}{low}, {high}{right}"
        for c in self.constraints:
            text += f"; {c.text}"
        return text

    def problem(self, value: Any) -> tuple[type[Exception], str] | None:
        """What is wrong with ``value`` for this parameter, or ``None``.

        Parameters
        ----------
        value : object
            The value.

        Returns
        -------
        tuple or None
            The exception type (:class:`TypeError` for a wrong kind,
            :class:`ValueError` otherwise) and the message (without the owner).

        Examples
        --------
        >>> spec = ParamSpec(name="share", kind="float", low=0.0, high=1.0)
        >>> spec.problem(0.5) is None
        True
        >>> spec.problem(float("inf"))[1]
        "parameter 'share' = inf is not finite; choose a value in [0.0, 1.0]"
        """
        if value is None and self.optional:
            return None
        wrong_kind = self._kind_problem(value)
        if wrong_kind:
            return TypeError, wrong_kind
        unit = f" ({self.unit})" if self.unit else ""
        if self.numeric:
            bounds = _bounds(self)
            if not math.isfinite(value):
                return ValueError, (
                    f"parameter {self.name!r} = {value!r} is not finite; choose a value in {bounds}"
                )
            too_low = self.low is not None and (
                value < self.low or (self.low_open and value == self.low)
            )
            too_high = self.high is not None and (
                value > self.high or (self.high_open and value == self.high)
            )
            if too_low or too_high:
                return ValueError, (
                    f"parameter {self.name!r} = {value!r} is out of range {bounds}{unit}; "
                    f"{self.meaning or 'choose a value in range'}"
                )
        if self.choices and value not in self.choices:
            return ValueError, (
                f"parameter {self.name!r} = {value!r} is not one of "
                f"{', '.join(repr(c) for c in self.choices)}"
            )
        for c in self.constraints:
            if not c.holds({self.name: value}):
                return ValueError, f"parameter {self.name!r}: {c.message({self.name: value})}"
        return None

    def _kind_problem(self, value: Any) -> str:
        kind = self.kind
        if kind == "float":
            ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
            what = f"a number ({self.unit})" if self.unit else "a number"
        elif kind == "int":
            ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
            what = "a whole number (int)"
        elif kind == "bool":
            ok = isinstance(value, bool)
            what = "true or false (bool)"
        elif kind == "str":
            ok = isinstance(value, str)
            what = "a string (str)"
        elif kind == "node":
            try:
                hash(value)
                ok = True
            except TypeError:
                ok = False
            what = "a node id (any hashable value)"
        else:
            ok = isinstance(value, Mapping)
            what = "a mapping"
        if ok:
            return ""
        if self.optional:
            what += " or None"
        return f"parameter {self.name!r} must be {what}, got {type(value).__name__} {value!r}"

    def row(self) -> dict[str, Any]:
        """The parameter as one table row.

        Returns
        -------
        dict
            ``name``, ``default``, ``kind``, ``type`` (same as kind), ``unit``,
            ``range`` (``(low, high)``, ``None`` for unbounded), ``range_text``,
            ``source``, ``meaning`` and ``description`` (same as meaning).
        """
        return {
            "name": self.name,
            "default": self.default,
            "kind": self.kind,
            "type": self.kind,
            "unit": self.unit,
            "range": (self.low, self.high),
            "range_text": self.range_text,
            "source": self.source,
            "meaning": self.meaning,
            "description": self.meaning,
        }


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _bounds(spec: ParamSpec) -> str:
    low = "-inf" if spec.low is None else spec.low
    high = "inf" if spec.high is None else spec.high
    left = "(" if spec.low is not None and spec.low_open else "["
    right = ")" if spec.high is not None and spec.high_open else "]"
    return f"{left}{low}, {high}{right}"


def declare(default: Any = dataclasses.MISSING, **spec: Any) -> Any:
    """A dataclass field carrying a :class:`ParamSpec` in its metadata.

    Parameters
    ----------
    default : object
        Default value; a ``dict`` default is copied per instance.
    **spec
        Fields of :class:`ParamSpec` (``kind``, ``unit``, ``low``, …).

    Returns
    -------
    dataclasses.Field
        Use as the class attribute's default.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class P:
    ...     rate: float = declare(0.1, kind="float", unit="per day", low=0.0)
    >>> specs(P)[0].name, specs(P)[0].range_text
    ('rate', '[0, ∞)')
    """
    info = ParamSpec(default=default, **spec)
    metadata = {
        "spec": info,
        # the keys of earlier releases, for code that reads field metadata directly
        "unit": info.unit,
        "range": (info.low, info.high),
        "doc": info.meaning,
        "source": info.source,
    }
    if isinstance(default, dict):
        return field(default_factory=lambda: dict(default), metadata=metadata)
    return field(default=default, metadata=metadata)


def specs(cls: Any) -> list[ParamSpec]:
    """The declared parameters of a dataclass, in definition order.

    Fields whose name starts with ``_`` are not parameters. A field declared without
    a :class:`ParamSpec` (a plain dataclass field of a third-party scenario) gets a
    spec whose kind is taken from its default value (``None``: any hashable value).

    Parameters
    ----------
    cls : type or object
        A dataclass (or an instance).

    Returns
    -------
    list of ParamSpec
        With ``name`` set.
    """
    if not dataclasses.is_dataclass(cls):
        return []
    owner = cls if isinstance(cls, type) else type(cls)
    cached = _SPECS.get(owner)
    if cached is None:
        # Declarations do not change once a class exists; building them costs about a
        # millisecond, and calibrations check every proposal against them.
        cached = _SPECS[owner] = _declared_specs(owner)
    # A default made by a factory (a mutable mapping) is made afresh for each caller.
    return [
        dataclasses.replace(spec, default=factory()) if factory is not None else spec
        for spec, factory in cached
    ]


#: Class -> its specs and, per spec, the field's default factory (None if none).
_SPECS: weakref.WeakKeyDictionary[type, list[tuple[ParamSpec, Callable[[], Any] | None]]] = (
    weakref.WeakKeyDictionary()
)


def _declared_specs(cls: type) -> list[tuple[ParamSpec, Callable[[], Any] | None]]:
    out = []
    for f in dataclasses.fields(cls):
        if f.name.startswith("_"):
            continue
        spec = f.metadata.get("spec")
        default = (
            f.default
            if f.default is not dataclasses.MISSING
            else f.default_factory()
            if f.default_factory is not dataclasses.MISSING
            else None
        )
        if spec is None:
            spec = ParamSpec(
                default=default,
                kind=kind_of(default),
                optional=default is None,
                unit=f.metadata.get("unit", ""),
                meaning=f.metadata.get("doc", ""),
                source=f.metadata.get("source", ""),
            )
        factory = f.default_factory if f.default is dataclasses.MISSING else None
        factory = None if factory is dataclasses.MISSING else factory
        out.append((dataclasses.replace(spec, name=f.name, default=default), factory))
    return out


def kind_of(value: Any) -> Kind:
    """The kind a default value implies (for parameters declared without one).

    Parameters
    ----------
    value : object
        A default value.

    Returns
    -------
    str
        ``"bool"``, ``"int"``, ``"float"``, ``"str"``, ``"mapping"`` or ``"node"``.

    Examples
    --------
    >>> kind_of(3), kind_of(0.5), kind_of(None)
    ('int', 'float', 'node')
    """
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, numbers.Integral):
        return "int"
    if isinstance(value, numbers.Real):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, Mapping):
        return "mapping"
    return "node"


def problems(
    declared: Sequence[ParamSpec],
    values: Mapping[str, Any],
    constraints: Iterable[Constraint] = (),
    *,
    extra_names: Iterable[str] = (),
) -> list[tuple[type[Exception], str]]:
    """Every problem of a set of parameter values: unknown names, kinds, ranges, constraints.

    Parameters
    ----------
    declared : sequence of ParamSpec
        The declared parameters (see :func:`specs`).
    values : Mapping
        Name → value; missing names take their defaults.
    constraints : iterable of Constraint
        Joint conditions; one is skipped when a parameter it reads is itself wrong.
    extra_names : iterable of str
        Other valid names offered as did-you-mean suggestions (not checked).

    Returns
    -------
    list of (exception type, message)
        Empty when everything holds.
    """
    by_name = {s.name: s for s in declared}
    found: list[tuple[type[Exception], str]] = []
    for key in values:
        if key not in by_name:
            found.append((TypeError, unknown_keyword(key, [*by_name, *extra_names])))
    full = {s.name: s.default for s in declared} | {k: v for k, v in values.items() if k in by_name}
    bad = set()
    for name, value in full.items():
        issue = by_name[name].problem(value)
        if issue:
            found.append(issue)
            bad.add(name)
    for c in constraints:
        if bad.intersection(c.names) or any(n not in full for n in c.names):
            continue
        if not c.holds(full):
            found.append((ValueError, c.message(full)))
    return found


def check(
    declared: Sequence[ParamSpec],
    values: Mapping[str, Any],
    constraints: Iterable[Constraint] = (),
    *,
    owner: str = "",
) -> None:
    """Raise when :func:`problems` finds any, naming every one.

    Parameters
    ----------
    declared, values, constraints
        As for :func:`problems`.
    owner : str
        Prefix of the message, e.g. ``"scenario 'techcore': "``.

    Raises
    ------
    TypeError
        If any name is unknown or any value has the wrong kind.
    ValueError
        If any value is not finite, out of range, not a choice, or a constraint fails.
    """
    found = problems(declared, values, constraints)
    if not found:
        return
    kind = TypeError if any(t is TypeError for t, _ in found) else ValueError
    text = "; ".join(msg for _, msg in found) if len(found) > 1 else found[0][1]
    raise kind(f"{owner}{text}")


def rows(declared: Sequence[ParamSpec], constraints: Iterable[Constraint] = ()) -> list[dict]:
    """The parameter table: one row per parameter (see :meth:`ParamSpec.row`).

    Joint constraints are appended to the ``range_text`` of every parameter they read,
    so the tables show them where a reader looks.

    Parameters
    ----------
    declared : sequence of ParamSpec
        The parameters.
    constraints : iterable of Constraint
        Joint conditions.

    Returns
    -------
    list of dict
        In definition order.
    """
    joint = list(constraints)
    out = []
    for spec in declared:
        row = spec.row()
        extra = [c.text for c in joint if spec.name in c.names]
        if extra:
            row["range_text"] = "; ".join(filter(None, [row["range_text"], *extra]))
        out.append(row)
    return out


def describe(row: Mapping[str, Any]) -> str:
    """One line of text for a table row: ``name: kind = default [unit] range  meaning``.

    Parameters
    ----------
    row : Mapping
        A row of :func:`rows`.

    Returns
    -------
    str

    Examples
    --------
    >>> describe(ParamSpec(name="day", default=5, kind="int", unit="day", low=1).row())
    'day: int = 5 [day] [1, ∞)'
    """
    text = f"{row['name']}: {row['kind']} = {row['default']!r}"
    if row["unit"]:
        text += f" [{row['unit']}]"
    if row["range_text"]:
        text += f" {row['range_text']}"
    if row["meaning"]:
        text += f"  {' '.join(str(row['meaning']).split())}"
    return text


def unknown_keyword(key: str, valid: Iterable[str], *, what: str = "parameter") -> str:
    """The message for an unknown name, suggesting the closest valid one.

    Parameters
    ----------
    key : str
        The name given.
    valid : iterable of str
        The valid names.
    what : str
        What the name was meant to be (``"parameter"``, ``"key"``, …).

    Returns
    -------
    str

    Examples
    --------
    >>> unknown_keyword("mobilty", ["mobility", "bass_p"])
    "unknown parameter 'mobilty'; did you mean 'mobility'?"
    """
    names = list(valid)
    if key == "seed":  # Mesa's deprecated name for the random generator
        return f"unknown {what} 'seed'; did you mean 'rng'? (pass rng=SEED)"
    close = difflib.get_close_matches(str(key), names, n=1, cutoff=0.5)
    if close:
        return f"unknown {what} {key!r}; did you mean {close[0]!r}?"
    return f"unknown {what} {key!r}; valid: {', '.join(names) or 'none'}"
