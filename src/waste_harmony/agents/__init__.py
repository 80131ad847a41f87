"""The Mesa agent classes: citizens, neighbourhoods, corporations, organism colonies."""

from waste_harmony.agents.citizen import Citizen, CitizenRows
from waste_harmony.agents.columns import Column
from waste_harmony.agents.corporation import FACILITY_STATES, Corporation
from waste_harmony.agents.neighborhood import Neighborhood
from waste_harmony.agents.organism import Organism
from waste_harmony.tables import RowGroups, StateTable

__all__ = [
    "FACILITY_STATES",
    "Citizen",
    "CitizenRows",
    "Column",
    "Corporation",
    "Neighborhood",
    "Organism",
    "RowGroups",
    "StateTable",
]
