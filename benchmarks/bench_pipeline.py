"""Per-step and fixed overhead of the local orchestrator on an embedded SQLite store.

    python benchmarks/bench_pipeline.py [--repeats 7]

Prints medians: a trivial 1-step pipeline (fixed overhead of one run, in-process, store warm) and
a 50-step chain of trivial steps (per-step overhead = (chain - one-step) / 49).
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
    parser.add_argument("--steps", type=int, default=50)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="mp-bench-")
    os.environ["MODELPLANE_HOME"] = home

    from modelplane import pipeline, step

    @step(enable_cache=False)
    def inc(x: int) -> int:
        return x + 1

    @step(enable_cache=False)
    def start() -> int:
        return 0

    @pipeline(enable_cache=False)
    def one_step():
        start()

    @pipeline(enable_cache=False)
    def chain():
        x = start()
        for _ in range(args.steps - 1):
            x = inc(x)

    one_step()  # warm: creates the store, runs migrations, imports materializers
    chain()

    def timed(fn) -> float:
        begin = time.perf_counter()
        fn()
        return time.perf_counter() - begin

    single = statistics.median(timed(one_step) for _ in range(args.repeats))
    chained = statistics.median(timed(chain) for _ in range(args.repeats))
    per_step = (chained - single) / (args.steps - 1)
    print(f"fixed overhead, 1-step pipeline: {single * 1000:.1f} ms (budget 30 ms)")
    print(f"{args.steps}-step chain: {chained * 1000:.1f} ms")
    print(f"per-step overhead: {per_step * 1000:.2f} ms (budget 3 ms)")


if __name__ == "__main__":
    main()
