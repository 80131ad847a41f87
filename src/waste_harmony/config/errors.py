"""The errors of every TOML file (run, sweep, calibration) and their shared wording.

A mistake in a file is a :class:`ConfigError` naming the dotted path of the key
(``scenarios.techcore.anounce_day``) and the fix. Readers collect every mistake
before they raise (:func:`combine_errors`), so one edit fixes them all, and they
word the same mistake the same way in every kind of file through
:func:`unknown` and :func:`did_you_mean`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "MAX_MESSAGE",
    "ConfigError",
    "closest",
    "combine_errors",
    "did_you_mean",
    "excerpt",
    "unknown",
]

#: Longest message of one problem, characters: a value quoted in it is cut to fit.
MAX_MESSAGE = 600


def excerpt(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` cut to about ``limit`` characters: its start and end, and how much was cut.

    A message that quotes a value quotes all of it; a 50 MB value in a run file made
    a 60-million-character error line. Every problem's message goes through this.

    Examples
    --------
    >>> excerpt("x = " + "a" * 10_000 + " is not a number", limit=60)
    'x = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa … [9,968 characters cut] … not a number'
    >>> excerpt("short")
    'short'
    """
    if len(text) <= limit:
        return text
    head, tail = (limit * 2) // 3, limit // 5
    cut = len(text) - head - tail
    return f"{text[:head]} … [{cut:,} characters cut] … {text[-tail:]}"


class ConfigError(ValueError):
    """A run, sweep or calibration file (or its values) is invalid.

    Attributes
    ----------
    key : str
        Dotted path of the offending key (empty for file-level problems).
    problems : list of ConfigError
        Every problem found (just ``[self]`` unless several were collected with
        :func:`combine_errors`).

    Examples
    --------
    >>> error = ConfigError("must be >= 1, got 0", "days")
    >>> str(error), error.key
    ('days: must be >= 1, got 0', 'days')
    """

    # Shown in tracebacks and pickles under its public home (it is defined here so that
    # every module of the package can raise it without importing the package).
    __module__ = "waste_harmony.config"

    def __init__(self, message: str, key: str = "", *, limit: int = MAX_MESSAGE) -> None:
        super().__init__(excerpt(f"{key}: {message}" if key else message, limit))
        self.key = key
        self.problems: list[ConfigError] = [self]


def combine_errors(problems: Iterable[ConfigError]) -> ConfigError:
    """One :class:`ConfigError` reporting every problem in ``problems`` (at least one).

    Parameters
    ----------
    problems : iterable of ConfigError
        The problems found, in file order (each may itself hold several).

    Returns
    -------
    ConfigError
        The problem itself if there is only one, else an error whose message lists
        them all (``"3 problems: days: ...; city.generator: ...; ..."``) and whose
        ``problems`` attribute holds them.

    Examples
    --------
    >>> str(combine_errors([ConfigError("must be >= 1", "days"), ConfigError("bad", "seed")]))
    '2 problems: days: must be >= 1; seed: bad'
    """
    flat = [p for problem in problems for p in problem.problems]
    if len(flat) == 1:
        return flat[0]
    error = ConfigError(
        f"{len(flat)} problems: " + "; ".join(str(p) for p in flat),
        limit=MAX_MESSAGE * len(flat),  # each problem was cut already
    )
    error.problems = flat
    return error


def closest(name: str, valid: Iterable[str]) -> str | None:
    """The valid name closest to ``name`` (a likely typo), or ``None``.

    Examples
    --------
    >>> closest("techcor", ["techcore", "policy"]), closest("zzz", ["policy"])
    ('techcore', None)
    """
    close = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.5)
    return close[0] if close else None


def did_you_mean(name: str, valid: Iterable[str], *, what: str = "keys") -> str:
    """A hint naming the valid name closest to ``name``, or listing them all.

    Parameters
    ----------
    name : str
        The unknown name.
    valid : iterable of str
        Accepted names.
    what : str
        What the names are, for the listing (``"keys"``, ``"parameters"``).

    Returns
    -------
    str
        ``"did you mean 'x'?"``, or ``"valid keys: a, b, c"`` when none is close.

    Examples
    --------
    >>> did_you_mean("citizen", ["seed", "citizens"])
    "did you mean 'citizens'?"
    >>> did_you_mean("colour", ["seed", "days"])
    'valid keys: seed, days'
    """
    names = list(valid)
    close = closest(name, names)
    if close is not None:
        return f"did you mean {close!r}?"
    return f"valid {what}: {', '.join(names) or 'none'}"


def unknown(name: str, valid: Iterable[str], *, what: str = "key") -> str:
    """The message for a name that is not one of ``valid``: the same in every file.

    ``what`` is what the name is: a ``"key"`` of a table, or a ``"parameter"`` (of
    the model or a scenario, in ``[parameters]``, ``[scenarios.NAME]``,
    ``[sweep.grid]``, ``[calibration.priors]`` ...); the hint is
    :func:`did_you_mean`'s.

    Examples
    --------
    >>> unknown("mobilty", ["mobility", "bass_q"], what="parameter")
    "unknown parameter; did you mean 'mobility'?"
    """
    return f"unknown {what}; {did_you_mean(name, valid, what=f'{what}s')}"
