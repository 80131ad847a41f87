"""Exposure raises concern: the closed form under constant exposure."""

import numpy as np
import pytest

from waste_harmony.dynamics.perception import perceived_harm, raise_concern

pytestmark = pytest.mark.validation


def test_constant_exposure_closes_the_gap_to_one_geometrically():
    concern = np.array([0.0, 0.3, 0.9])
    start = concern.copy()
    harm = perceived_harm(np.full(3, 30.0), 15.0)  # 2/3
    for _ in range(200):
        raise_concern(concern, harm, rate=0.01)
    expected = 1 - (1 - start) * (1 - 0.01 * 2 / 3) ** 200
    np.testing.assert_allclose(concern, expected, rtol=1e-12)
    assert np.all((concern >= 0) & (concern <= 1))


def test_clean_air_leaves_concern_alone_and_harm_saturates():
    concern = np.array([0.1, 0.5])
    raise_concern(concern, perceived_harm(np.zeros(2), 15.0), rate=0.5)
    assert concern.tolist() == [0.1, 0.5]
    assert perceived_harm(1e9, 15.0) == pytest.approx(1.0, abs=1e-7)
