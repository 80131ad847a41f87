"""The ``waste-harmony`` command, one module per subcommand.

Subcommands::

    waste-harmony list                       registered scenarios and their parameters
    waste-harmony run RUNFILE.toml           run a run file (flags override its values)
    waste-harmony run --scenario techcore --days 365 --seed 7 --out results/
                                             a run from flags alone
    waste-harmony run --city-file areas.geojson --id-column AREA --city population=pop
    waste-harmony run --osm place.osm --cell-km 0.25
                                             a real city (districts or OSM streets)
    waste-harmony plot RESULTS_DIR           redraw the standard figures of saved results
    waste-harmony sweep SWEEPFILE.toml       an ensemble or parameter sweep
    waste-harmony calibrate CALIBFILE.toml   calibration to observed data (regression ABC)
    waste-harmony viz [RUNFILE.toml]         the interactive city in the browser

Modules: :mod:`~waste_harmony.cli.command` (the parser and the error boundary,
:func:`main`), :mod:`~waste_harmony.cli.common` (exit statuses, the errors that are
the user's, shared options, progress), :mod:`~waste_harmony.cli.output` (the
summary table and the crash-safe results folder of ``run``), and one module per
subcommand: :mod:`~waste_harmony.cli.listing` (``list``),
:mod:`~waste_harmony.cli.run`, :mod:`~waste_harmony.cli.plot`,
:mod:`~waste_harmony.cli.sweep`, :mod:`~waste_harmony.cli.calibrate` and
:mod:`~waste_harmony.cli.viz`. A new subcommand is a module with ``DESCRIPTION``,
``add_arguments(parser)`` and ``handle(args)``, and a row of
:data:`~waste_harmony.cli.command.COMMANDS`.

Exit statuses: 0 done; 1 some runs of a sweep failed, or a defect of waste-harmony
(traceback shown); 2 a mistake in the input (one line; ``--debug`` for the
traceback); 130 interrupted.
"""

from waste_harmony.cli.command import COMMANDS, build_parser, main
from waste_harmony.cli.common import EXIT_BUG, EXIT_USAGE, USER_ERRORS
from waste_harmony.cli.output import publish_results, summary_table
from waste_harmony.cli.run import run_config

__all__ = [
    "COMMANDS",
    "EXIT_BUG",
    "EXIT_USAGE",
    "USER_ERRORS",
    "build_parser",
    "main",
    "publish_results",
    "run_config",
    "summary_table",
]
