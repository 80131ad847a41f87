"""The assembly organiser's decentralised neighbourhood assemblies (``"assembly-organiser"``).

References
----------
.. [2] Fishkin, J. S. (2009). *When the People Speak: Deliberative Democracy and
   Public Consultation*. Oxford University Press.
.. [3] Dryzek, J. S. (2000). *Deliberative Democracy and Beyond*. Oxford University Press.
.. [4] McCarthy, J. D. & Zald, M. N. (1977). Resource mobilization and social
   movements: a partial theory. *American J. Sociology* 82(6), 1212–1241.
.. [5] Gould, R. V. (1991). Multiple networks and mobilization in the Paris
   Commune, 1871. *American Sociological Review* 56(6), 716–729.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from waste_harmony.scenarios.base import amount, days, parameter, share
from waste_harmony.scenarios.festival import proposal_pending
from waste_harmony.scenarios.registry import register
from waste_harmony.scenarios.roles.base import RoleScenario

if TYPE_CHECKING:
    from waste_harmony.services import CityServices

__all__ = ["AssemblyOrganiser"]


@register
@dataclass
class AssemblyOrganiser(RoleScenario):
    """Decentralised neighbourhood assemblies: deliberate, vote, mobilise, link up.

    Each organiser founds an assembly in their home neighbourhood; every
    ``spread_interval_days`` each organiser's network recruits neighbouring
    neighbourhoods (each chosen with probability proportional to residents × mean
    concern), up to ``max_assemblies`` per organiser. The network grows in land,
    not in cells: an assembly serves ``assembly_area_km2`` (a walkable
    neighbourhood unit, Perry 1929), so each recruitment adds neighbourhoods until
    that much area has been added (a deficit or surplus carries over to the next
    recruitment), and the network stops at ``max_assemblies × assembly_area_km2``
    per organiser. A city cut into 250 m cells thus grows the same territory as
    the same city in 500 m cells (four small neighbourhoods per recruitment instead
    of one); on the default 0.25 km² grid it is one neighbourhood per recruitment.
    An assembly

    * lowers its neighbourhood's protest thresholds by ``threshold_drop``
      (organisation lowers the cost of participation, McCarthy & Zald 1977);
    * links its neighbourhood to every other assembly's, so protesters observe each
      other across the city (cross-neighbourhood ties, Gould 1991);
    * meets every ``meeting_interval_days``: residents attend with probability
      ``attendance * concern``, deliberate (``c += deliberation_gain * (1 - c)``;
      deliberative polls move participants towards public-spirited, better-informed
      positions, Fishkin 2009) and, while a proposal is pending, vote: the assembly
      is against when a majority of attendees are concerned (concern at least the
      model's ``protest_concern_min``). Votes are logged as ``assembly_vote`` events.
      With the model's ``cohorts`` (the default) each resident stands for a cohort,
      of whose people the share ``attendance * concern`` attends: the vote counts
      those people (``attendance`` is then their number in citizens), so it is the
      neighbourhood's expected vote however few citizens sample it.

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> model = CityModel(n_citizens=400, scenarios=["assembly-organiser"], rng=0)
    >>> model.run_for(100)
    >>> len(model.scenario_named("assembly-organiser").assembly_rows_) > 1
    True
    """

    name = "assembly-organiser"
    description = (
        "Decentralised neighbourhood assemblies that deliberate, vote, lower protest "
        "thresholds and link neighbourhoods"
    )
    role = "organiser"

    start_day: int = days(62, unit="day", doc="day the first assembly meets")
    meeting_interval_days: int = days(7, doc="days between meetings")
    spread_interval_days: int = days(14, doc="days between recruitments of a new neighbourhood")
    max_assemblies: int = days(
        10, unit="assemblies per organiser", doc="largest network an organiser builds"
    )
    assembly_area_km2: float = parameter(
        0.25,
        unit="km²",
        low=1e-6,
        doc="land an assembly serves: each recruitment adds this much to the network",
        source="form: the neighbourhood unit, Perry 1929; value: assumption (one 0.25 km² "
        "neighbourhood of the default grid)",
    )
    attendance: float = share(
        0.4, unit="probability", doc="attendance probability of a fully concerned resident"
    )
    deliberation_gain: float = share(
        0.08,
        unit="share of 1 - concern",
        doc="concern gained by deliberating",
        source="mechanism: Fishkin 2009; value: assumption",
    )
    threshold_drop: float = share(
        0.1,
        unit="share",
        doc="drop of protest thresholds where an assembly meets",
        source="mechanism: McCarthy & Zald 1977; value: assumption",
    )
    link_weight: float = amount(
        1.0,
        unit="link weight",
        doc="weight of the protest link between two assemblies",
        source="mechanism: Gould 1991; value: assumption",
    )

    def setup(self, model: CityServices) -> None:
        """Find the organisers; start empty."""
        self.assembly_rows_: list[int] = []
        super().setup(model)

    def start(self) -> None:
        """Found the first assemblies and schedule meetings and recruitment."""
        self._budget_km2 = self.assembly_area_km2 * len(self.homes_)
        for row in self.homes_.tolist():
            self._found(row)
        self._grow()
        day = self.model.day
        self.schedule_every(self.meet, start_day=day, interval_days=self.meeting_interval_days)
        self.schedule_every(
            self.spread,
            start_day=day + self.spread_interval_days,
            interval_days=self.spread_interval_days,
        )

    def _found(self, row: int) -> None:
        model = self.model
        if row in self.assembly_rows_:
            return
        others = list(self.assembly_rows_)
        self.assembly_rows_.append(row)
        self._budget_km2 -= float(model.neighborhoods.area_km2[row])
        model.neighborhoods.protest_threshold_shift[row] -= self.threshold_drop
        if others and self.link_weight > 0:
            model.add_links([row] * len(others), others, self.link_weight)
        self.log("assembly_founded", node=model.node_ids[row], assemblies=len(self.assembly_rows_))

    def spread(self) -> None:
        """Each organiser's network recruits ``assembly_area_km2`` more land."""
        self._budget_km2 += self.assembly_area_km2 * len(self.holders_)
        self._grow()

    def _grow(self) -> None:
        """Recruit neighbouring neighbourhoods while land is left in the budget."""
        model = self.model
        area = model.neighborhoods.area_km2
        unit = self.assembly_area_km2
        limit = self.max_assemblies * unit * len(self.holders_) * (1.0 - 1e-9)
        while self._budget_km2 > 1e-9 * unit:
            if float(area[self.assembly_rows_].sum()) >= limit:
                return
            adj = model.adjacency
            near = np.unique(
                np.concatenate(
                    [adj.indices[adj.indptr[r] : adj.indptr[r + 1]] for r in self.assembly_rows_]
                )
            )
            near = near[~np.isin(near, self.assembly_rows_) & (model.residents[near] > 0)]
            if near.size == 0:
                self._budget_km2 = 0.0  # nowhere to grow: this recruitment is lost
                return
            concern = (
                np.bincount(
                    model.citizens.home, weights=model.citizens.concern, minlength=model.n_nodes
                )
                * model.people_per_citizen
            )[near]
            weight = concern / concern.sum() if concern.sum() > 0 else None
            self._found(int(model.rng.choice(near, p=weight)))

    def meet(self) -> None:
        """Assemblies meet: attendance, deliberation, and votes on pending proposals."""
        model = self.model
        c = model.citizens
        member = np.zeros(model.n_nodes, dtype=bool)
        member[self.assembly_rows_] = True
        attend = np.flatnonzero(
            member[c.home] & (model.rng.random(len(c.home)) < self.attendance * c.concern)
        )
        model.nudge_concern(attend, self.deliberation_gain * (1.0 - c.concern[attend]))
        self.log("assembly_meeting", assemblies=len(self.assembly_rows_), attendance=len(attend))
        if not proposal_pending(model):
            return
        if model.params.cohorts:
            # Each resident stands for a cohort, of whose people the share
            # attendance * concern comes: the vote counts those people, not the
            # residents drawn to deliberate.
            voters = np.flatnonzero(member[c.home])
            weight = self.attendance * c.concern[voters]
        else:
            voters, weight = attend, np.ones(len(attend))
        concerned = c.concern[voters] >= model.params.protest_concern_min
        homes = c.home[voters]
        yes = np.bincount(homes, weights=weight * concerned, minlength=model.n_nodes)
        present = np.bincount(homes, weights=weight, minlength=model.n_nodes)
        for row in self.assembly_rows_:
            if present[row] > 0:
                self.log(
                    "assembly_vote",
                    node=model.node_ids[row],
                    against=bool(yes[row] > present[row] / 2),
                    share_against=float(yes[row] / present[row]),
                    attendance=float(present[row]) if model.params.cohorts else int(present[row]),
                )
