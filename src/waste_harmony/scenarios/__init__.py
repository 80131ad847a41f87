"""Scenario modules: plug-ins that drive the story on the model's clock.

Not to be confused with Mesa's own ``model.scenario`` (a parameter container in
``mesa.experimental``): these are event-driving modules such as the TechCore
facility proposal and the Harmony Festival.

Built-in scenarios (registry name → class):

===========================  ===============================================
``"techcore"``               :class:`TechCoreProposal`
``"harmony-festival"``       :class:`HarmonyFestival`
``"eco-designer"``           :class:`EcoDesigner` (the designer's installation)
``"assembly-organiser"``     :class:`AssemblyOrganiser` (assemblies, votes)
``"scientist"``              :class:`Scientist` (the organism)
``"artist"``                 :class:`Artist` (waste sculptures)
``"story-roles"``            :class:`StoryRoles` (the four roles together)
``"workshops"``              :class:`Workshops` (aftermath: greening)
``"assembly-funding"``       :class:`AssemblyFunding` (aftermath: biotech funding)
``"organism-rooting"``       :class:`OrganismRooting` (aftermath: the organism spreads)
``"community-art"``          :class:`CommunityArt` (aftermath: community art)
``"aftermath"``              :class:`Aftermath` (the four aftermath modules together)
``"policy"``                 :class:`Policy` (on given days, set model parameters)
===========================  ===============================================
"""

from waste_harmony.paramspec import Constraint
from waste_harmony.scenarios.aftermath import (
    Aftermath,
    AssemblyFunding,
    CommunityArt,
    OrganismRooting,
    Workshops,
)
from waste_harmony.scenarios.base import Scenario, amount, days, parameter, share
from waste_harmony.scenarios.festival import HarmonyFestival
from waste_harmony.scenarios.group import ScenarioGroup
from waste_harmony.scenarios.policy import Policy
from waste_harmony.scenarios.registry import (
    ENTRY_POINT_GROUP,
    available,
    register,
    resolve,
    scenario_class,
)
from waste_harmony.scenarios.roles import (
    Artist,
    AssemblyOrganiser,
    EcoDesigner,
    Scientist,
    StoryRoles,
)
from waste_harmony.scenarios.techcore import TechCoreProposal

__all__ = [
    "ENTRY_POINT_GROUP",
    "Aftermath",
    "Artist",
    "AssemblyFunding",
    "AssemblyOrganiser",
    "CommunityArt",
    "Constraint",
    "EcoDesigner",
    "HarmonyFestival",
    "OrganismRooting",
    "Policy",
    "Scenario",
    "ScenarioGroup",
    "Scientist",
    "StoryRoles",
    "TechCoreProposal",
    "Workshops",
    "amount",
    "available",
    "days",
    "parameter",
    "register",
    "resolve",
    "scenario_class",
    "share",
]
