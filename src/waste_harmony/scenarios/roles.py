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

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import scipy.sparse as sp

from waste_harmony.paramspec import zero_or_at_least
from waste_harmony.scenarios.base import Scenario, parameter
from waste_harmony.scenarios.festival import HarmonyFestival, proposal_pending
from waste_harmony.scenarios.places import biodiverse_rows, hop_distance, plaza_rows, role_rows
from waste_harmony.scenarios.registry import register

if TYPE_CHECKING:
    from waste_harmony.model import CityModel

__all__ = [
    "Artist",
    "AssemblyOrganiser",
    "EcoDesigner",
    "RoleScenario",
    "Scientist",
    "StoryRoles",
    "catchment",
]


def catchment(
    model: CityModel, rows: Any, *, rate: float, decay: float = 0.5, radius: int = 3
) -> np.ndarray:
    """Per-citizen daily probability of visiting one of ``rows``: ``rate * decay**hops``.

    Parameters
    ----------
    model : CityModel
        The model.
    rows : array of int
        Node rows of the attraction(s).
    rate : float
        Probability for residents of the attraction's node.
    decay : float
        Factor per hop.
    radius : int
        No visits from beyond this many hops.

    Returns
    -------
    numpy.ndarray, shape (n_citizens,)
        Probabilities.
    """
    d = hop_distance(model, rows)
    per_node = np.where(d <= radius, rate * decay ** np.minimum(d, radius), 0.0)
    return per_node[model.citizens.home]


class RoleScenario(Scenario):
    """Base of scenarios acting through the holders of one story role.

    Subclasses set ``role`` and implement :meth:`start`, scheduled on ``start_day``
    when at least one citizen holds the role.
    """

    role: ClassVar[str] = ""

    def validate(self, model: CityModel) -> None:
        """Check the start day against the run."""
        self.check_day("start_day", self.start_day, model)

    def setup(self, model: CityModel) -> None:
        """Find the role holders and schedule :meth:`start` (or log their absence)."""
        self.holders_ = role_rows(model, self.role)
        self.homes_ = np.unique(model.citizens.home[self.holders_])
        if self.holders_.size == 0:
            self.log("role_absent", role=self.role)
            return
        self.schedule(self.start, day=self.start_day)

    def start(self) -> None:  # pragma: no cover - overridden
        """Begin the role's activity (override)."""


@register
@dataclass
class EcoDesigner(RoleScenario):
    """The ecological designer's immersive installation: visitors' concern rises.

    Each designer opens an installation at her home node on ``start_day``; every day
    until it closes, citizens visit with probability ``visit_rate * 0.5**hops``
    (within 3 hops), spend the day there and gain ``concern_gain * (1 - c)``
    (activist art raises awareness, Sommer & Klöckner 2021).

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> model = CityModel(n_citizens=400, scenarios=["eco-designer"], rng=0)
    >>> model.run_for(70)
    >>> [e.kind for e in model.event_log]
    ['installation_opened']
    """

    name = "eco-designer"
    description = "The ecological designer's immersive installation raises visitors' concern"
    role = "designer"

    start_day: int = parameter(65, unit="day", low=1, doc="day the installation opens")
    duration_days: int = parameter(365, unit="days", low=1, doc="days it stays open")
    visit_rate: float = parameter(
        0.03,
        unit="probability per day",
        low=0.0,
        high=1.0,
        doc="daily visit probability of residents of its node",
    )
    concern_gain: float = parameter(
        0.08,
        unit="share of 1 - concern",
        low=0.0,
        high=1.0,
        doc="concern a visitor gains",
        source="mechanism: Sommer & Klöckner 2021; value: assumption",
    )

    def start(self) -> None:
        """Open the installation(s)."""
        self._visit = catchment(self.model, self.homes_, rate=self.visit_rate)
        self._venue = self.homes_[
            np.argmin(np.stack([hop_distance(self.model, r) for r in self.homes_]), axis=0)
        ]
        self.add_rule("installation_visits", self._visits, before="meet")
        for row in self.homes_.tolist():
            self.log("installation_opened", node=self.model.node_ids[row])
        self.schedule(self.close, day=self.model.day + self.duration_days)

    def _visits(self, model: CityModel) -> None:
        c = model.citizens
        visitors = np.flatnonzero(
            (model.rng.random(len(self._visit)) < self._visit) & (c.gathering < 0)
        )
        c.gathering[visitors] = self._venue[c.home[visitors]]
        model.nudge_concern(visitors, self.concern_gain * (1.0 - c.concern[visitors]))

    def close(self) -> None:
        """Close the installation(s)."""
        if "installation_visits" in self.model.pipeline:
            self.model.pipeline.remove("installation_visits")
            self._rules.remove("installation_visits")
        self.log("installation_closed")


@register
@dataclass
class AssemblyOrganiser(RoleScenario):
    """Decentralised neighbourhood assemblies: deliberate, vote, mobilise, link up.

    Each organiser founds an assembly in their home neighbourhood; every
    ``spread_interval_days`` each organiser's network recruits a neighbouring
    neighbourhood (chosen with probability proportional to residents × mean
    concern), up to ``max_assemblies`` per organiser. An assembly

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

    start_day: int = parameter(62, unit="day", low=1, doc="day the first assembly meets")
    meeting_interval_days: int = parameter(7, unit="days", low=1, doc="days between meetings")
    spread_interval_days: int = parameter(
        14, unit="days", low=1, doc="days between recruitments of a new neighbourhood"
    )
    max_assemblies: int = parameter(
        10, unit="assemblies per organiser", low=1, doc="largest network an organiser builds"
    )
    attendance: float = parameter(
        0.4,
        unit="probability",
        low=0.0,
        high=1.0,
        doc="attendance probability of a fully concerned resident",
    )
    deliberation_gain: float = parameter(
        0.08,
        unit="share of 1 - concern",
        low=0.0,
        high=1.0,
        doc="concern gained by deliberating",
        source="mechanism: Fishkin 2009; value: assumption",
    )
    threshold_drop: float = parameter(
        0.1,
        unit="share",
        low=0.0,
        high=1.0,
        doc="drop of protest thresholds where an assembly meets",
        source="mechanism: McCarthy & Zald 1977; value: assumption",
    )
    link_weight: float = parameter(
        1.0,
        unit="link weight",
        low=0.0,
        doc="weight of the protest link between two assemblies",
        source="mechanism: Gould 1991; value: assumption",
    )

    def setup(self, model: CityModel) -> None:
        """Find the organisers; start empty."""
        self.assembly_rows_: list[int] = []
        super().setup(model)

    def start(self) -> None:
        """Found the first assemblies and schedule meetings and recruitment."""
        for row in self.homes_.tolist():
            self._found(row)
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
        model.neighborhoods.protest_threshold_shift[row] -= self.threshold_drop
        if others and self.link_weight > 0:
            m = model.n_nodes
            rows = np.array([row] * len(others) + others)
            cols = np.array(others + [row] * len(others))
            new = sp.csr_array((np.full(len(rows), self.link_weight), (rows, cols)), shape=(m, m))
            model.links = sp.csr_array(model.links + new)
        self.log("assembly_founded", node=model.node_ids[row], assemblies=len(self.assembly_rows_))

    def spread(self) -> None:
        """Each organiser's network recruits one more neighbourhood."""
        model = self.model
        limit = self.max_assemblies * len(self.holders_)
        for _ in range(len(self.holders_)):
            if len(self.assembly_rows_) >= limit:
                return
            adj = model.adjacency
            near = np.unique(
                np.concatenate(
                    [adj.indices[adj.indptr[r] : adj.indptr[r + 1]] for r in self.assembly_rows_]
                )
            )
            near = near[~np.isin(near, self.assembly_rows_) & (model.residents[near] > 0)]
            if near.size == 0:
                return
            concern = np.bincount(
                model.citizens.home, weights=model.citizens.concern, minlength=model.n_nodes
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
        concerned = c.concern[attend] >= model.params.protest_concern_min
        homes = c.home[attend]
        yes = np.bincount(homes, weights=concerned, minlength=model.n_nodes)
        present = np.bincount(homes, minlength=model.n_nodes)
        for row in self.assembly_rows_:
            if present[row]:
                self.log(
                    "assembly_vote",
                    node=model.node_ids[row],
                    against=bool(yes[row] > present[row] / 2),
                    share_against=float(yes[row] / present[row]),
                    attendance=int(present[row]),
                )


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

    start_day: int = parameter(1, unit="day", low=1, doc="day development starts")
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
    demo_concern_gain: float = parameter(
        0.05,
        unit="share of 1 - concern",
        low=0.0,
        high=1.0,
        doc="concern gained by the demonstration's audience",
    )
    efficacy_gain: float = parameter(
        0.05,
        unit="share",
        low=0.0,
        high=1.0,
        doc="drop of the audience's protest thresholds",
        source="mechanism: van Zomeren et al. 2008; value: assumption",
    )
    deploy_delay_days: int = parameter(
        14, unit="days", low=0, doc="days from demonstration to deployment"
    )
    deploy_sites: int = parameter(3, unit="nodes", low=1, doc="biodiverse nodes seeded")
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
            prob = catchment(model, self.homes_, rate=0.3, radius=1)
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


@register
@dataclass
class Artist(RoleScenario):
    """The artist turns refuse, corporate waste included, into sculptures that move people.

    Every ``collection_interval_days`` each artist collects up to
    ``kg_per_collection`` of waste — half from the home neighbourhood, half from
    corporate sources (the industrial zone's landfill and any firm's site) — and
    reuses it. Every ``sculpture_interval_days`` a sculpture is unveiled at the
    plaza: citizens see it with probability ``viewer_rate * 0.5**hops`` and gain
    ``concern_gain * (1 - c)`` — multiplied by ``critique_multiplier`` while a
    facility proposal is pending and the sculpture contains corporate waste
    (activist art, Sommer & Klöckner 2021).

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> model = CityModel(n_citizens=400, scenarios=["artist"], rng=0)
    >>> model.run_for(60)
    >>> bool(model.model_frame()["waste_reused_kg"].sum() > 0)
    True
    """

    name = "artist"
    description = "The artist turns refuse, corporate waste included, into sculptures"
    role = "artist"

    start_day: int = parameter(30, unit="day", low=1, doc="day the artist starts collecting")
    collection_interval_days: int = parameter(
        7, unit="days", low=1, doc="days between collection rounds"
    )
    kg_per_collection: float = parameter(300.0, unit="kg", low=0.0, doc="waste collected per round")
    sculpture_interval_days: int = parameter(28, unit="days", low=1, doc="days between unveilings")
    viewer_rate: float = parameter(
        0.2,
        unit="probability",
        low=0.0,
        high=1.0,
        doc="probability a resident of the plaza sees a sculpture",
    )
    concern_gain: float = parameter(
        0.05,
        unit="share of 1 - concern",
        low=0.0,
        high=1.0,
        doc="concern a viewer gains",
        source=("mechanism: Sommer & Klöckner 2021; value: assumption"),
    )
    critique_multiplier: float = parameter(
        2.0,
        unit="dimensionless",
        low=0.0,
        doc="effect multiplier of corporate waste while a proposal is pending",
    )

    def start(self) -> None:
        """Start collecting and sculpting."""
        self.collected_kg_ = 0.0
        self.corporate_kg_ = 0.0
        day = self.model.day
        self.schedule_every(
            self.collect, start_day=day, interval_days=self.collection_interval_days
        )
        self.schedule_every(
            self.unveil,
            start_day=day + self.sculpture_interval_days,
            interval_days=self.sculpture_interval_days,
        )

    def _corporate_rows(self) -> np.ndarray:
        model = self.model
        sites = [c.site for c in model.corporations if c.site is not None]
        return np.unique(
            np.concatenate([np.flatnonzero(model.landfill), np.asarray(sites, dtype=np.int64)])
        )

    def collect(self) -> None:
        """Collect refuse from home and from corporate sources."""
        model = self.model
        per = self.kg_per_collection * len(self.holders_) / 2
        homes = self.homes_
        home_kg = model.reuse_waste(per / len(homes), [model.node_ids[r] for r in homes])
        corp = self._corporate_rows()
        corp_kg = model.reuse_waste(per / max(len(corp), 1), [model.node_ids[r] for r in corp])
        self.collected_kg_ += home_kg + corp_kg
        self.corporate_kg_ += corp_kg

    def unveil(self) -> None:
        """Unveil a sculpture at the plaza."""
        model = self.model
        c = model.citizens
        plaza = plaza_rows(model)
        prob = catchment(model, plaza, rate=self.viewer_rate, decay=0.7, radius=6)
        viewers = np.flatnonzero(model.rng.random(len(prob)) < prob)
        critique = proposal_pending(model) and self.corporate_kg_ > 0
        gain = self.concern_gain * (self.critique_multiplier if critique else 1.0)
        model.nudge_concern(viewers, min(gain, 1.0) * (1.0 - c.concern[viewers]))
        self.log(
            "sculpture_unveiled",
            node=model.node_ids[int(plaza[0])],
            waste_kg=self.collected_kg_,
            corporate_waste_kg=self.corporate_kg_,
            viewers=len(viewers),
            critique=critique,
        )
        self.collected_kg_ = 0.0
        self.corporate_kg_ = 0.0


class _Composite(Scenario):
    """A scenario that installs several others (parts) and switches them off together."""

    parts: ClassVar[tuple[type[Scenario], ...]] = ()

    def validate(self, model: CityModel) -> None:
        """Check every part before any is installed, so a failure installs nothing.

        Refuses a part that is installed already (it would act twice) and runs each
        part's own parameter checks and :meth:`validate` against the model.
        """
        installed = {s.name for s in model.scenarios}
        for part in self.parts:
            if part.name in installed:
                raise ValueError(
                    f"scenario {self.name!r} installs {part.name!r}, which is "
                    f"installed already; remove {part.name!r} or {self.name!r} "
                    "(or install the parts one by one)"
                )
        self._pending = [part() for part in self.parts]
        for part in self._pending:
            part._check_parameter_types()
            part.validate(model)

    def setup(self, model: CityModel) -> None:
        """Install the parts with their defaults; if one still fails, remove those installed."""
        self.parts_: list[Scenario] = []
        try:
            for part in self._pending:
                self.parts_.append(model.add_scenario(part))
        except Exception:
            for part in self.parts_:
                part.switch_off()
                model.scenarios.remove(part)
            self.parts_ = []
            raise

    def switch_off(self) -> None:
        """Switch off every part, then this."""
        for part in getattr(self, "parts_", []):
            part.switch_off()
        super().switch_off()


@register
@dataclass
class StoryRoles(_Composite):
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
