"""The CLI's import cost: ``--help`` and JSON listings stay clear of the heavy modules."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from modelplane.client import Client

HEAVY = (
    "sqlalchemy",
    "pydantic",
    "rich",
    "alembic",
    "pandas",
    "sklearn",
    "numpy",
    "fastapi",
    "uvicorn",
    "ray",
    "authlib",
)

PROBE = """
import json, sys
before = set(sys.modules)
import modelplane
package = set(sys.modules)
from modelplane.cli import main
try:
    main(sys.argv[1:], prog_name="modelplane")
except SystemExit:
    pass
after = set(sys.modules)
sys.stderr.write(json.dumps({"package": sorted(package - before), "cli": sorted(after - package)}))
"""


def imported(*args: str, env: dict[str, str] | None = None) -> dict[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env, check=False
    )
    return json.loads(done.stderr.strip().splitlines()[-1])


def top_level(modules: list[str]) -> set[str]:
    return {name.partition(".")[0] for name in modules}


def test_help_imports_no_command_module() -> None:
    loaded = {m for m in imported("--help")["cli"] if m.startswith("modelplane.cli")}
    assert loaded <= {"modelplane.cli", "modelplane.cli.lazy", "modelplane.cli.output"}, loaded


def test_the_whole_help_process_imports_nothing_heavy() -> None:
    both = imported("--help")
    assert not top_level(both["package"] + both["cli"]) & set(HEAVY)


def test_json_model_list_on_sqlite_skips_the_store(client: Client, mp_home: Path) -> None:
    client.create_model("m")
    both = imported("model", "list", "-o", "json", env=dict(os.environ))
    loaded = top_level(both["package"] + both["cli"])
    assert not loaded & {"sqlalchemy", "alembic", "rich", "pydantic"}, loaded
