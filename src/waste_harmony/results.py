"""A run's results: series, events and a manifest, saved atomically to Parquet.

:class:`RunResult` is what every entry point produces and saves — the flagship
example, the ``waste-harmony run`` command and :mod:`waste_harmony.experiments` —
so a saved run always carries its parameters, seed, scenarios, city (its seed and
hash) and the versions that made it. Its tables follow the one results schema of
:mod:`waste_harmony.schema` (file names, id columns, dtypes).

A run folder is written by :func:`save_run` through
:func:`waste_harmony.storage.publish_folder`: the new files are complete in a
staging folder before anything is replaced, only files the library wrote are ever
replaced, and the manifest — written last, so a folder with a manifest is
complete — lists the SHA-256 of every file and of itself. :meth:`RunResult.load`
and :func:`verify_run` check them, so a damaged run is named, never read. The
manifest's contents and the checked read are :mod:`waste_harmony.manifests`; their
public names are here too (``run_manifest``, ``verify_run``, ...), as before.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from waste_harmony.manifests import (
    REPLACING_WAIT_S,
    RESULT_FILES,
    being_replaced,
    city_fingerprint,
    damaged,
    from_json,
    load_reporters,
    no_manifest,
    read_checked,
    run_files,
    run_manifest,
    still,
    verify_run,
    versions,
)
from waste_harmony.schema import (
    CITY_FILE,
    EVENT_FILE,
    FILES,
    MANIFEST,
    MODEL_FILE,
    NEIGHBORHOOD_FILE,
    RunIds,
    frame_to_table,
    json_safe,
    model_tables,
    read_json,
    table_to_frame,
    write_table,
)
from waste_harmony.storage import (
    publish_folder,
    write_atomic,
)

if TYPE_CHECKING:
    import networkx as nx

    from waste_harmony.model import CityModel

__all__ = [
    "CITY_FILE",
    "EVENT_FILE",
    "MANIFEST",
    "MODEL_FILE",
    "NEIGHBORHOOD_FILE",
    "RESULT_FILES",
    "RunResult",
    "city_fingerprint",
    "json_safe",
    "run_files",
    "run_manifest",
    "save_run",
    "verify_run",
    "versions",
    "write_atomic",
]


def save_run(
    folder: str | os.PathLike[str],
    tables: dict[str, Any],
    manifest: dict[str, Any],
    *,
    city: nx.Graph | None = None,
    replace: bool = True,
    extra: Callable[[Path], Any] | None = None,
    legacy: Iterable[str] = (),
    forbid: Iterable[tuple[Path, str]] = (),
    how: str = "choose an empty folder or allow replacing (overwrite=True, or --force)",
) -> Path:
    """Write a run's schema tables, city and manifest into ``folder``, all or nothing.

    The one writer of a run folder, used by :meth:`RunResult.save`, the
    ``waste-harmony run`` command and every experiment run, through
    :func:`waste_harmony.storage.publish_folder`: the new files are written into a
    staging folder inside ``folder``, listed with their SHA-256 in the manifest,
    and swapped in only when complete, the manifest last; earlier results stay
    whole until then, and only files waste-harmony wrote are ever replaced.

    Parameters
    ----------
    folder : str or os.PathLike
        The run's folder (created if missing).
    tables : dict
        Kind (``"model"``, ``"neighborhoods"``, ``"events"``) → :class:`pyarrow.Table`
        (:func:`waste_harmony.schema.model_tables`).
    manifest : dict
        The run's manifest (a copy listing the files is written; this one is unchanged).
    city : networkx.Graph, optional
        Also save the city as ``city.graphml``.
    replace : bool
        Replace an earlier run in ``folder`` (refused if it holds anything else).
    extra : callable, optional
        ``extra(staging)`` writes more files with the run (the ``run`` command's
        figures); they are listed in the manifest like the tables.
    legacy : iterable of str
        Names of files the library wrote before manifests listed them (see
        :func:`run_files`).
    forbid, how
        As in :func:`waste_harmony.storage.check_destination`.

    Returns
    -------
    pathlib.Path
        The folder.

    Raises
    ------
    FileExistsError
        If ``folder`` holds results and ``replace`` is false, or holds files the
        library did not write.
    waste_harmony.storage.WriteError
        If the environment refuses a write (disk full, read-only, ...); the folder
        is then as it was.
    """

    def write(staging: Path) -> None:
        for kind, table in tables.items():
            write_table(staging / FILES[kind], table)
        if city is not None:
            from waste_harmony.city import save_city

            save_city(city, staging / CITY_FILE)
        if extra is not None:
            extra(staging)

    names = tuple(legacy)
    publish_folder(
        folder,
        write,
        manifest,
        replace=replace,
        owned=lambda path: run_files(path, legacy=names),
        commit=MANIFEST,
        forbid=forbid,
        how=how,
    )
    return Path(folder)


@dataclass
class RunResult:
    """The outcome of one run: model series, neighbourhood series, events and manifest.

    The frames follow :mod:`waste_harmony.schema`: id columns (``run_id``,
    ``point``, ``replicate``, ``seed``, ...), ``day`` as a column (RangeIndex), node
    ids as their original objects, event details as JSON text.

    Attributes
    ----------
    model_frame : pandas.DataFrame
        One row per day: id columns, ``day``, the model-level variables.
    neighborhood_frame : pandas.DataFrame or None
        One row per (day, node): id columns, ``day``, ``node``, ``zone``, variables.
    events : pandas.DataFrame
        The event log: id columns, ``day``, ``kind``, ``node``, ``scenario``,
        ``details`` (JSON; :func:`waste_harmony.schema.expand_details` spreads it).
    manifest : dict
        Parameters, seed, scenarios, city, versions, days and wall time.
    city : networkx.Graph or None
        The city graph (node positions and attributes, for maps); saved as
        ``city.graphml``.

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> model = CityModel(n_citizens=100, rng=1)
    >>> model.run_for(3)
    >>> result = RunResult.from_model(model)
    >>> result.manifest["seed"], result.manifest["days"], len(result.model_frame)
    (1, 3, 4)
    >>> result.model_frame["day"].tolist()
    [0, 1, 2, 3]
    """

    model_frame: pd.DataFrame
    neighborhood_frame: pd.DataFrame | None
    events: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)
    city: nx.Graph | None = None

    @classmethod
    def from_model(
        cls,
        model: CityModel,
        *,
        wall_time_s: float | None = None,
        extra: dict[str, Any] | None = None,
        ids: RunIds | None = None,
    ) -> RunResult:
        """Collect the results of a model that has run.

        Parameters
        ----------
        model : CityModel
            The model.
        wall_time_s : float, optional
            Seconds the run took, stored in the manifest.
        extra : dict, optional
            More manifest entries (for example a run id).
        ids : RunIds, optional
            The id columns (default: a single run with the model's seed).

        Returns
        -------
        RunResult
            The results.
        """
        manifest = run_manifest(model, wall_time_s=wall_time_s, extra=extra)
        return cls.from_tables(model_tables(model, ids), manifest, city=model.city)

    @classmethod
    def from_tables(
        cls, tables: dict[str, Any], manifest: dict[str, Any], *, city: nx.Graph | None = None
    ) -> RunResult:
        """Schema tables (:func:`waste_harmony.schema.model_tables`) as a RunResult.

        Parameters
        ----------
        tables : dict
            Kind → :class:`pyarrow.Table`.
        manifest : dict
            The manifest.
        city : networkx.Graph, optional
            The city.

        Returns
        -------
        RunResult
            Frames with node ids decoded.
        """
        hoods = tables.get("neighborhoods")
        return cls(
            table_to_frame(tables["model"]),
            None if hoods is None else table_to_frame(hoods),
            table_to_frame(tables["events"]),
            manifest,
            city=city,
        )

    def tables(self) -> dict[str, Any]:
        """The frames as schema Arrow tables (node ids encoded), ready to write.

        Returns
        -------
        dict
            Kind → :class:`pyarrow.Table`.
        """
        tables = {"model": frame_to_table(self.model_frame)}
        if self.neighborhood_frame is not None:
            tables["neighborhoods"] = frame_to_table(self.neighborhood_frame)
        tables["events"] = frame_to_table(self.events)
        return tables

    def save(self, folder: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write Parquet files and ``manifest.json`` into ``folder``, atomically.

        Parameters
        ----------
        folder : str or os.PathLike
            Destination folder (created if missing).
        overwrite : bool
            Replace earlier results in the folder: only files waste-harmony wrote
            (those its manifest lists) are replaced, and only once the new ones are
            complete.

        Returns
        -------
        pathlib.Path
            The folder.

        Raises
        ------
        FileExistsError
            If the folder is not empty and ``overwrite`` is false, or holds files
            waste-harmony did not write (they are named; nothing is replaced).
        ValueError
            If the folder is empty text or the current directory.
        waste_harmony.storage.WriteError
            If the environment refuses a write (disk full, read-only, ...); the
            folder is then as it was.
        """
        return save_run(folder, self.tables(), self.manifest, city=self.city, replace=overwrite)

    def rerun(self, *, city: nx.Graph | None = None, trust_code: bool = False) -> RunResult:
        """Repeat this run from its manifest: same city, seed, parameters, scenarios, changes.

        The model is rebuilt with the manifest's initial ``parameters``, ``seed``,
        ``n_citizens``, ``citizen_class`` and ``scenarios`` on the saved city, and
        run for ``days``; the ``interventions`` made directly (not by an installed
        scenario, which repeats its own) are applied again at their recorded model
        time. With the same library versions the series, neighbourhood series and
        events equal the original's bit for bit. Changes made by user code inside
        a day (a custom rule, say) are replayed at the same model time but after
        that time's events, so only between-day changes are guaranteed identical.

        Parameters
        ----------
        city : networkx.Graph, optional
            The city, if the result holds none (a run saved without ``city.graphml``).
        trust_code : bool, default False
            Whether the manifest may make this process import a module (see
            :meth:`build_model`).

        Returns
        -------
        RunResult
            The repeated run's results (id columns of a single run).

        Raises
        ------
        ValueError
            If the manifest lacks what a re-run needs, or there is no city.

        Examples
        --------
        >>> from waste_harmony import CityModel
        >>> model = CityModel(n_citizens=100, rng=1)
        >>> model.run_for(3)
        >>> model.set_parameters(waste_per_capita_kg=0.5)
        >>> model.run_for(2)
        >>> result = RunResult.from_model(model)
        >>> again = result.rerun()
        >>> again.model_frame.equals(result.model_frame), again.events.equals(result.events)
        (True, True)
        """
        model = self.build_model(city=city, trust_code=trust_code)
        scenario_names = {s.name for s in model.scenarios}
        for change in self.manifest.get("interventions", []):
            if change["source"] in scenario_names:
                continue  # the scenario makes it again
            time = float(change["time"])
            if time > model.time:
                model.run_until(time)
            new = {change["name"]: from_json(change["new"])}
            model.set_parameters(new, source=change["source"])
        days = int(self.manifest["days"])
        if days > model.time:
            model.run_until(days)
        return RunResult.from_model(model, extra={"rerun_of": self.manifest.get("run_id")})

    def build_model(self, *, city: nx.Graph | None = None, trust_code: bool = False) -> CityModel:
        """The model of this run as it was built, before running (see :meth:`rerun`).

        A results folder is data: reading it never runs code it names. The
        manifest's ``citizen_class`` is looked up among the modules already imported
        in this process (the library's own classes, and yours once you imported
        them); a module that is not imported yet is imported (which runs its code)
        only with ``trust_code=True``. Scenarios are looked up by name among the
        registered ones, never imported.

        Parameters
        ----------
        city : networkx.Graph, optional
            The city, if the result holds none.
        trust_code : bool, default False
            Import the module of the manifest's ``citizen_class`` if it is not
            imported yet. Only for folders you trust: a folder from elsewhere can
            name any module on your path.

        Returns
        -------
        CityModel
            A fresh model with the manifest's seed, parameters, scenarios and city.
        """
        import importlib

        from waste_harmony.model import CityModel
        from waste_harmony.scenarios import available

        m = self.manifest
        needed = ("seed", "n_citizens", "days", "parameters", "scenarios")
        missing = [k for k in needed if k not in m]
        if missing:
            raise ValueError(f"the manifest lacks {', '.join(missing)}: cannot rebuild the run")
        graph = city if city is not None else self.city
        if graph is None:
            raise ValueError(
                "this result holds no city (no city.graphml was saved); pass rerun(city=...)"
            )
        registry = available()
        scenarios = []
        for entry in m["scenarios"]:
            if entry["name"] not in registry:
                raise ValueError(
                    f"scenario {entry['name']!r} of the manifest is not registered here; "
                    "install or import the package that provides it"
                )
            params = {k: from_json(v) for k, v in entry["parameters"].items()}
            scenarios.append(registry[entry["name"]](**params))
        citizen_class: Any = None
        path = m.get("citizen_class")
        if path:
            module, _, name = path.rpartition(".")
            if module not in sys.modules and not trust_code:
                raise ValueError(
                    f"the manifest names citizen class {path[:120]!r}, from a "
                    f"module not imported here; importing it would run its code. Import "
                    f"it yourself if you trust it, or pass trust_code=True "
                    f"(rerun(folder, trust_code=True))"
                )
            try:
                citizen_class = getattr(importlib.import_module(module), name)
            except (ImportError, AttributeError):
                raise ValueError(
                    f"citizen class {path!r} cannot be imported: define it in an importable "
                    "module (not __main__ or a function) to re-run"
                ) from None
        kwargs: dict[str, Any] = {"citizen_class": citizen_class} if citizen_class else {}
        kwargs.update(load_reporters(m))
        return CityModel(
            graph,
            n_citizens=int(m["n_citizens"]),
            population=m.get("population"),  # absent in manifests before it: one each
            scenarios=scenarios,
            rng=m["seed"],
            record_neighborhoods=self.neighborhood_frame is not None,
            **kwargs,
            **{k: from_json(v) for k, v in m["parameters"].items()},
        )

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> RunResult:
        """Read results written by :meth:`save` (or any run folder of the schema).

        Parameters
        ----------
        folder : str or os.PathLike
            A results folder.

        Returns
        -------
        RunResult
            The results.

        Raises
        ------
        FileNotFoundError
            If the folder has no manifest (missing, or an incomplete run).
        ValueError
            If a file differs from the checksum its manifest records, is missing, or
            the manifest was edited (naming them).
        """
        src = Path(folder)
        deadline = time.monotonic() + REPLACING_WAIT_S

        def replacing() -> bool:  # a write under way: read again once it is through
            return time.monotonic() < deadline and being_replaced(src)

        while True:
            if not (src / MANIFEST).exists():
                if replacing():
                    time.sleep(0.02)
                    continue
                if (src / MANIFEST).exists():  # a write finished between the two looks
                    continue
                raise FileNotFoundError(no_manifest(src))
            try:
                manifest = read_json(src / MANIFEST, "results manifest")
            except (FileNotFoundError, ValueError) as exc:
                landed = isinstance(exc, FileNotFoundError) and (src / MANIFEST).exists()
                if replacing() or landed:  # a write under way, or one just through
                    continue
                raise
            if not isinstance(manifest, dict):
                raise ValueError(f"{src / MANIFEST} is not a results manifest (a JSON object)")
            problems, data = read_checked(src, manifest)
            if not problems:
                return cls.from_tables(data["tables"], manifest, city=data["city"])
            changed = not still(src, manifest)
            if not (changed or replacing()) or time.monotonic() > deadline:
                raise ValueError(damaged(src, problems))
