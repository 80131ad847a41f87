"""``waste-harmony compare``: two run files, paired seeds, a table and a figure.

``waste-harmony compare BASELINE.toml VARIANT.toml [--seeds N] [--root-seed S]
[--days D] [--variable NAME ...] [--workers N] [--out DIR] [--resume] [--force]
[--quiet]`` runs both files' models with the same seeds (common random numbers,
:func:`waste_harmony.experiments.compare`), prints the difference of every compared
variable with its confidence interval — for a category such as ``facility_status``,
the share of runs in each category with Newcombe's interval and McNemar's test — and
writes ``summary.csv`` and ``comparison.png`` beside the runs in the output folder.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from waste_harmony.batch.store import COMPARISON_FILES
from waste_harmony.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    add_experiment_options,
    execution_options,
    experiment_folder,
    user_errors,
    whole_number,
)
from waste_harmony.cli.output import SUMMARY_VARIABLES
from waste_harmony.config import ConfigError
from waste_harmony.storage import write_atomic

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from waste_harmony.experiments import Comparison

__all__ = ["DESCRIPTION", "add_arguments", "handle"]

DESCRIPTION = (
    "Compare two run files (a baseline and a variant) over paired seeds: the difference "
    "of each variable with its confidence interval, shares of runs for categories such as "
    "facility_status, a table and a figure."
)

#: Variables compared when none are named: the run summary's and the facility's fate.
DEFAULT_VARIABLES = (*SUMMARY_VARIABLES, "facility_status")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``compare``."""
    parser.add_argument("baseline", help="the baseline's run file (TOML)")
    parser.add_argument("variant", help="the variant's run file (TOML)")
    parser.add_argument(
        "--seeds", type=whole_number(2), default=20, metavar="N", help="paired replicates (20)"
    )
    parser.add_argument(
        "--root-seed",
        type=whole_number(0),
        default=None,
        metavar="S",
        help="root of the seeds (default: the baseline file's seed, else 0)",
    )
    parser.add_argument(
        "--days", type=whole_number(1), default=None, metavar="D", help="days per run"
    )
    parser.add_argument(
        "--variable",
        action="append",
        default=None,
        metavar="NAME",
        help="a model variable to compare (repeat it; default: the summary's and facility_status)",
    )
    add_experiment_options(
        parser,
        resume_help="skip runs already finished in the output folder",
        force_help="replace a different comparison already in the output folder",
    )


def handle(args: argparse.Namespace) -> int:
    """Compare: 0 when every run finished, 1 if some failed."""
    from waste_harmony.batch.plan import RunFilePair
    from waste_harmony.config import load_run_file
    from waste_harmony.experiments import compare

    baseline, variant = load_run_file(args.baseline), load_run_file(args.variant)
    days = args.days or baseline.days
    if args.days is None and variant.days != baseline.days:
        raise ConfigError(
            f"the run files last {baseline.days} and {variant.days} days; give --days",
            "--days",
        )
    out = experiment_folder(args, _default_folder(args, baseline.output.folder))
    root = args.root_seed if args.root_seed is not None else (baseline.seed or 0)
    own = {*baseline.model_reporters} & {*variant.model_reporters}
    variables = args.variable or [*DEFAULT_VARIABLES, *sorted(own)]
    with user_errors(FileExistsError, ValueError, KeyError):
        result = compare(
            {"arm": "baseline"},
            {"arm": "variant"},
            model=RunFilePair(baseline, variant),
            seeds=args.seeds,
            days=days,
            root_seed=root,
            variables=variables,
            out=out,
            **execution_options(args),
        )
    runs = result.result
    summary = result.summary()
    # through temporary siblings, as every file of the folder (--force replaces them)
    write_atomic(out / COMPARISON_FILES["table"], lambda p: summary.to_csv(p, index=False))
    numeric = set(result.differences.get("variable", []))
    figure = _figure(result, [v for v in result.variables if v in numeric])
    write_atomic(
        out / COMPARISON_FILES["figure"], lambda p: figure.savefig(p, dpi=110, format="png")
    )
    print(
        f"{args.seeds} paired runs of {Path(args.baseline).name} (baseline) and "
        f"{Path(args.variant).name} (variant), {days} days, root seed {root}:"
    )
    print(_table(summary))
    print(f"wrote {out}/: summary.csv, comparison.png and the runs ({runs.n_finished} finished)")
    return EXIT_FAILED if runs.n_failed else EXIT_OK


def _default_folder(args: argparse.Namespace, folder: Path | None) -> Path | None:
    """Beside the baseline's results folder: ``<folder>-vs-<variant file's name>``."""
    if folder is None:
        return None
    return folder.with_name(f"{folder.name}-vs-{Path(args.variant).stem}")


def _table(summary: pd.DataFrame) -> str:
    """The summary as text: one row per variable (or category), differences with CIs."""
    frame = summary.set_index("variable")
    shown = frame[["baseline_mean", "variant_mean", "difference", "ci_low", "ci_high"]].copy()
    if "p_value" in frame:
        shown["p (McNemar)"] = frame["p_value"]
    return shown.to_string(float_format=lambda v: f"{v:,.4g}", na_rep="")


def _figure(comparison: Comparison, variables: list[str]) -> Figure:
    """Each numeric variable's difference over time with its interval, one panel each."""
    import math

    from matplotlib.figure import Figure

    n = max(len(variables), 1)
    cols = 2 if n > 1 else 1
    rows = math.ceil(n / cols)
    figure = Figure(figsize=(6 * cols, 2.6 * rows), layout="constrained")
    for i, variable in enumerate(variables):
        ax = figure.add_subplot(rows, cols, i + 1)
        comparison.plot(variable, ax=ax)
        ax.set_title(variable, fontsize=10)
    return figure
