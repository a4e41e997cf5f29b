"""A Model outside a run is a read-only handle: binding creates nothing, and a bound handle reads its
version once (issue 9, item 4). Store calls are counted on the real SQLite store, not a mock."""

from __future__ import annotations

from typing import Annotated, Any, Callable

import pytest

from modelplane import Model, get_step_context, log_metadata, pipeline, step
from modelplane.client import Client
from modelplane.enums import ModelStages
from modelplane.errors import NotFoundError
from modelplane.metadata.store import store_operations

_WRITES = ("create", "ensure", "update", "set_", "add_", "link", "delete", "save", "finish", "rollback")


@pytest.fixture
def store_calls(client: Client, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the ``MetadataStore`` methods called on the process's one store, in order.

    ``Model`` builds its own ``Client()``; clients share the store opened for a URL, so wrapping the
    methods of that store object sees every call the handle makes."""
    calls: list[str] = []
    store = client.store

    def counting(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            calls.append(name)
            return method(*args, **kwargs)

        return call

    for name in [op.name for op in store_operations()] + ["info"]:
        if callable(getattr(store, name, None)):
            monkeypatch.setattr(store, name, counting(name, getattr(store, name)))
    return calls


@pytest.fixture
def versions(client: Client) -> Client:
    """Model 'm': versions 1, 2 (staging), 3 (production) and 4 'candidate'."""
    client.create_model("m")
    for _ in range(3):
        client.create_model_version("m")
    client.create_model_version("m", name="candidate")
    client.set_stage("m", 2, "staging")
    client.set_stage("m", 3, "production")
    return client


def _writes(calls: list[str]) -> list[str]:
    return [name for name in calls if name.startswith(_WRITES)]


def test_a_version_typo_creates_nothing_and_names_what_exists(
    versions: Client, store_calls: list[str]
) -> None:
    with pytest.raises(NotFoundError) as raised:
        _ = Model(name="m", version="prodution").number
    error = raised.value
    assert "'m'" in error.message and "'prodution'" in error.message
    assert "production → 3" in error.message and "staging → 2" in error.message
    assert "4 'candidate'" in error.message and "1, 2, 3" in error.message
    assert error.hint is not None and "'production'" in error.hint and "version=" in error.hint
    assert _writes(store_calls) == []
    assert versions.list_model_versions("m").total == 4


@pytest.mark.parametrize(
    ("version", "said"),
    [(9, "has no version 9"), ("v9", "has no version named 'v9'"), ("9", "has no version 9")],
    ids=["number", "name", "digit-text"],
)
def test_a_missing_version_lists_the_stages_and_versions(
    versions: Client, store_calls: list[str], version: Any, said: str
) -> None:
    with pytest.raises(NotFoundError, match=said) as raised:
        _ = Model(name="m", version=version).stage
    assert "production → 3" in raised.value.message
    assert _writes(store_calls) == []
    assert versions.list_model_versions("m").total == 4


def test_an_empty_stage_is_not_found_and_says_which_stages_are_held(versions: Client) -> None:
    versions.set_stage("m", 2, "archived")
    with pytest.raises(NotFoundError, match="'staging'") as raised:
        _ = Model(name="m", version=ModelStages.STAGING).number
    assert "production → 3" in raised.value.message and "staging →" not in raised.value.message


def test_the_version_list_in_the_error_is_bounded(client: Client) -> None:
    client.create_model("many")
    for _ in range(14):
        client.create_model_version("many")
    with pytest.raises(NotFoundError) as raised:
        _ = Model(name="many", version="nope").number
    message = raised.value.message
    assert "newest 10 of 14" in message and "5, 6" in message and " 4," not in message
    assert "Stages held: none" in message


def test_a_model_without_versions_or_that_does_not_exist_is_not_found(client: Client) -> None:
    client.create_model("empty")
    with pytest.raises(NotFoundError, match="'empty' has no versions"):
        _ = Model(name="empty").number
    with pytest.raises(NotFoundError, match="'ghost' does not exist"):
        _ = Model(name="ghost", version="v1").number
    assert [m.name for m in client.list_models().items] == ["empty"]
    assert client.list_model_versions("empty").total == 0


def test_an_existing_name_binds_without_writing(versions: Client, store_calls: list[str]) -> None:
    handle = Model(name="m", version="candidate")
    assert (handle.number, handle.version) == (4, "candidate")
    assert _writes(store_calls) == []
    assert Model(name="m").number == 4  # no version given: the latest, outside a run


def test_property_reads_after_binding_make_no_store_calls(versions: Client, store_calls: list[str]) -> None:
    handle = Model(name="m", version="production")
    assert handle.number == 3
    assert store_calls == ["get_model_version"]
    store_calls.clear()
    for _ in range(3):
        seen = (handle.id, handle.model_id, handle.number, handle.version, handle.stage)
        seen += (handle.metadata, handle.run_metadata, handle.record, handle._get_model_version())
    assert seen[2:5] == (3, "3", ModelStages.PRODUCTION)
    assert store_calls == []


def test_set_stage_and_log_metadata_update_the_handle(versions: Client, store_calls: list[str]) -> None:
    handle = Model(name="m", version=1)
    assert handle.stage is ModelStages.NONE
    handle.set_stage("staging", force=True)
    store_calls.clear()
    assert handle.stage is ModelStages.STAGING
    assert store_calls == []
    assert versions.get_model_version("m", 2).stage is ModelStages.ARCHIVED  # force archived the holder
    store_calls.clear()
    handle.log_metadata({"accuracy": 0.9})
    assert handle.metadata == {"accuracy": 0.9} and handle.run_metadata == {"accuracy": 0.9}
    assert store_calls == ["add_metadata", "get_model_version_by_id"]  # one re-read, then cached


def test_refresh_reads_what_others_changed(versions: Client, store_calls: list[str]) -> None:
    handle = Model(name="m", version=1)
    assert handle.stage is ModelStages.NONE
    versions.set_stage("m", 1, "archived")  # another client, the CLI or the dashboard
    assert handle.stage is ModelStages.NONE  # the handle keeps what it read
    store_calls.clear()
    assert handle.refresh() is handle
    assert handle.stage is ModelStages.ARCHIVED
    assert store_calls == ["get_model_version_by_id"]


SEEN: dict[str, Any] = {}


@step
def evaluate() -> Annotated[float, "accuracy"]:
    log_metadata({"accuracy": 0.93}, infer_model=True)
    get_step_context().model.set_stage("staging")
    return 0.93


@step
def report(accuracy: float) -> None:
    model = get_step_context().model
    SEEN["report"] = (model.number, model.stage, model.run_metadata)


@pipeline(model=Model(name="in_run"), enable_cache=False)
def evaluated():
    report(evaluate())


def test_a_step_sees_what_an_earlier_step_did_to_the_version(client: Client) -> None:
    evaluated()
    assert SEEN["report"] == (1, ModelStages.STAGING, {"accuracy": 0.93})
