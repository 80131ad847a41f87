"""A run's manifest, and the checked read of a run folder.

What a saved run carries besides its tables — parameters, seed, scenarios, city (its
seed and hash), the study's own outputs by reference, the versions that made it
(:func:`run_manifest`) — and how a run folder is read back only when it is whole:
each file's bytes checked against the SHA-256 its manifest lists, the manifest
against its own (:func:`read_checked`, :func:`verify_run`), waiting out a write
under way. :class:`waste_harmony.results.RunResult` is built on these; they are
here so that the result object is its tables and methods, and the one form of a
manifest has one module.

Examples
--------
>>> sorted(versions())[:3]
['mesa', 'networkx', 'numpy']
"""

from __future__ import annotations

import os
import platform
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from waste_harmony._version import __version__
from waste_harmony.canonical import graph_digest
from waste_harmony.schema import CITY_FILE, FILES, MANIFEST, json_safe, read_json
from waste_harmony.storage import FILES_KEY, STAGING_PREFIX, check_seal, damaged_files, listed_names

if TYPE_CHECKING:
    from waste_harmony.model import CityModel

__all__ = [
    "REPLACING_WAIT_S",
    "RESULT_FILES",
    "being_replaced",
    "city_fingerprint",
    "damaged",
    "from_json",
    "load_reporters",
    "no_manifest",
    "own_reporters",
    "read_checked",
    "run_files",
    "run_manifest",
    "still",
    "verify_run",
    "versions",
]

#: The files of a run folder besides the manifest: the schema's tables and the city.
RESULT_FILES = (*FILES.values(), CITY_FILE)


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
    """Name, size, seed and a content hash of the model's city graph.

    The hash (:func:`waste_harmony.canonical.graph_digest`) covers every node,
    edge and attribute, and the graph's own attributes, in an order-free canonical
    form: the same city gives the same hash on every run and machine, a GraphML
    copy of it included.

    Parameters
    ----------
    model : CityModel
        The model.

    Returns
    -------
    dict
        ``name``, ``n_nodes``, ``n_edges``, ``seed`` (of a generated city; ``None``
        for a city from a file or from your own code) and ``sha256``.

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> from waste_harmony.city import grid_city
    >>> a = city_fingerprint(CityModel(grid_city(3, 4, seed=5), n_citizens=10, rng=1))
    >>> b = city_fingerprint(CityModel(grid_city(3, 4, seed=5), n_citizens=10, rng=2))
    >>> a["seed"], a["sha256"] == b["sha256"]
    (5, True)
    """
    G = model.city
    return {
        "name": G.graph.get("name", "custom"),
        "n_nodes": G.number_of_nodes(),
        "n_edges": G.number_of_edges(),
        "seed": G.graph.get("seed"),
        "sha256": graph_digest(G)["sha256"],
    }


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
        "population": model.population,
        "days": model.day,
        "parameters": json_safe(model.initial_params.to_dict()),
        "interventions": json_safe(model.interventions),
        "scenarios": [
            {"name": s.name, "parameters": json_safe(s.parameters())} for s in model.scenarios
        ],
        "citizen_class": f"{model.citizen_class.__module__}.{model.citizen_class.__qualname__}",
        **own_reporters(model),
        "city": city_fingerprint(model),
        "versions": versions(),
        "wall_time_s": wall_time_s,
        **(extra or {}),
    }


def run_files(folder: Path, *, legacy: Iterable[str] = ()) -> set[str]:
    """The files of a run folder that waste-harmony wrote (what ``--force`` may replace).

    Those its manifest lists, and the manifest. A folder written before manifests
    listed their files (or whose manifest is unreadable) is known to hold the
    :data:`RESULT_FILES` and the manifest, plus ``legacy`` names the caller knows
    (the ``run`` command's figures).

    Parameters
    ----------
    folder : pathlib.Path
        A run folder.
    legacy : iterable of str
        More names the library wrote into such a folder before manifests listed them.

    Returns
    -------
    set of str
        File names.
    """
    try:
        manifest = read_json(folder / MANIFEST, "results manifest")
    except (OSError, ValueError):
        manifest = None
    if isinstance(manifest, dict) and isinstance(manifest.get(FILES_KEY), dict):
        return {MANIFEST, *listed_names(manifest[FILES_KEY])}
    return {MANIFEST, *RESULT_FILES, *legacy}


def verify_run(folder: str | os.PathLike[str]) -> list[str]:
    """What is wrong with a finished run's files: missing, changed, or an edited manifest.

    Parameters
    ----------
    folder : str or os.PathLike
        A run folder.

    Returns
    -------
    list of str
        One problem per damaged file (empty when the run is intact, or when its
        manifest predates checksums); a missing or unreadable manifest is a problem.

    Examples
    --------
    >>> import tempfile
    >>> from waste_harmony import CityModel
    >>> from waste_harmony.results import RunResult
    >>> model = CityModel(n_citizens=50, rng=1)
    >>> model.run_for(2)
    >>> folder = RunResult.from_model(model).save(tempfile.mkdtemp() + "/run")
    >>> verify_run(folder)
    []
    >>> _ = (folder / "events.parquet").write_bytes(b"garbage")
    >>> verify_run(folder)
    ['events.parquet: changed since it was written (checksum differs)']
    """
    src = Path(folder)
    try:
        manifest = read_json(src / MANIFEST, "results manifest")
    except FileNotFoundError:
        return [f"{MANIFEST}: missing"]
    except ValueError as exc:
        return [str(exc)]
    if not isinstance(manifest, dict):
        return [f"{MANIFEST}: not a manifest (a JSON object)"]
    sealed = check_seal(manifest, MANIFEST)
    return ([sealed] if sealed else []) + damaged_files(src, manifest)


def damaged(src: Path, problems: list[str]) -> str:
    """The error message for a damaged run folder: what is wrong and how to mend it."""
    return (
        f"the results in {src} are damaged: {'; '.join(problems)}. They were changed after "
        "waste-harmony wrote them (by hand, or a disk or copy failure): write them again "
        "(an experiment's run is re-run by resuming it)"
    )


#: Seconds a reader waits for a folder being replaced to be complete again.
REPLACING_WAIT_S = 5.0


def being_replaced(src: Path) -> bool:
    """Whether a write is under way in ``src`` (a staging folder is inside it)."""
    try:
        return any(p.name.startswith(STAGING_PREFIX) for p in src.iterdir())
    except OSError:
        return False


def still(src: Path, manifest: dict[str, Any]) -> bool:
    """Whether the manifest on disk is still ``manifest`` (not replaced meanwhile)."""
    try:
        return bool(read_json(src / MANIFEST, "results manifest") == manifest)
    except (OSError, ValueError):
        return False


def read_checked(src: Path, manifest: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """Read a run folder's files, checking the bytes read against the manifest.

    Each file is read once into memory, hashed and parsed from the same bytes, so
    what is checked is what is read.
    """
    import hashlib

    import pyarrow as pa
    import pyarrow.parquet as pq

    sealed = check_seal(manifest, f"{src / MANIFEST}")
    problems = [sealed] if sealed else []
    listed = manifest.get(FILES_KEY) or {}
    blobs: dict[str, bytes] = {}
    for name in (*FILES.values(), CITY_FILE):
        path = src / name
        if not path.exists():
            if name in listed:
                problems.append(f"{name}: missing")
            continue
        blob = path.read_bytes()
        expected = listed.get(name)
        if expected is not None and hashlib.sha256(blob).hexdigest() != expected.get("sha256"):
            problems.append(f"{name}: changed since it was written (checksum differs)")
        blobs[name] = blob
    if problems:
        return problems, {}
    tables = {}
    for kind, name in FILES.items():
        if name in blobs:
            try:
                tables[kind] = pq.read_table(pa.BufferReader(blobs[name]))
            except (pa.ArrowInvalid, OSError) as exc:
                return [f"{name}: not a readable Parquet file ({exc})"], {}
    city = None
    if CITY_FILE in blobs:
        from waste_harmony.city import load_city

        city = load_city(src / CITY_FILE)
    return [], {"tables": tables, "city": city}


def from_json(value: Any) -> Any:
    """A manifest value back in Python: JSON arrays become tuples (mappings stay)."""
    if isinstance(value, list):
        return tuple(from_json(v) for v in value)
    if isinstance(value, dict):
        return {k: from_json(v) for k, v in value.items()}
    return value


def no_manifest(src: Path) -> str:
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


def own_reporters(model: Any) -> dict[str, dict[str, dict[str, Any]]]:
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


def load_reporters(manifest: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
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
