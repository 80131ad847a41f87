"""Import a script of ``benchmarks/`` (not a package) as a module, for the tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load_benchmark(name: str) -> ModuleType:
    """The module of ``benchmarks/<name>.py``, registered in ``sys.modules``.

    Registered under ``_wh_benchmarks_<name>`` (dataclasses and pickling look
    modules up there).
    """
    path = BENCHMARKS / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_wh_benchmarks_{name}", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
