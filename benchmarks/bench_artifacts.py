"""Budget: save + load of a 100 MB float64 array ≤ 1.3 x raw ``np.save`` + ``np.load`` (DESIGN §6).

Run: ``.venv/bin/python benchmarks/bench_artifacts.py [--mb 100] [--runs 5] [--dir PATH]``.
Both sides write to the same temporary folder; runs alternate so drift hits both equally.
Exits 1 when the ratio of the medians is over budget.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

import numpy as np

from modelplane.artifacts.io import load_value, save_value
from modelplane.artifacts.store import FsspecArtifactStore, new_artifact_id

BUDGET = 1.3


def raw_round_trip(array: np.ndarray, folder: str) -> float:
    path = os.path.join(folder, "raw.npy")
    start = time.perf_counter()
    np.save(path, array)
    loaded = np.load(path)
    elapsed = time.perf_counter() - start
    assert loaded.shape == array.shape
    os.remove(path)
    return elapsed


def modelplane_round_trip(array: np.ndarray, store: FsspecArtifactStore) -> float:
    artifact_id = new_artifact_id()
    start = time.perf_counter()
    saved = save_value(store, artifact_id, array)
    loaded = load_value(
        store,
        uri=saved.uri,
        materializer=saved.materializer,
        data_type=saved.data_type,
        size=saved.size,
        content_hash=saved.content_hash,
    )
    elapsed = time.perf_counter() - start
    assert loaded.shape == array.shape
    store.delete(saved.uri)
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=100, help="array size in MB (default 100)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per side (default 5)")
    parser.add_argument("--dir", default=None, help="folder to write in (default: a new temp dir)")
    parser.add_argument(
        "--hash", default=None, help="content hash algorithm (default: the store's)"
    )
    args = parser.parse_args(argv)

    array = np.random.default_rng(0).random(args.mb * 1_000_000 // 8)
    folder = tempfile.mkdtemp(prefix="bench-artifacts-", dir=args.dir)
    try:
        store = FsspecArtifactStore(os.path.join(folder, "store"), hash_algorithm=args.hash)
        raw_round_trip(array, folder)  # warm-up: page cache, first-touch allocation
        modelplane_round_trip(array, store)
        raw, ours = [], []
        for _ in range(args.runs):
            raw.append(raw_round_trip(array, folder))
            ours.append(modelplane_round_trip(array, store))
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    raw_median, ours_median = statistics.median(raw), statistics.median(ours)
    ratio = ours_median / raw_median
    print(
        f"array: {array.nbytes / 1e6:.0f} MB float64, {args.runs} runs, hash {store.hash_algorithm}"
    )
    print(f"raw np.save + np.load:     median {raw_median * 1000:7.1f} ms  {_runs(raw)}")
    print(f"save_value + load_value:   median {ours_median * 1000:7.1f} ms  {_runs(ours)}")
    verdict = "within" if ratio <= BUDGET else "OVER"
    print(f"ratio {ratio:.2f}x ({verdict} the {BUDGET}x budget)")
    return 0 if ratio <= BUDGET else 1


def _runs(times: list[float]) -> str:
    return "[" + ", ".join(f"{t * 1000:.1f}" for t in times) + "]"


if __name__ == "__main__":
    sys.exit(main())
