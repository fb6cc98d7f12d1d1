"""`dipwatch import` of the same N posts (default 200,000) into SQLite and into PostgreSQL: wall time and
the ratio PostgreSQL / SQLite (issue 20: 2.8x before PostgreSQL's bulk writes went by COPY).

Each round imports the generated CSV (benchmarks/import_1m.py's generator) into
- a new SQLite file (the baseline),
- PostgreSQL, tables dropped first, bulk writes by COPY (``Store.pg_copy``, the default),
- PostgreSQL, tables dropped first, bulk writes as executemany INSERTs (``pg_copy = False``: the
  write path before COPY),
each as its own ``dipwatch import`` process, in turn, ``--rounds`` times (this machine is shared:
the best of each counts, and each round's own ratios are printed too). Every import must store
exactly N posts.

With ``--fresh-vs-analyzed``, PostgreSQL only, with COPY: the same file B imported into a fresh
database against an analyzed one, as benchmarks/pg_fresh_backfill.py does for the backfill (fresh:
tables just made, autovacuum off; grown: holding another file A of N posts, never analyzed;
analyzed, the baseline: holding A, then ANALYZE).

Usage: python benchmarks/pg_import.py --db postgresql+psycopg://USER@HOST:PORT/DB [--rows N] [--rounds R]
       [--fresh-vs-analyzed]
The tables of the PostgreSQL database are dropped: give it a database of its own.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from import_1m import generate  # noqa: E402
from pg_fresh_backfill import empty_store, posts_statistics  # noqa: E402

# An import with Store.pg_copy set first (the seam that picks PostgreSQL's write path).
IMPORT = """
import sys
from dipwatch.store.bulk import BulkMixin
BulkMixin.pg_copy = sys.argv[1] == "copy"
from dipwatch.cli.main import cli
cli(sys.argv[2:])
"""


def drop_tables(url: str) -> None:
    from dipwatch.store import Store, metadata

    with Store(url) as store:
        metadata.drop_all(store.engine)


def stored(url: str) -> int:
    from dipwatch.store import Store

    with Store(url) as store:
        return store.count_posts()


def timed_import(path: Path, url: str, shape: str) -> float:
    began = time.perf_counter()
    subprocess.run([sys.executable, "-c", IMPORT, shape, "import", str(path), "--brand", "acme",
                    "--db", url], cwd=REPO, check=True, stdout=subprocess.DEVNULL,
                   env={**os.environ, "DIPWATCH_CONFIG": ""})
    return time.perf_counter() - began


def other_posts(path: Path, into: Path, rows: int) -> None:
    """``path``'s posts with other ids and times: file A, as large as B and after it."""
    with path.open(encoding="utf-8") as source, into.open("w", encoding="utf-8") as out:
        out.write(next(source))
        for line in source:
            post_id, created, rest = line.split(",", 2)
            out.write(f"q{post_id[1:]},{int(created) + 3 * rows},{rest}")


def fresh_vs_analyzed(path: Path, url: str, rows: int, rounds: int) -> None:
    """The three cases in turn, ``rounds`` times, each round in another order (a busy machine's load
    drifts within minutes: the order would favour the last case); the best of each counts."""
    other = path.with_name("other.csv")
    other_posts(path, other, rows)
    best: dict[str, float] = {}
    cases = ["analyzed", "grown", "fresh"]
    for round_ in range(rounds):
        for case in cases[round_ % 3:] + cases[: round_ % 3]:
            seconds = import_case(path, other, url, rows, case)
            best[case] = min(seconds, best.get(case, seconds))
    drop_tables(url)
    for case in ("fresh", "grown"):
        print(f"best of {rounds}: {case} / analyzed (baseline): {best[case]:.1f} s / "
              f"{best['analyzed']:.1f} s = x{best[case] / best['analyzed']:.2f} (goal: at most 1.5)")


def import_case(path: Path, other: Path, url: str, rows: int, case: str) -> float:
    """Seconds to import ``path`` into the database of ``case`` (see the module's docstring)."""
    store = empty_store(url)
    if case != "fresh":
        timed_import(other, url, "copy")
        if case == "analyzed":
            with store.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
    state = posts_statistics(store)
    store.close()
    seconds = timed_import(path, url, "copy")
    assert stored(url) == rows * (1 if case == "fresh" else 2)
    print(f"{case:8s}: import of {rows:,} posts {seconds:6.1f} s ({state} at the start; load average "
          f"{os.getloadavg()[0]:.2f} after)", flush=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("DIPWATCH_BENCH_PG"),
                        help="PostgreSQL SQLAlchemy URL of a database of its own")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--fresh-vs-analyzed", action="store_true",
                        help="compare a fresh PostgreSQL database with an analyzed one instead")
    args = parser.parse_args()
    if not args.db or not args.db.startswith("postgresql"):
        sys.exit("give a PostgreSQL URL with --db")
    with tempfile.TemporaryDirectory(prefix="dipwatch-pg-import-") as tmp:
        work = Path(tmp)
        path = work / "posts.csv"
        generate(path, args.rows)
        print(f"{args.rows:,} posts; cpus {len(os.sched_getaffinity(0))}, load average "
              f"{os.getloadavg()[0]:.2f} before", flush=True)
        if args.fresh_vs_analyzed:
            fresh_vs_analyzed(path, args.db, args.rows, args.rounds)
            print(f"load average after: {os.getloadavg()[0]:.2f}")
            return
        best: dict[str, float] = {}
        for round_ in range(args.rounds):
            seconds = {}
            sqlite = f"sqlite:///{work / f'round{round_}.db'}"
            seconds["sqlite"] = timed_import(path, sqlite, "copy")
            assert stored(sqlite) == args.rows
            for shape in ("copy", "executemany"):
                drop_tables(args.db)
                seconds[shape] = timed_import(path, args.db, shape)
                assert stored(args.db) == args.rows
            print(f"round {round_ + 1}: SQLite {seconds['sqlite']:.1f} s; PostgreSQL COPY "
                  f"{seconds['copy']:.1f} s (x{seconds['copy'] / seconds['sqlite']:.2f}), executemany "
                  f"{seconds['executemany']:.1f} s (x{seconds['executemany'] / seconds['sqlite']:.2f})",
                  flush=True)
            best = {k: min(v, best.get(k, v)) for k, v in seconds.items()}
        drop_tables(args.db)
    print(f"best of {args.rounds}: SQLite (baseline) {best['sqlite']:.1f} s, "
          f"{args.rows / best['sqlite']:,.0f} posts/s")
    for shape in ("copy", "executemany"):
        print(f"best of {args.rounds}: PostgreSQL {shape:11s} {best[shape]:.1f} s, "
              f"{args.rows / best[shape]:,.0f} posts/s: x{best[shape] / best['sqlite']:.2f} of SQLite")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
