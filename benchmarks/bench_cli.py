"""Whole-process timings of the ``modelplane`` command (DESIGN §6 budgets).

    python benchmarks/bench_cli.py                 # print the table
    python benchmarks/bench_cli.py --write         # also rewrite "## CLI" in docs/benchmarks.md

Budgets (issue 9): every everyday read ≤ 150 ms of CPU time, whole process, on a store with
1,000 models and 10,000 versions (and 200 runs, 200 artifacts); ``modelplane --help`` ≤ 150 ms.

The store is built once through the public ``Client`` (about two minutes: 11,000 write transactions)
and kept in ``--store-dir`` for later runs. Every command runs ``--runs`` times after two warm-up
runs; bytecode goes to a private ``PYTHONPYCACHEPREFIX`` so that, as after a normal install, no run
compiles source (the machine's ``PYTHONDONTWRITEBYTECODE`` is dropped for the child processes).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from report import write_table_section

MODELS = 1_000
VERSIONS_PER_MODEL = 10
RUNS = 200
ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).with_name("modelplane")
SECTION = "## CLI"


def build_store(home: Path) -> None:
    """1,000 models × 10 versions; every tenth model has a production and a staging version."""
    marker = home / f"complete-{MODELS}x{VERSIONS_PER_MODEL}-{RUNS}-runs"
    if not marker.exists() and (home / f"complete-{MODELS}x{VERSIONS_PER_MODEL}").exists():
        os.environ["MODELPLANE_HOME"] = str(home)  # a store of an earlier version of this script
        from modelplane.client import Client, close_open_stores

        _add_runs(Client())
        close_open_stores()
        marker.touch()
    if marker.exists():
        return
    os.environ["MODELPLANE_HOME"] = str(home)
    from modelplane.client import Client, close_open_stores

    client = Client()
    started = time.perf_counter()
    for index in range(client.list_models(limit=1).total, MODELS):
        name = f"model_{index:04d}"
        client.create_model(
            name, tags=["bench", f"group{index % 10}"], description=f"benchmark model {index}"
        )
        for _ in range(VERSIONS_PER_MODEL):
            client.create_model_version(name, tags=["bench"])
        if index % 10 == 0:
            client.set_stage(name, VERSIONS_PER_MODEL - 1, "production")
            client.set_stage(name, VERSIONS_PER_MODEL, "staging")
        if index % 100 == 99:
            print(
                f"  built {index + 1} models ({time.perf_counter() - started:.0f} s)",
                file=sys.stderr,
            )
    _add_runs(client)
    close_open_stores()
    marker.touch()


def _add_runs(client: object) -> None:
    """200 runs of two pipelines, each with one step and one output artifact version."""
    from modelplane.enums import ArtifactType, ExecutionStatus

    store = client.store  # type: ignore[attr-defined]
    for p in range(2):
        pipeline = store.save_pipeline(f"pipeline_{p}", {})
        for r in range(RUNS // 2):
            run = store.create_run(pipeline_id=pipeline.id, name=f"run_{p}_{r:03d}")
            step = store.create_step_run(run_id=run.id, name="train", step_name="train")
            output = store.create_artifact_version(
                id=uuid.uuid4().hex,
                name=f"artifact_{p}_{r:03d}",
                type=ArtifactType.DATA,
                materializer="modelplane.json",
                data_type="builtins.dict",
                uri=f"memory://{p}/{r}",
                content_hash="0" * 64,
                size=100,
                producer_step_run_id=step.id,
            )
            store.finish_step_run(
                step.id, status=ExecutionStatus.COMPLETED, outputs={"out": output.id}, logs=""
            )
            store.finish_run(run.id, ExecutionStatus.COMPLETED)


def child_env(home: Path, pycache: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MODELPLANE_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(MODELPLANE_HOME=str(home), PYTHONPYCACHEPREFIX=str(pycache), COLUMNS="120", **extra)
    return env


def _run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run, in milliseconds."""
    started = time.perf_counter()
    child = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = (time.perf_counter() - started) * 1000
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited with {child.returncode}")
    return wall, (usage.ru_utime + usage.ru_stime) * 1000


def measure(argv: list[str], env: dict[str, str], runs: int) -> tuple[float, float, float, float]:
    """Median, min and max wall time, and median CPU time, in milliseconds."""
    for _ in range(2):  # warm-up: bytecode, page cache
        _run_once(argv, env)
    samples = [_run_once(argv, env) for _ in range(runs)]
    walls = [wall for wall, _ in samples]
    cpu = statistics.median(cpu for _, cpu in samples)
    return statistics.median(walls), min(walls), max(walls), cpu


READS = [
    ["model", "list"],
    ["model", "describe", "model_0500"],
    ["model", "version", "list", "model_0500"],
    ["model", "version", "describe", "model_0500", "production"],
    ["run", "list"],
    ["artifact", "list"],
    ["artifact", "version", "list", "artifact_1_099"],
    ["pipeline", "list"],
    ["status"],
]


def cases(home: Path, pycache: Path) -> list[tuple[str, list[str], dict[str, str], int | None]]:
    env = child_env(home, pycache)
    full = child_env(home, pycache, MODELPLANE_LIGHT_READS="0")
    py = [sys.executable, "-c"]
    mp = [str(BIN)]
    found: list[tuple[str, list[str], dict[str, str], int | None]] = [
        ("`python -c pass` (interpreter start, for reference)", [*py, "pass"], env, None),
        ("`python -c 'import click'` (for reference)", [*py, "import click"], env, None),
        ("`python -c 'import modelplane'` (for reference)", [*py, "import modelplane"], env, None),
        ("`modelplane --help`", [*mp, "--help"], env, 150),
    ]
    for args in READS:
        command = " ".join(["modelplane", *args])
        found.append((f"`{command}`", [*mp, *args], env, 150))
        found.append((f"`{command} -o json`", [*mp, *args, "-o", "json"], env, 150))
    for args in (READS[1], READS[3]):
        command = " ".join(["modelplane", *args])
        found.append((f"`{command}` through the full store", [*mp, *args], full, None))
    quiet = child_env(home, pycache, MODELPLANE_LOGGING_VERBOSITY="quiet")
    script = str(Path(__file__).with_name("one_step_pipeline.py"))
    found.append(("`python benchmarks/one_step_pipeline.py` (a whole 1-step pipeline run)", [sys.executable, script], quiet, 300))
    slow = child_env(home, pycache, MODELPLANE_LOGGING_VERBOSITY="quiet", MODELPLANE_LIGHT_READS="0")
    found.append(("the same through the full store (SQLAlchemy)", [sys.executable, script], slow, None))
    script = str(Path(__file__).with_name("model_pipeline.py"))
    found.append(("`python benchmarks/model_pipeline.py` (the same naming a model: a new version, its output linked)", [sys.executable, script], quiet, 300))
    found.append(("the same through the full store (SQLAlchemy)", [sys.executable, script], slow, None))
    return found


def render(rows: list[tuple[str, tuple[float, float, float, float], int | None]], runs: int) -> str:
    machine = (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f} at the end"
    )
    lines = [
        SECTION,
        "",
        f"Whole-process wall time of `modelplane` commands: median of {runs} runs after 2 "
        f"warm-up runs, on a SQLite store of {MODELS:,} models and "
        f"{MODELS * VERSIONS_PER_MODEL:,} versions, "
        f"measured by `python benchmarks/bench_cli.py --write` ({machine}). The machine is shared: "
        "other work inflates wall times, so the CPU time of the process is given too.",
        "",
        "| command | median ms | min ms | max ms | CPU ms (median) | CPU budget ms | within |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for label, (median, low, high, cpu), budget in rows:
        verdict = "" if budget is None else ("yes" if cpu <= budget else "**no**")
        lines.append(
            f"| {label} | {median:.0f} | {low:.0f} | {high:.0f} | {cpu:.0f} | {budget or ''} "
            f"| {verdict} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--store-dir", type=Path, default=Path(tempfile.gettempdir()) / "modelplane-bench-cli"
    )
    parser.add_argument(
        "--write", action="store_true", help="update the ## CLI section of docs/benchmarks.md"
    )
    args = parser.parse_args()
    home = args.store_dir / "home"
    home.mkdir(parents=True, exist_ok=True)
    print(f"store: {home} (building if needed)", file=sys.stderr)
    build_store(home)
    rows = []
    for label, argv, env, budget in cases(home, args.store_dir / "pycache"):
        rows.append((label, measure(argv, env, args.runs), budget))
        print(f"{rows[-1][1][0]:7.0f} ms  (cpu {rows[-1][1][3]:4.0f})  {label}", file=sys.stderr)
    section = render(rows, args.runs)
    print(section)
    if args.write:
        write_table_section(ROOT / "docs" / "benchmarks.md", SECTION, section)


if __name__ == "__main__":
    main()
