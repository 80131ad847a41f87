"""``python -m waste_harmony.viz [RUNFILE] [--host H] [--port P]``: serve the viz page."""

import sys

from waste_harmony.viz.cli import main

if __name__ == "__main__":
    sys.exit(main())
