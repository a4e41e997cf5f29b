"""Contract: JSON nested past MAX_JSON_DEPTH is refused on every write, and a too-deep value that is
already in the database never makes a listing unreadable (issue 10 item 2)."""

from __future__ import annotations

import json
from typing import Any, Callable

import pytest
import sqlalchemy as sa
from pydantic import TypeAdapter

from modelplane.errors import InvalidInputError
from modelplane.metadata.http import HttpMetadataStore
from modelplane.metadata.json_depth import MAX_JSON_DEPTH, TOO_DEEP_MARKER, loads_within_depth
from modelplane.metadata.records import ModelVersionRecord, Page
from modelplane.metadata.local_store import LocalStore
from modelplane.metadata.sql.store import SqlMetadataStore
from modelplane.metadata.store import MetadataStore
from tests.store import http_backend
from tests.store.conftest import ArtifactFactory
from tests.store.state import snapshot


def nested(levels: int) -> Any:
    """A JSON value ``levels`` deep as SQL's JSON_DEPTH counts: lists around a number."""
    value: Any = 1
    for _ in range(levels - 1):
        value = [value]
    return value


def nested_text(levels: int) -> str:
    """``nested(levels)`` as JSON text (json.dumps itself cannot write thousands of levels)."""
    return "[" * (levels - 1) + "1" + "]" * (levels - 1)


def _engine(store: MetadataStore) -> sa.Engine:
    """The database behind ``store``: its own, or the one the HTTP backend's server uses."""
    if isinstance(store, HttpMetadataStore):
        return http_backend._server()[1]
    if isinstance(store, LocalStore):
        store = store.full
    assert isinstance(store, SqlMetadataStore)
    return store._engine


Targets = dict[str, str]
Write = Callable[[MetadataStore, Targets, ArtifactFactory, Any], object]


def _add_to(target: str) -> Write:
    def write(store: MetadataStore, ids: Targets, _: ArtifactFactory, value: Any) -> object:
        return store.add_metadata(target, ids[target], {"deep": value})  # type: ignore[arg-type]

    return write


def _run_with(field: str) -> Write:
    def write(store: MetadataStore, ids: Targets, _: ArtifactFactory, value: Any) -> object:
        return store.create_run(pipeline_id=ids["pipeline"], **{field: {"deep": value}})

    return write


WRITES: dict[str, Write] = {
    "add_metadata:model_version": _add_to("model_version"),
    "add_metadata:artifact_version": _add_to("artifact_version"),
    "add_metadata:step_run": _add_to("step_run"),
    "add_metadata:run": _add_to("run"),
    "create_model_version": lambda s, _, __, v: s.create_model_version(
        "iris", metadata={"deep": v}
    ),
    "create_artifact_version": lambda s, _, make, v: make(metadata={"deep": v}),
    "run_parameters": _run_with("parameters"),
    "run_config": _run_with("config"),
    "run_extra": _run_with("extra"),
    "step_parameters": lambda s, ids, _, v: s.create_step_run(
        run_id=ids["run"], name="s", step_name="s", parameters={"deep": v}
    ),
    "pipeline_spec": lambda s, _, __, v: s.save_pipeline("deep", {"deep": v}),
}


@pytest.fixture
def targets(store: MetadataStore, iris: str, make_artifact: ArtifactFactory) -> Targets:
    """Something of every kind that takes JSON: model iris (3 versions), a run, a step run, an
    artifact version."""
    pipeline = store.save_pipeline("training", {"steps": []})
    run = store.create_run(pipeline_id=pipeline.id)
    step = store.create_step_run(run_id=run.id, name="train", step_name="train")
    return {
        "pipeline": pipeline.id,
        "run": run.id,
        "step_run": step.id,
        "artifact_version": make_artifact().id,
        "model_version": store.get_model_version(iris, 1).id,
    }


@pytest.mark.parametrize("levels", [MAX_JSON_DEPTH, 300], ids=["just-past-the-limit", "300"])
@pytest.mark.parametrize("write", list(WRITES))
def test_json_nested_past_the_limit_is_refused_on_every_write(
    store: MetadataStore,
    targets: Targets,
    make_artifact: ArtifactFactory,
    write: str,
    levels: int,
) -> None:
    before = snapshot(store)

    # {"deep": value} is one level deeper than the value itself.
    with pytest.raises(InvalidInputError, match=f"deeper than {MAX_JSON_DEPTH} levels") as caught:
        WRITES[write](store, targets, make_artifact, nested(levels))

    assert "at ['deep'][0][0]" in caught.value.message
    assert snapshot(store) == before


def test_json_nested_to_the_limit_is_stored_and_read_back(store: MetadataStore, iris: str) -> None:
    deepest = nested(MAX_JSON_DEPTH - 1)  # plus the metadata dict around it: the limit exactly
    version = store.get_model_version(iris, 1)

    store.add_metadata("model_version", version.id, {"deep": deepest})

    assert store.get_model_version(iris, 1).metadata == {"deep": deepest}


@pytest.mark.parametrize("levels", [40, 300, 5000])
def test_a_too_deep_value_already_stored_leaves_the_version_list_readable(
    store: MetadataStore, iris: str, request: pytest.FixtureRequest, levels: int
) -> None:
    if "mysql" in request.node.callspec.id:
        pytest.skip("MariaDB itself refuses JSON deeper than 32 levels: none can be stored")
    text = f'{{"auc": 0.9, "deep": {nested_text(levels)}}}'
    engine = _engine(store)
    value = "CAST(:text AS json)" if engine.dialect.name == "postgresql" else ":text"
    with engine.begin() as conn:
        conn.execute(
            sa.text(f"UPDATE model_versions SET metadata = {value} WHERE number = 2"),
            {"text": text},
        )

    listed = store.list_model_versions(iris, sort="number")

    stored = listed.items[1].metadata
    assert stored["auc"] == 0.9
    assert TOO_DEEP_MARKER in json.dumps(stored)
    # What the server sends and every client parses: pydantic stops at 200 levels either way.
    as_json = listed.model_dump_json()
    assert TypeAdapter(Page[ModelVersionRecord]).validate_json(as_json).items[1].metadata == stored


def test_a_too_deep_value_is_cut_at_the_same_place_however_deep_it_goes() -> None:
    tricky = 'quote " bracket [{ backslash \\'
    text = '{"a": %s, "b": ' + json.dumps(tricky) + "}"
    shallow_enough_to_parse = loads_within_depth(text % nested_text(300))
    too_deep_to_parse = loads_within_depth(text % nested_text(5000))

    assert shallow_enough_to_parse == too_deep_to_parse
    assert too_deep_to_parse["b"] == tricky
    # Lists at levels 2 to 31 are kept; the one at level 32 would hold a value at level 33.
    assert json.dumps(too_deep_to_parse["a"]).count("[") == MAX_JSON_DEPTH - 2
