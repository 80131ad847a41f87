"""An experiment's folder on disk: its layout, its manifest and its small writers.

Layout of an experiment folder::

    experiment.json          the experiment manifest: kind, the plan's recipe
                             (grid values or points, replicates or seeds, root
                             seed: :mod:`~waste_harmony.batch.recipe`; its size
                             does not grow with a grid's runs), model, versions,
                             status and counts, and the SHA-256 of its own
                             content (an edited plan is refused). Folders written
                             before plans had recipes list every run instead
                             (``runs``); they are read and resumed as before
    runs/<run_id>/           one finished run: model.parquet, neighborhoods.parquet,
                             events.parquet and manifest.json (written last,
                             listing every file's SHA-256)
    failures/<run_id>.json   a run that raised: its error and traceback
    timings.jsonl            one line per task as it finished: worker, seconds to
                             build, run and write

A run is finished when its ``manifest.json`` exists (files are written atomically
and the manifest last), so an interrupted experiment leaves only complete runs.
What this costs on disk per run is in ``docs/experiments.md`` (Huge plans).
:class:`~waste_harmony.batch.store.SweepResult` reads such a folder.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from waste_harmony.results import run_files
from waste_harmony.schema import json_safe, read_json
from waste_harmony.storage import check_seal, seal, write_atomic, write_errors

if TYPE_CHECKING:
    from waste_harmony.batch.plan import Task
    from waste_harmony.batch.worker import Outcome

__all__ = [
    "COMPARISON_FILES",
    "EXPERIMENT_MANIFEST",
    "FAILURES",
    "RUNS",
    "TIMINGS",
    "append_timing",
    "experiment_files",
    "now",
    "read_experiment_manifest",
    "record_failure",
    "runs_intact",
    "write_experiment_manifest",
]

#: Files and folders of an experiment folder (see the module docstring).
EXPERIMENT_MANIFEST = "experiment.json"
RUNS = "runs"
FAILURES = "failures"
TIMINGS = "timings.jsonl"
#: What ``waste-harmony compare`` writes beside the runs: its table and its figure.
COMPARISON_FILES = {"table": "summary.csv", "figure": "comparison.png"}


def now() -> str:
    """The current UTC time as ISO 8601 text (seconds), as written in manifests."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def write_experiment_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """Write ``experiment.json`` atomically, with the SHA-256 of its own content.

    Parameters
    ----------
    folder : pathlib.Path
        The experiment folder.
    manifest : dict
        The experiment manifest.
    """
    text = json.dumps(seal(manifest), indent=1, sort_keys=True)
    write_atomic(folder / EXPERIMENT_MANIFEST, lambda p: p.write_text(text + "\n"))


def read_experiment_manifest(folder: Path) -> dict[str, Any]:
    """Read ``experiment.json``, refusing one changed since the library wrote it.

    Parameters
    ----------
    folder : pathlib.Path
        The experiment folder.

    Returns
    -------
    dict
        The manifest.

    Raises
    ------
    FileNotFoundError
        If there is none.
    ValueError
        If it is not valid JSON, or its content differs from its own checksum (a seed
        of the plan edited by hand, say): the results would no longer be what the
        plan says.
    """
    file = folder / EXPERIMENT_MANIFEST
    manifest = read_json(file, "experiment manifest")
    if not isinstance(manifest, dict):
        raise ValueError(f"experiment manifest {file} is not a JSON object")
    problem = check_seal(manifest, f"experiment manifest {file}")
    if problem:
        raise ValueError(
            f"{problem}; the plan it holds (seeds, parameters) may no longer be the runs' "
            "own. Restore it from a copy, or run the experiment again into a new folder "
            "(or with overwrite=True, --force)"
        )
    return manifest


def experiment_files(folder: Path) -> set[str]:
    """The files of an experiment folder that waste-harmony wrote (relative paths).

    The manifest, ``timings.jsonl``, the failure records, every run's files
    (:func:`waste_harmony.results.run_files`) and the comparison's table and figure
    (:data:`COMPARISON_FILES`): what replacing the experiment
    (``overwrite=True``, ``--force``) may remove.

    Parameters
    ----------
    folder : pathlib.Path
        An experiment folder.

    Returns
    -------
    set of str
        Relative paths.
    """
    owned = {EXPERIMENT_MANIFEST, TIMINGS, *COMPARISON_FILES.values()}
    failures = folder / FAILURES
    if failures.is_dir():
        owned.update(f"{FAILURES}/{p.name}" for p in failures.glob("*.json"))
    runs = folder / RUNS
    if runs.is_dir():
        for run in runs.iterdir():
            if run.is_dir() and not run.is_symlink():
                owned.update(f"{RUNS}/{run.name}/{name}" for name in run_files(run))
    return owned


def record_failure(folder: Path, task: Task, outcome: Outcome) -> None:
    """Write ``failures/<run_id>.json`` for each run of a failed task.

    Parameters
    ----------
    folder : pathlib.Path
        The experiment folder.
    task : Task
        The task.
    outcome : Outcome
        Its failed outcome (error, traceback, worker).
    """
    for index, run_id in enumerate(task.run_ids):
        record = {
            "run_id": run_id,
            "label": task.labels[index] if task.labels else None,
            "point": task.point,
            "replicate": task.replicate,
            "seed": task.seed,
            "parameters": task.parameters,
            "error": outcome.error,
            "traceback": outcome.traceback,
            "worker": outcome.worker,
            "time": now(),
        }
        text = json.dumps(json_safe(record), indent=1)
        write_atomic(folder / FAILURES / f"{run_id}.json", lambda p, t=text: p.write_text(t))


def append_timing(folder: Path, task: Task, outcome: Outcome) -> None:
    """Append one line for a finished or failed task to ``timings.jsonl``.

    Parameters
    ----------
    folder : pathlib.Path
        The experiment folder.
    task : Task
        The task.
    outcome : Outcome
        Its outcome (status, worker, seconds).
    """
    line = {
        "run_ids": list(task.run_ids),
        "status": outcome.status,
        "worker": outcome.worker,
        **outcome.seconds,
    }
    file = folder / TIMINGS
    with write_errors(file, intact=runs_intact(folder)), file.open("a") as fh:
        fh.write(json.dumps(line) + "\n")  # streamed, never held in memory


def runs_intact(folder: Path) -> str:
    """What is left as it was when writing into an experiment folder fails (for messages)."""
    return (
        f"the finished runs in {folder} are intact; once the cause is fixed, resume the "
        "experiment to run the rest (--resume, resume=True)"
    )
