"""``python -m waste_harmony`` and the ``waste-harmony`` console script."""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``waste-harmony`` command (see :mod:`waste_harmony.cli`).

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status.
    """
    from waste_harmony.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
