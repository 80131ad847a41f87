"""Scenario modules: plug-ins that drive the story on the model's clock.

Not to be confused with Mesa's own ``model.scenario`` (a parameter container in
``mesa.experimental``): these are event-driving modules such as the TechCore
facility proposal and the Harmony Festival.
"""

from waste_harmony.scenarios.base import Scenario
from waste_harmony.scenarios.registry import ENTRY_POINT_GROUP, available, register, resolve

__all__ = ["ENTRY_POINT_GROUP", "Scenario", "available", "register", "resolve"]
