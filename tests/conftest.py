import os
from pathlib import Path

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


TESTS = Path(__file__).resolve().parent
NOTEBOOKS = TESTS.parent / "examples" / "notebooks"


@pytest.fixture(scope="session")
def small_city():
    from waste_harmony.city import grid_city

    return grid_city(6, 6, seed=3)


@pytest.fixture(scope="session")
def dask_client():
    """One local Dask cluster (2 worker processes) for every test that needs one.

    Starting a cluster costs several seconds of CPU (four processes importing Dask and
    the model), so the tests share one (see SHARED_FIXTURES below). Its workers can
    import ``tests/experiment_helpers.py`` (their PYTHONPATH includes tests/).
    """
    import distributed  # a dev dependency: a missing one must fail, not skip

    environ = dict(os.environ)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(TESTS), environ.get("PYTHONPATH")])
    )
    try:
        with (
            distributed.LocalCluster(
                n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            # Dask's nanny sets MALLOC_TRIM_THRESHOLD_ etc. in this process too when it
            # spawns its workers; undo that (and PYTHONPATH) for the other tests.
            os.environ.clear()
            os.environ.update(environ)
            yield client
    finally:
        os.environ.clear()
        os.environ.update(environ)


@pytest.fixture(scope="session")
def executed_notebook(tmp_path_factory):
    """Execute an example notebook once per session: ``execute(name) -> (notebook, folder)``.

    Each notebook runs with nbclient in an empty folder of its own (its working
    directory, returned so tests can check that it stays empty). tests/test_notebooks.py
    checks the outputs and tests/test_docs.py renders the same executed copies instead of
    running them a second time (see SHARED_FIXTURES below).
    """
    import nbformat
    from nbclient import NotebookClient

    done: dict = {}

    def execute(name):
        if name not in done:
            folder = tmp_path_factory.mktemp(Path(name).stem)
            notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
            try:
                NotebookClient(
                    notebook,
                    timeout=300,
                    kernel_name="python3",
                    resources={"metadata": {"path": str(folder)}},
                ).execute()
            except Exception as error:  # reported to every test that needs this notebook
                done[name] = error
            else:
                done[name] = (notebook, folder)
        if isinstance(done[name], Exception):
            raise done[name]
        return done[name]

    return execute


# ------------------------------------------------------------------ parallel runs
# scripts/test.sh runs the suite on pytest-xdist workers (``-n auto --dist loadfile``).
# Three rules keep that as cheap as a serial run and short at the end:
#
# * a test file is one unit of work: all its tests run on one worker, so a module-scoped
#   fixture is built once, as in a serial run;
# * the files that use one of the expensive session fixtures of SHARED_FIXTURES form one
#   unit together, so that fixture too is built once (a file that uses it must be listed);
# * the files with slow tests are handed out first, the longest units (LONGEST_FIRST)
#   before all, so that no worker starts a minute-long test while the other has nothing
#   left to do.

#: Expensive session-scoped fixtures (above) and the test files that use them.
SHARED_FIXTURES = {
    "executed_notebook": ("tests/test_docs.py", "tests/test_notebooks.py"),
    "dask_client": ("tests/test_calibration.py", "tests/test_experiments.py"),
}
_UNIT_OF_FILE = {path: name for name, files in SHARED_FIXTURES.items() for path in files}

#: The longest units of work, longest first (``--durations`` on 2 cores, 2026-12-06):
#: the executed notebooks with the docs build (~2.5 min), then the story's ensembles.
#: They start before the other slow files, so that they do not run alone at the end.
LONGEST_FIRST = ("tests/test_docs.py", "tests/test_story_outcomes.py")


def _unit(nodeid: str) -> str:
    """The unit of work of a test: its shared fixture's name, else its file."""
    path = nodeid.split("::", 1)[0]
    return _UNIT_OF_FILE.get(path, path)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class FileScheduling(LoadScopeScheduling):
        """``--dist loadfile`` with the files of SHARED_FIXTURES joined into one unit."""

        def _split_scope(self, nodeid: str) -> str:
            return _unit(nodeid)

    # hand the units out in the order of pytest_collection_modifyitems below, not with
    # the most tests first
    config.option.loadscopereorder = False
    return FileScheduling(config, log)


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        for name, files in SHARED_FIXTURES.items():
            if name in getattr(item, "fixturenames", ()) and path not in files:
                raise pytest.UsageError(
                    f"{item.nodeid} uses the session fixture {name}: add {path} to its "
                    "files in SHARED_FIXTURES (tests/conftest.py), so that parallel runs "
                    "build it once"
                )
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return  # a serial run keeps the files in their usual order
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    longest = {_unit(path): rank for rank, path in enumerate(LONGEST_FIRST)}

    def order(item):
        unit = _unit(item.nodeid)
        return (longest.get(unit, len(longest)), item.path not in slow_files)

    items.sort(key=order)  # stable: the order is kept within a unit
