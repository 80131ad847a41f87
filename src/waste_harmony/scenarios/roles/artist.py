"""The artist's waste sculptures, corporate waste included (``"artist"``).

References
----------
.. [1] Sommer, L. K. & Klöckner, C. A. (2021). Does activist art have the capacity
   to raise awareness in audiences? A study on climate change art at the ArtCOP21
   event in Paris. *Psychology of Aesthetics, Creativity, and the Arts* 15(1), 60–75.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from waste_harmony.scenarios.base import amount, days, share
from waste_harmony.scenarios.festival import proposal_pending
from waste_harmony.scenarios.places import plaza_rows
from waste_harmony.scenarios.registry import register
from waste_harmony.scenarios.roles.base import RoleScenario, catchment

__all__ = ["Artist"]


@register
@dataclass
class Artist(RoleScenario):
    """The artist turns refuse, corporate waste included, into sculptures that move people.

    Every ``collection_interval_days`` each artist collects up to
    ``kg_per_collection`` of waste — half from the home neighbourhood, half from
    corporate sources (the industrial zone's landfill and any firm's site) — and
    reuses it. Every ``sculpture_interval_days`` a sculpture is unveiled at the
    plaza: citizens see it with probability ``viewer_rate * 0.5 ** (d / 0.97 km)``
    within 3 km of street distance ``d`` (0.7 per 0.5 km hop of the default grid) and gain
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

    start_day: int = days(30, unit="day", doc="day the artist starts collecting")
    collection_interval_days: int = days(7, doc="days between collection rounds")
    kg_per_collection: float = amount(300.0, unit="kg", doc="waste collected per round")
    sculpture_interval_days: int = days(28, doc="days between unveilings")
    viewer_rate: float = share(
        0.2, unit="probability", doc="probability a resident of the plaza sees a sculpture"
    )
    concern_gain: float = share(
        0.05,
        unit="share of 1 - concern",
        doc="concern a viewer gains",
        source="mechanism: Sommer & Klöckner 2021; value: assumption",
    )
    critique_multiplier: float = amount(
        2.0,
        unit="dimensionless",
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
        prob = catchment(model, plaza, rate=self.viewer_rate, halving_km=0.97, radius_km=3.0)
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
