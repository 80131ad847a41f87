"""Corporations: firms that propose, build or withdraw facilities."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mesa import Agent

if TYPE_CHECKING:
    from waste_harmony.services import CityServices

__all__ = ["FACILITY_STATES", "Corporation"]

#: Possible states of a corporation's facility, as recorded in ``facility_status``.
FACILITY_STATES: tuple[str, ...] = ("none", "proposed", "built", "withdrawn")


class Corporation(Agent):
    """A firm that may site a facility in the city.

    The mechanics of a facility live here — proposing opens a grievance that lets
    citizens protest; building destroys habitat at the site and adds pollution and
    waste sources; withdrawing closes the grievance. *Whether* to build is a
    decision rule supplied by a scenario (for example
    :class:`waste_harmony.scenarios.TechCoreProposal`), never scripted here.

    Parameters
    ----------
    model : CityServices
        The model.
    name : str
        The firm's name (used in the event log).
    emission_per_day : float
        Pollution the facility adds at its site once built (µg/m³ per day).
    waste_kg_per_day : float
        Waste the facility produces at its site once built (kg per day).
    habitat_loss : float
        Share of the site's habitat destroyed by construction, in [0, 1].

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> model = CityModel(n_citizens=100, rng=0)
    >>> firm = Corporation(model, "Acme", emission_per_day=2.0, waste_kg_per_day=500.0)
    >>> firm.propose(model.node_ids[0]); model.facility_status
    'proposed'
    >>> firm.withdraw(); model.facility_status
    'withdrawn'
    """

    def __init__(
        self,
        model: CityServices,
        name: str,
        *,
        emission_per_day: float = 0.0,
        waste_kg_per_day: float = 0.0,
        habitat_loss: float = 0.9,
    ) -> None:
        super().__init__(model)
        for label, value in (
            ("emission_per_day", emission_per_day),
            ("waste_kg_per_day", waste_kg_per_day),
        ):
            if value < 0:
                raise ValueError(f"{label} must be >= 0, got {value}")
        if not 0.0 <= habitat_loss <= 1.0:
            raise ValueError(f"habitat_loss must be in [0, 1], got {habitat_loss}")
        self.name = name
        self.emission_per_day = float(emission_per_day)
        self.waste_kg_per_day = float(waste_kg_per_day)
        self.habitat_loss = float(habitat_loss)
        self.status = "none"
        self.site: int | None = None

    @property
    def site_node(self) -> Any:
        """Id of the site's node in the city graph, or ``None``."""
        return None if self.site is None else self.model.node_ids[self.site]

    @property
    def grievance(self) -> str:
        """Name of the grievance this firm's proposal opens."""
        return f"facility:{self.name}"

    def propose(self, node: Any) -> None:
        """Announce a facility at ``node``: status becomes ``"proposed"``.

        Parameters
        ----------
        node : hashable
            Node id of the site.

        Raises
        ------
        ValueError
            If the firm already has a proposal or facility.
        """
        if self.status in ("proposed", "built"):
            raise ValueError(f"{self.name} already has a {self.status} facility")
        self.site = self.model.node_index(node)
        self.status = "proposed"
        self.model.open_grievance(self.grievance)
        self.model.log_event("facility_proposed", node=node, corporation=self.name)

    def build(self) -> None:
        """Build the proposed facility: habitat loss, new pollution and waste sources."""
        if self.status != "proposed":
            raise ValueError(
                f"{self.name} can only build a proposed facility (status {self.status})"
            )
        hoods = self.model.neighborhoods
        site = self.site
        lost = hoods.habitat[site] * self.habitat_loss
        hoods.habitat[site] -= lost
        hoods.extra_emission[site] += self.emission_per_day
        hoods.extra_waste_kg[site] += self.waste_kg_per_day
        self.status = "built"
        self.model.close_grievance(self.grievance)
        self.model.log_event(
            "facility_built",
            node=self.site_node,
            corporation=self.name,
            habitat_lost_share=self.habitat_loss,
        )

    def withdraw(self) -> None:
        """Withdraw the proposal."""
        if self.status != "proposed":
            raise ValueError(f"{self.name} can only withdraw a proposal (status {self.status})")
        self.status = "withdrawn"
        self.model.close_grievance(self.grievance)
        self.model.log_event("facility_withdrawn", node=self.site_node, corporation=self.name)
