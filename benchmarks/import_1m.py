"""Import a generated CSV of N posts (default 1,000,000) and print wall time, rows/s and peak memory.

Baseline, measured in the same run on the same file: a process that only reads the CSV with the
standard library's csv.reader. The ratios say what parsing, validation, scoring and storing cost on
top of reading. Usage: python benchmarks/import_1m.py [--rows N] [--keep]
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SENTENCE = (
    "site down again can't log in checkout failing great prices delivery late love the app "
    "refund please working again finally back up terrible service staff were lovely"
)
WORDS = SENTENCE.split(" ")

READ_ONLY = """
import csv, sys
with open(sys.argv[1], newline="", encoding="utf-8") as fh:
    n = sum(1 for _ in csv.reader(fh))
print(n)
"""


def generate(path: Path, rows: int) -> None:
    rng = random.Random(7)
    start = 1_760_000_000
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "created_at", "text", "author", "engagement"])
        for i in range(rows):
            text = "Acme " + " ".join(rng.choices(WORDS, k=rng.randint(6, 18)))
            writer.writerow([f"p{i}", start + i * 3, text, f"user{rng.randint(1, 50_000)}",
                             rng.randint(0, 200)])


def run(args: list[str]) -> tuple[float, float]:
    """Run a command in a fresh process; return (wall seconds, peak RSS MiB of that process)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the max over all children so far; run the light baseline first.
    return wall, max(peak, before) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dipwatch-bench-"))
    try:
        csv_path = work / "posts.csv"
        generate(csv_path, options.rows)
        size_mb = csv_path.stat().st_size / 2**20
        base_wall, base_peak = run([sys.executable, "-c", READ_ONLY, str(csv_path)])
        db = work / "bench.db"
        wall, peak = run([sys.executable, "-m", "dipwatch.cli", "import", str(csv_path),
                          "--brand", "acme", "--db", str(db)])
        print(f"rows: {options.rows:,}  file: {size_mb:,.0f} MiB")
        print(f"baseline csv.reader pass: {base_wall:8.1f} s  {options.rows / base_wall:12,.0f} rows/s"
              f"  peak {base_peak:7.0f} MiB")
        print(f"dipwatch import:          {wall:8.1f} s  {options.rows / wall:12,.0f} rows/s"
              f"  peak {peak:7.0f} MiB")
        print(f"ratio import/baseline:    time x{wall / base_wall:.1f}  peak memory x{peak / base_peak:.1f}")
        print(f"database: {db.stat().st_size / 2**20:,.0f} MiB")
    finally:
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
