"""``python -m waste_harmony`` and the ``waste-harmony`` console script.

The console script is ``waste_harmony.__main__:main``: :func:`waste_harmony.cli.main`.
"""

import sys

from waste_harmony.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
