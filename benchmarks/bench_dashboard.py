"""Time to first paint of the dashboard's model page at 10,000 versions (budget: ≤ 1 s over loopback).

    python benchmarks/bench_dashboard.py [--versions 10000] [--runs 5] [--write]

Builds (once, kept in --store-dir) a SQLite store with one model of ``--versions`` versions, each
with metadata, starts ``modelplane server start`` on loopback, signs in with Debian's Chromium
(Playwright) and opens the model page ``--runs`` times after a warm-up. It prints the median, min
and max milliseconds from the start of navigation until the versions table has its rows and until
the trend chart is drawn, the server process's CPU time per page load, and the load average.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from bench_server import start_server
from report import write_section

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Dashboard"
MODEL = "bench_dashboard"
BUDGET_MS = 1000


def build_store(folder: Path, versions: int) -> tuple[str, str]:
    from modelplane.metadata.sql.store import SqlMetadataStore

    url = f"sqlite:///{folder / 'store.db'}"
    marker = folder / f"complete-{versions}"
    store = SqlMetadataStore(url)
    if not marker.exists():
        store.create_model(MODEL)
        for number in range(1, versions + 1):
            store.create_model_version(
                MODEL, metadata={"auc": 0.5 + number / (4 * versions), "eval": {"f1": number / versions}}
            )
        store.set_stage(MODEL, versions // 2, "production")
        marker.touch()
    _, secret = store.create_token("bench", role="viewer")
    store.close()
    return url, secret


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--store-dir", type=Path, default=Path(tempfile.gettempdir()) / "modelplane-bench-dashboard")
    parser.add_argument("--write", action="store_true", help="update the ## Dashboard section of docs/benchmarks.md")
    args = parser.parse_args()
    args.store_dir.mkdir(parents=True, exist_ok=True)
    print(f"store: {args.store_dir} (building {args.versions} versions if needed)", file=sys.stderr)
    url, secret = build_store(args.store_dir, args.versions)
    server, base = start_server(url, args.store_dir)
    from playwright.sync_api import sync_playwright

    table_ms, chart_ms, cpu_ms = [], [], []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=shutil.which("chromium"),
                args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.request.post(f"{base}/api/v1/session", data={"token": secret})
            page = context.new_page()
            for attempt in range(args.runs + 1):
                cpu_before = _cpu_seconds(server.pid)
                page.goto(f"{base}/#/models/{MODEL}")
                page.wait_for_selector("[data-testid=version-row]")
                table = page.evaluate("performance.now()")
                page.wait_for_selector("[data-testid=trend-chart] canvas")
                chart = page.evaluate("performance.now()")
                cpu = (_cpu_seconds(server.pid) - cpu_before) * 1000
                if attempt:  # the first load warms caches
                    table_ms.append(table)
                    chart_ms.append(chart)
                    cpu_ms.append(cpu)
                page.goto("about:blank")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    load = os.getloadavg()[0]
    lines = [
        SECTION,
        "",
        f"`python benchmarks/bench_dashboard.py --write` on {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, Debian's Chromium headless, "
        f"`modelplane server start` on loopback with SQLite: a model of {args.versions:,} versions "
        f"(each with metadata), its page opened {args.runs} times after a warm-up. Times are from "
        f"the start of navigation; load average {load:.1f} at the end. Budget: the versions table "
        f"painted within {BUDGET_MS} ms.",
        "",
        "| what | median ms | min ms | max ms | within |",
        "|---|---:|---:|---:|---|",
    ]
    for label, values, budget in (
        ("versions table painted (first page of 50, sorted and paged by the store)", table_ms, BUDGET_MS),
        ("trend chart drawn (the newest 1,000 versions)", chart_ms, None),
        ("server CPU for the page's API calls", cpu_ms, None),
    ):
        median = statistics.median(values)
        verdict = "" if budget is None else ("yes" if median <= budget else "**no**")
        lines.append(f"| {label} | {median:.0f} | {min(values):.0f} | {max(values):.0f} | {verdict} |")
    section = "\n".join(lines) + "\n"
    print(section)
    if args.write:
        write_section(ROOT / "docs" / "benchmarks.md", SECTION, section)


if __name__ == "__main__":
    main()
