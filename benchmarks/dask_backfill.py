"""`dipwatch backfill dump` throughput: lines read per second on a Dask LocalCluster of 1 and of 2 workers.

Generates a Reddit dump of N lines (default 200,000: a fifth submissions, four fifths comments, with the
fields of Pushshift's monthly files, about 10% naming the brand "Next", some "Nextdoor" that must not
count), in two layouts:
- one uncompressed file, cut into byte ranges of --partition-mb (so two workers can share one file);
- four zstd files (``--long=31``, as Pushshift compresses), each read whole by one worker.

Each layout is backfilled into a fresh SQLite store on 1 worker (the baseline) and then on 2 workers, in
the same run; the time covers reading, matching, scoring and storing, not starting the cluster (each
cluster is warmed up on a small dump first), best of --repeat runs. The ratio is 2-worker lines/s over
1-worker lines/s. The CPU seconds of the workers and of this process (which stores) are printed too: on
a machine that other work keeps busy the wall-clock ratio drops while the CPU seconds stay put.
Usage: python benchmarks/dask_backfill.py [--lines N] [--partition-mb MB] [--repeat R]
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

WORDS = ["site", "down", "again", "can't", "log", "in", "checkout", "failing", "great", "prices", "delivery",
         "late", "love", "the", "app", "refund", "please", "working", "finally", "back", "up", "terrible",
         "service", "staff", "were", "lovely", "weather", "today", "and", "my", "cat"]
MENTIONS = ("Next", "next.co.uk", "NEXT", "Next's")
START = 1_714_521_600  # 2024-05-01T00:00:00Z


def line(rng: random.Random, i: int) -> dict:
    words = rng.choices(WORDS, k=rng.randint(6, 40))
    roll = rng.random()
    if roll < 0.10:
        words.insert(rng.randrange(len(words)), rng.choice(MENTIONS))
    elif roll < 0.12:
        words.insert(rng.randrange(len(words)), "Nextdoor")
    text = " ".join(words)
    common = {"id": f"b{i:x}", "author": f"user{rng.randrange(50_000)}", "created_utc": START + i,
              "subreddit": "unitedkingdom", "subreddit_id": "t5_2qhqb", "score": rng.randint(-5, 200),
              "retrieved_on": START + 86_400, "gilded": 0, "edited": False, "distinguished": None,
              "author_flair_text": None, "author_flair_css_class": None}
    if i % 5 == 0:
        cut = max(1, len(words) // 4)
        return {**common, "title": " ".join(words[:cut]), "selftext": " ".join(words[cut:]),
                "num_comments": rng.randrange(100), "permalink": f"/r/unitedkingdom/comments/b{i:x}/t/",
                "over_18": False, "is_self": True, "url": f"https://www.reddit.com/r/unitedkingdom/b{i:x}"}
    link = f"t3_b{(i - i % 5):x}"
    return {**common, "body": text, "link_id": link, "parent_id": link, "controversiality": 0,
            "score_hidden": False, "archived": False}


def generate(directory: Path, lines: int) -> tuple[Path, list[Path], Path, int]:
    """The plain dump, the four zstd parts, a small warm-up dump and the number of lines naming the brand."""
    import zstandard

    from collectors.dumps import line_to_post
    from dipwatch.core.brands import Brand

    brand = Brand(key="next", name="Next", terms=("Next",))
    rng = random.Random(7)
    items = [json.dumps(line(rng, i)) + "\n" for i in range(lines)]
    matching = sum(1 for item in items if brand.match(line_to_post(json.loads(item)).text))
    plain = directory / "RC_2024-05.ndjson"
    plain.write_text("".join(items), encoding="utf-8")
    warmup = directory / "RC_warmup.ndjson"
    warmup.write_text("".join(items[:400]), encoding="utf-8")
    params = zstandard.ZstdCompressionParameters.from_level(3, window_log=31, enable_ldm=True,
                                                           write_content_size=False)
    parts = []
    quarter = -(-lines // 4)
    for k in range(4):
        compressor = zstandard.ZstdCompressor(compression_params=params).compressobj()
        data = "".join(items[k * quarter : (k + 1) * quarter]).encode()
        path = directory / f"RC_2024-05.part{k}.zst"
        path.write_bytes(compressor.compress(data) + compressor.flush())
        parts.append(path)
    return plain, parts, warmup, matching


def run(directory: Path, workers: int, paths: list[Path], partition_bytes: int, warmup: Path,
        repeat: int) -> tuple:
    """(wall seconds, workers' CPU seconds, this process's CPU seconds, report) of the fastest of
    ``repeat`` backfills, each into a new store."""
    from distributed import Client, LocalCluster

    from dipwatch.core.brands import Brand
    from dipwatch.jobs.backfill_dask import NO_DASHBOARD, backfill_dumps
    from dipwatch.store import Store

    brand = Brand(key="next", name="Next", terms=("Next",))
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                      scheduler_kwargs=NO_DASHBOARD) as cluster, Client(cluster) as client:
        with Store(f"sqlite:///{directory / f'warm{workers}.db'}") as store:
            backfill_dumps(store, client, brand, [warmup], partition_bytes=max(1, warmup.stat().st_size // 4))
        best = None
        for _ in range(repeat):
            db = directory / f"bench{workers}-{time.monotonic_ns()}.db"
            with Store(f"sqlite:///{db}") as store:
                cpu = client.run(time.process_time)
                began, own = time.perf_counter(), time.process_time()
                report = backfill_dumps(store, client, brand, paths, partition_bytes)
                seconds, own = time.perf_counter() - began, time.process_time() - own
                used = sum(client.run(time.process_time).values()) - sum(cpu.values())
            if best is None or seconds < best[0]:
                best = (seconds, used, own, report)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--partition-mb", type=float, default=8.0,
                        help="byte ranges of the plain file (default 8 MiB: a dozen ranges at 200,000 lines)")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each measurement; the fastest counts")
    args = parser.parse_args()
    partition_bytes = int(args.partition_mb * 2**20)
    with tempfile.TemporaryDirectory(prefix="dipwatch-dask-bench-") as tmp:
        directory = Path(tmp)
        began = time.perf_counter()
        plain, parts, warmup, matching = generate(directory, args.lines)
        size = plain.stat().st_size / 2**20
        packed = sum(p.stat().st_size for p in parts) / 2**20
        print(f"dump: {args.lines:,} lines, {matching:,} naming Next ({matching / args.lines:.1%}); "
              f"plain {size:.1f} MiB, zstd {packed:.1f} MiB in 4 files; generated in "
              f"{time.perf_counter() - began:.1f} s; cpus {os.cpu_count()}, load average "
              f"{os.getloadavg()[0]:.2f} before")
        for layout, paths in [(f"plain, byte ranges of {args.partition_mb:g} MiB", [plain]),
                              ("zstd, 4 files", parts)]:
            rates = {}
            for workers in (1, 2):
                seconds, used, own, report = run(directory, workers, paths, partition_bytes, warmup,
                                                 args.repeat)
                assert report.matched == report.new == matching, (report.matched, report.new, matching)
                assert report.lines == args.lines
                assert report.status == "ok"
                rates[workers] = args.lines / seconds
                print(f"{layout}: {workers} worker{'s' if workers > 1 else ''}: {seconds:.2f} s, "
                      f"{rates[workers]:,.0f} lines/s ({report.partitions} partitions, "
                      f"{report.new:,} stored; CPU s: workers {used:.2f}, storing process {own:.2f})")
            print(f"{layout}: 2 workers / 1 worker (baseline) = {rates[2] / rates[1]:.2f}x")
        print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
