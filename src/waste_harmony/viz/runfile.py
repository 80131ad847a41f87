"""Run files for the viewer: the environment variable and the model a run file builds.

Shared by the page (:mod:`waste_harmony.viz.app`, which reads the variable) and the
command (:mod:`waste_harmony.cli.viz`, which sets it).
"""

from __future__ import annotations

import os
from typing import Any

from waste_harmony.config import load_run_file

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
    ConfigError
        If the file is missing or invalid (as for ``waste-harmony run``).
    """
    return load_run_file(path).build_model()
