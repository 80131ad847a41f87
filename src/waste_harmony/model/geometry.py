"""The city's geometry in kilometres: street lengths and the diffusion operators.

:class:`Geometry` is the part of a :class:`~waste_harmony.CityModel` that turns the
city's edges into physical operators: street lengths (km), the finite-volume
Laplacians of pollution and organism dispersal (1/km²), the day's backward Euler
diffusion steps at the rates in force (each factorised once and reused), and the
destinations of a day out within ``outing_km``. The model builds it once from the
city's arrays and tells it when the parameters change (:meth:`Geometry.set_rates`);
rules read its operators through the model (``model.laplacian``,
``model.pollution_diffusion_step``, …).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from waste_harmony.dynamics.diffusion import ImplicitDiffusion, finite_volume_laplacian
from waste_harmony.dynamics.mobility import destinations_within
from waste_harmony.parameters import Parameters

__all__ = ["Geometry"]


class Geometry:
    """Street lengths (km) and the finite-volume diffusion operators (1/km²) of a city.

    ``length_km`` (else the Euclidean distance between the node positions) and
    ``border_km`` (when the city comes from polygons) of each edge; see
    :func:`~waste_harmony.dynamics.diffusion.finite_volume_laplacian`.

    Parameters
    ----------
    arrays : dict
        The city's arrays (:func:`waste_harmony.city.city_arrays`): ``x``, ``y``,
        ``edges``, ``edge_length_km``, ``edge_border_km`` and ``area_km2``.
    params : Parameters
        The parameters in force (the diffusion rates of the day's steps).

    Attributes
    ----------
    lengths_km : scipy.sparse.csr_array
        Street lengths (km) on the adjacency's pattern: the weights of distances in km.
    laplacian : scipy.sparse.csr_array
        Finite-volume operator for concentrations (pollution), 1/km².
    dispersal_laplacian : scipy.sparse.csr_array
        Its transpose, for amounts per cell (organism biomass, kg): conserves the total.
    pollution_diffusion_step, organism_dispersal_step : ImplicitDiffusion
        A day of pollution diffusion and of organism dispersal (backward Euler) at the
        rates in force, factorised on first use and reused every day.

    Examples
    --------
    >>> from waste_harmony import city
    >>> from waste_harmony.parameters import Parameters
    >>> geometry = Geometry(city.city_arrays(city.grid_city(3, 3)), Parameters())
    >>> geometry.laplacian.shape, geometry.pollution_diffusion_step.rate
    ((9, 9), 0.0125)
    """

    def __init__(self, arrays: dict[str, Any], params: Parameters) -> None:
        xy = np.column_stack([arrays["x"], arrays["y"]])
        n = len(xy)
        links = arrays["edges"]  # in graph.edges() order, as the columns below
        keep = links[:, 0] != links[:, 1]  # self-loops carry no flux
        ui, vi = links[keep, 0], links[keep, 1]
        lengths = arrays["edge_length_km"][keep]
        border = arrays["edge_border_km"][keep]
        euclid = np.hypot(*(xy[ui] - xy[vi]).T) if ui.size else np.zeros(0)
        lengths = np.where(np.isfinite(lengths) & (lengths > 0), lengths, euclid)
        positive = lengths[lengths > 0]
        # Coincident nodes without a length: fall back on the typical edge length.
        lengths = np.where(lengths > 0, lengths, np.median(positive) if positive.size else 1.0)
        rows, cols = np.r_[ui, vi], np.r_[vi, ui]

        def on_pattern(values: np.ndarray) -> sp.csr_array:
            out = sp.csr_array((np.r_[values, values], (rows, cols)), shape=(n, n))
            out.sort_indices()
            return out

        self.lengths_km = on_pattern(lengths)
        borders = on_pattern(np.asarray(border, dtype=np.float64))
        area = np.asarray(arrays["area_km2"], dtype=np.float64)
        self.laplacian = finite_volume_laplacian(self.lengths_km, area, borders)
        self.dispersal_laplacian = sp.csr_array(self.laplacian.T)
        self.pollution_diffusion_step = ImplicitDiffusion(self.laplacian, 0.0)
        self.organism_dispersal_step = ImplicitDiffusion(self.dispersal_laplacian, 0.0)
        self.set_rates(params)
        self._outings: tuple[float, sp.csr_array] | None = None

    def set_rates(self, params: Parameters) -> None:
        """Use the diffusion rates in ``params``: a new step only where a rate changed.

        Each step factorises ``I + D L`` on its first day and reuses it, so the model
        calls this whenever the rates may change (``set_parameters``) and a change that
        leaves a rate alone keeps its factorisation.

        Parameters
        ----------
        params : Parameters
            The parameters now in force.
        """
        if self.pollution_diffusion_step.rate != params.pollution_diffusion:
            self.pollution_diffusion_step = ImplicitDiffusion(
                self.laplacian, params.pollution_diffusion
            )
        if self.organism_dispersal_step.rate != params.organism_dispersal:
            self.organism_dispersal_step = ImplicitDiffusion(
                self.dispersal_laplacian, params.organism_dispersal
            )

    def outing_destinations(self, km: float, area_km2: np.ndarray) -> sp.csr_array:
        """Where a citizen who goes out can spend the day, by street distance.

        Parameters
        ----------
        km : float
            The reach of a day out (``params.outing_km``).
        area_km2 : numpy.ndarray
            Each node's area (km²), in row order.

        Returns
        -------
        scipy.sparse.csr_array, shape (n_nodes, n_nodes)
            Row ``i``: the other nodes within ``km`` street km of ``i``, valued by
            their area (km²); see
            :func:`~waste_harmony.dynamics.mobility.destinations_within`. Cached
            until ``km`` changes.
        """
        if self._outings is None or self._outings[0] != km:
            self._outings = (km, destinations_within(self.lengths_km, area_km2, km))
        return self._outings[1]
