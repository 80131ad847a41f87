"""``waste-harmony sweep``: an ensemble or parameter sweep from a sweep file.

``waste-harmony sweep SWEEPFILE.toml [--workers N] [--scheduler tcp://HOST:PORT]
[--out DIR] [--resume] [--force] [--quiet]`` runs the sweep a sweep file describes
(:mod:`waste_harmony.config.sweep`) on a local process pool, or on a Dask cluster
when ``--scheduler`` is given, writing one folder of Parquet files per run into
``--out`` (default: the file's ``[output] folder``).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from waste_harmony.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    add_experiment_options,
    execution_options,
    experiment_folder,
    may_be_large,
    user_errors,
)
from waste_harmony.config import ConfigError

__all__ = ["DESCRIPTION", "add_arguments", "handle"]

DESCRIPTION = (
    "Run the sweep a TOML sweep file describes (a run file plus a [sweep] table), one "
    "Parquet folder per run, on local processes or a Dask cluster."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``sweep``."""
    parser.add_argument("sweepfile", help="the sweep file (TOML)")
    add_experiment_options(
        parser,
        resume_help="skip runs already finished in the output folder",
        force_help="replace a different experiment already in the output folder",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="address of a Dask scheduler, e.g. tcp://10.0.0.5:8786, to run "
        "the sweep on its cluster instead of --workers (needs the 'experiments' extra)",
    )


def _dask_client(address: str) -> Any:
    try:
        from distributed import Client
    except ImportError as exc:
        raise ConfigError(
            "--scheduler needs Dask: pip install 'waste-harmony[experiments]'"
        ) from exc
    try:
        return Client(address, timeout="20s")
    except OSError as exc:
        raise ConfigError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc


def handle(args: argparse.Namespace) -> int:
    """Run the sweep: 0 if every run finished, 1 if some failed (see ``failures/``)."""
    from waste_harmony.batch.runner import sweep
    from waste_harmony.config.sweep import load_sweep_file

    if args.scheduler is not None and args.workers is not None:
        raise ConfigError(
            "give --workers (local processes) or --scheduler (a Dask cluster), not both"
        )
    config = load_sweep_file(args.sweepfile)
    out = experiment_folder(args, config.run.output.folder, source=config.run.source)
    client = None if args.scheduler is None else _dask_client(args.scheduler)
    try:
        large = f"the sweep of {len(config.design):,} points x {config.seeds:,} seeds"
        with (
            user_errors(FileExistsError, ValueError),
            may_be_large(large, "split it into several sweeps with fewer points or seeds"),
        ):
            result = sweep(
                config.run,
                parameters=config.design,
                seeds=config.seeds,
                root_seed=config.root_seed,
                common_random_numbers=config.common_random_numbers,
                out=out,
                **execution_options(args, client),
            )
    finally:
        if client is not None:
            client.close()
    if result.n_finished:
        from waste_harmony.cli.output import SUMMARY_VARIABLES, TABLE_POINTS, sweep_table

        names = [*SUMMARY_VARIABLES, "facility_status", *config.run.model_reporters]
        last = result.summary(names, where={"day": config.run.days})  # all it shows
        print(f"last day (day {config.run.days}): mean over runs [95 % interval]")
        print(sweep_table(last, result.parameter_names))
        points = last["point"].nunique()
        if points > TABLE_POINTS:
            print(
                f"({TABLE_POINTS} of {points:,} points shown; all of them, every day: "
                f"waste_harmony.load_results({str(result.path)!r}).summary([...]))"
            )
    skipped = result.manifest.get("skipped_on_resume", 0)
    damaged = len(result.manifest.get("damaged_on_resume", []))
    again = f", {damaged} damaged and run again" if damaged else ""
    print(
        f"{result.n_finished} of {result.n_runs} runs finished ({skipped} skipped as "
        f"already done{again}, {result.n_failed} failed) -> {result.path}"
    )
    if result.n_failed:
        print(f"failed runs: see {result.path / 'failures'}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
