"""``waste-harmony run``: one simulation from a run file and/or flags.

``waste-harmony run [RUNFILE.toml] [--scenario NAME] [--days N] [--citizens N]
[--seed N] [--param NAME=VALUE] [--city-file PATH --id-column NAME | --osm PATH
--cell-km KM] [--city KEY=VALUE] [--out DIR] [--force] [--no-figures] [--quiet]``
prints a summary and writes the series, events, manifest and figures
(:mod:`waste_harmony.cli.output`). Flags override the run file's values.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any, cast

import numpy as np

from waste_harmony.cli.common import key_value, may_be_large, positive_number, progress_bar
from waste_harmony.cli.output import check_output_folder, publish_results, summary_table
from waste_harmony.config import ConfigError, RunConfig, load_run_file, parse_run_config
from waste_harmony.storage import folder_lock

__all__ = ["DESCRIPTION", "add_arguments", "handle", "run_config"]

DESCRIPTION = (
    "Run a simulation, print a summary and write series (Parquet), events, a manifest and "
    "figures to the output folder. Flags override the run file."
)

#: ``run`` flags that choose where the city comes from: attribute → (flag, ``[city]`` key).
CITY_SOURCES = {"city_file": ("--city-file", "file"), "osm": ("--osm", "osm")}
SOURCE_KINDS = {"file": "district file (GeoJSON, shapefile, GeoPackage)", "osm": ".osm file"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``run``."""
    parser.add_argument("runfile", nargs="?", help="TOML run file (see examples/runs/)")
    parser.add_argument(
        "--scenario",
        action="append",
        metavar="NAME",
        help="add a scenario by name (repeatable; see 'waste-harmony list'), or your own "
        "as package.module:Class or path/to/file.py:Class (this runs that code)",
    )
    parser.add_argument("--days", type=int, help="days to simulate (default 365)")
    parser.add_argument("--citizens", type=int, help="number of citizens (default 10000)")
    parser.add_argument("--seed", type=int, help="random seed (default: drawn and recorded)")
    parser.add_argument(
        "--param",
        action="append",
        metavar="NAME=VALUE",
        help="set a model parameter, e.g. --param concern_confidence=0.3 "
        "(repeatable; values in TOML syntax)",
    )
    city = parser.add_argument_group(
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
        type=positive_number("km"),
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
    parser.add_argument(
        "--out",
        metavar="DIR",
        help="output folder (default: the run file's [output] folder, or results/<run file name>)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="write into a non-empty output folder, replacing earlier results",
    )
    parser.add_argument(
        "--no-figures",
        action="store_true",
        help="do not draw the figures (redraw later with 'waste-harmony plot')",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


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
        for given in args.scenario:
            name = given
            where, colon, cls = name.rpartition(":")
            if colon and (where.endswith(".py") or "/" in where):
                # A file given on the command line is relative to the current directory.
                name = f"{Path(where).resolve()}:{cls}"
            if name in scenarios:
                # a scenario runs once per model (CityModel refuses it twice too)
                twice = (
                    "given twice"
                    if args.scenario.count(given) > 1
                    else "already in the run file's [scenarios]"
                )
                raise ConfigError(
                    f"scenario {given!r} is {twice}; a scenario is installed once per run "
                    "(set its parameters in the run file's [scenarios] table)",
                    "--scenario",
                )
            scenarios[name] = {}
    for item in args.param or ():
        name, value = key_value(
            item, "--param", metavar="NAME=VALUE", example="concern_confidence=0.3"
        )
        data.setdefault("parameters", {})[name] = value
    if data.get("seed") is None:
        # Record a fresh seed so that the run can be repeated exactly.
        # (SeedSequence() draws its entropy itself, so it is an int)
        data["seed"] = int(cast(int, np.random.SeedSequence().entropy) % 2**31)
    return parse_run_config(data, source=source)


def _city_flags(args: argparse.Namespace, data: dict[str, Any]) -> None:
    """Apply ``--city-file``/``--osm`` and their options to the run data's ``[city]``.

    A source flag replaces the run file's ``[city]`` table; ``--id-column``,
    ``--cell-km`` and ``--city KEY=VALUE`` then set keys of the resulting table,
    which is validated like a run file's (paths relative to the current folder).
    """
    given = [
        (flag, key, getattr(args, name))
        for name, (flag, key) in CITY_SOURCES.items()
        if getattr(args, name, None) is not None
    ]
    if len(given) > 1:
        raise ConfigError("give one city source: --city-file or --osm, not both", given[1][0])
    if given:
        flag, key, value = given[0]
        path = Path(value)
        if not path.exists():
            raise ConfigError(
                f"file not found: {path} (give the path of a {SOURCE_KINDS[key]})", flag
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
        options.append(
            (
                "--city",
                *key_value(item, "--city", metavar="KEY=VALUE", example="population=pop2020"),
            )
        )
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


def _output_folder(args: argparse.Namespace, config: RunConfig) -> Path | str:
    if args.out is not None:
        return args.out if not args.out.strip() else Path(args.out)  # "" is refused later
    if config.output.folder is not None:
        return Path(config.output.folder)
    stem = Path(args.runfile).stem if args.runfile else "run"
    return Path("results") / stem


def _forbidden(config: RunConfig) -> list[tuple[Path, str]]:
    """Folders the results must not go into: the run file's own folder."""
    if config.source is None:
        return []
    return [(config.source.resolve().parent, f"the folder of the run file {config.source}")]


def handle(args: argparse.Namespace) -> int:
    """Run, print the summary and write the results folder: 0 when written."""
    from waste_harmony.results import RunResult

    config = run_config(args)
    forbid = _forbidden(config)
    folder = _output_folder(args, config)
    with folder_lock(folder, "run"):  # one writer: a second run --out SAME is refused
        # before a long run, not after it
        out = check_output_folder(folder, force=args.force, forbid=forbid)
        large = f"a run of {config.citizens:,} citizens over {config.days:,} days"
        with may_be_large(large, "lower --citizens, --days or the city's size"):
            model = config.build_model()
        names = [s.name for s in model.scenarios]
        print(
            f"waste-harmony run: {config.citizens:,} citizens, {model.n_nodes} neighbourhoods, "
            f"{config.days} days, seed {config.seed}, scenarios: {', '.join(names) or 'none'}"
        )
        start = time.perf_counter()
        with (
            may_be_large(large, "lower --citizens, --days or the city's size"),
            progress_bar(config.days, desc="simulating", unit="day", quiet=args.quiet) as bar,
        ):
            for _ in range(config.days):
                model.run_for(1)
                bar.update(1)
        wall = time.perf_counter() - start
        extra = {
            "run": config.to_dict(),
            "run_file": None if config.source is None else str(config.source),
            "command": "waste-harmony run",
        }
        result = RunResult.from_model(model, wall_time_s=wall, extra=extra)
        figures = config.output.figures and not args.no_figures
        # published before anything is printed about it: a closed stdout (| head) loses nothing
        written = publish_results(result, out, force=args.force, figures=figures, forbid=forbid)
        frame = model.model_frame()
        print(summary_table(frame, variables=[v.name for v in model.outputs if v.summary]))
        print(
            f"facility status at the end: {frame['facility_status'].iloc[-1]}; events logged: "
            f"{len(model.event_log)}; simulated in {wall:.1f} s"
        )
        print(f"wrote {out}/: {', '.join(p.name for p in written)}")
        return 0
