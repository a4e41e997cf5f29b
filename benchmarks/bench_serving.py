"""`modelplane serve` beside `mlflow models serve` on the same iris model, in one run (issue 12:
goal ≥ 3× MLflow's requests/s).

    python benchmarks/bench_serving.py [--seconds 5] [--repeats 5] [--rows 1,100] [--estimator pipeline]

MLflow is not a dependency: it is installed in a venv of its own (``--mlflow-venv``, default
``benchmarks/.mlflow-venv``, created on first use and reused after) with the scikit-learn, pandas,
NumPy and SciPy versions of this interpreter, so both servers unpickle the same estimator.

One ``LogisticRegression`` (``--estimator pipeline``: after a ``StandardScaler``, in a
scikit-learn ``Pipeline``) is fitted on the iris DataFrame by a modelplane pipeline in a temp
``MODELPLANE_HOME`` (its version goes to production, with the input signature the step records);
the same fitted object, pickled, is saved by ``mlflow.sklearn.save_model`` in the MLflow venv with
a signature inferred from the same DataFrame, so both servers check requests against the columns.
Both servers run at once, one worker each, as each is installed and configured by default:
``modelplane serve iris --stage production`` (uvicorn with uvloop and httptools, no access log)
and ``mlflow models serve --env-manager local -w 1`` (uvicorn in MLflow 3.17.2, with asyncio and
h11 and an access log, as ``pip install mlflow`` has it; ``--mlflow-extra`` and
``--mlflow-no-access-log`` even that out).

Clients are separate processes (spawned once, reused), each with one keep-alive
``http.client`` connection: a lighter client than httpx, outside the benchmark's own GIL, so the
2-core machine gives the server as much as it can. Each case (server × body × clients) runs for
``--seconds`` with every client sending ``dataframe_split`` requests back to back; the cases are
interleaved per repetition so that a change in the machine's load hits both servers alike.
Printed per case, as medians over repetitions: requests/s, p50 and p99 latency, and the server's
CPU time per request (utime + stime of the server's process tree from ``/proc``, before and
after), which moves less than wall throughput on a shared machine; then modelplane ÷ MLflow.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import pickle
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MLFLOW_VERSION = "3.17.2"  # 3.18.0 needs an mlflow-tracing release PyPI did not have (2026-12)
MATCHED = ("scikit-learn", "pandas", "numpy", "scipy")  # pinned to this interpreter's versions
COLUMNS = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
GOAL = 3.0
TICKS = os.sysconf("SC_CLK_TCK")

# Run by the MLflow venv's interpreter: the pickled estimator as an MLflow model.
SAVE_MLFLOW_MODEL = """
import pickle, sys
import mlflow.sklearn
from mlflow.models import infer_signature
from sklearn.datasets import load_iris
with open(sys.argv[1], "rb") as f:
    estimator = pickle.load(f)
frame = load_iris(as_frame=True).frame[%r]
mlflow.sklearn.save_model(estimator, sys.argv[2], signature=infer_signature(frame, estimator.predict(frame)))
""" % (COLUMNS,)


# -- setup ---------------------------------------------------------------------------------------
def mlflow_venv(folder: Path, extras: list[str]) -> tuple[Path, str, float]:
    """The MLflow venv's python, what was done, and how long it took."""
    began = time.perf_counter()
    python = folder / "bin" / "python"
    pins = [f"mlflow=={MLFLOW_VERSION}"] + [f"{name}=={metadata.version(name)}" for name in MATCHED]
    pins += [f"{name}=={metadata.version(name)}" for name in extras]
    marker = folder / "installed.txt"
    if marker.exists() and marker.read_text().split() == pins:
        return python, "reused", time.perf_counter() - began
    print(f"creating {folder}: pip install {' '.join(pins)}", file=sys.stderr)
    venv.EnvBuilder(clear=True, with_pip=True).create(folder)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", *pins], check=True)
    marker.write_text("\n".join(pins) + "\n")
    return python, "created", time.perf_counter() - began


def train_modelplane_version(home: Path, estimator: str) -> Any:
    """Fit the classifier in a modelplane pipeline, promote version 1 of ``iris`` to production,
    and return the estimator as the store holds it."""
    os.environ["MODELPLANE_HOME"] = str(home)
    from typing import Annotated

    import pandas as pd
    from sklearn.base import BaseEstimator
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from modelplane import pipeline, step
    from modelplane.client import Client
    from modelplane.model import Model

    @step
    def load() -> Annotated[pd.DataFrame, "iris_data"]:
        return load_iris(as_frame=True).frame

    @step
    def train(data: pd.DataFrame, kind: str) -> Annotated[BaseEstimator, "iris_classifier"]:
        model = LogisticRegression(max_iter=500)
        if kind == "pipeline":
            model = make_pipeline(StandardScaler(), model)
        return model.fit(data[COLUMNS], data["target"])

    @pipeline(enable_cache=False, model=Model(name="iris"))
    def train_iris(kind: str) -> None:
        train(data=load(), kind=kind)

    train_iris(kind=estimator)
    client = Client()
    client.set_stage("iris", 1, "production")
    link = client.list_artifact_links("iris", 1, kind="model").items[0]
    return client.load_artifact_version(link.artifact_version)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(command: list[str], env: dict[str, str], log: Path, port: int, probe: str) -> tuple[subprocess.Popen[bytes], float]:
    """Start a server and wait until ``probe`` answers 200; the process and how long it took."""
    began = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{command[0]} exited; see {log}:\n{log.read_text()[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", probe)
            if conn.getresponse().status == 200:
                return process, time.perf_counter() - began
        except OSError:
            pass
        time.sleep(0.1)
    process.terminate()
    raise SystemExit(f"{command[0]} did not answer {probe} within 180 s; see {log}")


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of ``pid`` and every live descendant."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = (int(fields[11]) + int(fields[12])) / TICKS
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += times.get(current, 0.0)
        todo += [child for child, parent in parents.items() if parent == current]
    return total


# -- the load ------------------------------------------------------------------------------------
def client_loop(port: int, body: bytes, start_at: float, seconds: float) -> tuple[list[float], int, float]:
    """In a client process: requests back to back from ``start_at`` for ``seconds``; the
    latencies, the failures and this process's CPU seconds."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json"}

    def call() -> bool:
        conn.request("POST", "/invocations", body=body, headers=headers)
        answer = conn.getresponse()
        answer.read()
        return answer.status == 200

    for _ in range(20):  # warm-up, and the connection opened
        call()
    time.sleep(max(0.0, start_at - time.monotonic()))
    latencies, failures = [], 0
    cpu = time.process_time()
    end = start_at + seconds
    clock = time.perf_counter
    while time.monotonic() < end:
        t0 = clock()
        failures += not call()
        latencies.append(clock() - t0)
    conn.close()
    return latencies, failures, time.process_time() - cpu


def run_case(pool: Any, server: dict[str, Any], body: bytes, clients: int, seconds: float) -> dict[str, float]:
    start_at = time.monotonic() + 1.0  # every client connected and warmed up by then
    pending = pool.starmap_async(
        client_loop, [(server["port"], body, start_at, seconds)] * clients, chunksize=1
    )
    time.sleep(max(0.0, start_at - time.monotonic()))
    cpu, began = tree_cpu(server["pid"]), time.perf_counter()
    results = pending.get()
    elapsed, cpu = time.perf_counter() - began, tree_cpu(server["pid"]) - cpu
    latencies = sorted(t for result in results for t in result[0])
    failures = sum(result[1] for result in results)
    if failures:
        raise SystemExit(f"{server['name']}: {failures} of {len(latencies)} requests failed")
    return {
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "cpu": cpu / len(latencies) * 1000,
        "client_cpu": sum(result[2] for result in results) / len(latencies) * 1000,
    }


def request_body(frame: Any, rows: int) -> bytes:
    import json

    data = frame[COLUMNS].iloc[[i % len(frame) for i in range(0, rows * 37, 37)]].values.tolist()
    return json.dumps({"dataframe_split": {"columns": COLUMNS, "data": data}}).encode()


def same_answers(servers: list[dict[str, Any]], body: bytes) -> list[Any]:
    import json

    answers = []
    for server in servers:
        conn = http.client.HTTPConnection("127.0.0.1", server["port"], timeout=60)
        conn.request("POST", "/invocations", body=body, headers={"Content-Type": "application/json"})
        answers.append(json.loads(conn.getresponse().read())["predictions"])
        conn.close()
    if any(answer != answers[0] for answer in answers):
        raise SystemExit(f"the servers answer differently: {answers}")
    return answers[0]


# -- the run -------------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one case (default 5)")
    parser.add_argument("--repeats", type=int, default=5, help="repetitions of every case (default 5)")
    parser.add_argument("--rows", default="1,100", help="rows per request, comma-separated (default 1,100)")
    parser.add_argument("--clients", default="1,4", help="client counts, comma-separated (default 1,4)")
    parser.add_argument(
        "--estimator", choices=("logistic", "pipeline"), default="logistic",
        help="LogisticRegression (default), or StandardScaler + LogisticRegression in a Pipeline, "
        "which modelplane serves through its DataFrame path",
    )
    parser.add_argument("--mlflow-venv", type=Path, default=ROOT / "benchmarks" / ".mlflow-venv")
    parser.add_argument(
        "--mlflow-extra", action="append", default=[], metavar="PACKAGE",
        help="also install PACKAGE in the MLflow venv, at this interpreter's version (e.g. uvloop, "
        "httptools: modelplane[serve] has them, `pip install mlflow` does not); use another --mlflow-venv",
    )
    parser.add_argument(
        "--mlflow-no-access-log", action="store_true",
        help="turn uvicorn's access log off for MLflow too (modelplane serve has it off)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (logs, store)")
    args = parser.parse_args()
    rows_list = [int(r) for r in args.rows.split(",")]
    client_counts = [int(c) for c in args.clients.split(",")]

    python, done, setup = mlflow_venv(args.mlflow_venv, args.mlflow_extra)
    print(f"command: python {' '.join(sys.argv)}")
    print(f"MLflow venv {done} in {setup:.1f} s ({args.mlflow_venv}; extras: "
          f"{', '.join(args.mlflow_extra) or 'none'}; access log {'off' if args.mlflow_no_access_log else 'on'})")
    version = subprocess.run(
        [str(python), "-c", "import mlflow; print(mlflow.__version__)"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()

    folder = Path(tempfile.mkdtemp(prefix="mp-bench-serving-"))
    began = time.perf_counter()
    estimator = train_modelplane_version(folder / "home", args.estimator)
    (folder / "model.pkl").write_bytes(pickle.dumps(estimator))
    subprocess.run(
        [str(python), "-c", SAVE_MLFLOW_MODEL, str(folder / "model.pkl"), str(folder / "mlflow-model")],
        check=True, capture_output=True,
    )
    print(f"trained one {type(estimator).__name__}, saved in both in {time.perf_counter() - began:.1f} s")

    env = {k: v for k, v in os.environ.items() if not k.startswith(("MODELPLANE_", "MLFLOW_"))}
    env["MODELPLANE_HOME"] = str(folder / "home")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    mlflow_env = {k: v for k, v in env.items() if k not in ("PYTHONPATH", "MODELPLANE_HOME")}
    mlflow_env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    if args.mlflow_no_access_log:
        mlflow_env["UVICORN_ACCESS_LOG"] = "false"  # uvicorn's CLI reads UVICORN_* options
    servers: list[dict[str, Any]] = []
    ports = free_port(), free_port()
    commands = [
        ("modelplane", [sys.executable, "-m", "modelplane", "serve", "iris", "--stage", "production",
                        "--port", str(ports[0]), "--workers", "1"], env, "/ready"),
        (f"MLflow {version}", [str(python.parent / "mlflow"), "models", "serve", "-m",
                               str(folder / "mlflow-model"), "--env-manager", "local", "--host",
                               "127.0.0.1", "--port", str(ports[1]), "-w", "1"], mlflow_env, "/ping"),
    ]  # fmt: skip
    try:
        for (name, command, server_env, probe), port in zip(commands, ports):
            process, took = start(command, server_env, folder / f"{name.split()[0]}.log", port, probe)
            servers.append({"name": name, "port": port, "pid": process.pid, "process": process})
            print(f"{name} answers {probe} after {took:.1f} s (pid {process.pid})")
        frame = __import__("sklearn.datasets").datasets.load_iris(as_frame=True).frame
        bodies = {rows: request_body(frame, rows) for rows in rows_list}
        for body in bodies.values():
            same_answers(servers, body)
        print("both servers answer the same predictions\n")

        context = multiprocessing.get_context("spawn")
        results: dict[tuple[str, int, int], list[dict[str, float]]] = {}
        with context.Pool(max(client_counts)) as pool:
            for repeat in range(args.repeats):
                for rows, body in bodies.items():
                    for clients in client_counts:
                        for server in servers if repeat % 2 == 0 else servers[::-1]:
                            figures = run_case(pool, server, body, clients, args.seconds)
                            results.setdefault((server["name"], rows, clients), []).append(figures)
                print(f"  repetition {repeat + 1}/{args.repeats} done; load {os.getloadavg()[0]:.2f}",
                      file=sys.stderr)
    finally:
        for server in servers:
            server["process"].terminate()
        for server in servers:
            try:
                server["process"].wait(timeout=30)
            except subprocess.TimeoutExpired:
                server["process"].kill()
    report(results, servers, rows_list, client_counts, args)
    if not args.keep:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    else:
        print(f"kept {folder}")
    return 0


def report(results: dict[tuple[str, int, int], list[dict[str, float]]], servers: list[dict[str, Any]],
           rows_list: list[int], client_counts: list[int], args: argparse.Namespace) -> None:
    def median(name: str, rows: int, clients: int, key: str) -> float:
        return statistics.median(r[key] for r in results[(name, rows, clients)])

    print(f"medians of {args.repeats} runs of {args.seconds:g} s per case; CPU = server process tree "
          "per request; client CPU = the client processes' per request")
    print("| server | rows | clients | requests/s | p50 ms | p99 ms | server CPU ms/request | client CPU ms/request |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for rows in rows_list:
        for clients in client_counts:
            for server in servers:
                name = server["name"]
                m = {key: median(name, rows, clients, key) for key in ("rps", "p50", "p99", "cpu", "client_cpu")}
                print(f"| {name} | {rows} | {clients} | {m['rps']:.0f} | {m['p50']:.2f} | {m['p99']:.2f} "
                      f"| {m['cpu']:.3f} | {m['client_cpu']:.3f} |")
    print()
    ours, theirs = servers[0]["name"], servers[1]["name"]
    for rows in rows_list:
        for clients in client_counts:
            ratios = [a["rps"] / b["rps"] for a, b in zip(results[(ours, rows, clients)], results[(theirs, rows, clients)])]
            cpu = median(theirs, rows, clients, "cpu") / median(ours, rows, clients, "cpu")
            rps = statistics.median(ratios)
            print(f"{rows} row(s), {clients} client(s): requests/s modelplane ÷ MLflow {rps:.2f}× "
                  f"(per repetition {min(ratios):.2f}–{max(ratios):.2f}×); server CPU per request "
                  f"MLflow ÷ modelplane {cpu:.2f}×; goal ≥ {GOAL:g}×: {'met' if rps >= GOAL else 'NOT met'}")
    print("load average: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    sys.exit(main())
