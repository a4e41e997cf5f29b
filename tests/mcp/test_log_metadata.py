"""log_metadata goes to the step run, the model version or an artifact version, as JSON."""

from __future__ import annotations

from typing import Annotated

import pytest

from modelplane import Model, log_metadata, pipeline, step
from modelplane.client import Client
from modelplane.errors import InvalidInputError


@step
def measured() -> Annotated[int, "measured_value"]:
    log_metadata({"rows": 3, "columns": ["a", "b"]})
    log_metadata({"accuracy": 0.91, "report": {"f1": 0.9}}, infer_model=True)
    return 3


@pipeline(model=Model(name="meta"), enable_cache=False)
def measuring():
    measured()


def test_metadata_lands_where_it_was_sent(client: Client) -> None:
    run = measuring()
    step_run = client.list_step_runs(run.id)[0]
    # What the step logged to its model version is recorded on it too, for a cache hit to repeat.
    assert step_run.metadata == {
        "rows": 3,
        "columns": ["a", "b"],
        "model_version_changes": {"metadata": {"accuracy": 0.91, "report": {"f1": 0.9}}},
    }
    assert client.get_model_version("meta", 1).metadata == {"accuracy": 0.91, "report": {"f1": 0.9}}
    log_metadata({"checked": True}, artifact_name="measured_value")
    assert client.get_artifact_version("measured_value").metadata["checked"] is True
    log_metadata({"accuracy": 0.95}, model_name="meta", model_version=1)
    assert client.get_model_version("meta", 1).metadata["accuracy"] == 0.95  # merged key by key
    assert client.get_model_version("meta", 1).metadata["report"] == {"f1": 0.9}


def test_bad_metadata_and_missing_targets_are_refused(client: Client) -> None:
    measuring()
    with pytest.raises(InvalidInputError, match="JSON"):
        log_metadata({"when": object()}, model_name="meta")
    with pytest.raises(InvalidInputError, match="target"):
        log_metadata({"a": 1})
    assert client.get_model_version("meta", 1).metadata == {"accuracy": 0.91, "report": {"f1": 0.9}}
