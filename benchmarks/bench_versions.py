"""Get a model version by number and by stage, and the first page of the version list, with 10,000
versions of one model on an embedded SQLite store, in-process.

    python benchmarks/bench_versions.py [--versions 10000] [--repeats 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--versions", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--store-url", default=None)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="mp-bench-")
    os.environ["MODELPLANE_HOME"] = home
    if args.store_url:
        os.environ["MODELPLANE_STORE_URL"] = args.store_url

    from modelplane.client import Client

    client = Client()
    client.create_model("bench")
    begin = time.perf_counter()
    for _ in range(args.versions):
        client.create_model_version("bench")
    created = time.perf_counter() - begin
    client.set_stage("bench", args.versions // 2, "production")
    client.set_stage("bench", args.versions - 3, "staging")

    def median_ms(fn) -> float:
        samples = []
        for _ in range(args.repeats):
            begin = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - begin)
        return statistics.median(samples) * 1000

    print(f"created {args.versions} versions in {created:.1f} s ({created / args.versions * 1000:.2f} ms each)")
    print(f"get by number:   {median_ms(lambda: client.get_model_version('bench', 4321)):.3f} ms (budget 2 ms)")
    print(f"get by stage:    {median_ms(lambda: client.get_model_version('bench', 'production')):.3f} ms (budget 2 ms)")
    print(f"get latest:      {median_ms(lambda: client.get_model_version('bench', 'latest')):.3f} ms")
    print(f"list first page: {median_ms(lambda: client.list_model_versions('bench', limit=50)):.3f} ms (budget 50 ms)")


if __name__ == "__main__":
    main()
