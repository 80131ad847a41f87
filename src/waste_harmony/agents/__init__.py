"""The Mesa agent classes: citizens, neighbourhoods, corporations, organism colonies."""

from waste_harmony.agents.citizen import Citizen
from waste_harmony.agents.columns import Column, StateTable
from waste_harmony.agents.corporation import FACILITY_STATES, Corporation
from waste_harmony.agents.neighborhood import Neighborhood
from waste_harmony.agents.organism import Organism

__all__ = [
    "FACILITY_STATES",
    "Citizen",
    "Column",
    "Corporation",
    "Neighborhood",
    "Organism",
    "StateTable",
]
