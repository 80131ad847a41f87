"""Sphinx configuration of the Waste Harmony documentation (Mesa's style: myst-nb, pydata theme).

Build it with ``sphinx-build -W --keep-going -b html docs docs/_build/html`` (the test
suite does, with warnings as errors). The example notebooks have one source of truth,
``examples/notebooks/``; they are copied into ``docs/tutorials/`` (git-ignored) and
executed at build time. Set ``WASTE_HARMONY_DOCS_EXECUTE=off`` to skip execution, or
``WASTE_HARMONY_DOCS_EXECUTED_NOTEBOOKS=folder`` to render already executed copies of the
notebooks from that folder (the test suite executes them once, for its notebook tests
and this build alike); the code cells of the other pages still run.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT / "src"))

import waste_harmony  # noqa: E402

project = "Waste Harmony"
author = "Waste Harmony developers"
copyright = "2026, Waste Harmony developers"
release = waste_harmony.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "**.ipynb_checkpoints", "README.md"]
templates_path: list[str] = []

# -- MyST and notebooks ------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist", "dollarmath", "substitution"]
myst_heading_anchors = 3
nb_execution_mode = "off" if os.environ.get("WASTE_HARMONY_DOCS_EXECUTE") == "off" else "force"
EXECUTED_NOTEBOOKS = os.environ.get("WASTE_HARMONY_DOCS_EXECUTED_NOTEBOOKS")
nb_execution_excludepatterns = ["tutorials/*.ipynb"] if EXECUTED_NOTEBOOKS else []
nb_execution_timeout = 300
nb_execution_raise_on_error = True
nb_execution_in_temp = True  # notebooks never write into the source tree
nb_merge_streams = True

# -- autodoc (NumPy-style docstrings) ---------------------------------------------
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented"
autodoc_inherit_docstrings = False
autodoc_mock_imports: list[str] = []
autosummary_generate = False
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False

# -- HTML ----------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"Waste Harmony {release}"
html_static_path = ["_static"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"index": [], "installation": [], "quickstart": []}


def _copy_notebooks() -> None:
    """Copy the example notebooks (the one source of truth) next to the tutorials page.

    With ``WASTE_HARMONY_DOCS_EXECUTED_NOTEBOOKS`` the executed copies of the same
    notebooks are taken from that folder (one for each notebook of examples/notebooks).
    """
    target = DOCS / "tutorials"
    for source in sorted((ROOT / "examples" / "notebooks").glob("*.ipynb")):
        notebook = Path(EXECUTED_NOTEBOOKS) / source.name if EXECUTED_NOTEBOOKS else source
        copy = target / notebook.name
        if not copy.exists() or copy.read_bytes() != notebook.read_bytes():
            shutil.copyfile(notebook, copy)


_BENCHMARKS_MARKER = "<!-- benchmarks/README.md -->"


def _insert_benchmarks(app, docname: str, source: list[str]) -> None:
    """Put benchmarks/README.md (or a note that it is missing) into the benchmarks page."""
    if docname != "benchmarks" or _BENCHMARKS_MARKER not in source[0]:
        return
    readme = ROOT / "benchmarks" / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.exists() else ""
    if not text.strip():
        text = (
            "*No benchmark results yet: run the benchmarks (see `benchmarks/`) to produce them.*\n"
        )
    else:
        text = _as_section(text)
    source[0] = source[0].replace(_BENCHMARKS_MARKER, text)


_LINK = re.compile(r"\[([^\]]+)\]\((?!https?://|#|mailto:)([^)\s]+)\)")


def _as_section(text: str) -> str:
    """Demote the README's headings (outside code fences) and unlink its relative links.

    Relative links point into ``benchmarks/``, which is not part of the site; they
    become the link text followed by the path in code style.
    """
    lines, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced:
            if line.startswith("#"):
                line = "#" + line
            line = _LINK.sub(lambda m: f"{m.group(1)} (`benchmarks/{m.group(2)}`)", line)
        lines.append(line)
    return "\n".join(lines) + "\n"


def setup(app):  # noqa: D103
    _copy_notebooks()
    app.connect("source-read", _insert_benchmarks)
    return {"parallel_read_safe": True}
