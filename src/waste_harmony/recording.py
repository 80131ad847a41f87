# Over 600 lines by choice: the table of built-in outputs (OUTPUTS, one declaration each
# with its meaning, unit and what it averages) is about 180 of them, and it belongs with
# the OutputVariable that declares it and the reporter() that extends it.
"""Time series and the event log.

Model-level series go to Mesa's own :class:`mesa.DataCollector` (so ``batch_run``
and Mesa's plotting work on them). Per-neighbourhood series go into
preallocated arrays (:class:`NeighborhoodRecorder`) that grow by doubling, so
recording never dominates a step. Events — what happened, when, where — go to
an :class:`EventLog`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from waste_harmony.dynamics.biodiversity import biodiversity_index

__all__ = [
    "MODEL_VARIABLES",
    "NEIGHBORHOOD_OUTPUTS",
    "NEIGHBORHOOD_VARIABLES",
    "OUTPUTS",
    "Event",
    "EventLog",
    "NeighborhoodRecorder",
    "OutputVariable",
    "as_outputs",
    "reporter",
]


@dataclass(frozen=True)
class OutputVariable:
    """One model-level output: recorded every day, documented, summarised, plotted.

    Parameters
    ----------
    name : str
        Column name in the model frame (and attribute of the model after each day).
    unit : str
        Unit (``"kg"``, ``"share"``, …).
    meaning : str
        One-line meaning.
    compute : callable or None
        ``compute(model) -> value`` evaluated at the end of each day, after the
        rules; ``None`` reads the model's public attribute of the same name.
    summary : bool
        Shown in the summary ``waste-harmony run`` prints.
    mean_over : str
        What an intensive output (a mean, share or ratio) is a mean of, i.e. its
        weights: ``"area"`` for concentrations over land, ``"population"`` for
        exposures, ``"citizens"`` for opinions and behaviour, ``"waste"`` for a
        ratio of waste flows. Empty for totals and categories. An unweighted mean
        over nodes is never an output: it changes when the city is cut differently.

    Examples
    --------
    A study's own output is given to the model
    (``CityModel(model_reporters=[...])``, see :func:`as_outputs`); its ``compute``
    is a module-level function, so the model copies, pickles and goes to worker
    processes:

    >>> def share_with_roles(model):
    ...     return float((model.citizens.role_code > 0).mean())
    >>> output = OutputVariable(
    ...     "share_with_roles", "share", "share of citizens with a role", share_with_roles,
    ...     mean_over="citizens",
    ... )
    >>> output.unit, output.mean_over
    ('share', 'citizens')

    A built-in variable is one entry of :data:`OUTPUTS` (the documents and
    ``waste-harmony run`` list it).
    """

    name: str
    unit: str
    meaning: str
    compute: Callable[[Any], Any] | None = None
    summary: bool = False
    mean_over: str = ""


def _recycling_rate(model: Any) -> float:
    w = model.waste_today
    return w["recycled"] / w["generated"] if w["generated"] > 0 else 0.0


def _stock(model: Any) -> float:
    return float(model.neighborhoods.waste_stock_kg.sum())


def _balance_error(model: Any) -> float:
    w = model.waste_today
    return (
        w["generated"]
        - w["recycled"]
        - w["reused"]
        - w["consumed"]
        - (_stock(model) - model.waste_stock_yesterday_kg)
    )


def _area_mean(model: Any, values: np.ndarray) -> float:
    area = model.neighborhoods.area_km2
    return float(area @ values / area.sum())


def _population_mean(model: Any, values: np.ndarray) -> float:
    # The city's population (the graph's ``population``), not the sampled citizens:
    # the exposure of the people the city holds, free of the sample's noise.
    weight = model.neighborhoods.population_weight
    return float(weight @ values / weight.sum())


def _biodiversity(model: Any) -> float:
    hoods = model.neighborhoods
    return biodiversity_index(
        float((hoods.habitat * hoods.area_km2).sum()),
        model.initial_habitat_km2,
        z=model.params.species_area_z,
    )


#: Model-level variables recorded every day, in column order: the one table the
#: DataCollector, the documents, the command line's summary and the viewer read.
OUTPUTS: tuple[OutputVariable, ...] = (
    OutputVariable(
        "mean_concern",
        "concern units, [0, 1]",
        "mean environmental concern of citizens",
        lambda m: m.citizen_mean(m.citizens.concern),
        summary=True,
        mean_over="citizens",
    ),
    OutputVariable(
        "protest_share",
        "share, [0, 1]",
        "share of citizens protesting today",
        lambda m: m.citizen_mean(m.citizens.protesting),
        summary=True,
        mean_over="citizens",
    ),
    OutputVariable(
        "recycling_rate",
        "share, [0, 1]",
        "waste recycled / waste generated today",
        _recycling_rate,
        summary=True,
        mean_over="waste",
    ),
    OutputVariable(
        "recycling_participation",
        "share, [0, 1]",
        "share of citizens who recycled today (a count over n_citizens: binomial data)",
        # a plain count over the citizens (not weighted by the people they stand for):
        # binomial data, what experiments.exact's recycling posterior assumes
        lambda m: float(np.count_nonzero(m.citizens.recycled)) / max(m.n_citizens, 1),
        mean_over="citizens",
    ),
    OutputVariable(
        "waste_generated_kg",
        "kg per day",
        "waste generated today by citizens and facilities",
        lambda m: m.waste_today["generated"],
    ),
    OutputVariable(
        "waste_recycled_kg",
        "kg per day",
        "waste recycled today",
        lambda m: m.waste_today["recycled"],
    ),
    OutputVariable(
        "waste_reused_kg",
        "kg per day",
        "waste reused in art today",
        lambda m: m.waste_today["reused"],
    ),
    OutputVariable(
        "waste_consumed_kg",
        "kg per day",
        "waste consumed by the organism and household biotech today",
        lambda m: m.waste_today["consumed"],
    ),
    OutputVariable(
        "waste_stock_kg",
        "kg",
        "waste present in the city at the end of the day",
        _stock,
        summary=True,
    ),
    OutputVariable(
        "mean_pollution",
        "µg/m³",
        "area-weighted mean air pollution over the city's land, Σ A P / Σ A",
        lambda m: _area_mean(m, m.neighborhoods.pollution),
        summary=True,
        mean_over="area",
    ),
    OutputVariable(
        "pollution_exposure",
        "µg/m³",
        "population-weighted mean air pollution where people live (the exposure health "
        "studies use), Σ pop P / Σ pop over the city's population",
        lambda m: _population_mean(m, m.neighborhoods.pollution),
        summary=True,
        mean_over="population",
    ),
    OutputVariable(
        "biodiversity_index",
        "dimensionless, > 0",
        "species relative to day 0, (A/A0)^z, A the city's habitat area: 1 at day 0, "
        "above 1 where habitat grows",
        _biodiversity,
        summary=True,
        mean_over="area",
    ),
    OutputVariable(
        "organism_biomass",
        "kg",
        "total organism biomass",
        lambda m: float(m.neighborhoods.organism_biomass.sum()),
        summary=True,
    ),
    OutputVariable(
        "biotech_adoption",
        "share, [0, 1]",
        "share of citizens who have adopted household biotech",
        lambda m: m.citizen_mean(m.citizens.adopted),
        summary=True,
        mean_over="citizens",
    ),
    OutputVariable(
        "biotech_access_gini",
        "dimensionless, [0, 1]",
        "Gini of neighbourhood biotech access over citizens (weighted by residents)",
        lambda m: m.access_gini(),
        summary=True,
        mean_over="citizens",
    ),
    OutputVariable(
        "facility_status",
        "category",
        "'none', 'proposed', 'built' or 'withdrawn'",
        None,
    ),
    OutputVariable(
        "waste_balance_error_kg",
        "kg",
        "generated − recycled − reused − consumed − change of stock today; "
        "0 up to rounding (a check of the waste accounts)",
        _balance_error,
    ),
)

#: Model-level variables, name → "meaning (unit)" (derived from :data:`OUTPUTS`).
MODEL_VARIABLES: dict[str, str] = {v.name: f"{v.meaning} ({v.unit})" for v in OUTPUTS}

#: Per-neighbourhood variables recorded every day. Each is a value of its node; to
#: average one over nodes weight it by what it is a mean of: concentrations and area
#: shares (``pollution``, ``habitat``) by ``area_km2`` (a column of the frame), shares
#: of residents and their mean concern by ``population`` (the resident citizens);
#: amounts (kg) add up.
NEIGHBORHOOD_VARIABLES: dict[str, str] = {
    "population": "resident citizens",
    "concern": "mean concern of residents, [0, 1] (average over nodes by population)",
    "waste_stock_kg": "waste at the node (kg)",
    "pollution": "air pollution (µg/m³; average over nodes by area_km2)",
    "habitat": "share of area that is habitat (average over nodes by area_km2)",
    "biotech_access": "biotech access, [0, 1] (average over nodes by population)",
    "organism_biomass": "organism biomass (kg)",
    "protest_share": "share of residents protesting (average over nodes by population)",
    "recycling_share": "share of residents who recycled today (by population)",
    "biotech_adoption": "share of residents who adopted biotech (by population)",
}


#: The unit of each per-neighbourhood variable (same names as :data:`NEIGHBORHOOD_VARIABLES`).
_NEIGHBORHOOD_UNITS = {
    "population": "citizens",
    "concern": "concern units, [0, 1]",
    "waste_stock_kg": "kg",
    "pollution": "µg/m³",
    "habitat": "share, [0, 1]",
    "biotech_access": "dimensionless, [0, 1]",
    "organism_biomass": "kg",
    "protest_share": "share, [0, 1]",
    "recycling_share": "share, [0, 1]",
    "biotech_adoption": "share, [0, 1]",
}

#: Per-neighbourhood variables as outputs (name, unit, meaning; how each is computed is
#: the model's recorder's business): what the viewer, the docs and calibration read.
NEIGHBORHOOD_OUTPUTS: tuple[OutputVariable, ...] = tuple(
    OutputVariable(name, _NEIGHBORHOOD_UNITS[name], meaning)
    for name, meaning in NEIGHBORHOOD_VARIABLES.items()
)


def reporter(
    unit: str, meaning: str | None = None, *, summary: bool = False, mean_over: str = ""
) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
    """Declare a function as a reporter of a study's own output: its unit and meaning.

    The function is returned unchanged (so it stays a module-level function that
    pickles); the unit, meaning and ``summary`` flag become its attributes, read by
    :func:`as_outputs`. Without ``meaning`` the first line of its docstring is used.

    Parameters
    ----------
    unit : str
        Unit (``"share, [0, 1]"``, ``"kg"``, ``"category"`` for a text value).
    meaning : str, optional
        One-line meaning.
    summary : bool
        Shown in the summary ``waste-harmony run`` prints.
    mean_over : str
        What a mean, share or ratio averages over (``"citizens"``, ``"population"``,
        ``"area"``, ``"waste"``; see :class:`OutputVariable`); empty for a total.

    Examples
    --------
    >>> @reporter("share, [0, 1]")
    ... def high_concern_share(model):
    ...     '''Share of citizens whose concern is above 0.8.'''
    ...     return float((model.citizens.concern > 0.8).mean())
    >>> as_outputs({"high_concern_share": high_concern_share})[0].meaning
    'Share of citizens whose concern is above 0.8.'
    """

    def declare(function: Callable[[Any], Any]) -> Callable[[Any], Any]:
        if not callable(function):
            raise TypeError(f"@reporter decorates a function, got {function!r}")
        setattr(function, "unit", unit)  # noqa: B010 - attributes of a function object
        setattr(function, "meaning", meaning or _first_line(function))  # noqa: B010
        setattr(function, "summary", summary)  # noqa: B010
        setattr(function, "mean_over", mean_over)  # noqa: B010
        return function

    return declare


def _first_line(function: Any) -> str:
    doc = (getattr(function, "__doc__", None) or "").strip()
    return doc.splitlines()[0].strip() if doc else ""


def as_outputs(reporters: Any, *, what: str = "model_reporters") -> tuple[OutputVariable, ...]:
    """A study's own reporters as :class:`OutputVariable` entries, checked.

    Parameters
    ----------
    reporters : mapping, sequence or None
        ``{name: function}`` (as Mesa's ``DataCollector(model_reporters=...)``; each
        function declared with :func:`reporter`, or with ``unit`` and ``meaning``
        attributes), ``{name: OutputVariable}``, or a sequence of
        :class:`OutputVariable`.
    what : str
        The argument's name, for messages.

    Returns
    -------
    tuple of OutputVariable
        In the order given.

    Raises
    ------
    TypeError
        If an entry is not a function or an ``OutputVariable``, or says no unit or
        meaning (the message shows how to declare them).
    ValueError
        If a name is not a Python identifier or is given twice.

    Examples
    --------
    >>> def rich(model):
    ...     return 1.0
    >>> as_outputs({"rich": rich})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: model_reporters['rich']: say its unit and meaning: decorate the function ...
    """
    if reporters is None:
        return ()
    if isinstance(reporters, Mapping):
        items = list(reporters.items())
    elif isinstance(reporters, Iterable) and not isinstance(reporters, str):
        items = []
        for entry in reporters:
            if not isinstance(entry, OutputVariable):
                raise TypeError(
                    f"{what}: a sequence holds OutputVariable entries, got {entry!r}; "
                    f"or give a mapping {{name: function}}"
                )
            items.append((entry.name, entry))
    else:
        raise TypeError(f"{what} must be a mapping {{name: function}}, got {reporters!r}")
    outputs: list[OutputVariable] = []
    for name, value in items:
        where = f"{what}[{name!r}]"
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"{where}: a name must be a Python identifier, like 'high_concern'")
        if isinstance(value, OutputVariable):
            output = value if value.name == name else replace(value, name=name)
        elif isinstance(value, str):
            raise TypeError(
                f"{where}: give the function itself; a run file names it as "
                f"'module:function' or 'file.py:function' (Mesa's attribute-name "
                "reporters are not needed: a function reads the attribute)"
            )
        elif callable(value):
            unit, meaning = getattr(value, "unit", None), getattr(value, "meaning", None)
            if not unit or not meaning:
                raise TypeError(
                    f"{where}: say its unit and meaning: decorate the function with "
                    f'@waste_harmony.reporter("share, [0, 1]", "what it means"), or give '
                    f"OutputVariable({name!r}, unit, meaning, function)"
                )
            output = OutputVariable(
                name,
                unit,
                meaning,
                value,
                bool(getattr(value, "summary", False)),
                str(getattr(value, "mean_over", "")),
            )
        else:
            raise TypeError(f"{where}: expected a function reporter(model), got {value!r}")
        if output.compute is None or not callable(output.compute):
            raise TypeError(f"{where}: an own output needs compute, a function of the model")
        if any(o.name == name for o in outputs):
            raise ValueError(f"{where}: the name is given twice")
        outputs.append(output)
    return tuple(outputs)


class NeighborhoodRecorder:
    """Per-neighbourhood series in preallocated ``(days, nodes)`` arrays.

    Parameters
    ----------
    n_nodes : int
        Number of neighbourhoods.
    variables : iterable of str
        Variable names.
    capacity : int
        Initial number of days; doubles when full.

    Examples
    --------
    >>> rec = NeighborhoodRecorder(2, ["pollution"], capacity=1)
    >>> rec.append(1, {"pollution": np.array([1.0, 2.0])})
    >>> rec.append(2, {"pollution": np.array([3.0, 4.0])})
    >>> rec.frame(["a", "b"])["pollution"].tolist()
    [1.0, 2.0, 3.0, 4.0]
    """

    def __init__(self, n_nodes: int, variables: Any, capacity: int = 366) -> None:
        self.n_nodes = n_nodes
        self.variables = list(variables)
        self._days = np.zeros(capacity, dtype=np.int64)
        self._data = {v: np.zeros((capacity, n_nodes)) for v in self.variables}
        self.n_days = 0

    def append(self, day: int, values: dict[str, np.ndarray]) -> None:
        """Record one day.

        Parameters
        ----------
        day : int
            The day.
        values : dict
            One array of length ``n_nodes`` per variable.
        """
        if self.n_days == len(self._days):
            self._grow()
        i = self.n_days
        self._days[i] = day
        for v in self.variables:
            self._data[v][i] = values[v]
        self.n_days += 1

    def _grow(self) -> None:
        new = max(1, 2 * len(self._days))
        self._days = np.resize(self._days, new)
        for v, arr in self._data.items():
            grown = np.zeros((new, self.n_nodes))
            grown[: self.n_days] = arr[: self.n_days]
            self._data[v] = grown

    def array(self, variable: str) -> np.ndarray:
        """The recorded ``(days, nodes)`` array of one variable (a view).

        Parameters
        ----------
        variable : str
            Variable name.

        Returns
        -------
        numpy.ndarray
            Shape ``(n_days, n_nodes)``.
        """
        return self._data[variable][: self.n_days]

    @property
    def days(self) -> np.ndarray:
        """Recorded days."""
        return self._days[: self.n_days]

    def frame(self, node_ids: list[Any]) -> pd.DataFrame:
        """All records as a long DataFrame, one row per (day, node).

        Parameters
        ----------
        node_ids : list
            Node id of each column.

        Returns
        -------
        pandas.DataFrame
            Columns ``day``, ``node`` and one per variable.
        """
        n, m = self.n_days, self.n_nodes
        data: dict[str, Any] = {
            "day": np.repeat(self.days, m),
            "node": np.tile(np.asarray(node_ids, dtype=object), n),
        }
        for v in self.variables:
            data[v] = self._data[v][:n].reshape(-1)
        return pd.DataFrame(data)


@dataclass(frozen=True)
class Event:
    """One entry of the event log.

    Attributes
    ----------
    day : int
        Day the event happened.
    kind : str
        What happened (``"festival"``, ``"facility_proposed"``, …).
    node : Any
        Where (a node id) or ``None`` for citywide events.
    details : dict
        Anything else worth recording.
    """

    day: int
    kind: str
    node: Any = None
    details: dict[str, Any] = field(default_factory=dict)


class EventLog(list):
    """The events of a run, in order; a list of :class:`Event`.

    Queries by kind (:meth:`of_kind`) read an index by kind that is brought up to
    date incrementally, so asking every week costs the new events only, not the whole
    log. The log is append-only in normal use; if it is shortened or reordered the
    index is rebuilt.

    Parameters
    ----------
    events : iterable of Event, optional
        Initial events, in order.

    Examples
    --------
    >>> log = EventLog()
    >>> log.append(Event(3, "festival", 7, {"attendance": 120}))
    >>> log.frame().loc[0, "attendance"]
    np.int64(120)
    >>> log.append(Event(5, "rally", 7))
    >>> [e.day for e in log.of_kind("rally", since_day=4)]
    [5]
    """

    def __init__(self, events: Iterable[Event] = ()) -> None:
        super().__init__(events)
        self._by_kind: dict[str, list[Event]] = {}
        self._indexed = 0
        self._last: Event | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        # Copies and pickles carry the events only; the index is rebuilt on demand.
        return (type(self), (list(self),))

    def _update_index(self) -> None:
        n = self._indexed
        if n > len(self) or (n and self[n - 1] is not self._last):
            self._by_kind, n = {}, 0  # shortened or reordered: rebuild
        for event in self[n:]:
            self._by_kind.setdefault(event.kind, []).append(event)
        self._indexed = len(self)
        self._last = self[-1] if self else None

    def of_kind(self, kind: str, *, since_day: int | None = None) -> list[Event]:
        """Events of one kind, optionally only those on or after a day.

        Parameters
        ----------
        kind : str
            The kind.
        since_day : int, optional
            Earliest day to include.

        Returns
        -------
        list of Event
            Matching events in order (a new list).
        """
        self._update_index()
        events = self._by_kind.get(kind, [])
        if since_day is None:
            return list(events)
        return [e for e in events if e.day >= since_day]

    def frame(self) -> pd.DataFrame:
        """The log as a DataFrame: ``day``, ``kind``, ``node`` and one column per detail.

        Returns
        -------
        pandas.DataFrame
            One row per event.
        """
        if not self:
            return pd.DataFrame(
                {
                    "day": pd.Series(dtype="int64"),
                    "kind": pd.Series(dtype="object"),
                    "node": pd.Series(dtype="object"),
                }
            )
        frame = pd.DataFrame(
            [{"day": e.day, "kind": e.kind, "node": e.node, **e.details} for e in self]
        )
        # Node ids keep their own type (pandas would turn 90 into 90.0 beside a None).
        frame["node"] = pd.Series([e.node for e in self], dtype=object)
        return frame
