"""Start-up latency of the CLI: `dipwatch --help` and `dipwatch status` against a bare interpreter.

Baseline, measured in the same run: `python -c pass` (the interpreter's own start-up). Prints the
median of N runs of each and the ratio. Usage: python benchmarks/startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(args: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    cli = [sys.executable, "-c", "from dipwatch.cli.main import main; main()"]
    with tempfile.TemporaryDirectory() as work:
        db = str(Path(work) / "startup.db")
        subprocess.run([*cli, "status", "--db", db], check=True, stdout=subprocess.DEVNULL)
        base = timed([sys.executable, "-c", "pass"], runs)
        cases = {"dipwatch --help": [*cli, "--help"], "dipwatch status": [*cli, "status", "--db", db],
                 "import pandas (for scale)": [sys.executable, "-c", "import pandas"]}
        print(f"baseline python -c pass: {base * 1000:7.0f} ms")
        for name, args in cases.items():
            took = timed(args, runs)
            print(f"{name:<26} {took * 1000:7.0f} ms  x{took / base:.1f} baseline  "
                  f"({(took - base) * 1000:.0f} ms above it)")


if __name__ == "__main__":
    main()
