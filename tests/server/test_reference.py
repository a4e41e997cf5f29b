"""docs/server.md lists the routes the store operations declare, and only those."""

from __future__ import annotations

from pathlib import Path

from modelplane.metadata.store import store_operations
from modelplane.server.reference import update_page

PAGE = Path(__file__).resolve().parents[2] / "docs" / "server.md"


def test_the_documented_routes_are_the_declared_ones() -> None:
    page = PAGE.read_text()
    assert update_page(page) == page, (
        "docs/server.md is out of date with the store's declarations; "
        "run: python -m modelplane.server.reference docs/server.md"
    )
    for op in store_operations():
        row = next(line for line in page.splitlines() if line.startswith(f"| {op.verb} | `{op.path}` |"))
        needs = row.split(" | ")[2]
        # The role, and where it is held: any token; in default (a server role); in the project
        # the path names; or in the request's project.
        expected = {
            "token": "any token",
            "server": f"{op.role.value} of default" if op.role.value == "admin" else f"{op.role.value} in default",
            "named": f"{op.role.value} in `{{project}}`",
            "project": op.role.value,
        }[op.scope]
        assert needs == expected, (op.name, needs)
