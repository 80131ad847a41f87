"""The scientist: develops, demonstrates and deploys the organism (``"scientist"``).

References
----------
.. [6] van Zomeren, M., Postmes, T. & Spears, R. (2008). Toward an integrative
   social identity model of collective action. *Psychological Bulletin* 134(4),
   504–535.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from waste_harmony.paramspec import zero_or_at_least
from waste_harmony.scenarios.base import days, parameter, share
from waste_harmony.scenarios.festival import HarmonyFestival
from waste_harmony.scenarios.places import biodiverse_rows
from waste_harmony.scenarios.registry import register
from waste_harmony.scenarios.roles.base import RoleScenario, catchment

__all__ = ["Scientist"]


@register
@dataclass
class Scientist(RoleScenario):
    """The scientist develops the organism, demonstrates it, and deploys it.

    Development takes a Gamma-distributed time (mean ``development_days``). When the
    organism is ready the scientist demonstrates it at the next Harmony Festival if
    one is installed and due within a year — otherwise at home, to the neighbours.
    The audience's concern rises and, seeing a working alternative, their protest
    thresholds fall by ``efficacy_gain`` (perceived efficacy drives collective
    action, van Zomeren et al. 2008). ``deploy_delay_days`` later the organism is
    released in the ``deploy_sites`` most polluted biodiverse nodes.

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> model = CityModel(n_citizens=400, scenarios=["scientist"], rng=0,
    ...                   organism_growth_rate=0.1)
    >>> model.run_for(200)
    >>> model.organism_biomass > 0
    True
    """

    name = "scientist"
    description = "The scientist develops the living organism, demonstrates and deploys it"
    role = "scientist"

    start_day: int = days(1, unit="day", doc="day development starts")
    development_days: float = parameter(
        90.0, unit="days", low=1.0, doc="mean development time (Gamma distributed)"
    )
    development_cv: float = parameter(
        0.2,
        unit="dimensionless",
        low=0.0,
        high=2.0,
        doc="coefficient of variation of the development time",
        constraints=(zero_or_at_least("development_cv", 1e-3),),
    )
    demo_concern_gain: float = share(
        0.05, unit="share of 1 - concern", doc="concern gained by the demonstration's audience"
    )
    efficacy_gain: float = share(
        0.05,
        unit="share",
        doc="drop of the audience's protest thresholds",
        source="mechanism: van Zomeren et al. 2008; value: assumption",
    )
    deploy_delay_days: int = parameter(
        14, unit="days", low=0, doc="days from demonstration to deployment"
    )
    deploy_sites: int = days(3, unit="nodes", doc="biodiverse nodes seeded")
    biomass_kg: float = parameter(50.0, unit="kg", low=1e-6, doc="biomass released per site")

    def start(self) -> None:
        """Start developing; schedule the day the organism is ready."""
        cv = self.development_cv
        days = (
            self.development_days
            if cv == 0
            else float(self.model.rng.gamma(1.0 / cv**2, self.development_days * cv**2))
        )
        self.ready_day_ = self.model.day + max(1, round(days))
        self.log("development_started", expected_ready_day=self.ready_day_)
        self.schedule(self.ready, day=self.ready_day_)

    def ready(self) -> None:
        """The organism is ready: plan its demonstration."""
        model = self.model
        self.log("organism_ready")
        festival = next(
            (s for s in model.scenarios if isinstance(s, HarmonyFestival) and s.active), None
        )
        day = festival.next_day(model.day) if festival is not None else None
        if day is not None and day - model.day <= 365:
            self._at_festival = festival
            self.schedule(self.demonstrate, day=day, after_others=True)
        else:
            self._at_festival = None
            self.demonstrate()

    def demonstrate(self) -> None:
        """Demonstrate the organism to the festival crowd or to the neighbours."""
        model = self.model
        c = model.citizens
        festival = self._at_festival
        if festival is not None and festival.last_day_ == model.day:
            audience, where = festival.attendees_, model.node_ids[int(festival.plaza_rows_[0])]
        else:
            prob = catchment(model, self.homes_, rate=0.3, radius_km=0.5)
            audience = np.flatnonzero(model.rng.random(len(prob)) < prob)
            where = model.node_ids[int(self.homes_[0])]
        model.nudge_concern(audience, self.demo_concern_gain * (1.0 - c.concern[audience]))
        c.threshold[audience] = np.maximum(c.threshold[audience] - self.efficacy_gain, 0.0)
        self.log("organism_demonstrated", node=where, audience=len(audience))
        self.schedule(self.deploy, day=model.day + max(self.deploy_delay_days, 1))

    def deploy(self) -> None:
        """Release the organism in the most polluted biodiverse nodes."""
        model = self.model
        sites = biodiverse_rows(model)
        if sites.size == 0:
            self.log("organism_not_deployed", reason="no biodiverse node")
            return
        order = sites[np.argsort(-model.neighborhoods.pollution[sites], kind="stable")]
        for row in order[: self.deploy_sites].tolist():
            model.deploy_organism(model.node_ids[row], self.biomass_kg)
