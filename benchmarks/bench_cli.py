"""Whole-process timings of the ``modelplane`` command (DESIGN §6 budgets).

    python benchmarks/bench_cli.py                 # print the table
    python benchmarks/bench_cli.py --write         # also rewrite "## CLI" in docs/benchmarks.md

Budgets (median, whole process): ``modelplane --help`` ≤ 150 ms; ``model list`` and
``model version list NAME`` ≤ 300 ms on a store with 1,000 models and 10,000 versions.

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
from pathlib import Path

from report import write_section

MODELS = 1_000
VERSIONS_PER_MODEL = 10
ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).with_name("modelplane")
SECTION = "## CLI"


def build_store(home: Path) -> None:
    """1,000 models × 10 versions; every tenth model has a production and a staging version."""
    marker = home / f"complete-{MODELS}x{VERSIONS_PER_MODEL}"
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
    close_open_stores()
    marker.touch()


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


def cases(home: Path, pycache: Path) -> list[tuple[str, list[str], dict[str, str], int | None]]:
    env = child_env(home, pycache)
    slow = child_env(home, pycache, MODELPLANE_CLI_FASTPATH="0")
    py = [sys.executable, "-c"]
    mp = [str(BIN)]
    return [
        ("`python -c pass` (interpreter start, for reference)", [*py, "pass"], env, None),
        ("`python -c 'import click'` (for reference)", [*py, "import click"], env, None),
        ("`python -c 'import modelplane'` (for reference)", [*py, "import modelplane"], env, None),
        ("`modelplane --help`", [*mp, "--help"], env, 150),
        ("`modelplane model --help`", [*mp, "model", "--help"], env, None),
        ("`modelplane model list`", [*mp, "model", "list"], env, 300),
        ("`modelplane model list -o json`", [*mp, "model", "list", "-o", "json"], env, 300),
        (
            "`modelplane model version list model_0500`",
            [*mp, "model", "version", "list", "model_0500"],
            env,
            300,
        ),
        (
            "`modelplane model version list model_0500 -o json`",
            [*mp, "model", "version", "list", "model_0500", "-o", "json"],
            env,
            300,
        ),
        ("`modelplane model list` without the SQLite shortcut", [*mp, "model", "list"], slow, None),
        (
            "`modelplane model version list model_0500` without the SQLite shortcut",
            [*mp, "model", "version", "list", "model_0500"],
            slow,
            None,
        ),
        (
            "`modelplane model describe model_0500`",
            [*mp, "model", "describe", "model_0500"],
            env,
            None,
        ),
    ]


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
        "| command | median ms | min ms | max ms | CPU ms (median) | budget ms | within |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for label, (median, low, high, cpu), budget in rows:
        verdict = "" if budget is None else ("yes" if median <= budget else "**no**")
        lines.append(
            f"| {label} | {median:.0f} | {low:.0f} | {high:.0f} | {cpu:.0f} | {budget or ''} "
            f"| {verdict} |"
        )
    lines += [
        "",
        "`model list` and `model version list` on a local SQLite store read it with the standard "
        "library's `sqlite3` (`modelplane/cli/fastpath.py`); the rows \"without the SQLite "
        'shortcut" take the general path through `Client`, SQLAlchemy and pydantic.',
        "",
    ]
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
        write_section(ROOT / "docs" / "benchmarks.md", SECTION, section)


if __name__ == "__main__":
    main()
