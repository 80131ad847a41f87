"""Groups of scenarios installed and switched off together: :class:`ScenarioGroup`."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from waste_harmony.scenarios.base import Scenario

if TYPE_CHECKING:
    from waste_harmony.services import CityServices

__all__ = ["ScenarioGroup"]


class ScenarioGroup(Scenario):
    """A scenario that installs several others (its parts) and switches them off together.

    Subclass it as a dataclass, set ``name``, ``description`` and ``parts`` (the
    scenario classes, installed with their defaults in this order) and register
    it. Installing the group checks every part first, so a part that fails its
    checks, or is installed already, installs nothing.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> from waste_harmony import CityModel
    >>> from waste_harmony.scenarios import Artist, HarmonyFestival
    >>> @dataclass
    ... class ArtAndFestival(ScenarioGroup):
    ...     name = "art-and-festival"
    ...     parts = (HarmonyFestival, Artist)
    >>> model = CityModel(n_citizens=300, scenarios=[ArtAndFestival()], rng=0)
    >>> [s.name for s in model.scenarios]
    ['harmony-festival', 'artist', 'art-and-festival']
    """

    parts: ClassVar[tuple[type[Scenario], ...]] = ()

    def validate(self, model: CityServices) -> None:
        """Check every part before any is installed, so a failure installs nothing.

        Refuses a part that is installed already (it would act twice) and runs each
        part's own parameter checks and :meth:`validate` against the model.
        """
        installed = {s.name for s in model.scenarios}
        for part in self.parts:
            if part.name in installed:
                raise ValueError(
                    f"scenario {self.name!r} installs {part.name!r}, which is "
                    f"installed already; remove {part.name!r} or {self.name!r} "
                    "(or install the parts one by one)"
                )
        self._pending = [cls() for cls in self.parts]
        for pending in self._pending:
            pending.check_parameters()
            pending.validate(model)

    def setup(self, model: CityServices) -> None:
        """Install the parts with their defaults; if one still fails, remove those installed."""
        self.parts_: list[Scenario] = []
        try:
            for part in self._pending:
                self.parts_.append(model.add_scenario(part))
        except Exception:
            for part in self.parts_:
                part.switch_off()
                model.scenarios.remove(part)
            self.parts_ = []
            raise

    def switch_off(self) -> None:
        """Switch off every part, then this."""
        for part in getattr(self, "parts_", []):
            part.switch_off()
        super().switch_off()
