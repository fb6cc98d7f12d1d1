"""Delete stored items their authors deleted or moderators removed at the source, with their
scores, as Reddit's terms require (`dipwatch prune`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from collectors.base import Budget, CollectorError
from collectors.reddit import RedditCollector, prune_deleted
from dipwatch.store import Store


@dataclass
class PruneReport:
    """Items checked and removed; ``error`` when the source failed part way (run again to continue)."""

    checked: int = 0
    removed: int = 0
    error: CollectorError | None = None


def prune(store: Store, collector: RedditCollector, source: str, cutoff: datetime | None,
          budget: Budget) -> PruneReport:
    """Re-check ``source``'s stored items created before ``cutoff`` (all without one) in batches of
    100, deleting those gone at the source."""
    report = PruneReport()
    try:
        for batch in store.post_ids(source, created_before=cutoff):
            gone = prune_deleted(collector, batch, budget)
            report.removed += store.delete_posts(source, gone)
            report.checked += len(batch)
    except CollectorError as exc:
        report.error = exc
    return report
