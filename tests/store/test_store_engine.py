"""Engines: store URLs, drivers, SQLite connection settings, unreachable databases."""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from modelplane.errors import ConfigError, StoreError
from modelplane.metadata.sql.engine import make_engine, normalize_url
from modelplane.metadata.sql.store import SqlMetadataStore


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("sqlite:///x.db", "sqlite"),
        ("postgresql://u@h/db", "postgresql+psycopg"),
        ("postgres://u@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg"),
        ("mysql://u@h/db", "mysql+pymysql"),
        ("mariadb://u@h/db", "mariadb+pymysql"),
    ],
)
def test_bare_schemes_get_modelplanes_drivers(url: str, driver: str) -> None:
    assert normalize_url(url).drivername == driver


@pytest.mark.parametrize("url", ["not a url", "oracle://u@h/db", "://nothing"], ids=str)
def test_malformed_or_unsupported_urls_are_config_errors_naming_the_url(url: str) -> None:
    with pytest.raises(ConfigError, match="URL") as caught:
        make_engine(url)
    assert url in str(caught.value)
    assert caught.value.hint


def test_an_unknown_driver_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="nosuchdriver"):
        make_engine("postgresql+nosuchdriver://u@h/db")


@pytest.mark.parametrize(
    ("url", "module", "extra"),
    [
        ("postgresql://u@h/db", "psycopg", "modelplane[postgres]"),
        ("mysql://u@h/db", "pymysql", "modelplane[mysql]"),
    ],
)
def test_a_missing_driver_names_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, url: str, module: str, extra: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` fail as if not installed

    with pytest.raises(ConfigError) as caught:
        make_engine(url)
    assert extra in (caught.value.hint or "")


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    (tmp_path / "deep" / "er").mkdir(parents=True)
    engine = make_engine(f"sqlite:///{tmp_path / 'deep' / 'er' / 'store.db'}")
    try:
        with engine.connect() as conn:
            pragma = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
            }
        assert pragma == {
            "journal_mode": "wal",
            "foreign_keys": 1,
            "busy_timeout": 30000,
            "synchronous": 1,
        }
    finally:
        engine.dispose()


def test_an_in_memory_sqlite_store_works() -> None:
    store = SqlMetadataStore("sqlite://")
    try:
        store.create_model("iris")
        store.create_model_version("iris")
        assert store.get_model_version("iris", "latest").number == 1
    finally:
        store.close()


def test_the_stage_lookup_uses_an_index(tmp_path: Path) -> None:
    store = SqlMetadataStore(f"sqlite:///{tmp_path / 'store.db'}")
    store.close()
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        with engine.connect() as conn:
            plan = conn.execute(
                sa.text(
                    "EXPLAIN QUERY PLAN SELECT * FROM model_versions "
                    "WHERE model_id = :m AND stage = :s"
                ),
                {"m": "x", "s": "production"},
            ).all()
        assert "ix_model_versions_model_id_stage" in " ".join(str(row) for row in plan)
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://ana:s3cret@127.0.0.1:1/test",
        "mysql+pymysql://ana:s3cret@127.0.0.1:1/test",
    ],
    ids=["postgresql", "mysql"],
)
def test_an_unreachable_server_is_a_store_error_without_the_password(url: str) -> None:
    with pytest.raises(StoreError, match=r"127.0.0.1:1") as caught:
        SqlMetadataStore(url)
    assert "s3cret" not in str(caught.value)


def test_a_sqlite_path_may_start_with_the_home_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "stores").mkdir()

    SqlMetadataStore("sqlite:///~/stores/store.db").close()

    assert (tmp_path / "stores" / "store.db").is_file()


def test_a_pickled_store_reopens_its_url(tmp_path: Path) -> None:
    store = SqlMetadataStore(f"sqlite:///{tmp_path / 'store.db'}")
    store.create_model("iris")

    copy = pickle.loads(pickle.dumps(store))
    try:
        assert copy.get_model("iris").name == "iris"
    finally:
        copy.close()
        store.close()
