"""Per-agent Mesa baseline: the core rules of CityModel, written one agent at a time.

This is how a researcher would typically write the model in plain Mesa 3.5: a
``Citizen`` (``CellAgent``) and a ``Neighborhood`` (``FixedAgent``) class on a
``mesa.discrete_space.Network``, each with its own ``step``; the model calls
``shuffle_do("step")`` on the citizens, then lets each neighbourhood agent
handle its waste and pollution; model-level series go to a ``DataCollector``
with reporter functions that loop over the agents. It is honest, ordinary
Mesa code: neither deliberately slow nor hand-optimised (no numpy inside the
agents' steps; Python's ``random`` for the per-agent draws, as Mesa models do).

The rules are the core of :mod:`waste_harmony.rules` with the same parameters
(:class:`waste_harmony.parameters.Parameters`) and the same city attributes:

* **meeting** (Deffuant–Weisbuch): with probability ``mobility`` a citizen goes
  to a random neighbouring node, otherwise stays home; with probability 1/2 it
  starts an encounter (one sweep, n/2 encounters, per day, as in the model) with
  a resident of that node or one of its own peers at home (a per-agent peer list
  built at setup); if their concerns differ by less than ε both move a share μ
  towards each other;
* **pollution perception**: ``c += rate * P/(P + P_half) * (1 - c)`` at the place
  visited; then concern fades, ``c += fading * (b - c)``, towards the citizen's
  baseline ``b`` (the one at which its initial concern balances the initial air at
  home, as in the model);
* **recycling** (theory of planned behaviour): Bernoulli with the logistic
  probability of concern, yesterday's neighbourhood recycling share and the
  infrastructure; each citizen draws its own Gamma waste (mean
  ``waste_per_capita_kg``, CV ``waste_cv``); recyclers divert
  ``recyclable_fraction`` of it, adopters' biotech consumes ``biotech_diversion``
  of the rest; collection moves ``collection_rate`` of every stock to landfills;
* **protest** (Granovetter): while a grievance is open, a concerned citizen
  protests when the protest share observed (own neighbourhood yesterday, and with
  weight ``protest_link_weight`` the neighbouring ones) reaches their threshold;
* **adoption** (Bass): a non-adopter adopts with probability
  ``1 - exp(-a (p + q F) / 365)``, ``F`` mixing the neighbourhood and city shares;
* **pollution** per neighbourhood agent: emissions, exchange ``D (P_j - P_i)``
  with each neighbour (computed from everyone's old value, then applied; explicit
  sub-steps, as a per-agent model would, where the model solves one backward Euler
  step), decay towards the background.

The differences to the vectorised model are those of the per-agent style:
citizens act in random sequence (asynchronous Deffuant–Weisbuch encounters
with a partner drawn from a list, rather than a random matching of everyone at
a place) and waste is drawn per citizen rather than per group (the same
distribution). ``tests/test_benchmarks.py`` checks that the two agree
statistically.

References
----------
.. [1] Deffuant, G., Neau, D., Amblard, F. & Weisbuch, G. (2000). Mixing beliefs
   among interacting agents. *Advances in Complex Systems* 3, 87–98.
.. [2] Ajzen, I. (1991). The theory of planned behavior. *OBHDP* 50, 179–211.
.. [3] Granovetter, M. (1978). Threshold models of collective behavior. *AJS* 83(6).
.. [4] Bass, F. M. (1969). A new product growth for model consumer durables.
   *Management Science* 15(5), 215–227.
"""

from __future__ import annotations

import math
from typing import Any

import mesa
import networkx as nx
from mesa.discrete_space import CellAgent, FixedAgent, Network

from waste_harmony.city import load_city
from waste_harmony.parameters import Parameters

__all__ = ["BaselineCitizen", "BaselineModel", "BaselineNeighborhood"]


class BaselineNeighborhood(FixedAgent):
    """One node of the city: waste stock, pollution, norms; diffuses pollution itself."""

    def __init__(self, model: BaselineModel, cell, attributes: dict[str, Any]) -> None:
        super().__init__(model)
        self.cell = cell
        self.zone = attributes["zone"]
        self.infrastructure = float(attributes["recycling_infrastructure"])
        self.biotech_access = float(attributes["biotech_access"])
        self.industrial_emission = float(attributes["industrial_emission"])
        self.area_km2 = float(attributes["area_km2"])
        self.population_weight = float(attributes["population"])
        self.is_landfill = self.zone == "industrial"
        self.residents: list[BaselineCitizen] = []
        self.neighbours: list[BaselineNeighborhood] = []
        self.waste_stock_kg = 0.0
        p = model.params
        self.pollution = p.background_pollution + (
            p.industrial_emission_scale * self.industrial_emission / max(p.pollution_decay, 1e-9)
        )
        # Shares of residents who recycled, protested, adopted: counted at the end of a day,
        # seen by the residents during the next one.
        self.recycling_norm = 0.0
        self.protest_share = 0.0
        self.adopted_share = 0.0
        self._next_pollution = self.pollution

    def observe_residents(self) -> None:
        """Count today's recyclers, protesters and adopters (what residents see tomorrow)."""
        n = len(self.residents)
        if n == 0:
            return
        self.recycling_norm = sum(1 for c in self.residents if c.recycled) / n
        self.protest_share = sum(1 for c in self.residents if c.protesting) / n
        self.adopted_share = sum(1 for c in self.residents if c.adopted) / n

    def collect_waste(self) -> None:
        """Hand a share of the stock to the landfills."""
        if self.is_landfill:
            return
        taken = self.waste_stock_kg * self.model.params.collection_rate
        self.waste_stock_kg -= taken
        landfills = self.model.landfills
        for landfill in landfills:
            landfill.waste_stock_kg += taken / len(landfills)

    def emit(self) -> None:
        """Add today's emissions: industry and the waste lying here."""
        p = self.model.params
        factor = p.landfill_emission_factor if self.is_landfill else p.waste_emission_factor
        self.pollution += (
            p.industrial_emission_scale * self.industrial_emission
            + factor * self.waste_stock_kg / 1000.0 / self.area_km2
        )

    def exchange_pollution(self, h: float) -> None:
        """Exchange ``h (P_j - P_i)`` with each neighbour, from the old values (phase 1)."""
        here = self.pollution
        self._next_pollution = here + sum(h * (nb.pollution - here) for nb in self.neighbours)

    def apply_pollution(self, survival: float) -> None:
        """Commit the new value (phase 2); ``survival`` is the share left after decay."""
        background = self.model.params.background_pollution
        self.pollution = max(background + (self._next_pollution - background) * survival, 0.0)


class BaselineCitizen(CellAgent):
    """A citizen with its own state and a ``step`` that applies every rule to itself."""

    def __init__(self, model: BaselineModel, home: BaselineNeighborhood) -> None:
        super().__init__(model)
        self.home = home
        self.cell = home.cell
        p = model.params
        mean, sd = p.initial_concern_mean, p.initial_concern_sd
        k = mean * (1 - mean) / sd**2 - 1
        self.concern = self.random.betavariate(mean * k, (1 - mean) * k)
        # The baseline at which this concern balances the air at home (raise, then fade).
        harm = (
            p.pollution_concern_rate
            * home.pollution
            / (home.pollution + p.pollution_half_saturation)
        )
        fading = p.concern_fading
        self.baseline = (
            min(max(self.concern - (1 - fading) * harm * (1 - self.concern) / fading, 0.0), 1.0)
            if fading
            else self.concern
        )
        self.threshold = min(
            max(self.random.gauss(p.protest_threshold_mean, p.protest_threshold_sd), 0.0), 1.0
        )
        self.recycled = False
        self.protesting = False
        self.adopted = False
        self.peers: list[BaselineCitizen] = []

    def step(self) -> None:
        """One day of this citizen: meet, perceive, recycle, protest, adopt."""
        place = self.meet()
        self.perceive_pollution(place)
        self.concern += self.model.params.concern_fading * (self.baseline - self.concern)
        self.handle_waste()
        self.consider_protest()
        self.consider_adoption()

    def meet(self) -> BaselineNeighborhood:
        """Meet one person at home or at a neighbouring node (Deffuant–Weisbuch)."""
        p = self.model.params
        place = self.home
        if self.home.neighbours and self.random.random() < p.mobility:
            place = self.random.choice(self.home.neighbours)
            people = place.residents
        else:
            people = self.peers
        # One Deffuant–Weisbuch sweep per day is n/2 encounters: each citizen starts one
        # with probability 1/2 (and is someone else's partner about as often).
        if not people or self.random.random() < 0.5:
            return place
        other = self.random.choice(people)
        if other is self:
            return place
        diff = other.concern - self.concern
        if abs(diff) < p.concern_confidence:
            step = p.concern_convergence * diff
            self.concern += step
            other.concern -= step
        return place

    def perceive_pollution(self, place: BaselineNeighborhood) -> None:
        """Pollution where the day was spent raises concern."""
        p = self.model.params
        air = place.pollution
        self.concern += (
            p.pollution_concern_rate
            * air
            / (air + p.pollution_half_saturation)
            * (1.0 - self.concern)
        )

    def recycling_probability(self) -> float:
        """Theory-of-planned-behaviour logit of concern, norm and infrastructure."""
        p = self.model.params
        z = (
            p.recycling_intercept
            + p.recycling_weight_concern * self.concern
            + p.recycling_weight_norm * self.home.recycling_norm
            + p.recycling_weight_infrastructure * self.home.infrastructure
        )
        return 1.0 / (1.0 + math.exp(-z))

    def handle_waste(self) -> None:
        """Generate today's waste, recycle it or not, let biotech eat some, store the rest."""
        p, model = self.model.params, self.model
        self.recycled = self.random.random() < self.recycling_probability()
        kg = self.random.gammavariate(model.waste_shape, model.waste_scale)
        recycled = p.recyclable_fraction * kg if self.recycled else 0.0
        consumed = p.biotech_diversion * (kg - recycled) if self.adopted else 0.0
        self.home.waste_stock_kg += kg - recycled - consumed
        model.waste_generated_kg += kg
        model.waste_recycled_kg += recycled
        model.waste_consumed_kg += consumed

    def consider_protest(self) -> None:
        """Granovetter: join when the share observed reaches the threshold."""
        model = self.model
        if not model.grievances or self.concern < model.params.protest_concern_min:
            self.protesting = False
            return
        w = model.params.protest_link_weight
        home = self.home
        linked = home.neighbours
        people = sum(len(nb.residents) for nb in linked)
        linked_share = (
            sum(nb.protest_share * len(nb.residents) for nb in linked) / people if people else 0.0
        )
        observed = (1.0 - w) * home.protest_share + w * linked_share
        self.protesting = self.threshold <= observed

    def consider_adoption(self) -> None:
        """Bass: adopt at the hazard ``a (p + q F)`` per year."""
        if self.adopted:
            return
        p, model = self.model.params, self.model
        share = p.bass_locality * self.home.adopted_share + (1 - p.bass_locality) * model.adopted
        hazard = self.home.biotech_access * (p.bass_p + p.bass_q * share)
        if self.random.random() < -math.expm1(-hazard / 365.0):
            self.adopted = True


class BaselineModel(mesa.Model):
    """The per-agent baseline model (see the module docstring).

    Parameters
    ----------
    city : networkx.Graph
        City graph (as for :class:`waste_harmony.CityModel`).
    n_citizens : int
        Number of citizens, placed in proportion to node ``population``.
    rng : int, optional
        Seed.
    grievance : bool
        Open a grievance so that the protest rule runs (as
        ``CityModel.open_grievance``).
    **params
        Fields of :class:`waste_harmony.parameters.Parameters`.
    """

    def __init__(
        self,
        city: nx.Graph,
        *,
        n_citizens: int,
        rng: int | None = None,
        grievance: bool = False,
        **params: Any,
    ) -> None:
        super().__init__(rng=rng)
        self.params = p = Parameters.from_kwargs(params)
        graph = load_city(city)
        positions = {n: tuple(d["pos"]) for n, d in graph.nodes(data=True)}
        self.space = Network(graph, layout=positions, random=self.random)
        self.grievances = {"benchmark"} if grievance else set()
        self.waste_shape = 1.0 / p.waste_cv**2
        self.waste_scale = p.waste_per_capita_kg / self.waste_shape

        hoods = {
            node: BaselineNeighborhood(self, self.space._cells[node], data)
            for node, data in graph.nodes(data=True)
        }
        for node, hood in hoods.items():
            hood.neighbours = [hoods[nb] for nb in graph.neighbors(node)]
        self.hoods = list(hoods.values())
        self.landfills = [h for h in self.hoods if h.is_landfill]
        if not self.landfills:
            self.landfills = [min(self.hoods, key=lambda h: h.population_weight)]
            self.landfills[0].is_landfill = True
        weights = [h.population_weight for h in self.hoods]
        for home in self.random.choices(self.hoods, weights=weights, k=n_citizens):
            citizen = BaselineCitizen(self, home)
            home.residents.append(citizen)
        for hood in self.hoods:
            for citizen in hood.residents:
                citizen.peers = [c for c in hood.residents if c is not citizen]
            # Yesterday's recycling share before day 1: the residents' mean probability.
            if hood.residents:
                hood.recycling_norm = sum(c.recycling_probability() for c in hood.residents) / len(
                    hood.residents
                )
        self.citizens = self.agents_by_type[BaselineCitizen]
        self.neighborhoods = self.agents_by_type[BaselineNeighborhood]
        max_degree = max((len(h.neighbours) for h in self.hoods), default=0)
        self.substeps = max(1, math.ceil(p.pollution_diffusion * max_degree / 0.5))
        self.n_citizens = n_citizens
        self.adopted = 0.0
        self._reset_accounts()
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "mean_concern": lambda m: sum(c.concern for c in m.citizens) / max(m.n_citizens, 1),
                "recycling_share": lambda m: (
                    sum(c.recycled for c in m.citizens) / max(m.n_citizens, 1)
                ),
                "protest_share": lambda m: (
                    sum(c.protesting for c in m.citizens) / max(m.n_citizens, 1)
                ),
                "biotech_adoption": lambda m: (
                    sum(c.adopted for c in m.citizens) / max(m.n_citizens, 1)
                ),
                "recycling_rate": lambda m: (
                    m.waste_recycled_kg / m.waste_generated_kg if m.waste_generated_kg else 0.0
                ),
                "waste_generated_kg": "waste_generated_kg",
                "waste_recycled_kg": "waste_recycled_kg",
                "waste_consumed_kg": "waste_consumed_kg",
                "waste_stock_kg": lambda m: sum(h.waste_stock_kg for h in m.hoods),
                "mean_pollution": lambda m: sum(h.pollution for h in m.hoods) / len(m.hoods),
            }
        )

    def _reset_accounts(self) -> None:
        self.waste_generated_kg = 0.0
        self.waste_recycled_kg = 0.0
        self.waste_consumed_kg = 0.0

    def step(self) -> None:
        """One day: citizens act in random order, then waste, air, and today's shares."""
        self._reset_accounts()
        self.citizens.shuffle_do("step")
        self.neighborhoods.do("collect_waste")
        p = self.params
        h = p.pollution_diffusion / self.substeps
        self.neighborhoods.do("emit")
        for i in range(self.substeps):
            self.neighborhoods.do("exchange_pollution", h)
            last = i == self.substeps - 1
            self.neighborhoods.do("apply_pollution", math.exp(-p.pollution_decay) if last else 1.0)
        self.neighborhoods.do("observe_residents")
        self.adopted = sum(c.adopted for c in self.citizens) / max(self.n_citizens, 1)
        self.datacollector.collect(self)
