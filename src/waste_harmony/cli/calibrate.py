"""``waste-harmony calibrate``: calibration from a calibration file.

``waste-harmony calibrate CALIBFILE.toml [--workers N] [--out DIR] [--resume]
[--force] [--quiet]`` runs the calibration a calibration file describes
(:mod:`waste_harmony.config.calibration`; regression ABC by default, ABC-SMC with
``method = "abc-smc"``) on a local process pool, writing the posterior, the
diagnostics and the runs' statistics into ``--out`` (default: the file's
``[output] folder``). It prints the identifiability check before spending the
budget (after it with ``--quiet``), then the posterior summary and the contraction
table.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from waste_harmony.cli.common import (
    EXIT_OK,
    add_experiment_options,
    execution_options,
    experiment_folder,
    user_errors,
)

__all__ = ["DESCRIPTION", "add_arguments", "handle", "save_figures"]

DESCRIPTION = (
    "Calibrate model parameters to observations (regression ABC, or ABC-SMC with "
    'method = "abc-smc"), as a TOML calibration file describes (a run file plus a '
    "[calibration] table); an identifiability check runs first."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``calibrate``."""
    parser.add_argument("calibfile", help="the calibration file (TOML)")
    add_experiment_options(
        parser,
        resume_help="continue a calibration interrupted in the folder",
        force_help="replace a calibration already in the output folder",
    )


def handle(args: argparse.Namespace) -> int:
    """Calibrate, print the posterior and the contraction table: 0 when it finished."""
    from waste_harmony.config.calibration import load_calibration_file
    from waste_harmony.experiments.calibration import calibrate

    config = load_calibration_file(args.calibfile)
    folder = experiment_folder(args, config.run.output.folder, source=config.run.source)
    with user_errors(ValueError, RuntimeError):
        result = calibrate(
            config.run,
            priors=config.priors,
            observed=config.observed,
            budget=config.budget,
            method=config.method,
            population_size=config.population,
            replicates=config.replicates,
            seed=config.seed,
            out=folder,
            **execution_options(args),
            **config.options,
        )
    if args.quiet and result.identifiability is not None:
        print(result.identifiability)
    gens = result.generations
    if result.method == "abc-reg":
        print(
            f"regression ABC: reference table of {int(gens['runs'].sum())} runs "
            f"({int(gens['failed'].iloc[0])} failed), {int(gens['accepted'].iloc[-1])} kept "
            f"(bandwidth {gens['epsilon'].iloc[-1]:.4g}), effective sample size "
            f"{result.ess:.0f} -> {result.path}"
        )
    else:
        print(
            f"ABC-SMC: {len(gens)} generations, {int(gens['runs'].sum())} runs, final "
            f"tolerance {gens['epsilon'].iloc[-1]:.4g}, effective sample size {result.ess:.0f} "
            f"(stopped by {result.manifest.get('stopped') or 'budget'}) -> {result.path}"
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
    written = save_figures(result, folder)
    print(f"figures: {', '.join(p.name for p in written)} in {folder}")
    return EXIT_OK


def save_figures(result: Any, folder: Path) -> list[Path]:
    """The posterior's figures beside the calibration: marginals against the priors, pairs.

    Parameters
    ----------
    result : CalibrationResult
        The calibration.
    folder : pathlib.Path
        Where to write ``posterior.png`` and ``pairs.png`` (the second only with two
        or more parameters).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    import matplotlib.pyplot as plt

    from waste_harmony.experiments.calibration_result import FIGURES
    from waste_harmony.storage import write_atomic

    figures = {FIGURES["marginals"]: result.plot_marginals()}
    if len(result.names) > 1:
        figures[FIGURES["pairs"]] = result.plot_pairs()
    written = []
    for name, figure in figures.items():
        # through a temporary sibling, as every file of the folder (--force replaces them)
        write_atomic(folder / name, lambda path, f=figure: f.savefig(path, dpi=110, format="png"))
        plt.close(figure)
        written.append(folder / name)
    return written
