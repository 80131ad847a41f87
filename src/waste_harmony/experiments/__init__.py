"""Experiments at scale: runs, ensembles, sweeps, paired comparisons, sensitivity analysis.

The one import path for experiments. Two packages by job stand behind it: the
machinery that plans, executes, stores and resumes many runs is
:mod:`waste_harmony.batch` (:func:`run`, :func:`ensemble`, :func:`sweep`,
:class:`SweepResult`, re-exported here); the analyses built on it live in this
package: :func:`compare`, :func:`convergence` (in the number of citizens),
:func:`sensitivity`, :func:`calibrate` (ABC-SMC) and :func:`discover` (PRIM).

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

import importlib
import sys

from waste_harmony.batch.guard import UnguardedMainError
from waste_harmony.batch.plan import ConfigFactory, grid, latin_hypercube, plan_seeds
from waste_harmony.batch.runner import SerialExecutor, ensemble, run, sweep
from waste_harmony.batch.store import SweepResult, load_experiment, load_results
from waste_harmony.experiments.calibration import (
    CalibrationResult,
    calibrate,
    load_calibration,
)
from waste_harmony.experiments.compare import Comparison, compare
from waste_harmony.experiments.convergence import ConvergenceResult, convergence
from waste_harmony.experiments.discovery import PrimBox, discover, prim
from waste_harmony.experiments.sensitivity import (
    SensitivityResult,
    analyze,
    sample,
    sensitivity,
)

#: Modules that moved to :mod:`waste_harmony.batch`; their old paths
#: (``waste_harmony.experiments.runner``, ...) stay importable as aliases.
MOVED_TO_BATCH = ("checks", "executors", "identity", "plan", "resume", "runner", "store", "worker")
for _name in MOVED_TO_BATCH:
    _module = importlib.import_module(f"waste_harmony.batch.{_name}")
    sys.modules[f"{__name__}.{_name}"] = _module
    globals()[_name] = _module
#: The readers of sweep and calibration files moved to :mod:`waste_harmony.config`
#: (``config.sweep``, ``config.calibration``); their old paths stay importable too.
MOVED_TO_CONFIG = {"sweepfile": "sweep", "calibfile": "calibration"}
for _name, _new in MOVED_TO_CONFIG.items():
    _module = importlib.import_module(f"waste_harmony.config.{_new}")
    sys.modules[f"{__name__}.{_name}"] = _module
    globals()[_name] = _module
del _name, _new, _module

__all__ = [
    "CalibrationResult",
    "Comparison",
    "ConfigFactory",
    "ConvergenceResult",
    "PrimBox",
    "SensitivityResult",
    "SerialExecutor",
    "SweepResult",
    "UnguardedMainError",
    "analyze",
    "calibrate",
    "compare",
    "convergence",
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
