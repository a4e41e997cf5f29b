"""The dashboard in headless Chromium, against a real server after the iris reference flow."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from modelplane.enums import ModelStages
from modelplane.metadata.http import HttpMetadataStore
from tests.dashboard.conftest import MODEL
from tests.server.live import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def log_in(page: Any, server: LiveServer, token: str, hash: str = "#/models") -> None:
    page.goto(f"{server.url}/{hash}")
    # The login form that leads back to `hash` (not one left on screen by an earlier sign-out).
    page.wait_for_selector(f"[data-testid=login-form][data-next='{hash}']")
    page.fill("[data-testid=login-token]", token)
    page.click("[data-testid=login-submit]")
    page.wait_for_selector("[data-testid=owner]")
    page.wait_for_selector("main:not([aria-busy])")


def test_without_a_token_there_is_only_the_login_form(page: Any, iris_server: LiveServer) -> None:
    page.goto(f"{iris_server.url}/#/models/{MODEL}")

    page.wait_for_selector("[data-testid=login-form]")
    assert page.locator("[data-testid=models-table]").count() == 0
    assert MODEL not in page.inner_text("main")
    assert httpx.get(f"{iris_server.url}/api/v1/models").status_code == 401


def test_a_wrong_token_is_refused_at_login(page: Any, iris_server: LiveServer) -> None:
    page.goto(f"{iris_server.url}/")
    page.fill("[data-testid=login-token]", "mp_wrong-token")
    page.click("[data-testid=login-submit]")

    assert "AuthError" in page.inner_text("[data-testid=error]")
    assert page.locator("[data-testid=login-form]").count() == 1


def test_models_list_shows_latest_version_and_stage_holders(
    page: Any, iris_server: LiveServer, viewer_token: str
) -> None:
    log_in(page, iris_server, viewer_token)
    page.wait_for_selector(f"[data-testid=model-row][data-model='{MODEL}']")

    row = page.locator(f"[data-testid=model-row][data-model='{MODEL}']")
    cells = row.locator("td").all_inner_texts()
    assert cells[0] == MODEL
    assert cells[2] == "2"  # versions
    assert cells[3] == "v2"  # latest
    assert cells[5] == "v1"  # production
    assert "Signed in as dora" in page.inner_text("[data-testid=owner]")
    assert page.errors == []


def test_model_page_shows_card_versions_and_history(page: Any, iris_server: LiveServer, viewer_token: str) -> None:
    log_in(page, iris_server, viewer_token)
    page.click(f"[data-testid=model-row][data-model='{MODEL}'] [data-testid=model-link]")
    page.wait_for_selector("[data-testid=versions-table]")

    card = page.inner_text("[data-testid=model-card]")
    numbers = page.locator("[data-testid=version-row]").evaluate_all("rows => rows.map(r => r.dataset.number)")
    assert "Apache" in card and "Show case Model Control Plane." in card
    assert numbers == ["2", "1"]
    assert page.locator("[data-testid=history-row]").count() >= 1
    assert "TEST_ACCURACY" in page.inner_text("[data-testid=versions-table] thead").upper()


def test_compare_versions_1_and_2(
    page: Any, iris_server: LiveServer, viewer_token: str, admin: HttpMetadataStore
) -> None:
    log_in(page, iris_server, viewer_token, f"#/models/{MODEL}")
    page.wait_for_selector("[data-testid=versions-table]")
    page.check("[data-testid=select-1]")
    page.check("[data-testid=select-2]")
    page.click("[data-testid=compare-button]")
    page.wait_for_selector("[data-testid=compare-artifacts]")

    assert re.search(r"compare\?versions=1,2$", page.url)
    heads = page.locator("[data-testid=compare-overview] thead th").all_inner_texts()
    assert [h.lower() for h in heads[1:]] == ["v1", "v2"]
    parameters = page.inner_text("[data-testid=compare-parameters]")
    assert "svc_trainer.gamma" in parameters
    artifacts = page.locator("[data-testid=compare-artifacts] [data-testid=compare-row]")
    assert "model: iris_classifier" in artifacts.evaluate_all("rows => rows.map(r => r.dataset.key)")
    metadata_keys = page.locator("[data-testid=compare-metadata] [data-testid=compare-row]").evaluate_all(
        "rows => rows.map(r => r.dataset.key)"
    )
    assert "test_accuracy" in metadata_keys
    # The page shows the store's comparison: its rows and its verdicts, not a computation of its own.
    compared = admin.compare_model_versions(MODEL, [1, 2])
    shown = dict(
        artifacts.evaluate_all("rows => rows.map(r => [r.dataset.key, r.dataset.differs === 'yes'])")
    )
    assert shown == {f"{row.kind.value}: {row.name}": row.differs for row in compared.artifacts}
    run = compared.versions[0].training_run
    assert run is not None
    assert page.get_attribute(f"[data-testid=compare-overview] a:text('{run.name}')", "href").endswith(run.id)
    assert page.errors == []


def test_compare_with_one_version_shows_the_stores_error(
    page: Any, iris_server: LiveServer, viewer_token: str
) -> None:
    log_in(page, iris_server, viewer_token, f"#/models/{MODEL}/compare?versions=1")
    page.wait_for_selector("[data-testid=error]")

    error = page.inner_text("[data-testid=error]")
    assert "InvalidInputError" in error and "two or more versions" in error


def test_version_page_previews_data_and_refuses_to_unpickle_the_model(
    page: Any, iris_server: LiveServer, viewer_token: str
) -> None:
    log_in(page, iris_server, viewer_token, f"#/models/{MODEL}/versions/2")
    page.wait_for_selector("[data-testid=artifacts-data]")

    page.click("[data-testid=artifact][data-name=iris_training_dataset] [data-testid=preview-button]")
    page.wait_for_selector("[data-testid=artifact][data-name=iris_training_dataset] [data-testid=preview-shape]")
    page.click("[data-testid=artifacts-model] [data-testid=preview-button]")
    page.wait_for_selector("[data-testid=artifacts-model] [data-testid=preview-reason]")

    shape = page.inner_text("[data-testid=artifact][data-name=iris_training_dataset] [data-testid=preview-shape]")
    assert shape == "(120, 5)"
    assert "pickle" in page.inner_text("[data-testid=artifacts-model] [data-testid=preview-reason]")
    assert page.locator("[data-testid=metrics-table]").count() == 1


def test_run_page_draws_the_dag_with_status_and_logs(page: Any, iris_server: LiveServer, viewer_token: str, admin: HttpMetadataStore) -> None:
    run = admin.list_runs(pipeline="train_and_promote_model", limit=1).items[0]
    log_in(page, iris_server, viewer_token, f"#/runs/{run.id}")
    page.wait_for_selector("[data-testid=dag]")

    nodes = page.locator("[data-testid=dag-node]")
    steps = nodes.evaluate_all("nodes => nodes.map(n => [n.dataset.step, n.dataset.status])")
    page.click("[data-testid=dag-node][data-step=svc_trainer]")
    page.wait_for_selector("[data-testid=step-logs]")

    assert sorted(steps) == sorted(
        [[name, "completed"] for name in ("training_data_loader", "svc_trainer", "evaluator", "promote_model")]
    )
    assert page.locator("svg.dag path.edge").count() >= 3
    assert "training accuracy" in page.inner_text("[data-testid=step-logs]")
    # The process that ran it, recorded through the HTTP store by the client.
    assert run.pid and f"{run.pid} on {run.host}" in page.inner_text("main")


def test_html_in_names_is_shown_as_text(page: Any, iris_server: LiveServer, viewer_token: str, admin: HttpMetadataStore) -> None:
    name = "<img src=x onerror=alert(1)>'; DROP TABLE models; --"
    admin.create_model(name, description="<script>alert('card')</script>", tags=["<b>bold</b>"])
    admin.create_model_version(name)
    log_in(page, iris_server, viewer_token)

    page.fill("[data-testid=model-search]", "<img")
    page.press("[data-testid=model-search]", "Enter")
    page.wait_for_selector("[data-testid=model-link]")
    assert page.inner_text("[data-testid=model-link]") == name
    page.click("[data-testid=model-link]")
    page.wait_for_selector("[data-testid=model-card]")

    assert page.inner_text("[data-testid=model-name]").startswith(name)
    assert "<script>alert('card')</script>" in page.inner_text("[data-testid=model-card]")
    assert "<b>bold</b>" in page.inner_text("[data-testid=model-name]")
    assert page.locator("main img, main script, main b").count() == 0
    assert page.dialogs == [] and page.errors == []


def test_promote_version_2_to_production_through_the_ui(
    page: Any, iris_server: LiveServer, viewer_token: str, admin: HttpMetadataStore
) -> None:
    assert admin.get_model_version(MODEL, "production").number == 1
    history_before = admin.list_stage_changes(MODEL).total
    log_in(page, iris_server, viewer_token, f"#/models/{MODEL}/versions/2")
    page.wait_for_selector("[data-testid=stage-select]")

    page.select_option("[data-testid=stage-select]", "production")
    page.fill("[data-testid=stage-reason]", "better on the holdout set")
    page.click("[data-testid=stage-change]")
    text = page.inner_text("[data-testid=confirm-text]")
    page.click("[data-testid=confirm-button]")
    page.wait_for_selector("[data-testid=version-stage] [data-badge=production]")

    assert "Version 1 holds production now and will be archived" in text
    assert admin.get_model_version(MODEL, "production").number == 2
    assert admin.get_model_version(MODEL, 1).stage is ModelStages.ARCHIVED
    changes = admin.list_stage_changes(MODEL, limit=2).items
    assert admin.list_stage_changes(MODEL).total == history_before + 2
    assert {(c.version_number, c.to_stage, c.actor) for c in changes} == {
        (2, ModelStages.PRODUCTION, "dora"),
        (1, ModelStages.ARCHIVED, "dora"),
    }
    assert all(c.reason and c.reason.endswith("better on the holdout set") for c in changes)
    rows = page.locator("[data-testid=history-row]").evaluate_all("rows => rows.map(r => r.dataset.to)")
    assert rows[0] == "production"


def test_a_stale_promotion_is_refused_and_changes_nothing(
    page: Any, iris_server: LiveServer, viewer_token: str, admin: HttpMetadataStore
) -> None:
    log_in(page, iris_server, viewer_token, f"#/models/{MODEL}/versions/1")
    page.wait_for_selector("[data-testid=stage-select]")
    page.select_option("[data-testid=stage-select]", "staging")
    page.click("[data-testid=stage-change]")
    page.wait_for_selector("[data-testid=confirm-button]")
    # Someone else takes staging while the confirmation is open.
    other = admin.create_model_version(MODEL)
    admin.set_stage(MODEL, other.number, "staging")
    before = admin.list_stage_changes(MODEL).total

    page.click("[data-testid=confirm-button]")
    page.wait_for_selector("[data-testid=confirm-dialog] [data-testid=error]")

    assert "StageConflictError" in page.inner_text("[data-testid=confirm-dialog] [data-testid=error]")
    assert admin.get_model_version(MODEL, "staging").number == other.number
    assert admin.list_stage_changes(MODEL).total == before


def test_cache_hits_are_drawn_in_the_dag(
    page: Any, iris_server: LiveServer, viewer_token: str, admin: HttpMetadataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.dashboard.cached_pipeline import cached_pipeline

    for key, value in iris_server.client_env().items():
        monkeypatch.setenv(key, value)
    cached_pipeline()
    second = cached_pipeline()
    log_in(page, iris_server, viewer_token, f"#/runs/{second.id}")
    page.wait_for_selector("[data-testid=dag]")

    statuses = page.locator("[data-testid=dag-node]").evaluate_all("nodes => nodes.map(n => n.dataset.status)")
    page.click("[data-testid=dag-node][data-step=double]")
    page.wait_for_selector("[data-testid=step-details]")

    assert statuses == ["cached", "cached"]
    assert "cache hit" in (page.text_content("[data-testid=dag-node][data-step=double]") or "")
    assert "hit" in page.inner_text("[data-testid=step-details]")


def test_the_api_docs_page_renders_offline(page: Any, iris_server: LiveServer) -> None:
    # Any request that leaves this server fails, as on a machine without internet access.
    outside: list[str] = []

    def only_local(route: Any) -> None:
        if route.request.url.startswith(iris_server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.goto(f"{iris_server.url}/docs")

    page.wait_for_selector(".opblock-summary-path", timeout=30_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/v1/models/{model}/versions/{version}/stage" in p for p in paths)
    assert outside == [] and page.errors == []


def test_promotion_gates_are_shown_and_a_blocked_promotion_changes_nothing(
    page: Any, iris_server: LiveServer, viewer_token: str, admin: HttpMetadataStore
) -> None:
    admin.create_model("gated_model", gates={"production": ["accuracy >= current"]})
    admin.create_model_version("gated_model", metadata={"accuracy": 0.9})
    admin.create_model_version("gated_model", metadata={"accuracy": 0.8})
    admin.set_stage("gated_model", 1, "production")
    log_in(page, iris_server, viewer_token, "#/models/gated_model")
    page.wait_for_selector("[data-testid=model-gates]")
    gates_text = page.inner_text("[data-testid=model-gates]")

    page.goto(f"{iris_server.url}/#/models/gated_model/versions/2")
    page.wait_for_selector("[data-testid=stage-select]")
    page.select_option("[data-testid=stage-select]", "production")
    page.click("[data-testid=stage-change]")
    page.click("[data-testid=confirm-button]")
    page.wait_for_selector("[data-testid=confirm-dialog] [data-testid=error]")
    error = page.inner_text("[data-testid=confirm-dialog] [data-testid=error]")

    assert "Into production" in gates_text and "accuracy >= current" in gates_text
    assert "PromotionBlockedError" in error and "not >= 0.9 (version 1, now in production)" in error
    assert admin.get_model_version("gated_model", "production").number == 1
    # No stage moved; the history keeps the refusal, so who asked and why is on record.
    changes = admin.list_stage_changes("gated_model").items
    assert [change.kind for change in changes] == ["refused", "move"]
    assert changes[0].version_number == 2 and changes[0].to_stage == "production"


def test_a_version_page_charts_each_logged_series(page: Any, iris_server: LiveServer, viewer_token: str) -> None:
    store = iris_server.store()
    (series,) = store.list_metric_series(MODEL, 1)
    store.close()
    log_in(page, iris_server, viewer_token, f"#/models/{MODEL}/versions/1")
    chart = page.locator("[data-testid=metric-chart][data-key=learning_curve_accuracy]")
    chart.wait_for()
    assert chart.get_attribute("data-points") == str(series.count)
    assert chart.locator("canvas").count() == 1  # drawn by the chart library, not a fallback
    assert chart.evaluate("el => el.uplot.data[1].length") == series.count
    assert chart.evaluate("el => el.uplot.data[1][el.uplot.data[1].length - 1]") == pytest.approx(series.last)
    assert "learning_curve_accuracy" in page.inner_text("[data-testid=series-table]")
    assert page.errors == []


def test_compare_overlays_the_series_of_each_version(page: Any, iris_server: LiveServer, viewer_token: str) -> None:
    log_in(page, iris_server, viewer_token, f"#/models/{MODEL}/compare?versions=1,2")
    chart = page.locator("[data-testid=compare-chart][data-key=learning_curve_accuracy]")
    chart.wait_for()
    assert chart.evaluate("el => el.uplot.series.slice(1).map((s) => s.label)") == ["v1", "v2"]
    assert page.locator("[data-testid=compare-metrics]").count() == 1
    assert page.errors == []


def _link_saved(admin: HttpMetadataStore, server: LiveServer, value: Any, name: str, link: str) -> None:
    """Save ``value`` into the server's artifact store as artifact ``name`` and link it to version
    2 of the iris model under ``link``, as a pipeline would."""
    from modelplane.artifacts.materializers import save_value
    from modelplane.artifacts.store import FsspecArtifactStore, new_artifact_id

    artifact_id = new_artifact_id()
    saved = save_value(FsspecArtifactStore(server.artifact_uri), artifact_id, value)
    admin.create_artifact_version(
        id=artifact_id, name=name, type=saved.type, materializer=saved.materializer,
        data_type=saved.data_type, uri=saved.uri, content_hash=saved.content_hash, size=saved.size,
    )  # fmt: skip
    admin.link_artifact(admin.get_model_version(MODEL, 2).id, artifact_id, name=link, kind="data")


def test_a_preview_shows_the_artifacts_visualizations(
    page: Any, iris_server: LiveServer, viewer_token: str, admin: HttpMetadataStore
) -> None:
    from PIL import Image

    from modelplane.types import HTMLString, MarkdownString

    _link_saved(admin, iris_server, Image.new("RGB", (40, 20), (200, 30, 30)), "dashboard_picture", "picture")
    report = MarkdownString("# Report\n\n**all good** <script>parent.document.title='hacked'</script>")
    _link_saved(admin, iris_server, report, "dashboard_report", "report")
    evil = HTMLString("<p id=x>page</p><img src=x onerror=alert(1)><script>alert(2)</script>")
    _link_saved(admin, iris_server, evil, "dashboard_evil_page", "evil")
    log_in(page, iris_server, viewer_token, f"#/models/{MODEL}/versions/2")
    page.wait_for_selector("[data-testid=artifacts-data]")

    page.click("[data-testid=artifact][data-name=picture] [data-testid=preview-button]")
    image = page.locator("[data-testid=artifact][data-name=picture] [data-testid=visual-image]")
    image.wait_for()
    page.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=image.element_handle())
    assert image.evaluate("el => [el.naturalWidth, el.naturalHeight]") == [40, 20]

    page.click("[data-testid=artifact][data-name=iris_training_dataset] [data-testid=preview-button]")
    frame = page.locator("[data-testid=artifact][data-name=iris_training_dataset] [data-testid=visual-html]")
    frame.wait_for()
    assert frame.get_attribute("sandbox") == ""  # no scripts, an origin of its own
    rows = page.frame_locator("[data-testid=artifact][data-name=iris_training_dataset] [data-testid=visual-html]").locator("tr")
    rows.first.wait_for()
    assert rows.count() == 21

    page.click("[data-testid=artifact][data-name=report] [data-testid=preview-button]")
    rendered = page.frame_locator("[data-testid=artifact][data-name=report] [data-testid=visual-markdown]")
    assert rendered.locator("h1").inner_text() == "Report"
    assert rendered.locator("strong").inner_text() == "all good"
    assert page.title() != "hacked"  # its script never ran

    page.click("[data-testid=artifact][data-name=evil] [data-testid=preview-button]")
    shown = page.frame_locator("[data-testid=artifact][data-name=evil] [data-testid=visual-html]")
    assert shown.locator("#x").inner_text() == "page"  # the HTML is shown …
    page.wait_for_timeout(300)
    assert page.dialogs == []  # … and neither its onerror nor its script ran (sandboxed frame)
    assert page.errors == []


def test_the_versions_table_pages_sorts_filters_and_chooses_columns(
    page: Any, iris_server: LiveServer, viewer_token: str, admin: HttpMetadataStore
) -> None:
    admin.create_model("many_versions")
    for number in range(1, 61):
        admin.create_model_version(
            "many_versions",
            name=f"cand-{number}" if number % 20 == 0 else None,
            metadata={"auc": number / 100, "eval": {"f1": number / 200}},
        )
    log_in(page, iris_server, viewer_token, "#/models/many_versions")

    def numbers() -> list[str]:
        return page.locator("[data-testid=version-row]").evaluate_all("rows => rows.map((r) => r.dataset.number)")

    page.wait_for_selector("[data-testid=version-row]")
    assert len(numbers()) == 50 and numbers()[0] == "60"  # newest first, a page of 50
    trend = page.locator("[data-testid=trend-chart][data-key=auc]")  # every version, not the page
    trend.wait_for()
    assert trend.evaluate("el => el.uplot.data[0]") == list(range(1, 61))
    assert trend.evaluate("el => el.uplot.data[1][59]") == pytest.approx(0.6)
    assert page.inner_text("[data-testid=versions-range]") == "1–50 of 60"
    page.click("[data-testid=versions-next]")
    page.wait_for_function("() => document.querySelector('[data-testid=versions-range]')?.textContent === '51–60 of 60'")
    assert numbers() == [str(n) for n in range(10, 0, -1)]

    page.click("[data-testid=sort-number]")  # from newest first to oldest first, back on page 1
    page.wait_for_function("() => document.querySelector('[data-testid=version-row]')?.dataset.number === '1'")
    assert numbers()[:3] == ["1", "2", "3"]

    page.fill("[data-testid=version-filter]", "cand")
    page.press("[data-testid=version-filter]", "Enter")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=version-row]').length === 3")
    assert numbers() == ["20", "40", "60"]
    assert "vq=cand" in page.url  # the view is in the link: it can be shared or reopened

    page.click("[data-testid=column-chooser] summary")
    page.uncheck("[data-testid=column-auc]")
    page.check("[data-testid='column-eval.f1']")
    page.click("[data-testid=columns-apply]")
    page.wait_for_function("() => ![...document.querySelectorAll('[data-testid=versions-table] th')].some((th) => th.textContent === 'auc')")
    heads = page.locator("[data-testid=versions-table] th").evaluate_all("ths => ths.map((th) => th.textContent)")
    assert "eval.f1" in heads and "auc" not in heads
    first = page.locator("[data-testid=version-row]").first.locator("td").all_inner_texts()
    assert first[-1] == "0.1"  # version 20: f1 = 20 / 200
    assert page.errors == []


def test_sign_in_once_deep_links_open_in_a_new_tab_and_logout_ends_the_session(
    page: Any, iris_server: LiveServer, viewer_token: str
) -> None:
    log_in(page, iris_server, viewer_token)
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "modelplane_session"]
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert cookie["value"] != viewer_token  # the API token itself never sits in the browser
    assert "modelplane_session" not in page.evaluate("document.cookie")  # scripts cannot read it
    assert page.evaluate("Object.keys(sessionStorage).length + Object.keys(localStorage).length") == 0

    tab = page.context.new_page()
    tab_errors: list[str] = []
    tab.on("pageerror", lambda error: tab_errors.append(str(error)))
    tab.goto(f"{iris_server.url}/#/models/{MODEL}/versions/1")
    tab.wait_for_selector("[data-testid=version-stage]")
    assert tab.locator("[data-testid=login-form]").count() == 0
    assert "Signed in as dora" in tab.inner_text("[data-testid=owner]")

    tab.click("[data-testid=logout]")
    tab.wait_for_selector("[data-testid=login-form]")
    replayed = httpx.get(f"{iris_server.url}/api/v1/me", cookies={"modelplane_session": cookie["value"]})
    assert replayed.status_code == 401  # ended on the server, not only forgotten by the browser
    page.reload()  # the first tab's session ended too
    page.wait_for_selector("[data-testid=login-form]")
    assert page.errors == [] and tab_errors == []


@pytest.mark.parametrize("path", ["#/models", f"#/models/{MODEL}", f"#/models/{MODEL}/versions/1", "#/runs"])
def test_a_phone_wide_screen_in_dark_mode(browser: Any, iris_server: LiveServer, viewer_token: str, path: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark")
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    try:
        log_in(page, iris_server, viewer_token, path)
        page.wait_for_selector("main:not([aria-busy]) h1")
        background = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
        assert background == "rgb(16, 20, 28)"  # the dark palette, as the system asked
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing sticks out
        broken = page.evaluate(
            "[...document.querySelectorAll('.badge, .tag, .topbar a')].filter((el) => el.getClientRects().length > 1).length"
        )
        assert broken == 0  # no badge, tag or header link wraps mid-word
        tall = page.evaluate("[...document.querySelectorAll('table.grid td')].filter((td) => td.offsetHeight > 60).length")
        assert tall == 0  # a wide table scrolls sideways instead of squeezing its cells a letter wide
        assert page.errors == []
    finally:
        context.close()


def test_admins_manage_tokens_and_webhooks_and_others_do_not_see_the_page(
    browser: Any, iris_server: LiveServer, viewer_token: str
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("dialog", lambda dialog: dialog.accept())
    try:
        log_in(page, iris_server, viewer_token)
        assert page.locator("[data-nav=admin]").is_hidden()  # a viewer has no admin page
        page.click("[data-testid=logout]")
        page.wait_for_selector("[data-testid=login-form]")

        log_in(page, iris_server, iris_server.admin_token or "", "#/admin")
        assert page.locator("[data-nav=admin]").is_visible()
        page.wait_for_selector("[data-testid=tokens-table]")
        page.fill("[data-testid=token-owner]", "nightly-job")
        page.select_option("[data-testid=token-role]", "viewer")
        page.click("[data-testid=token-form] button[type=submit]")
        secret = page.locator("[data-testid=token-secret]").inner_text()
        me = httpx.get(f"{iris_server.url}/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).json()
        assert (me["owner"], me["role"]) == ("nightly-job", "viewer")

        page.goto(f"{iris_server.url}/#/admin")
        page.reload()
        row = page.locator("[data-testid=token-row][data-owner=nightly-job]")
        row.locator("[data-testid=revoke]").click()
        page.wait_for_selector("[data-testid=token-row][data-owner=nightly-job][data-revoked=yes]")
        assert httpx.get(f"{iris_server.url}/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401

        page.fill("[data-testid=webhook-url]", "https://hooks.example.com/modelplane")
        page.fill("[data-testid=webhook-model]", MODEL)
        page.check("[data-testid=webhook-form] input[value=production]")
        page.click("[data-testid=webhook-form] button[type=submit]")
        hook = page.locator("[data-testid=webhook-row][data-url='https://hooks.example.com/modelplane']")
        hook.wait_for()
        assert "production" in hook.inner_text() and MODEL in hook.inner_text()
        hook.locator("[data-testid=webhook-delete]").click()
        hook.wait_for(state="detached")
        assert page.errors == []
    finally:
        context.close()


def test_artifact_pages_show_versions_preview_lineage_links_and_files(
    page: Any, iris_server: LiveServer, viewer_token: str
) -> None:
    log_in(page, iris_server, viewer_token, "#/artifacts")
    page.fill("[data-testid=artifact-search]", "iris_training")
    page.press("[data-testid=artifact-search]", "Enter")
    # The results replace the whole list (which also holds iris_testing_dataset): a click on the
    # list before them could land on a row as it is taken away.
    page.wait_for_function(
        "() => { const rows = [...document.querySelectorAll('[data-testid=artifact-row]')];"
        " return rows.length > 0 && rows.every((r) => r.dataset.name.startsWith('iris_training')); }"
    )
    page.click("[data-testid=artifact-row][data-name=iris_training_dataset] [data-testid=artifact-link]")
    page.click("[data-testid=artifact-version-row][data-version='1'] [data-testid=artifact-version-link]")
    page.wait_for_selector("[data-testid=uses-table]")

    uses = page.locator("[data-testid=use-row]")
    produced = uses.filter(has_text="produced as")
    assert produced.first.get_attribute("data-step") == "training_data_loader"
    assert uses.filter(has_text="read as 'dataset'").count() >= 1  # svc_trainer and evaluator read it
    assert f"{MODEL} v1" in page.inner_text("[data-testid=artifact-model-links]")
    page.wait_for_selector("[data-testid=visual-html]")  # the DataFrame's HTML head, sandboxed
    files = page.inner_text("[data-testid=artifact-files]")
    assert "visualizations/head.html" in files and ".parquet" in files
    assert page.errors == []


def test_a_version_pages_artifact_links_to_its_artifact_page(page: Any, iris_server: LiveServer, viewer_token: str) -> None:
    log_in(page, iris_server, viewer_token, f"#/models/{MODEL}/versions/1")
    page.click("[data-testid=artifact][data-name=iris_training_dataset] [data-testid=artifact-page-link]")
    page.wait_for_selector("[data-testid=uses-table]")
    assert "#/artifacts/iris_training_dataset/" in page.url


def test_a_running_run_page_follows_the_run_until_it_ends(
    page: Any, iris_server: LiveServer, viewer_token: str, admin: HttpMetadataStore
) -> None:
    from modelplane.enums import ExecutionStatus

    pipeline = admin.save_pipeline("live_pipeline", {})
    run = admin.create_run(pipeline_id=pipeline.id, name="live-run-1")
    first = admin.create_step_run(run_id=run.id, name="first", step_name="first")
    log_in(page, iris_server, viewer_token, f"#/runs/{run.id}")
    page.wait_for_selector("[data-testid=live]")

    admin.finish_step_run(first.id, status=ExecutionStatus.COMPLETED, logs="done\n")
    admin.create_step_run(run_id=run.id, name="second", step_name="second", upstream=["first"])
    page.wait_for_function("() => document.querySelectorAll('svg.dag .dag-node').length === 2", timeout=15000)
    admin.finish_run(run.id, ExecutionStatus.COMPLETED)
    page.wait_for_selector("[data-testid=live]", state="detached", timeout=15000)
    assert "completed" in page.inner_text("h1")
    assert page.errors == []


def test_a_fifty_step_wide_dag_is_laid_out_without_overlaps_and_zooms(
    page: Any, iris_server: LiveServer, viewer_token: str, admin: HttpMetadataStore
) -> None:
    from modelplane.enums import ExecutionStatus

    pipeline = admin.save_pipeline("wide_pipeline", {})
    run = admin.create_run(pipeline_id=pipeline.id, name="wide-run-1")
    root = admin.create_step_run(run_id=run.id, name="split", step_name="split")
    admin.finish_step_run(root.id, status=ExecutionStatus.COMPLETED)
    middle = [f"part_{i:02d}" for i in range(50)]
    for name in middle:
        made = admin.create_step_run(run_id=run.id, name=name, step_name="part", upstream=["split"])
        admin.finish_step_run(made.id, status=ExecutionStatus.COMPLETED)
    admin.create_step_run(run_id=run.id, name="join", step_name="join", upstream=["split", *middle])
    admin.finish_run(run.id, ExecutionStatus.COMPLETED)

    log_in(page, iris_server, viewer_token, f"#/runs/{run.id}")
    page.wait_for_selector("[data-testid=dag]")
    assert page.locator("[data-testid=dag-node]").count() == 52
    problems = page.evaluate(
        """() => {
          const boxes = [...document.querySelectorAll('[data-testid=dag-node]')].map((g) => {
            const r = g.querySelector('rect').getBBox();
            const m = g.transform.baseVal.consolidate().matrix;
            return { id: g.dataset.step, x: m.e, y: m.f, w: r.width, h: r.height };
          });
          const inside = (p, b, pad) => p.x > b.x + pad && p.x < b.x + b.w - pad && p.y > b.y + pad && p.y < b.y + b.h - pad;
          let overlaps = 0, crossings = 0;
          for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
            const a = boxes[i], b = boxes[j];
            if (a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h) overlaps++;
          }
          for (const edge of document.querySelectorAll('svg.dag path.edge')) {
            const ends = [edge.dataset.from, edge.dataset.to];
            const length = edge.getTotalLength();
            for (let at = 0; at <= length; at += 4) {
              const p = edge.getPointAtLength(at);
              if (boxes.some((b) => !ends.includes(b.id) && inside(p, b, 2))) { crossings++; break; }
            }
          }
          return { overlaps, crossings };
        }"""
    )
    assert problems == {"overlaps": 0, "crossings": 0}
    dag = page.locator("[data-testid=dag]")
    before = float(dag.get_attribute("width"))
    page.click("[data-testid=zoom-in]")
    assert float(dag.get_attribute("width")) > before
    page.click("[data-testid=zoom-fit]")
    assert float(dag.get_attribute("width")) <= page.evaluate("document.querySelector('.dag-scroll').clientWidth")
    page.click("[data-testid=dag-node][data-step=part_07]")  # selecting a step still works
    page.wait_for_function("() => document.querySelector('.step-panel').textContent.includes('part_07')")
    assert page.errors == []


def test_a_version_page_draws_its_lineage_and_clicks_through(
    page: Any, iris_server: LiveServer, viewer_token: str
) -> None:
    log_in(page, iris_server, viewer_token, f"#/models/{MODEL}/versions/1")
    page.wait_for_selector("[data-testid=lineage]")
    labels = page.locator("[data-testid=lineage-node]").evaluate_all(
        "nodes => nodes.map((n) => [n.dataset.kind, n.dataset.label])"
    )
    steps = {label for kind, label in labels if kind == "step"}
    artifacts = {label for kind, label in labels if kind == "artifact"}
    assert {"training_data_loader", "svc_trainer", "evaluator"} <= steps  # the training run
    assert {"inference_data_loader", "predict"} <= steps  # and the prediction runs that used it
    assert [label for kind, label in labels if kind == "step"].count("predict") == 2
    assert "iris_training_dataset v1" in artifacts
    assert page.locator("[data-testid=lineage] .lineage-artifact.linked").count() >= 1
    page.click("[data-testid=lineage-node][data-label='iris_training_dataset v1']")
    page.wait_for_selector("[data-testid=uses-table]")
    assert page.url.endswith("#/artifacts/iris_training_dataset/1")
    assert page.errors == []


def test_a_version_page_shows_where_the_version_is_served(
    page: Any, iris_server: LiveServer, viewer_token: str, admin: HttpMetadataStore
) -> None:
    """A real `modelplane serve` process, talking to the server as a team's service would."""
    import os
    import signal
    import subprocess
    import sys

    from tests.serving.conftest import ONE_ROW, free_port, service_env, wait_for

    holder = admin.get_model_version(MODEL, "production").number
    port = free_port()
    env = {k: v for k, v in service_env().items() if not k.startswith("MODELPLANE_")}
    env.update(iris_server.client_env(), MODELPLANE_HOME=os.environ["MODELPLANE_HOME"])
    process = subprocess.Popen(
        [sys.executable, "-m", "modelplane", "serve", MODEL, "--port", str(port), "--report-seconds", "0.5"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        def ready() -> bool:
            try:
                return httpx.get(f"{url}/ready", timeout=2).status_code == 200
            except httpx.TransportError:
                assert process.poll() is None, "the service exited"
                return False

        wait_for(ready, 90, "the service")
        with httpx.Client(base_url=url) as http:
            for _ in range(5):
                assert http.post("/invocations", json=ONE_ROW).status_code == 200
        wait_for(
            lambda: any(d.traffic.get(str(holder), None) and d.traffic[str(holder)].requests == 5
                        for d in admin.list_deployments(model=MODEL, version=holder)),
            what="the report of 5 requests",
        )
        log_in(page, iris_server, viewer_token, f"#/models/{MODEL}/versions/{holder}")
        served = page.locator("[data-testid=deployments]")
        served.wait_for()
        row = served.locator("tr", has_text=url)
        assert "follows production" in row.inner_text()
        assert re.search(r"\b5\b", row.inner_text())  # its requests
        assert page.errors == []
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    assert admin.list_deployments(model=MODEL, version=holder).total == 0  # it recorded its stop
