"""Projects on every backend: each keeps its models, pipelines, runs, artifacts, webhooks and tokens
apart, names are unique per project, and roles are given per project."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from modelplane.enums import TokenRole
from modelplane.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from modelplane.metadata.http import HttpMetadataStore
from modelplane.metadata.local_store import LocalStore
from modelplane.metadata.sql.store import SqlMetadataStore
from modelplane.metadata.store import MetadataStore
from tests.store.state import ArtifactFactory, snapshot

Opener = Callable[[str], MetadataStore]


def _open(store: MetadataStore, project: str) -> MetadataStore:
    """The same backend's store, acting in ``project``."""
    if isinstance(store, LocalStore):
        return LocalStore(store.url, project=project)
    if isinstance(store, SqlMetadataStore):
        return SqlMetadataStore(store.url, project=project)
    assert isinstance(store, HttpMetadataStore)
    from tests.store.http_backend import live_server

    return live_server().store(project=project)


@pytest.fixture
def projects(store: MetadataStore) -> Iterator[Callable[[], str]]:
    """``make()`` creates a project of a fresh name; every one made is deleted afterwards (on a
    database server, a project's schema or database outlives the emptied tables otherwise)."""
    made: list[str] = []

    def make() -> str:
        name = f"p-{uuid.uuid4().hex[:8]}"
        store.create_project(name, description="a test project")
        made.append(name)
        return name

    yield make
    for name in made:
        try:
            store.delete_project(name)
        except NotFoundError:
            pass


@pytest.fixture
def opener(store: MetadataStore) -> Iterator[Opener]:
    opened: list[MetadataStore] = []

    def open_project(project: str) -> MetadataStore:
        opened.append(_open(store, project))
        return opened[-1]

    yield open_project
    for found in opened:
        found.close()


def test_a_new_store_has_only_the_project_default(store: MetadataStore) -> None:
    assert [p.name for p in store.list_projects()] == ["default"]
    assert store.get_project("default").name == "default"
    assert store.info().project == "default"


def test_a_project_is_created_listed_and_described(
    store: MetadataStore, projects: Callable[[], str], opener: Opener
) -> None:
    name = projects()
    assert [p.name for p in store.list_projects()] == sorted(["default", name])
    found = store.get_project(name)
    assert (found.name, found.description, found.members) == (name, "a test project", 0)
    assert opener(name).info().project == name


@pytest.mark.parametrize("bad", ["", "Vision", "1st", "a_b", "a b", "x" * 41, "default/x"])
def test_a_bad_project_name_is_refused_and_nothing_is_made(store: MetadataStore, bad: str) -> None:
    with pytest.raises(InvalidInputError, match="project name") as caught:
        store.create_project(bad)
    assert "lowercase letters" in (caught.value.hint or "")
    assert [p.name for p in store.list_projects()] == ["default"]


def test_a_taken_project_name_is_refused(store: MetadataStore, projects: Callable[[], str]) -> None:
    name = projects()
    for taken in (name, "default"):
        with pytest.raises(AlreadyExistsError, match=taken):
            store.create_project(taken)
    assert len(store.list_projects()) == 2


def test_opening_a_project_that_does_not_exist_names_it(store: MetadataStore) -> None:
    with pytest.raises(NotFoundError, match="no project 'nowhere'") as caught:
        missing = _open(store, "nowhere")
        missing.list_models()  # over HTTP the store is made without a call; the first call fails
    assert "modelplane project create nowhere" in (caught.value.hint or "")


def test_projects_keep_everything_apart_and_names_are_unique_per_project(
    store: MetadataStore,
    projects: Callable[[], str],
    opener: Opener,
    make_artifact: ArtifactFactory,
) -> None:
    other = opener(projects())
    # The same names on both sides, each its own thing.
    store.create_model("iris", description="home")
    other.create_model("iris", description="away")
    home_version = store.create_model_version("iris")
    away_version = other.create_model_version("iris")
    assert (home_version.number, away_version.number) == (1, 1)
    with pytest.raises(AlreadyExistsError):
        other.create_model("iris")
    assert store.get_model("iris").description == "home"
    assert other.get_model("iris").description == "away"

    pipeline = store.save_pipeline("training", {"steps": ["a"]})
    run = store.create_run(pipeline_id=pipeline.id, name="run-1")
    artifact = make_artifact("dataset")
    store.create_webhook("http://127.0.0.1:9/home")
    token = store.create_token("ann", role="editor")
    before = snapshot(other)

    # Nothing of the home project is found from the other, by name or by id.
    assert other.list_pipelines().total == 0 and other.list_runs().total == 0
    assert other.list_artifacts().total == 0 and other.list_webhooks() == []
    assert [t.owner for t in other.list_tokens()] == []
    lookups: list[Callable[[], object]] = [
        lambda: other.get_pipeline(pipeline.id),
        lambda: other.get_pipeline("training"),
        lambda: other.get_run(run.id),
        lambda: other.get_run("run-1"),
        lambda: other.get_artifact_version(artifact.id),
        lambda: other.find_artifact_version("dataset"),
        lambda: other.get_model_version_by_id(home_version.id),
        lambda: other.get_model_version(home_version.model_id, 1),
        lambda: other.revoke_token(token.token.id),
        lambda: other.create_run(pipeline_id=pipeline.id),
        lambda: other.link_artifact(away_version.id, artifact.id, name="stolen", kind="data"),
    ]
    for lookup in lookups:
        with pytest.raises((NotFoundError, InvalidInputError)):
            lookup()
    # A pipeline of the same name in the other project is its own.
    assert other.save_pipeline("training", {"steps": ["b"]}).id != pipeline.id
    after = snapshot(other)
    assert after["pipelines"][0]["spec"] == {"steps": ["b"]}
    del after["pipelines"], after["counts"], before["pipelines"], before["counts"]
    assert after == before
    assert store.get_pipeline("training").spec == {"steps": ["a"]}


def test_a_member_has_a_role_per_project_and_tokens_act_only_where_they_may(
    store: MetadataStore, projects: Callable[[], str], opener: Opener
) -> None:
    alpha, beta = projects(), projects()
    in_alpha = opener(alpha)
    made = in_alpha.create_token("ann", role="editor")  # a new name: a member of alpha
    assert made.token.project == alpha
    assert [(m.user, m.role) for m in store.list_project_members(alpha)] == [("ann", TokenRole.EDITOR)]
    assert store.list_project_members(beta) == []
    assert [t.owner for t in in_alpha.list_tokens()] == ["ann"]
    assert "ann" not in [t.owner for t in store.list_tokens()]

    checked = store.authenticate(made.secret)
    assert checked.roles == {alpha: TokenRole.EDITOR}
    assert (checked.role_in(alpha), checked.role_in(beta), checked.role_in("default")) == (
        TokenRole.EDITOR, None, None,
    )  # fmt: skip
    assert store.get_user("ann").role is None  # no role in default

    # A token of every project acts in each with the member's role there, never above its own.
    store.set_project_member(beta, "ann", "admin")
    everywhere = store.create_token("ann", role="admin", all_projects=True)
    roles = store.authenticate(everywhere.secret).roles
    assert roles == {alpha: TokenRole.EDITOR, beta: TokenRole.ADMIN}
    with pytest.raises(InvalidInputError, match="every project"):
        in_alpha.create_token("ann", role="viewer", all_projects=True)
    with pytest.raises(InvalidInputError, match="holds the editor role"):
        in_alpha.create_token("ann", role="admin")

    # Removal takes the role away and revokes the tokens bound to that project, at once.
    store.remove_project_member(alpha, "ann")
    assert store.list_project_members(alpha) == []
    assert [t.revoked is not None for t in in_alpha.list_tokens()] == [True]
    assert store.authenticate(everywhere.secret).roles == {beta: TokenRole.ADMIN}


def test_a_server_admin_acts_in_every_project_and_default_members_are_users_with_a_role(
    store: MetadataStore, projects: Callable[[], str]
) -> None:
    name = projects()
    boss = store.create_token("boss", role="admin", all_projects=True)
    store.set_user_role("boss", "admin")
    assert store.authenticate(boss.secret).roles == {"*": TokenRole.ADMIN}
    assert store.authenticate(boss.secret).role_in(name) is TokenRole.ADMIN
    member = store.set_project_member("default", "vic", "viewer")
    assert (member.project, member.role) == ("default", TokenRole.VIEWER)
    assert store.get_user("vic").role is TokenRole.VIEWER
    assert {(m.user, m.role) for m in store.list_project_members("default")} >= {
        ("boss", TokenRole.ADMIN), ("vic", TokenRole.VIEWER),
    }  # fmt: skip


def test_deleting_a_project_deletes_what_is_in_it_and_its_tokens(
    store: MetadataStore, projects: Callable[[], str]
) -> None:
    name = projects()
    inside = _open(store, name)
    try:
        inside.create_model("iris")
        made = inside.create_token("ann", role="viewer")
    finally:
        inside.close()
    store.delete_project(name)
    assert [p.name for p in store.list_projects()] == ["default"]
    with pytest.raises(Exception):
        store.authenticate(made.secret)
    with pytest.raises(NotFoundError):
        _open(store, name).list_models()
    # The name can be used again, for a new and empty project.
    store.create_project(name)
    again = _open(store, name)
    try:
        assert again.list_models().total == 0
    finally:
        again.close()
        store.delete_project(name)


def test_the_project_default_cannot_be_deleted(store: MetadataStore) -> None:
    with pytest.raises(InvalidInputError, match="'default' cannot be deleted"):
        store.delete_project("default")
    with pytest.raises(NotFoundError):
        store.delete_project("nowhere")
