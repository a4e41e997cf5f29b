"""Records (``metadata/record_base.py``): frozen values made without pydantic, which pydantic still
validates and serialises for the server, the HTTP store and the CLI's JSON."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from datetime import datetime, timezone

import pytest
from pydantic import TypeAdapter, ValidationError

from modelplane.enums import ArtifactType, ExecutionStatus, ModelStages
from modelplane.errors import InvalidInputError
from modelplane.metadata.deployment_records import DeploymentEvent, DeploymentReport, NewDeployment
from modelplane.metadata.record_base import well_typed
from modelplane.metadata.records import (
    ModelRecord,
    ModelVersionRecord,
    NewArtifactLink,
    NewMetricPoint,
    Page,
    RunRecord,
)
from modelplane.metadata.store import MetadataStore
from modelplane.metadata.store_types import PageLimit

NOW = datetime(2026, 12, 5, 1, 30, tzinfo=timezone.utc)


def _version(**changes: object) -> ModelVersionRecord:
    values = dict(id="v1", model_id="m1", model_name="clf", number=1, name="1", created=NOW, updated=NOW)
    return ModelVersionRecord(**{**values, **changes})  # type: ignore[arg-type]


def test_a_record_is_a_frozen_value_given_by_keywords() -> None:
    version = _version(tags=["a"])
    assert version == _version(tags=["a"]) and version != _version(tags=["b"])
    assert version.stage is ModelStages.NONE and version.metadata == {}  # the defaults
    assert _version().metadata is not _version().metadata  # a new dict for each record
    with pytest.raises(dataclasses.FrozenInstanceError):
        version.name = "2"  # type: ignore[misc]
    with pytest.raises(TypeError):
        ModelVersionRecord("v1", "m1")  # type: ignore[call-arg,misc]
    assert dict(version)["tags"] == ["a"]  # (name, value) pairs, as pydantic's models give
    assert version.model_copy(update={"stage": ModelStages.STAGING}).stage is ModelStages.STAGING
    assert version.stage is ModelStages.NONE


def test_validation_converts_json_values_and_ignores_unknown_keys() -> None:
    version = ModelVersionRecord.model_validate(
        {**_version().model_dump(mode="json"), "stage": "production", "not_a_field": 1}
    )
    assert version == _version(stage=ModelStages.PRODUCTION)
    assert isinstance(version.created, datetime) and version.stage is ModelStages.PRODUCTION
    with pytest.raises(ValidationError, match="number"):
        ModelVersionRecord.model_validate({**_version().model_dump(), "number": "one"})
    with pytest.raises(ValidationError, match="updated"):
        ModelVersionRecord.model_validate({k: v for k, v in dict(_version()).items() if k != "updated"})


def test_json_out_and_back_is_the_same_record_nested_records_and_pages_included() -> None:
    dumped = json.loads(_version(stage=ModelStages.STAGING).model_dump_json())
    assert dumped["stage"] == "staging" and dumped["created"].startswith("2026-12-05T01:30:00")
    page = Page[ModelVersionRecord](items=[_version(), _version(id="v2")], total=2, limit=50, offset=0)
    adapter = TypeAdapter(Page[ModelVersionRecord])
    assert adapter.validate_json(adapter.dump_json(page)) == page
    assert [v.id for v in page] == ["v1", "v2"] and len(page) == 2 and page[1].id == "v2"


def test_null_stands_for_the_empty_value_where_the_column_once_held_null() -> None:
    run = RunRecord.model_validate(
        dict(id="r", name="r", pipeline_id="p", pipeline_name="p", status="running",
             created=NOW, discard_on_failure=None)
    )  # fmt: skip
    assert run.discard_on_failure == [] and run.status is ExecutionStatus.RUNNING
    model = ModelRecord.model_validate(dict(id="m", name="m", created=NOW, updated=NOW, gates=None))
    assert model.gates == {}


def test_bounds_are_checked_when_a_record_or_an_argument_is_validated() -> None:
    good = dict(model="clf", endpoint="http://127.0.0.1:8000", host="here", pid=1)
    assert NewDeployment.model_validate(good).report_seconds == 5.0
    for bad in ({"pid": -1}, {"canary_percent": 100}, {"host": "h" * 256}, {"version": 0}):
        with pytest.raises(ValidationError):
            NewDeployment.model_validate({**good, **bad})
    assert NewDeployment.model_validate({**good, "canary_percent": None}).canary_percent is None
    with pytest.raises(ValidationError, match="at most 100 items"):
        DeploymentReport.model_validate({"events": [{"kind": "started"}] * 101})
    limit = TypeAdapter(PageLimit)
    assert limit.validate_python(500) == 500
    with pytest.raises(ValidationError):
        limit.validate_python(0)
    assert limit.json_schema()["minimum"] == 1  # and so the server's OpenAPI document says it
    schema = TypeAdapter(NewDeployment).json_schema()
    assert schema["properties"]["pid"]["minimum"] == 0


def test_the_record_modules_import_without_pydantic() -> None:
    code = (
        "import sys; import modelplane.metadata.records, modelplane.metadata.deployment_records, "
        "modelplane.metadata.project_records, modelplane.metadata.store; "
        "from modelplane.metadata.records import NewArtifactLink; "
        "NewArtifactLink(model_version_id='v', artifact_version_id='a', name='n', kind='data'); "
        "print(sorted(m for m in sys.modules if m.startswith('pydantic')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_record_built_in_code_is_well_typed_only_with_what_validating_gives() -> None:
    link = dict(model_version_id="v", artifact_version_id="a", name="n")
    assert well_typed(NewArtifactLink(**link, kind=ArtifactType.MODEL))
    assert not well_typed(NewArtifactLink(**link, kind="model"))  # type: ignore[arg-type]
    point = dict(key="loss", step=0, run_id="r")
    assert well_typed(NewMetricPoint(**point, value=0.5))
    assert not well_typed(NewMetricPoint(**point, value=1))  # validating makes it 1.0
    good = dict(model="clf", endpoint="http://127.0.0.1:8000", host="here", pid=1)
    assert well_typed(NewDeployment(**good, stage=ModelStages.PRODUCTION))
    assert not well_typed(NewDeployment(**{**good, "pid": -1}))  # out of its bounds
    assert well_typed(DeploymentReport(events=[DeploymentEvent(kind="started")]))
    assert not well_typed(DeploymentReport(events=[DeploymentEvent(kind="began")]))  # type: ignore[arg-type]


def test_a_store_converts_or_refuses_a_loosely_built_record_as_it_does_its_json(
    store: MetadataStore, iris: str
) -> None:
    good = dict(model=iris, endpoint="http://127.0.0.1:8000", host="here", pid=1)
    started = store.register_deployment(NewDeployment(**good, stage="production"))  # type: ignore[arg-type]
    assert started.stage is ModelStages.PRODUCTION
    for bad, field in (({"pid": -1}, "pid"), ({"host": "h" * 256}, "host"), ({"pid": "one"}, "pid")):
        with pytest.raises(InvalidInputError, match=field):
            store.register_deployment(NewDeployment(**{**good, **bad}, stage=ModelStages.PRODUCTION))
    with pytest.raises(InvalidInputError, match="kind"):
        store.report_deployment(started.id, DeploymentReport(events=[DeploymentEvent(kind="began")]))  # type: ignore[arg-type]
    assert [d.id for d in store.list_deployments(model=iris)] == [started.id]  # nothing else stored
