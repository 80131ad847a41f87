"""The TechCore proposal: a firm sites a facility on a biodiverse node and decides.

TechCore, a :class:`~waste_harmony.Corporation`, announces a facility on a
biodiverse node on ``announce_day``. What follows is simulated, not scripted:

1. **Siting.** Unless a site is given, the firm picks among the biodiverse nodes
   by a logit (random-utility) choice (McFadden 1974) that prefers cheap land and
   little *expected* opposition — residents nearby weighted by their concern and
   political voice (``1 - marginalisation``). This is the "path of least
   resistance" siting documented by Hamilton (1995) and the environmental-justice
   literature (Mohai, Pellow & Roberts 2009).
2. **Threat perception.** While the proposal is pending, residents within
   ``threat_radius_km`` (street distance) of the site perceive the threat to a
   place they value and their concern rises,
   ``c += rate * 0.5 ** (d / threat_halving_km) * (1 - c)`` per day
   (place-protective action, Devine-Wright 2009; opposition and perceived impact
   fall off with distance from the site within a few km, Jones & Eiser 2010).
   The same catchment weights the expected opposition in the firm's siting.
   Concerned citizens may protest (the model's Granovetter rule runs while the grievance is open).
3. **Lobbying and PR.** At every review the firm lobbies and runs a PR campaign
   that lowers every citizen's concern by the share ``pr_effect`` (corporate
   counter-campaigns and "greenwash", Lyon & Maxwell 2011).
4. **Decision.** The firm concedes — withdraws — when the expected cost of the
   campaign against it exceeds the benefit it expects from the facility, the rule
   of Baron & Diermeier's (2007) firm-versus-activist model. The cost grows with
   *sustained* mobilisation, measured against Chenoweth & Stephan's (2011) 3.5 %
   participation mark (a reference point, not a law: at the mark, a campaign that
   lasts the whole comment period costs ``reputation_cost``), and with the public
   assembly votes against it::

       cost = reputation_cost * (S / reference_share) * P + assembly_cost * V

   ``S`` is the mean protest share over the last ``memory_days``, ``P`` the share
   of days since the announcement with visible protest (≥ a tenth of the
   reference share), ``V`` the share of citizens whose neighbourhood assembly's
   latest vote (logged as ``assembly_vote`` events, for example by
   :class:`~waste_harmony.scenarios.roles.AssemblyOrganiser`) was against the
   facility. The benefit is the firm's private valuation, drawn at announcement
   around ``expected_benefit`` (the firm's type, unknown to the campaign in Baron &
   Diermeier's model). The firm reviews every ``review_interval_days``; it
   withdraws as soon as the cost exceeds the benefit and otherwise builds when the
   comment period ends.
5. **Building** destroys ``habitat_loss`` of the site's habitat (biodiversity
   follows the species–area relationship), and adds a pollution and a waste
   source at the site (:meth:`waste_harmony.Corporation.build`).

Events: ``facility_proposed``, ``lobbying``, ``protest_peak``,
``facility_decision`` and ``facility_built`` or ``facility_withdrawn``.

References
----------
.. [1] Baron, D. P. & Diermeier, D. (2007). Strategic activism and nonmarket
   strategy. *J. Economics & Management Strategy* 16(3), 599–634.
.. [2] Chenoweth, E. & Stephan, M. J. (2011). *Why Civil Resistance Works*.
   Columbia University Press (the 3.5 % participation observation).
.. [3] McFadden, D. (1974). Conditional logit analysis of qualitative choice
   behavior. In Zarembka (ed.), *Frontiers in Econometrics*, 105–142.
.. [4] Hamilton, J. T. (1995). Testing for environmental racism: prejudice,
   profits, political power? *J. Policy Analysis and Management* 14(1), 107–132.
.. [5] Devine-Wright, P. (2009). Rethinking NIMBYism: the role of place attachment
   and place identity in explaining place-protective action. *J. Community &
   Applied Social Psychology* 19(6), 426–441.
.. [6] Lyon, T. P. & Maxwell, J. W. (2011). Greenwash: corporate environmental
   disclosure under threat of audit. *J. Economics & Management Strategy* 20(1),
   3–41.
.. [7] Jones, C. R. & Eiser, J. R. (2010). Understanding 'local' opposition to wind
   development in the UK: how big is a backyard? *Energy Policy* 38(6), 3106–3117.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from waste_harmony.agents.corporation import Corporation
from waste_harmony.city import missing_node_hint
from waste_harmony.paramspec import Constraint
from waste_harmony.scenarios.base import Scenario, amount, days, parameter, share
from waste_harmony.scenarios.places import biodiverse_rows, distance_decay, distance_km
from waste_harmony.scenarios.registry import register

if TYPE_CHECKING:
    from waste_harmony.services import CityServices

__all__ = ["TechCoreProposal", "campaign_cost"]


def campaign_cost(
    sustained_share: float,
    persistence: float,
    votes_against: float,
    *,
    reference_share: float = 0.035,
    reputation_cost: float = 1.0,
    assembly_cost: float = 0.5,
) -> float:
    """Expected cost of an opposition campaign to the firm (Baron & Diermeier 2007).

    ``reputation_cost * (S / reference_share) * P + assembly_cost * V``.

    Parameters
    ----------
    sustained_share : float
        Mean protest share ``S`` over the firm's memory window.
    persistence : float
        Share ``P`` of days since the announcement with visible protest, in [0, 1].
    votes_against : float
        Share ``V`` of citizens whose assembly voted against, in [0, 1].
    reference_share : float
        Participation at which sustained protest costs ``reputation_cost``
        (Chenoweth & Stephan's 3.5 %).
    reputation_cost, assembly_cost : float
        Cost scales, in units of the facility's expected benefit.

    Returns
    -------
    float
        The cost.

    Examples
    --------
    >>> campaign_cost(0.035, 1.0, 0.0)
    1.0
    >>> campaign_cost(0.0, 0.0, 1.0)
    0.5
    """
    return (
        reputation_cost * (sustained_share / reference_share) * persistence
        + assembly_cost * votes_against
    )


@register
@dataclass
class TechCoreProposal(Scenario):
    """TechCore proposes a facility on a biodiverse node, lobbies, then builds or withdraws.

    See the module docstring for the rules and their sources.

    Parameters
    ----------
    announce_day : int
        Day of the announcement.
    site : node id or None
        Site of the facility (must be a biodiverse node); ``None`` lets the firm
        choose.
    comment_period_days, review_interval_days : int
        Length of the comment period; days between the firm's reviews.
    expected_benefit, benefit_cv : float
        Mean and coefficient of variation of the firm's private valuation.
    reputation_cost, assembly_cost, reference_share, memory_days
        Terms of the cost function (:func:`campaign_cost`).
    threat_perception_rate, threat_radius_km, threat_halving_km
        Place-protective concern near the site: rate, reach and halving distance (km).
    pr_effect : float
        Share of concern removed from every citizen by each round of PR.
    land_price_weight, opposition_weight, siting_noise : float
        Siting utility ``-(w_p price + w_o opposition)`` (normalised) and the scale
        of its Gumbel noise.
    emission_per_day, waste_kg_per_day, habitat_loss : float
        The facility once built.
    corporation_name : str
        The firm's name.

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> model = CityModel(n_citizens=500, scenarios=["techcore"], rng=1)
    >>> model.run_for(200)
    >>> model.facility_status in ("built", "withdrawn")
    True
    >>> model.event_log.of_kind("proposal_announced")[0].day
    60
    """

    name = "techcore"
    description = (
        "TechCore proposes a facility on a biodiverse node, lobbies, and builds or "
        "withdraws by weighing sustained opposition against its expected benefit"
    )

    #: Reviews fall inside the comment period (a longer interval would end the schedule
    #: before it starts).
    constraints = (
        Constraint(
            "review_interval_days <= comment_period_days",
            lambda v: v["review_interval_days"] <= v["comment_period_days"],
            "lower review_interval_days or raise comment_period_days",
            names=("review_interval_days", "comment_period_days"),
        ),
    )

    announce_day: int = days(60, unit="day", doc="day of the announcement")
    site: Any = parameter(None, doc="node id of a biodiverse site, or None: the firm chooses")  # noqa: RUF009
    comment_period_days: int = days(
        120, doc="days from announcement to the final decision", high=3650
    )
    review_interval_days: int = days(7, doc="days between the firm's reviews", high=365)
    expected_benefit: float = amount(
        1.0,
        unit="benefit units",
        doc="mean private value of the facility to the firm",
        source="mechanism: Baron & Diermeier 2007 (normalisation); value: assumption",
    )
    benefit_cv: float = amount(
        0.3,
        unit="dimensionless",
        doc="coefficient of variation of the firm's valuation (log-normal)",
        source="assumption",
        high=3.0,
    )
    reputation_cost: float = amount(
        1.0,
        unit="benefit units",
        doc="cost of protest sustained at the reference share over the whole comment period",
        source="mechanism: Baron & Diermeier 2007; value: assumption",
    )
    assembly_cost: float = amount(
        0.5,
        unit="benefit units",
        doc="political cost when every assembly votes against",
        source="assumption",
    )
    reference_share: float = parameter(
        0.035,
        unit="share of citizens",
        low=1e-6,
        high=1.0,
        doc="participation reference point of the cost",
        source="Chenoweth & Stephan 2011",
    )
    memory_days: int = days(14, doc="window over which mobilisation must be sustained", high=365)
    threat_perception_rate: float = share(
        0.02,
        unit="per day",
        doc="rate at which residents of the site raise concern while the proposal is pending",
        source="mechanism: Devine-Wright 2009 (place attachment); value: assumption",
    )
    threat_radius_km: float = amount(
        1.5,
        unit="km",
        doc="street distance from the site within which the threat is perceived",
        source="mechanism: Devine-Wright 2009, Jones & Eiser 2010; value: assumption "
        "(3 hops of the 0.5 km default grid)",
        high=1000.0,
    )
    threat_halving_km: float = parameter(
        0.5,
        unit="km",
        low=1e-6,
        high=1000.0,
        doc="distance from the site over which the perceived threat halves",
        source="mechanism: Jones & Eiser 2010; value: assumption (halving per 0.5 km hop)",
    )
    pr_effect: float = share(
        0.003,
        unit="share of concern per review",
        doc="concern removed from every citizen by each PR round",
        source="mechanism: Lyon & Maxwell 2011; value: assumption",
    )
    land_price_weight: float = amount(
        1.0, unit="dimensionless", doc="weight of land price in siting"
    )
    opposition_weight: float = amount(
        1.0,
        unit="dimensionless",
        doc="weight of expected opposition in siting",
        source="mechanism: Hamilton 1995; value: assumption",
    )
    siting_noise: float = amount(
        0.2,
        unit="utility units",
        doc="scale of the Gumbel noise of the logit siting choice (0: deterministic)",
        source="mechanism: McFadden 1974; value: assumption",
    )
    emission_per_day: float = amount(
        1.0,
        unit="µg/m³ per day",
        doc="pollution the facility emits at its site",
        source="calibrated with industrial_emission_scale: a fifth of a mean industrial "
        "node's emission (5 µg/m³ per day), as before the calibration (6 of 30)",
    )
    waste_kg_per_day: float = amount(
        1500.0, unit="kg per day", doc="waste the facility produces at its site"
    )
    habitat_loss: float = share(
        0.9, unit="share of the site's habitat", doc="habitat destroyed by construction"
    )
    corporation_name: str = parameter("TechCore", doc="the firm's name")

    # -- installation ----------------------------------------------------------------
    def validate(self, model: CityServices) -> None:
        """Check the announcement day and, if given, that the site is a biodiverse node."""
        self.check_day("announce_day", self.announce_day, model)
        if self.site is not None:
            try:
                row = model.node_index(self.site)
            except KeyError:
                hint = missing_node_hint(self.site, model.node_ids)
                raise ValueError(
                    f"scenario 'techcore': site {self.site!r} is not a node of "
                    f"the city{hint}; give a biodiverse node id or None"
                ) from None
            candidates = biodiverse_rows(model)
            if row not in candidates:
                examples = [model.node_ids[r] for r in candidates[:5]]
                raise ValueError(
                    f"scenario 'techcore': site {self.site!r} is not a biodiverse node "
                    f"(zone {model.neighborhoods.zone[row]!r}, habitat "
                    f"{model.neighborhoods.habitat[row]:.2f}); choose a green node or one with "
                    f"habitat >= 0.5, e.g. one of {examples}, or None to let the firm choose"
                )
        elif biodiverse_rows(model).size == 0:
            raise ValueError(
                "scenario 'techcore': the city has no biodiverse node (green zone "
                "or habitat >= 0.5) to site the facility on; mark one, e.g. "
                "G.nodes[node]['zone'] = 'green' (from_districts: zone= and zone_map=)"
            )

    def setup(self, model: CityServices) -> None:
        """Create the firm and schedule the announcement."""
        self.corporation = Corporation(
            model,
            self.corporation_name,
            emission_per_day=self.emission_per_day,
            waste_kg_per_day=self.waste_kg_per_day,
            habitat_loss=self.habitat_loss,
        )
        self.benefit_: float | None = None
        self.decision_: str | None = None
        self._peak = 0.0
        self._near: tuple[np.ndarray, np.ndarray] | None = None
        self.schedule(self.announce, day=self.announce_day)

    # -- siting ------------------------------------------------------------------
    def choose_site(self) -> int:
        """The firm's siting choice among biodiverse nodes (row index).

        Returns
        -------
        int
            Row of the chosen node.
        """
        model = self.model
        hoods = model.neighborhoods
        candidates = biodiverse_rows(model)
        # The concern of each node's people: its citizens' concern times the people
        # each stands for.
        concern = (
            np.bincount(
                model.citizens.home, weights=model.citizens.concern, minlength=model.n_nodes
            )
            * model.people_per_citizen
        )
        voice = concern * (1.0 - hoods.marginalisation)
        opposition = np.empty(len(candidates))
        radius, halving = self.threat_radius_km, self.threat_halving_km
        for i, row in enumerate(candidates.tolist()):  # a search bounded by the radius
            d = distance_km(model, row, limit=radius)
            weight = distance_decay(d, halving_km=halving, radius_km=radius)
            opposition[i] = float(weight @ voice)
        price = hoods.land_price[candidates]
        utility = -(
            self.land_price_weight * price / max(float(price.max()), 1e-12)
            + self.opposition_weight * opposition / max(float(opposition.max()), 1e-12)
        )
        if self.siting_noise > 0:
            utility = utility + self.siting_noise * model.rng.gumbel(size=len(candidates))
        return int(candidates[int(np.argmax(utility))])

    # -- events ------------------------------------------------------------------
    def announce(self) -> None:
        """Announce the facility, open the comment period, start the firm's reviews."""
        model = self.model
        row = model.node_index(self.site) if self.site is not None else self.choose_site()
        node = model.node_ids[row]
        sigma = float(np.sqrt(np.log1p(self.benefit_cv**2)))
        self.benefit_ = float(self.expected_benefit * model.rng.lognormal(-(sigma**2) / 2, sigma))
        self.corporation.propose(node)
        self.announced_day_ = model.day
        self.deadline_ = model.day + self.comment_period_days
        d = distance_km(model, row, limit=self.threat_radius_km)
        weight = distance_decay(
            d, halving_km=self.threat_halving_km, radius_km=self.threat_radius_km
        )
        nodes = np.flatnonzero(weight > 0)
        self._near = (nodes, weight[nodes])
        self.add_rule("techcore_threat", self._perceive_threat, after="perceive_pollution")
        self.log(
            "proposal_announced",
            node=node,
            corporation=self.corporation_name,
            deadline=self.deadline_,
            land_price=float(model.neighborhoods.land_price[row]),
        )
        self.schedule_every(
            self.review,
            start_day=model.day + self.review_interval_days,
            interval_days=self.review_interval_days,
            end_day=self.deadline_,
        )
        if self.comment_period_days % self.review_interval_days:
            self.schedule(self.review, day=self.deadline_)

    def _perceive_threat(self, model: CityServices) -> None:
        if self._near is None or self.corporation.status != "proposed":
            return
        nodes, weight = self._near
        per_node = np.zeros(model.n_nodes)
        per_node[nodes] = self.threat_perception_rate * weight
        rate = per_node[model.citizens.home]
        concern = model.citizens.concern
        concern += rate * (1.0 - concern)

    def opposition(self) -> dict[str, float]:
        """The firm's reading of the opposition today (from recorded series and events).

        Returns
        -------
        dict
            ``sustained_share``, ``persistence``, ``votes_against``, ``cost``.
        """
        model = self.model
        since = model.series("protest_share", since_day=self.announced_day_)
        sustained = float(since[-self.memory_days :].mean()) if since.size else 0.0
        persistence = float(np.mean(since >= self.reference_share / 10)) if since.size else 0.0
        latest: dict[Any, bool] = {}
        for event in model.events("assembly_vote", since_day=self.announced_day_):
            latest[event.node] = bool(event.details.get("against", False))
        against = [model.node_index(n) for n, vote in latest.items() if vote]
        people = model.people
        votes = float(people[against].sum() / people.sum()) if people.sum() > 0 else 0.0
        cost = campaign_cost(
            sustained,
            persistence,
            votes,
            reference_share=self.reference_share,
            reputation_cost=self.reputation_cost,
            assembly_cost=self.assembly_cost,
        )
        return {
            "sustained_share": sustained,
            "persistence": persistence,
            "votes_against": votes,
            "cost": cost,
        }

    def review(self) -> None:
        """Weigh the opposition against the benefit; lobby and run PR if staying the course."""
        firm, model = self.corporation, self.model
        if firm.status != "proposed":
            return
        reading = self.opposition()
        shares = model.series("protest_share")
        week_max = float(max(shares[-self.review_interval_days :], default=0.0))
        if week_max > max(1.1 * self._peak, self.reference_share / 10):
            self._peak = week_max
            self.log("protest_peak", node=firm.site_node, protest_share=week_max)
        final = model.day >= self.deadline_
        assert self.benefit_ is not None  # drawn at the announcement, before any review
        if reading["cost"] > self.benefit_ or final:
            self.decide(reading)
            return
        model.nudge_concern(slice(None), -self.pr_effect * model.citizens.concern)
        self.log(
            "lobbying",
            node=firm.site_node,
            corporation=self.corporation_name,
            pr_effect=self.pr_effect,
            **reading,
        )

    def decide(self, reading: dict[str, float]) -> None:
        """Build or withdraw by the cost–benefit rule, and log the decision.

        Parameters
        ----------
        reading : dict
            The output of :meth:`opposition`.
        """
        firm = self.corporation
        assert self.benefit_ is not None  # drawn at the announcement
        withdraw = reading["cost"] > self.benefit_
        self.decision_ = "withdraw" if withdraw else "build"
        self.log(
            "facility_decision",
            node=firm.site_node,
            corporation=self.corporation_name,
            decision=self.decision_,
            benefit=self.benefit_,
            **reading,
        )
        if withdraw:
            firm.withdraw()
        else:
            firm.build()
        self.remove_rule("techcore_threat")
        self.stop_recurring()

    def switch_off(self) -> None:
        """Stop the scenario; a pending proposal is withdrawn (the firm leaves the city)."""
        if getattr(self, "active", False) and self.corporation.status == "proposed":
            self.corporation.withdraw()
        super().switch_off()
