"""Every test gets its own modelplane home: no test sees the user's store or another test's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from modelplane.client import Client, close_open_stores
from modelplane.config import load_settings


@pytest.fixture(autouse=True)
def clean_environ(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in list(os.environ):
        if key.startswith("MODELPLANE_"):
            monkeypatch.delenv(key)
    home = tmp_path_factory.mktemp("mp_home")
    monkeypatch.setenv("MODELPLANE_HOME", str(home))
    monkeypatch.setenv("MODELPLANE_CONFIG", str(home / "user-config.json"))
    yield home
    close_open_stores()


@pytest.fixture
def mp_home(clean_environ: Path) -> Path:
    """The isolated ``MODELPLANE_HOME`` of this test."""
    return clean_environ


@pytest.fixture
def client(mp_home: Path) -> Client:
    return Client(load_settings())
