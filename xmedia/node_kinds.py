"""What value each route node holds, so that ``Route.run`` can check every step returns what it declares.

A node's value is checked by the first rule that applies to its name:

1. a ``NodeKind`` a provider declares for that node (``NodeKind("controls:filter", Look)``): a plug-in medium
   states what its own nodes hold, beside its steps (the registry collects it like a ``Step``);
2. a space ``space:NAME``: an ``Embedding`` whose ``space`` is ``NAME``;
3. otherwise the value's ``KIND`` is the node's name (``Audio.KIND == "audio"``, ``ComposerControls.KIND ==
   "controls:composer"``, ``Trajectory.KIND == "robot"``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from .errors import RouteError


@dataclass(frozen=True)
class NodeKind:
    """What the node ``name`` holds: ``holds`` is a class (or tuple of classes) or a predicate on the value.

    ``description`` says it in words, for the error a lying step raises."""

    name: str
    holds: type | tuple | Callable[[Any], bool]
    description: str = ""

    def accepts(self, value) -> bool:
        if isinstance(self.holds, (type, tuple)):
            return isinstance(value, self.holds)
        return bool(self.holds(value))

    def describe(self) -> str:
        if self.description:
            return self.description
        classes = self.holds if isinstance(self.holds, tuple) else (self.holds,)
        return " or ".join(getattr(c, "__name__", str(c)) for c in classes)


def holds(node: str, value, kinds: Mapping[str, NodeKind]) -> bool:
    """Whether ``value`` is what the node ``node`` holds (see the module docstring for the rules)."""
    if node in kinds:
        return kinds[node].accepts(value)
    if node.startswith("space:"):
        return getattr(value, "KIND", None) == "embedding" and f"space:{getattr(value, 'space', '')}" == node
    return getattr(value, "KIND", None) == node


def expected(node: str, kinds: Mapping[str, NodeKind]) -> str:
    """The node's value in words: ``an Embedding of space 'clip'``, ``a value of KIND 'audio'``..."""
    if node in kinds:
        return kinds[node].describe()
    if node.startswith("space:"):
        return f"an Embedding of space {node.split(':', 1)[1]!r}"
    return f"a value whose KIND is {node!r}"


def actual(value) -> str:
    """A value's type in words: its class, and its KIND or space when it has one."""
    kind = getattr(value, "KIND", None)
    if kind == "embedding":
        return f"{type(value).__name__} of space {getattr(value, 'space', None)!r}"
    return type(value).__name__ + (f" (KIND {kind!r})" if isinstance(kind, str) else "")


def check_step_output(step, value, kinds: Mapping[str, NodeKind]) -> None:
    """Raise ``RouteError`` when ``step`` returned something else than its declared ``dst`` holds."""
    if not holds(step.dst, value, kinds):
        raise RouteError(f"step {step.name!r} declares it returns {step.dst!r} ({expected(step.dst, kinds)}) but "
                         f"returned {actual(value)}; fix the step's dst= or what it returns")
