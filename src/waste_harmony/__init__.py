"""Waste Harmony: agent-based simulation of cities, waste, ecology and collective action.

Built on Mesa. The :class:`CityModel` holds citizens, neighbourhoods, corporations
and organism colonies on a networkx city graph; scenario modules drive events;
every run records model-level and per-neighbourhood time series and an event log.
"""

from waste_harmony._version import __version__
from waste_harmony.agents import Citizen, Corporation, Neighborhood, Organism
from waste_harmony.model import CityModel
from waste_harmony.parameters import Parameters

__all__ = [
    "Citizen",
    "CityModel",
    "Corporation",
    "Neighborhood",
    "Organism",
    "Parameters",
    "__version__",
]
