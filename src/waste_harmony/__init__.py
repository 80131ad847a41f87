"""Waste Harmony: agent-based simulation of cities, waste, ecology and collective action.

Built on Mesa. The :class:`CityModel` holds citizens, neighbourhoods, corporations
and organism colonies on a networkx city graph; scenario modules drive events;
every run records model-level and per-neighbourhood time series and an event log.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from waste_harmony._version import __version__
from waste_harmony.agents import Citizen, Corporation, Neighborhood, Organism
from waste_harmony.model import CityModel
from waste_harmony.model.checks import SampleSizeWarning
from waste_harmony.parameters import Parameters
from waste_harmony.recording import OutputVariable, reporter

if TYPE_CHECKING:
    from waste_harmony.batch.store import SweepResult
    from waste_harmony.results import RunResult


def load_results(path: str | os.PathLike[str]) -> RunResult | SweepResult:
    """Open any results folder; see :func:`waste_harmony.experiments.load_results`.

    Parameters
    ----------
    path : str or os.PathLike
        A run folder (``manifest.json``) or an experiment folder (``experiment.json``).

    Returns
    -------
    RunResult or SweepResult
        The results.
    """
    from waste_harmony.batch.store import load_results as load

    return load(path)


def rerun(path: str | os.PathLike[str], *, trust_code: bool = False) -> RunResult:
    """Repeat a saved run from its folder's manifest, interventions included.

    See :meth:`waste_harmony.results.RunResult.rerun`: the same city, seed,
    initial parameters, scenarios and mid-run parameter changes give the same
    series, bit for bit.

    Parameters
    ----------
    path : path
        A run folder (``manifest.json`` and ``city.graphml``), e.g. one written by
        ``waste-harmony run`` or :meth:`~waste_harmony.results.RunResult.save`.
    trust_code : bool, default False
        Let the manifest's ``citizen_class`` import a module not imported yet
        (which runs its code); see :meth:`~waste_harmony.results.RunResult.build_model`.

    Returns
    -------
    RunResult
        The repeated run's results.
    """
    from waste_harmony.results import RunResult

    return RunResult.load(path).rerun(trust_code=trust_code)


__all__ = [
    "Citizen",
    "CityModel",
    "Corporation",
    "Neighborhood",
    "Organism",
    "OutputVariable",
    "Parameters",
    "SampleSizeWarning",
    "__version__",
    "load_results",
    "reporter",
    "rerun",
]
