"""``waste-harmony plot RESULTS_DIR``: redraw the standard figures of saved results."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["DESCRIPTION", "add_arguments", "handle"]

DESCRIPTION = (
    "Redraw the standard figures (overview, map) from a results folder written by "
    "'waste-harmony run'."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``plot``."""
    parser.add_argument("results", metavar="RESULTS_DIR", help="a results folder")
    parser.add_argument("--out", metavar="DIR", help="where to write (default: RESULTS_DIR)")
    parser.add_argument(
        "--format", default="png", choices=("png", "pdf", "svg"), help="file format (default png)"
    )
    parser.add_argument("--dpi", type=int, default=110, help="resolution of PNGs (default 110)")


def handle(args: argparse.Namespace) -> int:
    """Draw the standard figures of the results folder into ``--out``: 0 when written."""
    import matplotlib

    matplotlib.use("Agg")
    from waste_harmony.plotting import save_standard_figures
    from waste_harmony.results import RunResult
    from waste_harmony.storage import record_files

    result = RunResult.load(args.results)
    out = Path(args.out) if args.out is not None else Path(args.results)
    written = save_standard_figures(result, out, fmt=args.format, dpi=args.dpi)
    if out.resolve() == Path(args.results).resolve():
        # the figures are the library's: listed in the manifest, a later --force replaces them
        record_files(out, [p.name for p in written])
    print(f"wrote {', '.join(str(p) for p in written)}")
    return 0
