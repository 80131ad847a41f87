"""What the four role scenarios share: :class:`RoleScenario` and :func:`catchment`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from waste_harmony.scenarios.base import Scenario
from waste_harmony.scenarios.places import distance_decay, distance_km, role_rows

if TYPE_CHECKING:
    from waste_harmony.services import CityServices

__all__ = ["RoleScenario", "catchment"]


def catchment(
    model: CityServices,
    rows: Any,
    *,
    rate: float,
    halving_km: float = 0.5,
    radius_km: float = 1.5,
) -> np.ndarray:
    """Per-citizen daily probability of visiting one of ``rows``.

    ``rate * 0.5 ** (d / halving_km)`` within ``radius_km`` of street distance
    ``d`` from home (negative-exponential distance decay of trips, Iacono, Krizek
    & El-Geneidy 2010; see :func:`~waste_harmony.scenarios.places.distance_decay`).
    The defaults are 3 hops of the default 0.5 km grid, halving per hop.

    Parameters
    ----------
    model : CityServices
        The model.
    rows : array of int
        Node rows of the attraction(s).
    rate : float
        Probability for residents of the attraction's node.
    halving_km : float
        Distance (km) over which the probability halves.
    radius_km : float
        No visits from beyond this street distance (km).

    Returns
    -------
    numpy.ndarray, shape (n_citizens,)
        Probabilities.
    """
    d = distance_km(model, rows, limit=radius_km)
    per_node = rate * distance_decay(d, halving_km=halving_km, radius_km=radius_km)
    return per_node[model.citizens.home]


class RoleScenario(Scenario):
    """Base of scenarios acting through the holders of one story role.

    Subclasses set ``role`` and implement :meth:`start`, scheduled on ``start_day``
    when at least one citizen holds the role.
    """

    #: The story role whose holders act (a name of :data:`waste_harmony.parameters.ROLE_NAMES`).
    role: ClassVar[str] = ""
    #: Day the role holders start (each subclass declares it as a parameter).
    start_day: int

    def validate(self, model: CityServices) -> None:
        """Check the start day against the run."""
        self.check_day("start_day", self.start_day, model)

    def setup(self, model: CityServices) -> None:
        """Find the role holders and schedule :meth:`start` (or log their absence)."""
        self.holders_ = role_rows(model, self.role)
        self.homes_ = np.unique(model.citizens.home[self.holders_])
        if self.holders_.size == 0:
            self.log("role_absent", role=self.role)
            return
        self.schedule(self.start, day=self.start_day)

    def start(self) -> None:  # pragma: no cover - overridden
        """Begin the role's activity (override)."""
