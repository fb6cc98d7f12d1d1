"""Backfill a brand from Reddit dump files on a Dask cluster.

Workers read partitions (:mod:`collectors.dumps`), keep the lines that mention the brand, score them
(``analysis.sentiment.score_texts``) and send back compact records; this process alone writes them to the
store (SQLite or PostgreSQL), a partition at a time, with the checkpoint ``dump:<file>:<start>-<end>``
in the transaction of its last batch. A re-run skips the partitions marked done and stores nothing twice;
a run cut off mid-partition reads that partition again and the store drops the posts it already has.

On a remote cluster (``tcp://HOST:PORT``) every worker needs dipwatch installed and the dump files at the
same paths as this process sees them (a shared file system). A worker holds the matches of the partition
it reads until it sends them: for a zstd file, which is one partition, that is every match in the file.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import NamedTuple

from distributed import Client, LocalCluster, as_completed

from analysis.sentiment import selected_scorer
from collectors.dumps import SOURCE, BadLine, Partition, partitions, scan_partition
from dipwatch.core.brands import Brand
from dipwatch.core.records import Checkpoint, Post
from dipwatch.jobs.ingest import author_hash
from dipwatch.store import ScoredPost, Store

DONE = "done"
STORE_BATCH = 2000  # posts per transaction
PARTITION_BYTES = 64 * 2**20
SHOWN_BAD = 20
# Without a dashboard the scheduler still serves its health and metrics routes, on port 8787 by default
# (distributed 2026.8), and warns when another cluster holds it: a free port on localhost instead.
NO_DASHBOARD = {"dashboard_address": "127.0.0.1:0"}


class Matched(NamedTuple):
    """A matching post as a worker sends it: the Post's fields, the matched term and the score."""

    post_id: str
    created: float  # epoch seconds
    text: str
    kind: str
    author: str | None
    url: str | None
    parent_id: str | None
    engagement: int | None
    term: str
    score: tuple[float, float, float, float]  # compound, pos, neu, neg

    def to_post(self) -> Post:
        return Post(source=SOURCE, post_id=self.post_id, created_at=datetime.fromtimestamp(self.created, UTC),
                    text=self.text, kind=self.kind, author=self.author, url=self.url,
                    parent_id=self.parent_id, engagement=self.engagement)


@dataclass
class PartitionResult:
    """What a worker sends back for one partition."""

    key: str
    lines: int
    bad: int
    bad_lines: list[BadLine]
    error: str | None
    scorer: str  # the worker's scorer id: a remote worker may run another version of the scorer
    records: list[Matched]


@dataclass
class DumpBackfillReport:
    """What a dump backfill did, over all its partitions."""

    status: str = "ok"  # ok | partial (a partition failed: run again to retry it)
    partitions: int = 0
    skipped: int = 0  # done by an earlier run
    lines: int = 0
    matched: int = 0
    new: int = 0
    bad: int = 0
    bad_lines: list[BadLine] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def counts(self) -> dict:
        return {"partitions": self.partitions, "skipped": self.skipped, "lines": self.lines,
                "matched": self.matched, "new": self.new, "bad_lines": self.bad,
                "failed": len(self.errors)}


def score_partition(partition: Partition, brand: Brand, scorer: str = "model") -> PartitionResult:
    """Read, match and score one partition (runs on a worker) with ``scorer`` (the name the client's
    process chose: a worker on another host reads neither its config nor its environment)."""
    from analysis.sentiment import score_texts, scorer_id, use_scorer

    use_scorer(scorer)
    scan = scan_partition(partition, brand)
    # One process per worker already: a pool inside a worker would fight the cluster for the cores.
    scores = score_texts((post.text for post, _ in scan.matches), processes=1)
    records = [
        Matched(post.post_id, post.created_at.timestamp(), post.text, post.kind, post.author, post.url,
                post.parent_id, post.engagement, term, s.row)
        for (post, term), s in zip(scan.matches, scores, strict=True)
    ]
    return PartitionResult(partition.key, scan.lines, scan.bad, scan.bad_lines, scan.error, scorer_id(),
                           records)


def plan(paths: Sequence[str | Path], partition_bytes: int = PARTITION_BYTES) -> list[Partition]:
    """Every partition of every file, in order.

    :raises collectors.base.InputError: a file is missing or not a dump.
    """
    return [part for path in paths for part in partitions(path, partition_bytes)]


def backfill_dumps(store: Store, client: Client, brand: Brand, paths: Sequence[str | Path],
                   partition_bytes: int = PARTITION_BYTES) -> DumpBackfillReport:
    """Store the posts and comments of the dump files at ``paths`` that mention ``brand``, scored.

    :param client: a Dask client; its workers do the reading and scoring.
    :param partition_bytes: the size of the byte ranges a plain file is cut into (zstd files are whole).
    :raises collectors.base.InputError: a file is missing or not a dump (nothing is read).
    """
    started = datetime.now(UTC)
    parts = plan(paths, partition_bytes)
    done = store.get_checkpoints(SOURCE, brand.key)
    todo = [p for p in parts if done.get(p.key) != DONE]
    report = DumpBackfillReport(partitions=len(parts), skipped=len(parts) - len(todo))
    salt = store.get_meta("author_salt")
    # Only what matching needs travels to the workers (not the alert rules or source settings).
    slim = Brand(key=brand.key, name=brand.name, terms=brand.terms, exclude=brand.exclude)
    scorer = selected_scorer()
    # A bounded number of partitions in flight, so neither the workers nor this process hold the
    # results of a whole month of dumps at once.
    window = max(2, 2 * sum(client.nthreads().values()))
    queue = iter(todo)
    running: dict = {}  # future: partition
    for part in islice(queue, window):
        running[client.submit(score_partition, part, slim, scorer, pure=False)] = part
    finished = as_completed(list(running))
    for future in finished:
        part = running.pop(future)
        try:
            result = future.result()
        except Exception as exc:  # a worker died or lacks the file: the others go on
            report.errors.append(f"{part.name} bytes {part.start}-{part.end}: {type(exc).__name__}: {exc}")
        else:
            _save(store, brand, salt, result, report)
        future.release()
        for nxt in islice(queue, 1):
            added = client.submit(score_partition, nxt, slim, scorer, pure=False)
            running[added] = nxt
            finished.add(added)
    if report.errors:
        report.status = "partial"
    names = ", ".join(dict.fromkeys(p.name for p in parts))
    store.record_run("backfill", SOURCE, brand.key, started, report.status, report.counts(),
                     message="; ".join(report.errors[:3]) or f"dumps: {names}")
    return report


def _save(store: Store, brand: Brand, salt: str, result: PartitionResult, report: DumpBackfillReport
          ) -> None:
    report.lines += result.lines
    report.bad += result.bad
    report.bad_lines.extend(result.bad_lines[: SHOWN_BAD - len(report.bad_lines)])
    report.matched += len(result.records)
    if result.error:
        report.errors.append(result.error)
    # A partition read only in part is stored without its checkpoint: the next run reads it again.
    checkpoint = Checkpoint(SOURCE, brand.key, result.key, DONE) if result.error is None else None
    records = result.records
    for start in range(0, max(len(records), 1), STORE_BATCH):
        batch = records[start : start + STORE_BATCH]
        last = start + STORE_BATCH >= len(records)
        items = []
        for record in batch:
            post = record.to_post()
            items.append(ScoredPost(post, author_hash(salt, post.author), [(brand.key, record.term)],
                                    record.score))
        report.new += store.save_posts(items, result.scorer, checkpoint if last else None).new


@contextmanager
def open_client(scheduler: str | None = None, workers: int = 2) -> Iterator[Client]:
    """A Dask client: on the cluster at ``scheduler`` (``tcp://HOST:PORT``), else on a local cluster of
    ``workers`` single-threaded processes (no dashboard: nothing listens on port 8787)."""
    if scheduler:
        with Client(scheduler, timeout=30) as client:
            yield client
        return
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                      scheduler_kwargs=NO_DASHBOARD, silence_logs=logging.ERROR) as cluster, \
            Client(cluster) as client:
        yield client
