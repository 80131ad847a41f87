"""The services of a CityModel that agents, rules and scenarios call.

:class:`ServicesMixin` is the part of :class:`waste_harmony.CityModel` (composed in
:mod:`waste_harmony.model`) that implements most of
:class:`waste_harmony.services.CityServices`: node lookup, per-agent hooks, waste
accounting, concern, gatherings, protest links, event and series queries, the
organism and grievances. Lower layers type their model as ``CityServices`` and never
import this module.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any, cast

import mesa
import numpy as np
import scipy.sparse as sp
from mesa.discrete_space import Network

from waste_harmony.agents import Citizen, Neighborhood, Organism, StateTable
from waste_harmony.city import missing_node_hint
from waste_harmony.parameters import Parameters
from waste_harmony.recording import Event, EventLog
from waste_harmony.services import CityServices

__all__ = ["ServicesMixin"]


class ServicesMixin(mesa.Model):
    """What agents, rules and scenarios call on a :class:`~waste_harmony.CityModel`.

    A part of ``CityModel``, not a model on its own.
    """

    # Built by BuildingMixin (model_building.py).
    node_ids: list[Any]
    n_nodes: int
    _node_index: dict[Any, int]
    neighborhoods: StateTable
    citizens: StateTable
    space: Network
    links: sp.csr_array
    _colonies: dict[int, Organism]
    _hooked: dict[str, list[Citizen]]
    _vectorised: dict[str, list[tuple[type[Citizen], np.ndarray]]]
    # Set by CityModel.__init__ (model.py).
    params: Parameters
    grievances: set[str]
    event_log: EventLog
    datacollector: mesa.DataCollector
    _accounts: dict[str, float]

    if TYPE_CHECKING:  # defined by CityModel (model.py)

        @property
        def day(self) -> int:
            """The current day."""
            ...

    # ------------------------------------------------------------------ services for rules
    def node_index(self, node: Hashable) -> int:
        """Row of a node id in the neighbourhood columns.

        Parameters
        ----------
        node : hashable
            Node id in the city graph.

        Returns
        -------
        int
            Row index.

        Raises
        ------
        KeyError
            If the node is not in the city.
        """
        try:
            return self._node_index[node]
        except (KeyError, TypeError):
            hint = missing_node_hint(node, self._node_index)
            raise KeyError(f"node {node!r} is not in the city graph{hint}") from None

    def neighborhood_at(self, node: Hashable) -> Neighborhood:
        """The :class:`Neighborhood` agent of a node.

        Parameters
        ----------
        node : hashable
            Node id.

        Returns
        -------
        Neighborhood
            Its agent.
        """
        row = self.node_index(node)
        # Mesa annotates cell keys as int tuples; a Network's cells are keyed by node id
        for agent in self.space[node].agents:  # type: ignore[index]
            if isinstance(agent, Neighborhood) and agent.row == row:
                return agent
        raise LookupError(f"node {node!r} has no Neighborhood agent")  # pragma: no cover

    def hooked_citizens(self, hook: str) -> list[Citizen]:
        """Citizens whose class overrides the per-agent hook ``hook``.

        Parameters
        ----------
        hook : str
            Hook name, e.g. ``"recycling_probability"``.

        Returns
        -------
        list of Citizen
            Empty when the hook is not overridden.
        """
        return self._hooked.get(hook, [])

    def vectorised_overrides(self, name: str) -> list[tuple[type[Citizen], np.ndarray]]:
        """Citizen classes overriding the vectorised hook ``name``, with their rows.

        Parameters
        ----------
        name : str
            Vectorised hook name, e.g. ``"recycling_probabilities"``.

        Returns
        -------
        list of (type, numpy.ndarray)
            Each class and the rows of its citizens; empty when not overridden.
        """
        return self._vectorised.get(name, [])

    def account_waste(
        self,
        *,
        generated: float = 0.0,
        recycled: float = 0.0,
        reused: float = 0.0,
        consumed: float = 0.0,
    ) -> None:
        """Add to today's waste accounts (kg). Rules that move waste must report it here.

        Parameters
        ----------
        generated, recycled, reused, consumed : float
            Kilograms.
        """
        a = self._accounts
        a["generated"] += generated
        a["recycled"] += recycled
        a["reused"] += reused
        a["consumed"] += consumed

    def _take_waste(self, amounts: np.ndarray | float, nodes: Any) -> np.ndarray:
        stock = self.neighborhoods.waste_stock_kg
        rows = np.arange(self.n_nodes) if nodes is None else self._rows_of(nodes)
        wanted = np.broadcast_to(np.asarray(amounts, dtype=np.float64), rows.shape)
        if np.any(wanted < 0) or not np.all(np.isfinite(wanted)):
            raise ValueError("waste amounts must be finite and non-negative")
        # The same node may be named twice: add its requests up before taking.
        unique, inverse = np.unique(rows, return_inverse=True)
        requested = np.bincount(inverse, weights=wanted, minlength=len(unique))
        taken = np.minimum(stock[unique], requested)
        stock[unique] -= taken
        return taken

    def _rows_of(self, nodes: Any) -> np.ndarray:
        # One node id (tuples and strings are ids too) or an iterable of ids.
        try:
            single = nodes in self._node_index
        except TypeError:  # unhashable: a list or array of ids
            single = False
        if single:
            return np.array([self._node_index[nodes]])
        return np.array([self.node_index(n) for n in nodes], dtype=np.int64)

    def reuse_waste(
        self, amounts: np.ndarray | float, nodes: Hashable | Sequence[Hashable] | None = None
    ) -> float:
        """Take waste from neighbourhood stocks into art (reused), at most what is there.

        Parameters
        ----------
        amounts : float or array
            Kilograms wanted per node.
        nodes : node id, list of node ids, or None
            Where from; ``None`` means every node (``amounts`` per node, in row order).

        Returns
        -------
        float
            Kilograms actually reused.
        """
        taken = float(self._take_waste(amounts, nodes).sum())
        self.account_waste(reused=taken)
        return taken

    def consume_waste(
        self, amounts: np.ndarray | float, nodes: Hashable | Sequence[Hashable] | None = None
    ) -> float:
        """Take waste from neighbourhood stocks as consumed (organism, biotech).

        Parameters
        ----------
        amounts : float or array
            Kilograms wanted per node.
        nodes : node id, list of node ids, or None
            Where from; ``None`` means every node.

        Returns
        -------
        float
            Kilograms actually consumed.
        """
        taken = float(self._take_waste(amounts, nodes).sum())
        self.account_waste(consumed=taken)
        return taken

    def nudge_concern(self, rows: np.ndarray | slice, delta: float | np.ndarray) -> None:
        """Shift the concern of some citizens by ``delta`` (kept in [0, 1]).

        Parameters
        ----------
        rows : array of int, boolean mask or slice
            Citizens.
        delta : float or array
            Change (negative lowers concern, e.g. corporate PR).
        """
        concern = self.citizens.concern
        concern[rows] = np.clip(concern[rows] + delta, 0.0, 1.0)

    def gather(
        self,
        rows: np.ndarray | slice,
        node: Hashable | None = None,
        *,
        node_rows: np.ndarray | None = None,
    ) -> None:
        """Bring citizens to a place for today: they meet people there instead of at home.

        Gatherings last for the day being simulated (they are cleared after it is
        recorded). Give the place either as one node id (``node``) or per citizen as
        node rows (``node_rows``, e.g. each visitor's nearest venue).

        Parameters
        ----------
        rows : array of int, boolean mask or slice
            Citizens.
        node : hashable, optional
            Node id of the gathering place of all of them.
        node_rows : array of int, optional
            Row of the gathering place of each citizen in ``rows`` (same length).

        Raises
        ------
        TypeError
            If neither or both of ``node`` and ``node_rows`` are given.

        Examples
        --------
        >>> from waste_harmony import CityModel
        >>> model = CityModel(n_citizens=10, rng=0)
        >>> model.gather([0, 1], model.node_ids[5])
        >>> model.citizens.gathering[:3].tolist()
        [5, 5, -1]
        """
        if (node is None) == (node_rows is None):
            raise TypeError("give the gathering place as node=<node id> or node_rows=<rows>")
        where = self.node_index(node) if node_rows is None else node_rows
        self.citizens.gathering[rows] = where

    def add_links(self, rows: Any, others: Any, weight: float | np.ndarray = 1.0) -> None:
        """Link pairs of neighbourhoods in the protest network, in both directions.

        Protesters observe protest across links (:func:`waste_harmony.rules.protest_step`);
        the network starts as the street adjacency. Links add up: linking a pair twice
        doubles its weight.

        Parameters
        ----------
        rows, others : array of int
            Node rows of the pairs: ``rows[i]`` is linked with ``others[i]``.
        weight : float or array
            Weight of each link (≥ 0).

        Examples
        --------
        >>> from waste_harmony import CityModel
        >>> model = CityModel(n_citizens=10, rng=0)
        >>> model.add_links([0], [99], weight=2.0)
        >>> float(model.links[0, 99]), float(model.links[99, 0])
        (2.0, 2.0)
        """
        a = np.asarray(rows, dtype=np.int64).reshape(-1)
        b = np.asarray(others, dtype=np.int64).reshape(-1)
        if a.shape != b.shape:
            raise ValueError(f"rows and others must pair up: got {a.size} rows and {b.size} others")
        w = np.broadcast_to(np.asarray(weight, dtype=np.float64), a.shape)
        if np.any(w < 0) or not np.all(np.isfinite(w)):
            raise ValueError("link weights must be finite and >= 0")
        m = self.n_nodes
        new = sp.csr_array(
            (np.concatenate([w, w]), (np.concatenate([a, b]), np.concatenate([b, a]))),
            shape=(m, m),
        )
        self.links = sp.csr_array(self.links + new)

    def events(self, kind: str, *, since_day: int | None = None) -> list[Event]:
        """Logged events of one kind, in order (an indexed query, cheap to repeat).

        Parameters
        ----------
        kind : str
            Event kind, e.g. ``"assembly_vote"``.
        since_day : int, optional
            Only events on or after this day.

        Returns
        -------
        list of Event
            The events.

        Examples
        --------
        >>> from waste_harmony import CityModel
        >>> model = CityModel(n_citizens=10, rng=0)
        >>> model.log_event("drill", node=3)
        >>> [(e.day, e.node) for e in model.events("drill")]
        [(0, 3)]
        """
        return self.event_log.of_kind(kind, since_day=since_day)

    def series(self, name: str, *, since_day: int = 0) -> np.ndarray:
        """Recorded values of a model-level variable, from ``since_day`` to the latest day.

        ``series(name)[-1]`` is the value recorded for the latest simulated day;
        ``series(name)[d]`` is day ``d`` (day 0 is the initial state).

        Parameters
        ----------
        name : str
            A variable of :data:`waste_harmony.recording.MODEL_VARIABLES`.
        since_day : int
            First day to include (day 0 is the initial state, day 1 the first
            simulated day).

        Returns
        -------
        numpy.ndarray
            One value per recorded day.

        Raises
        ------
        KeyError
            If ``name`` is not a recorded variable.

        Examples
        --------
        >>> from waste_harmony import CityModel
        >>> model = CityModel(n_citizens=100, rng=0)
        >>> model.run_for(5)
        >>> model.series("protest_share", since_day=4).shape
        (2,)
        """
        values = self.datacollector.model_vars.get(name)
        if values is None:
            raise KeyError(
                f"{name!r} is not a recorded model variable; recorded: "
                f"{sorted(self.datacollector.model_vars)}"
            )
        return np.asarray(values[max(since_day, 0) :])

    def deploy_organism(self, node: Hashable, biomass_kg: float) -> None:
        """Release organism biomass at a node.

        Parameters
        ----------
        node : hashable
            Node id.
        biomass_kg : float
            Kilograms released (> 0).
        """
        if not biomass_kg > 0:
            raise ValueError(f"biomass_kg must be > 0, got {biomass_kg}")
        row = self.node_index(node)
        self.neighborhoods.organism_biomass[row] += biomass_kg
        self.sync_colonies()
        self.log_event("organism_deployed", node=node, biomass_kg=float(biomass_kg))

    def sync_colonies(self) -> None:
        """Create :class:`Organism` agents where colonised, remove them where died out."""
        biomass = self.neighborhoods.organism_biomass
        threshold = self.params.organism_colony_kg
        for row in np.flatnonzero(biomass >= threshold).tolist():
            if row not in self._colonies:
                node = self.node_ids[row]
                model = cast(CityServices, self)  # CityModel is a CityServices
                self._colonies[row] = Organism(model, row, self.space[node], self.day)
        for row in [r for r in self._colonies if biomass[r] < threshold / 10]:
            self._colonies.pop(row).remove()

    def open_grievance(self, name: str) -> None:
        """Open a grievance: while any is open, concerned citizens may protest.

        Parameters
        ----------
        name : str
            Identifier (e.g. ``"facility:TechCore"``).
        """
        self.grievances.add(name)

    def close_grievance(self, name: str) -> None:
        """Close a grievance opened by :meth:`open_grievance`.

        Parameters
        ----------
        name : str
            Identifier.
        """
        self.grievances.discard(name)

    def log_event(self, kind: str, node: Hashable | None = None, **details: Any) -> None:
        """Append an event to the log, dated today.

        Parameters
        ----------
        kind : str
            What happened.
        node : hashable, optional
            Where.
        **details
            Anything else.
        """
        self.event_log.append(Event(self.day, kind, node, details))
