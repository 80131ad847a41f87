"""Creating millions of cell agents in bulk, as real, registered Mesa agents.

A model of a city at 1:1 scale has millions of citizens, each a Mesa agent.
Creating them one at a time costs about 4 µs each, almost all of it Mesa's
bookkeeping of one agent (a unique id, registration in ``model.agents`` and
``model.agents_by_type`` behind a signal-emitting wrapper, a debug log line, the
cell's membership). :func:`create_in_cells` does the same bookkeeping once for
all of them: the agents are the same objects, with the same attributes, ids,
registrations and cell memberships, in the same order, as calling the class once
per agent gives (``tests/test_bulk_agents.py`` compares the two through Mesa's
public API). The batch registration is the one proposed for Mesa's own
``Agent.create_agents`` (mesa/mesa#3253, not in Mesa 3.5).

The bulk path is taken only when nothing could tell the difference (see
:func:`bulk_applies`); otherwise each agent is created by calling the class.
"""

from __future__ import annotations

import gc
import inspect
import logging
from collections.abc import Iterable, Sequence
from itertools import chain, count, repeat
from typing import Any

import mesa
import numpy as np
from mesa.discrete_space import Cell
from mesa.experimental.mesa_signals import ModelSignals

__all__ = ["bulk_applies", "create_in_cells"]

#: The logger Mesa's ``Model.register_agent`` writes one debug line per agent to.
_MESA_MODEL_LOGGER = "MESA.mesa.model"


#: Set once this process is seen holding frozen objects (see :func:`_program_froze_objects`).
_frozen_seen = False


def _program_froze_objects() -> bool:
    """Whether the program has moved objects to the permanent generation (``gc.freeze``).

    ``gc.get_freeze_count()`` walks every frozen object (CPython keeps them in a
    linked list and counts it): about 13 ms in a pool worker, which freezes the
    ~10^5 objects of its imports (:func:`~waste_harmony.batch.worker.prepare_worker`)
    — as much as a 200-citizen, 30-day run, so asking at every model built halved a
    pool's speed on small models. It is asked only until the answer is yes (an empty
    permanent generation counts in no time); after that the program is taken to
    keep its frozen objects. One that unfreezes them later only misses the move to
    the oldest generation, a saving that matters at millions of agents.

    Returns
    -------
    bool
        True once frozen objects have been seen in this process.

    Examples
    --------
    >>> _program_froze_objects() in (True, False)
    True
    """
    global _frozen_seen
    if not _frozen_seen:
        _frozen_seen = gc.get_freeze_count() > 0
    return _frozen_seen


def _constructors(cls: type) -> list[type]:
    """The classes in ``cls``'s MRO that define ``__init__`` or ``__new__``."""
    return [k for k in cls.__mro__ if "__init__" in vars(k) or "__new__" in vars(k)]


def bulk_applies(cls: type, like: type, model: mesa.Model, cells: Sequence[Cell]) -> bool:
    """Whether :func:`create_in_cells` may create ``cls`` agents in bulk.

    True only when creating them one at a time would do nothing the bulk path
    does not: ``cls`` adds no ``__init__``, ``__new__``, ``__setattr__``, ``cell``
    or ``_mesa_cell`` of its own to those of ``like``; no Mesa dataset tracks it;
    the model keeps Mesa's ``register_agent``; nobody observes the model's
    ``agents`` signal (Mesa's signals); Mesa's debug log is off; and the cells have
    no capacity limit.

    Parameters
    ----------
    cls : type
        The agent class to create.
    like : type
        The class whose ``__init__(model, row, cell)`` the bulk path reproduces
        (:class:`~waste_harmony.agents.Citizen` or
        :class:`~waste_harmony.agents.Neighborhood`).
    model : mesa.Model
        The model.
    cells : sequence of mesa.discrete_space.Cell
        The cells the agents will live in.

    Returns
    -------
    bool
        Whether the bulk path applies.

    Examples
    --------
    >>> from waste_harmony import Citizen, CityModel
    >>> model = CityModel(n_citizens=10, rng=0)
    >>> cells = [model.space[n] for n in model.node_ids]
    >>> bulk_applies(Citizen, Citizen, model, cells)
    True
    >>> class Counted(Citizen):
    ...     def __init__(self, model, row, cell):
    ...         super().__init__(model, row, cell)
    ...         self.count = 0
    >>> bulk_applies(Counted, Citizen, model, cells)
    False
    """
    subscribers = getattr(model, "subscribers", None)
    if (
        not issubclass(cls, like)
        or _constructors(cls) != _constructors(like)
        or cls.__setattr__ is not object.__setattr__
        or any(
            inspect.getattr_static(cls, name) is not inspect.getattr_static(like, name)
            for name in ("cell", "_mesa_cell")
        )
        or getattr(cls, "_datasets", True)
        or type(model).register_agent is not mesa.Model.register_agent
        or subscribers is None
        or ("agents", ModelSignals.AGENT_ADDED) in subscribers
        or getattr(model, "_batch_context", None) is not None
        or logging.getLogger(_MESA_MODEL_LOGGER).isEnabledFor(logging.DEBUG)
        or not isinstance(getattr(model.agents, "_agents", None), dict)
    ):
        return False
    return all(
        cell.capacity is None and isinstance(getattr(cell, "_agents", None), list) for cell in cells
    )


def _allocate(cls: type, model: mesa.Model, ids: range, cell_of_row: Iterable[Cell]) -> list[Any]:
    """The agents of rows 1, 2, ...: allocated, then their attributes set, one by one.

    The attributes in the order ``Agent.__init__``, ``Model.register_agent`` and the
    class's ``__init__`` (then ``HasCell``'s cell setter) set them. All five for one
    agent while it is in the CPU cache, in one loop the interpreter specialises
    (``STORE_ATTR`` on a shared-key instance), rather than five passes over millions
    of objects: about a third less time at 10^6-10^7 agents.
    """
    new = object.__new__
    agents: list[Any] = []
    append = agents.append
    for uid, row, cell in zip(ids, count(1), cell_of_row):
        agent: Any = new(cls)
        agent.model = model
        agent.unique_id = uid
        agent.pos = None
        agent.row = row
        agent._mesa_cell = cell
        append(agent)
    return agents


def create_in_cells[A: mesa.Agent](
    cls: type[A],
    model: mesa.Model,
    home: Any,
    cells: Sequence[Cell],
    *,
    like: type,
    fast: bool = True,
) -> list[A]:
    """Create one agent per row: ``cls(model, i, cells[home[i]])`` for every ``i``.

    The result is what ``[cls(model, i, cells[h]) for i, h in enumerate(home)]``
    gives: real agents of ``cls`` with consecutive ``unique_id`` values,
    registered in ``model.agents`` and ``model.agents_by_type[cls]`` and appended
    to their cells, all in row order, with the attributes ``__init__`` sets, in
    the order it sets them. When :func:`bulk_applies`, the first agent is created
    by calling the class and the others in bulk, several times faster; otherwise
    (or with ``fast=False``) every agent is created by calling the class.

    Parameters
    ----------
    cls : type
        The agent class: ``like`` or a subclass of it.
    model : mesa.Model
        The model the agents belong to.
    home : array-like of int
        Index into ``cells`` of each agent's cell, one per row.
    cells : sequence of mesa.discrete_space.Cell
        The cells, indexed by ``home``.
    like : type
        The class whose ``__init__(model, row, cell)`` (``super().__init__(model)``,
        then ``self.row = row`` and ``self.cell = cell``) the bulk path reproduces.
    fast : bool
        Use the bulk path when it applies (default); ``False`` calls the class
        once per agent.

    Returns
    -------
    list
        The agents, in row order.

    Raises
    ------
    IndexError
        If a ``home`` index is outside ``cells``.

    Examples
    --------
    >>> import networkx as nx
    >>> from mesa.discrete_space import Network
    >>> from waste_harmony import Neighborhood
    >>> model = mesa.Model(rng=0)
    >>> space = Network(nx.path_graph(3), random=model.random)
    >>> cells = [space[i] for i in range(3)]
    >>> hoods = create_in_cells(Neighborhood, model, [0, 1, 2], cells, like=Neighborhood)
    >>> [hood.unique_id for hood in hoods], all(hood.cell is c for hood, c in zip(hoods, cells))
    ([1, 2, 3], True)
    >>> len(model.agents), list(model.agents_by_type[Neighborhood]) == hoods
    (3, True)
    """
    home = np.asarray(home, dtype=np.int64).reshape(-1)
    outside = (home < 0) | (home >= len(cells))
    if outside.any():
        raise IndexError(f"home index {home[outside][0]} is out of range for {len(cells)} cells")
    n = len(home)
    if not (n > 1 and fast and bulk_applies(cls, like, model, cells)):
        return [cls(model, row, cells[h]) for row, h in enumerate(home.tolist())]
    everyone = model.agents._agents
    # Registered before these agents and not of their class (in a fresh model: none,
    # or the neighbourhoods): the agents the by-type set must leave out.
    others: list[Any] | None = [a for a in everyone if type(a) is not cls]
    # The first agent the ordinary way: it registers the class with the model and
    # fixes the attribute layout CPython then shares across all instances (bulk
    # attributes on a class without one would take twice the memory).
    agents: list[A] = [cls(model, 0, cells[int(home[0])])]
    of_type = model.agents_by_type[cls]
    if others is not None and len(of_type._agents) + len(others) != len(everyone):
        others = None  # not the sets Mesa keeps: insert into the by-type set instead
    rest = home[1:]
    order = None if bool((rest[1:] >= rest[:-1]).all()) else rest.argsort(kind="stable")
    counts = np.bincount(rest, minlength=len(cells)).tolist()
    if order is None:  # sorted homes (as the model builds them): cells repeat in runs
        cell_of_row: Any = chain.from_iterable(map(repeat, cells, counts))
    else:
        cell_of_row = map(cells.__getitem__, rest.tolist())
    was_enabled = gc.isenabled()
    gc.disable()  # millions of new objects: no collection passes over them meanwhile
    try:
        first = model.agent_id_counter
        new: list[A] = _allocate(cls, model, range(first, first + n - 1), cell_of_row)
        model.agent_id_counter = first + n - 1
        # Registration as Model.register_agent does it, in one pass.
        everyone.update(zip(new, repeat(None)))
        if others is None:
            of_type._agents.update(zip(new, repeat(None)))
        else:
            # The by-type set is everyone but the others, in registration order: a
            # copy of the dict (a block copy) without them, cheaper than inserting.
            mine = everyone.copy()
            for agent in others:
                del mine[agent]
            of_type._agents = mine
        # Cell membership as Cell.add_agent does it, one cell at a time.
        grouped: list[Any] = new if order is None else [new[i] for i in order.tolist()]
        start = 0
        for cell, count in zip(cells, counts, strict=True):
            if count:
                cell._agents.extend(grouped[start : start + count])
                cell.empty = False
                start += count
        del grouped
        agents += new
    finally:
        if not _program_froze_objects():
            # Move the new objects straight to the oldest generation (freeze, then
            # unfreeze, which hands the permanent generation to the oldest one):
            # they are long-lived, and otherwise the first young-generation pass
            # after gc.enable() traverses all of them (seconds at 10^7). Skipped
            # when the program froze objects itself, not to release them.
            gc.freeze()
            gc.unfreeze()
        if was_enabled:
            gc.enable()
    return agents
