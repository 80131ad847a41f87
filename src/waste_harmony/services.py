"""What agents, rules and scenarios may read and call on the model: :class:`CityServices`.

The model (:class:`waste_harmony.CityModel`) is the composition root: it builds the
city, the citizens, the agents, the pipeline of rules and the scenarios, and it
owns the clock, the random generator and the records. Everything below it —
:mod:`waste_harmony.agents`, :mod:`waste_harmony.rules`, :mod:`waste_harmony.pipeline`,
:mod:`waste_harmony.scenarios` — sees the model only through the protocol declared
here (in the spirit of Mesa's ``HasCellProtocol``): they type their ``model``
argument as :class:`CityServices` and never import :mod:`waste_harmony.model`.
So this module is the one list of what a rule or a scenario may rely on; adding a
service means adding it here (documented) and to ``CityModel``, and
``tests/test_architecture.py`` checks that nobody reaches around it.

Read-only members are declared as properties; columns (``citizens``,
``neighborhoods``) are :class:`~waste_harmony.tables.StateTable` objects whose
arrays rules update in place. State that is not a column changes only through a
method (``gather``, ``add_links``, ``nudge_concern``, ``reuse_waste``, …).

Examples
--------
>>> from waste_harmony import CityModel
>>> from waste_harmony.services import CityServices
>>> def crowd(model: CityServices) -> int:
...     return int((model.citizens.gathering >= 0).sum())
>>> crowd(CityModel(n_citizens=50, rng=0))
0
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np
    import scipy.sparse as sp

    from waste_harmony.dynamics.diffusion import ImplicitDiffusion
    from waste_harmony.parameters import Parameters
    from waste_harmony.pipeline import Pipeline
    from waste_harmony.recording import Event
    from waste_harmony.tables import RowGroups, StateTable

__all__ = ["CityServices", "CorporationView", "HookedCitizen"]


class CorporationView(Protocol):
    """What lower layers read of a firm (:class:`waste_harmony.Corporation`)."""

    @property
    def name(self) -> str:
        """The firm's name."""
        ...

    @property
    def status(self) -> str:
        """``"none"``, ``"proposed"``, ``"built"`` or ``"withdrawn"``."""
        ...

    @property
    def site(self) -> int | None:
        """Node row of the facility's site, or ``None`` before a proposal."""
        ...


class HookedCitizen(Protocol):
    """A citizen agent whose class overrides a per-agent hook (see ``hooked_citizens``)."""

    @property
    def row(self) -> int:
        """The citizen's row in ``model.citizens``."""
        ...

    def recycling_probability(self) -> float:
        """Today's recycling probability of this citizen (the hook)."""
        ...


class CityServices(Protocol):
    """The services a model offers to agents, rules and scenarios.

    :class:`waste_harmony.CityModel` satisfies this protocol (checked by mypy in
    ``tests/test_architecture.py``); a stand-in model for a unit test only needs the
    members its subject uses.
    """

    # ------------------------------------------------------------------ clock and randomness
    @property
    def rng(self) -> np.random.Generator:
        """The model's random generator: all randomness of rules and scenarios comes from it."""
        ...

    @property
    def time(self) -> float:
        """Mesa's model time (day ``d`` runs from ``d - 1`` to ``d``; events at ``d - 0.5``)."""
        ...

    @property
    def day(self) -> int:
        """The current day: the last day simulated, or the day about to be (during events)."""
        ...

    @property
    def days(self) -> int | None:
        """Planned run length (a hint given as ``CityModel(days=...)``), or ``None``."""
        ...

    def schedule_event(self, function: Callable[..., Any], *, at: float) -> Any:
        """Run ``function`` once at model time ``at``; return Mesa's event (``.cancel()``)."""
        ...

    def schedule_recurring(self, function: Callable[..., Any], schedule: Any) -> Any:
        """Run ``function`` on a :class:`mesa.time.Schedule`; return the generator (``.stop()``)."""
        ...

    # ------------------------------------------------------------------ parameters and city
    @property
    def params(self) -> Parameters:
        """The behaviour parameters (:class:`~waste_harmony.parameters.Parameters`)."""
        ...

    @property
    def n_citizens(self) -> int:
        """Number of citizens (rows of ``citizens``)."""
        ...

    @property
    def n_nodes(self) -> int:
        """Number of city nodes (rows of ``neighborhoods``)."""
        ...

    @property
    def node_ids(self) -> list[Hashable]:
        """Node ids of the city graph in row order."""
        ...

    def node_index(self, node: Hashable) -> int:
        """Row of a node id; :class:`KeyError` naming the node if it is not in the city."""
        ...

    @property
    def adjacency(self) -> sp.csr_array:
        """Street adjacency, ``(n_nodes, n_nodes)``, sorted CSR."""
        ...

    @property
    def degree(self) -> np.ndarray:
        """Number of street neighbours of each node."""
        ...

    @property
    def lengths_km(self) -> sp.csr_array:
        """Street lengths (km) on the adjacency's pattern, for distances in km."""
        ...

    def outing_destinations(self) -> sp.csr_array:
        """Nodes within ``params.outing_km`` street km of each node, valued by area (km²)."""
        ...

    @property
    def laplacian(self) -> sp.csr_array:
        """Finite-volume diffusion operator for concentrations (pollution), 1/km²."""
        ...

    @property
    def dispersal_laplacian(self) -> sp.csr_array:
        """Finite-volume diffusion operator for amounts per cell (organism biomass), 1/km²."""
        ...

    @property
    def pollution_diffusion_step(self) -> ImplicitDiffusion:
        """A day of pollution diffusion (backward Euler), factorised for the D in force."""
        ...

    @property
    def organism_dispersal_step(self) -> ImplicitDiffusion:
        """A day of organism dispersal (backward Euler), factorised for the D in force."""
        ...

    @property
    def positions(self) -> np.ndarray:
        """Node positions (km), shape ``(n_nodes, 2)``, in row order."""
        ...

    @property
    def landfill(self) -> np.ndarray:
        """Boolean mask of the nodes where collected waste goes (the industrial zone)."""
        ...

    @property
    def links(self) -> sp.csr_array:
        """Protest network: street adjacency plus links added by :meth:`add_links`."""
        ...

    def add_links(self, rows: Any, others: Any, weight: float | np.ndarray = 1.0) -> None:
        """Link node ``rows[i]`` with ``others[i]`` in the protest network, both directions."""
        ...

    # ------------------------------------------------------------------ state columns
    @property
    def citizens(self) -> StateTable:
        """Citizen columns (``home``, ``location``, ``concern``, ``gathering``, …)."""
        ...

    @property
    def neighborhoods(self) -> StateTable:
        """Node columns (``waste_stock_kg``, ``pollution``, ``habitat``, …), one row per node."""
        ...

    @property
    def residents(self) -> np.ndarray:
        """Resident citizens per node (float), in row order."""
        ...

    @property
    def population(self) -> float:
        """People the citizens stand for, in all (``n_citizens`` unless given)."""
        ...

    @property
    def people(self) -> np.ndarray:
        """People per node whom its citizens stand for (float), in row order."""
        ...

    @property
    def people_per_citizen(self) -> np.ndarray:
        """People each of a node's citizens stands for (0 where no citizen lives)."""
        ...

    def citizen_mean(self, values: np.ndarray) -> float:
        """Mean of a per-citizen column over the people the citizens stand for."""
        ...

    @property
    def homes(self) -> RowGroups:
        """Each node's residents as one run of citizen rows (``homes.means(column)``)."""
        ...

    def hooked_citizens(self, hook: str) -> Sequence[HookedCitizen]:
        """Citizen agents whose class overrides the per-agent hook ``hook`` (often empty)."""
        ...

    def vectorised_overrides(self, name: str) -> Sequence[tuple[type[Any], np.ndarray]]:
        """Citizen classes overriding the vectorised hook ``name``, with their rows."""
        ...

    def nudge_concern(self, rows: np.ndarray | slice, delta: float | np.ndarray) -> None:
        """Shift the concern of the citizens ``rows`` by ``delta``, kept in [0, 1]."""
        ...

    def gather(
        self,
        rows: np.ndarray | slice,
        node: Hashable | None = None,
        *,
        node_rows: np.ndarray | None = None,
    ) -> None:
        """Bring citizens to a node (id ``node``, or per citizen ``node_rows``) for today."""
        ...

    # ------------------------------------------------------------------ waste and organism
    def account_waste(
        self,
        *,
        generated: float = 0.0,
        recycled: float = 0.0,
        reused: float = 0.0,
        consumed: float = 0.0,
    ) -> None:
        """Add to today's waste accounts (kg); every rule that moves waste reports here."""
        ...

    def reuse_waste(
        self, amounts: np.ndarray | float, nodes: Hashable | Sequence[Hashable] | None = None
    ) -> float:
        """Take waste from node stocks into art (accounted as reused); return kg taken."""
        ...

    def consume_waste(
        self, amounts: np.ndarray | float, nodes: Hashable | Sequence[Hashable] | None = None
    ) -> float:
        """Take waste from node stocks as consumed (organism, biotech); return kg taken."""
        ...

    def recycle_waste(
        self, amounts: np.ndarray | float, nodes: Hashable | Sequence[Hashable] | None = None
    ) -> float:
        """Take waste from node stocks as recycled (a depot, a round); return kg taken."""
        ...

    def deploy_organism(self, node: Hashable, biomass_kg: float) -> None:
        """Release organism biomass at a node (logs ``organism_deployed``)."""
        ...

    def sync_colonies(self) -> None:
        """Create organism agents where biomass colonised a node, remove them where it died out."""
        ...

    # ------------------------------------------------------------------ firms and grievances
    @property
    def corporations(self) -> Sequence[CorporationView]:
        """All firms (:class:`~waste_harmony.Corporation` agents)."""
        ...

    @property
    def grievances(self) -> AbstractSet[str]:
        """Open grievances; while any is open, concerned citizens may protest."""
        ...

    def open_grievance(self, name: str) -> None:
        """Open a grievance (e.g. ``"facility:TechCore"``)."""
        ...

    def close_grievance(self, name: str) -> None:
        """Close a grievance opened by :meth:`open_grievance`."""
        ...

    # ------------------------------------------------------------------ records
    def log_event(self, kind: str, node: Hashable | None = None, **details: Any) -> None:
        """Append an event dated today to the event log."""
        ...

    def events(self, kind: str, *, since_day: int | None = None) -> list[Event]:
        """Logged events of one kind, in order, optionally from ``since_day`` (indexed)."""
        ...

    def series(self, name: str, *, since_day: int = 0) -> np.ndarray:
        """Recorded daily values of a model variable from ``since_day`` to the latest day."""
        ...

    # ------------------------------------------------------------------ rules and scenarios
    @property
    def pipeline(self) -> Pipeline:
        """The day's rules in order (scenarios add theirs with ``Scenario.add_rule``)."""
        ...

    @property
    def scenarios(self) -> list[Any]:
        """Installed scenarios, in installation order."""
        ...

    def add_scenario(self, scenario: Any) -> Any:
        """Install a scenario (instance, class or registered name); return the instance."""
        ...

    def scenario_named(self, name: str) -> Any:
        """The installed scenario called ``name`` (:class:`KeyError` if none)."""
        ...

    def set_parameters(
        self,
        changes: Mapping[str, Any] | None = None,
        /,
        *,
        source: str = "set_parameters",
        **more: Any,
    ) -> None:
        """Change parameters mid-run: validated, logged and recorded as interventions."""
        ...
