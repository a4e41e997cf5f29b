"""The import contracts (``[tool.importlinter]`` in ``pyproject.toml``) hold on this tree, and each
one still catches the violation it is there for: a contract that names a module wrongly, or whose
rule was loosened, would otherwise pass forever."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import modelplane

SRC = Path(modelplane.__file__).parent
CONFIG = SRC.parent.parent / "pyproject.toml"

# The first words of a contract's name -> a file under src/modelplane and the import that breaks it.
VIOLATIONS = {
    "the HTTP store only forwards": ("metadata/http_transport.py", "import modelplane.metadata.sql.store"),
    "server routes go through the store protocol": ("server/routes/operations.py", "import modelplane.metadata.sql"),
    "the CLI reads through the store": ("cli/output.py", "import sqlite3"),
    "the reads and writes written once": ("metadata/run_writes.py", "import sqlalchemy"),
    "no import cycle inside metadata": ("metadata/records.py", "import modelplane.metadata.store"),
}


def _lint_imports(package: Path) -> subprocess.CompletedProcess[str]:
    """Run the venv's lint-imports with this repository's contracts on the ``modelplane`` at ``package``."""
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint, "import-linter is part of the dev extra"
    env = {**os.environ, "PYTHONPATH": str(package.parent)}
    return subprocess.run(
        [lint, "--no-cache", "--no-logo", str(CONFIG)],
        cwd=package.parent, env=env, capture_output=True, text=True,
    )


def test_layers_hold() -> None:
    result = _lint_imports(SRC)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("contract", sorted(VIOLATIONS))
def test_each_contract_catches_its_violation(contract: str, tmp_path: Path) -> None:
    package = tmp_path / "modelplane"
    shutil.copytree(SRC, package, ignore=shutil.ignore_patterns("__pycache__", "dashboard"))
    path, line = VIOLATIONS[contract]
    target = package / path
    target.write_text(target.read_text() + f"\n{line}\n")

    result = _lint_imports(package)

    broken = re.findall(r"^(.+) BROKEN", result.stdout, flags=re.MULTILINE)
    assert result.returncode == 1 and len(broken) == 1, result.stdout + result.stderr
    assert broken[0].startswith(contract), result.stdout
