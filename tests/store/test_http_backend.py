"""The HTTP backend of the contract suite stays complete: every contract module has its wrapper."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent
SQL_ONLY = {"test_store_engine.py", "test_store_migrations.py"}


def test_every_contract_module_also_runs_on_the_http_backend() -> None:
    contract = {p.name for p in HERE.glob("test_store_*.py")} - SQL_ONLY
    wrapped = {p.name.replace("test_http_store_", "test_store_") for p in HERE.glob("test_http_store_*.py")}

    missing = sorted(contract - wrapped)
    assert not missing, (
        f"Add tests/store/test_http_store_*.py wrappers for {missing} (copy an existing one), "
        "or list SQL-only modules in SQL_ONLY."
    )
