"""Species–area: losing a fraction h of habitat keeps (1 − h)^z of the species.

Arrhenius (1921), MacArthur & Wilson (1967): S = c A^z. Darlington's rule of thumb
(a tenfold loss of area halves the fauna) corresponds to z = log10(2) ≈ 0.30.
"""

import math

import numpy as np
import pytest

from waste_harmony import CityModel, Corporation
from waste_harmony.dynamics.biodiversity import (
    biodiversity_index,
    species_area,
    species_remaining,
)


@pytest.mark.validation
@pytest.mark.parametrize("z", [0.15, 0.25, 0.35])
@pytest.mark.parametrize("h", [0.0, 0.1, 0.5, 0.9])
def test_species_kept_after_habitat_loss_is_one_minus_h_to_the_z(z, h):
    area = 37.0
    ratio = species_area(area * (1 - h), c=12.0, z=z) / species_area(area, c=12.0, z=z)
    assert float(ratio) == pytest.approx((1 - h) ** z, rel=1e-12)
    assert float(species_remaining(h, z=z)) == pytest.approx((1 - h) ** z, rel=1e-12)
    assert biodiversity_index(area * (1 - h), area, z=z) == pytest.approx((1 - h) ** z)


@pytest.mark.validation
def test_darlingtons_rule_tenfold_area_loss_halves_species():
    assert float(species_remaining(0.9, z=math.log10(2))) == pytest.approx(0.5, abs=1e-12)


@pytest.mark.validation
def test_model_biodiversity_index_after_a_facility_is_species_area_of_habitat_lost():
    model = CityModel(n_citizens=200, rng=2)
    hoods = model.neighborhoods
    area0 = float((hoods.habitat * hoods.area_km2).sum())
    site = int(np.argmax(hoods.habitat * hoods.area_km2))
    lost = float(hoods.habitat[site] * hoods.area_km2[site]) * 0.9
    firm = Corporation(model, "TechCore", habitat_loss=0.9)
    firm.propose(model.node_ids[site])
    firm.build()
    model.pipeline.remove("organism")
    model.run_for(1)
    h = lost / area0
    expected = float(species_remaining(h, z=model.params.species_area_z))
    assert model.model_frame()["biodiversity_index"].iloc[-1] == pytest.approx(expected, rel=1e-12)
    assert expected < 1.0
