"""Experiments at scale: runs, ensembles, sweeps, paired comparisons, sensitivity analysis.

Every experiment is a plan of runs fixed in advance — parameter points × seeds
spawned from one root seed — executed by any :class:`concurrent.futures.Executor`:
a local spawn process pool by default, ``"serial"``, or a Dask
``distributed.Client`` for a cluster. Results stream to disk, one folder of
Parquet files per finished run, so interrupted experiments keep every finished
run and resume where they stopped; :class:`SweepResult` reads them back lazily.

Dask and SALib are imported only when used (install the ``experiments`` extra).

Examples
--------
>>> from waste_harmony import experiments
>>> result = experiments.ensemble(n_citizens=100, days=5, seeds=3, root_seed=7,
...                               executor="serial", progress=False)
>>> result.summary("mean_concern")[["day", "n"]].tail(1).to_dict("records")
[{'day': 5, 'n': 3}]
"""

from waste_harmony.experiments.calibration import (
    CalibrationResult,
    calibrate,
    load_calibration,
)
from waste_harmony.experiments.compare import Comparison, compare
from waste_harmony.experiments.discovery import PrimBox, discover, prim
from waste_harmony.experiments.plan import (
    ConfigFactory,
    grid,
    latin_hypercube,
    plan_seeds,
)
from waste_harmony.experiments.runner import SerialExecutor, ensemble, run, sweep
from waste_harmony.experiments.sensitivity import (
    SensitivityResult,
    analyze,
    sample,
    sensitivity,
)
from waste_harmony.experiments.store import SweepResult, load_experiment, load_results

__all__ = [
    "CalibrationResult",
    "Comparison",
    "ConfigFactory",
    "PrimBox",
    "SensitivityResult",
    "SerialExecutor",
    "SweepResult",
    "analyze",
    "calibrate",
    "compare",
    "discover",
    "ensemble",
    "grid",
    "latin_hypercube",
    "load_calibration",
    "load_experiment",
    "load_results",
    "plan_seeds",
    "prim",
    "run",
    "sample",
    "sensitivity",
    "sweep",
]
