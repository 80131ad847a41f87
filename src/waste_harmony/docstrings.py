"""Sections of NumPy docstrings that sibling functions share, written once.

Functions that take the same parameter or return the same thing say so in the same
words. Such a section is written once here, and :func:`shared_sections` puts it into
each docstring that has a line ``{name}`` (the name of a section in :data:`SECTIONS`)
when the module is imported, at that line's indentation. ``help()``, the API reference
(Sphinx reads ``__doc__``) and doctest therefore see the full text; only the source
holds the placeholder.

Example
-------
>>> @shared_sections
... def draw():
...     '''Draw a figure.
...
...     {figure_returns}
...     '''
>>> import inspect
>>> inspect.getdoc(draw).splitlines()[2:]
['Returns', '-------', 'matplotlib.figure.Figure', '    The figure.']
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["SECTIONS", "shared_sections"]

#: Shared docstring sections by placeholder name, written without indentation.
SECTIONS: dict[str, str] = {
    # the plotting functions
    "figure_returns": "Returns\n-------\nmatplotlib.figure.Figure\n    The figure.",
    # the functions and methods that read one model (a line of their Parameters)
    "model_parameter": "model : CityModel\n    The model.",
    # the functions that check or prepare a results folder
    "folder_returns": "Returns\n-------\npathlib.Path\n    The folder.",
}

_PLACEHOLDER = re.compile(r"^(?P<indent>[ \t]*)\{(?P<name>[a-z_]+)\}[ \t]*$", re.MULTILINE)


def shared_sections[T: Callable[..., object]](function: T) -> T:
    """Fill the ``{name}`` lines of ``function``'s docstring from :data:`SECTIONS`.

    Parameters
    ----------
    function : callable
        A function or method whose docstring may hold placeholder lines.

    Returns
    -------
    callable
        ``function`` itself, its ``__doc__`` filled in (unchanged when Python runs
        without docstrings, ``-OO``).

    Raises
    ------
    KeyError
        If a placeholder names no section of :data:`SECTIONS` (the message lists them).
    """
    doc = function.__doc__
    if doc is None:
        return function

    def fill(match: re.Match[str]) -> str:
        name, indent = match["name"], match["indent"]
        if name not in SECTIONS:
            raise KeyError(
                f"docstring of {function.__qualname__} has a placeholder {{{name}}} that "
                f"names no shared section; use one of {sorted(SECTIONS)} or add it to "
                "waste_harmony.docstrings.SECTIONS"
            )
        return "\n".join(indent + line if line else line for line in SECTIONS[name].split("\n"))

    function.__doc__ = _PLACEHOLDER.sub(fill, doc)
    return function
