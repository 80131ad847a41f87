"""What every subcommand of ``waste-harmony`` shares: exit statuses, errors, options, progress.

A subcommand module (:mod:`waste_harmony.cli.run`, ...) declares its own arguments
and handler; everything two commands have in common is here, so that the same
option is spelt, checked and explained the same way everywhere, and the same
mistake gets the same one-line message.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from waste_harmony.config import ConfigError
from waste_harmony.config.errors import MAX_MESSAGE, excerpt
from waste_harmony.docstrings import shared_sections
from waste_harmony.storage import check_place

__all__ = [
    "EXIT_BUG",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_PIPE",
    "EXIT_USAGE",
    "USER_ERRORS",
    "OutOfMemoryError",
    "Parser",
    "add_debug",
    "add_experiment_options",
    "experiment_folder",
    "key_value",
    "may_be_large",
    "one_line",
    "positive_number",
    "progress_bar",
    "user_errors",
    "whole_number",
]

#: Exit status of a command that did what it was asked.
EXIT_OK = 0

#: Exit status when some runs of an experiment failed (their tracebacks are saved).
EXIT_FAILED = 1

#: Exit status for a defect of waste-harmony itself (an unexpected exception).
EXIT_BUG = 1

#: Exit status for mistakes in the user's input (as argparse uses).
EXIT_USAGE = 2

#: Exit status when interrupted (Ctrl-C), as shells report SIGINT.
EXIT_INTERRUPTED = 130

#: Exit status when the reader of standard output went away (``| head``), as shells
#: report a SIGPIPE death (128 + 13); the results were published first.
EXIT_PIPE = 141

#: Exceptions that mean "the input is wrong": one line and exit status 2. The library
#: raises these (with a message naming the file, key or argument and the fix) for
#: every mistake in what it is given; anything else escaping a command is a bug.
USER_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    TypeError,
    KeyError,
    FileExistsError,
    FileNotFoundError,
    NotADirectoryError,
    IsADirectoryError,
    PermissionError,
)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (status 2), naming the way to help."""

    def error(self, message: str) -> Any:
        """Print one line naming the mistake and ``--help``, and exit with status 2."""
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (a KeyError's without its quotes), cut to length.

    Examples
    --------
    >>> one_line(KeyError("no such   column"))
    'no such column'
    """
    message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
    # an exception that is not a ConfigError may quote a whole value: cut it too
    return excerpt(" ".join(str(message).split()), 4 * MAX_MESSAGE) or type(exc).__name__


class OutOfMemoryError(MemoryError):
    """A :class:`MemoryError` that says what was large and what to lower.

    Attributes
    ----------
    what : str
        What asked for the memory (``"the figures at --dpi 100000"``).
    fix : str
        What to lower.
    """

    def __init__(self, what: str, fix: str) -> None:
        super().__init__(f"{what} needs more memory than this machine has; {fix}")
        self.what, self.fix = what, fix


@contextlib.contextmanager
def may_be_large(what: str, fix: str) -> Iterator[None]:
    """Name what was large if the block runs out of memory (:class:`OutOfMemoryError`).

    Examples
    --------
    >>> with may_be_large("the figures at --dpi 100000", "lower --dpi"):
    ...     raise MemoryError
    Traceback (most recent call last):
    ...
    waste_harmony.cli.common.OutOfMemoryError: the figures at --dpi 100000 needs more memory ...
    """
    try:
        yield
    except OutOfMemoryError:
        raise  # an inner block knew better
    except MemoryError as exc:  # the failed allocation is freed by now
        if exc.args:  # a refusal that says what is large (batch.plan.check_plan_size)
            raise
        raise OutOfMemoryError(what, fix) from exc


@contextlib.contextmanager
def user_errors(*kinds: type[Exception]) -> Iterator[None]:
    """Report the library's ``kinds`` of exception as mistakes in the input (ConfigError).

    For exceptions that are not :data:`USER_ERRORS` everywhere but are in this call
    (a calibration that cannot continue with the given settings raises
    :class:`RuntimeError`).
    """
    try:
        yield
    except ConfigError:
        raise
    except kinds as exc:
        raise ConfigError(one_line(exc)) from exc


# ----------------------------------------------------------------------------- options
def add_debug(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """Add ``--debug`` (show the traceback): before the command, or after it."""
    parser.add_argument(
        "--debug",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="show the full traceback on errors",
    )


def whole_number(minimum: int) -> Any:
    """An argparse type: a whole number ``>= minimum``.

    Examples
    --------
    >>> whole_number(1)("0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must be a whole number >= 1, got '0'
    """

    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be a whole number >= {minimum}, got {text!r}")
        return value

    return convert


def positive_number(unit: str) -> Any:
    """An argparse type: a positive, finite number of ``unit``.

    Examples
    --------
    >>> positive_number("km")("0.25")
    0.25
    """

    def convert(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            raise argparse.ArgumentTypeError(f"must be a positive number of {unit}, got {text!r}")
        return value

    return convert


def add_experiment_options(
    parser: argparse.ArgumentParser, *, resume_help: str, force_help: str
) -> None:
    """Add ``--workers N``, ``--out DIR``, ``--resume``, ``--force`` and ``--quiet``.

    For the commands that run many model runs into an experiment folder (``sweep``,
    ``calibrate``); :func:`experiment_folder` checks them.
    """
    parser.add_argument(
        "--workers",
        type=whole_number(1),
        default=None,
        metavar="N",
        help="local worker processes (default: CPU count); 1 runs serially in this process",
    )
    parser.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="output folder (default: the file's [output] folder)",
    )
    parser.add_argument("--resume", action="store_true", help=resume_help)
    parser.add_argument("--force", action="store_true", help=force_help)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def execution_options(args: argparse.Namespace, executor: Any = None) -> dict[str, Any]:
    """The experiment keywords of :func:`add_experiment_options`' flags.

    ``executor`` (e.g. a Dask client) wins; otherwise ``--workers 1`` runs serially
    in this process and any other count on a local pool.

    Examples
    --------
    >>> args = argparse.Namespace(workers=1, resume=False, force=True, quiet=True)
    >>> execution_options(args)["executor"], execution_options(args)["overwrite"]
    ('serial', True)
    """
    if executor is None and args.workers == 1:
        executor = "serial"
    return {
        "executor": executor,
        "workers": args.workers,
        "resume": args.resume,
        "overwrite": args.force,
        "progress": not args.quiet,
    }


@shared_sections
def experiment_folder(
    args: argparse.Namespace, configured: Path | None, *, source: Path | None = None
) -> Path:
    """The experiment folder: ``--out``, else the file's ``[output] folder``.

    Parameters
    ----------
    args : argparse.Namespace
        With the options of :func:`add_experiment_options`.
    configured : pathlib.Path or None
        The file's ``[output] folder``.
    source : pathlib.Path, optional
        The sweep or calibration file: its own folder is refused as ``--out``.

    {folder_returns}

    Raises
    ------
    ConfigError
        If neither is given, if ``--resume`` comes with ``--force``, or if ``--out``
        is empty text, the current directory or the file's own folder.
    """
    if args.resume and args.force:
        raise ConfigError("give --resume (continue) or --force (start again), not both")
    if args.out is not None:
        forbid = [] if source is None else [(source.resolve().parent, f"the folder of {source}")]
        try:
            return check_place(args.out, forbid=forbid)
        except ValueError as exc:
            raise ConfigError(str(exc), "--out") from exc
    if configured is None:
        raise ConfigError(
            "no output folder: give --out DIR or set [output] folder", "output.folder"
        )
    return Path(configured)


def key_value(item: str, flag: str, *, metavar: str, example: str) -> tuple[str, Any]:
    """``NAME=VALUE`` given to a repeatable flag, the value in TOML syntax (a bare word: text).

    Parameters
    ----------
    item : str
        What was given.
    flag : str
        The flag (for the message).
    metavar : str
        The flag's form (``"NAME=VALUE"``).
    example : str
        A valid item (for the message).

    Returns
    -------
    tuple
        The name and the value.

    Examples
    --------
    >>> key_value("roles={designer=2}", "--param", metavar="NAME=VALUE", example="mobility=0.3")
    ('roles', {'designer': 2})
    >>> key_value("crs=EPSG:3435", "--city", metavar="KEY=VALUE", example="crs=EPSG:3435")
    ('crs', 'EPSG:3435')
    """
    name, sep, text = item.partition("=")
    if not sep or not name.strip():
        raise ConfigError(f"expected {metavar}, got {item!r} (for example {flag} {example})", flag)
    try:
        value = tomllib.loads(f"value = {text.strip()}")["value"]
    except tomllib.TOMLDecodeError:
        value = text.strip()  # a bare word: keep it as a string
    return name.strip(), value


# ----------------------------------------------------------------------------- progress
def progress_bar(total: int, *, desc: str, unit: str, quiet: bool) -> Any:
    """A progress bar on stderr (stdout stays for results), off with ``--quiet``."""
    from tqdm import tqdm

    return tqdm(
        total=total, desc=desc, unit=unit, disable=quiet, file=sys.stderr, dynamic_ncols=True
    )
