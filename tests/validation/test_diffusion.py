"""Graph diffusion of pollution conserves mass and decays at the stated rate.

Chung (1997): the combinatorial Laplacian L = Deg − A has 1ᵀL = 0, so x ← x − D L x
conserves Σx exactly. Seinfeld & Pandis (2016): first-order removal at rate δ gives
P(t) = P(0) e^{−δt}.
"""

import numpy as np
import pytest

from waste_harmony.city import grid_city, organic_city
from waste_harmony.dynamics.diffusion import diffusion_substeps, laplacian, pollution_step
from waste_harmony.model import CityModel


def _laplacian_of(G):
    import networkx as nx

    return laplacian(nx.to_scipy_sparse_array(G, dtype=float, format="csr"))


@pytest.mark.validation
@pytest.mark.parametrize("city", [grid_city(8, 8, seed=1), organic_city(120, seed=2)])
@pytest.mark.parametrize("rate", [0.05, 0.6])
def test_diffusion_alone_conserves_mass_and_stays_positive(city, rate):
    lap = _laplacian_of(city)
    degree = lap.diagonal()
    sub = diffusion_substeps(rate, float(degree.max()))
    P = np.zeros(city.number_of_nodes())
    P[0] = 1000.0
    total = P.sum()
    for _ in range(200):
        P = pollution_step(P, np.zeros_like(P), lap, diffusion=rate, decay=0.0, substeps=sub)
        assert P.min() >= 0.0
    # Round-off only: 200 days × sub-steps of sums of ~100 terms.
    assert P.sum() == pytest.approx(total, rel=1e-12)
    # ...and it spreads towards the uniform state of a connected graph.
    assert P.max() - P.min() < 0.5 * total


@pytest.mark.validation
@pytest.mark.parametrize("decay", [0.05, 0.2, np.log(2)])
def test_decay_alone_is_exactly_exponential(decay):
    lap = _laplacian_of(grid_city(5, 5, seed=0))
    P0 = np.random.default_rng(0).random(25) * 40
    P = P0.copy()
    for _ in range(30):
        P = pollution_step(P, np.zeros(25), lap, diffusion=0.0, decay=decay)
    np.testing.assert_allclose(P, P0 * np.exp(-decay * 30), rtol=1e-12)


@pytest.mark.validation
def test_diffusion_and_decay_total_decays_at_the_decay_rate_in_the_model():
    # In the assembled model with sources switched off, the city's total pollution
    # decays as e^{-δ t} whatever the diffusion does (diffusion conserves the total).
    model = CityModel(
        n_citizens=200,
        rng=3,
        industrial_emission_scale=0.0,
        waste_emission_factor=0.0,
        landfill_emission_factor=0.0,
    )
    hoods = model.neighborhoods
    hoods.pollution = np.linspace(0.0, 50.0, model.n_nodes)
    total0 = hoods.pollution.sum()
    model.pipeline.remove("organism")  # no deployment anyway; keep only the pollution rule
    model.run_for(20)
    delta = model.params.pollution_decay
    assert hoods.pollution.sum() == pytest.approx(total0 * np.exp(-delta * 20), rel=1e-10)


@pytest.mark.validation
def test_constant_sources_reach_the_analytic_steady_state_total():
    # With constant emissions S per day the total obeys T ← e^{-δ}(T + ΣS), whose fixed
    # point is ΣS e^{-δ} / (1 − e^{-δ}).
    lap = _laplacian_of(grid_city(6, 6, seed=4))
    S = np.zeros(36)
    S[[0, 17]] = [3.0, 5.0]
    delta = 0.2
    P = np.zeros(36)
    for _ in range(400):
        P = pollution_step(P, S, lap, diffusion=0.1, decay=delta)
    expected = S.sum() * np.exp(-delta) / (1 - np.exp(-delta))
    assert P.sum() == pytest.approx(expected, rel=1e-9)
