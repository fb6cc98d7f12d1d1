"""Import a generated CSV of N posts (default 1,000,000) and print wall time, rows/s and peak memory.

Baselines, measured in the same run on the same file:
- a process that only reads the CSV with the standard library's csv.reader: the ratio says what
  parsing, validation, scoring and storing cost on top of reading;
- a process that only scores the file's N texts with vaderSentiment on one core (with the outage
  lexicon, as dipwatch scored before analysis.vader_fast): the goal is an import in at most half
  that time.

On this shared machine the same work's time moved by up to 1.8x within minutes (a fixed Python loop
took 0.75 s to 1.31 s), so the import and the vaderSentiment pass run in turn, ``--rounds`` times
(default 2), and the ratio is the best import against the best vaderSentiment pass; each round's own
ratio is printed too.

Peak memory is given twice: the largest single process (ru_maxrss), and the largest sum of the
resident memory of the import process and its scoring workers, sampled every 0.1 s (an upper
bound: pages the forked workers share with their parent are counted in each of them).
Usage: python benchmarks/import_1m.py [--rows N] [--rounds R] [--keep]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

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

VADER_ONLY = """
import csv, sys
from analysis.sentiment import _reference_scorer, _score_with
scorer = _reference_scorer()
with open(sys.argv[1], newline="", encoding="utf-8") as fh:
    rows = csv.reader(fh)
    next(rows)
    n = sum(1 for row in rows if _score_with(scorer, row[2]))
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


def run(args: list[str]) -> tuple[float, float, float]:
    """Run a command in a fresh process; return (wall seconds, peak RSS MiB of its largest process,
    peak RSS MiB summed over the process and its descendants)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, cwd=REPO)
    tree_peak = 0
    while process.poll() is None:
        tree_peak = max(tree_peak, tree_rss_kib(process.pid))
        time.sleep(0.1)
    wall = time.perf_counter() - started
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, args)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the max over all children so far; run the light baseline first.
    return wall, max(peak, before) / 1024, tree_peak / 1024


def tree_rss_kib(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants, in KiB (0 for a process that has gone)."""
    total = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return total
    return total + sum(tree_rss_kib(int(child)) for child in children)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2, help="runs of the import and the baseline")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dipwatch-bench-"))
    try:
        csv_path = work / "posts.csv"
        generate(csv_path, options.rows)
        size_mb = csv_path.stat().st_size / 2**20
        base_wall, base_peak, _ = run([sys.executable, "-c", READ_ONLY, str(csv_path)])
        imports, vaders, peak, tree_peak = [], [], 0.0, 0.0
        for round_ in range(options.rounds):
            vaders.append(run([sys.executable, "-c", VADER_ONLY, str(csv_path)])[0])
            db = work / f"bench{round_}.db"
            wall, round_peak, round_tree = run([sys.executable, "-m", "dipwatch.cli", "import",
                                                str(csv_path), "--brand", "acme", "--db", str(db)])
            imports.append(wall)
            peak, tree_peak = max(peak, round_peak), max(tree_peak, round_tree)
            print(f"round {round_ + 1}: vaderSentiment {vaders[-1]:.1f} s, import {wall:.1f} s: "
                  f"x{wall / vaders[-1]:.2f}", flush=True)
        wall, vader_wall = min(imports), min(vaders)
        rows = options.rows
        print(f"rows: {rows:,}  file: {size_mb:,.0f} MiB  cpus: {len(os.sched_getaffinity(0))}  "
              f"load average at the end: {os.getloadavg()[0]:.2f}")
        print(f"baseline csv.reader pass: {base_wall:8.1f} s  {rows / base_wall:12,.0f} rows/s"
              f"  peak {base_peak:7.0f} MiB")
        print(f"dipwatch import:          {wall:8.1f} s  {rows / wall:12,.0f} rows/s"
              f"  peak {peak:7.0f} MiB (largest process), {tree_peak:7.0f} MiB (import + workers)")
        print(f"ratio import/baseline:    time x{wall / base_wall:.1f}  peak memory x{peak / base_peak:.1f}")
        print(f"vaderSentiment alone, one core, on the same {rows:,} texts: {vader_wall:.1f} s "
              f"({rows / vader_wall:,.0f} posts/s)")
        print(f"best of {options.rounds}: import {wall:.1f} s, vaderSentiment {vader_wall:.1f} s")
        print(f"ratio import/vaderSentiment alone: {wall / vader_wall:.2f} (goal: at most 0.50)")
        print(f"database: {db.stat().st_size / 2**20:,.0f} MiB")
    finally:
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
