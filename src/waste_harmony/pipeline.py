"""The step pipeline: the ordered, named vectorised rules that make up one day.

A rule is any callable ``rule(model) -> None`` that reads and writes the model's
columns. The model runs its pipeline once per day, then records. Researchers
extend behaviour the fast way by adding, replacing or removing rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from waste_harmony.docstrings import shared_sections

__all__ = ["AgentStep", "Pipeline", "Rule"]

Rule = Callable[[Any], None]


class Pipeline:
    """An ordered collection of named rules.

    Parameters
    ----------
    rules : iterable of (str, callable), optional
        Initial rules in order.

    Examples
    --------
    >>> calls = []
    >>> p = Pipeline([("a", lambda m: calls.append("a"))])
    >>> p.add("b", lambda m: calls.append("b"), before="a")
    >>> p.names()
    ['b', 'a']
    >>> p.run(None); calls
    ['b', 'a']
    """

    def __init__(self, rules: list[tuple[str, Rule]] | None = None) -> None:
        self._rules: list[tuple[str, Rule]] = []
        for name, rule in rules or []:
            self.add(name, rule)

    def names(self) -> list[str]:
        """Rule names in execution order.

        Returns
        -------
        list of str
            Names.
        """
        return [name for name, _ in self._rules]

    def _index(self, name: str) -> int:
        for i, (existing, _) in enumerate(self._rules):
            if existing == name:
                return i
        raise KeyError(f"no rule named {name!r} in the pipeline; rules are: {self.names()}")

    def add(
        self, name: str, rule: Rule, *, before: str | None = None, after: str | None = None
    ) -> None:
        """Add a rule at the end, or before/after a named rule.

        Parameters
        ----------
        name : str
            Unique name of the new rule.
        rule : callable
            ``rule(model) -> None``.
        before, after : str, optional
            Insert relative to this rule (at most one of the two).

        Raises
        ------
        ValueError
            If the name is taken, the rule is not callable, or both anchors are given.
        KeyError
            If the anchor does not exist.
        """
        if not callable(rule):
            raise ValueError(f"rule {name!r} must be callable as rule(model), got {rule!r}")
        if name in self:
            raise ValueError(f"a rule named {name!r} exists already; use replace({name!r}, ...)")
        if before is not None and after is not None:
            raise ValueError("give at most one of before= and after=")
        if before is not None:
            position = self._index(before)
        elif after is not None:
            position = self._index(after) + 1
        else:
            position = len(self._rules)
        self._rules.insert(position, (name, rule))

    def replace(self, name: str, rule: Rule) -> Rule:
        """Replace the rule called ``name``; return the old one.

        Parameters
        ----------
        name : str
            Existing rule name.
        rule : callable
            The new rule.

        Returns
        -------
        callable
            The replaced rule (so a new rule can wrap it).
        """
        if not callable(rule):
            raise ValueError(f"rule {name!r} must be callable as rule(model), got {rule!r}")
        i = self._index(name)
        old = self._rules[i][1]
        self._rules[i] = (name, rule)
        return old

    def remove(self, name: str) -> Rule:
        """Remove the rule called ``name`` and return it.

        Parameters
        ----------
        name : str
            Existing rule name.

        Returns
        -------
        callable
            The removed rule.
        """
        return self._rules.pop(self._index(name))[1]

    def get(self, name: str) -> Rule:
        """The rule called ``name``.

        Parameters
        ----------
        name : str
            Existing rule name.

        Returns
        -------
        callable
            The rule.
        """
        return self._rules[self._index(name)][1]

    @shared_sections
    def run(self, model: Any) -> None:
        """Run every rule in order on ``model``.

        Parameters
        ----------
        {model_parameter}
        """
        for _, rule in list(self._rules):
            rule(model)

    def __contains__(self, name: object) -> bool:
        return any(existing == name for existing, _ in self._rules)

    def __iter__(self) -> Iterator[tuple[str, Rule]]:
        return iter(list(self._rules))

    def __len__(self) -> int:
        return len(self._rules)

    def __repr__(self) -> str:
        return f"Pipeline({self.names()})"


@dataclass(frozen=True)
class AgentStep:
    """A rule that steps every agent of one Mesa class: a study's own agent type's day.

    Called as a rule, it calls ``method`` on each agent that is an instance of
    ``agent_class`` (subclasses included), in a random order drawn from the model's
    random generator (Mesa's ``shuffle_do``) or in the order they were created. A
    frozen dataclass of a class and two names, so the pipeline still copies and pickles.

    Parameters
    ----------
    agent_class : type
        A :class:`mesa.Agent` subclass.
    method : str
        The method called on each agent.
    shuffle : bool
        Random order (``shuffle_do``) or creation order (``do``).

    Examples
    --------
    >>> import mesa
    >>> class Bin(mesa.Agent):
    ...     def step(self):
    ...         self.model.emptied += 1
    >>> model = mesa.Model(rng=1)
    >>> model.emptied = 0
    >>> _ = [Bin(model) for _ in range(3)]
    >>> AgentStep(Bin)(model); model.emptied
    3
    """

    agent_class: type
    method: str = "step"
    shuffle: bool = True

    def __call__(self, model: Any) -> None:
        """Step the agents of :attr:`agent_class`."""
        agents = model.agents.select(agent_type=self.agent_class)
        if self.shuffle:
            agents.shuffle_do(self.method)
        else:
            agents.do(self.method)
