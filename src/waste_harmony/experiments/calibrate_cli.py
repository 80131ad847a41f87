"""The ``waste-harmony calibrate`` command.

``waste-harmony calibrate CALIBFILE.toml [--workers N] [--resume] [--force]
[--out DIR] [--quiet]`` runs the calibration a calibration file describes
(:mod:`waste_harmony.experiments.calibfile`; regression ABC by default, ABC-SMC with
``method = "abc-smc"``) on a local process pool, writing the posterior, the
diagnostics and the runs' statistics into ``--out`` (default: the file's
``[output] folder``). It prints the identifiability check before spending the
budget (after it with ``--quiet``), then the posterior summary and the contraction
table. Errors follow the ``sweep`` conventions: one line, exit status 2.

The main command calls :func:`register` to add the subcommand.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path
from typing import Any

from waste_harmony.config import ConfigError
from waste_harmony.experiments.cli import add_folder_options, add_workers_option

__all__ = ["register", "run_calibrate_command"]


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``calibrate`` subcommand to an ``argparse`` subparsers object.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        From ``parser.add_subparsers()``.

    Returns
    -------
    argparse.ArgumentParser
        The ``calibrate`` parser (its handler is ``args.handler``).

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="waste-harmony")
    >>> _ = register(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["calibrate", "c.toml", "--workers", "1", "--resume"])
    >>> args.workers, args.resume, args.handler.__name__
    (1, True, 'run_calibrate_command')
    """
    parser = subparsers.add_parser(
        "calibrate",
        help="calibrate parameters to observed data from a TOML calibration file",
        description="Calibrate model parameters to observations (regression ABC, or "
        'ABC-SMC with method = "abc-smc"), as a TOML calibration file describes (a run '
        "file plus a [calibration] table); an identifiability check runs first.",
    )
    parser.add_argument("calibfile", help="the calibration file (TOML)")
    add_workers_option(parser)
    add_folder_options(
        parser,
        resume_help="continue a calibration interrupted in the folder",
        force_help="replace a calibration already in the output folder",
    )
    parser.set_defaults(handler=run_calibrate_command)
    return parser


def run_calibrate_command(args: argparse.Namespace) -> int:
    """Run ``waste-harmony calibrate`` with parsed arguments.

    Parameters
    ----------
    args : argparse.Namespace
        ``calibfile``, ``workers``, ``resume``, ``force``, ``out``, ``quiet``.

    Returns
    -------
    int
        0 when the calibration finished.

    Raises
    ------
    ConfigError
        For an invalid calibration file or arguments.
    """
    from waste_harmony.experiments.calibfile import load_calibration_file
    from waste_harmony.experiments.calibration import MANIFEST, calibrate

    config = load_calibration_file(args.calibfile)
    out = args.out if args.out is not None else config.run.output.folder
    if out is None:
        raise ConfigError(
            "no output folder: give --out DIR or set [output] folder", "output.folder"
        )
    if args.workers is not None and args.workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {args.workers}")
    if args.force and args.resume:
        raise ConfigError("give --resume (continue) or --force (start again), not both")
    folder = Path(out)
    if args.force and (folder / MANIFEST).exists():
        shutil.rmtree(folder)
    try:
        result = calibrate(
            config.run,
            priors=config.priors,
            observed=config.observed,
            budget=config.budget,
            method=config.method,
            population_size=config.population,
            replicates=config.replicates,
            seed=config.seed,
            executor="serial" if args.workers == 1 else None,
            workers=args.workers,
            out=folder,
            resume=args.resume,
            progress=not args.quiet,
            **config.options,
        )
    except FileExistsError as exc:
        if (folder / MANIFEST).exists():
            raise ConfigError(
                f"{folder} already holds this calibration; give --resume to continue it "
                "or --force to start again"
            ) from exc
        raise ConfigError(str(exc)) from exc
    except (ValueError, RuntimeError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(str(exc)) from exc
    if args.quiet and result.identifiability is not None:
        print(result.identifiability)
    gens = result.generations
    if result.method == "abc-reg":
        print(
            f"regression ABC: reference table of {int(gens['runs'].sum())} runs "
            f"({int(gens['failed'].iloc[0])} failed), {int(gens['accepted'].iloc[-1])} kept "
            f"(bandwidth {gens['epsilon'].iloc[-1]:.4g}), effective sample size "
            f"{result.ess:.0f} -> {folder}"
        )
    else:
        print(
            f"ABC-SMC: {len(gens)} generations, {int(gens['runs'].sum())} runs, final "
            f"tolerance {gens['epsilon'].iloc[-1]:.4g}, effective sample size {result.ess:.0f} "
            f"(stopped by {result.manifest.get('stopped') or 'budget'}) -> {folder}"
        )
    table = result.contraction()
    mean = result.mean()
    for row in table.itertuples():
        name = str(row.parameter)
        print(
            f"  {name}: mean {mean[name]:.4g}, 90% interval "
            f"[{row.posterior_low:.4g}, {row.posterior_high:.4g}], width {row.width_ratio:.2f} "
            f"of the prior's ({'identified' if row.identified else 'NOT identified'})"
        )
    return 0
