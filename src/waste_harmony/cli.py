"""The ``waste-harmony`` command.

Subcommands::

    waste-harmony list                       registered scenarios and their parameters
    waste-harmony run RUNFILE.toml           run a run file (flags override its values)
    waste-harmony run --scenario techcore --days 365 --seed 7 --out results/
                                             a run from flags alone
    waste-harmony run --city-file areas.geojson --id-column AREA --city population=pop
    waste-harmony run --osm place.osm --cell-km 0.25
                                             a real city (districts or OSM streets)
    waste-harmony plot RESULTS_DIR           redraw the standard figures of saved results
    waste-harmony sweep / viz                when :mod:`waste_harmony.experiments` /
                                             :mod:`waste_harmony.viz` are installed

Handler convention: every subcommand is an :mod:`argparse` subparser with
``set_defaults(handler=fn)``, where ``fn(args) -> int`` returns the exit code.
Other modules add subcommands through a ``register(subparsers)`` function (see
:data:`PLUGIN_COMMANDS`). :func:`main` is the single error boundary: the
library's answers to mistakes in the user's input (:data:`USER_ERRORS`:
:class:`ConfigError` and any other :class:`ValueError`, :class:`TypeError`,
:class:`KeyError`, and the file errors :class:`FileNotFoundError`,
:class:`FileExistsError`, :class:`NotADirectoryError`, :class:`IsADirectoryError`,
:class:`PermissionError`) print one line naming the problem and the fix to stderr
and exit with status 2; the traceback is shown only with ``--debug``. Any other
exception is a defect of waste-harmony, not of the input: its traceback is
printed with a request to report it, and the exit status is 1. Command-line
syntax errors also exit with status 2, in one line.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import shutil
import sys
import tempfile
import time
import tomllib
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from waste_harmony.config import ConfigError, RunConfig, load_run_file, parse_run_config
from waste_harmony.paramspec import describe
from waste_harmony.recording import OUTPUTS
from waste_harmony.schema import CITY_FILE, FILES, MANIFEST

__all__ = [
    "EXIT_BUG",
    "EXIT_USAGE",
    "PLUGIN_COMMANDS",
    "USER_ERRORS",
    "build_parser",
    "main",
    "publish_results",
    "run_config",
    "summary_table",
]

#: Exit status for mistakes in the user's input (as argparse uses).
EXIT_USAGE = 2

#: Exceptions that mean "the input is wrong": one line and exit status 2. The library
#: raises these (with a message naming the file, key or argument and the fix) for
#: every mistake in what it is given; anything else escaping a command is a bug.
USER_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    TypeError,
    KeyError,
    FileExistsError,
    FileNotFoundError,
    NotADirectoryError,
    IsADirectoryError,
    PermissionError,
)

#: Exit status for a defect of waste-harmony itself (an unexpected exception).
EXIT_BUG = 1

#: Subcommands provided by other modules: name → (module with ``register(subparsers)``,
#: one-line help). A module is imported only when its command is used, so that heavy
#: optional dependencies (Dask, Solara) never slow down ``list``, ``run`` or ``plot``.
PLUGIN_COMMANDS: dict[str, tuple[str, str]] = {
    "sweep": (
        "waste_harmony.experiments.cli",
        "run an ensemble or parameter sweep from a TOML sweep file",
    ),
    "viz": ("waste_harmony.viz.cli", "interactive city in the browser (SolaraViz)"),
    "calibrate": (
        "waste_harmony.experiments.calibrate_cli",
        "calibrate parameters to observed data (ABC-SMC) from a TOML calibration file",
    ),
}

#: Model variables in the summary table printed after a run (``summary`` in
#: :data:`waste_harmony.recording.OUTPUTS`).
SUMMARY_VARIABLES: tuple[str, ...] = tuple(v.name for v in OUTPUTS if v.summary)

#: Files of a results folder that a new run replaces (``--force``), besides the manifest.
_RESULT_FILES = (*FILES.values(), CITY_FILE)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (status 2), naming the way to help."""

    def error(self, message: str) -> Any:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _add_debug(parser: argparse.ArgumentParser, *, top: bool) -> None:
    parser.add_argument(
        "--debug",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="show the full traceback on errors",
    )


# ---------------------------------------------------------------------------- list
def _cmd_list(args: argparse.Namespace) -> int:
    from waste_harmony.scenarios import available

    registry = available()
    if not registry:
        print(
            "No scenarios are registered. Scenarios come with waste_harmony and with "
            "packages that declare the entry point group 'waste_harmony.scenarios'."
        )
        return 0
    print(f"{len(registry)} scenario(s) registered:\n")
    width = max(len(name) for name in registry)
    for name, cls in registry.items():
        origin = (
            "" if cls.__module__.startswith("waste_harmony.") else f"  [plug-in: {cls.__module__}]"
        )
        description = " ".join((cls.description or "(no description)").split())
        print(f"  {name:<{width}}  {description}{origin}")
        rows = cls.parameter_table()
        for row in rows:
            print(f"  {'':<{width}}    {describe(row)}")
        if not rows:
            print(f"  {'':<{width}}    (no parameters)")
    print("\nUse them with: waste-harmony run --scenario NAME, or [scenarios.NAME] in a run file.")
    return 0


# ---------------------------------------------------------------------------- run
def _toml_value(text: str) -> Any:
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text  # a bare word: keep it as a string


def run_config(args: argparse.Namespace) -> RunConfig:
    """The validated run configuration of ``waste-harmony run`` (file plus flag overrides).

    Command-line flags override the run file's values; ``--scenario`` adds
    scenarios (with default parameters) after the file's.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments of the ``run`` subcommand.

    Returns
    -------
    RunConfig
        The configuration, with a seed (drawn and recorded if none was given).

    Raises
    ------
    ConfigError
        Naming the offending key.
    """
    source = None
    if args.runfile is not None:
        source = Path(args.runfile)
        data = load_run_file(source).to_dict()
    else:
        data = {}
    for key, value in (("days", args.days), ("citizens", args.citizens), ("seed", args.seed)):
        if value is not None:
            data[key] = value
    _city_flags(args, data)
    if args.scenario:
        scenarios = data.setdefault("scenarios", {})
        for name in args.scenario:
            where, colon, cls = name.rpartition(":")
            if colon and (where.endswith(".py") or "/" in where):
                # A file given on the command line is relative to the current directory.
                name = f"{Path(where).resolve()}:{cls}"
            scenarios.setdefault(name, {})
    for item in args.param or ():
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise ConfigError(
                f"expected NAME=VALUE, got {item!r} (for example --param concern_confidence=0.3)",
                "--param",
            )
        data.setdefault("parameters", {})[name.strip()] = _toml_value(text.strip())
    if data.get("seed") is None:
        # Record a fresh seed so that the run can be repeated exactly.
        # (SeedSequence() draws its entropy itself, so it is an int)
        data["seed"] = int(cast(int, np.random.SeedSequence().entropy) % 2**31)
    return parse_run_config(data, source=source)


#: ``run`` flags that choose where the city comes from: flag → ``[city]`` key.
_CITY_SOURCES = {"city_file": ("--city-file", "file"), "osm": ("--osm", "osm")}
_SOURCE_KINDS = {"file": "district file (GeoJSON, shapefile, GeoPackage)", "osm": ".osm file"}


def _city_flags(args: argparse.Namespace, data: dict[str, Any]) -> None:
    """Apply ``--city-file``/``--osm`` and their options to the run data's ``[city]``.

    A source flag replaces the run file's ``[city]`` table; ``--id-column``,
    ``--cell-km`` and ``--city KEY=VALUE`` then set keys of the resulting table,
    which is validated like a run file's (paths relative to the current folder).
    """
    given = [
        (flag, key, getattr(args, name))
        for name, (flag, key) in _CITY_SOURCES.items()
        if getattr(args, name, None) is not None
    ]
    if len(given) > 1:
        raise ConfigError("give one city source: --city-file or --osm, not both", given[1][0])
    if given:
        flag, key, value = given[0]
        path = Path(value)
        if not path.exists():
            raise ConfigError(
                f"file not found: {path} (give the path of a {_SOURCE_KINDS[key]})", flag
            )
        data["city"] = {key: str(path.resolve())}
        if key == "file" and getattr(args, "id_column", None) is None:
            raise ConfigError(
                "a district file needs --id-column NAME (the column of unique district ids)", flag
            )
    options: list[tuple[str, str, Any]] = []
    if getattr(args, "id_column", None) is not None:
        options.append(("--id-column", "id_column", args.id_column))
    if getattr(args, "cell_km", None) is not None:
        options.append(("--cell-km", "cell_km", args.cell_km))
    for item in getattr(args, "city", None) or ():
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise ConfigError(
                f"expected KEY=VALUE, got {item!r} (for example --city population=pop2020)",
                "--city",
            )
        options.append(("--city", name.strip(), _toml_value(text.strip())))
    if not options:
        return
    city = data.setdefault("city", {})
    source = next((k for k in ("file", "osm", "graphml") if k in city), None)
    for flag, key, value in options:
        needs = {"id_column": "file", "cell_km": "osm"}.get(key)
        if needs is not None and source != needs:
            raise ConfigError(
                f"{key} is an option of a city from "
                f"{'--city-file' if needs == 'file' else '--osm'}; give that flag "
                f"(or a run file with [city] {needs} = ...)",
                flag,
            )
        city[key] = value


def _positive_km(text: str) -> float:
    """``--cell-km``: a positive, finite number of km (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (np.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number of km, got {text!r}")
    return value


def summary_table(frame: pd.DataFrame, *, variables: Sequence[str] = SUMMARY_VARIABLES) -> str:
    """A short text table of a run's outcome: per variable its start, final value and peak.

    The peak is the largest value over every day of the run, with the (first) day it
    was reached, so a short-lived episode (a protest wave) shows even when it is over
    by the end.

    Parameters
    ----------
    frame : pandas.DataFrame
        Model-level series indexed by day.
    variables : sequence of str
        Rows of the table (those missing from ``frame`` are skipped; a variable
        that is not a number gets no peak).

    Returns
    -------
    str
        The table.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"protest_share": [0.0, 0.055, 0.0]},
    ...                      index=pd.Index([1, 2, 3], name="day"))
    >>> print(summary_table(frame))
                  start (day 1) final (day 3)  peak peak day
    protest_share         0.000         0.000 0.055        2
    """
    first, last = frame.index[0], frame.index[-1]
    rows = {}
    for name in (v for v in variables if v in frame.columns):
        series = frame[name]
        row: dict[str, Any] = {"start": series.iloc[0], "final": series.iloc[-1]}
        if pd.api.types.is_numeric_dtype(series):
            row["peak"] = float(series.max())
            row["peak day"] = str(series.idxmax())
        else:
            row["peak"], row["peak day"] = "", ""
        rows[name] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table = table.rename(columns={"start": f"start (day {first})", "final": f"final (day {last})"})

    def show(v: Any) -> str:
        return f"{v:,.3f}" if isinstance(v, float) else str(v)

    return table.to_string(formatters=dict.fromkeys(table.columns, show))


def publish_results(
    result: Any, folder: Path, *, force: bool = False, figures: bool = True
) -> list[Path]:
    """Write results (and their standard figures) into ``folder``, crash-safely.

    Everything is first written into a hidden staging folder next to ``folder``
    (through :meth:`~waste_harmony.results.RunResult.save`); only when all files
    are complete are they renamed into place, the manifest last. A crash while
    writing leaves ``folder`` untouched; a folder with a manifest is complete.

    Parameters
    ----------
    result : RunResult
        The results.
    folder : pathlib.Path
        Destination.
    force : bool
        Allow writing into a non-empty folder (replacing earlier results there).
    figures : bool
        Also write the standard figures.

    Returns
    -------
    list of pathlib.Path
        The files now in ``folder`` from this run.

    Raises
    ------
    FileExistsError
        If ``folder`` is not empty and ``force`` is false.
    """
    from waste_harmony.plotting import STANDARD_FIGURES, save_standard_figures

    _check_empty(folder, force=force)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.staging-"))
    try:
        result.save(staging, overwrite=True)
        if figures:
            save_standard_figures(result, staging)
        folder.mkdir(exist_ok=True)
        (folder / MANIFEST).unlink(missing_ok=True)  # incomplete until the new one lands
        new = {p.name for p in staging.iterdir()}
        stale = [folder / name for name in _RESULT_FILES if name not in new]
        stale += [p for p in folder.iterdir() if p.stem in STANDARD_FIGURES and p.name not in new]
        for path in stale:
            path.unlink(missing_ok=True)
        for name in sorted(new - {MANIFEST}):
            os.replace(staging / name, folder / name)
        os.replace(staging / MANIFEST, folder / MANIFEST)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return sorted(folder / name for name in new)


def _check_empty(folder: Path, *, force: bool) -> None:
    if folder.exists() and not folder.is_dir():
        raise FileExistsError(f"output folder {folder} is a file; choose a folder with --out")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise FileExistsError(
            f"output folder {folder} is not empty; choose another with --out "
            "or replace its results with --force"
        )


def _output_folder(args: argparse.Namespace, config: RunConfig) -> Path:
    if args.out is not None:
        return Path(args.out)
    if config.output.folder is not None:
        return Path(config.output.folder)
    stem = Path(args.runfile).stem if args.runfile else "run"
    return Path("results") / stem


def _cmd_run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from waste_harmony.results import RunResult

    config = run_config(args)
    out = _output_folder(args, config)
    _check_empty(out, force=args.force)  # fail before a long run, not after it
    model = config.build_model()
    names = [s.name for s in model.scenarios]
    print(
        f"waste-harmony run: {config.citizens:,} citizens, {model.n_nodes} neighbourhoods, "
        f"{config.days} days, seed {config.seed}, scenarios: {', '.join(names) or 'none'}"
    )
    start = time.perf_counter()
    with tqdm(
        total=config.days,
        desc="simulating",
        unit="day",
        disable=args.quiet,
        file=sys.stderr,
        dynamic_ncols=True,
    ) as bar:
        for _ in range(config.days):
            model.run_for(1)
            bar.update(1)
    wall = time.perf_counter() - start
    frame = model.model_frame()
    print(summary_table(frame))
    print(
        f"facility status at the end: {frame['facility_status'].iloc[-1]}; events logged: "
        f"{len(model.event_log)}; simulated in {wall:.1f} s"
    )
    extra = {
        "run": config.to_dict(),
        "run_file": None if config.source is None else str(config.source),
        "command": "waste-harmony run",
    }
    result = RunResult.from_model(model, wall_time_s=wall, extra=extra)
    figures = config.output.figures and not args.no_figures
    written = publish_results(result, out, force=args.force, figures=figures)
    print(f"wrote {out}/: {', '.join(p.name for p in written)}")
    return 0


# ---------------------------------------------------------------------------- plot
def _cmd_plot(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from waste_harmony.plotting import save_standard_figures
    from waste_harmony.results import RunResult

    result = RunResult.load(args.results)
    out = Path(args.out) if args.out is not None else Path(args.results)
    written = save_standard_figures(result, out, fmt=args.format, dpi=args.dpi)
    print(f"wrote {', '.join(str(p) for p in written)}")
    return 0


# ---------------------------------------------------------------------------- parser
def _plugin_exists(module_name: str) -> bool:
    """Whether ``module_name`` exists, without importing its (possibly heavy) package."""
    package, _, leaf = module_name.rpartition(".")
    try:
        parent = importlib.util.find_spec(package)  # imports the grandparent only
    except (ImportError, ValueError):
        return False
    if parent is None or not parent.submodule_search_locations:
        return False
    return any(
        (Path(loc) / f"{leaf}.py").exists() or (Path(loc) / leaf).is_dir()
        for loc in parent.submodule_search_locations
    )


def _register_plugins(subparsers: Any, load: set[str]) -> None:
    for name, (module_name, help_text) in PLUGIN_COMMANDS.items():
        if not _plugin_exists(module_name):
            continue
        if name not in load:
            # Listed in --help; the real parser is built only when the command is used.
            subparsers.add_parser(name, help=help_text, add_help=False)
            continue
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            # The module exists but an optional dependency is missing: say how to get it.
            # prefix_chars that never occur: every argument is taken as a plain word.
            stub = subparsers.add_parser(
                name, help=f"(unavailable: {exc})", add_help=False, prefix_chars="\x00"
            )
            stub.add_argument("rest", nargs="*")
            stub.set_defaults(handler=_unavailable(f"'{name}' is unavailable: {exc}"))
            continue
        module.register(subparsers)


def _unavailable(reason: str) -> Any:
    def handler(args: argparse.Namespace) -> int:
        hint = (
            ""
            if "pip install" in reason
            else ("; install the optional dependencies (pip install 'waste-harmony[dev]')")
        )
        print(f"waste-harmony: error: {reason}{hint}", file=sys.stderr)
        return EXIT_USAGE

    return handler


def build_parser(load: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The ``waste-harmony`` argument parser with every subcommand.

    Parameters
    ----------
    load : sequence of str
        Plug-in commands (:data:`PLUGIN_COMMANDS`) whose real parsers to build; the
        others are listed in ``--help`` only, so their modules are not imported.

    Returns
    -------
    argparse.ArgumentParser
        The parser; ``parse_args`` gives a namespace with ``handler``.

    Examples
    --------
    >>> args = build_parser().parse_args(["run", "--days", "5", "--quiet"])
    >>> args.days, args.quiet, args.handler.__name__
    (5, True, '_cmd_run')
    """
    from waste_harmony._version import __version__

    parser = _Parser(
        prog="waste-harmony",
        description="Agent-based simulation of cities, waste, ecology and "
        "collective action, built on Mesa.",
    )
    parser.add_argument("--version", action="version", version=f"waste-harmony {__version__}")
    _add_debug(parser, top=True)
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")

    p = subparsers.add_parser(
        "list",
        help="list the registered scenarios and their parameters",
        description="List the registered scenarios (built-in and "
        "plug-ins) with a description and their parameters.",
    )
    _add_debug(p, top=False)
    p.set_defaults(handler=_cmd_list)

    p = subparsers.add_parser(
        "run",
        help="run a simulation from a run file and/or flags",
        description="Run a simulation, print a summary and write series (Parquet), events, a "
        "manifest and figures to the output folder. Flags override the run file.",
    )
    p.add_argument("runfile", nargs="?", help="TOML run file (see examples/runs/)")
    p.add_argument(
        "--scenario",
        action="append",
        metavar="NAME",
        help="add a scenario by name (repeatable; see 'waste-harmony list'), or your own "
        "as package.module:Class or path/to/file.py:Class (this runs that code)",
    )
    p.add_argument("--days", type=int, help="days to simulate (default 365)")
    p.add_argument("--citizens", type=int, help="number of citizens (default 10000)")
    p.add_argument("--seed", type=int, help="random seed (default: drawn and recorded)")
    p.add_argument(
        "--param",
        action="append",
        metavar="NAME=VALUE",
        help="set a model parameter, e.g. --param concern_confidence=0.3 "
        "(repeatable; values in TOML syntax)",
    )
    city = p.add_argument_group(
        "city from a file (needs the geo extra; replaces the run file's [city])"
    )
    city.add_argument(
        "--city-file",
        metavar="PATH",
        help="district polygons (GeoJSON, shapefile, GeoPackage): one neighbourhood per "
        "polygon; name the id column with --id-column",
    )
    city.add_argument(
        "--osm", metavar="PATH", help="an OpenStreetMap .osm(.bz2) file, read offline"
    )
    city.add_argument("--id-column", metavar="NAME", help="district id column (--city-file)")
    city.add_argument(
        "--cell-km",
        type=_positive_km,
        metavar="KM",
        help="side of the square cells of an --osm city, km (default 0.25)",
    )
    city.add_argument(
        "--city",
        action="append",
        metavar="KEY=VALUE",
        help="any other [city] key of a run file, e.g. --city population=pop2020 "
        "--city crs=EPSG:3435 --city 'columns={land_price=\"HOVAL\"}' (repeatable; "
        "values in TOML syntax)",
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        help="output folder (default: the run file's [output] folder, or results/<run file name>)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="write into a non-empty output folder, replacing earlier results",
    )
    p.add_argument(
        "--no-figures",
        action="store_true",
        help="do not draw the figures (redraw later with 'waste-harmony plot')",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_debug(p, top=False)
    p.set_defaults(handler=_cmd_run)

    p = subparsers.add_parser(
        "plot",
        help="redraw the standard figures from saved results",
        description="Redraw the standard figures (overview, map) from a "
        "results folder written by 'waste-harmony run'.",
    )
    p.add_argument("results", metavar="RESULTS_DIR", help="a results folder")
    p.add_argument("--out", metavar="DIR", help="where to write (default: RESULTS_DIR)")
    p.add_argument(
        "--format", default="png", choices=("png", "pdf", "svg"), help="file format (default png)"
    )
    p.add_argument("--dpi", type=int, default=110, help="resolution of PNGs (default 110)")
    _add_debug(p, top=False)
    p.set_defaults(handler=_cmd_plot)

    _register_plugins(subparsers, set(load))
    return parser


def _one_line(exc: BaseException) -> str:
    message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
    return " ".join(str(message).split()) or type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``waste-harmony`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 2 for a mistake in the input (one line on stderr;
        ``--debug`` adds the traceback), 1 for a failed sweep run or a defect of
        waste-harmony (with its traceback), 130 when interrupted.
    """
    tokens = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(load=[name for name in PLUGIN_COMMANDS if name in tokens])
    try:
        args = parser.parse_args(tokens)
    except SystemExit as exc:  # --help, --version, or a syntax error (already printed)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_usage(sys.stderr)
        print(
            "waste-harmony: error: choose a command: list, run, plot (see 'waste-harmony --help')",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        return int(handler(args) or 0)
    except USER_ERRORS as exc:
        if args.debug:
            traceback.print_exc()
        print(f"waste-harmony: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("waste-harmony: interrupted", file=sys.stderr)
        return 130
    except MemoryError:  # asked for more than the machine holds (citizens, city size)
        if args.debug:
            traceback.print_exc()
        print(
            "waste-harmony: error: out of memory: the run asks for more than this machine "
            "holds; lower --citizens or the city's size",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except Exception as exc:  # a defect of ours, not the user's: keep the traceback
        traceback.print_exc()
        print(
            f"waste-harmony: internal error ({type(exc).__name__}): {_one_line(exc)}. "
            "This is a bug in waste-harmony, not in your input; please report it with "
            "the traceback above.",
            file=sys.stderr,
        )
        return EXIT_BUG
