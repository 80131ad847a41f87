"""The story's four roles as scenario modules acting through role citizens.

``CityModel(roles={"designer": 1, "organiser": 1, "scientist": 1, "artist": 1})``
marks citizens with a ``role_code``; these scenarios give the role holders their
behaviour. Each acts from its role holders' home nodes, so a role set to 0 makes
its scenario a no-op (it logs ``role_absent``) — the way to compare a city with and
without the story's people while installing the same scenarios. Every effect is
vectorised over citizens; loops run only over a handful of nodes or role holders.

* :class:`EcoDesigner` (``"eco-designer"``): an immersive installation that raises
  the concern of its visitors.
* :class:`AssemblyOrganiser` (``"assembly-organiser"``): decentralised
  neighbourhood assemblies that spread, deliberate, vote on pending proposals,
  lower protest thresholds and link neighbourhoods into one protest network.
* :class:`Scientist` (``"scientist"``): develops the organism, demonstrates it
  (at the festival if one is installed), deploys it in biodiverse zones.
* :class:`Artist` (``"artist"``): collects refuse — including corporate waste from
  the industrial zone and any facility — into sculptures that raise concern.
* :class:`StoryRoles` (``"story-roles"``): the four together.

One module per role: :mod:`.designer`, :mod:`.organiser`, :mod:`.scientist`,
:mod:`.artist`; :mod:`.story` groups them and :mod:`.base` holds what they share.

Their later activities (workshops, funding, the organism taking root, community
art) are the aftermath modules in :mod:`waste_harmony.scenarios.aftermath`.

References
----------
.. [1] Sommer, L. K. & Klöckner, C. A. (2021). Does activist art have the capacity
   to raise awareness in audiences? A study on climate change art at the ArtCOP21
   event in Paris. *Psychology of Aesthetics, Creativity, and the Arts* 15(1), 60–75.
.. [2] Fishkin, J. S. (2009). *When the People Speak: Deliberative Democracy and
   Public Consultation*. Oxford University Press.
.. [3] Dryzek, J. S. (2000). *Deliberative Democracy and Beyond*. Oxford University Press.
.. [4] McCarthy, J. D. & Zald, M. N. (1977). Resource mobilization and social
   movements: a partial theory. *American J. Sociology* 82(6), 1212–1241.
.. [5] Gould, R. V. (1991). Multiple networks and mobilization in the Paris
   Commune, 1871. *American Sociological Review* 56(6), 716–729.
.. [6] van Zomeren, M., Postmes, T. & Spears, R. (2008). Toward an integrative
   social identity model of collective action. *Psychological Bulletin* 134(4),
   504–535.
"""

from waste_harmony.scenarios.roles.artist import Artist
from waste_harmony.scenarios.roles.base import RoleScenario, catchment
from waste_harmony.scenarios.roles.designer import EcoDesigner
from waste_harmony.scenarios.roles.organiser import AssemblyOrganiser
from waste_harmony.scenarios.roles.scientist import Scientist
from waste_harmony.scenarios.roles.story import StoryRoles

__all__ = [
    "Artist",
    "AssemblyOrganiser",
    "EcoDesigner",
    "RoleScenario",
    "Scientist",
    "StoryRoles",
    "catchment",
]
