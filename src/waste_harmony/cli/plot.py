"""``waste-harmony plot RESULTS_DIR``: redraw the standard figures of saved results."""

from __future__ import annotations

import argparse
from pathlib import Path

from waste_harmony.cli.common import may_be_large, whole_number

__all__ = ["DESCRIPTION", "MAX_DPI", "add_arguments", "dpi", "handle"]

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
    parser.add_argument(
        "--dpi", type=dpi, default=110, help=f"resolution of PNGs (default 110, at most {MAX_DPI})"
    )


#: Highest --dpi: a standard figure (about 10 x 6 inches) is then 12,000 x 7,200 pixels.
MAX_DPI = 1200


def dpi(text: str) -> int:
    """An argparse type: a resolution between 10 and :data:`MAX_DPI` dots per inch.

    Examples
    --------
    >>> dpi("300")
    300
    >>> dpi("100000")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: --dpi 100000 would draw figures of about 1,000,000 x 600,000 pixels (2,400 GB in memory); use at most 1200
    """  # noqa: E501
    value = whole_number(10)(text)
    if value > MAX_DPI:
        width, height = 10 * value, 6 * value
        raise argparse.ArgumentTypeError(
            f"--dpi {value} would draw figures of about {width:,} x {height:,} pixels "
            f"({width * height * 4 / 1e9:,.0f} GB in memory); use at most {MAX_DPI}"
        )
    return value


def handle(args: argparse.Namespace) -> int:
    """Draw the standard figures of the results folder into ``--out``: 0 when written."""
    import matplotlib

    matplotlib.use("Agg")
    from waste_harmony.plotting import save_standard_figures
    from waste_harmony.results import RunResult
    from waste_harmony.storage import record_files

    result = RunResult.load(args.results)
    out = Path(args.out) if args.out is not None else Path(args.results)
    with may_be_large(f"the figures at --dpi {args.dpi}", "lower --dpi"):
        written = save_standard_figures(result, out, fmt=args.format, dpi=args.dpi)
    if out.resolve() == Path(args.results).resolve():
        # the figures are the library's: listed in the manifest, a later --force replaces them
        record_files(out, [p.name for p in written])
    print(f"wrote {', '.join(str(p) for p in written)}")
    return 0
