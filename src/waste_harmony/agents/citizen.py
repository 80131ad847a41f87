"""Citizens: Mesa cell agents whose state is a row of the model's citizen columns."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from mesa.discrete_space import CellAgent

from waste_harmony.agents.columns import Column
from waste_harmony.dynamics.recycling import recycling_probability as _tpb
from waste_harmony.parameters import ROLE_NAMES

if TYPE_CHECKING:
    from waste_harmony.services import CityServices

__all__ = ["Citizen"]


class Citizen(CellAgent):
    """A resident of the city: concern, recycling, protest, festivals, biotech.

    A citizen lives in the cell of its home neighbourhood. Its state is a row of
    ``model.citizens`` (see DESIGN's "state in columns, agents as views"): reading
    or assigning ``citizen.concern`` reads or writes that row. The default
    behaviour runs vectorised over all citizens; a subclass that overrides a
    per-agent hook (:meth:`recycling_probability`) is detected by the model, which
    then calls the hook on every citizen of that class each day.

    Parameters
    ----------
    model : CityServices
        The model.
    row : int
        The citizen's row in ``model.citizens``.
    cell : mesa.discrete_space.Cell
        The home neighbourhood's cell.

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> class Keen(Citizen):
    ...     def recycling_probability(self) -> float:
    ...         return 1.0
    >>> model = CityModel(n_citizens=200, rng=1, citizen_class=Keen)
    >>> model.step()
    >>> model.recycling_rate > 0.3
    True
    """

    #: Hooks a subclass may override; the model calls overridden ones per agent.
    hooks: ClassVar[tuple[str, ...]] = ("recycling_probability",)

    concern = Column("citizens", "environmental concern in [0, 1]")
    threshold = Column("citizens", "protest threshold: share of participants observed, [0, 1]")
    protesting = Column("citizens", "whether the citizen protests today")
    recycled = Column("citizens", "whether the citizen recycled today")
    adopted = Column("citizens", "whether the citizen has adopted household biotech")
    location = Column("citizens", "index of the node where the citizen is today")
    home = Column("citizens", "index of the home node")
    role_code = Column("citizens", "0 for none, else 1 + index in ROLE_NAMES")

    def __init__(self, model: CityServices, row: int, cell) -> None:
        super().__init__(model)
        self.row = row
        self.cell = cell

    @property
    def role(self) -> str | None:
        """The citizen's role in the story (``"designer"``, …) or ``None``."""
        code = self.role_code
        return ROLE_NAMES[code - 1] if code else None

    @property
    def node(self):
        """Id of the home node in the city graph."""
        return self.model.node_ids[self.home]

    def recycling_probability(self) -> float:
        """Probability that this citizen recycles today (per-agent hook).

        The default is the vectorised rule evaluated for this one citizen: the
        theory-of-planned-behaviour logit of concern, the home neighbourhood's
        recycling share yesterday and its infrastructure
        (:func:`waste_harmony.dynamics.recycling.recycling_probability`).
        Override in a subclass to change the behaviour of that class only.

        Returns
        -------
        float
            A probability in [0, 1].
        """
        p = self.model.params
        hoods = self.model.neighborhoods
        return float(
            _tpb(
                self.concern,
                hoods.recycling_norm[self.home],
                hoods.recycling_infrastructure[self.home],
                **p.recycling_coefficients(),
            )
        )

    @classmethod
    def overridden_hooks(cls) -> tuple[str, ...]:
        """Names of the per-agent hooks this class overrides.

        Returns
        -------
        tuple of str
            Empty for :class:`Citizen` itself.
        """
        return tuple(h for h in cls.hooks if getattr(cls, h) is not getattr(Citizen, h))
