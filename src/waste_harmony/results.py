"""A run's results: series, events and a manifest, saved atomically to Parquet.

:class:`RunResult` is what every entry point produces and saves — the flagship
example, the ``waste-harmony run`` command and :mod:`waste_harmony.experiments` —
so a saved run always carries its parameters, seed, scenarios and the versions
that made it. Its tables follow the one results schema of
:mod:`waste_harmony.schema` (file names, id columns, dtypes). Files are written
to temporary names and renamed into place; the manifest is written last, so a
folder with a manifest is complete.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from waste_harmony._version import __version__
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

if TYPE_CHECKING:
    import networkx as nx

    from waste_harmony.model import CityModel

__all__ = [
    "CITY_FILE",
    "EVENT_FILE",
    "MANIFEST",
    "MODEL_FILE",
    "NEIGHBORHOOD_FILE",
    "RunResult",
    "city_fingerprint",
    "json_safe",
    "run_manifest",
    "save_run",
    "versions",
    "write_atomic",
]


def versions() -> dict[str, str]:
    """Versions of waste_harmony, Mesa, numpy, networkx, pandas and Python.

    Returns
    -------
    dict
        Package → version string.
    """
    import mesa
    import networkx
    import numpy

    return {
        "waste_harmony": __version__,
        "mesa": mesa.__version__,
        "numpy": numpy.__version__,
        "networkx": networkx.__version__,
        "pandas": pd.__version__,
        "python": platform.python_version(),
    }


def city_fingerprint(model: CityModel) -> dict[str, Any]:
    """Name, size and a content hash of the model's city graph.

    Parameters
    ----------
    model : CityModel
        The model.

    Returns
    -------
    dict
        ``name``, ``n_nodes``, ``n_edges`` and ``sha256`` of nodes, edges and attributes.
    """
    G = model.city
    digest = hashlib.sha256()
    for node in G.nodes:
        digest.update(repr((node, sorted(G.nodes[node].items()))).encode())
    for u, v in G.edges:
        digest.update(repr((u, v)).encode())
    return {
        "name": G.graph.get("name", "custom"),
        "n_nodes": G.number_of_nodes(),
        "n_edges": G.number_of_edges(),
        "sha256": digest.hexdigest(),
    }


def _file_mode() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


#: Permissions of written files: what ``open()`` would give under the process umask.
_FILE_MODE = _file_mode()


def write_atomic(path: Path, write: Any) -> None:
    """Write a file through a temporary sibling and rename it into place.

    Parameters
    ----------
    path : pathlib.Path
        Destination.
    write : callable
        ``write(temporary_path)`` writes the content.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, _FILE_MODE)  # mkstemp makes it private; results are ordinary files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run_manifest(
    model: CityModel, *, wall_time_s: float | None = None, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What a saved run carries: parameters, seed, scenarios, city, versions, timing.

    ``parameters`` are the values the model was built with; ``interventions`` lists
    the changes made during the run (day, time, name, old, new, source; see
    :meth:`waste_harmony.CityModel.set_parameters`), so the run can be repeated
    (:meth:`RunResult.rerun`).

    Parameters
    ----------
    model : CityModel
        A model that has run.
    wall_time_s : float, optional
        Seconds the run took.
    extra : dict, optional
        More entries (for example a run id).

    Returns
    -------
    dict
        JSON-serialisable manifest.
    """
    return {
        "seed": json_safe(model.seed),
        "n_citizens": model.n_citizens,
        "days": model.day,
        "parameters": json_safe(model.initial_params.to_dict()),
        "interventions": json_safe(model.interventions),
        "scenarios": [
            {"name": s.name, "parameters": json_safe(s.parameters())} for s in model.scenarios
        ],
        "citizen_class": f"{model.citizen_class.__module__}.{model.citizen_class.__qualname__}",
        **_own_reporters(model),
        "city": city_fingerprint(model),
        "versions": versions(),
        "wall_time_s": wall_time_s,
        **(extra or {}),
    }


def save_run(
    folder: str | os.PathLike[str],
    tables: dict[str, Any],
    manifest: dict[str, Any],
    *,
    city: nx.Graph | None = None,
) -> Path:
    """Write a run's schema tables, city and manifest into ``folder``, atomically.

    The one writer of a run folder, used by :meth:`RunResult.save`, the
    ``waste-harmony run`` command and every experiment run. The old manifest is
    removed first and the new one written last, so a folder with a manifest is
    complete.

    Parameters
    ----------
    folder : str or os.PathLike
        The run's folder (created if missing).
    tables : dict
        Kind (``"model"``, ``"neighborhoods"``, ``"events"``) → :class:`pyarrow.Table`
        (:func:`waste_harmony.schema.model_tables`).
    manifest : dict
        The run's manifest.
    city : networkx.Graph, optional
        Also save the city as ``city.graphml``.

    Returns
    -------
    pathlib.Path
        The folder.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    (out / MANIFEST).unlink(missing_ok=True)  # incomplete until the new manifest lands
    for kind, table in tables.items():
        write_atomic(out / FILES[kind], lambda p, t=table: write_table(p, t))
    if city is not None:
        from waste_harmony.city import save_city

        write_atomic(out / CITY_FILE, lambda p: save_city(city, p))
    text = json.dumps(json_safe(manifest), indent=2, sort_keys=True)
    write_atomic(out / MANIFEST, lambda p: p.write_text(text + "\n"))
    return out


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
            Allow writing into a folder that already holds files.

        Returns
        -------
        pathlib.Path
            The folder.

        Raises
        ------
        FileExistsError
            If the folder is not empty and ``overwrite`` is false.
        """
        out = Path(folder)
        if out.exists() and any(out.iterdir()) and not overwrite:
            raise FileExistsError(
                f"{out} is not empty; choose an empty folder or allow "
                "overwriting (overwrite=True, or --force on the command line)"
            )
        return save_run(out, self.tables(), self.manifest, city=self.city)

    def rerun(self, *, city: nx.Graph | None = None) -> RunResult:
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
        model = self.build_model(city=city)
        scenario_names = {s.name for s in model.scenarios}
        for change in self.manifest.get("interventions", []):
            if change["source"] in scenario_names:
                continue  # the scenario makes it again
            time = float(change["time"])
            if time > model.time:
                model.run_until(time)
            new = {change["name"]: _from_json(change["new"])}
            model.set_parameters(new, source=change["source"])
        days = int(self.manifest["days"])
        if days > model.time:
            model.run_until(days)
        return RunResult.from_model(model, extra={"rerun_of": self.manifest.get("run_id")})

    def build_model(self, *, city: nx.Graph | None = None) -> CityModel:
        """The model of this run as it was built, before running (see :meth:`rerun`).

        Parameters
        ----------
        city : networkx.Graph, optional
            The city, if the result holds none.

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
            params = {k: _from_json(v) for k, v in entry["parameters"].items()}
            scenarios.append(registry[entry["name"]](**params))
        citizen_class: Any = None
        path = m.get("citizen_class")
        if path:
            module, _, name = path.rpartition(".")
            try:
                citizen_class = getattr(importlib.import_module(module), name)
            except (ImportError, AttributeError):
                raise ValueError(
                    f"citizen class {path!r} cannot be imported: define it in an importable "
                    "module (not __main__ or a function) to re-run"
                ) from None
        kwargs: dict[str, Any] = {"citizen_class": citizen_class} if citizen_class else {}
        kwargs.update(_load_reporters(m))
        return CityModel(
            graph,
            n_citizens=int(m["n_citizens"]),
            scenarios=scenarios,
            rng=m["seed"],
            record_neighborhoods=self.neighborhood_frame is not None,
            **kwargs,
            **{k: _from_json(v) for k, v in m["parameters"].items()},
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
        """
        import pyarrow.parquet as pq

        src = Path(folder)
        if not (src / MANIFEST).exists():
            raise FileNotFoundError(_no_manifest(src))
        manifest = read_json(src / MANIFEST, "results manifest")
        city = None
        if (src / CITY_FILE).exists():
            from waste_harmony.city import load_city

            city = load_city(src / CITY_FILE)
        tables = {
            kind: pq.read_table(src / name) for kind, name in FILES.items() if (src / name).exists()
        }
        return cls.from_tables(tables, manifest, city=city)


def _from_json(value: Any) -> Any:
    """A manifest value back in Python: JSON arrays become tuples (mappings stay)."""
    if isinstance(value, list):
        return tuple(_from_json(v) for v in value)
    if isinstance(value, dict):
        return {k: _from_json(v) for k, v in value.items()}
    return value


def _no_manifest(src: Path) -> str:
    """Why ``src`` is not a run folder, and what to give instead."""
    if not src.exists():
        return f"results folder not found: {src} (no {MANIFEST})"
    if not src.is_dir():
        return f"{src} is a file, not a results folder; give the folder holding {MANIFEST}"
    if (src / "experiment.json").exists():
        runs = sorted(p.name for p in (src / "runs").glob("*") if (p / MANIFEST).exists())
        example = f" (e.g. {src / 'runs' / runs[0]})" if runs else ""
        return (
            f"{src} is an experiment folder, not one run (it holds experiment.json, no "
            f"{MANIFEST}); give one run's folder under runs/{example}, or read it with "
            "waste_harmony.load_results"
        )
    return f"{src} holds no {MANIFEST}: not a complete results folder"


def _own_reporters(model: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """The manifest's ``model_reporters``/``neighborhood_reporters``.

    Name → ``function`` (a reference, :func:`~waste_harmony.references.reference_of`),
    ``unit``, ``meaning``, ``summary``.
    """
    from waste_harmony.references import reference_of

    own = getattr(model, "own_reporters", {})
    return {
        what: {
            o.name: {
                "function": reference_of(o.compute),
                "unit": o.unit,
                "meaning": o.meaning,
                "summary": o.summary,
                "mean_over": o.mean_over,
            }
            for o in outputs
        }
        for what, outputs in own.items()
        if outputs
    }


def _load_reporters(manifest: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The own reporters a manifest names, loaded again (an error naming the fix)."""
    from waste_harmony.recording import OutputVariable
    from waste_harmony.references import load_reference

    loaded: dict[str, dict[str, Any]] = {}
    for what in ("model_reporters", "neighborhood_reporters"):
        for name, entry in (manifest.get(what) or {}).items():
            ref = entry["function"]
            try:
                compute = load_reference(ref)
                loaded.setdefault(what, {})[name] = OutputVariable(
                    name,
                    entry["unit"],
                    entry["meaning"],
                    compute,
                    bool(entry["summary"]),
                    entry.get("mean_over", ""),
                )
            except (ValueError, ImportError) as exc:
                raise ValueError(
                    f"{what}[{name!r}] = {ref!r} cannot be loaded to re-run ({exc}); define "
                    "the function in an importable module or a file, not in a script's "
                    "__main__ or inside a function"
                ) from None
    return loaded
