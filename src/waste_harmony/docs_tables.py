"""Tables of the model document generated from the code.

The parameter table of ``docs/model.md`` (the ODD description) is generated from
:func:`waste_harmony.parameters.parameter_table`, so the document cannot drift from
the code: a test fails when the committed table differs from the generated one.
Regenerate with::

    python -m waste_harmony.docs_tables docs/model.md
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

from waste_harmony.parameters import parameter_table

__all__ = ["END_MARKER", "START_MARKER", "parameter_table_markdown", "update_document"]

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


def parameter_table_markdown() -> str:
    """The parameter table as a Markdown (MyST) pipe table.

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
    lines = [
        "| parameter | default | unit | range | source | meaning |",
        "|---|---|---|---|---|---|",
    ]
    for row in parameter_table():
        low, high = row["range"]
        cells = [
            f"`{row['name']}`",
            _number(row["default"]),
            row["unit"],
            f"[{_number(low)}, {_number(high)}]",
            row["source"],
            row["description"],
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def update_document(path: str | Path, *, check: bool = False) -> bool:
    """Rewrite the block between the parameter-table markers of a document.

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
    start, end = text.find(START_MARKER), text.find(END_MARKER)
    if start < 0 or end < start:
        raise ValueError(
            f"{path} must contain {START_MARKER!r} followed by {END_MARKER!r}; "
            "add both markers where the parameter table belongs"
        )
    head = text[: start + len(START_MARKER)]
    new = head + "\n\n" + parameter_table_markdown() + "\n" + text[end:]
    changed = new != text
    if changed and not check:
        path.write_text(new, encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m waste_harmony.docs_tables [--check] [docs/model.md]``.

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
    paths = [a for a in args if a != "--check"] or ["docs/model.md"]
    stale = False
    for path in paths:
        changed = update_document(path, check=check)
        stale |= changed
        verb = ("is out of date" if check else "updated") if changed else "is up to date"
        print(f"{path}: parameter table {verb}")
    return 1 if (check and stale) else 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
