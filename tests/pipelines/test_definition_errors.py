"""Bad pipeline bodies fail while tracing, naming the step and the user's file:line."""

from __future__ import annotations

import re

import numpy as np
import pytest

from modelplane import pipeline, step
from modelplane.errors import PipelineDefinitionError
from modelplane.dag.graph import Graph, Node

from .resources.shapes import add, double, make_number

HERE = __file__


def _line_of(marker: str) -> int:
    with open(HERE) as handle:
        for number, line in enumerate(handle, 1):
            if marker in line and "_line_of" not in line:
                return number
    raise AssertionError(marker)


def test_missing_input_names_step_and_line() -> None:
    @pipeline
    def broken():
        add(a=make_number())  # MARK-missing

    with pytest.raises(PipelineDefinitionError) as caught:
        broken()
    message = str(caught.value)
    assert "'add'" in message and "b" in message
    assert f"{HERE}:{_line_of('MARK-missing')}" in message


def test_non_jsonable_value_is_refused_with_a_fix() -> None:
    @pipeline
    def broken():
        double(x=np.arange(3))  # MARK-array

    with pytest.raises(PipelineDefinitionError) as caught:
        broken()
    message = str(caught.value)
    assert "'double'" in message and "ndarray" in message and "ExternalArtifact" in message
    assert f":{_line_of('MARK-array')}" in message


def test_duplicate_output_names_fail_at_decoration() -> None:
    from typing import Annotated, Tuple

    with pytest.raises(PipelineDefinitionError, match="more than once"):

        @step
        def twins() -> Tuple[Annotated[int, "same"], Annotated[int, "same"]]:
            return 1, 2


def test_step_output_used_outside_the_pipeline_body() -> None:
    leaked = []

    @pipeline
    def leaky():
        leaked.append(make_number())

    leaky.trace()
    with pytest.raises(PipelineDefinitionError, match="outside a pipeline body"):
        double(leaked[0])


def test_placeholder_cannot_be_used_as_a_value() -> None:
    @pipeline
    def branching():
        if make_number() > 1:
            double(x=1)

    with pytest.raises(PipelineDefinitionError, match="placeholder"):
        branching()


def test_same_step_twice_gets_distinct_ids() -> None:
    @pipeline
    def twice():
        x = make_number()
        double(x=double(x=x))

    graph, _ = twice.trace()
    assert list(graph.nodes) == ["make_number", "double", "double_2"]


def test_after_orders_independent_steps_and_cycles_fail() -> None:
    @pipeline
    def ordered():
        make_number(value=1, id="first")
        make_number(value=2, id="second", after="first")

    graph, _ = ordered.trace()
    assert graph.topological_order() == ["first", "second"]

    @pipeline
    def cyclic():
        make_number(value=1, id="a", after="b")
        make_number(value=2, id="b", after="a")

    with pytest.raises(PipelineDefinitionError, match="cycle"):
        cyclic.trace()

    @pipeline
    def dangling():
        make_number(value=1, after="ghost")

    with pytest.raises(PipelineDefinitionError, match="ghost"):
        dangling.trace()


def test_graph_topological_orders_are_valid() -> None:
    graph = Graph()
    for node_id, after in [("a", ()), ("b", ("a",)), ("c", ("a",)), ("d", ("b", "c"))]:
        graph.add(Node(node_id, step=None, bindings={}, after=after))
    order = graph.freeze().topological_order()
    assert order.index("a") < order.index("b") < order.index("d")
    assert order.index("c") < order.index("d")
    assert graph.downstream("b") == {"d"}


def test_pipeline_with_no_steps_is_refused() -> None:
    @pipeline
    def empty():
        pass

    with pytest.raises(PipelineDefinitionError, match="called no steps"):
        empty()


def test_wrong_pipeline_arguments() -> None:
    @pipeline
    def takes_one(n: int):
        make_number(value=n)

    with pytest.raises(PipelineDefinitionError, match="wrong arguments"):
        takes_one(1, 2)
    assert re.search(r"test_definition_errors", str(takes_one))
