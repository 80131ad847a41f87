# Over 600 lines: SweepResult (about 480 of them: every reader of an experiment folder, each
# a method users call); the folder's writers and the summaries already live apart
# (batch.folder, batch.summaries).
"""An experiment's results read lazily: :class:`SweepResult`, and opening any results folder.

The folder's layout and its writers are in :mod:`~waste_harmony.batch.folder` (their
names are importable from here too, where they used to live); summaries over the
replicates in :mod:`~waste_harmony.batch.summaries`.

A finished run whose files no longer match their checksums is *damaged*
(:meth:`SweepResult.damaged`): reading it names it, resuming runs it again.
Results are read lazily: :meth:`SweepResult.dataset` is a :mod:`pyarrow.dataset`
over the finished runs (their files of that kind checked once per result
object), :meth:`SweepResult.load` reads only the columns (and rows) asked for;
only :meth:`SweepResult.to_pandas` reads everything. The planned runs come from the
recipe in ``experiment.json`` (:mod:`~waste_harmony.batch.recipe`), never a list
of every run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from waste_harmony.batch.folder import (
    COMPARISON_FILES,
    EXPERIMENT_MANIFEST,
    FAILURES,
    RUNS,
    TIMINGS,
    append_timing,
    experiment_files,
    now,
    read_experiment_manifest,
    record_failure,
    runs_intact,
    write_experiment_manifest,
)
from waste_harmony.batch.recipe import ListedRuns, Plan, runs_of
from waste_harmony.batch.summaries import summarise
from waste_harmony.results import RunResult, verify_run
from waste_harmony.schema import (
    FILES,
    MANIFEST,
    encode_node,
    key_columns,
    read_json,
    table_to_frame,
)
from waste_harmony.storage import FILES_KEY, file_sha256

__all__ = [
    "COMPARISON_FILES",
    "EXPERIMENT_MANIFEST",
    "FAILURES",
    "RUNS",
    "TIMINGS",
    "SweepResult",
    "append_timing",
    "experiment_files",
    "load_experiment",
    "load_results",
    "now",
    "read_experiment_manifest",
    "record_failure",
    "runs_intact",
    "write_experiment_manifest",
]


def _kind_file(kind: str) -> str:
    try:
        return FILES[kind]
    except KeyError:
        raise ValueError(f"unknown kind {kind!r}; choose one of {', '.join(FILES)}") from None


class SweepResult:
    """The results of an ensemble, sweep or comparison, read lazily from its folder.

    Parameters
    ----------
    path : str or os.PathLike
        The experiment folder (see the module docstring for its layout).

    Attributes
    ----------
    path : pathlib.Path
        The folder.
    manifest : dict
        The experiment manifest.

    Examples
    --------
    >>> from waste_harmony import experiments
    >>> result = experiments.ensemble(n_citizens=100, days=5, seeds=2, root_seed=1,
    ...                               executor="serial", progress=False)
    >>> result.n_finished, result.n_failed
    (2, 0)
    >>> frame = result.load(["mean_concern"])
    >>> list(frame.columns), len(frame)
    (['run_id', 'point', 'replicate', 'seed', 'day', 'mean_concern'], 12)
    """

    def __init__(
        self, path: str | os.PathLike[str], *, manifest: dict[str, Any] | None = None
    ) -> None:
        self.path = Path(path)
        file = self.path / EXPERIMENT_MANIFEST
        if manifest is None:
            if not file.exists():
                raise FileNotFoundError(
                    f"{self.path} holds no {EXPERIMENT_MANIFEST}: not an experiment folder"
                )
            manifest = read_experiment_manifest(self.path)
        self.manifest: dict[str, Any] = manifest
        self._plan: Plan | ListedRuns | None = None
        # files checked against their run's manifest: (path, size, mtime) -> intact
        self._checked: set[tuple[str, int, int]] = set()

    def __repr__(self) -> str:
        return (
            f"SweepResult({str(self.path)!r}, kind={self.manifest.get('kind')!r}, "
            f"runs={self.n_runs}, finished={self.n_finished}, failed={self.n_failed})"
        )

    # ------------------------------------------------------------------ the plan
    @property
    def parameter_names(self) -> list[str]:
        """Names of the swept parameters (the parameter columns)."""
        return list(self.manifest.get("parameter_columns", {}))

    @property
    def plan(self) -> Plan | ListedRuns:
        """The planned runs, computed from the recipe in ``experiment.json``.

        A :class:`~waste_harmony.batch.recipe.Plan`, or for a folder written before
        plans had recipes the runs it lists.
        """
        if self._plan is None:
            self._plan = runs_of(self.manifest)
        return self._plan

    @property
    def n_runs(self) -> int:
        """Number of runs planned."""
        return self.plan.n_runs

    def run_ids(self) -> list[str]:
        """Every planned run id, in plan order."""
        return list(self.plan.run_ids())

    def _done(self) -> set[str]:
        """Ids of the run folders holding a manifest (one directory listing)."""
        runs = self.path / RUNS
        if not runs.is_dir():
            return set()
        with os.scandir(runs) as entries:
            return {e.name for e in entries if os.path.exists(os.path.join(e.path, MANIFEST))}

    def is_finished(self, run_id: str) -> bool:
        """Whether a run's results are complete on disk.

        Parameters
        ----------
        run_id : str
            The run.

        Returns
        -------
        bool
            ``True`` if its manifest exists.
        """
        return (self.path / RUNS / run_id / MANIFEST).exists()

    def finished(self) -> list[str]:
        """Ids of the finished runs, in plan order."""
        done = self._done()
        return [r for r in self.plan.run_ids() if r in done] if done else []

    @property
    def n_finished(self) -> int:
        """Number of finished runs."""
        return len(self.finished())

    @property
    def n_failed(self) -> int:
        """Number of runs whose last attempt failed."""
        return len(self.failed_ids())

    def failed_ids(self) -> list[str]:
        """Ids of runs whose last attempt failed (and that have not finished since)."""
        folder = self.path / FAILURES
        if not folder.exists():
            return []
        failed = {p.stem for p in folder.glob("*.json")}
        if not failed:
            return []
        done = self._done()
        return [r for r in self.plan.run_ids() if r in failed and r not in done]

    def runs(self) -> pd.DataFrame:
        """The plan with each run's status.

        Returns
        -------
        pandas.DataFrame
            ``run_id``, ``label``, ``point``, ``replicate``, ``seed``, the parameter
            columns and ``status`` (``"finished"``, ``"failed"`` or ``"missing"``).
        """
        failed = set(self.failed_ids())
        done = self._done()
        rows = []
        for run in self.plan.runs():
            status = (
                "finished"
                if run["run_id"] in done
                else "failed"
                if run["run_id"] in failed
                else "missing"
            )
            rows.append(
                {
                    "run_id": run["run_id"],
                    "label": run.get("label"),
                    "point": run["point"],
                    "replicate": run["replicate"],
                    "seed": run["seed"],
                    **run["parameters"],
                    "status": status,
                }
            )
        frame = pd.DataFrame(rows)
        if frame["label"].isna().all():
            frame = frame.drop(columns="label")
        return frame

    def damaged(self, runs: Sequence[str] | None = None) -> dict[str, list[str]]:
        """Finished runs whose files changed since they were written, and what changed.

        Every file a finished run's manifest lists is checked against its SHA-256
        (:func:`waste_harmony.results.verify_run`), and the manifest against its own.
        Resuming the experiment runs the damaged runs again.

        Parameters
        ----------
        runs : list of str, optional
            Only these runs (default: every finished run).

        Returns
        -------
        dict
            Run id → its problems (``"model.parquet: changed since it was written
            (checksum differs)"``); empty when every run is intact.
        """
        ids = self.finished() if runs is None else [r for r in runs if self.is_finished(r)]
        found = {}
        for run_id in ids:
            problems = verify_run(self.path / RUNS / run_id)
            if problems:
                found[run_id] = problems
        return found

    def _check_files(self, kind: str, files: list[Path]) -> None:
        """Check the files of one kind against their runs' manifests (once per file)."""
        name = _kind_file(kind)
        bad: dict[str, str] = {}
        for path in files:
            stat = path.stat()
            key = (str(path), stat.st_size, stat.st_mtime_ns)
            if key in self._checked:
                continue
            try:
                manifest = read_json(path.parent / MANIFEST, "results manifest")
            except (OSError, ValueError) as exc:
                bad[path.parent.name] = str(exc)
                continue
            expected = (manifest.get(FILES_KEY) or {}).get(name)
            if expected is not None and (
                stat.st_size != expected.get("bytes") or file_sha256(path) != expected["sha256"]
            ):
                bad[path.parent.name] = f"{name}: changed since it was written (checksum differs)"
                continue
            self._checked.add(key)
        if bad:
            listed = "; ".join(f"{run}: {why}" for run, why in list(bad.items())[:5])
            more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
            raise ValueError(
                f"{len(bad)} finished run(s) of {self.path} are damaged, their files changed "
                f"after waste-harmony wrote them: {listed}{more}. Resume the experiment to run "
                "them again (waste-harmony sweep FILE --resume, or resume=True), or leave "
                "them out with runs=[...]"
            )

    def failures(self) -> pd.DataFrame:
        """Runs that raised: id, seed, parameters, error and traceback.

        Returns
        -------
        pandas.DataFrame
            One row per failed run (empty if none).
        """
        rows = [
            read_json(self.path / FAILURES / f"{r}.json", "failure record")
            for r in self.failed_ids()
        ]
        columns = ["run_id", "seed", "parameters", "error", "traceback"]
        return pd.DataFrame(rows, columns=columns) if not rows else pd.DataFrame(rows)

    def timings(self) -> pd.DataFrame:
        """Seconds each task spent building, running and writing, and where it ran.

        Returns
        -------
        pandas.DataFrame
            One row per finished or failed task, in the order they finished.
        """
        file = self.path / TIMINGS
        if not file.exists():
            return pd.DataFrame(
                columns=["run_ids", "status", "worker", "build", "run", "write", "total"]
            )
        with file.open() as fh:
            return pd.DataFrame([json.loads(line) for line in fh if line.strip()])

    # ------------------------------------------------------------------ reading
    def files(self, kind: str = "model") -> list[Path]:
        """The Parquet files of one kind, one per finished run.

        Parameters
        ----------
        kind : str
            ``"model"``, ``"neighborhoods"`` or ``"events"``.

        Returns
        -------
        list of pathlib.Path
            Existing files, in plan order.
        """
        name = _kind_file(kind)
        paths = [self.path / RUNS / r / name for r in self.finished()]
        return [p for p in paths if p.exists()]

    def dataset(self, kind: str = "model") -> Any:
        """A :class:`pyarrow.dataset.Dataset` over the finished runs (nothing is read yet).

        Parameters
        ----------
        kind : str
            ``"model"`` (one row per run and day), ``"neighborhoods"`` (per run, day
            and node) or ``"events"``.

        Returns
        -------
        pyarrow.dataset.Dataset
            Scan it with filters and column selections, or hand it to DuckDB/Polars.

        Raises
        ------
        FileNotFoundError
            If no run has finished (or none recorded this kind).
        """
        return self._dataset(kind, None)

    def _dataset(self, kind: str, runs: Sequence[str] | None) -> Any:
        import pyarrow as pa
        import pyarrow.dataset as ds

        files = self.files(kind)
        if runs is not None:
            wanted = set(runs)
            files = [f for f in files if f.parent.name in wanted]
        if not files:
            raise FileNotFoundError(f"no finished run in {self.path} has {kind} results")
        self._check_files(kind, files)
        try:
            return ds.dataset([str(f) for f in files], format="parquet")
        except (pa.ArrowInvalid, OSError) as exc:  # a run written before checksums
            raise ValueError(
                f"a {kind} file of {self.path} is not readable Parquet ({exc}); find it "
                "with SweepResult.damaged() and resume the experiment to run it again"
            ) from exc

    def load(
        self,
        variables: str | Sequence[str] | None = None,
        *,
        kind: str = "model",
        where: Mapping[str, Any] | None = None,
        runs: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Read some variables of the finished runs into one tidy frame.

        Only the requested columns (and the identifying ones) are read, and rows are
        filtered while scanning, so memory holds just what was asked for.

        Parameters
        ----------
        variables : str or list of str, optional
            Variables to read (default: all columns of this kind — prefer naming them).
        kind : str
            ``"model"``, ``"neighborhoods"`` or ``"events"``.
        where : mapping, optional
            Column → value (or list of values) that rows must match, e.g.
            ``{"concern_confidence": 0.2}`` or ``{"day": range(300, 366)}``.
        runs : list of str, optional
            Only these run ids.

        Returns
        -------
        pandas.DataFrame
            Id columns (``run_id``, ``label`` if any, ``point``, ``replicate``,
            ``seed``), the parameter columns, ``day`` (and ``node``, ``zone`` for
            neighbourhoods) and the variables; the schema of
            :mod:`waste_harmony.schema`, node ids decoded.
        """
        import pyarrow.compute as pc
        import pyarrow.dataset as ds

        dataset = self._dataset(kind, runs)
        names = dataset.schema.names
        if isinstance(variables, str):
            variables = [variables]
        if variables is None:
            columns = names
        else:
            unknown = [v for v in variables if v not in names]
            if unknown:
                raise KeyError(
                    f"no variable {unknown[0]!r} in the {kind} results; available: "
                    f"{', '.join(n for n in names if n not in self._keys(names))}"
                )
            keys = self._keys(names)
            columns = keys + [v for v in variables if v not in keys]
        expression = None
        conditions = dict(where or {})
        if runs is not None:
            conditions["run_id"] = list(runs)
        for column, value in conditions.items():
            if column not in names:
                raise KeyError(f"cannot filter on {column!r}: not a column of the {kind} results")
            values: list[Any]
            if column == "node":  # node ids are stored as JSON text (a tuple is one id)
                many = isinstance(value, list | set | range | np.ndarray)
                values = [encode_node(v) for v in (list(value) if many else [value])]
            else:
                values = (
                    list(value)
                    if isinstance(value, list | tuple | set | range | np.ndarray)
                    else [value]
                )
            term = pc.is_in(ds.field(column), value_set=_arrow_values(values))
            expression = term if expression is None else expression & term
        return table_to_frame(_read(dataset, columns=columns, filter=expression))

    def _keys(self, names: Sequence[str]) -> list[str]:
        return key_columns(names, self.parameter_names)

    def to_pandas(self, kind: str = "model") -> pd.DataFrame:
        """Every finished run's results of one kind in one frame (reads everything).

        Parameters
        ----------
        kind : str
            ``"model"``, ``"neighborhoods"`` or ``"events"``.

        Returns
        -------
        pandas.DataFrame
            The tidy frame (node ids decoded, see :mod:`waste_harmony.schema`).
        """
        return table_to_frame(_read(self.dataset(kind)))

    def iter_runs(self) -> Iterator[RunResult]:
        """Finished runs one at a time (each fully loaded, then released).

        Yields
        ------
        RunResult
            A run's frames and manifest.
        """
        for run_id in self.finished():
            yield RunResult.load(self.path / RUNS / run_id)

    def run(self, run_id: str) -> RunResult:
        """One finished run.

        Parameters
        ----------
        run_id : str
            Its id.

        Returns
        -------
        RunResult
            Its frames and manifest.
        """
        if run_id not in set(self.plan.run_ids()):
            raise KeyError(f"no run {run_id!r} in this experiment")
        return RunResult.load(self.path / RUNS / run_id)

    def summary(
        self,
        variables: str | Sequence[str],
        *,
        confidence: float = 0.95,
        where: Mapping[str, Any] | None = None,
    ) -> pd.DataFrame:
        """Mean over replicates per parameter point and day, with a confidence interval.

        A categorical variable (``facility_status``, an own output of unit
        ``"category"``) is summarised as the **share of runs** in each category,
        with Wilson's score interval (:func:`waste_harmony.proportions.wilson_interval`):
        over a sweep, the probability of an outcome at each parameter point.

        Parameters
        ----------
        variables : str or list of str
            Model-level variables.
        confidence : float
            Level of the interval (t-based for a mean, Wilson for a share).
        where : mapping, optional
            Row filter, as in :meth:`load`.

        Returns
        -------
        pandas.DataFrame
            One row per (label, point, parameters, day, variable): ``mean``, ``sd``,
            ``n``, ``ci_low``, ``ci_high``; with categorical variables, one row per
            category too, in a ``category`` column (``mean`` is the share of runs,
            ``sd`` is NaN).
        """
        if isinstance(variables, str):
            variables = [variables]
        frame = self.load(list(variables), where=where)
        return summarise(frame, list(variables), self.parameter_names, confidence)


#: Files a scan reads at once. Arrow's dataset scanner keeps ~70 kB of native memory
#: per file it opened until the scan ends (measured with pyarrow 26: +74 MiB for 1,000
#: one-row-group files, +678 MiB for 10,000, whatever was read from them), so a sweep
#: of 10^5 runs needed gigabytes to load one variable; scanned 256 files at a time,
#: 10,000 files cost +71 MiB in the same time. (Each fragment's Parquet metadata stays
#: cached until the scan ends: apache/arrow issues 33888 and 34664.)
READ_CHUNK = 256


def _read(dataset: Any, **options: Any) -> Any:
    """``dataset.to_table(**options)``, ``READ_CHUNK`` files at a time, in file order.

    The same table as one scan (rows in the order of the files, one schema); a file
    that is not Parquet is named as damage.
    """
    import pyarrow as pa
    import pyarrow.dataset as ds

    files = dataset.files
    try:
        if len(files) <= READ_CHUNK:
            return dataset.to_table(**options)
        parts = [
            ds.FileSystemDataset.from_paths(
                files[start : start + READ_CHUNK],
                schema=dataset.schema,
                format=dataset.format,
                filesystem=dataset.filesystem,
            ).to_table(**options)
            for start in range(0, len(files), READ_CHUNK)
        ]
        return pa.concat_tables(parts)
    except (pa.ArrowInvalid, OSError) as exc:  # a run written before checksums
        raise ValueError(
            f"a results file is not readable Parquet ({exc}); find it with "
            "SweepResult.damaged() and resume the experiment to run it again"
        ) from exc


def _arrow_values(values: list[Any]) -> Any:
    import pyarrow as pa

    return pa.array([v.item() if hasattr(v, "item") else v for v in values])


def load_experiment(path: str | os.PathLike[str]) -> SweepResult:
    """Open an experiment folder written by an ensemble, sweep or comparison.

    Parameters
    ----------
    path : str or os.PathLike
        The folder.

    Returns
    -------
    SweepResult
        Its results (read lazily).
    """
    return SweepResult(path)


def load_results(path: str | os.PathLike[str]) -> RunResult | SweepResult:
    """Open any results folder: a CLI run, a saved run, an experiment run or a whole experiment.

    Every run folder holds the tables of :mod:`waste_harmony.schema`; an
    experiment folder (``experiment.json``) holds one run folder per run.

    Parameters
    ----------
    path : str or os.PathLike
        A folder with ``manifest.json`` (one run: ``waste-harmony run``,
        :meth:`RunResult.save`, ``experiments.run(out=...)`` or ``runs/<run_id>/`` of
        an experiment) or with ``experiment.json`` (an ensemble, sweep, comparison or
        sensitivity analysis).

    Returns
    -------
    RunResult or SweepResult
        The run's frames, or the experiment read lazily.

    Raises
    ------
    FileNotFoundError
        If the folder holds neither manifest.

    Examples
    --------
    >>> import tempfile
    >>> from waste_harmony import experiments, load_results
    >>> folder = tempfile.mkdtemp()
    >>> _ = experiments.run(n_citizens=100, days=3, seed=1, out=folder, overwrite=True)
    >>> load_results(folder).model_frame[["run_id", "day"]].values.tolist()
    [['run', 0], ['run', 1], ['run', 2], ['run', 3]]
    """
    folder = Path(path)
    if (folder / EXPERIMENT_MANIFEST).exists():
        return SweepResult(folder)
    if (folder / MANIFEST).exists():
        return RunResult.load(folder)
    raise FileNotFoundError(
        f"{folder} holds neither {MANIFEST} (a run) nor {EXPERIMENT_MANIFEST} (an "
        "experiment): not a complete results folder"
    )
