"""Biodiversity from habitat: the species–area relationship.

The number of species a habitat of area ``A`` supports is ``S = c A^z``
(Arrhenius 1921; MacArthur & Wilson 1967), with ``z`` typically 0.15–0.35 for
mainland habitat patches (Rosenzweig 1995). Losing a fraction ``h`` of habitat
therefore keeps ``(1 - h)^z`` of the species at equilibrium — the standard
estimate of extinctions from habitat loss. The model reports the city's
biodiversity index as the remaining share of species relative to the start,
``(A_t / A_0)^z`` (:func:`biodiversity_index`).

References
----------
.. [1] Arrhenius, O. (1921). Species and area. *J. Ecology* 9, 95–99.
.. [2] MacArthur, R. H. & Wilson, E. O. (1967). *The Theory of Island Biogeography*.
   Princeton University Press.
.. [3] Rosenzweig, M. L. (1995). *Species Diversity in Space and Time*. CUP.
"""

from __future__ import annotations

import numpy as np

__all__ = ["biodiversity_index", "species_area", "species_remaining"]


def species_area(area: np.ndarray | float, *, c: float = 1.0, z: float) -> np.ndarray:
    """Species supported by a habitat area: ``S = c A^z``.

    Parameters
    ----------
    area : array_like
        Habitat area (km²), non-negative.
    c : float
        Species at unit area.
    z : float
        Exponent.

    Returns
    -------
    numpy.ndarray
        Number of species.

    Examples
    --------
    >>> float(species_area(16.0, c=10.0, z=0.25))
    20.0
    """
    return c * np.power(np.asarray(area, dtype=np.float64), z)


def species_remaining(habitat_lost: np.ndarray | float, *, z: float) -> np.ndarray:
    """Share of species kept after losing a fraction of habitat: ``(1 - h)^z``.

    Parameters
    ----------
    habitat_lost : array_like
        Fraction ``h`` of habitat lost, in [0, 1].
    z : float
        Species–area exponent.

    Returns
    -------
    numpy.ndarray
        Share of species remaining.

    Examples
    --------
    >>> round(float(species_remaining(0.9, z=0.25)), 4)
    0.5623
    """
    return np.power(1.0 - np.asarray(habitat_lost, dtype=np.float64), z)


def biodiversity_index(habitat_area: float, initial_habitat_area: float, *, z: float) -> float:
    """Species remaining relative to the start: ``(A_t / A_0)^z``.

    Parameters
    ----------
    habitat_area : float
        Current total habitat area.
    initial_habitat_area : float
        Habitat area at the start (> 0; if 0 the index is 1 by convention).
    z : float
        Species–area exponent.

    Returns
    -------
    float
        Index, 1 at the start; above 1 if habitat was restored beyond it.

    Examples
    --------
    >>> biodiversity_index(50.0, 100.0, z=0.5) == 0.5 ** 0.5
    True
    """
    if initial_habitat_area <= 0:
        return 1.0
    return float((habitat_area / initial_habitat_area) ** z)
