"""Land-use zones, the node-attribute schema and spatially coherent zoning.

Every node of a city graph is a neighbourhood carrying one land-use ``zone``
out of :data:`ZONES` plus the numeric attributes listed in
:data:`NODE_ATTRIBUTES`. This module is the single source of truth for that
schema (names, admissible ranges and the defaults used by
:func:`~waste_harmony.city.with_defaults`), and holds the zoning routine the
generators share: zones are grown as patches of nearest nodes around anchor
points, so each zone is spatially coherent.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

__all__ = [
    "ATTRIBUTE_DEFAULTS",
    "BIODIVERSE_ZONE",
    "DEFAULT_ZONE_SHARES",
    "NODE_ATTRIBUTES",
    "NONNEGATIVE_ATTRIBUTES",
    "UNIT_INTERVAL_ATTRIBUTES",
    "ZONES",
    "ZONE_DEFAULTS",
    "ZONE_EMISSION_MEAN",
    "ZONE_HABITAT_RANGE",
    "ZONE_LAND_PRICE",
    "ZONE_POPULATION_WEIGHT",
    "assign_zones",
    "zone_counts",
]

#: The land-use zones a node may carry.
ZONES: tuple[str, ...] = ("residential", "commercial", "industrial", "green", "plaza")

#: The zone that holds natural habitat (parks, woods, wetlands).
BIODIVERSE_ZONE: str = "green"

#: Every node attribute :func:`~waste_harmony.city.validate_city` requires.
NODE_ATTRIBUTES: tuple[str, ...] = (
    "zone",
    "pos",
    "population",
    "marginalisation",
    "biotech_access",
    "habitat",
    "area_km2",
    "recycling_infrastructure",
    "industrial_emission",
    "land_price",
)

#: Numeric attributes that must lie in ``[0, 1]``.
UNIT_INTERVAL_ATTRIBUTES: tuple[str, ...] = (
    "marginalisation",
    "biotech_access",
    "habitat",
    "recycling_infrastructure",
)

#: Numeric attributes that must be ``>= 0`` (``area_km2`` must be ``> 0``).
NONNEGATIVE_ATTRIBUTES: tuple[str, ...] = (
    "population",
    "area_km2",
    "industrial_emission",
    "land_price",
)

# Per-zone calibration of the synthetic cities (in ZONES order: residential,
# commercial, industrial, green, plaza), shared by the generators and the defaults.

#: Median residential weight (``population``) per zone in the generators.
ZONE_POPULATION_WEIGHT: tuple[float, ...] = (1.0, 0.35, 0.0, 0.02, 0.1)
#: Range ``(low, high)`` of the uniform ``habitat`` fraction per zone in the generators.
ZONE_HABITAT_RANGE: tuple[tuple[float, float], ...] = (
    (0.05, 0.25),
    (0.0, 0.08),
    (0.0, 0.04),
    (0.6, 0.95),
    (0.02, 0.1),
)
#: Mean ``industrial_emission`` per zone in the generators, pollution units per day.
ZONE_EMISSION_MEAN: tuple[float, ...] = (0.0, 0.1, 10.0, 0.0, 0.0)
#: Base ``land_price`` per zone in the generators (before deprivation and industry).
ZONE_LAND_PRICE: tuple[float, ...] = (1.0, 1.8, 0.6, 0.9, 2.5)

#: Zone-independent defaults used by :func:`~waste_harmony.city.with_defaults` for
#: missing attributes. ``marginalisation``, ``biotech_access`` and
#: ``recycling_infrastructure`` take the middle of their unit interval (the
#: generators give 0.525 and 0.475 at marginalisation 0.5). The zone-dependent
#: attributes come from :data:`ZONE_DEFAULTS`; ``pos`` and ``area_km2`` are never
#: invented from nothing (see :func:`~waste_harmony.city.with_defaults`).
ATTRIBUTE_DEFAULTS: Mapping[str, str | float] = MappingProxyType(
    {
        "zone": "residential",
        "marginalisation": 0.5,
        "biotech_access": 0.5,
        "recycling_infrastructure": 0.5,
    }
)

#: Zone-dependent defaults for missing attributes, derived from the generators'
#: calibration: ``population`` the zone's median weight, ``habitat`` the middle of
#: the zone's range, ``industrial_emission`` the zone's mean emission (10 per day on
#: industrial nodes), ``land_price`` the zone's base price.
ZONE_DEFAULTS: Mapping[str, Mapping[str, float]] = MappingProxyType(
    {
        zone: MappingProxyType(
            {
                "population": ZONE_POPULATION_WEIGHT[i],
                "habitat": 0.5 * (ZONE_HABITAT_RANGE[i][0] + ZONE_HABITAT_RANGE[i][1]),
                "industrial_emission": ZONE_EMISSION_MEAN[i],
                "land_price": ZONE_LAND_PRICE[i],
            }
        )
        for i, zone in enumerate(ZONES)
    }
)

#: Default share of nodes per zone used by the generators; residential takes
#: the remainder.
DEFAULT_ZONE_SHARES: Mapping[str, float] = MappingProxyType(
    {
        "residential": 0.56,
        "commercial": 0.14,
        "industrial": 0.12,
        "green": 0.17,
        "plaza": 0.01,
    }
)

_ANCHORED = ("plaza", "commercial", "industrial", "green")


def zone_counts(n_nodes: int, zone_shares: Mapping[str, float] | None = None) -> dict[str, int]:
    """Number of nodes per zone for a city of ``n_nodes``.

    Zones left out of ``zone_shares`` take their default share, except
    residential, which then takes ``1 - sum(other shares)`` (at least 0).
    Shares are then normalised to sum to one. Every zone gets at least one
    node (even with a share of zero); residential absorbs rounding.

    Parameters
    ----------
    n_nodes : int
        Number of nodes, at least ``len(ZONES)``.
    zone_shares : mapping of str to float, optional
        Share per zone; zones left out take their :data:`DEFAULT_ZONE_SHARES`.

    Returns
    -------
    dict of str to int
        Count per zone (in :data:`ZONES` order), summing to ``n_nodes``.

    Raises
    ------
    ValueError
        If ``n_nodes`` is too small, a zone name is unknown or a share is
        negative or not finite.

    Examples
    --------
    >>> zone_counts(100)
    {'residential': 56, 'commercial': 14, 'industrial': 12, 'green': 17, 'plaza': 1}
    >>> zone_counts(5)
    {'residential': 1, 'commercial': 1, 'industrial': 1, 'green': 1, 'plaza': 1}
    """
    if n_nodes < len(ZONES):
        raise ValueError(
            f"a city needs at least {len(ZONES)} nodes (one per zone {ZONES}), got {n_nodes}"
        )
    shares = dict(DEFAULT_ZONE_SHARES)
    for zone, share in (zone_shares or {}).items():
        if zone not in ZONES:
            raise ValueError(f"unknown zone {zone!r} in zone_shares; valid zones are {ZONES}")
        if not np.isfinite(share) or share < 0:
            raise ValueError(f"zone_shares[{zone!r}] must be a finite number >= 0, got {share!r}")
        shares[zone] = float(share)
    if "residential" not in (zone_shares or {}):
        shares["residential"] = max(0.0, 1.0 - sum(shares[z] for z in _ANCHORED))
    total = sum(shares.values())
    if total <= 0:
        raise ValueError("zone_shares must not all be zero")
    counts = {z: max(1, round(n_nodes * shares[z] / total)) for z in _ANCHORED}
    # Keep at least one residential node: shrink the largest other zone.
    while sum(counts.values()) > n_nodes - 1:
        largest = max(counts, key=counts.__getitem__)
        counts[largest] -= 1
    counts["residential"] = n_nodes - sum(counts.values())
    return {z: counts[z] for z in ZONES}


def assign_zones(xy: np.ndarray, counts: Mapping[str, int], rng: np.random.Generator) -> np.ndarray:
    """Assign zones to points as spatially coherent patches.

    In order: the plaza is the patch nearest the centre of the bounding box;
    commercial nodes surround the plaza; industry is a patch anchored at a
    random point on one edge; green space is a belt on the opposite edge plus
    parks around random points; the rest is residential.

    Parameters
    ----------
    xy : numpy.ndarray
        Positions, shape ``(n, 2)``, km.
    counts : mapping of str to int
        Nodes per zone, as returned by :func:`zone_counts`.
    rng : numpy.random.Generator
        Source of randomness (edge and park anchors).

    Returns
    -------
    numpy.ndarray
        Zone names (``dtype=object``), shape ``(n,)``.

    Examples
    --------
    >>> import numpy as np
    >>> xy = np.random.default_rng(0).uniform(size=(50, 2))
    >>> zones = assign_zones(xy, zone_counts(50), np.random.default_rng(0))
    >>> sorted(set(zones)) == sorted(ZONES)
    True
    """
    n = len(xy)
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    centre = (lo + hi) / 2.0
    free = np.ones(n, dtype=bool)
    zone = np.full(n, "residential", dtype=object)

    def take(anchor: np.ndarray, k: int, name: str) -> np.ndarray:
        if k <= 0:
            return np.empty(0, dtype=np.intp)
        d = np.einsum("ij,ij->i", xy - anchor, xy - anchor)
        d[~free] = np.inf
        idx = np.argpartition(d, k - 1)[:k] if k < n else np.arange(n)
        zone[idx] = name
        free[idx] = False
        return idx

    plaza = take(centre, counts["plaza"], "plaza")
    take(xy[plaza].mean(axis=0), counts["commercial"], "commercial")

    side = int(rng.integers(4))  # 0: west, 1: east, 2: south, 3: north
    t = rng.uniform(0.2, 0.8)

    def edge_point(s: int, frac: float) -> np.ndarray:
        along = lo + frac * (hi - lo)
        return np.array(
            [
                (lo[0], along[1]),
                (hi[0], along[1]),
                (along[0], lo[1]),
                (along[0], hi[1]),
            ][s]
        )

    take(edge_point(side, t), counts["industrial"], "industrial")

    k_green = counts["green"]
    n_parks = max(1, min(6, round(np.sqrt(k_green) / 2)))
    sizes = np.full(n_parks, k_green // n_parks)
    sizes[: k_green % n_parks] += 1
    opposite = side ^ 1
    anchors = [edge_point(opposite, rng.uniform(0.2, 0.8))]
    anchors += [lo + rng.uniform(size=2) * (hi - lo) for _ in range(n_parks - 1)]
    for anchor, k in zip(anchors, sizes, strict=True):
        take(anchor, int(k), "green")
    return zone
