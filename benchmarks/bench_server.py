"""Budget: a server with 1 worker answers "get a version by stage" at ≥ 1,000 requests/s on
loopback (DESIGN §6); listing versions is measured beside it.

    python benchmarks/bench_server.py             # print the table
    python benchmarks/bench_server.py --write     # also rewrite "## Server" in docs/benchmarks.md

The store (SQLite, 100 models × 100 versions = 10,000 versions, every model with a staging and a
production version) is built once through the SQL store and kept in ``--store-dir``. The server is
``modelplane server start`` (one uvicorn worker, access log off) in a child process; requests carry
a token stored in the database, so every request pays the token lookup. Each case is a bounded loop
of ``--requests`` calls after a warm-up: one client (``HttpMetadataStore``, keep-alive) in
sequence, for latency and requests/s; then ``--threads`` clients at once, for the throughput of
the one server worker. Exits 1 when the sequential get-by-stage rate is under budget.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

from report import write_section

MODELS = 100
VERSIONS_PER_MODEL = 100
BUDGET_RPS = 1000.0
SECTION = "## Server"
ROOT = Path(__file__).resolve().parents[1]


def build_store(folder: Path) -> tuple[str, str]:
    """The store URL and a stored token's secret (a new token per run)."""
    from modelplane.metadata.sql.store import SqlMetadataStore

    url = f"sqlite:///{folder / 'store.db'}"
    store = SqlMetadataStore(url)
    marker = folder / f"complete-{MODELS}x{VERSIONS_PER_MODEL}"
    if not marker.exists():
        started = time.perf_counter()
        for index in range(store.list_models(limit=1).total, MODELS):
            name = f"model_{index:03d}"
            store.create_model(name, tags=["bench"])
            for number in range(1, VERSIONS_PER_MODEL + 1):
                store.create_model_version(name, metadata={"accuracy": number / VERSIONS_PER_MODEL})
            store.set_stage(name, VERSIONS_PER_MODEL - 1, "production")
            store.set_stage(name, VERSIONS_PER_MODEL, "staging")
            if index % 10 == 9:
                print(f"  built {index + 1} models ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
        marker.touch()
    _, secret = store.create_token("bench")
    store.close()
    return url, secret


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(url: str, folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELPLANE_")}
    env["MODELPLANE_HOME"] = str(folder / "home")
    log = open(folder / "server.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [sys.executable, "-m", "modelplane", "server", "start", "--port", str(port), "--store-url", url,
         "--artifact-uri", str(folder / "artifacts"), "--no-access-log"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    import httpx

    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/health").status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the server did not start; see {folder / 'server.log'}")
        time.sleep(0.1)


def sequential(call: Callable[[int], object], requests: int) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p99 ms) of ``requests`` calls one after another."""
    for i in range(min(200, requests)):
        call(i)
    latencies = []
    started = time.perf_counter()
    for i in range(requests):
        t0 = time.perf_counter()
        call(i)
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return requests / elapsed, statistics.median(latencies) * 1000, p99 * 1000


def concurrent(make_call: Callable[[], Callable[[int], object]], requests: int, threads: int) -> float:
    """Requests/s of ``threads`` clients sharing ``requests`` calls."""
    calls = [make_call() for _ in range(threads)]
    for call in calls:
        call(0)
    barrier = threading.Barrier(threads + 1)

    def work(call: Callable[[int], object], count: int) -> None:
        barrier.wait()
        for i in range(count):
            call(i)

    workers = [threading.Thread(target=work, args=(c, requests // threads)) for c in calls]
    for worker in workers:
        worker.start()
    barrier.wait()
    started = time.perf_counter()
    for worker in workers:
        worker.join()
    return (requests // threads) * threads / (time.perf_counter() - started)


def run_cases(base: str, secret: str, requests: int, threads: int) -> list[tuple[str, tuple[float, float, float], float]]:
    from modelplane.metadata.http import HttpMetadataStore

    def by_stage() -> Callable[[int], object]:
        store = HttpMetadataStore(base, token=secret)
        return lambda i: store.get_model_version(f"model_{i % MODELS:03d}", "production")

    def listing() -> Callable[[int], object]:
        store = HttpMetadataStore(base, token=secret)
        return lambda i: store.list_model_versions(f"model_{i % MODELS:03d}", limit=50)

    rows = []
    for label, make in (("get version by stage", by_stage), ("list versions (50 per page)", listing)):
        rows.append((label, sequential(make(), requests), concurrent(make, requests, threads)))
    return rows


def render(rows: list[tuple[str, tuple[float, float, float], float]], requests: int, threads: int) -> str:
    load = f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "n/a"
    lines = [
        SECTION,
        "",
        f"`python benchmarks/bench_server.py --write` on {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs: `modelplane server start` "
        "(1 uvicorn worker, SQLite, access log off) on loopback, "
        f"{MODELS} models × {VERSIONS_PER_MODEL} versions, a stored token on every request, "
        f"{requests} requests per case after a warm-up. Budget: get a version by stage "
        f"≥ {BUDGET_RPS:.0f} requests/s (one client, in sequence). Load average when it ended: {load}.",
        "",
        f"| call | requests/s, 1 client | p50 | p99 | requests/s, {threads} clients |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, (rps, p50, p99), parallel in rows:
        lines.append(f"| {label} | {rps:.0f} | {p50:.2f} ms | {p99:.2f} ms | {parallel:.0f} |")
    lines += ["", NOTES]
    return "\n".join(lines) + "\n"


# What the figures above do not say by themselves (kept with the table when it is rewritten).
NOTES = """\
One client in sequence is under the budget. Two runs a few minutes apart at load 0.9 gave 588 and
796 requests/s (2026-12-03): the client and the server share two cores, so the one-client figure
moves with whatever else runs. Where a request's time goes, from a profile of the app in process
(`cProfile`, 1,000 get-by-stage requests): about 1.4 ms of server CPU, of which FastAPI's parameter
solving, validation and serialisation take most and the SQL query about 0.25 ms; the sequential
client adds about 0.5 ms of its own. The 1,133 requests/s once written here did not reproduce and
is withdrawn. Reaching 1,000 with one client needs a leaner route for the hot reads than FastAPI's
per-request dependency solving; that is open work (issue 9)."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per case (default 3000)")
    parser.add_argument("--threads", type=int, default=4, help="clients in the concurrent run (default 4)")
    parser.add_argument("--store-dir", type=Path, default=Path(tempfile.gettempdir()) / "modelplane-bench-server")
    parser.add_argument("--write", action="store_true", help="update the ## Server section of docs/benchmarks.md")
    args = parser.parse_args()
    args.store_dir.mkdir(parents=True, exist_ok=True)
    print(f"store: {args.store_dir} (building if needed)", file=sys.stderr)
    url, secret = build_store(args.store_dir)
    process, base = start_server(url, args.store_dir)
    try:
        rows = run_cases(base, secret, args.requests, args.threads)
    finally:
        process.terminate()
        process.wait(timeout=30)
    section = render(rows, args.requests, args.threads)
    print(section)
    if args.write:
        write_section(ROOT / "docs" / "benchmarks.md", SECTION, section)
    return 0 if rows[0][1][0] >= BUDGET_RPS else 1


if __name__ == "__main__":
    sys.exit(main())
