"""The ecological designer's immersive installation (``"eco-designer"``).

References
----------
.. [1] Sommer, L. K. & Klöckner, C. A. (2021). Does activist art have the capacity
   to raise awareness in audiences? A study on climate change art at the ArtCOP21
   event in Paris. *Psychology of Aesthetics, Creativity, and the Arts* 15(1), 60–75.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from waste_harmony.scenarios.base import days, share
from waste_harmony.scenarios.places import nearest
from waste_harmony.scenarios.registry import register
from waste_harmony.scenarios.roles.base import RoleScenario, catchment

if TYPE_CHECKING:
    from waste_harmony.services import CityServices

__all__ = ["EcoDesigner"]


@register
@dataclass
class EcoDesigner(RoleScenario):
    """The ecological designer's immersive installation: visitors' concern rises.

    Each designer opens an installation at her home node on ``start_day``; every day
    until it closes, citizens visit with probability ``visit_rate * 0.5 ** (d / 0.5 km)``
    (within 1.5 km of street distance ``d``), spend the day there and gain
    ``concern_gain * (1 - c)``
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

    start_day: int = days(65, unit="day", doc="day the installation opens")
    duration_days: int = days(365, doc="days it stays open")
    visit_rate: float = share(
        0.03, unit="probability per day", doc="daily visit probability of residents of its node"
    )
    concern_gain: float = share(
        0.08,
        unit="share of 1 - concern",
        doc="concern a visitor gains",
        source="mechanism: Sommer & Klöckner 2021; value: assumption",
    )

    def start(self) -> None:
        """Open the installation(s)."""
        self._visit = catchment(self.model, self.homes_, rate=self.visit_rate)
        _, venue = nearest(self.model, self.homes_)
        self._venue = np.where(venue >= 0, venue, self.homes_[0])
        self.add_rule("installation_visits", self._visits, before="meet")
        for row in self.homes_.tolist():
            self.log("installation_opened", node=self.model.node_ids[row])
        self.schedule(self.close, day=self.model.day + self.duration_days)

    def _visits(self, model: CityServices) -> None:
        c = model.citizens
        visitors = np.flatnonzero(
            (model.rng.random(len(self._visit)) < self._visit) & (c.gathering < 0)
        )
        model.gather(visitors, node_rows=self._venue[c.home[visitors]])
        model.nudge_concern(visitors, self.concern_gain * (1.0 - c.concern[visitors]))

    def close(self) -> None:
        """Close the installation(s)."""
        self.remove_rule("installation_visits")
        self.log("installation_closed")
