"""``python -m waste_harmony.viz [RUNFILE] [--host H] [--port P]``: ``waste-harmony viz``."""

import sys

from waste_harmony.cli import main

if __name__ == "__main__":
    sys.exit(main(["viz", *sys.argv[1:]]))
