"""The ``waste-harmony sweep`` command.

``waste-harmony sweep SWEEPFILE.toml [--workers N] [--scheduler tcp://HOST:PORT]
[--resume] [--force] [--out DIR] [--quiet]`` runs the sweep a sweep file describes
(:mod:`waste_harmony.experiments.sweepfile`) on a local process pool, or on a Dask
cluster when ``--scheduler`` is given, writing one folder of Parquet files per
run into ``--out`` (default: the file's ``[output] folder``).

The main command calls :func:`register` to add the subcommand.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from waste_harmony.config import ConfigError

__all__ = ["add_folder_options", "add_workers_option", "register", "run_sweep_command"]


def add_workers_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--workers N`` (local worker processes), shared by ``sweep`` and ``calibrate``."""
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="local worker processes (default: CPU count); 1 runs serially in this process",
    )


def add_folder_options(
    parser: argparse.ArgumentParser, *, resume_help: str, force_help: str
) -> None:
    """Add ``--resume``, ``--force``, ``--out DIR`` and ``--quiet`` to ``parser``.

    Shared by the commands that write an experiment folder (``sweep``, ``calibrate``).
    """
    parser.add_argument("--resume", action="store_true", help=resume_help)
    parser.add_argument("--force", action="store_true", help=force_help)
    parser.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="output folder (default: the file's [output] folder)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``sweep`` subcommand to an ``argparse`` subparsers object.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        From ``parser.add_subparsers()``.

    Returns
    -------
    argparse.ArgumentParser
        The ``sweep`` parser (its handler is ``args.handler``).

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="waste-harmony")
    >>> _ = register(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["sweep", "s.toml", "--workers", "2", "--resume"])
    >>> args.workers, args.resume, args.handler.__name__
    (2, True, 'run_sweep_command')
    """
    parser = subparsers.add_parser(
        "sweep",
        help="run an ensemble or parameter sweep from a TOML sweep file",
        description="Run the sweep a TOML sweep file describes (a run file plus a [sweep] "
        "table), one Parquet folder per run, on local processes or a Dask cluster.",
    )
    parser.add_argument("sweepfile", help="the sweep file (TOML)")
    add_workers_option(parser)
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="address of a Dask scheduler, e.g. tcp://10.0.0.5:8786, to run "
        "the sweep on its cluster (needs the 'experiments' extra)",
    )
    add_folder_options(
        parser,
        resume_help="skip runs already finished in the output folder",
        force_help="replace a different experiment already in the output folder",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the full traceback on errors",
    )
    parser.set_defaults(handler=run_sweep_command)
    return parser


def run_sweep_command(args: argparse.Namespace) -> int:
    """Run ``waste-harmony sweep`` with parsed arguments.

    Parameters
    ----------
    args : argparse.Namespace
        ``sweepfile``, ``workers``, ``scheduler``, ``resume``, ``force``, ``out``,
        ``quiet``.

    Returns
    -------
    int
        0 if every run finished, 1 if some failed (see ``failures/`` in the folder).

    Raises
    ------
    ConfigError
        For an invalid sweep file or arguments.
    """
    from waste_harmony.batch.runner import sweep
    from waste_harmony.experiments.sweepfile import load_sweep_file

    config = load_sweep_file(args.sweepfile)
    out = args.out if args.out is not None else config.run.output.folder
    if out is None:
        raise ConfigError(
            "no output folder: give --out DIR or set [output] folder", "output.folder"
        )
    if args.workers is not None and args.workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {args.workers}")
    if args.scheduler is not None and args.workers is not None:
        raise ConfigError(
            "give --workers (local processes) or --scheduler (a Dask cluster), not both"
        )
    client = None
    executor: Any = None
    if args.scheduler is not None:
        try:
            from distributed import Client
        except ImportError as exc:
            raise ConfigError(
                "--scheduler needs Dask: pip install 'waste-harmony[experiments]'"
            ) from exc
        try:
            client = Client(args.scheduler, timeout="20s")
        except OSError as exc:
            raise ConfigError(
                f"cannot reach the Dask scheduler at {args.scheduler}: {exc}"
            ) from exc
        executor = client
    elif args.workers == 1:
        executor = "serial"
    try:
        result = sweep(
            config.run,
            parameters=config.points,
            seeds=config.seeds,
            root_seed=config.root_seed,
            common_random_numbers=config.common_random_numbers,
            out=out,
            executor=executor,
            workers=args.workers,
            resume=args.resume,
            overwrite=args.force,
            progress=not args.quiet,
        )
    except (FileExistsError, ValueError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(str(exc)) from exc
    finally:
        if client is not None:
            client.close()
    skipped = result.manifest.get("skipped_on_resume", 0)
    print(
        f"{result.n_finished} of {result.n_runs} runs finished ({skipped} skipped as "
        f"already done, {result.n_failed} failed) -> {result.path}"
    )
    if result.n_failed:
        print(f"failed runs: see {result.path / 'failures'}", file=sys.stderr)
        return 1
    return 0
