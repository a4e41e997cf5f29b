"""docs/projects.md's local walk-through, run as written in a fresh folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _walk_through() -> str:
    section = (ROOT / "docs" / "projects.md").read_text().split("## A local walk-through", 1)[1]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


def test_the_walk_through_keeps_two_models_of_one_name_apart(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELPLANE_")}
    env["MODELPLANE_CONFIG"] = str(tmp_path / "config.json")
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env["PATH"]])
    work = tmp_path / "work"
    work.mkdir()
    script = "set -x\n" + _walk_through()
    done = subprocess.run(
        ["bash", "-e", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=300
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    vision_describe, default_describe = out.split("Description")[1], out.split("Description")[2]
    assert "a CNN" in vision_describe.splitlines()[0]
    assert "a tree" in default_describe.splitlines()[0]
    assert "vision (chosen with `modelplane project use`)" in out
    assert (work / ".modelplane" / "store.projects" / "vision.db").is_file()
