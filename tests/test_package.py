"""The package's shape: a light import and an honest public API (the layer contracts: test_layers.py)."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import modelplane

HEAVY = ["pandas", "sklearn", "fastapi", "uvicorn", "ray", "numpy", "pyarrow", "httpx", "sqlalchemy", "pydantic", "authlib", "joserfc"]
SRC = Path(modelplane.__file__).parent


def _imported_after(statement: str, modules: list[str]) -> list[str]:
    code = f"import json, sys; {statement}; print(json.dumps([m for m in {modules!r} if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def test_import_modelplane_stays_light() -> None:
    assert _imported_after("import modelplane", HEAVY) == []


def test_the_sdk_does_not_pull_in_ml_or_server_libraries() -> None:
    statement = "from modelplane import Client, Model, pipeline, step, get_step_context"
    assert _imported_after(statement, HEAVY[:6]) == []


def test_public_api_is_sorted_and_complete() -> None:
    assert modelplane.__all__ == sorted(modelplane.__all__)
    for name in modelplane.__all__:
        assert hasattr(modelplane, name), name
    from modelplane.model import ModelConfig, ModelVersion

    assert ModelVersion is modelplane.Model and ModelConfig is modelplane.Model


def test_no_module_over_600_lines_and_no_grab_bags() -> None:
    for path in SRC.rglob("*.py"):
        assert len(path.read_text().splitlines()) <= 600, path
        assert path.stem not in {"utils", "helpers", "common", "misc"}, path


# Busy with issue 9 item 1 (one declaration per store operation) when the rest lost theirs: they drop
# the sentence as they are rewritten, and then leave this set.


def test_no_module_docstring_lists_its_imports_by_hand() -> None:
    """The imports are in the code, and the layer contracts (test_layers.py) check them; a sentence
    such as "Imports records, store and errors." only goes stale."""
    listing = set()
    for path in SRC.rglob("*.py"):
        docstring = ast.get_docstring(ast.parse(path.read_text())) or ""
        if re.search(r"(^|[.;]\s)Imports\b", docstring, flags=re.MULTILINE):
            listing.add(path.relative_to(SRC).as_posix())
    assert listing == set()


ROOT = SRC.parent.parent


def _project() -> dict:  # type: ignore[type-arg]
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_license_and_the_type_marker_ship_with_the_package() -> None:
    project = _project()
    license_text = (ROOT / "LICENSE").read_text()

    assert "Apache License" in license_text and "Version 2.0, January 2004" in license_text
    assert project["project"]["license"] == "Apache-2.0"
    assert project["project"]["license-files"] == ["LICENSE"]
    assert (SRC / "py.typed").is_file()
    assert "py.typed" in project["tool"]["setuptools"]["package-data"]["modelplane"]
    assert "Typing :: Typed" in project["project"]["classifiers"]


def test_the_readme_says_how_to_install_without_pypi() -> None:
    readme = (ROOT / "README.md").read_text()

    assert re.search(r"^pip install \.\s", readme, re.MULTILINE)
    assert "pip install dist/modelplane-*.whl" in readme
    assert "not published on PyPI" in readme
    assert "`pip install modelplane` is the core" not in readme


def test_the_docs_point_only_at_files_that_exist_and_do_not_promise_a_cdn() -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for page in pages:
        text = page.read_text()
        assert "DESIGN" not in text, f"{page.name} points at DESIGN, which is not in the repository"
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"
    assert "CDN" not in (ROOT / "docs" / "server.md").read_text()
