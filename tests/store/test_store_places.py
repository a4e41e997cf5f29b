"""Where a store lives: an explicit SQLite URL into a missing folder, a read-only SQLite file and an
artifact URL with an unknown protocol are refused naming the thing and the fix; the default store
in the modelplane home is still created with its folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from modelplane.client import Client
from modelplane.config import load_settings
from modelplane.errors import ConfigError
from modelplane.metadata.sql.store import SqlMetadataStore


def test_an_explicit_sqlite_url_into_a_missing_folder_names_the_folder(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such"

    with pytest.raises(ConfigError) as caught:
        SqlMetadataStore(f"sqlite:///{missing / 'store.db'}")

    assert str(missing) in caught.value.message and "does not exist" in caught.value.message
    assert "mkdir -p" in (caught.value.hint or "")
    assert not (tmp_path / "no").exists()


def test_the_default_store_folder_is_still_created(tmp_path: Path) -> None:
    home = tmp_path / "fresh" / "home"
    env = {"MODELPLANE_HOME": str(home), "MODELPLANE_CONFIG": str(tmp_path / "none.json")}
    client = Client(load_settings(env=env))

    client.create_model("iris")

    assert (home / "store.db").is_file()


def test_a_read_only_sqlite_store_says_it_is_read_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "store.db"
    SqlMetadataStore(f"sqlite:///{path}").close()
    os.chmod(path, 0o444)
    if os.geteuid() == 0:
        # Root may write any file (and no unprivileged user can run this interpreter here): let
        # the permission check see the file as other users do, nothing else changed.
        real_access = os.access

        def access(target: object, mode: int, **kwargs: object) -> bool:
            if Path(str(target)) == path and mode & os.W_OK:
                return False
            return real_access(target, mode, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(os, "access", access)

    with pytest.raises(ConfigError) as caught:
        SqlMetadataStore(f"sqlite:///{path}")

    assert "read-only" in caught.value.message and str(path) in caught.value.message
    assert "chmod u+rw" in (caught.value.hint or "")


@pytest.mark.parametrize("uri", ["nosuchscheme://bucket/x", "simplecache::nosuchscheme://b"])
def test_an_artifact_uri_with_an_unknown_protocol_is_refused_naming_it(
    tmp_path: Path, uri: str
) -> None:
    env = {"MODELPLANE_HOME": str(tmp_path), "MODELPLANE_ARTIFACT_URI": uri,
           "MODELPLANE_CONFIG": str(tmp_path / "none.json")}  # fmt: skip

    with pytest.raises(ConfigError, match="'nosuchscheme'") as caught:
        load_settings(env=env)

    assert "modelplane[s3]" in (caught.value.hint or "")


@pytest.mark.parametrize("uri", ["s3://bucket/prefix", "memory://x", "file:///tmp/a", "rel/dir"])
def test_known_artifact_uris_are_accepted(tmp_path: Path, uri: str) -> None:
    env = {"MODELPLANE_HOME": str(tmp_path), "MODELPLANE_ARTIFACT_URI": uri,
           "MODELPLANE_CONFIG": str(tmp_path / "none.json")}  # fmt: skip

    assert load_settings(env=env).artifact_uri == uri
