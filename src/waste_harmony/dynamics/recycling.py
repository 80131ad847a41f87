r"""Recycling decisions in the theory-of-planned-behaviour form.

A citizen recycles on a given day with probability

.. math:: p = \sigma(\beta_0 + \beta_c c + \beta_n n + \beta_i I)

where :math:`\sigma` is the logistic function, ``c`` the citizen's environmental
concern (attitude), ``n`` the share of neighbours who recycled yesterday
(subjective norm) and ``I`` the neighbourhood's recycling infrastructure
(perceived behavioural control). This is the logistic-regression form in
which the theory of planned behaviour (Ajzen 1991) is estimated for recycling
(e.g. Tonglet et al. 2004), with the descriptive norm of Cialdini et al. (1990).

References
----------
.. [1] Ajzen, I. (1991). The theory of planned behavior. *Organizational Behavior
   and Human Decision Processes* 50, 179–211.
.. [2] Tonglet, M., Phillips, P. S. & Read, A. D. (2004). Using the theory of planned
   behaviour to investigate the determinants of recycling behaviour. *Resources,
   Conservation and Recycling* 41, 191–214.
.. [3] Cialdini, R. B., Reno, R. R. & Kallgren, C. A. (1990). A focus theory of
   normative conduct. *J. Personality and Social Psychology* 58, 1015–1026.
"""

from __future__ import annotations

import numpy as np

__all__ = ["recycling_probability"]


def recycling_probability(
    concern: np.ndarray | float,
    norm: np.ndarray | float,
    infrastructure: np.ndarray | float,
    *,
    intercept: float,
    weight_concern: float,
    weight_norm: float,
    weight_infrastructure: float,
) -> np.ndarray:
    """Daily probability of recycling: logistic in a weighted sum of TPB factors.

    Parameters
    ----------
    concern, norm, infrastructure : array_like
        Attitude, descriptive norm and behavioural control, each in [0, 1].
    intercept, weight_concern, weight_norm, weight_infrastructure : float
        Coefficients of the logistic model (log-odds units).

    Returns
    -------
    numpy.ndarray
        Probabilities in (0, 1).

    Examples
    --------
    >>> float(recycling_probability(0.5, 0.5, 0.5, intercept=-2.0, weight_concern=2.0,
    ...                             weight_norm=1.0, weight_infrastructure=1.0))
    0.5
    """
    c, n, i = (np.asarray(a, dtype=np.float64) for a in (concern, norm, infrastructure))
    # In place (one array instead of ten temporaries); same operations in the same order.
    z = np.empty(np.broadcast_shapes(c.shape, n.shape, i.shape))
    np.multiply(weight_concern, c, out=z)
    z += intercept
    z += weight_norm * n
    z += weight_infrastructure * i
    np.negative(z, out=z)
    np.exp(z, out=z)
    z += 1.0
    np.divide(1.0, z, out=z)
    return z if z.ndim else z[()]
