r"""The waste-eating organism: logistic growth and spread on the city graph.

Biomass ``B`` (kg) of the organism in each neighbourhood follows a discrete
reaction–diffusion (Fisher–KPP) equation on the graph (Fisher 1937; Kolmogorov,
Petrovsky & Piskunov 1937; on lattices and graphs: Murray 2002, ch. 13):

.. math:: B_{t+1} = B_t + r B_t (1 - B_t / K) - D\,L B_t

with growth rate ``r`` per day, carrying capacity ``K`` proportional to the
neighbourhood's remaining habitat, and dispersal ``D`` per day along edges. A
single colony (``D = 0``) follows the discrete logistic map, which for small
``r`` tracks the closed form ``K / (1 + (K/B_0 - 1) e^{-rt})``. On a path graph an
invasion front advances at the *lattice* speed

.. math:: c^* = \min_{\lambda > 0} \frac{\ln(1 + r + 2D(\cosh\lambda - 1))}{\lambda}

(not the continuum ``2\sqrt{rD}``), see :func:`lattice_front_speed`; the front's
position along a path is measured by :func:`front_position`. Where one explicit
dispersal step would not stay positive (``D max L_ii > 1/2``: fast dispersal on
small cells), dispersal is one backward Euler step instead, whose cost does not
grow with ``D`` (:func:`organism_growth_step`).

The organism consumes waste in proportion to its biomass, removes air pollution
and restores habitat (:func:`organism_services`).

References
----------
.. [1] Fisher, R. A. (1937). The wave of advance of advantageous genes. *Annals of
   Eugenics* 7, 355–369.
.. [2] Murray, J. D. (2002). *Mathematical Biology I*, 3rd ed., Springer.
.. [3] Kot, M., Lewis, M. A. & van den Driessche, P. (1996). Dispersal data and the
   spread of invading organisms. *Ecology* 77, 2027–2042.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.optimize
import scipy.sparse as sp

from waste_harmony.dynamics.diffusion import ImplicitDiffusion, diffusion_substeps

__all__ = [
    "continuum_front_speed",
    "front_position",
    "lattice_front_speed",
    "logistic_closed_form",
    "organism_growth_step",
    "organism_services",
]


def organism_growth_step(
    biomass: np.ndarray,
    capacity: np.ndarray,
    lap: sp.sparray,
    *,
    growth_rate: float,
    dispersal: float,
    implicit: ImplicitDiffusion | None = None,
) -> np.ndarray:
    """One day of logistic growth plus dispersal along edges.

    While one explicit dispersal step is positivity preserving
    (``dispersal · max L_ii ≤ 1/2``) this is exactly the single-step scheme whose
    front speed :func:`lattice_front_speed` predicts. Beyond, an explicit step would
    need ever more sub-steps as ``D`` grows over the cell size squared, so dispersal
    becomes one backward Euler step (unconditionally stable and positive, see
    :class:`~waste_harmony.dynamics.diffusion.ImplicitDiffusion`), growth stays
    explicit.

    Parameters
    ----------
    biomass : numpy.ndarray
        Biomass per node (kg).
    capacity : numpy.ndarray
        Carrying capacity per node (kg); where 0 the organism cannot persist.
    lap : scipy.sparse array
        Graph Laplacian.
    growth_rate : float
        Intrinsic growth rate r per day.
    dispersal : float
        Dispersal rate D per day.
    implicit : ImplicitDiffusion, optional
        The backward Euler step for ``lap`` and ``dispersal``, factorised once (the
        model passes its own); built for this call when needed and not given.

    Returns
    -------
    numpy.ndarray
        New biomass, never negative.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from waste_harmony.dynamics.diffusion import laplacian
    >>> L = laplacian(sp.csr_array((1, 1)))
    >>> organism_growth_step(np.array([50.0]), np.array([100.0]), L,
    ...                      growth_rate=0.1, dispersal=0.0).tolist()
    [52.5]
    """
    safe_capacity = np.where(capacity > 0, capacity, 1.0)
    logistic = growth_rate * biomass * (1.0 - biomass / safe_capacity)
    growth = np.where(capacity > 0, logistic, -biomass)
    largest = float(sp.csr_array(lap).diagonal().max(initial=0.0))  # type: ignore[call-overload]
    if diffusion_substeps(dispersal, largest) == 1:
        new = biomass + growth - dispersal * (lap @ biomass)
    else:
        if implicit is None:
            implicit = ImplicitDiffusion(lap, dispersal)
        elif implicit.rate != dispersal:
            raise ValueError(
                f"implicit step is for dispersal {implicit.rate}, not {dispersal}; "
                "build ImplicitDiffusion(lap, dispersal)"
            )
        new = implicit(biomass) + growth
    return np.maximum(new, 0.0)


def organism_services(
    biomass: np.ndarray,
    waste_stock: np.ndarray,
    pollution: np.ndarray,
    habitat: np.ndarray,
    capacity: np.ndarray,
    *,
    waste_uptake: float,
    air_uptake: float,
    restoration: float,
    area_km2: np.ndarray | float = 1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What the organism does for its neighbourhood in a day.

    Air cleaning depends on the biomass *density* (t/km²), not on the biomass a
    cell happens to hold: deposition to vegetation removes pollution at a rate
    proportional to the leaf area per unit ground area (dry-deposition flux
    ``F = v_d C`` per m² of canopy, Nowak, Crane & Stevens 2006), so a 1 km² cell
    holding 1 t cleans its air like four 0.25 km² cells holding 0.25 t each.

    Parameters
    ----------
    biomass, waste_stock, pollution, habitat, capacity : numpy.ndarray
        Per node: biomass (kg), waste (kg), pollution (µg/m³), habitat share, capacity (kg).
    waste_uptake : float
        Waste eaten per kg of biomass per day (kg/kg/day), limited by the stock.
    air_uptake : float
        Pollution removal rate per day per t/km² of biomass; the removed share is
        ``1 - exp(-air_uptake * B / 1000 / area_km2)``.
    restoration : float
        Habitat restored per day at full occupancy, as a share of what is not yet habitat:
        ``Δh = restoration * (B/K) * (1 - h)``.
    area_km2 : numpy.ndarray or float
        Area of each node (km²) over which its biomass is spread.

    Returns
    -------
    waste_eaten, pollution_removed, habitat_gained : numpy.ndarray
        Per node, each non-negative and never more than what is there.

    Examples
    --------
    >>> import numpy as np
    >>> eaten, removed, gained = organism_services(
    ...     np.array([100.0]), np.array([3.0]), np.array([10.0]), np.array([0.5]),
    ...     np.array([200.0]), waste_uptake=0.05, air_uptake=0.0, restoration=0.1)
    >>> eaten.tolist(), removed.tolist(), gained.tolist()
    ([3.0], [0.0], [0.025])
    """
    eaten = np.minimum(waste_stock, waste_uptake * biomass)
    removed = pollution * -np.expm1(-air_uptake * (biomass / 1000.0) / area_km2)
    occupancy = np.divide(biomass, capacity, out=np.zeros_like(biomass), where=capacity > 0)
    gained = restoration * np.minimum(occupancy, 1.0) * (1.0 - habitat)
    return eaten, removed, gained


def logistic_closed_form(t: np.ndarray | float, *, r: float, K: float, B0: float) -> np.ndarray:
    """Continuous logistic growth ``K / (1 + (K/B0 - 1) e^{-rt})``.

    Parameters
    ----------
    t : array_like
        Time (days).
    r, K, B0 : float
        Growth rate per day, carrying capacity and initial biomass.

    Returns
    -------
    numpy.ndarray
        Biomass at ``t``.

    Examples
    --------
    >>> float(logistic_closed_form(0.0, r=0.1, K=100.0, B0=1.0))
    1.0
    """
    return K / (1.0 + (K / B0 - 1.0) * np.exp(-r * np.asarray(t, dtype=np.float64)))


def lattice_front_speed(r: float, D: float) -> float:
    """Asymptotic speed (nodes per day) of the invasion front on a path graph.

    The minimum over decay rates λ of ``ln(1 + r + 2D(cosh λ - 1)) / λ``: the
    linear-determinacy speed of the discrete-time, discrete-space model.

    Parameters
    ----------
    r : float
        Growth rate per day (> 0).
    D : float
        Dispersal rate per day (> 0).

    Returns
    -------
    float
        Front speed in nodes per day.

    Examples
    --------
    >>> round(lattice_front_speed(0.1, 0.1), 4) < round(continuum_front_speed(0.1, 0.1), 4)
    True
    """

    def speed(lam: float) -> float:
        return math.log(1.0 + r + 2.0 * D * (math.cosh(lam) - 1.0)) / lam

    result = scipy.optimize.minimize_scalar(
        speed, bounds=(1e-6, 50.0), method="bounded", options={"xatol": 1e-12}
    )
    return float(result.fun)


def continuum_front_speed(r: float, D: float) -> float:
    """Fisher–KPP speed ``2 sqrt(r D)`` of the continuous equation.

    Parameters
    ----------
    r, D : float
        Growth and diffusion rates.

    Returns
    -------
    float
        Speed.

    Examples
    --------
    >>> continuum_front_speed(0.25, 1.0)
    1.0
    """
    return 2.0 * math.sqrt(r * D)


def front_position(profile: np.ndarray, level: float) -> float:
    """Position of an invasion front along a path: where ``profile`` falls through ``level``.

    The profile is the (relative) density on the nodes of a path graph, high
    behind the front and low ahead of it. The position is the last node at or
    above ``level`` plus the linearly interpolated fraction of the way to the next
    node, so it moves continuously as the front advances.

    Parameters
    ----------
    profile : numpy.ndarray, shape (n,)
        Density along the path, e.g. ``B / K``.
    level : float
        Level that defines the front (e.g. 0.5 for half the carrying capacity).

    Returns
    -------
    float
        Position in nodes from the start of the path; ``-inf`` when no node reaches
        ``level``, ``n - 1`` when all do.

    Examples
    --------
    >>> import numpy as np
    >>> front_position(np.array([1.0, 1.0, 0.5, 0.0]), 0.25)
    2.5
    """
    x = np.asarray(profile, dtype=np.float64)
    above = np.flatnonzero(x >= level)
    if above.size == 0:
        return -math.inf
    i = int(above[-1])
    if i == x.size - 1:
        return float(i)
    return i + float((x[i] - level) / (x[i] - x[i + 1]))
