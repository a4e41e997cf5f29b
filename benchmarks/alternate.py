"""Whole-process CPU time of a script on this checkout and on another, run alternately.

    git worktree add /tmp/before <commit>
    python benchmarks/alternate.py benchmarks/one_step_pipeline.py --other /tmp/before/src [--runs 21]

The machine's speed drifts by 1.5-2x within an hour, so a figure measured at another time is no
baseline: this runs the script under each ``src`` in turn (``PYTHONPATH``), each with its own
store (``MODELPLANE_HOME`` in a temp dir, made by three warm-up runs), and prints the median and
quartiles of the child processes' CPU time (user + system) and the load average.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def _cpu_ms(command: list[str], env: dict[str, str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, env=env, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("script", help="the Python script to run as a whole process")
    parser.add_argument("--other", required=True, help="the src folder of the other checkout")
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    base["MODELPLANE_LOGGING_VERBOSITY"] = "quiet"
    scratch = Path(tempfile.mkdtemp(prefix="mp-alternate-"))
    base.setdefault("PYTHONPYCACHEPREFIX", str(scratch / "pycache"))  # bytecode cached, as users run
    trees = {"this checkout": str(Path(__file__).resolve().parents[1] / "src"), "other": args.other}
    envs = {
        name: {**base, "PYTHONPATH": src, "MODELPLANE_HOME": str(scratch / f"home{i}")}
        for i, (name, src) in enumerate(trees.items())
    }
    command = [sys.executable, args.script]
    for env in envs.values():
        for _ in range(3):
            subprocess.run(command, env=env, check=True, capture_output=True)
    cpu: dict[str, list[float]] = {name: [] for name in trees}
    for _ in range(args.runs):
        for name, env in envs.items():
            cpu[name].append(_cpu_ms(command, env))
    for name, values in cpu.items():
        values.sort()
        quarter = len(values) // 4
        print(
            f"{name}: median {statistics.median(values):.0f} ms CPU, quartiles "
            f"{values[quarter]:.0f}-{values[-quarter - 1]:.0f} ({args.runs} runs)"
        )
    print("load average: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
