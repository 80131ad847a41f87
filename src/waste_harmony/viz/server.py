"""The viewer's server: the SolaraViz page served on localhost, in this process.

:func:`serve` starts a Solara server for :data:`APP` and serves until interrupted.
No browser is opened and nothing is fetched from the network: Solara's telemetry,
version check and CDN fonts are switched off. The command line
(``waste-harmony viz``, :mod:`waste_harmony.cli.viz`) chooses the run file, host
and port and calls it.
"""

from __future__ import annotations

import os
import socket
from typing import Any

__all__ = ["APP", "free_port", "serve"]

#: What ``solara run`` serves.
APP = "waste_harmony.viz.app:Page"


def free_port(host: str) -> int:
    """A TCP port that is free on ``host`` now (for ``--port 0``)."""
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
