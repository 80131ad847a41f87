"""``waste-harmony viz``: serve the interactive SolaraViz page of the city on localhost.

``waste-harmony viz [RUNFILE] [--host 127.0.0.1] [--port 8765]`` (also
``python -m waste_harmony.viz ...``) checks the run file, prints the address and
serves the page (:mod:`waste_harmony.viz.server`) until interrupted. Importing this
module imports :mod:`waste_harmony.viz`, so without the ``viz`` extra the command
says how to install it.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from waste_harmony.config import ConfigError
from waste_harmony.viz.runfile import RUNFILE_ENV, load_run_model
from waste_harmony.viz.server import free_port, serve

__all__ = ["DESCRIPTION", "add_arguments", "handle", "is_local", "port"]

DESCRIPTION = (
    "Serve the interactive SolaraViz page of the city on localhost and print its address. "
    "Needs: pip install 'waste-harmony[viz]'."
)


def port(text: str) -> int:
    """A TCP port number (0 to 65535) from the command line (argparse type).

    Examples
    --------
    >>> port("8765")
    8765
    """
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(
            f"a port is a number from 1 to 65535 (0 picks a free one), got {number}"
        )
    return number


def is_local(host: str) -> bool:
    """Whether ``host`` is this machine only (a loopback name or address).

    Examples
    --------
    >>> is_local("127.0.0.1"), is_local("localhost"), is_local("::1"), is_local("0.0.0.0")
    (True, True, True, False)
    """
    import ipaddress

    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to any interface
        return False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``viz`` (RUNFILE, ``--host``, ``--port``)."""
    parser.add_argument(
        "runfile",
        nargs="?",
        default=None,
        metavar="RUNFILE",
        help="TOML run file whose city, citizens, scenarios and parameters "
        "start the page (default: the default city)",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface to listen on (default: %(default)s, this machine only); "
        "any other needs --allow-remote",
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="serve on a --host other machines can reach: anyone who opens the page "
        "can run simulations here, with no password",
    )
    parser.add_argument(
        "--port",
        type=port,
        default=8765,
        help="port (default: %(default)s; 0 picks a free one)",
    )


def handle(args: argparse.Namespace) -> int:
    """Check the run file, print the address and serve until interrupted: 0."""
    if not is_local(args.host):
        if not args.allow_remote:
            raise ConfigError(
                f"--host {args.host} would serve the page to other machines: anyone who "
                "reaches it can run simulations on this one, with no password; add "
                "--allow-remote if you mean it (on a network you trust), or keep the "
                "default 127.0.0.1 and use an SSH tunnel"
            )
        print(
            f"waste-harmony viz: warning: serving on {args.host}, reachable from other "
            "machines without a password",
            file=sys.stderr,
        )
    if args.runfile:
        path = Path(args.runfile).resolve()
        load_run_model(path)  # fail now, with a clear message, not in the browser
        os.environ[RUNFILE_ENV] = str(path)
    else:
        os.environ.pop(RUNFILE_ENV, None)
    chosen = args.port or free_port(args.host)
    print(
        f"Waste Harmony viz: open http://{args.host}:{chosen}/ in a browser "
        "(Ctrl+C stops the server)",
        flush=True,
    )
    try:
        return serve(args.host, chosen)
    except KeyboardInterrupt:
        return 0
