r"""Exposure raises concern: perceived harm of local air pollution.

A citizen perceives the harm of the pollution ``P`` where they spent the day on a
saturating scale, ``h = P / (P + P_half)`` (the Michaelis–Menten / Hill form with
exponent 1, used for dose–response and perception curves; ``P_half`` is the
pollution perceived as half-harmful, by default the WHO 2021 interim target 3
for annual PM2.5, 15 µg/m³). Harm pulls concern up towards 1,

.. math:: c_{t+1} = c_t + k\,h\,(1 - c_t),

so under constant exposure ``1 - c`` decays exactly geometrically,
``1 - c_t = (1 - c_0)(1 - k h)^t``. Clean air does not by itself lower concern:
what perception raised fades back towards the citizen's baseline
(:mod:`~waste_harmony.dynamics.attention`), and encounters (bounded confidence) and
events such as corporate PR move it too. That
exposure raises environmental concern is well documented (e.g. Brody et al.
2008 for local risk; Slovic 1987 on dread and exposure); the functional form and
the rate ``k`` are modelling assumptions.

References
----------
.. [1] Slovic, P. (1987). Perception of risk. *Science* 236(4799), 280–285.
.. [2] Brody, S. D., Zahran, S., Vedlitz, A. & Grover, H. (2008). Examining the
   relationship between physical vulnerability and public perceptions of global
   climate change in the United States. *Environment and Behavior* 40(1), 72–95.
.. [3] WHO (2021). *WHO global air quality guidelines: particulate matter (PM2.5 and
   PM10), ozone, nitrogen dioxide, sulfur dioxide and carbon monoxide*.
"""

from __future__ import annotations

import numpy as np

__all__ = ["perceived_harm", "raise_concern"]


def perceived_harm(pollution: np.ndarray | float, half_saturation: float) -> np.ndarray:
    """Perceived harm ``P / (P + P_half)`` of pollution, in [0, 1).

    Parameters
    ----------
    pollution : array_like
        Pollution (µg/m³), non-negative.
    half_saturation : float
        Pollution perceived as half-harmful (> 0).

    Returns
    -------
    numpy.ndarray
        Harm in [0, 1).

    Examples
    --------
    >>> perceived_harm([0.0, 15.0, 45.0], 15.0).tolist()
    [0.0, 0.5, 0.75]
    """
    air = np.asarray(pollution, dtype=np.float64)
    return air / (air + half_saturation)


def raise_concern(concern: np.ndarray, harm: np.ndarray, rate: float) -> None:
    """Move concern towards 1 by ``rate * harm * (1 - concern)``, in place.

    Parameters
    ----------
    concern : numpy.ndarray
        Concern in [0, 1], modified in place (stays in [0, 1] for ``rate * harm <= 1``).
    harm : numpy.ndarray
        Perceived harm of each individual, in [0, 1).
    rate : float
        Rate ``k`` per day, in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> c = np.array([0.2, 0.6])
    >>> raise_concern(c, np.array([0.5, 0.0]), rate=0.1)
    >>> c.round(6).tolist()
    [0.24, 0.6]
    """
    concern += rate * harm * (1.0 - concern)
