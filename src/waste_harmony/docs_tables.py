"""Tables of the documents generated from the code.

Three kinds of block, each between its own pair of markers, are generated so the
documents cannot drift from the code (a test fails when a committed table differs
from the generated one):

* ``parameter-table`` — the model's parameters
  (:func:`waste_harmony.parameters.parameter_table`), in ``docs/model.md``;
* ``output-table`` — the recorded model variables
  (:data:`waste_harmony.recording.OUTPUTS`), in ``docs/model.md``;
* ``scenario-tables`` — every built-in scenario's parameters
  (:meth:`waste_harmony.scenarios.Scenario.parameter_table`), in ``docs/scenarios.md``.

Model and scenario parameters go through the same renderer
(:func:`parameter_rows_markdown`). Regenerate with::

    python -m waste_harmony.docs_tables docs/model.md docs/scenarios.md
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

from waste_harmony.parameters import parameter_table
from waste_harmony.recording import OUTPUTS

__all__ = [
    "BLOCKS",
    "END_MARKER",
    "START_MARKER",
    "output_table_markdown",
    "parameter_rows_markdown",
    "parameter_table_markdown",
    "scenario_tables_markdown",
    "update_document",
]

START_MARKER = "<!-- parameter-table:start -->"
END_MARKER = "<!-- parameter-table:end -->"


def _number(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, float):
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        return f"{value:g}"
    return str(value)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def parameter_rows_markdown(rows: list[dict[str, Any]]) -> str:
    """Parameter rows (:func:`waste_harmony.paramspec.rows`) as a Markdown pipe table.

    Parameters
    ----------
    rows : list of dict
        Rows of a parameter table, model or scenario.

    Returns
    -------
    str
        Header, separator and one line per row, ending with a newline.
    """
    lines = [
        "| parameter | default | unit | range | source | meaning |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        cells = [
            f"`{row['name']}`",
            _number(row["default"]),
            row["unit"] or "—",
            row["range_text"] or "—",
            row["source"] or "—",
            row["meaning"] or "—",
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def parameter_table_markdown() -> str:
    """The model's parameter table as a Markdown (MyST) pipe table.

    Returns
    -------
    str
        One header row, one separator row and one row per parameter, in
        definition order, ending with a newline.

    Examples
    --------
    >>> table = parameter_table_markdown()
    >>> table.splitlines()[0]
    '| parameter | default | unit | range | source | meaning |'
    >>> "| `waste_per_capita_kg` | 0.74 |" in table
    True
    """
    return parameter_rows_markdown(parameter_table())


def output_table_markdown() -> str:
    """The recorded model variables (:data:`~waste_harmony.recording.OUTPUTS`) as a table.

    Returns
    -------
    str
        Header, separator and one line per variable, in column order.

    Examples
    --------
    >>> output_table_markdown().splitlines()[2].startswith("| `mean_concern` |")
    True
    """
    lines = ["| variable | unit | meaning | mean over |", "|---|---|---|---|"]
    for v in OUTPUTS:
        weights = _cell(v.mean_over) if v.mean_over else "— (total or category)"
        lines.append(f"| `{v.name}` | {_cell(v.unit)} | {_cell(v.meaning)} | {weights} |")
    return "\n".join(lines) + "\n"


def scenario_tables_markdown() -> str:
    """One parameter table per built-in scenario, under a heading with its name.

    Returns
    -------
    str
        Markdown.
    """
    from waste_harmony.scenarios import available

    parts = []
    for name, cls in available().items():
        if not cls.__module__.startswith("waste_harmony."):
            continue  # plug-ins document themselves
        rows = cls.parameter_table()
        body = parameter_rows_markdown(rows) if rows else "(no parameters)\n"
        parts.append(f"### `{name}` ({cls.__name__})\n\n{body}")
    return "\n".join(parts)


#: Generated blocks: marker name → function returning the block's Markdown.
BLOCKS: dict[str, Any] = {
    "parameter-table": parameter_table_markdown,
    "output-table": output_table_markdown,
    "scenario-tables": scenario_tables_markdown,
}


def update_document(path: str | Path, *, check: bool = False) -> bool:
    """Rewrite every generated block (see :data:`BLOCKS`) between its markers in a document.

    Parameters
    ----------
    path : str or pathlib.Path
        The Markdown document (``docs/model.md``).
    check : bool
        Only report whether the document is up to date; do not write.

    Returns
    -------
    bool
        ``True`` if the document was (or, with ``check``, would be) changed.

    Raises
    ------
    ValueError
        If the document lacks the start or end marker.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    new = text
    found = False
    for block, render in BLOCKS.items():
        start_marker, end_marker = f"<!-- {block}:start -->", f"<!-- {block}:end -->"
        start, end = new.find(start_marker), new.find(end_marker)
        if start < 0 and end < 0:
            continue
        if start < 0 or end < start:
            raise ValueError(
                f"{path} must contain {start_marker!r} followed by {end_marker!r}; "
                "add both markers where the table belongs"
            )
        found = True
        head = new[: start + len(start_marker)]
        new = head + "\n\n" + render() + "\n" + new[end:]
    if not found:
        raise ValueError(
            f"{path} must contain {START_MARKER!r} followed by {END_MARKER!r} (or the "
            f"markers of another generated block: {', '.join(BLOCKS)}); "
            "add both markers where the table belongs"
        )
    changed = new != text
    if changed and not check:
        path.write_text(new, encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m waste_harmony.docs_tables [--check] [DOCUMENT ...]``.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 1 with ``--check`` when the document is out of date.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    paths = [a for a in args if a != "--check"] or ["docs/model.md", "docs/scenarios.md"]
    stale = False
    for path in paths:
        changed = update_document(path, check=check)
        stale |= changed
        verb = ("is out of date" if check else "updated") if changed else "is up to date"
        print(f"{path}: generated tables {verb}")
    return 1 if (check and stale) else 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
