"""The model: :class:`CityModel` and the parts it is composed of.

``from waste_harmony import CityModel`` (or ``from waste_harmony.model import
CityModel``) is all a user needs. Inside, :class:`CityModel`
(:mod:`~waste_harmony.model.city_model`) is the composition root: it checks its
arguments, builds the state, owns it, and owns one part per job. A part is an
object with its own state; the model passes it what it needs, and no part reads
another part or the model's private attributes.

=============================================  ============================================
module                                         job
=============================================  ============================================
:mod:`~waste_harmony.model.city_model`         :class:`CityModel`: the order things are
                                               built in, the day, scenarios, parameters,
                                               and every public member (each hands off)
:mod:`~waste_harmony.model.checks`             its arguments, checked and normalised
                                               before anything is built
:mod:`~waste_harmony.model.building`           the builder: the city's columns and Mesa
                                               space, then the citizens
:mod:`~waste_harmony.model.geometry`           ``Geometry``: street lengths, diffusion
                                               operators and sub-steps, day outings
:mod:`~waste_harmony.model.roster`             ``Roster``: the agent classes, their
                                               overridden hooks, the organism's colonies
:mod:`~waste_harmony.model.accounts`           ``WasteAccounts``: the day's waste flows and
                                               yesterday's stock
:mod:`~waste_harmony.model.recorder`           ``Recorder``: the per-model tables of
                                               outputs, the series, the events, the frames
:mod:`~waste_harmony.model.history`            ``ParameterHistory``: the parameters in
                                               force, initial, and the interventions
:mod:`~waste_harmony.model.copying`            what copies and unpickled models restore
=============================================  ============================================
"""

from waste_harmony.model.city_model import CityModel

__all__ = ["CityModel"]
