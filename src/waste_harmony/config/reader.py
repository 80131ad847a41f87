"""The shared reader of the TOML files: tables declared as keys with checks.

Each kind of file (run, sweep, calibration) declares its tables as :class:`Table`
objects — the keys they accept, each with a check, a default or the message when
it is missing — and this module does the rest the same way for all of them:
reading the file (:func:`read_toml`), unknown keys with the closest valid one,
types and ranges, paths relative to the file (:class:`Reading`), and every
mistake at once (:class:`Problems`)::

    OUTPUT = Table(
        (Key("folder", relative_path(exists=False)), Key("figures", flag, default=True)),
        like='[output] folder = "results/run"',
    )
    OUTPUT({"figures": "no"}, "output", Reading())
    # ConfigError: output.figures: expected true or false, got 'no'

A check is a callable ``check(value, key, reading) -> parsed value`` raising
:class:`~waste_harmony.config.ConfigError` at ``key``; a :class:`Table` is
itself a check, so tables nest.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from waste_harmony.config.errors import ConfigError, combine_errors, did_you_mean, unknown

__all__ = [
    "Check",
    "Key",
    "Problems",
    "Reading",
    "Table",
    "anything",
    "check_keys",
    "flag",
    "integer",
    "interval",
    "join",
    "leaf_paths",
    "load_file",
    "mapping",
    "names",
    "number",
    "one_of",
    "read_toml",
    "relative_path",
    "with_path",
]

#: ``check(value, key, reading) -> parsed value``, raising ConfigError at ``key``.
Check = Callable[[Any, str, "Reading"], Any]


def join(table: str, key: str) -> str:
    """The dotted path of ``key`` inside ``table`` (``""`` is the file's top level).

    Examples
    --------
    >>> join("sweep", "grid"), join("", "days")
    ('sweep.grid', 'days')
    """
    return f"{table}.{key}" if table else key


@dataclass(frozen=True)
class Reading:
    """One file being read: the file and the folder its relative paths start from.

    Attributes
    ----------
    base_dir : pathlib.Path or None
        Folder of the file (``None``: relative paths stay relative to the current
        folder, as for data given in Python).
    source : pathlib.Path or None
        The file (kept in the configurations read from it).
    """

    base_dir: Path | None = None
    source: Path | None = None

    def resolve(self, value: str | os.PathLike[str]) -> Path:
        """A path of the file: relative to its folder, an absolute one as it is."""
        path = Path(value)
        if not path.is_absolute() and self.base_dir is not None:
            path = self.base_dir / path
        return path


class Problems:
    """Every mistake found so far, so that a file's mistakes are reported at once.

    Examples
    --------
    >>> problems = Problems()
    >>> problems.attempt(integer(minimum=1), 0, "days", Reading()) is None
    True
    >>> problems.add("bad", "seed")
    >>> problems.raise_any()
    Traceback (most recent call last):
    ...
    waste_harmony.config.ConfigError: 2 problems: days: must be >= 1, got 0; seed: bad
    """

    def __init__(self) -> None:
        self.found: list[ConfigError] = []

    def add(self, message: str, key: str = "") -> None:
        """Record one problem at ``key``."""
        self.found.append(ConfigError(message, key))

    def attempt(self, call: Callable[..., Any], *args: Any) -> Any:
        """``call(*args)``, or ``None`` with its :class:`ConfigError` recorded."""
        try:
            return call(*args)
        except ConfigError as exc:  # keep going: report every mistake at once
            self.found.append(exc)
            return None

    def passes(self, call: Callable[..., Any], *args: Any) -> bool:
        """Whether ``call(*args)`` raises no :class:`ConfigError` (recorded if it does)."""
        before = len(self.found)
        self.attempt(call, *args)
        return len(self.found) == before

    def raise_any(self) -> None:
        """Raise one :class:`ConfigError` naming every problem, if there is any."""
        if self.found:
            raise combine_errors(self.found)


@dataclass(frozen=True)
class Key:
    """One key of a :class:`Table`.

    Attributes
    ----------
    name : str
        The key.
    check : Check
        Validates and converts its value.
    default : object
        Value (passed through ``check``) when the key is absent; ``None`` stays ``None``.
    missing : str or None
        When given, the key is required and this is the message if it is absent.
    """

    name: str
    check: Check
    default: Any = None
    missing: str | None = None


@dataclass(frozen=True)
class Table:
    """A TOML table: its keys, each checked; itself a :data:`Check`.

    Calling it reads a value at a dotted key: anything but a table is refused with
    ``like`` as the example; unknown keys are refused naming the closest valid one;
    every key is checked (absent keys get their default), and every problem is
    reported at once.

    Attributes
    ----------
    keys : tuple of Key
        The accepted keys.
    like : str
        An example of the table, for the message when the value is not one.

    Examples
    --------
    >>> SAMPLE = Table((Key("n", integer(minimum=1), missing="missing: e.g. n = 50"),
    ...                 Key("method", one_of(["lhs"], what="method"), default="lhs")))
    >>> SAMPLE({"n": 4}, "sweep.sample", Reading())
    {'n': 4, 'method': 'lhs'}
    >>> SAMPLE({"nn": 4}, "sweep.sample", Reading())
    Traceback (most recent call last):
    ...
    waste_harmony.config.ConfigError: 2 problems: sweep.sample.nn: unknown key; \
did you mean 'n'?; sweep.sample.n: missing: e.g. n = 50
    """

    keys: tuple[Key, ...]
    like: str = ""

    @property
    def names(self) -> list[str]:
        """The accepted keys, in declaration order."""
        return [key.name for key in self.keys]

    def __call__(self, value: Any, where: str, reading: Reading) -> dict[str, Any]:
        """Read ``value`` at dotted key ``where``: the checked values by key."""
        if not isinstance(value, dict):
            like = f" like {self.like}" if self.like else ""
            raise ConfigError(f"expected a table{like}", where)
        problems = Problems()
        check_keys(value, self.names, where, problems)
        out: dict[str, Any] = {}
        for key in self.keys:
            at = join(where, key.name)
            if key.name in value:
                out[key.name] = problems.attempt(key.check, value[key.name], at, reading)
            elif key.missing is not None:
                problems.add(key.missing, at)
            elif key.default is not None:
                out[key.name] = problems.attempt(key.check, key.default, at, reading)
            else:
                out[key.name] = None
        problems.raise_any()
        return out


def check_keys(
    table: dict[str, Any],
    valid: Iterable[str],
    where: str,
    problems: Problems,
    *,
    what: str = "key",
) -> None:
    """Record every key of ``table`` that is not in ``valid``, with the closest valid one."""
    valid = list(valid)
    for name in table:
        if name not in valid:
            problems.add(unknown(str(name), valid, what=what), join(where, str(name)))


# ----------------------------------------------------------------------------- checks
def anything(value: Any, where: str, reading: Reading) -> Any:
    """A value checked elsewhere (by the function that receives it)."""
    return value


def flag(value: Any, where: str, reading: Reading) -> bool:
    """``true`` or ``false``."""
    if not isinstance(value, bool):
        raise ConfigError(f"expected true or false, got {value!r}", where)
    return value


def _kind(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"


def integer(*, minimum: int) -> Check:
    """A whole number ``>= minimum`` (not a boolean).

    Examples
    --------
    >>> integer(minimum=1)("12", "sweep.seeds", Reading())
    Traceback (most recent call last):
    ...
    waste_harmony.config.ConfigError: sweep.seeds: expected an integer, got str '12'
    """

    def check(value: Any, where: str, reading: Reading) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"expected an integer, got {_kind(value)}", where)
        if value < minimum:
            raise ConfigError(f"must be >= {minimum}, got {value}", where)
        return value

    return check


def number(*, low: float | None = None, high: float | None = None, positive: bool = False) -> Check:
    """A finite number (integer or float), optionally ``> 0`` or within ``[low, high]``.

    Examples
    --------
    >>> number(low=0.0, high=1.0)(3, "calibration.alpha", Reading())
    Traceback (most recent call last):
    ...
    waste_harmony.config.ConfigError: calibration.alpha: must be in [0.0, 1.0], got 3
    """

    def check(value: Any, where: str, reading: Reading) -> float | int:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"expected a number, got {_kind(value)}", where)
        if not math.isfinite(value):
            raise ConfigError(f"must be a finite number, got {value}", where)
        if positive and not value > 0:
            raise ConfigError(f"must be > 0, got {value}", where)
        if (low is not None and value < low) or (high is not None and value > high):
            raise ConfigError(f"must be in [{low}, {high}], got {value}", where)
        return value

    return check


def relative_path(*, exists: bool = True) -> Check:
    """A path string, relative to the file's folder; ``exists``: the file must exist.

    Examples
    --------
    >>> relative_path()("nowhere.graphml", "city.graphml", Reading(base_dir=Path("study")))
    Traceback (most recent call last):
    ...
    waste_harmony.config.ConfigError: city.graphml: file not found: study/nowhere.graphml
    """

    def check(value: Any, where: str, reading: Reading) -> Path:
        if not isinstance(value, str):
            raise ConfigError(f"expected a path string, got {_kind(value)}", where)
        if not value.strip():
            raise ConfigError("empty path; give a file or folder name", where)
        resolved = reading.resolve(value)
        if exists and not resolved.exists():
            raise ConfigError(f"file not found: {resolved}", where)
        return resolved

    return check


def interval(*, strict: bool) -> Check:
    """``[low, high]``: two finite numbers with ``low < high`` (``strict``) or ``low <= high``.

    Examples
    --------
    >>> interval(strict=True)([0.5, 0.1], "calibration.priors.mobility", Reading())
    Traceback (most recent call last):
    ...
    waste_harmony.config.ConfigError: calibration.priors.mobility: low > high in [0.5, 0.1]; \
expected [low, high] with low < high
    """
    order = "<" if strict else "<="

    def check(value: Any, where: str, reading: Reading) -> tuple[float, float]:
        if not isinstance(value, list) or len(value) != 2:
            raise ConfigError(f"expected [low, high], got {value!r}", where)
        low, high = (number()(v, where, reading) for v in value)
        if low > high or (strict and low == high):
            raise ConfigError(
                f"low {'>' if low > high else '='} high in {value!r}; "
                f"expected [low, high] with low {order} high",
                where,
            )
        return float(low), float(high)

    return check


def one_of(options: Iterable[str], *, what: str) -> Check:
    """One of ``options`` (e.g. a generator's name), naming the closest when not."""
    valid = list(options)

    def check(value: Any, where: str, reading: Reading) -> str:
        if value not in valid:
            hint = did_you_mean(str(value), valid, what=f"{what}s")
            raise ConfigError(f"unknown {what} {value!r}; {hint}", where)
        return str(value)

    return check


def names(value: Any, where: str, reading: Reading) -> list[str]:
    """A list of names (strings)."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f'expected a list of names like ["citizens"], got {value!r}', where)
    return list(value)


def mapping(like: str, *, values: Check = anything, empty: bool = True) -> Check:
    """A table of free keys (names chosen by the user), each value checked by ``values``.

    Parameters
    ----------
    like : str
        An example, for the message when the value is not a (non-empty) table.
    values : Check
        Check of each value (at ``key.name``).
    empty : bool
        Whether an empty table is accepted.
    """

    def check(value: Any, where: str, reading: Reading) -> dict[str, Any]:
        if not isinstance(value, dict) or (not empty and not value):
            raise ConfigError(f"expected a table of {like}", where)
        problems = Problems()
        out = {k: problems.attempt(values, v, join(where, k), reading) for k, v in value.items()}
        problems.raise_any()
        return out

    return check


# ----------------------------------------------------------------------------- files
def read_toml(path: str | os.PathLike[str], what: str) -> dict[str, Any]:
    """Read a TOML file, turning a missing file or bad syntax into :class:`ConfigError`.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    what : str
        What the file is, for messages (``"run file"``, ``"sweep file"``).

    Returns
    -------
    dict
        The parsed TOML.
    """
    file = Path(path)
    if file.is_dir():
        raise ConfigError(f"{what} {file} is a folder; give the path of a TOML {what}")
    if not file.is_file():
        raise ConfigError(f"{what} not found: {file}")
    try:
        return tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file} is not valid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{file} is not a UTF-8 text file ({exc.reason} at byte {exc.start}); save the "
            f"{what} as UTF-8 text"
        ) from exc


def load_file[T](path: str | os.PathLike[str], what: str, parse: Callable[..., T]) -> T:
    """Read a TOML file of kind ``what`` and validate it with ``parse``.

    ``parse(data, base_dir=..., source=...)`` is the kind's parser
    (:func:`~waste_harmony.config.parse_run_config`, ...); paths in the file are
    relative to its folder.
    """
    file = Path(path)
    return parse(read_toml(file, what), base_dir=file.parent, source=file)


# ----------------------------------------------------------------------- dotted paths
def leaf_paths(table: Any, prefix: str = "") -> list[str]:
    """Dotted paths of the non-table values inside a (nested) table.

    Parameters
    ----------
    table : object
        A TOML value; a dict is walked, anything else is a leaf.
    prefix : str
        Path of ``table`` itself.

    Returns
    -------
    list of str
        ``prefix`` alone for a leaf; the paths of its leaves for a table.

    Examples
    --------
    >>> leaf_paths({"day": 30, "set": {"mobility": 0.1}})
    ['day', 'set.mobility']
    """
    if not isinstance(table, dict) or not table:
        return [prefix] if prefix else []
    out = []
    for key, value in table.items():
        at = join(prefix, str(key))
        out += leaf_paths(value, at) if isinstance(value, dict) else [at]
    return out


def with_path(table: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of a (nested) table with the value at a dotted path replaced.

    Used for swept scenario parameters inside tables, such as
    ``scenarios.policy.set.waste_per_capita_kg``. Tables on the way are copied,
    never changed in place; a key given as a number in the path (a day in
    ``steps``) matches the table's key of that text or number.

    Parameters
    ----------
    table : dict
        The table.
    path : str
        Dotted path, e.g. ``"set.waste_per_capita_kg"``.
    value : object
        The new value.

    Returns
    -------
    dict
        The new table.

    Examples
    --------
    >>> with_path({"day": 30, "set": {"mobility": 0.1}}, "set.mobility", 0.2)
    {'day': 30, 'set': {'mobility': 0.2}}
    """
    head, _, rest = path.partition(".")
    out = dict(table)
    key: Any = head
    if head not in out:
        key = next((k for k in out if str(k) == head), head)
    if rest:
        inner = out.get(key)
        out[key] = with_path(inner if isinstance(inner, dict) else {}, rest, value)
    else:
        out[key] = value
    return out
