"""Many runs: plan them, check the plan, execute it on any executor, store and resume.

The machinery under every experiment. An experiment is a plan of runs fixed in
advance — parameter points × seeds spawned from one root seed — executed by any
:class:`concurrent.futures.Executor`; results stream to disk, one folder of Parquet
files per finished run, so an interrupted experiment keeps every finished run and
resumes where it stopped. One module per job:

- :mod:`~waste_harmony.batch.plan` — seeds, parameter points, the tasks;
- :mod:`~waste_harmony.batch.checks` — the whole plan checked before anything runs;
- :mod:`~waste_harmony.batch.executors` — executors, pools and the streaming loop;
- :mod:`~waste_harmony.batch.worker` — one task in a worker: build, run, tidy, write;
- :mod:`~waste_harmony.batch.store` — the experiment folder and :class:`SweepResult`;
- :mod:`~waste_harmony.batch.identity` and :mod:`~waste_harmony.batch.resume` — an
  experiment's fingerprint, and resuming its folder;
- :mod:`~waste_harmony.batch.runner` — :func:`experiment` ties these together;
  :func:`run`, :func:`ensemble` and :func:`sweep` are its public faces.

The analyses built on it (comparisons, sensitivity, calibration, scenario discovery)
are in :mod:`waste_harmony.experiments`, the one import path users need: it
re-exports the public names of this package.

Examples
--------
>>> from waste_harmony.batch import ensemble
>>> result = ensemble(n_citizens=100, days=2, seeds=2, executor="serial", progress=False)
>>> result.n_finished
2
"""

from waste_harmony.batch.plan import ConfigFactory, grid, latin_hypercube, plan_seeds
from waste_harmony.batch.runner import (
    Execution,
    SerialExecutor,
    ensemble,
    experiment,
    run,
    sweep,
)
from waste_harmony.batch.store import SweepResult, load_experiment, load_results

__all__ = [
    "ConfigFactory",
    "Execution",
    "SerialExecutor",
    "SweepResult",
    "ensemble",
    "experiment",
    "grid",
    "latin_hypercube",
    "load_experiment",
    "load_results",
    "plan_seeds",
    "run",
    "sweep",
]
