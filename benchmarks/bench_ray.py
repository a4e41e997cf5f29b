"""The Ray orchestrator against the local one, on an embedded SQLite store and a local artifact folder.

    python benchmarks/bench_ray.py                 # print the table
    python benchmarks/bench_ray.py --write         # also rewrite "## Ray" in docs/benchmarks.md
    python benchmarks/bench_ray.py --address HOST:PORT   # an existing cluster (then use shared stores)

Measures, with a local Ray started in this process (``num_cpus`` = the machine's cores):

* fan-out: one seed step, then ``--branches`` independent steps that each sleep 1 s. Locally that takes about ``branches`` seconds; on Ray about ``branches / cores``.
* per-step overhead: a chain of ``--steps`` trivial steps minus a 1-step pipeline, over
  ``steps - 1``, median of ``--repeats`` runs, after a warm-up run (worker processes started).
* cold start: the first Ray run of the process, Ray start-up included.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from report import write_section

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Ray"


def _timed(fn: Callable[[], Any]) -> float:
    begin = time.perf_counter()
    fn()
    return time.perf_counter() - begin


def measure(branches: int, steps: int, repeats: int, address: str | None) -> dict[str, float]:
    os.environ.setdefault("MODELPLANE_HOME", tempfile.mkdtemp(prefix="mp-bench-ray-"))
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    from modelplane import pipeline, step

    @step(enable_cache=False)
    def seed() -> int:
        return 1

    @step(enable_cache=False)
    def sleep_one_second(x: int) -> int:
        time.sleep(1.0)
        return x

    @step(enable_cache=False)
    def inc(x: int) -> int:
        return x + 1

    @pipeline(enable_cache=False)
    def fan_out():
        start = seed()
        for i in range(branches):
            sleep_one_second(start, id=f"sleep_{i}")

    @pipeline(enable_cache=False)
    def one_step():
        seed()

    @pipeline(enable_cache=False)
    def chain():
        x = seed()
        for _ in range(steps - 1):
            x = inc(x)

    import ray

    results: dict[str, float] = {}
    started = time.perf_counter()
    if address:
        ray.init(address=address)
    else:
        ray.init(num_cpus=os.cpu_count(), include_dashboard=False)
    results["ray_start"] = time.perf_counter() - started
    on_ray = {name: p.with_options(orchestrator="ray") for name, p in
              {"fan_out": fan_out, "one_step": one_step, "chain": chain}.items()}
    results["cold_one_step"] = _timed(on_ray["one_step"])  # first Ray run: worker processes start
    one_step(), chain()  # warm the local store and materializers too
    results["local_fan_out"] = _timed(fan_out)
    results["ray_fan_out_first"] = _timed(on_ray["fan_out"])  # may start more worker processes
    results["ray_fan_out"] = statistics.median(_timed(on_ray["fan_out"]) for _ in range(max(1, repeats // 2)))
    for label, runs in (("local", {"one_step": one_step, "chain": chain}), ("ray", on_ray)):
        runs["chain"]()  # warm-up
        single = statistics.median(_timed(runs["one_step"]) for _ in range(repeats))
        chained = statistics.median(_timed(runs["chain"]) for _ in range(repeats))
        results[f"{label}_one_step"] = single
        results[f"{label}_per_step"] = (chained - single) / (steps - 1)
    ray.shutdown()
    return results


def render(results: dict[str, float], branches: int, steps: int, repeats: int) -> str:
    cores = os.cpu_count() or 1
    ms = lambda seconds: f"{seconds * 1000:.1f} ms"  # noqa: E731
    rows = [
        (f"fan-out: {branches} independent 1 s steps (after one seed step)",
         f"{results['local_fan_out']:.1f} s", f"{results['ray_fan_out']:.1f} s (first run {results['ray_fan_out_first']:.1f} s)",
         f"≈ {branches} s locally, ≈ {branches / cores:.0f} s on Ray"),
        ("per-step overhead, chain of trivial steps", ms(results["local_per_step"]), ms(results["ray_per_step"]), "—"),
        ("fixed overhead, trivial 1-step pipeline", ms(results["local_one_step"]), ms(results["ray_one_step"]), "—"),
        ("first Ray run in a process (worker start-up)", "—", f"{results['cold_one_step']:.1f} s", "—"),
        ("starting a local Ray in-process (`ray.init()`)", "—", f"{results['ray_start']:.1f} s", "—"),
    ]
    lines = [
        SECTION,
        "",
        f"`python benchmarks/bench_ray.py`: a local Ray started in-process (num_cpus = {cores}), embedded "
        f"SQLite store, local artifact folder; {platform.machine()}, {cores} cores, Python "
        f"{platform.python_version()}. Medians of {repeats} runs (fan-out: {max(1, repeats // 2)}) after a warm-up run unless noted; per-step "
        f"overhead = (chain of {steps} − 1-step pipeline) / {steps - 1}. Load average when it ended: "
        f"{os.getloadavg()[0]:.1f}; the machine is shared, so millisecond figures vary by about ±50% between runs.",
        "",
        "| what | local | ray | expected |",
        "|---|---|---|---|",
        *[f"| {what} | {local} | {on_ray} | {expected} |" for what, local, on_ray, expected in rows],
        "",
        "Independent steps run at the same time on Ray, so the fan-out takes about branches / cores seconds",
        "plus the seed step. Each Ray step pays a task round trip, a worker that loads the plan,",
        "and its own metadata writes from another process, so trivial steps are much cheaper locally: use",
        "Ray for steps that take seconds or need other machines. The first Ray run of a driver process also",
        "starts that job's worker processes (imports of modelplane and the step's libraries).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--branches", type=int, default=16)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--address", help="join this Ray cluster instead of starting one")
    parser.add_argument("--write", action="store_true", help="update the ## Ray section of docs/benchmarks.md")
    args = parser.parse_args()
    results = measure(args.branches, args.steps, args.repeats, args.address)
    section = render(results, args.branches, args.steps, args.repeats)
    print(section)
    if args.write:
        write_section(ROOT / "docs" / "benchmarks.md", SECTION, section)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
