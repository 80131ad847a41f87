"""The aftermath: what the story's people do once the festival is over.

Four modules, each acting through the holders of a story role (a role set to 0
makes its module a no-op that logs ``role_absent``), and a composite:

* :class:`Workshops` (``"workshops"``, designer): ecological-design workshops that
  turn public spaces green — habitat rises where they are held.
* :class:`AssemblyFunding` (``"assembly-funding"``, organiser): the assemblies
  secure biotech funding and allocate it; with ``prioritise_marginalised`` by need
  (lack of access times marginalisation), as Porto Alegre's participatory budget
  weighted need (Santos 1998), otherwise to the neighbourhoods that hold an
  assembly, in proportion to residents (who participates gets funded).
* :class:`OrganismRooting` (``"organism-rooting"``, scientist): the organism takes
  root — the scientist seeds biodiverse nodes next to colonised ones.
* :class:`CommunityArt` (``"community-art"``, artist): community art projects that
  reuse local refuse and raise concern.
* :class:`Aftermath` (``"aftermath"``): the four together.

References
----------
.. [1] Aronson, M. F. J. et al. (2017). Biodiversity in the city: key challenges for
   urban green space management. *Frontiers in Ecology and the Environment* 15(4),
   189–196.
.. [2] Santos, B. de S. (1998). Participatory budgeting in Porto Alegre: toward a
   redistributive democracy. *Politics & Society* 26(4), 461–510.
.. [3] O'Donnell, O., van Doorslaer, E., Wagstaff, A. & Lindelow, M. (2008).
   *Analyzing Health Equity Using Household Survey Data*. World Bank (access
   inequality; see :mod:`waste_harmony.dynamics.inequality`).
.. [4] Matarasso, F. (1997). *Use or Ornament? The Social Impact of Participation
   in the Arts*. Comedia.
.. [5] Sommer, L. K. & Klöckner, C. A. (2021). Does activist art have the capacity
   to raise awareness in audiences? *Psychology of Aesthetics, Creativity, and the
   Arts* 15(1), 60–75.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from waste_harmony.dynamics.inequality import gini
from waste_harmony.scenarios.base import amount, days, share
from waste_harmony.scenarios.base import parameter as _param
from waste_harmony.scenarios.group import ScenarioGroup
from waste_harmony.scenarios.places import biodiverse_rows, distance_km
from waste_harmony.scenarios.registry import register
from waste_harmony.scenarios.roles import AssemblyOrganiser, RoleScenario

__all__ = ["Aftermath", "AssemblyFunding", "CommunityArt", "OrganismRooting", "Workshops"]


def _start_day(default: int = 150) -> int:
    return days(default, unit="day", doc="first day of the activity")


def _interval(default: int) -> int:
    return days(default, doc="days between rounds")


class _Recurring(RoleScenario):
    """A role activity repeated every ``interval_days`` from ``start_day``."""

    #: Days between rounds (each subclass declares it as a parameter).
    interval_days: int

    def start(self) -> None:
        """Schedule the rounds."""
        self.schedule_every(self.round, start_day=self.model.day, interval_days=self.interval_days)

    def round(self) -> None:  # pragma: no cover - overridden
        """One round (override)."""


@register
@dataclass
class Workshops(_Recurring):
    """Ecological-design workshops that turn spaces green.

    Every ``interval_days`` each designer holds a workshop at the least green
    inhabited node within ``radius_km`` (street distance) of home; ``greening`` of its non-habitat
    area becomes habitat (community greening, Aronson et al. 2017), and attending
    residents (probability ``participation * concern``) gain concern.

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> model = CityModel(n_citizens=300, scenarios=["workshops"], rng=0)
    >>> model.run_for(200)
    >>> model.biodiversity_index > 1.0
    True
    """

    name = "workshops"
    description = "Aftermath: the designer's workshops turn public spaces green"
    role = "designer"

    start_day: int = _start_day()
    interval_days: int = _interval(14)
    greening: float = share(
        0.1,
        unit="share of non-habitat",
        doc="non-habitat area turned green per workshop",
        source="mechanism: Aronson et al. 2017; value: assumption",
    )
    radius_km: float = amount(
        1.5, unit="km", doc="street distance from home workshops go (3 default hops)"
    )
    participation: float = share(
        0.2, unit="probability", doc="attendance probability of a fully concerned resident"
    )
    concern_gain: float = share(
        0.03, unit="share of 1 - concern", doc="concern gained by participants"
    )

    def round(self) -> None:
        """Hold one workshop per designer."""
        model = self.model
        hoods, c = model.neighborhoods, model.citizens
        for home in self.homes_.tolist():
            d = distance_km(model, home, limit=self.radius_km)
            near = np.flatnonzero(np.isfinite(d) & (model.residents > 0))
            if near.size == 0:
                continue
            row = int(near[np.argmin(hoods.habitat[near])])
            gained = self.greening * (1.0 - hoods.habitat[row])
            hoods.habitat[row] += gained
            here = np.flatnonzero(c.home == row)
            join = here[model.rng.random(len(here)) < self.participation * c.concern[here]]
            model.nudge_concern(join, self.concern_gain * (1.0 - c.concern[join]))
            self.log(
                "workshop",
                node=model.node_ids[row],
                habitat_gained=float(gained),
                participants=len(join),
            )


@register
@dataclass
class AssemblyFunding(_Recurring):
    """The assemblies secure biotech funding and allocate it, by need or by participation.

    Each round the budget raises the city's population-mean biotech access by
    ``budget_per_assembly`` per assembly of the installed
    :class:`~waste_harmony.scenarios.roles.AssemblyOrganiser` (no assemblies, no
    funding). With ``prioritise_marginalised`` it is allocated in proportion to
    need, ``(1 - access) * marginalisation`` (Santos 1998); otherwise to the
    neighbourhoods holding an assembly, in proportion to their residents. Access is
    capped at 1. The round's ``funding_round`` event records the population-weighted
    Gini of access after it (O'Donnell et al. 2008).

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> model = CityModel(n_citizens=400, rng=0,
    ...                   scenarios=["assembly-organiser", "assembly-funding"])
    >>> model.run_for(250)
    >>> len(model.event_log.of_kind("funding_round")) > 0
    True
    """

    name = "assembly-funding"
    description = (
        "Aftermath: assemblies secure biotech funding, prioritising marginalised neighbourhoods"
    )
    role = "organiser"

    start_day: int = _start_day()
    interval_days: int = _interval(30)
    budget_per_assembly: float = share(
        0.002,
        unit="access units per assembly per round",
        doc="rise of population-mean access per assembly",
    )
    prioritise_marginalised: bool = _param(
        True,
        doc="allocate by need (True) or to the assembly neighbourhoods by residents (False)",
        source="mechanism: Santos 1998; value: assumption",
    )

    def round(self) -> None:
        """Allocate one round of funding."""
        model = self.model
        hoods = model.neighborhoods
        assemblies = [s for s in model.scenarios if isinstance(s, AssemblyOrganiser)]
        rows = sorted({r for s in assemblies for r in s.assembly_rows_})
        if not rows:
            self.log("funding_skipped", reason="no assemblies (install 'assembly-organiser')")
            return
        access, pop = hoods.biotech_access, model.people
        if self.prioritise_marginalised:
            need = (1.0 - access) * hoods.marginalisation
        else:
            need = np.zeros(model.n_nodes)
            need[rows] = (access[rows] < 1.0).astype(float)
        need = need * (pop > 0)  # access is for residents: empty nodes get none
        weight = pop * need
        if weight.sum() <= 0:
            return
        budget = self.budget_per_assembly * len(rows) * pop.sum()  # access × residents
        raise_by = np.minimum(budget * need / weight.sum(), 1.0 - access)
        access += raise_by
        self.log(
            "funding_round",
            budget=float(budget / pop.sum()),
            nodes_funded=int(np.count_nonzero(raise_by > 0)),
            access_gini=gini(access, pop),
        )


@register
@dataclass
class OrganismRooting(_Recurring):
    """The organism takes root: the scientist seeds biodiverse nodes next to colonies.

    Every ``interval_days`` each scientist releases ``biomass_kg`` at up to
    ``sites_per_round`` biodiverse nodes within ``reach_km`` (street distance) of a
    colonised node that are not colonised yet (once the organism exists; before any
    deployment it seeds the most polluted biodiverse node). Growth, spread and
    services then follow the model's organism rules.

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> model = CityModel(n_citizens=300, scenarios=["organism-rooting"], rng=0)
    >>> model.run_for(200)
    >>> len(model.event_log.of_kind("organism_rooted")) > 0
    True
    """

    name = "organism-rooting"
    description = "Aftermath: the scientist's organism takes root in biodiverse zones"
    role = "scientist"

    start_day: int = _start_day()
    interval_days: int = _interval(30)
    sites_per_round: int = days(2, unit="nodes", doc="nodes seeded per round")
    biomass_kg: float = _param(20.0, unit="kg", low=1e-6, doc="biomass released per node")
    reach_km: float = amount(
        0.5,
        unit="km",
        doc="street distance from a colony within which new sites are seeded (one default hop)",
    )

    def round(self) -> None:
        """Seed new biodiverse nodes next to the colonies."""
        model = self.model
        hoods = model.neighborhoods
        biodiverse = biodiverse_rows(model)
        colonised = hoods.organism_biomass >= model.params.organism_colony_kg
        if colonised.any():
            near = np.isfinite(distance_km(model, np.flatnonzero(colonised), limit=self.reach_km))
            targets = biodiverse[near[biodiverse] & ~colonised[biodiverse]]
        else:
            targets = biodiverse[np.argsort(-hoods.pollution[biodiverse], kind="stable")[:1]]
        targets = targets[: self.sites_per_round * len(self.holders_)]
        for row in targets.tolist():
            model.deploy_organism(model.node_ids[row], self.biomass_kg)
        self.log(
            "organism_rooted",
            colonised=int(np.count_nonzero(colonised)),
            seeded=len(targets),
            biomass_kg=float(hoods.organism_biomass.sum()),
        )


@register
@dataclass
class CommunityArt(_Recurring):
    """Community art projects inspired by the artist: local refuse becomes shared art.

    Every ``interval_days`` each artist starts a project in the inhabited
    neighbourhood with the most waste within ``radius_km`` of home; residents join
    with probability ``participation * concern``, each bringing ``kg_per_participant``
    of the local stock (reused) and gaining concern (Matarasso 1997; Sommer &
    Klöckner 2021).

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> model = CityModel(n_citizens=300, scenarios=["community-art"], rng=0)
    >>> model.run_for(160)
    >>> len(model.event_log.of_kind("community_art")) > 0
    True
    """

    name = "community-art"
    description = "Aftermath: community art projects reuse local refuse"
    role = "artist"

    start_day: int = _start_day()
    interval_days: int = _interval(14)
    radius_km: float = amount(
        2.0, unit="km", doc="street distance from home projects go (4 default hops)"
    )
    participation: float = share(
        0.2, unit="probability", doc="joining probability of a fully concerned resident"
    )
    kg_per_participant: float = amount(3.0, unit="kg", doc="waste each participant reuses")
    concern_gain: float = share(
        0.03,
        unit="share of 1 - concern",
        doc="concern gained by participants",
        source="mechanism: Sommer & Klöckner 2021; value: assumption",
    )

    def round(self) -> None:
        """Start one project per artist."""
        model = self.model
        c, stock = model.citizens, model.neighborhoods.waste_stock_kg
        for home in self.homes_.tolist():
            d = distance_km(model, home, limit=self.radius_km)
            near = np.flatnonzero(np.isfinite(d) & (model.residents > 0))
            if near.size == 0:
                continue
            row = int(near[np.argmax(stock[near])])
            here = np.flatnonzero(c.home == row)
            join = here[model.rng.random(len(here)) < self.participation * c.concern[here]]
            reused = model.reuse_waste(self.kg_per_participant * len(join), model.node_ids[row])
            model.nudge_concern(join, self.concern_gain * (1.0 - c.concern[join]))
            self.log(
                "community_art",
                node=model.node_ids[row],
                participants=len(join),
                waste_reused_kg=reused,
            )


@register
@dataclass
class Aftermath(ScenarioGroup):
    """The four aftermath modules together: workshops, funding, rooting, community art.

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> model = CityModel(n_citizens=300, scenarios=["aftermath"], rng=0)
    >>> len(model.scenarios)
    5
    """

    name = "aftermath"
    description = "The story's aftermath: workshops, funding, the organism roots, community art"
    parts = (Workshops, AssemblyFunding, OrganismRooting, CommunityArt)
