"""A run's results: series, events and a manifest, saved atomically to Parquet.

:class:`RunResult` is what every entry point produces and saves — the flagship
example, the ``waste-harmony run`` command and :mod:`waste_harmony.experiments` —
so a saved run always carries its parameters, seed, scenarios and the versions
that made it. Files are written to temporary names and renamed into place; the
manifest is written last, so a folder with a manifest is complete.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from waste_harmony._version import __version__

if TYPE_CHECKING:
    import networkx as nx

    from waste_harmony.model import CityModel

__all__ = ["MANIFEST", "RunResult", "city_fingerprint", "run_manifest", "versions", "write_atomic"]

#: File names inside a results folder.
MODEL_FILE = "model.parquet"
NEIGHBORHOOD_FILE = "neighborhoods.parquet"
EVENT_FILE = "events.parquet"
MANIFEST = "manifest.json"
CITY_FILE = "city.graphml"


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


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return repr(value)


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
        "seed": _json_safe(model.seed),
        "n_citizens": model.n_citizens,
        "days": model.day,
        "parameters": _json_safe(model.params.to_dict()),
        "scenarios": [
            {"name": s.name, "parameters": _json_safe(s.parameters())} for s in model.scenarios
        ],
        "citizen_class": f"{model.citizen_class.__module__}.{model.citizen_class.__qualname__}",
        "city": city_fingerprint(model),
        "versions": versions(),
        "wall_time_s": wall_time_s,
        **(extra or {}),
    }


@dataclass
class RunResult:
    """The outcome of one run: model series, neighbourhood series, events and manifest.

    Attributes
    ----------
    model_frame : pandas.DataFrame
        One row per day (index ``day``), the model-level variables.
    neighborhood_frame : pandas.DataFrame or None
        One row per (day, node).
    events : pandas.DataFrame
        The event log.
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
    (1, 3, 3)
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

        Returns
        -------
        RunResult
            The results.
        """
        manifest = run_manifest(model, wall_time_s=wall_time_s, extra=extra)
        hoods = model.neighborhood_frame() if model.neighborhood_recorder is not None else None
        return cls(model.model_frame(), hoods, model.event_frame(), manifest, city=model.city)

    def save(self, folder: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write Parquet files and ``manifest.json`` into ``folder``, atomically.

        Parameters
        ----------
        folder : path
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
        out.mkdir(parents=True, exist_ok=True)
        (out / MANIFEST).unlink(missing_ok=True)  # incomplete until the new manifest lands
        write_atomic(out / MODEL_FILE, lambda p: self.model_frame.to_parquet(p))
        if self.neighborhood_frame is not None:
            frame = self.neighborhood_frame.astype({"node": "string"})
            write_atomic(out / NEIGHBORHOOD_FILE, lambda p: frame.to_parquet(p, index=False))
        events = _events_for_parquet(self.events)
        write_atomic(out / EVENT_FILE, lambda p: events.to_parquet(p, index=False))
        if self.city is not None:
            from waste_harmony.city import save_city

            write_atomic(out / CITY_FILE, lambda p: save_city(self.city, p))
        text = json.dumps(_json_safe(self.manifest), indent=2, sort_keys=True)
        write_atomic(out / MANIFEST, lambda p: p.write_text(text + "\n"))
        return out

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> RunResult:
        """Read results written by :meth:`save`.

        Parameters
        ----------
        folder : path
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
        src = Path(folder)
        if not (src / MANIFEST).exists():
            raise FileNotFoundError(f"{src} holds no {MANIFEST}: not a complete results folder")
        manifest = json.loads((src / MANIFEST).read_text())
        hood_path = src / NEIGHBORHOOD_FILE
        city = None
        if (src / CITY_FILE).exists():
            from waste_harmony.city import load_city

            city = load_city(src / CITY_FILE)
        return cls(
            model_frame=pd.read_parquet(src / MODEL_FILE),
            neighborhood_frame=pd.read_parquet(hood_path) if hood_path.exists() else None,
            events=pd.read_parquet(src / EVENT_FILE),
            manifest=manifest,
            city=city,
        )


def _events_for_parquet(events: pd.DataFrame) -> pd.DataFrame:
    # Details vary by event kind; store mixed-type columns as text so Parquet accepts them.
    frame = events.copy()
    for column in frame.columns:
        if column != "day" and frame[column].dtype == object:
            frame[column] = frame[column].map(lambda v: None if v is None else str(v))
    return frame
