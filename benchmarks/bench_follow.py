"""How fast and how cheaply ``modelplane serve`` follows a stage (issue budget: a change noticed
and served within 2 s, with no failed request).

    python benchmarks/bench_follow.py [--promotions 10] [--poll-seconds 0.5]

On a fresh SQLite store in a temp dir: trains two iris versions, starts ``modelplane serve iris
--stage production`` as a process, keeps one client sending requests, and moves production back
and forth ``--promotions`` times. Prints the time from each ``set_stage`` returning to the first
answer from the new version (median and max), the failed requests, the CPU one stage check costs
(the store read the service makes every ``--poll-seconds``, timed in this process) and the CPU the
idle service spends following the stage.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROW = {"instances": [[5.1, 3.5, 1.4, 0.2]]}


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--promotions", type=int, default=10)
    parser.add_argument("--poll-seconds", type=float, default=0.5)
    args = parser.parse_args()
    os.environ["MODELPLANE_HOME"] = tempfile.mkdtemp(prefix="mp-bench-follow-")
    os.environ["MODELPLANE_LOGGING_VERBOSITY"] = "quiet"
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

    from typing import Annotated

    import httpx
    import pandas as pd
    from sklearn.base import ClassifierMixin
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    from modelplane import Model, pipeline, step
    from modelplane.client import Client

    @step(enable_cache=False)
    def train(c: float) -> Annotated[ClassifierMixin, "iris_classifier"]:
        frame: pd.DataFrame = load_iris(as_frame=True).frame
        return LogisticRegression(C=c, max_iter=500).fit(frame.drop(columns="target"), frame["target"])

    @pipeline(enable_cache=False, model=Model(name="iris"))
    def training(c: float) -> None:
        train(c)

    training(1.0)
    training(0.01)
    client = Client()
    client.set_stage("iris", 1, "production")

    checks = []
    for _ in range(5):
        began = time.process_time()
        for _ in range(1000):
            client.get_model_version("iris", "production")
        checks.append((time.process_time() - began) / 1000)

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    service = subprocess.Popen(
        [sys.executable, "-m", "modelplane", "serve", "iris", "--port", str(port),
         "--poll-seconds", str(args.poll_seconds)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        idle_from, idle_cpu = time.monotonic(), _cpu_seconds(service.pid)
        time.sleep(10)
        idle = (_cpu_seconds(service.pid) - idle_cpu) / (time.monotonic() - idle_from)

        answers: list[tuple[float, str | None]] = []
        failures: list[str] = []
        stop = threading.Event()

        def load() -> None:
            with httpx.Client(base_url=url, timeout=30) as http:
                while not stop.is_set():
                    try:
                        answer = http.post("/invocations", json=ROW)
                    except httpx.TransportError as exc:
                        failures.append(repr(exc))
                        continue
                    if answer.status_code != 200:
                        failures.append(answer.text)
                    answers.append((time.monotonic(), answer.headers.get("x-modelplane-model-version")))

        sender = threading.Thread(target=load, daemon=True)
        sender.start()
        delays = []
        for n in range(args.promotions):
            target = 2 if n % 2 == 0 else 1
            time.sleep(random.uniform(0.7, 1.3))  # not in step with the poll period
            client.set_stage("iris", target, "production", force=True)
            moved = time.monotonic()
            while not any(t >= moved and v == str(target) for t, v in answers[-200:]):
                time.sleep(0.01)
            delays.append(next(t for t, v in answers if t >= moved and v == str(target)) - moved)
        stop.set()
        sender.join()
    finally:
        service.terminate()
        service.wait(timeout=60)

    load_avg = os.getloadavg()[0]
    print(f"stage followed with --poll-seconds {args.poll_seconds} over {args.promotions} promotions "
          f"(load average {load_avg:.2f}):")
    print(f"  promotion → first answer from the new version: median {statistics.median(delays) * 1000:.0f} ms, "
          f"max {max(delays) * 1000:.0f} ms")
    print(f"  requests answered: {len(answers)}, failed: {len(failures)}")
    print(f"  one stage check (get_model_version on SQLite): {statistics.median(checks) * 1e6:.0f} µs CPU (median of 5 × 1000)")
    print(f"  idle service following the stage: {idle * 100:.2f} % of one core")


if __name__ == "__main__":
    main()
