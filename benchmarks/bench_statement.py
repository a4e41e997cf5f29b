"""What one indexed lookup costs in Python: through SQLAlchemy's execution, through
``metadata/sql/direct.py``, and on the driver alone (SQLite in a temp dir, inside one transaction).

    python benchmarks/bench_statement.py [--calls 5000] [--repeats 5]

Prints the median over ``--repeats`` of the CPU microseconds per call of each, and the cost of an
empty read and an empty write transaction (``engine.begin()``), which every store call pays.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable


def per_call(fn: Callable[[], object], calls: int) -> float:
    started = time.process_time()
    for _ in range(calls):
        fn()
    return (time.process_time() - started) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    import sqlalchemy as sa

    from modelplane.metadata.sql import direct
    from modelplane.metadata.sql.store import SqlMetadataStore
    from modelplane.metadata.sql.tables import step_runs

    store = SqlMetadataStore(f"sqlite:///{tempfile.mkdtemp(prefix='mp-bench-stmt-')}/store.db")
    engine, write_engine = store._engine, store._write_engine
    lookup = sa.select(step_runs.c.id, step_runs.c.created).where(
        step_runs.c.id == sa.bindparam("id")
    )
    sql = str(lookup.compile(dialect=engine.dialect))
    results: dict[str, list[float]] = {}

    def measure(label: str, fn: Callable[[], object], calls: int) -> None:
        results.setdefault(label, []).append(per_call(fn, calls))

    for _ in range(args.repeats):
        with engine.begin() as conn:
            driver = conn.connection.driver_connection
            measure("SQLAlchemy conn.execute(select).first()",
                    lambda: conn.execute(lookup, {"id": "x"}).first(), args.calls)
            measure("direct.first(conn, select)",
                    lambda: direct.first(conn, lookup, {"id": "x"}), args.calls)
            measure("the driver's execute().fetchone()",
                    lambda: driver.execute(sql, ("x",)).fetchone(), args.calls)  # type: ignore[union-attr]

        def empty(on: sa.Engine) -> Callable[[], None]:
            def run() -> None:
                with on.begin():
                    pass

            return run

        measure("empty read transaction (engine.begin())", empty(engine), args.calls // 5)
        measure("empty write transaction (BEGIN IMMEDIATE)", empty(write_engine), args.calls // 5)
    store.close()
    print(f"medians of {args.repeats} repeats, CPU µs per call")
    for label, values in results.items():
        print(f"  {statistics.median(values):7.1f}  {label}")
    print("load average: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
