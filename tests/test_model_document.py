"""docs/model.md (the ODD description) agrees with the code."""

import re
from pathlib import Path

import pytest

from waste_harmony import docs_tables
from waste_harmony.parameters import Parameters
from waste_harmony.rules import DEFAULT_RULES

DOC = Path(__file__).resolve().parents[1] / "docs" / "model.md"
REGENERATE = "python -m waste_harmony.docs_tables docs/model.md"


def _text() -> str:
    return DOC.read_text(encoding="utf-8")


def test_parameter_table_matches_the_code():
    text = _text()
    start = text.index(docs_tables.START_MARKER) + len(docs_tables.START_MARKER)
    end = text.index(docs_tables.END_MARKER)
    committed = text[start:end].strip()
    generated = docs_tables.parameter_table_markdown().strip()
    assert committed == generated, (
        f"the parameter table in {DOC} differs from the code's parameters; "
        f"regenerate it with `{REGENERATE}` and commit the result"
    )


def test_every_parameter_has_a_row_with_default_unit_range_and_source():
    rows = [line for line in _text().splitlines() if line.startswith("| `")]
    names = [re.match(r"\| `([^`]+)`", row).group(1) for row in rows]
    for name in Parameters.names():
        assert name in names, name
    for row in rows:
        if row.split("|")[1].strip().strip("`") in Parameters.names():
            cells = [c.strip() for c in row.strip("|").split("|")]
            assert len(cells) == 6 and all(cells), row


def test_update_document_rewrites_a_stale_table(tmp_path):
    doc = tmp_path / "model.md"
    doc.write_text(f"# x\n{docs_tables.START_MARKER}\nold\n{docs_tables.END_MARKER}\nend\n")
    assert docs_tables.update_document(doc, check=True)
    assert "old" in doc.read_text()
    assert docs_tables.update_document(doc)
    assert not docs_tables.update_document(doc)
    assert "`waste_per_capita_kg`" in doc.read_text() and doc.read_text().endswith("end\n")
    assert docs_tables.main(["--check", str(doc)]) == 0


def test_update_document_without_markers_says_how_to_fix(tmp_path):
    doc = tmp_path / "model.md"
    doc.write_text("# no markers\n")
    with pytest.raises(ValueError, match="parameter-table:start"):
        docs_tables.update_document(doc)


def test_document_has_the_odd_sections_and_one_subsection_per_rule():
    text = _text()
    for heading in (
        "Purpose and patterns",
        "Entities, state variables and scales",
        "Process overview and scheduling",
        "Design concepts",
        "Initialisation",
        "Input data",
        "Submodels",
        "Parameters",
        "References",
    ):
        assert re.search(rf"^## \d*\.? ?{re.escape(heading)}", text, re.M), heading
    # The scheduling section lists the default rules in the order the code runs them.
    schedule = text[text.index("## 3.") : text.index("## 4.")]
    positions = [schedule.index(f"**{name}**") for name, _ in DEFAULT_RULES]
    assert positions == sorted(positions)
    # Each dynamics module has a subsection naming its functions.
    for module in (
        "opinion",
        "recycling",
        "waste",
        "diffusion",
        "organism",
        "protest",
        "adoption",
        "biodiversity",
        "inequality",
    ):
        assert f"`{module}." in text, module
