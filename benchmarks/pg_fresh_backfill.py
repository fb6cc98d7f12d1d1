"""`dipwatch backfill dump` into PostgreSQL with and without statistics: a fresh database against an
analyzed one (issue 20: the same 400k-line backfill took 13.5 s, 52.0 s and 23.5 s, as autovacuum
happened to analyze the new tables early, late or in between).

The same Reddit dump B (benchmarks/dask_backfill.py's generator, default 400,000 lines, about 10%
naming the brand) is backfilled on a Dask LocalCluster of one worker, timed, into:
- fresh: an empty database; the tables the backfill makes, with autovacuum off on each, so that no
  ANALYZE can happen during the run (the worst case of a new database);
- grown: a database already holding another dump A of the same size (other ids, later times), stored
  the same way with autovacuum off: as large as the next one, never analyzed;
- analyzed (the baseline): the database holding dump A, then ``ANALYZE``.
fresh and grown are compared with analyzed. grown and analyzed do the same work on tables of the same
size and differ only in their statistics; fresh writes into smaller tables than analyzed (so its ratio
leans its way: read it with grown's). Best of --repeat runs each.

Usage: python benchmarks/pg_fresh_backfill.py --db postgresql+psycopg://USER@HOST:PORT/DB [--lines N]
The tables of the database are dropped: give it a database of its own.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from dask_backfill import line  # noqa: E402

TABLES = ("posts", "mentions", "scores", "rollup", "voices", "brand_sources", "checkpoints", "runs")


def write_dump(path: Path, first: int, lines: int) -> None:
    rng = random.Random(first)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(first, first + lines):
            fh.write(json.dumps(line(rng, i)) + "\n")


def empty_store(url: str):
    """A Store on ``url`` with its tables made anew, autovacuum off on each."""
    from dipwatch.store import Store, metadata

    with Store(url) as old:
        metadata.drop_all(old.engine)
    store = Store(url)
    with store.engine.begin() as conn:
        for table in TABLES:
            conn.exec_driver_sql(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
    return store


def backfill(store, client, dump: Path) -> tuple[float, int]:
    from dipwatch.core.brands import Brand
    from dipwatch.jobs.backfill_dask import backfill_dumps

    brand = Brand(key="next", name="Next", terms=("Next",))
    began = time.perf_counter()
    report = backfill_dumps(store, client, brand, [dump], partition_bytes=8 * 2**20)
    assert report.status == "ok", report
    return time.perf_counter() - began, report.new


def posts_statistics(store) -> str:
    with store.engine.connect() as conn:
        reltuples, analyzed = conn.exec_driver_sql(
            "SELECT c.reltuples, coalesce(s.last_analyze, s.last_autoanalyze) IS NOT NULL FROM pg_class c "
            "JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.relname = 'posts'").one()
    return f"posts reltuples {reltuples:,.0f}, analyzed {'yes' if analyzed else 'no'}"


def main() -> None:
    from distributed import Client, LocalCluster

    from dipwatch.jobs.backfill_dask import NO_DASHBOARD
    from dipwatch.store import metadata

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("DIPWATCH_BENCH_PG"),
                        help="PostgreSQL SQLAlchemy URL of a database of its own")
    parser.add_argument("--lines", type=int, default=400_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    if not args.db or not args.db.startswith("postgresql"):
        sys.exit("give a PostgreSQL URL with --db")
    with tempfile.TemporaryDirectory(prefix="dipwatch-pg-backfill-") as tmp:
        dump_a, dump_b = Path(tmp) / "RC_a.ndjson", Path(tmp) / "RC_b.ndjson"
        write_dump(dump_b, 0, args.lines)
        write_dump(dump_a, args.lines, args.lines)
        print(f"dumps of {args.lines:,} lines each; cpus {len(os.sched_getaffinity(0))}, load average "
              f"{os.getloadavg()[0]:.2f} before", flush=True)
        with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                          scheduler_kwargs=NO_DASHBOARD) as cluster, Client(cluster) as client:
            best: dict[str, float] = {}
            for _ in range(args.repeat):
                for case in ("fresh", "grown", "analyzed"):
                    store = empty_store(args.db)
                    if case != "fresh":
                        backfill(store, client, dump_a)
                        if case == "analyzed":
                            with store.engine.begin() as conn:
                                conn.exec_driver_sql("ANALYZE")
                    state = posts_statistics(store)
                    seconds, new = backfill(store, client, dump_b)
                    print(f"{case:8s}: {seconds:6.1f} s, {new:,} posts stored ({state} at the start)",
                          flush=True)
                    best[case] = min(seconds, best.get(case, seconds))
                    metadata.drop_all(store.engine)
                    store.close()
    for case in ("fresh", "grown"):
        print(f"{case} / analyzed (baseline): {best[case]:.1f} s / {best['analyzed']:.1f} s = "
              f"x{best[case] / best['analyzed']:.2f} (goal: at most 1.5)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
