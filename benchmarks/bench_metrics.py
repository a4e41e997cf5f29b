"""CPU and wall time of logging 10,000 metric points from one step (budget: ≤ 0.3 s CPU added).

    python benchmarks/bench_metrics.py [--repeats 7] [--points 10000] [--store-url URL]

Runs a 1-step pipeline that logs ``--points`` points of one series with ``log_metrics`` and the
same pipeline logging none, on a fresh SQLite store in a temp dir (or ``--store-url``, a scratch
database), and prints the medians of the difference in this process's CPU and wall time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--store-url", default=None)
    args = parser.parse_args()
    os.environ["MODELPLANE_HOME"] = tempfile.mkdtemp(prefix="mp-bench-metrics-")
    os.environ["MODELPLANE_LOGGING_VERBOSITY"] = "quiet"
    if args.store_url:
        os.environ["MODELPLANE_STORE_URL"] = args.store_url

    from modelplane import Model, log_metrics, pipeline, step

    @step(enable_cache=False)
    def train(points: int) -> int:
        for i in range(points):
            log_metrics({"loss": 1.0 / (i + 1)})
        return points

    @pipeline(model=Model(name="bench_metrics"), enable_cache=False)
    def logging_pipeline(points: int) -> None:
        train(points)

    logging_pipeline(0)  # warm: store, migrations, imports

    def timed(points: int) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        logging_pipeline(points)
        return time.perf_counter() - wall, time.process_time() - cpu

    empty = [timed(0) for _ in range(args.repeats)]
    full = [timed(args.points) for _ in range(args.repeats)]
    store = args.store_url.split("://")[0] if args.store_url else "sqlite"
    print(f"store: {store}; {args.points} points; medians of {args.repeats} runs")
    for label, index in (("wall", 0), ("cpu", 1)):
        added = statistics.median(f[index] for f in full) - statistics.median(e[index] for e in empty)
        print(f"{label}: logging added {added:.3f} s ({added / args.points * 1e6:.1f} µs a point)")
    print("load average: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
