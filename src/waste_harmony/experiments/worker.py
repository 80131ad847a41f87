"""What runs in a worker: build a model from a task, run it, tidy and write its results.

:func:`execute` is the function sent to every executor. It never raises for a
failing run (an ``Exception`` becomes a ``"failed"`` :class:`Outcome` with its
traceback); ``KeyboardInterrupt`` and other ``BaseException`` subclasses propagate, so an
interrupted experiment stops. A run's files are written by the worker, atomically
(:meth:`~waste_harmony.results.RunResult.save`), so only small outcomes travel
back to the parent process.
"""

from __future__ import annotations

import json
import os
import socket
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from waste_harmony.experiments.plan import Task
from waste_harmony.results import RunResult

__all__ = ["ID_COLUMNS", "Outcome", "apply_intervention", "execute", "tidy_result"]

#: Columns identifying a run in every tidy frame (before the parameter columns).
ID_COLUMNS = ("run_id", "label", "point", "replicate", "seed")

_DTYPES = {"int": "Int64", "float": "float64", "bool": "boolean", "str": "string",
           "json": "string"}


@dataclass
class Outcome:
    """What a worker reports back for one task.

    Attributes
    ----------
    run_ids : tuple of str
        The task's runs.
    status : str
        ``"done"`` or ``"failed"``.
    seconds : dict
        ``build``, ``run``, ``write`` and ``total`` wall-clock seconds in the worker.
    error : str or None
        ``"ExceptionType: message"`` of a failed run.
    traceback : str or None
        Its formatted traceback.
    results : list of RunResult or None
        The results, when the task had no folder to write to.
    worker : str
        ``host:pid`` of the worker process.
    """

    run_ids: tuple[str, ...]
    status: str
    seconds: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    traceback: str | None = None
    results: list[RunResult] | None = None
    worker: str = ""


def apply_intervention(model: Any, intervention: Any) -> None:
    """Apply an intervention to a model: call it, or install it if it is a scenario.

    Parameters
    ----------
    model : CityModel
        The (copied) model.
    intervention : callable, Scenario, scenario class or registered name
        ``intervention(model)``, or a scenario installed with
        :meth:`~waste_harmony.CityModel.add_scenario` (an instance is copied first, so
        the same object can serve every replicate).
    """
    import copy

    from waste_harmony.scenarios import Scenario

    if isinstance(intervention, Scenario):
        model.add_scenario(copy.deepcopy(intervention))
    elif isinstance(intervention, str) or (
            isinstance(intervention, type) and issubclass(intervention, Scenario)):
        model.add_scenario(intervention)
    elif callable(intervention):
        intervention(model)
    else:
        raise TypeError(f"an intervention must be a callable intervention(model) or a "
                        f"scenario, got {intervention!r}")


def execute(task: Task) -> Outcome:
    """Build, run, tidy and write the run(s) of one task.

    Parameters
    ----------
    task : Task
        The task.

    Returns
    -------
    Outcome
        ``"done"`` with timings (and the results if ``task.folder`` is ``None``), or
        ``"failed"`` with the error and traceback.
    """
    worker = f"{socket.gethostname()}:{os.getpid()}"
    start = time.perf_counter()
    seconds: dict[str, float] = {}
    try:
        model = task.factory(rng=task.seed, **task.kwargs())
        built = time.perf_counter()
        if task.branch is None:
            model.run_for(task.days)
            models = [model]
        else:
            model.run_for(task.branch.at_day)
            variant = model.copy()
            apply_intervention(variant, task.branch.intervention)
            rest = task.days - task.branch.at_day
            model.run_for(rest)
            variant.run_for(rest)
            models = [model, variant]
        ran = time.perf_counter()
        seconds.update(build=built - start, run=ran - built)
        results = [tidy_result(m, task, i, wall_time_s=ran - start)
                   for i, m in enumerate(models)]
        if task.folder is not None:
            for run_id, result in zip(task.run_ids, results, strict=True):
                result.manifest["seconds"] = seconds
                result.manifest["worker"] = worker
                result.save(Path(task.folder) / run_id, overwrite=True)
            results_out = None
        else:
            results_out = results
        done = time.perf_counter()
        seconds.update(write=done - ran, total=done - start)
        return Outcome(task.run_ids, "done", seconds, results=results_out, worker=worker)
    except Exception as exc:
        seconds["total"] = time.perf_counter() - start
        return Outcome(task.run_ids, "failed", seconds, error=f"{type(exc).__name__}: {exc}",
                       traceback=traceback.format_exc(), worker=worker)


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return repr(value)


def _constant(value: Any, kind: str, n: int) -> Any:
    if kind == "json" and value is not None:
        value = json.dumps(value, default=_json_default, sort_keys=True)
    return pd.array([value] * n, dtype=_DTYPES[kind])


def id_frame(task: Task, index: int, n: int) -> dict[str, Any]:
    """The identifying columns of run ``index`` of a task, each ``n`` long.

    Parameters
    ----------
    task : Task
        The task.
    index : int
        Which of its runs.
    n : int
        Rows.

    Returns
    -------
    dict
        Column name → array: ``run_id``, ``label`` (if labelled), ``point``,
        ``replicate``, ``seed``, then one column per swept parameter.
    """
    columns: dict[str, Any] = {"run_id": pd.array([task.run_ids[index]] * n, dtype="string")}
    if task.labels:
        columns["label"] = pd.array([task.labels[index]] * n, dtype="string")
    columns["point"] = np.full(n, task.point, dtype=np.int64)
    columns["replicate"] = np.full(n, task.replicate, dtype=np.int64)
    columns["seed"] = np.full(n, task.seed, dtype=np.int64)
    for name, kind in task.columns.items():
        columns[name] = _constant(task.parameters.get(name), kind, n)
    return columns


def tidy_result(model: Any, task: Task, index: int = 0, *,
                wall_time_s: float | None = None) -> RunResult:
    """A model's results as tidy frames: id and parameter columns, ``day``, variables.

    Parameters
    ----------
    model : CityModel
        A model that has run.
    task : Task
        The task it belongs to.
    index : int
        Which of the task's runs it is.
    wall_time_s : float, optional
        Seconds it took.

    Returns
    -------
    RunResult
        ``model_frame``: one row per day; ``neighborhood_frame``: one row per (day,
        node); ``events``: one row per event with its details as a JSON string; the
        manifest carries the run id, point, replicate, label and swept parameters.
    """
    run_id = task.run_ids[index]
    extra = {"run_id": run_id, "point": task.point, "replicate": task.replicate,
             "label": task.labels[index] if task.labels else None,
             "swept": task.parameters, "days_planned": task.days, **task.extra}
    if task.branch is not None:
        extra["branch_day"] = task.branch.at_day
    base = RunResult.from_model(model, wall_time_s=wall_time_s, extra=extra)

    series = base.model_frame.reset_index()
    for name in series.columns:
        column = series[name]
        if name != "day" and pd.api.types.is_numeric_dtype(column) \
                and not pd.api.types.is_bool_dtype(column):
            series[name] = column.astype("float64")
    series["day"] = series["day"].astype("int64")
    model_frame = pd.concat([pd.DataFrame(id_frame(task, index, len(series))), series], axis=1)

    hoods = None
    if base.neighborhood_frame is not None:
        frame = base.neighborhood_frame
        frame["day"] = frame["day"].astype("int64")
        hoods = pd.concat([pd.DataFrame(id_frame(task, index, len(frame))),
                           frame.reset_index(drop=True)], axis=1)

    log = model.event_log
    events = pd.DataFrame({
        "day": np.array([e.day for e in log], dtype=np.int64),
        "kind": pd.array([e.kind for e in log], dtype="string"),
        "node": pd.array([None if e.node is None else str(e.node) for e in log],
                         dtype="string"),
        "details": pd.array([json.dumps(e.details, default=_json_default, sort_keys=True)
                             for e in log], dtype="string"),
    })
    events = pd.concat([pd.DataFrame(id_frame(task, index, len(events))), events], axis=1)
    return RunResult(model_frame, hoods, events, base.manifest)
