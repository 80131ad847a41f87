"""Shared docstring sections: the full text reaches help() and the API reference."""

import inspect
import pydoc
import re

import pytest

import waste_harmony
from waste_harmony import docstrings
from waste_harmony.docstrings import SECTIONS, shared_sections
from waste_harmony.plotting import plot_city_map
from waste_harmony.results import RunResult, save_run
from waste_harmony.viz.figures.series_panel import SeriesView

PLACEHOLDER = re.compile(r"^\s*\{[a-z_]+\}\s*$", re.MULTILINE)


def _public_callables():
    """Every function and method of the package whose docstring could hold a placeholder."""
    seen = set()
    for module in _modules():
        for _, obj in inspect.getmembers(module):
            for candidate in [obj, *vars(obj).values()] if inspect.isclass(obj) else [obj]:
                target = getattr(candidate, "fget", candidate)
                target = getattr(target, "__func__", target)
                module_name = getattr(target, "__module__", None) or ""
                fresh = id(target) not in seen
                if fresh and callable(target) and module_name.startswith("waste_harmony"):
                    seen.add(id(target))
                    yield target


def _modules():
    import importlib
    import pkgutil

    for info in pkgutil.walk_packages(waste_harmony.__path__, "waste_harmony."):
        if info.name.endswith("__main__"):
            continue
        try:
            yield importlib.import_module(info.name)
        except ImportError:  # an optional extra that is not installed
            continue


def test_no_docstring_keeps_a_placeholder():
    left = [
        f"{f.__module__}.{f.__qualname__}"
        for f in _public_callables()
        if PLACEHOLDER.search(f.__doc__ or "")
    ]
    assert left == [], f"placeholders not filled (decorate with @shared_sections): {left}"


@pytest.mark.parametrize(
    ("function", "section"),
    [
        (plot_city_map, "figure_returns"),
        (save_run, "folder_returns"),
        (SeriesView.update, "model_parameter"),
        (RunResult.from_model, "model_parameter"),
    ],
)
def test_help_shows_the_full_section(function, section):
    text = inspect.getdoc(function)
    assert SECTIONS[section] in text
    assert "{" + section + "}" not in pydoc.render_doc(function)


def test_a_section_is_indented_like_its_placeholder():
    class Host:
        @shared_sections
        def method(self):
            """Do nothing.

            {figure_returns}
            """

    lines = Host.method.__doc__.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "Returns")
    indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
    assert [line.removeprefix(indent) for line in lines[start : start + 4]] == SECTIONS[
        "figure_returns"
    ].split("\n")


def test_an_unknown_placeholder_is_named_with_the_known_ones():
    def f():
        """Do nothing.

        {no_such_section}
        """

    with pytest.raises(KeyError, match=r"no_such_section.*figure_returns"):
        shared_sections(f)


def test_without_docstrings_the_function_is_returned_unchanged():
    def f():
        pass

    assert shared_sections(f) is f and f.__doc__ is None
    assert docstrings.__doc__  # the module documents itself


def test_an_indented_placeholder_gets_indented_lines():
    # Python 3.12 keeps a docstring's indentation (3.13 strips it when compiling):
    # set it by hand so that both are exercised whatever runs the test.
    def f():
        pass

    f.__doc__ = "Do nothing.\n\n        {folder_returns}\n        "
    shared_sections(f)
    assert f.__doc__.splitlines()[2:6] == [
        "        Returns",
        "        -------",
        "        pathlib.Path",
        "            The folder.",
    ]
