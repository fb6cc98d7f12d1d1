"""Backfill from the Arctic Shift archive: a brand's posts and comments in a subreddit between two
times, stored under the live reddit source's ids (`dipwatch backfill reddit`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from collectors.arcticshift import make_arcticshift
from collectors.base import BudgetExceededError, CollectorError, SourceUnavailableError
from dipwatch.core.records import Checkpoint
from dipwatch.jobs.ingest import save_batch


@dataclass
class BackfillReport:
    """What a backfill did: items read per kind, matched (kept), new, and how it ended."""

    status: str = "ok"  # ok | partial | failed
    read: dict[str, int] = field(default_factory=lambda: {"posts": 0, "comments": 0})
    kept: int = 0
    new: int = 0
    error: str | None = None

    def counts(self) -> dict:
        return {"posts_read": self.read["posts"], "comments_read": self.read["comments"], "kept": self.kept,
                "new": self.new}


def backfill(store, brand, subreddit: str, start: datetime, end: datetime, source_settings: Mapping,
             budget, env: Mapping[str, str]) -> BackfillReport:
    """Store ``brand``'s posts and comments in ``subreddit`` created in ``[start, end)``, from Arctic Shift.

    Resumable: each page is stored with the checkpoint ``backfill:<subreddit>:<start>:<end>`` in one
    transaction, so a run killed or out of budget continues where it stopped; items land in source
    ``reddit`` under the live collector's ids, so nothing already collected is stored twice.

    :raises SourceUnavailableError: for bad ``[sources.arcticshift]`` settings or a refusing service.
    """
    collector = make_arcticshift(source_settings, env)
    report = BackfillReport(read=collector.read)
    started = datetime.now(UTC)
    salt = store.get_meta("author_salt")
    checkpoints = store.get_checkpoints(collector.name, brand.key)
    first, last = int(start.timestamp()), int(end.timestamp())
    try:
        for page in collector.backfill_pages(brand, subreddit, first, last, checkpoints, budget):
            checkpoint = Checkpoint(collector.name, brand.key, *page.checkpoint) if page.checkpoint else None
            result = save_batch(store, [(post, [(brand.key, term)]) for post, term in page.posts], salt,
                                checkpoint)
            report.kept += len(page.posts)
            report.new += result.new
    except BudgetExceededError as exc:
        report.status, report.error = "partial", str(exc)
    except SourceUnavailableError as exc:
        if exc.missing_config:
            raise
        report.status, report.error = "failed", str(exc)
    except CollectorError as exc:
        report.status, report.error = "failed", str(exc)
    span = f"arcticshift r/{subreddit} {start.isoformat()}..{end.isoformat()}"
    store.record_run("backfill", collector.name, brand.key, started, report.status, report.counts(),
                     message=report.error or span)
    return report
