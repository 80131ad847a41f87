"""The ``viz`` command: serve the SolaraViz page of the city on localhost.

``waste-harmony viz [RUNFILE] [--host 127.0.0.1] [--port 8765]`` (when the main
command registers :func:`register`) and ``python -m waste_harmony.viz ...`` start a
Solara server in this process, print the address and serve until interrupted. No
browser is opened and nothing is fetched from the network: Solara's telemetry,
version check and CDN fonts are switched off.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path
from typing import Any

from waste_harmony.viz.runfile import RUNFILE_ENV, load_run_model

__all__ = ["APP", "add_arguments", "load_run_model", "main", "register", "run_viz", "serve"]

#: What ``solara run`` serves.
APP = "waste_harmony.viz.app:Page"


def _port(text: str) -> int:
    """A TCP port number (0 to 65535) from the command line."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(
            f"a port is a number from 1 to 65535 (0 picks a free one), got {port}"
        )
    return port


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the viz arguments (RUNFILE, ``--host``, ``--port``) to a parser.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The parser.

    Returns
    -------
    argparse.ArgumentParser
        The same parser.

    Examples
    --------
    >>> args = add_arguments(argparse.ArgumentParser()).parse_args(["--port", "9000"])
    >>> args.runfile, args.host, args.port
    (None, '127.0.0.1', 9000)
    """
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
        help="interface to listen on (default: %(default)s, this machine only)",
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=8765,
        help="port (default: %(default)s; 0 picks a free one)",
    )
    return parser


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``viz`` sub-command to the ``waste-harmony`` command.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        From ``parser.add_subparsers()``.

    Returns
    -------
    argparse.ArgumentParser
        The ``viz`` parser; its ``handler`` default is :func:`run_viz`.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="waste-harmony")
    >>> _ = register(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["viz", "run.toml", "--port", "9001"])
    >>> args.handler is run_viz, args.runfile, args.port
    (True, 'run.toml', 9001)
    """
    parser = subparsers.add_parser(
        "viz",
        help="interactive city in the browser (SolaraViz)",
        description="Serve the interactive SolaraViz page of the city on localhost and "
        "print its address. Needs: pip install 'waste-harmony[viz]'.",
    )
    add_arguments(parser)
    parser.set_defaults(handler=run_viz)
    return parser


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _without_websocket_compression() -> None:
    """Switch off uvicorn's per-message deflate for this process's server.

    The page's frames are JPEG images, which deflate cannot shrink: compressing each
    one only costs the server's event loop time on every step. ``solara run`` has no
    option for it, so uvicorn's default is changed before the server is configured.
    """
    import uvicorn

    init = uvicorn.Config.__init__
    if getattr(init, "_waste_harmony", False):
        return

    def config_init(self: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("ws_per_message_deflate", False)
        init(self, *args, **kwargs)

    config_init._waste_harmony = True  # type: ignore[attr-defined]
    uvicorn.Config.__init__ = config_init  # type: ignore[method-assign]


def serve(host: str = "127.0.0.1", port: int = 8765) -> int:
    """Run the Solara server for :data:`APP` in this process until interrupted.

    Parameters
    ----------
    host : str
        Interface.
    port : int
        Port.

    Returns
    -------
    int
        Exit status (0).
    """
    # Nothing may reach out to the network: no telemetry, no version check, no CDN fonts.
    os.environ["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    os.environ["SOLARA_ASSETS_FONTAWESOME_ENABLED"] = "False"
    import solara.server.settings as solara_settings
    from solara.__main__ import cli as solara_cli

    solara_settings.telemetry.mixpanel_enable = False
    solara_settings.assets.fontawesome_enabled = False
    _without_websocket_compression()
    solara_cli.main(
        args=[
            "run",
            APP,
            "--host",
            host,
            "--port",
            str(port),
            "--no-open",
            "--no-check-version",
            "--production",
        ],
        prog_name="solara",
        standalone_mode=False,
    )
    return 0


def run_viz(args: argparse.Namespace) -> int:
    """Handler of ``waste-harmony viz``: check the run file, print the address, serve.

    Parameters
    ----------
    args : argparse.Namespace
        With ``runfile`` (or ``None``), ``host`` and ``port``.

    Returns
    -------
    int
        Exit status.
    """
    if args.runfile:
        path = Path(args.runfile).resolve()
        load_run_model(path)  # fail now, with a clear message, not in the browser
        os.environ[RUNFILE_ENV] = str(path)
    else:
        os.environ.pop(RUNFILE_ENV, None)
    port = args.port or _free_port(args.host)
    print(
        f"Waste Harmony viz: open http://{args.host}:{port}/ in a browser "
        "(Ctrl+C stops the server)",
        flush=True,
    )
    try:
        return serve(args.host, port)
    except KeyboardInterrupt:
        return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m waste_harmony.viz``.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0, or 2 for a bad run file.
    """
    parser = add_arguments(
        argparse.ArgumentParser(
            prog="python -m waste_harmony.viz",
            description="Serve the interactive SolaraViz page of the city on localhost.",
        )
    )
    args = parser.parse_args(argv)
    try:
        return run_viz(args)
    except (FileNotFoundError, RuntimeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
