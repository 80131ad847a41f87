"""``waste-harmony convergence``: from what number of citizens a run file's answers hold.

``waste-harmony convergence RUNFILE.toml (--per-district K ... | --sizes N ...)
[--seeds S] [--days D] [--population P] [--output NAME=STATISTIC ...]
[--tolerance NAME=VALUE ...] [--workers N] [--out DIR] [--resume] [--force]
[--quiet]`` runs the run file's configuration at each size with the same seeds
(:func:`waste_harmony.experiments.convergence`), prints per output its estimate at
each size with the interval and whether it agrees with the largest size, and the
converged size; writes ``convergence.csv`` and ``convergence.png`` into the
experiment folder.
"""

from __future__ import annotations

import argparse
from typing import Any

from waste_harmony.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    add_experiment_options,
    execution_options,
    experiment_folder,
    key_value,
    positive_number,
    user_errors,
    whole_number,
)
from waste_harmony.config import ConfigError

__all__ = ["DESCRIPTION", "add_arguments", "convergence_table", "handle"]

DESCRIPTION = (
    "Run a run file's configuration at increasing numbers of citizens with the same seeds "
    "and report, per output, the estimate with its interval at each size and the smallest "
    "size from which it agrees with the largest (docs/convergence.md)."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``convergence``."""
    parser.add_argument("runfile", help="the run file (TOML)")
    sizes = parser.add_mutually_exclusive_group(required=True)
    sizes.add_argument(
        "--per-district",
        type=positive_number("citizens per district"),
        nargs="+",
        metavar="K",
        help="sizes as citizens per populated district, e.g. 2 5 10 20 50 200",
    )
    sizes.add_argument(
        "--sizes", type=whole_number(1), nargs="+", metavar="N", help="sizes as n_citizens"
    )
    parser.add_argument(
        "--seeds", type=whole_number(2), default=20, metavar="S", help="seeds per size (20)"
    )
    parser.add_argument(
        "--days", type=whole_number(1), default=None, metavar="D", help="days (the file's)"
    )
    parser.add_argument(
        "--population",
        type=positive_number("people"),
        default=None,
        metavar="P",
        help="people every size stands for (default: the file's, else the largest size)",
    )
    parser.add_argument(
        "--output",
        action="append",
        default=None,
        metavar="NAME=STATISTIC",
        help="an output and its statistic (final, peak, mean) or category "
        "(facility_status=withdrawn); repeatable; default: the story's outputs",
    )
    parser.add_argument(
        "--tolerance",
        action="append",
        default=None,
        metavar="NAME=VALUE",
        help="tolerance of an output: a factor for numbers (protest_share=1.25), a "
        "difference of shares for categories (facility_status=0.1); repeatable",
    )
    add_experiment_options(
        parser,
        resume_help="skip runs already finished in the output folder",
        force_help="replace a different experiment already in the output folder",
    )


def _pairs(items: list[str] | None, flag: str, example: str) -> dict[str, Any] | None:
    if items is None:
        return None
    return dict(key_value(item, flag, metavar="NAME=VALUE", example=example) for item in items)


def convergence_table(result: Any) -> str:
    """The printed table: per output and size, estimate [interval] and agreement.

    Parameters
    ----------
    result : ConvergenceResult
        The outcome of :func:`waste_harmony.experiments.convergence`.

    Returns
    -------
    str
        The table, then one line per output with its converged size.
    """
    lines = []
    per = result.districts
    head = "citizens/district" if per else "n_citizens"
    lines.append(f"{'output':<30} {head:>17} {'estimate':>10} {'interval':>21}  agrees")
    for row in result.table.itertuples():
        label = f"{row.output} ({row.statistic})"
        size = f"{row.per_district:.1f}" if per else f"{row.size}"
        interval = f"[{row.ci_low:.4g}, {row.ci_high:.4g}]"
        agrees = "yes" if row.agrees else "no"
        lines.append(f"{label:<30} {size:>17} {row.estimate:>10.4g} {interval:>21}  {agrees}")
    lines.append("")
    for name, size in result.converged.items():
        tol = result.tolerances[name]
        within = f"within {tol:g}" if name == "facility_status" else f"within a factor {tol:g}"
        if size is None:
            lines.append(f"{name}: not converged within the sizes run ({within})")
        else:
            where = f" ({size / per:.1f} per district)" if per else ""
            lines.append(f"{name}: converged from n_citizens={size}{where} ({within})")
    return "\n".join(lines)


def handle(args: argparse.Namespace) -> int:
    """Run the study, print its table, write the CSV and the figure: 0 when every run finished."""
    from waste_harmony.config.run import load_run_file
    from waste_harmony.experiments.convergence import convergence

    config = load_run_file(args.runfile)
    out = experiment_folder(args, config.output.folder)
    outputs = _pairs(args.output, "--output", "protest_share=peak")
    tolerances = _pairs(args.tolerance, "--tolerance", "protest_share=1.25")
    for name, value in (tolerances or {}).items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"--tolerance {name}={value!r}: expected a number", "--tolerance")
    population = args.population if args.population is not None else config.population
    with user_errors(FileExistsError, ValueError):
        result = convergence(
            args.sizes,
            per_district=args.per_district,
            model=config,
            population=population,
            outputs=outputs,
            tolerances=tolerances,
            seeds=args.seeds,
            days=args.days,
            root_seed=config.seed,
            out=out,
            **execution_options(args),
        )
    print(convergence_table(result))
    result.table.to_csv(result.result.path / "convergence.csv", index=False)
    fig = result.plot(title=config.source.name if config.source else None)
    fig.savefig(result.result.path / "convergence.png", dpi=110)
    print(f"-> {result.result.path / 'convergence.csv'}, convergence.png")
    if result.result.n_failed:
        return EXIT_FAILED
    return EXIT_OK
