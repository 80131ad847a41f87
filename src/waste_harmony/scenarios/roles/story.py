"""The four roles together (``"story-roles"``)."""

from __future__ import annotations

from dataclasses import dataclass

from waste_harmony.scenarios.group import ScenarioGroup
from waste_harmony.scenarios.registry import register
from waste_harmony.scenarios.roles.artist import Artist
from waste_harmony.scenarios.roles.designer import EcoDesigner
from waste_harmony.scenarios.roles.organiser import AssemblyOrganiser
from waste_harmony.scenarios.roles.scientist import Scientist

__all__ = ["StoryRoles"]


@register
@dataclass
class StoryRoles(ScenarioGroup):
    """The four roles together: designer, organiser, scientist and artist.

    Installs :class:`EcoDesigner`, :class:`AssemblyOrganiser`, :class:`Scientist`
    and :class:`Artist` with their defaults (install them individually to set
    parameters; a part installed twice is an error).

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> model = CityModel(n_citizens=300, scenarios=["story-roles"], rng=0)
    >>> sorted(s.name for s in model.scenarios)[:2]
    ['artist', 'assembly-organiser']
    """

    name = "story-roles"
    description = "The story's four roles together (designer, organiser, scientist, artist)"
    parts = (EcoDesigner, AssemblyOrganiser, Scientist, Artist)
