import os

import matplotlib
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
matplotlib.use("Agg")


@pytest.fixture(scope="session")
def small_city():
    from waste_harmony.city import grid_city

    return grid_city(6, 6, seed=3)
