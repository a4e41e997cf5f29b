"""The pipeline DAG: nodes are step invocations, edges are data and ``after=`` dependencies."""

from __future__ import annotations

import dataclasses
from typing import Any, Iterator

from modelplane.errors import PipelineDefinitionError

__all__ = ["External", "Graph", "Node", "OutputRef", "Parameter"]


@dataclasses.dataclass(frozen=True)
class OutputRef:
    """A placeholder for one output of a step invocation, returned by a step call in a pipeline body."""

    node_id: str
    output_name: str
    graph_token: int = dataclasses.field(default=0, compare=False, repr=False)

    def _misuse(self, *_: Any, **__: Any) -> Any:
        raise PipelineDefinitionError(
            f"The output '{self.output_name}' of step '{self.node_id}' is a placeholder while the pipeline "
            "is being defined; its value exists only when the step runs.",
            hint="Pass it to another step and do the computation (comparisons, arithmetic, if/else) there.",
        )

    __bool__ = __lt__ = __le__ = __gt__ = __ge__ = __add__ = __sub__ = __mul__ = __truediv__ = _misuse
    __getitem__ = __len__ = __float__ = __int__ = __index__ = _misuse

    def __iter__(self) -> Iterator[Any]:
        self._misuse()
        return iter(())


@dataclasses.dataclass(frozen=True)
class Parameter:
    """A literal (JSON-able) value bound to a step input."""

    value: Any


@dataclasses.dataclass(frozen=True)
class External:
    """An ``ExternalArtifact`` bound to a step input; resolved when the run starts."""

    artifact: Any


Binding = OutputRef | Parameter | External


@dataclasses.dataclass
class Node:
    id: str  # invocation id, unique in the graph
    step: Any  # the Step object; opaque to this package
    bindings: dict[str, Binding]
    after: tuple[str, ...] = ()
    location: str = ""  # where in the pipeline body the step was called

    @property
    def upstream(self) -> tuple[str, ...]:
        data = [b.node_id for b in self.bindings.values() if isinstance(b, OutputRef)]
        return tuple(dict.fromkeys([*data, *self.after]))


class Graph:
    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self._frozen = False

    def add(self, node: Node) -> None:
        if self._frozen:
            raise PipelineDefinitionError("This pipeline graph is already complete; it cannot take new steps.")
        if node.id in self.nodes:
            raise PipelineDefinitionError(
                f"Two step invocations are called '{node.id}' ({node.location}).",
                hint="Give each invocation its own id with id=….",
            )
        self.nodes[node.id] = node

    def unique_id(self, base: str) -> str:
        if base not in self.nodes:
            return base
        n = 2
        while f"{base}_{n}" in self.nodes:
            n += 1
        return f"{base}_{n}"

    def freeze(self) -> "Graph":
        self._check()
        self._frozen = True
        return self

    def downstream(self, node_id: str) -> set[str]:
        """Every node that depends on ``node_id``, directly or not."""
        children: dict[str, list[str]] = {n: [] for n in self.nodes}
        for node in self.nodes.values():
            for parent in node.upstream:
                children[parent].append(node.id)
        seen: set[str] = set()
        stack = [node_id]
        while stack:
            for child in children[stack.pop()]:
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
        return seen

    def topological_order(self) -> list[str]:
        """Kahn's algorithm; ties keep the order in which steps were called."""
        indegree = {nid: 0 for nid in self.nodes}
        children: dict[str, list[str]] = {nid: [] for nid in self.nodes}
        for node in self.nodes.values():
            for parent in node.upstream:
                indegree[node.id] += 1
                children[parent].append(node.id)
        ready = [nid for nid, deg in indegree.items() if deg == 0]
        order: list[str] = []
        while ready:
            current = ready.pop(0)
            order.append(current)
            for child in children[current]:
                indegree[child] -= 1
                if indegree[child] == 0:
                    ready.append(child)
        if len(order) != len(self.nodes):
            stuck = sorted(nid for nid, deg in indegree.items() if deg > 0)
            raise PipelineDefinitionError(
                f"The steps {', '.join(stuck)} wait for each other in a cycle.",
                hint="Remove one of the after= dependencies that closes the loop.",
            )
        return order

    def _check(self) -> None:
        for node in self.nodes.values():
            for parent in node.upstream:
                if parent not in self.nodes:
                    raise PipelineDefinitionError(
                        f"Step '{node.id}' ({node.location}) depends on '{parent}', which is not a step of "
                        "this pipeline.",
                        hint="Use after= with the id of a step called earlier in the same pipeline body.",
                    )
        self.topological_order()
