"""``waste-harmony list``: the registered scenarios and their parameters."""

from __future__ import annotations

import argparse

from waste_harmony.paramspec import describe

__all__ = ["DESCRIPTION", "add_arguments", "handle"]

DESCRIPTION = (
    "List the registered scenarios (built-in and plug-ins) with a description and their parameters."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``list`` takes no arguments."""


def handle(args: argparse.Namespace) -> int:
    """Print every registered scenario with its description and parameters: 0."""
    from waste_harmony.scenarios import available

    registry = available()
    if not registry:
        print(
            "No scenarios are registered. Scenarios come with waste_harmony and with "
            "packages that declare the entry point group 'waste_harmony.scenarios'."
        )
        return 0
    print(f"{len(registry)} scenario(s) registered:\n")
    width = max(len(name) for name in registry)
    for name, cls in registry.items():
        origin = (
            "" if cls.__module__.startswith("waste_harmony.") else f"  [plug-in: {cls.__module__}]"
        )
        description = " ".join((cls.description or "(no description)").split())
        print(f"  {name:<{width}}  {description}{origin}")
        rows = cls.parameter_table()
        for row in rows:
            print(f"  {'':<{width}}    {describe(row)}")
        if not rows:
            print(f"  {'':<{width}}    (no parameters)")
    print("\nUse them with: waste-harmony run --scenario NAME, or [scenarios.NAME] in a run file.")
    return 0
