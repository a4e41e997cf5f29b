"""The dashboard's project switcher in headless Chromium, against a real server holding three
projects: ``default``, ``vision`` and ``secret``, with a model ``churn`` of the same name in the
first two (one version and tag ``in-default`` there, three versions and tag ``in-vision`` here).
Each test signs in as a real user with real roles; nothing is mocked."""

from __future__ import annotations

from typing import Any, Iterator

import httpx
import pytest

from modelplane.metadata.operations import PROJECT_HEADER
from tests.dashboard.test_dashboard import log_in
from tests.server.live import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VISION = "vision"
SECRET = "secret"  # only the admin may use it
SHARED = "churn"  # a model in default and in vision, different in each
ONLY_VISION = "detector"
ONLY_SECRET = "classified_model"
PICTURE = (40, 20)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("projects-dashboard")) as live:
        admin = live.store()
        for name in (VISION, SECRET):
            admin.create_project(name)
        admin.create_model(SHARED, description="Churn, as default sees it.", tags=["in-default"])
        admin.create_model_version(SHARED)
        vision = live.store(project=VISION)
        vision.create_model(SHARED, description="Churn, as vision sees it.", tags=["in-vision"])
        for _ in range(3):
            vision.create_model_version(SHARED)
        vision.create_model(ONLY_VISION, description="Finds things in pictures.")
        detector = vision.create_model_version(ONLY_VISION)
        _save_picture(live, vision, detector.id)
        secret = live.store(project=SECRET)
        secret.create_model(ONLY_SECRET, description="Nobody but admins may see this.")
        secret.create_model_version(ONLY_SECRET)
        for store in (admin, vision, secret):
            store.close()
        yield live


def _save_picture(server: LiveServer, store: Any, version_id: str) -> None:
    """An image artifact in ``store``'s project, linked to a version there, as a pipeline would."""
    from PIL import Image

    from modelplane.artifacts.materializers import save_value
    from modelplane.artifacts.store import FsspecArtifactStore, new_artifact_id

    artifact_id = new_artifact_id()
    # Where a client acting in vision writes: the server serves vision's versions only from there.
    files = FsspecArtifactStore(f"{server.artifact_uri}/projects/{store.project}")
    saved = save_value(files, artifact_id, Image.new("RGB", PICTURE, (20, 90, 200)))
    store.create_artifact_version(
        id=artifact_id, name="detector_sample", type=saved.type, materializer=saved.materializer,
        data_type=saved.data_type, uri=saved.uri, content_hash=saved.content_hash, size=saved.size,
    )  # fmt: skip
    store.link_artifact(version_id, artifact_id, name="sample", kind="data")


def member(server: LiveServer, name: str, vision_role: str | None = "viewer") -> str:
    """A token of ``name``, an editor in default and (unless None) ``vision_role`` in vision, for
    every project they are a member of: what a person signing in to the dashboard has."""
    admin = server.store()
    try:
        _, secret = admin.create_token(name, role="editor", all_projects=True)
        if vision_role is not None:
            admin.set_project_member(VISION, name, vision_role)
    finally:
        admin.close()
    return secret


@pytest.fixture(scope="module")
def erin(server: LiveServer) -> str:
    return member(server, "erin")


@pytest.fixture
def tab(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    context.close()


def listed(tab: Any) -> list[str]:
    return tab.locator("[data-testid=project-select] option").evaluate_all("options => options.map((o) => o.value)")


def chosen(tab: Any) -> str:
    return tab.eval_on_selector("[data-testid=project-select]", "select => select.value")


def shared_row(tab: Any) -> list[str]:
    """The cells of the shared model's row, once the models list shows it."""
    row = tab.locator(f"[data-testid=model-row][data-model='{SHARED}']")
    row.wait_for()
    return row.locator("td").all_inner_texts()


def wait_for_hash(tab: Any, server: LiveServer, hash: str) -> None:
    tab.wait_for_url(f"{server.url}/{hash}")
    tab.wait_for_selector("main:not([aria-busy])")


def test_a_member_sees_their_projects_and_switching_changes_the_models(tab: Any, server: LiveServer, erin: str) -> None:
    log_in(tab, server, erin)
    default_row = shared_row(tab)

    assert listed(tab) == ["default", VISION]  # never secret: erin has no role there
    assert chosen(tab) == "default" and tab.locator("[data-testid=project-select]").is_enabled()
    assert tab.title() == "default · modelplane"
    assert "in-default" in default_row[1] and default_row[2] == "1"
    assert ONLY_VISION not in tab.inner_text("main")

    tab.select_option("[data-testid=project-select]", VISION)
    wait_for_hash(tab, server, f"#/p/{VISION}/models")
    tab.wait_for_selector(f"[data-testid=model-row][data-model='{ONLY_VISION}']")
    vision_row = shared_row(tab)

    assert "in-vision" in vision_row[1] and vision_row[2] == "3"
    assert chosen(tab) == VISION and tab.title() == f"{VISION} · modelplane"
    assert ONLY_SECRET not in tab.inner_text("main")
    # every link now stays in vision: the menu's and the ones the page made
    assert tab.get_attribute("[data-nav=runs]", "href") == f"#/p/{VISION}/runs"
    assert tab.get_attribute("a.brand", "href") == f"#/p/{VISION}/models"
    assert tab.get_attribute(f"[data-model='{SHARED}'] [data-testid=model-link]", "href") == f"#/p/{VISION}/models/{SHARED}"
    assert tab.evaluate("localStorage.getItem('modelplane.project')") == VISION

    tab.click("[data-nav=runs]")
    wait_for_hash(tab, server, f"#/p/{VISION}/runs")
    tab.select_option("[data-testid=project-select]", "default")  # a list page: the same list there
    wait_for_hash(tab, server, "#/runs")
    assert chosen(tab) == "default"
    assert tab.evaluate("localStorage.getItem('modelplane.project')") is None  # default: nothing kept
    assert tab.errors == []


def test_a_deep_link_opens_its_project_with_its_files(tab: Any, server: LiveServer, erin: str) -> None:
    log_in(tab, server, erin, f"#/p/{VISION}/models/{SHARED}")
    tab.wait_for_selector("[data-testid=versions-table]")

    assert chosen(tab) == VISION
    assert "as vision sees it" in tab.inner_text("[data-testid=model-card]")
    numbers = tab.locator("[data-testid=version-row]").evaluate_all("rows => rows.map((r) => r.dataset.number)")
    assert numbers == ["3", "2", "1"]

    # Another tab of the same browser: signed in, and in the project its link names. The picture
    # comes through the project's artifact routes (fetched with the header, shown from a blob).
    other = tab.context.new_page()
    other.goto(f"{server.url}/#/p/{VISION}/models/{ONLY_VISION}/versions/1")
    other.click("[data-testid=artifact][data-name=sample] [data-testid=preview-button]")
    image = other.locator("[data-testid=artifact][data-name=sample] [data-testid=visual-image]")
    image.wait_for()
    other.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=image.element_handle())
    assert image.evaluate("el => [el.naturalWidth, el.naturalHeight]") == list(PICTURE)
    assert image.get_attribute("src").startswith("blob:")
    assert other.eval_on_selector("[data-testid=project-select]", "select => select.value") == VISION
    assert tab.errors == []


def test_switching_keeps_a_page_the_other_project_has_and_leaves_one_it_lacks(
    tab: Any, server: LiveServer, erin: str
) -> None:
    log_in(tab, server, erin, f"#/p/{VISION}/models/{ONLY_VISION}")
    tab.wait_for_selector("[data-testid=model-card]")

    tab.select_option("[data-testid=project-select]", "default")  # default has no detector
    wait_for_hash(tab, server, "#/models")
    assert shared_row(tab)[2] == "1"

    tab.goto(f"{server.url}/#/models/{SHARED}")
    tab.wait_for_selector("[data-testid=model-card]")
    assert "as default sees it" in tab.inner_text("[data-testid=model-card]")
    tab.select_option("[data-testid=project-select]", VISION)  # vision has a churn of its own
    wait_for_hash(tab, server, f"#/p/{VISION}/models/{SHARED}")
    tab.wait_for_function("() => document.querySelector('[data-testid=model-card]')?.textContent.includes('as vision sees it')")
    assert tab.locator("[data-testid=version-row]").count() == 3
    assert tab.errors == []


def test_a_project_without_a_role_is_never_listed_nor_opened(tab: Any, server: LiveServer, erin: str) -> None:
    # A link into secret, which erin may not use, opens the same list in default instead.
    log_in(tab, server, erin, f"#/p/{SECRET}/models")
    wait_for_hash(tab, server, "#/models")
    shared_row(tab)

    assert listed(tab) == ["default", VISION]
    assert ONLY_SECRET not in tab.inner_text("main")
    # And the server itself refuses her there: the dashboard hides nothing it could have shown.
    refused = httpx.get(f"{server.url}/api/v1/models", headers={"Authorization": f"Bearer {erin}", PROJECT_HEADER: SECRET})
    assert refused.status_code == 403
    assert tab.errors == []


def test_an_admin_sees_every_project(tab: Any, server: LiveServer) -> None:
    admin = server.store()
    _, secret = admin.create_token("ada", role="admin", all_projects=True)
    admin.close()
    log_in(tab, server, secret)
    shared_row(tab)

    assert listed(tab) == ["default", SECRET, VISION]
    tab.select_option("[data-testid=project-select]", SECRET)
    wait_for_hash(tab, server, f"#/p/{SECRET}/models")
    tab.wait_for_selector(f"[data-testid=model-row][data-model='{ONLY_SECRET}']")
    assert tab.locator("[data-testid=model-row]").count() == 1
    assert not tab.locator("[data-nav=admin]").is_hidden()  # an admin in every project
    assert tab.errors == []


def test_the_bare_address_opens_the_last_project_until_it_is_taken_away(tab: Any, server: LiveServer) -> None:
    token = member(server, "fay")
    log_in(tab, server, token)
    tab.select_option("[data-testid=project-select]", VISION)
    wait_for_hash(tab, server, f"#/p/{VISION}/models")

    tab.goto(f"{server.url}/")
    wait_for_hash(tab, server, f"#/p/{VISION}/models")
    assert shared_row(tab)[2] == "3"

    admin = server.store()
    admin.remove_project_member(VISION, "fay")
    admin.close()
    tab.goto(f"{server.url}/")  # vision is remembered, no longer listed: default instead
    wait_for_hash(tab, server, "#/models")
    assert shared_row(tab)[2] == "1"
    assert listed(tab) == ["default"]
    assert tab.locator("[data-testid=project-select]").is_disabled()  # shown, nothing to switch to
    assert tab.evaluate("localStorage.getItem('modelplane.project')") is None
    assert tab.errors == []


def test_a_token_bound_to_one_project_signs_in_to_it(tab: Any, server: LiveServer) -> None:
    # A token made in vision for a new user: a viewer there, with no role in default (where the
    # list of projects is kept, so the dashboard learns its one project from /me).
    vision = server.store(project=VISION)
    _, token = vision.create_token("vic", role="viewer")
    vision.close()
    log_in(tab, server, token)
    wait_for_hash(tab, server, f"#/p/{VISION}/models")
    tab.wait_for_selector(f"[data-testid=model-row][data-model='{ONLY_VISION}']")

    assert listed(tab) == [VISION]
    assert tab.locator("[data-testid=project-select]").is_disabled()
    assert "Signed in as vic (viewer)" in tab.inner_text("[data-testid=owner]")
    assert tab.errors == []



def test_an_admin_of_one_project_manages_its_members_but_not_the_servers_users(
    tab: Any, server: LiveServer
) -> None:
    vision = server.store(project=VISION)
    _, token = vision.create_token("vera", role="admin")  # an admin of vision, no role in default
    vision.close()
    log_in(tab, server, token)
    wait_for_hash(tab, server, f"#/p/{VISION}/models")
    tab.click("[data-nav=admin]")
    tab.wait_for_selector("[data-testid=members-table]")
    assert tab.locator("[data-testid=users-table]").count() == 0  # the server's users: not hers
    assert tab.inner_text("h1") == f"Admin of {VISION}"

    tab.fill("[data-testid=member-user]", "newcomer")
    tab.select_option("[data-testid=member-role]", "editor")
    tab.click("[data-testid=member-form] button[type=submit]")
    tab.wait_for_selector("[data-testid=member-row][data-user=newcomer][data-role=editor]")
    admin = server.store()
    try:
        roles = {m.user: m.role.value for m in admin.list_project_members(VISION)}
        assert roles["newcomer"] == "editor" and roles["vera"] == "admin"
        assert "newcomer" not in {m.user for m in admin.list_project_members(SECRET)}
    finally:
        admin.close()
    assert tab.errors == []
