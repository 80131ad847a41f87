"""The ``waste-harmony`` command: its subcommands, the parser and the error boundary.

Each subcommand is a module named in :data:`COMMANDS` that provides
``DESCRIPTION`` (a paragraph for its ``--help``), ``add_arguments(parser)`` and
``handle(args) -> int`` (the exit status). :func:`build_parser` gives every
subcommand the same frame — one-line syntax errors and ``--debug`` — and imports a
command's module only when that command is used, so that heavy optional
dependencies (Dask, Solara) never slow down the others; a module that cannot be
imported (an optional dependency is missing) makes its command fail in one line
saying how to install it.

:func:`main` is the single error boundary: the library's answers to mistakes in
the user's input (:data:`~waste_harmony.cli.common.USER_ERRORS`) and the
environment's failures (a full disk, a read-only file system, a file size limit, a
refused permission: :data:`waste_harmony.storage.ENVIRONMENT_ERRNOS`) print one line
naming the problem, the path and the fix to stderr and exit with status 2; the
traceback is shown only with ``--debug``. Any other exception is a defect of waste-harmony, not
of the input: its traceback is printed with a request to report it, and the exit
status is 1.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any

from waste_harmony.cli.common import (
    EXIT_BUG,
    EXIT_INTERRUPTED,
    EXIT_PIPE,
    EXIT_USAGE,
    USER_ERRORS,
    OutOfMemoryError,
    Parser,
    add_debug,
    one_line,
)
from waste_harmony.storage import environment_message

__all__ = ["COMMANDS", "build_parser", "main"]

#: The subcommands, in the order ``--help`` lists them: name → (module, one-line help).
COMMANDS: dict[str, tuple[str, str]] = {
    "list": ("waste_harmony.cli.listing", "list the registered scenarios and their parameters"),
    "run": ("waste_harmony.cli.run", "run a simulation from a run file and/or flags"),
    "plot": ("waste_harmony.cli.plot", "redraw the standard figures from saved results"),
    "sweep": (
        "waste_harmony.cli.sweep",
        "run an ensemble or parameter sweep from a TOML sweep file",
    ),
    "convergence": (
        "waste_harmony.cli.convergence",
        "from what number of citizens a run file's answers are the population's",
    ),
    "compare": (
        "waste_harmony.cli.compare",
        "compare two run files over paired seeds: differences with intervals, table, figure",
    ),
    "calibrate": (
        "waste_harmony.cli.calibrate",
        "calibrate parameters to observed data from a TOML calibration file",
    ),
    "viz": ("waste_harmony.cli.viz", "interactive city in the browser (SolaraViz)"),
}


def _add_command(subparsers: Any, name: str, module_name: str, help_text: str) -> None:
    """The parser of one command, from its module (or one that explains why it is missing)."""
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        # The module needs an optional dependency that is missing: say how to get it.
        # prefix_chars that never occur: every argument is taken as a plain word.
        stub = subparsers.add_parser(
            name, help=f"(unavailable: {exc})", add_help=False, prefix_chars="\x00"
        )
        stub.add_argument("rest", nargs="*")
        stub.set_defaults(handler=_unavailable(name, exc))
        return
    parser = subparsers.add_parser(name, help=help_text, description=module.DESCRIPTION)
    module.add_arguments(parser)
    add_debug(parser, top=False)
    parser.set_defaults(handler=module.handle)


def _unavailable(name: str, exc: ImportError) -> Any:
    def handler(args: argparse.Namespace) -> int:
        reason = f"'{name}' is unavailable: {exc}"
        if "pip install" not in reason:
            reason += "; install the optional dependencies (pip install 'waste-harmony[dev]')"
        print(f"waste-harmony: error: {reason}", file=sys.stderr)
        return EXIT_USAGE

    return handler


def build_parser(load: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The ``waste-harmony`` argument parser.

    Parameters
    ----------
    load : sequence of str
        Commands (:data:`COMMANDS`) whose parsers to build; the others are listed
        in ``--help`` only, so their modules are not imported.

    Returns
    -------
    argparse.ArgumentParser
        The parser; ``parse_args`` gives a namespace with ``handler``.

    Examples
    --------
    >>> args = build_parser(load=["run"]).parse_args(["run", "--days", "5", "--quiet"])
    >>> args.days, args.quiet, args.handler.__module__
    (5, True, 'waste_harmony.cli.run')
    """
    from waste_harmony._version import __version__

    parser = Parser(
        prog="waste-harmony",
        description="Agent-based simulation of cities, waste, ecology and "
        "collective action, built on Mesa.",
    )
    parser.add_argument("--version", action="version", version=f"waste-harmony {__version__}")
    add_debug(parser, top=True)
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        if name in load:
            _add_command(subparsers, name, module_name, help_text)
        else:  # listed in --help; the real parser is built only when the command is used
            subparsers.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``waste-harmony`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 2 for a mistake in the input (one line on stderr;
        ``--debug`` adds the traceback), 1 for a failed sweep run or a defect of
        waste-harmony (with its traceback), 130 when interrupted.
    """
    tokens = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(load=[name for name in COMMANDS if name in tokens])
    try:
        args = parser.parse_args(tokens)
    except SystemExit as exc:  # --help, --version, or a syntax error (already printed)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_usage(sys.stderr)
        print(
            f"waste-harmony: error: choose a command: {', '.join(COMMANDS)} "
            "(see 'waste-harmony --help')",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        status = int(handler(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not at exit as a stray message
        return status
    except BrokenPipeError:  # the reader of stdout left (| head): stop quietly, as Unix tools
        return _closed_stdout()
    except OSError as exc:
        # the environment's failures (disk full, read-only...) are not bugs: one line
        message = environment_message(exc)
        if message is None and isinstance(exc, USER_ERRORS):
            message = one_line(exc)
        if message is None:
            return _defect(exc)
        if args.debug:
            traceback.print_exc()
        print(f"waste-harmony: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except USER_ERRORS as exc:
        if args.debug:
            traceback.print_exc()
        print(f"waste-harmony: error: {one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("waste-harmony: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except MemoryError as exc:  # asked for more than the machine holds
        if args.debug:
            traceback.print_exc()
        if exc.args and not isinstance(exc, OutOfMemoryError):  # a refusal saying what
            print(f"waste-harmony: error: out of memory: {one_line(exc)}", file=sys.stderr)
            return EXIT_USAGE
        if not isinstance(exc, OutOfMemoryError):  # a command that did not say what was large
            command = handler.__module__.rsplit(".", 1)[-1]
            exc = OutOfMemoryError(f"'waste-harmony {command}' as asked", "ask for less")
        print(f"waste-harmony: error: out of memory: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # a defect of ours, not the user's: keep the traceback
        return _defect(exc)


def _closed_stdout() -> int:
    """Silence further output to a closed stdout and give the status a SIGPIPE death gives.

    Every command publishes its results before it prints about them, so nothing is
    lost when the reader of its output goes away. Python's recipe: point stdout at
    ``/dev/null``, so flushing at exit does not fail again.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no file descriptor (captured output): nothing to flush
        pass
    return EXIT_PIPE


def _defect(exc: BaseException) -> int:
    """Report a defect of waste-harmony: the traceback and a request to report it."""
    traceback.print_exc()
    print(
        f"waste-harmony: internal error ({type(exc).__name__}): {one_line(exc)}. "
        "This is a bug in waste-harmony, not in your input; please report it with "
        "the traceback above.",
        file=sys.stderr,
    )
    return EXIT_BUG
