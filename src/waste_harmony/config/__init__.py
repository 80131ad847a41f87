"""The TOML files: run files, sweep files and calibration files, read one way.

Three kinds of file describe what to run; the last two are run files with one
more table:

- a **run file** — one run: city, citizens, parameters, scenarios, days, seed,
  outputs — read by :func:`load_run_file`;
- a **sweep file** — a run file plus ``[sweep]`` — read by
  :func:`~waste_harmony.config.sweep.load_sweep_file`;
- a **calibration file** — a run file plus ``[calibration]`` — read by
  :func:`~waste_harmony.config.calibration.load_calibration_file`.

Modules: :mod:`~waste_harmony.config.reader` (the shared reader: tables declared as
keys with checks, paths relative to the file, every mistake at once),
:mod:`~waste_harmony.config.errors` (:class:`ConfigError` and the wording of the
same mistake in every file), :mod:`~waste_harmony.config.run` and
:mod:`~waste_harmony.config.city` (run files), :mod:`~waste_harmony.config.varied`
(the names a sweep or calibration varies), :mod:`~waste_harmony.config.sweep` and
:mod:`~waste_harmony.config.calibration` (these two need
:mod:`waste_harmony.experiments`, so this package does not import them).
"""

from waste_harmony.config.city import GENERATORS, CityConfig
from waste_harmony.config.errors import ConfigError, combine_errors, did_you_mean
from waste_harmony.config.reader import leaf_paths, read_toml, with_path
from waste_harmony.config.run import OutputConfig, RunConfig, load_run_file, parse_run_config

__all__ = [
    "GENERATORS",
    "CityConfig",
    "ConfigError",
    "OutputConfig",
    "RunConfig",
    "combine_errors",
    "did_you_mean",
    "leaf_paths",
    "load_run_file",
    "parse_run_config",
    "read_toml",
    "with_path",
]
