"""The Harmony Festival: an annual gathering at the plaza that mixes the city.

Once a year (``day``, then every ``interval_days``) the city gathers at its plaza
node(s):

* **Attendance.** Each citizen attends with probability
  ``attendance * (0.25 + 0.75 * concern) * 0.5 ** (d / distance_halving_km)``
  with ``d`` the street distance (km) from home to the nearest plaza — the
  concerned come more readily, and distance deters. The negative-exponential
  decay of participation with travel distance is the standard form of spatial
  interaction (Wilson 1971; Haynes & Fotheringham 1984) and the one fitted to
  walking and cycling trips by distance (Iacono, Krizek & El-Geneidy 2010);
  being in km, it does not depend on how finely the city is cut. Attendees spend
  the day at the plaza, so they meet people from across the city rather than
  their neighbours.
* **Exhibits** raise the concern of attendees, ``c += concern_gain * (1 - c)``:
  collective gatherings strengthen shared beliefs and identity ("collective
  effervescence", Durkheim 1912; measured by Páez et al. 2015). They also make
  the recycling norm salient in the neighbourhoods attendees come from
  (descriptive-norm interventions, Cialdini, Reno & Kallgren 1990; Schultz et al.
  2007): that day the recycling share citizens observe rises by
  ``norm_gain * attending share * (1 - norm)``.
* **Waste art.** The exhibits are made of refuse: ``exhibit_waste_kg`` are taken
  from the city's waste stocks, in proportion to each stock (so mostly from the
  landfill), and reused.
* **Rally.** If a facility proposal is pending, concerned attendees (concern at
  least the model's ``protest_concern_min``) join a rally with probability
  ``rally_share``: they count as protesters that day, which seeds the next day's
  protest cascade (a mass gathering lowers the cost of joining, Granovetter 1978;
  McAdam 1986). With the model's ``cohorts`` (the default) each attendee stands for a
  cohort, of whose people the share ``rally_share`` rallies.

Events: ``festival`` (attendance, waste reused) and ``rally``.

References
----------
.. [1] Durkheim, É. (1912). *Les formes élémentaires de la vie religieuse*. Paris: Alcan.
.. [2] Páez, D., Rimé, B., Basabe, N., Wlodarczyk, A. & Zumeta, L. (2015).
   Psychosocial effects of perceived emotional synchrony in collective gatherings.
   *J. Personality and Social Psychology* 108(5), 711–729.
.. [3] Cialdini, R. B., Reno, R. R. & Kallgren, C. A. (1990). A focus theory of
   normative conduct. *J. Personality and Social Psychology* 58(6), 1015–1026.
.. [4] Schultz, P. W., Nolan, J. M., Cialdini, R. B., Goldstein, N. J. &
   Griskevicius, V. (2007). The constructive, destructive, and reconstructive power
   of social norms. *Psychological Science* 18(5), 429–434.
.. [5] Haynes, K. E. & Fotheringham, A. S. (1984). *Gravity and Spatial Interaction
   Models*. Sage.
.. [6] McAdam, D. (1986). Recruitment to high-risk activism: the case of Freedom
   Summer. *American J. Sociology* 92(1), 64–90.
.. [7] Wilson, A. G. (1971). A family of spatial interaction models, and associated
   developments. *Environment and Planning A* 3(1), 1–32.
.. [8] Iacono, M., Krizek, K. J. & El-Geneidy, A. (2010). Measuring non-motorized
   accessibility: issues, alternatives, and execution. *J. Transport Geography*
   18(1), 133–140.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from waste_harmony.city import missing_node_hint
from waste_harmony.scenarios.base import Scenario, amount, days, parameter, share
from waste_harmony.scenarios.places import distance_decay, nearest, plaza_rows
from waste_harmony.scenarios.registry import register

if TYPE_CHECKING:
    from waste_harmony.services import CityServices

__all__ = ["HarmonyFestival", "proposal_pending"]


def proposal_pending(model: CityServices) -> bool:
    """Whether any firm has a facility proposal pending.

    Parameters
    ----------
    model : CityServices
        The model.

    Returns
    -------
    bool
        ``True`` while a proposal awaits its decision.
    """
    return any(c.status == "proposed" for c in model.corporations)


@register
@dataclass
class HarmonyFestival(Scenario):
    """The annual Harmony Festival at the plaza: mixing, exhibits, waste art, rallies.

    See the module docstring for the rules and their sources.

    Parameters
    ----------
    day : int
        Day of the first festival.
    interval_days : int
        Days between festivals (365: annual).
    plaza : node id or None
        Where it takes place; ``None`` uses the plaza zone (or the most central node).
    attendance : float
        Attendance probability of a fully concerned citizen living at the plaza.
    distance_halving_km : float
        Street distance (km) from home to the plaza over which attendance halves.
    concern_gain : float
        Share of the remaining concern ``1 - c`` an attendee gains.
    norm_gain : float
        Salience of the recycling norm on the festival day.
    exhibit_waste_kg : float
        Waste reused in the festival's art exhibits.
    rally_share : float
        Probability that a concerned attendee joins a rally when a proposal is pending.

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> model = CityModel(n_citizens=500, scenarios=["harmony-festival"], rng=2)
    >>> model.run_for(121)
    >>> festival = model.event_log.of_kind("festival")[0]
    >>> festival.day, festival.details["attendance"] > 0
    (120, True)
    """

    name = "harmony-festival"
    description = (
        "The annual Harmony Festival at the plaza: citizens from across the city "
        "meet, exhibits raise concern and norms, waste art, rallies"
    )

    day: int = days(120, unit="day", doc="day of the first festival")
    interval_days: int = days(365, doc="days between festivals")
    plaza: Any = parameter(None, doc="node id of the festival ground, or None for the plaza")  # noqa: RUF009
    attendance: float = share(
        0.5,
        unit="probability",
        doc="attendance probability of a fully concerned citizen living at the plaza",
    )
    distance_halving_km: float = parameter(
        1.55,
        unit="km",
        low=1e-6,
        high=1000.0,
        doc="street distance from home to the plaza over which attendance halves",
        source=(
            "mechanism: negative-exponential distance decay, Wilson 1971, Haynes & "
            "Fotheringham 1984, Iacono et al. 2010; value: assumption (0.8 per 0.5 km "
            "hop of the default grid)"
        ),
    )
    concern_gain: float = share(
        0.12,
        unit="share of 1 - concern",
        doc="concern gained by attendees",
        source="mechanism: Páez et al. 2015; value: assumption",
    )
    norm_gain: float = share(
        0.2,
        unit="share",
        doc="salience of the recycling norm on the festival day",
        source="mechanism: Schultz et al. 2007; value: assumption",
    )
    exhibit_waste_kg: float = amount(
        2000.0, unit="kg", doc="waste reused by the festival's art exhibits"
    )
    rally_share: float = share(
        0.5,
        unit="probability",
        doc="probability a concerned attendee joins a rally when a proposal is pending",
        source="mechanism: McAdam 1986; value: assumption",
    )

    def validate(self, model: CityServices) -> None:
        """Check the festival day against the run and the plaza node."""
        self.check_day("day", self.day, model)
        if self.plaza is not None:
            try:
                model.node_index(self.plaza)
            except KeyError:
                hint = missing_node_hint(self.plaza, model.node_ids)
                raise ValueError(
                    f"scenario 'harmony-festival': plaza {self.plaza!r} is not a "
                    f"node of the city{hint}; give a node id or None"
                ) from None

    def setup(self, model: CityServices) -> None:
        """Find the festival ground and schedule the festivals."""
        plazas = (
            np.array([model.node_index(self.plaza)])
            if self.plaza is not None
            else plaza_rows(model)
        )
        self.plaza_rows_ = plazas
        distance, venue = nearest(model, plazas)
        # Unreachable nodes keep their own nearest-by-row venue; they never attend.
        self._venue = np.where(venue >= 0, venue, plazas[0])
        self._reach = distance_decay(
            distance, halving_km=self.distance_halving_km, radius_km=np.inf
        )
        self.attendees_ = np.zeros(0, dtype=np.int64)
        self.last_day_: int | None = None
        self._rally = np.zeros(0, dtype=np.int64)
        self._rally_level = 1.0
        self.add_rule("festival_rally", self._hold_rally, after="protest")
        self.schedule_every(self.hold, start_day=self.day, interval_days=self.interval_days)

    def next_day(self, after: int) -> int | None:
        """The first festival day on or after ``after`` (``None`` once switched off).

        Parameters
        ----------
        after : int
            A day.

        Returns
        -------
        int or None
            The festival day.
        """
        if not self.active:
            return None
        if after <= self.day:
            return self.day
        k = -(-(after - self.day) // self.interval_days)
        return self.day + k * self.interval_days

    def hold(self) -> None:
        """Hold the festival today."""
        model = self.model
        c, hoods, rng = model.citizens, model.neighborhoods, model.rng
        prob = self.attendance * (0.25 + 0.75 * c.concern) * self._reach[c.home]
        attendees = np.flatnonzero(rng.random(len(prob)) < prob)
        self.attendees_ = attendees
        self.last_day_ = model.day
        model.gather(attendees, node_rows=self._venue[c.home[attendees]])
        model.nudge_concern(attendees, self.concern_gain * (1.0 - c.concern[attendees]))
        share = np.divide(
            np.bincount(c.home[attendees], minlength=model.n_nodes),
            model.residents,
            out=np.zeros(model.n_nodes),
            where=model.residents > 0,
        )
        norm = hoods.recycling_norm
        norm += self.norm_gain * share * (1.0 - norm)
        stock = hoods.waste_stock_kg
        total = float(stock.sum())
        reused = 0.0
        if self.exhibit_waste_kg > 0 and total > 0:
            reused = model.reuse_waste(stock * min(1.0, self.exhibit_waste_kg / total))
        rally = 0.0
        if proposal_pending(model):
            concerned = attendees[c.concern[attendees] >= model.params.protest_concern_min]
            if model.params.cohorts:
                # Each attendee stands for a cohort: rally_share of its people rally.
                self._rally, self._rally_level = concerned, self.rally_share
            else:
                self._rally = concerned[rng.random(len(concerned)) < self.rally_share]
                self._rally_level = 1.0
            rally = len(self._rally) * self._rally_level
        venue = model.node_ids[int(self.plaza_rows_[0])]
        # Shares of the people the citizens stand for (each weighted by its node's).
        weight = model.people_per_citizen[c.home]
        people = max(model.population, 1e-300)
        self.log(
            "festival",
            node=venue,
            attendance=len(attendees),
            attendance_share=float(weight[attendees].sum() / people),
            waste_reused_kg=reused,
        )
        if rally:
            self.log(
                "rally",
                node=venue,
                protesters=rally,
                protest_share=float(weight[self._rally].sum() * self._rally_level / people),
            )

    def _hold_rally(self, model: CityServices) -> None:
        if self._rally.size:
            protesting = model.citizens.protesting
            protesting[self._rally] = np.maximum(protesting[self._rally], self._rally_level)
            self._rally = np.zeros(0, dtype=np.int64)
