import os

import matplotlib
import pytest
from hypothesis import HealthCheck, settings

os.environ.setdefault("MPLBACKEND", "Agg")
matplotlib.use("Agg")

# Property-based tests (tests/test_properties.py): no examples database in the repository,
# no per-example deadline (a model run takes a while), and derandomised examples so the
# suite repeats; WASTE_HARMONY_HYPOTHESIS=explore searches with fresh random examples.
settings.register_profile(
    "waste-harmony",
    database=None,
    deadline=None,
    derandomize=os.environ.get("WASTE_HARMONY_HYPOTHESIS") != "explore",
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.load_profile("waste-harmony")


@pytest.fixture(scope="session")
def small_city():
    from waste_harmony.city import grid_city

    return grid_city(6, 6, seed=3)
