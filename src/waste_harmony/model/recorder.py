"""Recording a CityModel: its outputs each day, per-neighbourhood series, events, frames.

:class:`Recorder` is the part of a :class:`~waste_harmony.CityModel` that owns what a
run leaves behind: Mesa's :class:`~mesa.DataCollector` of model-level series, the
per-neighbourhood series (:class:`~waste_harmony.recording.NeighborhoodRecorder`),
the recorded days and the event log. The model calls :meth:`Recorder.record` once
when it is built (day 0, the initial state) and after every day.

What is recorded is a table the recorder is given, one per model: ``outputs``
(:class:`~waste_harmony.recording.OutputVariable` entries; the model passes the
built-in :data:`~waste_harmony.recording.OUTPUTS`) and ``neighborhood_reporters``
(name → ``compute(model)`` returning one value per node; the model passes
:data:`NEIGHBORHOOD_REPORTERS`). A study's own outputs are more entries of these
tables (``own_outputs``, ``own_neighborhood``), recorded from day 0 like the
built-ins. A built-in output's value is set as the model's attribute of its name
(what Mesa's string reporters read); an own output's function is the collector's
reporter itself, so its name can never overwrite one of the model's attributes.

The collector is Mesa's, with one difference: its reporter tables are closed
(:class:`ClosedReporters`). Adding to ``datacollector.model_reporters`` mid-run would
record a column shorter than the others (Mesa's ``KeyError``, then a length
mismatch in every frame), so it is refused at once with the way that works.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any, NoReturn

import mesa
import numpy as np
import pandas as pd

from waste_harmony.dynamics.inequality import gini
from waste_harmony.recording import (
    NEIGHBORHOOD_OUTPUTS,
    OUTPUTS,
    EventLog,
    NeighborhoodRecorder,
    OutputVariable,
)

__all__ = [
    "NEIGHBORHOOD_REPORTERS",
    "CityDataCollector",
    "ClosedReporters",
    "NeighborhoodReporter",
    "Recorder",
]

#: ``compute(model)`` of a per-neighbourhood variable: one value per node, in row order.
NeighborhoodReporter = Callable[[Any], np.ndarray]


# Named functions, not lambdas: a model's recorder pickles its table by reference.
def _population(model: Any) -> np.ndarray:
    return model.residents


def _concern(model: Any) -> np.ndarray:
    return model.homes.means(model.citizens.concern)


def _waste_stock(model: Any) -> np.ndarray:
    return model.neighborhoods.waste_stock_kg


def _pollution(model: Any) -> np.ndarray:
    return model.neighborhoods.pollution


def _habitat(model: Any) -> np.ndarray:
    return model.neighborhoods.habitat


def _biotech_access(model: Any) -> np.ndarray:
    return model.neighborhoods.biotech_access


def _organism_biomass(model: Any) -> np.ndarray:
    return model.neighborhoods.organism_biomass


def _protest_share(model: Any) -> np.ndarray:
    return model.homes.means(model.citizens.protesting)


def _recycling_share(model: Any) -> np.ndarray:
    return model.homes.means(model.citizens.recycled)


def _biotech_adoption(model: Any) -> np.ndarray:
    return model.homes.means(model.citizens.adopted)


#: How each variable of :data:`~waste_harmony.recording.NEIGHBORHOOD_VARIABLES` is
#: computed (same names, same order): shares and means are over each node's residents.
NEIGHBORHOOD_REPORTERS: dict[str, NeighborhoodReporter] = {
    "population": _population,
    "concern": _concern,
    "waste_stock_kg": _waste_stock,
    "pollution": _pollution,
    "habitat": _habitat,
    "biotech_access": _biotech_access,
    "organism_biomass": _organism_biomass,
    "protest_share": _protest_share,
    "recycling_share": _recycling_share,
    "biotech_adoption": _biotech_adoption,
}


#: What each Mesa habit should do instead (the message of :class:`ClosedReporters`).
_THE_WAY = {
    "model_reporters": (
        "give the model its own outputs when it is built: "
        "CityModel(model_reporters={{'{name}': function}}) (a subclass passes it to "
        "super().__init__), so they are recorded from day 0 like the built-ins"
    ),
    "agent_reporters": (
        "per-agent records are not kept (10^4 citizens a day); record what you need "
        "per neighbourhood, CityModel(neighborhood_reporters={{'{name}': function}}), "
        "a function of the model returning one value per node (e.g. "
        "model.homes.means(model.citizens.concern)), or a model-level summary with "
        "model_reporters="
    ),
}


class ClosedReporters(dict[str, Any]):
    """A reporter table of the model's collector: readable, refusing additions at once.

    Parameters
    ----------
    kind : str
        ``"model_reporters"``, ``"agent_reporters"`` or ``"agenttype_reporters"``.
    items : mapping
        The reporters.

    Examples
    --------
    >>> table = ClosedReporters("model_reporters", {"a": "a"})
    >>> table["high"] = len  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: datacollector.model_reporters cannot grow once the model is built ...
    """

    def __init__(self, kind: str, items: Mapping[str, Any] = ()) -> None:  # type: ignore[assignment]
        super().__init__(items)
        self.kind = kind

    def _refuse(self, name: Any = "name", *_: Any, **__: Any) -> NoReturn:
        way = _THE_WAY.get(self.kind, _THE_WAY["model_reporters"]).format(name=name)
        raise TypeError(
            f"datacollector.{self.kind} cannot grow once the model is built (the new "
            f"column would miss the days already recorded); {way}"
        )

    def __setitem__(self, name: str, value: Any) -> None:
        self._refuse(name)

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Refused (see the class)."""
        names = [*dict(*args, **kwargs)] or ["name"]
        self._refuse(names[0])

    def setdefault(self, name: str, default: Any = None) -> Any:
        """Refused (see the class)."""
        self._refuse(name)

    def __ior__(self, other: Any) -> NoReturn:  # type: ignore[misc]
        self._refuse(next(iter(dict(other)), "name"))

    def __reduce__(self) -> tuple[Any, ...]:
        # Copies and pickles rebuild the table whole (not item by item, which is refused).
        return (type(self), (self.kind, dict(self)))


class CityDataCollector(mesa.DataCollector):
    """Mesa's DataCollector whose reporter tables are closed once it is built.

    Everything Mesa reads works as before (``model_vars``,
    ``get_model_vars_dataframe()``, tables); adding a reporter raises at once
    (:class:`ClosedReporters`), naming the constructor argument that works. The model
    records each day itself (:meth:`record_day`); Mesa's habit of calling
    ``collect(model)`` in ``__init__`` and ``step`` is refused at once, saying so
    (it would record a day twice, or before the day's values exist).
    """

    def __init__(self, model_reporters: Mapping[str, Any]) -> None:
        super().__init__(model_reporters=dict(model_reporters))
        self.model_reporters = ClosedReporters("model_reporters", self.model_reporters)
        self.agent_reporters = ClosedReporters("agent_reporters", self.agent_reporters)
        self.agenttype_reporters = ClosedReporters("agent_reporters", self.agenttype_reporters)

    def collect(self, model: Any) -> None:
        """Refused: the model records each day itself (see the class docstring)."""
        raise RuntimeError(
            "CityModel records each day itself: day 0 when the model is built (after "
            "your __init__ returns) and each day when step returns; remove the call "
            "datacollector.collect(...). To record your own variables, give them when "
            "the model is built: CityModel(model_reporters={'name': function})"
        )

    def record_day(self, model: Any) -> None:
        """Collect one day's values (Mesa's ``collect``), called by the model's recorder."""
        super().collect(model)


def _call(compute: Callable[[Any], Any], name: str, model: Any) -> Any:
    # An own output's reporter: Mesa calls a partial with the model (a callable
    # object alone it would call with no argument). Its failure names the output,
    # the day and the usual cause, not only the reporter's own exception.
    try:
        return compute(model)
    except Exception as error:
        raise RuntimeError(
            f"own output {name!r} failed on day {getattr(model, 'day', '?')}: "
            f"{type(error).__name__}: {error}. Own outputs are recorded from day 0, the "
            "state the model is built in: agents added after CityModel(...) returns do "
            "not exist yet; add them in your subclass's __init__ after "
            "super().__init__(), or let the reporter give a value when there are none"
        ) from error


def _own_reporter(output: OutputVariable) -> Callable[[Any], Any]:
    # What the collector calls for an own output: its function, named in its errors.
    if output.compute is None:
        raise TypeError(f"own output {output.name!r} has no function to compute it")
    return partial(_call, output.compute, output.name)


class Recorder:
    """The outputs, per-neighbourhood series, recorded days and events of one model.

    Parameters
    ----------
    outputs : sequence of OutputVariable
        The model-level outputs, in column order.
    n_nodes : int
        Number of neighbourhoods.
    neighborhood_reporters : mapping or None
        Per-neighbourhood variable name → ``compute(model)``; ``None`` records no
        per-neighbourhood series.
    own_outputs : sequence of OutputVariable
        A study's own model-level outputs (each with ``compute``), after the built-ins.
    own_neighborhood : sequence of OutputVariable
        A study's own per-neighbourhood outputs (``compute(model)`` gives one value
        per node), after the built-ins.

    Attributes
    ----------
    outputs : tuple of OutputVariable
        The outputs recorded each day, built-in and own.
    neighborhood_outputs : tuple of OutputVariable
        The per-neighbourhood variables (unit and meaning), built-in and own; empty if
        none are recorded.
    datacollector : CityDataCollector
        The model-level series: one reporter per output (a built-in reads the
        model's attribute of the same name, set by :meth:`record`; an own output is
        its function).
    neighborhoods : NeighborhoodRecorder or None
        The per-neighbourhood series.
    days : list of int
        The recorded days, in order.
    event_log : EventLog
        The events.

    Examples
    --------
    >>> from waste_harmony.recording import OUTPUTS
    >>> recorder = Recorder(OUTPUTS, n_nodes=4, neighborhood_reporters=None)
    >>> list(recorder.datacollector.model_reporters)[:2], recorder.days
    (['mean_concern', 'protest_share'], [])
    """

    def __init__(
        self,
        outputs: Sequence[OutputVariable],
        *,
        n_nodes: int,
        neighborhood_reporters: Mapping[str, NeighborhoodReporter] | None,
        own_outputs: Sequence[OutputVariable] = (),
        own_neighborhood: Sequence[OutputVariable] = (),
    ) -> None:
        self.outputs = (*outputs, *own_outputs)
        own = {v.name for v in own_outputs}
        self.datacollector = CityDataCollector(
            {v.name: _own_reporter(v) if v.name in own else v.name for v in self.outputs}
        )
        self.reporters = dict(neighborhood_reporters or {})
        self.neighborhood_outputs: tuple[OutputVariable, ...] = ()
        if neighborhood_reporters is not None:
            self.reporters.update({v.name: _own_reporter(v) for v in own_neighborhood})
            known = {v.name: v for v in NEIGHBORHOOD_OUTPUTS}
            self.neighborhood_outputs = (
                *(known.get(n, OutputVariable(n, "", n)) for n in neighborhood_reporters),
                *own_neighborhood,
            )
        self._own = own
        self.own_outputs = tuple(own_outputs)
        self.own_neighborhood = (
            tuple(own_neighborhood) if neighborhood_reporters is not None else ()
        )
        self.neighborhoods = (
            NeighborhoodRecorder(n_nodes, self.reporters)
            if neighborhood_reporters is not None
            else None
        )
        self.days: list[int] = []
        self.event_log = EventLog()
        self._gini: tuple[np.ndarray, np.ndarray, float] | None = None

    def record(self, model: Any, day: int) -> None:
        """Record ``day``: every output, then every per-neighbourhood variable.

        Each output's value is also set as the model's attribute of the same name,
        which the DataCollector's reporter reads (Mesa's string reporters).

        Parameters
        ----------
        model : CityModel
            The model the outputs read.
        day : int
            The day being recorded.
        """
        self.days.append(day)
        for output in self.outputs:
            if output.compute is not None and output.name not in self._own:
                setattr(model, output.name, output.compute(model))
        self.datacollector.record_day(model)
        if self.neighborhoods is not None:
            values = {name: compute(model) for name, compute in self.reporters.items()}
            self._check_shapes(values, day)
            self.neighborhoods.append(day, values)

    def _check_shapes(self, values: dict[str, Any], day: int) -> None:
        # An own per-neighbourhood reporter must give one number per node (checked
        # each day it is recorded: the error names the reporter, not numpy's broadcast).
        n = self.neighborhoods.n_nodes if self.neighborhoods is not None else 0
        for name, value in values.items():
            shape = np.shape(value)
            if shape not in ((n,), ()):
                raise ValueError(
                    f"neighborhood reporter {name!r} gave shape {shape} on day {day}; it "
                    f"must return one value per node in row order, shape ({n},) "
                    "(e.g. model.homes.means(column) or a column of model.neighborhoods)"
                )

    def model_frame(self) -> pd.DataFrame:
        """Model-level series indexed by day (the DataCollector's frame)."""
        frame = self.datacollector.get_model_vars_dataframe()
        frame.index = pd.Index(self.days, dtype=np.int64, name="day")
        return frame

    def neighborhood_frame(
        self, node_ids: Sequence[Any], zones: np.ndarray, area_km2: np.ndarray
    ) -> pd.DataFrame:
        """Per-neighbourhood series, one row per (day, node): ``day``, ``node``, ``zone``, ….

        Parameters
        ----------
        node_ids : sequence
            Node ids in row order (they keep their own type, tuples included).
        zones : numpy.ndarray
            Each node's zone, in row order.
        area_km2 : numpy.ndarray
            Each node's area (km²), in row order: the column ``area_km2``, the weight
            of the node's concentrations when they are averaged over nodes.

        Returns
        -------
        pandas.DataFrame
            The frame.

        Raises
        ------
        RuntimeError
            If this recorder records no per-neighbourhood series.
        """
        recorder = self.neighborhoods
        if recorder is None:
            raise RuntimeError(
                "this model was built with record_neighborhoods=False; "
                "build it with record_neighborhoods=True to get the frame"
            )
        m = len(node_ids)
        frame = recorder.frame(list(range(m)))
        # Node ids keep their own type; built element-wise so tuple ids stay one value.
        ids = np.empty(m, dtype=object)
        for i, node in enumerate(node_ids):
            ids[i] = node
        frame["node"] = pd.Series(ids[frame["node"].to_numpy(dtype=np.int64)], dtype=object)
        frame.insert(2, "zone", np.tile(zones, recorder.n_days))
        frame.insert(3, "area_km2", np.tile(area_km2, recorder.n_days))
        return frame

    def series(self, name: str, since_day: int) -> np.ndarray:
        """Recorded values of one output from ``since_day`` on (``KeyError`` if unknown)."""
        values = self.datacollector.model_vars.get(name)
        if values is None:
            raise KeyError(
                f"{name!r} is not a recorded model variable; recorded: "
                f"{sorted(self.datacollector.model_vars)}"
            )
        return np.asarray(values[max(since_day, 0) :])

    def access_gini(self, access: np.ndarray, residents: np.ndarray) -> float:
        """Population-weighted Gini of ``access``, recomputed only when an input changed."""
        # Access and residents rarely change: recompute the Gini (a sort) only when they do.
        cached = self._gini
        if (
            cached is None
            or not np.array_equal(cached[0], access)
            or not np.array_equal(cached[1], residents)
        ):
            cached = (access.copy(), residents.copy(), gini(access, residents))
            self._gini = cached
        return cached[2]

    def __getstate__(self) -> dict[str, Any]:
        # A built-in output is kept as its name, so a model pickles although the
        # built-in table computes with lambdas; a study's own outputs pickle as they are.
        state = dict(self.__dict__)
        state["outputs"] = tuple(_builtin_name(v) or v for v in self.outputs)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        builtin = {v.name: v for v in OUTPUTS}
        state["outputs"] = tuple(builtin[v] if isinstance(v, str) else v for v in state["outputs"])
        state.setdefault("_own", set())  # pickled before own outputs existed
        state.setdefault("neighborhood_outputs", ())
        state.setdefault("own_outputs", ())
        state.setdefault("own_neighborhood", ())
        self.__dict__.update(state)


def _builtin_name(output: OutputVariable) -> str | None:
    return output.name if any(output is v for v in OUTPUTS) else None
