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

Usage: python benchmarks/pg_import.py --db postgresql+psycopg://USER@HOST:PORT/DB [--rows N] [--rounds R]
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

# An import with Store.pg_copy set first (the seam that picks PostgreSQL's write path).
IMPORT = """
import sys
from dipwatch.store.bulk import BulkMixin
BulkMixin.pg_copy = sys.argv[1] == "copy"
from dipwatch.cli import cli
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("DIPWATCH_BENCH_PG"),
                        help="PostgreSQL SQLAlchemy URL of a database of its own")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if not args.db or not args.db.startswith("postgresql"):
        sys.exit("give a PostgreSQL URL with --db")
    with tempfile.TemporaryDirectory(prefix="dipwatch-pg-import-") as tmp:
        work = Path(tmp)
        path = work / "posts.csv"
        generate(path, args.rows)
        print(f"{args.rows:,} posts; cpus {len(os.sched_getaffinity(0))}, load average "
              f"{os.getloadavg()[0]:.2f} before", flush=True)
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
