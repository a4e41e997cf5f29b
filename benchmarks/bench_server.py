"""Budget: a server with 1 worker answers "get a version by stage" at ≥ 1,000 requests/s on
loopback (DESIGN §6); listing versions is measured beside it.

    python benchmarks/bench_server.py             # print the table
    python benchmarks/bench_server.py --write     # also rewrite "## Server" in docs/benchmarks.md

The store (SQLite, 100 models × 100 versions = 10,000 versions, every model with a staging and a
production version) is built once through the SQL store and kept in ``--store-dir``. The server is
``modelplane server start`` (one uvicorn worker, access log off) in a child process; requests carry
a token stored in the database, so every request pays the token lookup. Each case is a bounded loop
of ``--requests`` calls after a warm-up: one client in sequence, for latency and requests/s; then
``--threads`` clients at once, for the throughput of the one server worker.

Each call is made by two clients: a bare HTTP/1.1 keep-alive client (``http.client``), whose
figure is the server's, and modelplane's own ``HttpMetadataStore`` (httpx, records), whose figure
is what a Python user sees. The CPU time the server process and the client used per request is
given beside them (the server's from ``/proc``), since requests/s of one client in sequence moves
with whatever else shares the machine. Exits 1 when the sequential get-by-stage rate of the bare
client is under budget."""

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

from report import write_table_section

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


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) the server process has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def plain_get(base: str, secret: str, path: Callable[[int], str]) -> Callable[[int], object]:
    """A bare HTTP/1.1 keep-alive client (the standard library's ``http.client``), reading each
    answer as JSON: what a load balancer's health check or a light script costs, so the figure is
    the server's rather than the Python client's."""
    import http.client
    import json

    host, _, port = base.removeprefix("http://").partition(":")
    conn = http.client.HTTPConnection(host, int(port))
    headers = {"Authorization": f"Bearer {secret}"}

    def call(i: int) -> object:
        conn.request("GET", path(i), headers=headers)
        answer = conn.getresponse()
        body = answer.read()
        if answer.status != 200:
            raise SystemExit(f"GET {path(i)} answered {answer.status}: {body[:200]!r}")
        return json.loads(body)

    return call


Case = tuple[str, tuple[float, float, float], float, float, float]


def run_cases(base: str, secret: str, requests: int, threads: int, pid: int) -> list[Case]:
    from modelplane.metadata.http import HttpMetadataStore

    def stage_path(i: int) -> str:
        return f"/api/v1/models/model_{i % MODELS:03d}/versions/production"

    def list_path(i: int) -> str:
        return f"/api/v1/models/model_{i % MODELS:03d}/versions?limit=50"

    def by_stage() -> Callable[[int], object]:
        store = HttpMetadataStore(base, token=secret)
        return lambda i: store.get_model_version(f"model_{i % MODELS:03d}", "production")

    def listing() -> Callable[[int], object]:
        store = HttpMetadataStore(base, token=secret)
        return lambda i: store.list_model_versions(f"model_{i % MODELS:03d}", limit=50)

    cases: list[tuple[str, Callable[[], Callable[[int], object]]]] = [
        ("get version by stage, plain HTTP client", lambda: plain_get(base, secret, stage_path)),
        ("get version by stage, `HttpMetadataStore`", by_stage),
        ("list versions (50 per page), plain HTTP client", lambda: plain_get(base, secret, list_path)),
        ("list versions (50 per page), `HttpMetadataStore`", listing),
    ]
    rows = []
    for label, make in cases:
        call = make()
        server_before, client_before = server_cpu(pid), time.process_time()
        timing = sequential(call, requests)
        served = requests + min(200, requests)  # the warm-up calls count in the CPU used
        server_ms = (server_cpu(pid) - server_before) / served * 1000
        client_ms = (time.process_time() - client_before) / served * 1000
        rows.append((label, timing, concurrent(make, requests, threads), server_ms, client_ms))
    return rows


def render(rows: list[Case], requests: int, threads: int) -> str:
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
        f"| call | requests/s, 1 client | p50 | p99 | server CPU / request | client CPU / request "
        f"| requests/s, {threads} clients |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, (rps, p50, p99), parallel, server_ms, client_ms in rows:
        lines.append(
            f"| {label} | {rps:.0f} | {p50:.2f} ms | {p99:.2f} ms | {server_ms:.2f} ms "
            f"| {client_ms:.2f} ms | {parallel:.0f} |"
        )
    return "\n".join(lines) + "\n"




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
        rows = run_cases(base, secret, args.requests, args.threads, process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)
    section = render(rows, args.requests, args.threads)
    print(section)
    if args.write:
        write_table_section(ROOT / "docs" / "benchmarks.md", SECTION, section)
    return 0 if rows[0][1][0] >= BUDGET_RPS else 1


if __name__ == "__main__":
    sys.exit(main())
