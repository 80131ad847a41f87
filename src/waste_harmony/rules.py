"""The model's default daily rules, in order: each adapts model columns to a dynamics function.

Every rule is a plain function ``rule(model) -> None``. They run vectorised over
all citizens and neighbourhoods; the science lives in :mod:`waste_harmony.dynamics`,
and these functions only gather the arrays, call it, and write the results back.
``DEFAULT_RULES`` is the pipeline of a new :class:`~waste_harmony.CityModel`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from waste_harmony.agents import CitizenRows
from waste_harmony.dynamics import (
    adoption,
    attention,
    diffusion,
    mobility,
    opinion,
    organism,
    perception,
    protest,
    recycling,
    waste,
)

if TYPE_CHECKING:
    from waste_harmony.services import CityServices
    from waste_harmony.tables import RowGroups

__all__ = [
    "DEFAULT_RULES",
    "adopt_biotech",
    "collect_waste",
    "disperse_pollution",
    "fade_concern",
    "generate_and_recycle",
    "grow_organism",
    "meet_and_discuss",
    "perceive_pollution",
    "protest_step",
]

_DAYS_PER_YEAR = 365.0


def meet_and_discuss(model: CityServices) -> None:
    """Citizens go out, meet one other person, and update concern (Deffuant–Weisbuch).

    Each citizen spends the day at home or, with probability ``mobility``, at a
    place within ``outing_km`` of street distance (a daily activity space in km,
    Schönfelder & Axhausen 2003; :mod:`~waste_harmony.dynamics.mobility`): another
    node whose centre is in reach, drawn in proportion to its area, so a finer
    cutting of the same place offers the same land to go to. A citizen with no
    other node in reach spends the day in their own neighbourhood. On the default
    grid (0.5 km links, 0.8 km reach) this is a uniformly random neighbouring node.
    Scenario gatherings (festivals, assemblies) override this. Citizens at the
    same place are matched at random in pairs
    (:func:`~waste_harmony.dynamics.opinion.random_matching`) and each pair applies
    the bounded-confidence update.
    """
    c, p, rng = model.citizens, model.params, model.rng
    home = c.home
    location = home.copy()
    n = len(home)
    if p.mobility > 0 and model.n_nodes > 1:
        movers = np.flatnonzero(rng.random(n) < p.mobility)
        origin = home[movers]
        destinations = model.outing_destinations()
        reach = np.diff(destinations.indptr)
        if not reach.all():  # some nodes have nowhere in reach: their movers stay home
            reachable = reach[origin] > 0
            movers, origin = movers[reachable], origin[reachable]
        u = rng.random(len(movers))
        location[movers] = mobility.choose_destinations(destinations, origin, u)
    gathered = c.gathering >= 0
    if gathered.any():
        location[gathered] = c.gathering[gathered]
    c.location[:] = location
    if p.cohorts:
        c.concern += opinion.cohort_encounters(
            c.concern, location, p.concern_confidence, p.concern_convergence
        )
        return
    first, second = opinion.random_matching(location, rng)
    opinion.deffuant_update(c.concern, first, second, p.concern_confidence, p.concern_convergence)


def perceive_pollution(model: CityServices) -> None:
    """Local pollution raises concern (:mod:`~waste_harmony.dynamics.perception`).

    The perceived harm of the pollution where the citizen spent the day pulls concern
    up towards 1; clean air does not lower it.
    """
    c, p = model.citizens, model.params
    if p.pollution_concern_rate == 0:
        return
    harm = perception.perceived_harm(model.neighborhoods.pollution, p.pollution_half_saturation)
    perception.raise_concern(c.concern, harm[c.location], p.pollution_concern_rate)


def fade_concern(model: CityServices) -> None:
    """Concern fades towards each citizen's baseline (:mod:`~waste_harmony.dynamics.attention`).

    Whatever moved concern — perceived pollution, a threat, a festival, corporate PR,
    encounters — the departure from the citizen's baseline (their initial concern)
    shrinks by ``concern_fading`` a day: the declining stage of Downs's (1972)
    issue-attention cycle.
    """
    c = model.citizens
    attention.fade_concern(c.concern, c.baseline_concern, model.params.concern_fading)


def _recycling_probabilities(model: CityServices) -> np.ndarray:
    c, p, hoods = model.citizens, model.params, model.neighborhoods
    home = c.home
    prob = recycling.recycling_probability(
        c.concern,
        hoods.recycling_norm[home],
        hoods.recycling_infrastructure[home],
        **p.recycling_coefficients(),
    )
    # Subclasses overriding the vectorised hook: one call per class, over its rows.
    for cls, rows in model.vectorised_overrides("recycling_probabilities"):
        prob[rows] = cls.recycling_probabilities(CitizenRows(model, rows, default=prob[rows]))
    # Subclasses overriding the per-agent hook: call it on each of their agents.
    for agent in model.hooked_citizens("recycling_probability"):
        prob[agent.row] = agent.recycling_probability()
    return prob


def _group_counts(homes: RowGroups, recycled: np.ndarray, adopted: np.ndarray) -> np.ndarray:
    # Citizens per (home, recycled today, adopted), flattened home-major as
    # home * 4 + recycled * 2 + adopted: counted from three sums over each home's
    # run of rows, which reads the columns once instead of bincounting a group code.
    both = homes.sums(recycled & adopted)
    recyclers = homes.sums(recycled) - both
    adopters = homes.sums(adopted) - both
    neither = homes.counts - recyclers - adopters - both
    return np.stack([neither, adopters, recyclers, both], axis=1).astype(np.int64).ravel()


def generate_and_recycle(model: CityServices) -> None:
    """Citizens generate waste, some recycle it, adopters' biotech eats some, the rest is stock.

    Waste per person is Gamma distributed (mean ``waste_per_capita_kg``); it is drawn
    per group of citizens sharing (home, recycled today, adopted), for the people they
    stand for, which is exact in distribution
    (:func:`~waste_harmony.dynamics.waste.group_waste`). Facilities add their
    deterministic waste at their site.
    """
    c, p, hoods, rng = model.citizens, model.params, model.neighborhoods, model.rng
    m = model.n_nodes
    recycled = rng.random(len(c.home)) < _recycling_probabilities(model)
    c.recycled[:] = recycled
    counts = _group_counts(model.homes, recycled, c.adopted)
    # The waste of the people the citizens stand for: each group's citizens times the
    # people per citizen of their node (1 when each citizen is one person).
    people = counts * np.repeat(model.people_per_citizen, 4)
    kg = waste.group_waste(people, mean_kg=p.waste_per_capita_kg, cv=p.waste_cv, rng=rng)
    kg = kg.reshape(m, 4)  # columns: (neither, adopter, recycler, recycler+adopter)
    generated = kg.sum(axis=1)
    recycled_kg = p.recyclable_fraction * (kg[:, 2] + kg[:, 3])
    remaining_adopters = kg[:, 1] + (1.0 - p.recyclable_fraction) * kg[:, 3]
    consumed_kg = p.biotech_diversion * remaining_adopters
    extra = hoods.extra_waste_kg
    hoods.waste_stock_kg += generated - recycled_kg - consumed_kg + extra
    model.account_waste(
        generated=float(generated.sum() + extra.sum()),
        recycled=float(recycled_kg.sum()),
        consumed=float(consumed_kg.sum()),
    )
    residents = counts.reshape(m, 4).sum(axis=1)
    recyclers = counts.reshape(m, 4)[:, 2:].sum(axis=1)
    hoods.recycling_norm[:] = np.divide(recyclers, residents, out=np.zeros(m), where=residents > 0)


def collect_waste(model: CityServices) -> None:
    """Collection moves a share of each neighbourhood's stock to the landfill nodes."""
    waste.collect_to_landfill(
        model.neighborhoods.waste_stock_kg, model.landfill, model.params.collection_rate
    )


def grow_organism(model: CityServices) -> None:
    """Organism biomass grows logistically, spreads along edges, eats waste, cleans air."""
    hoods, p = model.neighborhoods, model.params
    biomass = hoods.organism_biomass
    if not biomass.any():
        return
    capacity = p.organism_capacity_kg_per_km2 * hoods.area_km2 * hoods.habitat
    new = organism.organism_growth_step(
        biomass,
        capacity,
        model.dispersal_laplacian,
        growth_rate=p.organism_growth_rate,
        dispersal=p.organism_dispersal,
        implicit=model.organism_dispersal_step,
    )
    eaten, removed, gained = organism.organism_services(
        new,
        hoods.waste_stock_kg,
        hoods.pollution,
        hoods.habitat,
        capacity,
        waste_uptake=p.organism_waste_uptake,
        air_uptake=p.organism_air_uptake,
        restoration=p.organism_restoration,
        area_km2=hoods.area_km2,
    )
    hoods.organism_biomass = new
    hoods.waste_stock_kg -= eaten
    hoods.pollution -= removed
    hoods.habitat += gained
    model.account_waste(consumed=float(eaten.sum()))
    model.sync_colonies()


def disperse_pollution(model: CityServices) -> None:
    """Emissions from industry, facilities and waste; diffusion in km; decay to the background.

    Waste emits per tonne *per km²* of the neighbourhood (an emission density, as
    in a well-mixed box model: the concentration a source raises is its emission
    rate over the box's volume, i.e. over its area for a fixed mixing height;
    Seinfeld & Pandis 2016, ch. 25), so the same waste spread over the same place
    gives the same pollution however finely the place is cut.
    """
    hoods, p = model.neighborhoods, model.params
    stock_t = hoods.waste_stock_kg / 1000.0 / hoods.area_km2
    factor = np.where(model.landfill, p.landfill_emission_factor, p.waste_emission_factor)
    emissions = (
        p.industrial_emission_scale * hoods.industrial_emission
        + hoods.extra_emission
        + factor * stock_t
    )
    hoods.pollution = diffusion.pollution_step(
        hoods.pollution,
        emissions,
        model.pollution_diffusion_step,
        decay=p.pollution_decay,
        background=p.background_pollution,
    )


def protest_step(model: CityServices) -> None:
    """One synchronous round of Granovetter's threshold rule, while a grievance is open.

    A concerned citizen (concern ≥ ``protest_concern_min``) protests when the share of
    protesters observed in the home neighbourhood and, with weight
    ``protest_link_weight``, in linked neighbourhoods reaches their threshold
    (shifted by the neighbourhood's ``protest_threshold_shift``, e.g. by assemblies).
    With ``cohorts`` (the default) each citizen stands for a cohort of people whose
    thresholds follow the population's law around the citizen's ``threshold``, and
    its ``protesting`` is the share of them whose threshold is met
    (:func:`~waste_harmony.dynamics.protest.cohort_participation`); otherwise each
    citizen is one person and protests or not
    (:func:`~waste_harmony.dynamics.protest.threshold_step`).
    """
    c, p, hoods = model.citizens, model.params, model.neighborhoods
    if not model.grievances:
        c.protesting[:] = 0.0
        return
    home = c.home
    # Protesting people per node: the citizens' shares times the people each stands for.
    participants = model.homes.sums(c.protesting) * model.people_per_citizen
    observed = protest.local_participation(
        participants, model.people, model.links, p.protest_link_weight
    )
    eligible = c.concern >= p.protest_concern_min
    shift = hoods.protest_threshold_shift[home]
    if p.cohorts:
        c.protesting[:] = protest.cohort_participation(
            observed[home] - shift, c.threshold, p.protest_threshold_sd, eligible
        )
    else:
        c.protesting[:] = protest.threshold_step(c.threshold + shift, observed[home], eligible)


def adopt_biotech(model: CityServices) -> None:
    """Non-adopters adopt household biotech at the Bass hazard times their access."""
    c, p, hoods, rng = model.citizens, model.params, model.neighborhoods, model.rng
    home = c.home
    adopted = c.adopted
    n = len(home)
    if n == 0:
        return
    local = model.homes.sums(adopted)  # adopters per node
    local_share = np.divide(
        local, model.residents, out=np.zeros(model.n_nodes), where=model.residents > 0
    )
    city_share = model.citizen_mean(adopted)
    observed = p.bass_locality * local_share + (1.0 - p.bass_locality) * city_share
    prob = adoption.adoption_probability(
        observed, hoods.biotech_access, p=p.bass_p, q=p.bass_q, dt_years=1.0 / _DAYS_PER_YEAR
    )
    adoption.adopt(adopted, prob[home], rng)


#: The default day, in order.
DEFAULT_RULES = (
    ("meet", meet_and_discuss),
    ("perceive_pollution", perceive_pollution),
    ("fade_concern", fade_concern),
    ("waste", generate_and_recycle),
    ("collection", collect_waste),
    ("organism", grow_organism),
    ("pollution", disperse_pollution),
    ("protest", protest_step),
    ("adoption", adopt_biotech),
)
