"""A step's outputs are checked against their return annotation when it is a plain class."""

from __future__ import annotations

from typing import Annotated, Any, Optional, Tuple

import pytest

from modelplane import pipeline, step
from modelplane.client import Client
from modelplane.enums import ExecutionStatus
from modelplane.errors import NotFoundError, PipelineRunError, StepFailedError

pd = pytest.importorskip("pandas")
np = pytest.importorskip("numpy")


@step(enable_cache=False)
def features() -> Annotated[pd.DataFrame, "x"]:
    return {"a": [1, 2]}  # type: ignore[return-value]


@pipeline(enable_cache=False)
def wrong_frame() -> None:
    features()


@step(enable_cache=False)
def pair() -> Tuple[Annotated[int, "count"], Annotated[str, "label"]]:
    return 3, 4  # type: ignore[return-value]


@pipeline(enable_cache=False)
def wrong_second_output() -> None:
    pair()


@step(enable_cache=False)
def numbers_and_loose() -> Tuple[
    Annotated[int, "n"], Annotated[float, "f"], Annotated[float, "g"], Annotated[Any, "a"],
    Annotated[list[int], "generic"], Annotated[Optional[int], "maybe"], Annotated[bool, "flag"],
]:
    return np.int64(3), 2, np.float32(0.5), object(), ["not", "ints"], None, np.bool_(True)


@pipeline(enable_cache=False)
def loose() -> None:
    numbers_and_loose()


def test_an_output_of_the_wrong_type_fails_the_step_naming_output_and_types(client: Client) -> None:
    with pytest.raises(StepFailedError) as caught:
        wrong_frame()
    cause = caught.value.__cause__
    assert isinstance(cause, PipelineRunError)
    message = str(cause)
    assert "'x'" in message and "DataFrame" in message and "returned dict" in message
    run = client.list_runs(pipeline="wrong_frame").items[0]
    (step_run,) = client.list_step_runs(run.id)
    assert step_run.status is ExecutionStatus.FAILED and step_run.outputs == {}
    with pytest.raises(NotFoundError):  # nothing stored as builtins:dict
        client.list_artifact_versions(name="x")


def test_each_output_of_a_tuple_is_checked(client: Client) -> None:
    with pytest.raises(StepFailedError) as caught:
        wrong_second_output()
    message = str(caught.value.__cause__)
    assert "'label'" in message and "annotated str" in message and "returned int" in message


def test_numbers_numpy_scalars_any_and_generics_pass(client: Client) -> None:
    run = loose()
    assert run.status is ExecutionStatus.COMPLETED
