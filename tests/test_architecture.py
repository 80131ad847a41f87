"""The import graph of ``src/waste_harmony``: no circles, no upward imports, no private names.

Every module is parsed with :mod:`ast` (nothing is imported), and every import
counts: at module level, inside functions, and under ``if TYPE_CHECKING:`` (a
typing import is still a dependency of the design). An import of a submodule
counts as a dependency on that submodule only, not on the packages around it.

The layers, lowest first. A module may import from its own layer and from any
layer below it, never from a layer above. Each module belongs to the layer of
the longest prefix that names it; to add a module or package, add its dotted
name to the right row (the test fails for a module that is in no row).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import waste_harmony
from waste_harmony import CityModel
from waste_harmony.services import CityServices

PACKAGE = "waste_harmony"
SOURCE = Path(waste_harmony.__file__).resolve().parent

#: (layer name, module prefixes), lowest layer first.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    # The science and the data: pure functions and plain containers, no model.
    (
        "foundations",
        (
            "_version",
            "canonical",
            "docstrings",
            "machine",
            "paramspec",
            "references",
            "proportions",
            "city",
            "dynamics",
            "parameters",
        ),
    ),
    ("containers", ("tables", "pipeline", "recording", "schema", "storage")),
    # What lower layers may read and call on a model (a typing.Protocol).
    ("services", ("services",)),
    ("agents", ("agents",)),
    ("rules", ("rules",)),
    ("scenarios", ("scenarios",)),
    # The composition root: builds everything above from everything below.
    ("model", ("model",)),
    # Reading a built model or run: results, run files, scenario checks, doc tables.
    ("outputs", ("manifests", "results", "config", "testing", "docs_tables")),
    # Many runs: plan, check, execute, store, resume (the machinery of experiments).
    ("batch", ("batch",)),
    # What researchers use: analyses built on batch, figures, the interactive viewer;
    # sweep and calibration files (run files plus tables that batch and experiments check).
    ("tools", ("experiments", "plotting", "viz", "config.sweep", "config.calibration")),
    # Entry points and the package facade (``python -m waste_harmony.viz`` included).
    ("entry points", ("cli", "__main__", "viz.__main__", "")),
]

#: Private names imported across modules that are tolerated: none. (An entry that no
#: longer occurs fails the test, so the list can only shrink.)
KNOWN_PRIVATE_IMPORTS: set[tuple[str, str, str]] = set()

#: Import cycles tolerated (as sorted module tuples): none. (An entry that no longer
#: occurs fails the test, so the list can only shrink.)
KNOWN_CYCLES: set[tuple[str, ...]] = set()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SOURCE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join([PACKAGE, *parts])


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(SOURCE.rglob("*.py"))}


MODULES = _modules()


def _imports(name: str, path: Path) -> list[tuple[str, str | None]]:
    """(imported module, imported name or None) for every import in a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            for alias in node.names:
                submodule = f"{module}.{alias.name}"
                if submodule in MODULES:  # ``from pkg import submodule``
                    found.append((submodule, None))
                else:
                    found.append((module, alias.name))
    return [(m, n) for m, n in found if m == PACKAGE or m.startswith(PACKAGE + ".")]


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _layer(module: str) -> int:
    relative = module.removeprefix(PACKAGE).removeprefix(".")
    best, best_len = None, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (
                relative == prefix
                or relative.startswith(prefix + ".")
                or (prefix == "" and relative == "")
            ) and len(prefix) > best_len:
                best, best_len = index, len(prefix)
    if best is None:
        raise AssertionError(f"module {module} is in no layer; add it to LAYERS")
    return best


def _edges() -> dict[str, set[str]]:
    return {
        name: {m for m, _ in imports if m != name and m in MODULES}
        for name, imports in GRAPH.items()
    }


def test_every_module_has_a_layer():
    unplaced = []
    for module in MODULES:
        try:
            _layer(module)
        except AssertionError:
            unplaced.append(module)
    assert not unplaced, f"modules in no layer (add them to LAYERS): {unplaced}"


def test_no_import_cycles():
    edges = _edges()
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [])
    found = {tuple(sorted(set(c))) for c in cycles}
    new = [c for c in cycles if tuple(sorted(set(c))) not in KNOWN_CYCLES]
    assert not new, "import cycles:\n" + "\n".join(" -> ".join(c) for c in new)
    stale = KNOWN_CYCLES - found
    assert not stale, f"fixed, remove from KNOWN_CYCLES: {sorted(stale)}"


def test_no_upward_imports():
    upward = []
    for module, targets in _edges().items():
        for target in sorted(targets):
            if _layer(target) > _layer(module):
                upward.append(
                    f"{module} ({LAYERS[_layer(module)][0]}) imports "
                    f"{target} ({LAYERS[_layer(target)][0]})"
                )
    assert not upward, "imports from a higher layer:\n" + "\n".join(upward)


def test_lower_layers_do_not_import_the_model():
    model, model_layer = f"{PACKAGE}.model", _layer(f"{PACKAGE}.model")
    offenders = [
        module
        for module, targets in _edges().items()
        if _layer(module) < model_layer
        and any(t == model or t.startswith(model + ".") for t in targets)
    ]
    assert not offenders, f"type against waste_harmony.services.CityServices: {offenders}"


#: Parts of the model package that may import another part: the builder makes the geometry.
MODEL_PART_IMPORTS = {("building", "geometry")}


def test_model_parts_do_not_import_each_other():
    # The model package is composed, not layered: CityModel (the package module) owns
    # the parts and passes them what they need; a part never reaches into another part
    # (and, being a submodule, never imports the package: that would be a cycle).
    package = f"{PACKAGE}.model."
    found = {
        (module.removeprefix(package), target.removeprefix(package))
        for module, targets in _edges().items()
        if module.startswith(package)
        for target in targets
        if target.startswith(package)
    }
    assert found <= MODEL_PART_IMPORTS, sorted(found - MODEL_PART_IMPORTS)


def _private_imports() -> set[tuple[str, str, str]]:
    found = set()
    for module, imports in GRAPH.items():
        for target, name in imports:
            if name is None or not name.startswith("_") or name.startswith("__"):
                continue
            if target != module:
                found.add((module, target, name))
    return found


def test_no_private_names_imported_across_modules():
    new = sorted(_private_imports() - KNOWN_PRIVATE_IMPORTS)
    assert not new, (
        "private names imported from another module (make them public, or move the "
        "code that needs them):\n" + "\n".join(f"{m}: from {t} import {n}" for m, t, n in new)
    )


def test_known_private_imports_still_occur():
    stale = sorted(KNOWN_PRIVATE_IMPORTS - _private_imports())
    assert not stale, f"fixed, remove from KNOWN_PRIVATE_IMPORTS: {stale}"


def test_private_modules_stay_in_their_package():
    outside = []
    for module, imports in GRAPH.items():
        for target, _ in imports:
            parent, _, last = target.rpartition(".")
            private = last.startswith("_") and not last.startswith("__")
            if private and not (module == parent or module.startswith(parent + ".")):
                outside.append(f"{module} imports {target}")
    assert not outside, "\n".join(outside)


def test_city_model_offers_every_service():
    # mypy checks the signatures (``waste_harmony.model`` assigns a CityModel to a
    # CityServices variable); at run time every declared member must exist.
    model = CityModel(n_citizens=20, rng=0)
    services: CityServices = model
    members = [n for n in vars(CityServices) if not n.startswith("_")]
    assert len(members) > 30
    missing = [n for n in members if not hasattr(services, n)]
    assert not missing, f"CityModel lacks the services {missing}"


def test_scenario_uses_public_services_only():
    # Scenarios reach the model's state through services, not its recorders or copies.
    forbidden = ("datacollector", "event_log", "_cells", "._rules", "._generators")
    offenders = []
    for module, path in MODULES.items():
        lower = _layer(f"{PACKAGE}.services") <= _layer(module) < _layer(f"{PACKAGE}.model")
        if not lower or module.endswith("scenarios.base"):
            continue
        text = path.read_text(encoding="utf-8")
        code = "\n".join(
            line for line in text.splitlines() if not line.lstrip().startswith((">>>", "..."))
        )
        offenders += [f"{module}: {word}" for word in forbidden if f"model.{word}" in code]
        offenders += [f"{module}: self{word}" for word in forbidden[3:] if f"self{word}" in code]
    assert not offenders, offenders


def test_architecture_page_lists_the_layers():
    # docs/architecture.md draws the layers for the next engineer: its table must name
    # the same layers, in the same order, with the same modules as LAYERS.
    page = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"
    text = page.read_text(encoding="utf-8")
    section = re.split(r"\n##+ ", text.split("\n## Layers\n", 1)[1], maxsplit=1)[0]
    drawn = []
    for line in section.splitlines():
        if not line.startswith("| ") or line.startswith("| layer |"):
            continue
        layer, modules = (cell.strip() for cell in line.strip("|").split("|")[:2])
        names = re.findall(r"`([^`]+)`", modules)  # `city/` is a package, `__init__` the facade
        drawn.append((layer, {"" if n == "__init__" else n.rstrip("/") for n in names}))
    expected = [(layer, set(prefixes)) for layer, prefixes in LAYERS]
    assert drawn == expected, (
        "the layer table of docs/architecture.md differs from LAYERS: change both together"
    )
