"""Citizens: Mesa cell agents whose state is a row of the model's citizen columns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

import mesa
import numpy as np
from mesa.discrete_space import Cell, CellAgent

from waste_harmony.agents.bulk import create_in_cells
from waste_harmony.agents.columns import Column
from waste_harmony.dynamics.recycling import recycling_probability as _tpb
from waste_harmony.parameters import ROLE_NAMES

if TYPE_CHECKING:
    from waste_harmony.services import CityServices

__all__ = ["Citizen", "CitizenRows"]


class CitizenRows:
    """The rows of one citizen class, as arrays: what a vectorised hook receives.

    ``rows.concern`` is ``model.citizens.concern[rows.index]`` (a copy), for every
    citizen column; ``rows.default`` holds the default rule's values for these
    rows, so an override can start from them as a per-agent hook starts from
    ``super()``.

    Parameters
    ----------
    model : CityServices
        The model.
    index : numpy.ndarray of int
        The rows, in ``model.citizens``.
    default : numpy.ndarray
        The default rule's values for these rows.

    Examples
    --------
    >>> from waste_harmony import CityModel
    >>> model = CityModel(n_citizens=10, rng=0)
    >>> rows = CitizenRows(model, np.arange(3), default=np.zeros(3))
    >>> rows.concern.shape, len(rows)
    ((3,), 3)
    """

    def __init__(self, model: CityServices, index: np.ndarray, default: np.ndarray) -> None:
        self.model = model
        self.index = index
        self.default = default

    def __len__(self) -> int:
        return len(self.index)

    def __getattr__(self, name: str) -> np.ndarray:
        if name.startswith("_") or name in ("model", "index", "default"):
            raise AttributeError(name)
        if name not in self.model.citizens:
            raise AttributeError(
                f"no citizen column {name!r}; columns are: "
                f"{', '.join(self.model.citizens.columns())}"
            )
        return self.model.citizens[name][self.index]


class Citizen(CellAgent):
    """A resident of the city: concern, recycling, protest, festivals, biotech.

    A citizen lives in the cell of its home neighbourhood. Its state is a row of
    ``model.citizens`` (see DESIGN's "state in columns, agents as views"): reading
    or assigning ``citizen.concern`` reads or writes that row. The default
    behaviour runs vectorised over all citizens. A subclass changes it in one of
    two forms, detected by the model:

    - a per-agent hook (:meth:`recycling_probability`), called on every citizen of
      that class each day: simple, but a Python call per citizen per day (about
      190 times the cost of the default rule for 5,000 citizens);
    - its vectorised form (:meth:`recycling_probabilities`), a class method called
      once a day with the arrays of that class's rows (:class:`CitizenRows`): as
      fast as the default rule.

    Overriding both forms of one hook is an error. Two Mesa habits are refused
    with a message, because the state lives in columns: overriding ``step()``
    (the model has no per-agent step; use the hooks or a pipeline rule) and
    ``remove()`` (a citizen's row cannot leave the columns).

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
    #: Per-agent hook → its vectorised form (a class method over :class:`CitizenRows`).
    vectorised_hooks: ClassVar[dict[str, str]] = {
        "recycling_probability": "recycling_probabilities"
    }

    concern = Column("citizens", "environmental concern in [0, 1]")
    baseline_concern = Column(
        "citizens", "concern that raised or lowered concern fades back to (clean-air level), [0, 1]"
    )
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

    @classmethod
    def create_in_cells(
        cls, model: mesa.Model, home: np.ndarray, cells: Sequence[Cell], *, fast: bool = True
    ) -> list[Citizen]:
        """Create one citizen per row: row ``i`` lives in ``cells[home[i]]``.

        The same agents as ``[cls(model, i, cells[h]) for i, h in enumerate(home)]``
        (real agents, with consecutive ``unique_id`` values, registered with the
        model and in their cells, in row order), created in bulk, several times
        faster: see :func:`waste_harmony.agents.bulk.create_in_cells`, which also
        says when the bulk path applies. The model builds its citizens this way.

        Parameters
        ----------
        model : mesa.Model
            The model the citizens belong to.
        home : numpy.ndarray of int
            Index into ``cells`` of each citizen's home, one per row.
        cells : sequence of mesa.discrete_space.Cell
            The cells, indexed by ``home``.
        fast : bool
            Use the bulk path when it applies (default); ``False`` calls the
            class once per agent.

        Returns
        -------
        list of Citizen
            The agents, in row order.

        Examples
        --------
        >>> import mesa
        >>> import networkx as nx
        >>> import numpy as np
        >>> from mesa.discrete_space import Network
        >>> model = mesa.Model(rng=0)
        >>> space = Network(nx.path_graph(2), random=model.random)
        >>> cells = [space[0], space[1]]
        >>> people = Citizen.create_in_cells(model, np.array([0, 1, 1]), cells)
        >>> [a.unique_id for a in people], [len(cell.agents) for cell in cells]
        ([1, 2, 3], [1, 2])
        >>> list(model.agents_by_type[Citizen]) == people
        True
        """
        return create_in_cells(cls, model, home, cells, like=Citizen, fast=fast)

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
    def recycling_probabilities(cls, rows: CitizenRows) -> np.ndarray:
        """Probabilities that the citizens of ``rows`` recycle today (vectorised hook).

        The vectorised form of :meth:`recycling_probability`: override it as a
        ``@classmethod`` in a subclass to change the behaviour of that class's
        citizens at the cost of one numpy expression a day. The default returns
        ``rows.default``, the default rule's probabilities.

        Parameters
        ----------
        rows : CitizenRows
            The class's rows: citizen columns as arrays (``rows.concern``, …),
            ``rows.default`` and ``rows.model``.

        Returns
        -------
        numpy.ndarray
            One probability in [0, 1] per row.

        Examples
        --------
        >>> import numpy as np
        >>> from waste_harmony import CityModel
        >>> class Keen(Citizen):
        ...     @classmethod
        ...     def recycling_probabilities(cls, rows):
        ...         return np.minimum(1.0, rows.default + 0.2)
        >>> model = CityModel(n_citizens=200, rng=1, citizen_class=Keen)
        >>> model.step()
        """
        return rows.default

    def remove(self) -> None:
        """Refused: a citizen is a row of the model's columns and cannot leave them.

        Raises
        ------
        NotImplementedError
            Always, naming the alternatives.
        """
        raise NotImplementedError(
            "citizens cannot be removed: each is a row of model.citizens, and every rule, "
            "count and share covers all rows (removing the agent would leave a ghost row "
            "that keeps changing). To take citizens out of the story, keep their rows and "
            "leave them out in your own hooks or rules, e.g. with a column of your own "
            "(model.citizens.add('active', ...)); see docs/extend_citizen.md"
        )

    @classmethod
    def check_class(cls) -> None:
        """Check that a subclass uses the hooks the model calls (called by the model).

        Raises
        ------
        TypeError
            If the class overrides ``step()`` (never called: the day is the
            model's pipeline) or both forms of one hook.
        """
        if cls.step is not Citizen.step:
            raise TypeError(
                f"{cls.__name__} overrides step(), which the model never calls: a day "
                "runs the model's pipeline of vectorised rules, not a per-agent step. "
                f"Override a hook instead ({', '.join(cls.hooks)}, or its vectorised "
                f"form {', '.join(cls.vectorised_hooks.values())}), or add a rule "
                "(model.pipeline.add); see docs/extend_citizen.md"
            )
        for hook, vector in cls.vectorised_hooks.items():
            if hook in cls.overridden_hooks() and vector in cls.overridden_vectorised_hooks():
                raise TypeError(
                    f"{cls.__name__} overrides both {hook}() and its vectorised form "
                    f"{vector}(); keep one"
                )

    @classmethod
    def overridden_vectorised_hooks(cls) -> tuple[str, ...]:
        """Names of the vectorised hooks this class overrides.

        Returns
        -------
        tuple of str
            Empty for :class:`Citizen` itself.
        """
        base = Citizen.__dict__
        return tuple(
            v
            for v in cls.vectorised_hooks.values()
            if getattr(cls, v).__func__ is not base[v].__func__
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
