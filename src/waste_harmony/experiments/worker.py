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

from waste_harmony.experiments.plan import Task
from waste_harmony.results import (
    EVENT_FILE,
    MANIFEST,
    MODEL_FILE,
    NEIGHBORHOOD_FILE,
    RunResult,
    run_manifest,
    write_atomic,
)

__all__ = [
    "ID_COLUMNS",
    "Outcome",
    "apply_intervention",
    "execute",
    "tidy_result",
    "tidy_tables",
    "to_run_result",
    "write_run",
]

#: Columns identifying a run in every tidy frame (before the parameter columns).
ID_COLUMNS = ("run_id", "label", "point", "replicate", "seed")

_FILES = {"model": MODEL_FILE, "neighborhoods": NEIGHBORHOOD_FILE, "events": EVENT_FILE}


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
        ``build``, ``run``, ``write`` (tidy and write files) and ``total`` seconds in
        the worker, and the epoch times ``started_at`` and ``finished_at``.
    error : str or None
        ``"ExceptionType: message"`` of a failed run.
    traceback : str or None
        Its formatted traceback.
    results : list of (tables, manifest) or None
        The results (:func:`tidy_tables`), when the task had no folder to write to.
    worker : str
        ``host:pid`` of the worker process.
    """

    run_ids: tuple[str, ...]
    status: str
    seconds: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    traceback: str | None = None
    results: list[tuple[dict[str, Any], dict[str, Any]]] | None = None
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
        isinstance(intervention, type) and issubclass(intervention, Scenario)
    ):
        model.add_scenario(intervention)
    elif callable(intervention):
        intervention(model)
    else:
        raise TypeError(
            f"an intervention must be a callable intervention(model) or a "
            f"scenario, got {intervention!r}"
        )


def _fresh(value: Any) -> Any:
    """Copy scenario instances, which can be installed in one model only."""
    import copy

    from waste_harmony.scenarios import Scenario

    if isinstance(value, Scenario):
        return copy.deepcopy(value)
    if isinstance(value, dict):
        return {k: _fresh(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_fresh(v) for v in value)
    return value


#: glibc heap trim threshold for worker processes (bytes); see :func:`relax_heap_trimming`.
TRIM_THRESHOLD_BYTES = 128 * 1024 * 1024
_M_TRIM_THRESHOLD = -1  # mallopt() parameter number in glibc's malloc.h
_heap_relaxed = False


def relax_heap_trimming() -> bool:
    """Stop glibc from returning freed heap memory to the OS after every small free.

    Dask's nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536`` (and, since a
    nanny sets it in its own process too, every process spawned after a Dask cluster
    inherits it). The model allocates and frees many arrays of tens of kilobytes per
    day; with that threshold glibc trims the heap after nearly every free and the
    next allocation faults the pages back in, which made a year-long 10^4-citizen run
    about 60 % slower (0.52 s instead of 0.32 s, measured in a spawn pool worker with
    and without the variable). Raising the threshold to 128 MiB at run time, once per
    worker process, restores the speed; memory is still returned to the OS when more
    than that is free at the top of the heap. A no-op off glibc.

    Returns
    -------
    bool
        Whether the threshold was set (now or earlier in this process).
    """
    global _heap_relaxed
    if _heap_relaxed:
        return True
    try:
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        _heap_relaxed = bool(libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl without mallopt)
        _heap_relaxed = False
    return _heap_relaxed


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
    relax_heap_trimming()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    started_at = time.time()  # wall-clock epoch, to see gaps between a worker's tasks
    start = time.perf_counter()
    seconds: dict[str, float] = {}
    try:
        model = task.factory(rng=task.seed, **_fresh(task.kwargs()))
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
        runs = [tidy_tables(m, task, i, wall_time_s=ran - start) for i, m in enumerate(models)]
        for _, manifest in runs:
            manifest["worker"] = worker
            manifest["seconds"] = dict(seconds)
        if task.folder is not None:
            for run_id, (tables, manifest) in zip(task.run_ids, runs, strict=True):
                write_run(Path(task.folder) / run_id, tables, manifest)
            results_out = None
        else:
            results_out = runs
        done = time.perf_counter()
        seconds.update(
            write=done - ran, total=done - start, started_at=started_at, finished_at=time.time()
        )
        return Outcome(task.run_ids, "done", seconds, results=results_out, worker=worker)
    except Exception as exc:
        seconds["total"] = time.perf_counter() - start
        return Outcome(
            task.run_ids,
            "failed",
            seconds,
            error=f"{type(exc).__name__}: {exc}",
            traceback=traceback.format_exc(),
            worker=worker,
        )


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return repr(value)


def _arrow_type(kind: str) -> Any:
    import pyarrow as pa

    return {
        "int": pa.int64(),
        "float": pa.float64(),
        "bool": pa.bool_(),
        "str": pa.string(),
        "json": pa.string(),
    }[kind]


def _constant(value: Any, kind: str, n: int) -> Any:
    import pyarrow as pa

    kind_type = _arrow_type(kind)
    if value is None:
        return pa.nulls(n, kind_type)
    if kind == "json":
        value = json.dumps(value, default=_json_default, sort_keys=True)
    elif hasattr(value, "item"):
        value = value.item()
    if kind == "float":
        value = float(value)
    return pa.repeat(pa.scalar(value, type=kind_type), n)


def id_columns(task: Task, index: int, n: int) -> dict[str, Any]:
    """The identifying columns of run ``index`` of a task, each ``n`` long (Arrow arrays).

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
    import pyarrow as pa

    columns: dict[str, Any] = {"run_id": pa.repeat(pa.scalar(task.run_ids[index]), n)}
    if task.labels:
        columns["label"] = pa.repeat(pa.scalar(task.labels[index]), n)
    columns["point"] = pa.array(np.full(n, task.point, dtype=np.int64))
    columns["replicate"] = pa.array(np.full(n, task.replicate, dtype=np.int64))
    columns["seed"] = pa.array(np.full(n, task.seed, dtype=np.int64))
    for name, kind in task.columns.items():
        columns[name] = _constant(task.parameters.get(name), kind, n)
    return columns


def tidy_tables(
    model: Any, task: Task, index: int = 0, *, wall_time_s: float | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A model's results as tidy Arrow tables: id and parameter columns, ``day``, variables.

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
    (dict, dict)
        Tables ``"model"`` (one row per day), ``"neighborhoods"`` (one row per day and
        node; absent if not recorded) and ``"events"`` (details as a JSON string);
        and the manifest (run id, point, replicate, label, swept parameters, seed,
        all parameters, scenarios, city, versions).
    """
    import pyarrow as pa

    extra = {
        "run_id": task.run_ids[index],
        "point": task.point,
        "replicate": task.replicate,
        "label": task.labels[index] if task.labels else None,
        "swept": task.parameters,
        "days_planned": task.days,
        **task.extra,
    }
    if task.branch is not None:
        extra["branch_day"] = task.branch.at_day
    manifest = run_manifest(model, wall_time_s=wall_time_s, extra=extra)

    series = model.datacollector.model_vars
    n = len(next(iter(series.values()))) if series else 0
    columns = id_columns(task, index, n)
    columns["day"] = pa.array(np.arange(1, n + 1, dtype=np.int64))
    for name, values in series.items():
        if values and isinstance(values[0], str):
            columns[name] = pa.array(values, type=pa.string())
        else:
            columns[name] = pa.array(np.asarray(values, dtype=np.float64))
    tables = {"model": pa.table(columns)}

    recorder = model.neighborhood_recorder
    if recorder is not None:
        days, m = recorder.n_days, recorder.n_nodes
        rows = days * m
        columns = id_columns(task, index, rows)
        columns["day"] = pa.array(np.repeat(recorder.days, m))
        positions = pa.array(np.tile(np.arange(m, dtype=np.int32), days))
        columns["node"] = pa.array([str(v) for v in model.node_ids]).take(positions)
        columns["zone"] = pa.array([str(z) for z in model.neighborhoods.zone]).take(positions)
        for name in recorder.variables:
            columns[name] = pa.array(recorder.array(name).reshape(-1))
        tables["neighborhoods"] = pa.table(columns)

    log = model.event_log
    columns = id_columns(task, index, len(log))
    columns["day"] = pa.array(np.array([e.day for e in log], dtype=np.int64))
    columns["kind"] = pa.array([e.kind for e in log], type=pa.string())
    columns["node"] = pa.array(
        [None if e.node is None else str(e.node) for e in log], type=pa.string()
    )
    columns["details"] = pa.array(
        [json.dumps(e.details, default=_json_default, sort_keys=True) for e in log],
        type=pa.string(),
    )
    tables["events"] = pa.table(columns)
    return tables, manifest


def write_run(folder: Path, tables: dict[str, Any], manifest: dict[str, Any]) -> Path:
    """Write a run's tables and manifest atomically, in :meth:`RunResult.save`'s layout.

    Parameters
    ----------
    folder : pathlib.Path
        The run's folder.
    tables : dict
        From :func:`tidy_tables`.
    manifest : dict
        Written last: a folder with a manifest is complete.

    Returns
    -------
    pathlib.Path
        The folder.
    """
    import pyarrow.parquet as pq

    from waste_harmony.results import _json_safe

    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST).unlink(missing_ok=True)
    for kind, table in tables.items():
        strings = [f.name for f in table.schema if f.type == "string"]
        write_atomic(
            folder / _FILES[kind],
            lambda p, t=table, d=strings: pq.write_table(
                t, p, compression="snappy", use_dictionary=d
            ),
        )
    text = json.dumps(_json_safe(manifest), indent=2, sort_keys=True)
    write_atomic(folder / MANIFEST, lambda p: p.write_text(text + "\n"))
    return folder


def to_run_result(tables: dict[str, Any], manifest: dict[str, Any]) -> RunResult:
    """Tables from :func:`tidy_tables` as a :class:`RunResult` of pandas frames.

    Parameters
    ----------
    tables : dict
        The tables.
    manifest : dict
        The manifest.

    Returns
    -------
    RunResult
        The run.
    """
    hoods = tables.get("neighborhoods")
    return RunResult(
        tables["model"].to_pandas(),
        None if hoods is None else hoods.to_pandas(),
        tables["events"].to_pandas(),
        manifest,
    )


def tidy_result(
    model: Any, task: Task, index: int = 0, *, wall_time_s: float | None = None
) -> RunResult:
    """A model's results as a :class:`RunResult` of tidy pandas frames.

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
        See :func:`tidy_tables`.
    """
    return to_run_result(*tidy_tables(model, task, index, wall_time_s=wall_time_s))
