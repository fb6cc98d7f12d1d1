"""PostgreSQL from an empty database: the write path's (source, post_id) lookup before any ANALYZE.

Stores batches of new posts with ``Store.save_posts`` into tables just created, with autovacuum off on
``posts`` (the minutes before autovacuum first analyzes a new table, made to last the whole run), and
times the whole save and the part spent in ``Store._row_ids``. Baseline, in the same run and on the
same batches: the lookup as it was before issue 20, ``source = :source AND post_id = ANY(:ids)``,
which without statistics was planned as a walk of every post of the source through the index.

Usage: python benchmarks/pg_fresh_lookup.py --db postgresql+psycopg://USER@HOST:PORT/DB
       [--batch 2000] [--batches 25]
The tables of the database are dropped first: give it a database of its own.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import sqlalchemy as sa  # noqa: E402

from dipwatch.core.records import Post  # noqa: E402
from dipwatch.store import ScoredPost, Store, metadata, posts  # noqa: E402

START = datetime(2026, 1, 1, tzinfo=UTC)


def before_issue_20(store: Store):
    """The lookup as it was: one ``= ANY`` over the whole list."""
    return sa.select(posts.c.post_id, posts.c.id).where(
        posts.c.source == sa.bindparam("source"), store._in_list(posts.c.post_id))


def measure(url: str, shape: str, size: int, count: int) -> tuple[float, float, float]:
    """Seconds to save ``count`` batches of ``size`` new posts, seconds of it in the lookup, and the
    last batch's lookups."""
    with Store(url) as old:
        metadata.drop_all(old.engine)
    store = Store(url)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE posts SET (autovacuum_enabled = false)")
    if shape == "before":
        store._row_ids_query = lambda: before_issue_20(store)
    spent: list[float] = []
    lookup = store._row_ids

    def timed(*args):
        began = time.perf_counter()
        try:
            return lookup(*args)
        finally:
            spent.append(time.perf_counter() - began)

    store._row_ids = timed
    store.ensure_brand("acme", "Acme", ["acme"], origin="import")
    began = time.perf_counter()
    for n in range(count):
        store.save_posts([ScoredPost(Post(source="reddit", post_id=f"t3_{i}", text="acme is down again",
                                          created_at=START + timedelta(seconds=i), author=None, url=None,
                                          engagement=0), None, [("acme", "acme")], (-0.5, 0.0, 0.5, 0.5))
                          for i in range(n * size, (n + 1) * size)], "scorer-1")
    total = time.perf_counter() - began
    metadata.drop_all(store.engine)
    store.close()
    return total, sum(spent), sum(spent[-2:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("DIPWATCH_TEST_PG"),
                        help="PostgreSQL SQLAlchemy URL of a database of its own")
    parser.add_argument("--batch", type=int, default=2000, help="posts per batch (a collector's page run)")
    parser.add_argument("--batches", type=int, default=25)
    args = parser.parse_args()
    if not args.db or not args.db.startswith("postgresql"):
        sys.exit("give a PostgreSQL URL with --db")
    print(f"{args.batches} batches of {args.batch:,} new posts into new tables, no statistics; "
          f"load average {os.getloadavg()[0]:.2f}")
    for shape in ("now", "before"):
        total, lookups, last = measure(args.db, shape, args.batch, args.batches)
        print(f"{shape:6s}: saving {total:6.1f} s, of which the lookup {lookups:6.1f} s; "
              f"the last batch's two lookups {last * 1000:6.0f} ms", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
