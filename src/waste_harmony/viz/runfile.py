"""Run files for the viewer: the environment variable and the model a run file builds.

Shared by the page (:mod:`waste_harmony.viz.app`, which reads the variable) and the
command (:mod:`waste_harmony.viz.cli`, which sets it), so neither imports the other.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["RUNFILE_ENV", "load_run_model"]

#: Environment variable naming a run file for the page (set by ``waste-harmony viz``).
RUNFILE_ENV = "WASTE_HARMONY_VIZ_RUNFILE"


def load_run_model(path: str | os.PathLike[str]) -> Any:
    """Build the model described by a run file.

    Parameters
    ----------
    path : str or path-like
        The run file.

    Returns
    -------
    CityModel
        ``waste_harmony.config.load_run_file(path).build_model()``.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    RuntimeError
        If this installation has no run-file reader (``waste_harmony.config``).
    """
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(
            f"run file {str(file)!r} does not exist; give the path of a "
            "TOML run file, or no RUNFILE for the default city"
        )
    try:
        from waste_harmony.config import load_run_file
    except ImportError as exc:
        raise RuntimeError(
            "reading a RUNFILE needs waste_harmony.config.load_run_file, which this "
            "installation of waste_harmony does not provide; start the viz without a RUNFILE "
            "and set the parameters in the page"
        ) from exc
    return load_run_file(file).build_model()
