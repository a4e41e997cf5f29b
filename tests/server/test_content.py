"""Artifact content served by the server: previews of safe values, downloads, and the size caps."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from modelplane.client import Client
from modelplane.config import load_settings
from modelplane.server.app import create_app
from tests.server.live import LiveServer


def _get(live_server: LiveServer, path: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {live_server.admin_token}"}
    return httpx.get(f"{live_server.url}/api/v1{path}", headers=headers)


def test_dataframe_preview_shows_shape_columns_and_head(live_server: LiveServer, save_artifact: Any) -> None:
    frame = pd.DataFrame({"a": range(25), "b": [x / 2 for x in range(25)], "c": ["<b>x</b>"] * 25})
    record = save_artifact(frame, name="frame")

    preview = _get(live_server, f"/artifact-versions/{record.id}/preview").json()

    assert preview["loaded"] is True
    shown = preview["preview"]
    assert shown["kind"] == "dataframe"
    assert shown["shape"] == [25, 3]
    assert shown["columns"] == ["a", "b", "c"]
    assert shown["rows"][1] == [1, 0.5, "<b>x</b>"]
    assert len(shown["rows"]) == 10


def test_array_preview_shows_shape_dtype_and_first_items(live_server: LiveServer, save_artifact: Any) -> None:
    record = save_artifact(np.arange(60, dtype=np.float32).reshape(3, 4, 5), name="array")

    shown = _get(live_server, f"/artifact-versions/{record.id}/preview").json()["preview"]

    assert (shown["kind"], shown["shape"], shown["dtype"]) == ("array", [3, 4, 5], "float32")
    assert shown["head"][:3] == [0.0, 1.0, 2.0]
    assert shown["truncated"] is True


def test_json_and_bytes_previews(live_server: LiveServer, save_artifact: Any) -> None:
    as_json = save_artifact({"accuracy": 0.93, "labels": ["a", "b"]}, name="json")
    as_bytes = save_artifact(b"\x00\x01binary", name="bytes")

    shown_json = _get(live_server, f"/artifact-versions/{as_json.id}/preview").json()["preview"]
    shown_bytes = _get(live_server, f"/artifact-versions/{as_bytes.id}/preview").json()["preview"]

    assert shown_json["kind"] == "json" and '"accuracy": 0.93' in shown_json["text"]
    assert shown_bytes == {"kind": "bytes", "length": 8, "head_hex": b"\x00\x01binary".hex()}


def test_files_are_listed_and_downloaded_byte_for_byte(live_server: LiveServer, save_artifact: Any) -> None:
    record = save_artifact(np.arange(10), name="download")
    folder = Path(live_server.artifact_uri) / record.id

    listing = _get(live_server, f"/artifact-versions/{record.id}/files").json()
    name = listing["files"][0]["name"]
    content = _get(live_server, f"/artifact-versions/{record.id}/files/{name}")

    assert [f["name"] for f in listing["files"]] == sorted(p.name for p in folder.iterdir())
    assert content.content == (folder / name).read_bytes()


def test_the_sdk_loads_what_the_server_stored_by_reading_the_shared_artifact_store(
    live_server: LiveServer, save_artifact: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = save_artifact({"k": [1, 2]}, name="shared")
    for key, value in live_server.client_env().items():
        monkeypatch.setenv(key, value)

    assert Client(load_settings()).load_artifact(record.id) == {"k": [1, 2]}


async def _call(app: Any, path: str, token: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://server") as http:
        return await http.get(path, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def small_caps_app(tmp_path: Path) -> Any:
    settings = load_settings(store_url=f"sqlite:///{tmp_path / 'store.db'}", artifact_uri=str(tmp_path / "art"))
    return create_app(settings, admin_token="t" * 20, max_download_bytes=100, max_preview_bytes=100)


def test_downloads_and_previews_over_the_caps_are_refused(small_caps_app: Any) -> None:
    client: Client = small_caps_app.state.client
    from modelplane.artifacts.materializers import save_value
    from modelplane.artifacts.store import new_artifact_id

    artifact_id = new_artifact_id()
    saved = save_value(client.artifact_store, artifact_id, np.zeros(1000))
    record = client.store.create_artifact_version(
        id=artifact_id, name="big", type=saved.type, materializer=saved.materializer,
        data_type=saved.data_type, uri=saved.uri, content_hash=saved.content_hash, size=saved.size,
    )  # fmt: skip
    name = next(iter(client.artifact_store.folder(record.uri).files()))

    download = asyncio.run(_call(small_caps_app, f"/api/v1/artifact-versions/{record.id}/files/{name}", "t" * 20))
    preview = asyncio.run(_call(small_caps_app, f"/api/v1/artifact-versions/{record.id}/preview", "t" * 20))

    assert download.status_code == 413
    assert "download limit" in download.json()["error"]["message"]
    assert preview.status_code == 200
    assert preview.json()["loaded"] is False and "preview limit" in preview.json()["reason"]


def test_symbolic_links_in_an_artifact_folder_are_neither_listed_nor_served(
    live_server: LiveServer, save_artifact: Any, tmp_path: Path
) -> None:
    record = save_artifact(np.arange(10), name="linked")
    folder = Path(live_server.artifact_uri) / record.id
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the API")
    own_files = _get(live_server, f"/artifact-versions/{record.id}/files").json()["files"]
    folder.chmod(0o755)
    (folder / "leak.txt").symlink_to(secret)
    (folder / "database").symlink_to(live_server.root / "store.db")
    (folder / "outside").symlink_to(tmp_path, target_is_directory=True)

    listing = _get(live_server, f"/artifact-versions/{record.id}/files")
    leaked = [
        _get(live_server, f"/artifact-versions/{record.id}/files/{name}")
        for name in ("leak.txt", "database", "outside/secret.txt")
    ]

    assert listing.status_code == 200
    assert listing.json()["files"] == own_files
    assert [response.status_code for response in leaked] == [422, 422, 422]
    assert all(b"not for the API" not in response.content for response in leaked)


def test_a_dangling_link_in_an_artifact_folder_does_not_break_the_listing(
    live_server: LiveServer, save_artifact: Any, tmp_path: Path
) -> None:
    record = save_artifact(b"bytes", name="dangling")
    folder = Path(live_server.artifact_uri) / record.id
    folder.chmod(0o755)
    (folder / "dangling").symlink_to(tmp_path / "gone")

    listing = _get(live_server, f"/artifact-versions/{record.id}/files")

    assert listing.status_code == 200
    assert "dangling" not in [f["name"] for f in listing.json()["files"]]


def test_visualizations_are_listed_and_served_with_their_type_html_sandboxed(
    live_server: LiveServer, save_artifact: Any
) -> None:
    from modelplane.types import HTMLString

    frame = save_artifact(pd.DataFrame({"a": [1, 2]}), name="viz_frame")
    page = save_artifact(HTMLString("<script>alert(1)</script><p>hi</p>"), name="viz_page")

    listing = _get(live_server, f"/artifact-versions/{frame.id}/visualizations").json()["items"]
    assert [(v["name"], v["content_type"]) for v in listing] == [
        ("head.html", "text/html; charset=utf-8"),
        ("table.csv", "text/csv; charset=utf-8"),
    ]
    csv = _get(live_server, f"/artifact-versions/{frame.id}/visualizations/table.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines() == [",a", "0,1", "1,2"]
    html = _get(live_server, f"/artifact-versions/{page.id}/visualizations/page.html")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    policy = html.headers["content-security-policy"]
    assert policy.startswith("sandbox;") and "default-src 'none'" in policy and "script-src" not in policy
    assert html.headers["x-content-type-options"] == "nosniff"
    for missing in ("nope.png", "..%2Fhead.html", "%2E%2E%2Fetc%2Fpasswd"):
        assert _get(live_server, f"/artifact-versions/{frame.id}/visualizations/{missing}").status_code == 404
    assert _get(live_server, f"/artifact-versions/{'f' * 32}/visualizations").status_code == 404
