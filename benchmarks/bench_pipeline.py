"""Per-step and fixed overhead of the local orchestrator, on SQLite or a database server.

    python benchmarks/bench_pipeline.py [--repeats 7] [--store-url postgresql+psycopg://…] [--calls] [--model]

Prints medians of wall and CPU time (of this process): a trivial 1-step pipeline (fixed overhead
of one run, in-process, store warm) and a 50-step chain of trivial steps (per-step overhead =
(chain - one-step) / 49), and the load average. ``--model`` makes both pipelines name a model:
each run makes a new version of it and every step's output is linked to that version. Without ``--store-url`` the store is SQLite in a
temp dir; with one, the database is emptied of modelplane tables first (use a scratch database).
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
    parser.add_argument("--store-url", default=None, help="a database URL (default: SQLite)")
    parser.add_argument(
        "--calls", action="store_true",
        help="also count the Python function calls of a step (cProfile): a figure that reruns the same",
    )
    parser.add_argument(
        "--model", action="store_true", help="the pipelines name a model (a version per run, links)"
    )
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="mp-bench-")
    os.environ["MODELPLANE_HOME"] = home
    if args.store_url:
        import sqlalchemy as sa

        from modelplane.metadata.sql.tables import metadata

        engine = sa.create_engine(args.store_url)
        with engine.begin() as conn:
            metadata.drop_all(conn)
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        engine.dispose()
        os.environ["MODELPLANE_STORE_URL"] = args.store_url

    from modelplane import Model, pipeline, step

    model = Model(name="bench_model") if args.model else None

    @step(enable_cache=False)
    def inc(x: int) -> int:
        return x + 1

    @step(enable_cache=False)
    def start() -> int:
        return 0

    @pipeline(enable_cache=False, model=model)
    def one_step():
        start()

    @pipeline(enable_cache=False, model=model)
    def chain():
        x = start()
        for _ in range(args.steps - 1):
            x = inc(x)

    one_step()  # warm: creates the store, runs migrations, imports materializers
    chain()

    def timed(fn) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        return time.perf_counter() - wall, time.process_time() - cpu

    singles = [timed(one_step) for _ in range(args.repeats)]
    chains = [timed(chain) for _ in range(args.repeats)]
    store = args.store_url.split("://")[0] if args.store_url else "sqlite"
    print(f"store: {store}{', naming a model' if args.model else ''}; medians of {args.repeats} runs")
    for label, index in (("wall", 0), ("cpu", 1)):
        single = statistics.median(s[index] for s in singles)
        chained = statistics.median(c[index] for c in chains)
        per_step = (chained - single) / (args.steps - 1)
        print(
            f"{label}: fixed overhead, 1-step pipeline {single * 1000:.1f} ms; "
            f"{args.steps}-step chain {chained * 1000:.1f} ms; per-step overhead {per_step * 1000:.2f} ms"
        )
    if args.calls:
        import cProfile
        import pstats

        def calls(fn) -> int:
            profile = cProfile.Profile()
            profile.enable()
            fn()
            profile.disable()
            return pstats.Stats(profile).total_calls  # type: ignore[attr-defined]

        single, chained = calls(one_step), calls(chain)
        print(
            f"python calls: 1-step pipeline {single}; {args.steps}-step chain {chained}; "
            f"per step {(chained - single) / (args.steps - 1):.0f}"
        )
    print("load average: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
