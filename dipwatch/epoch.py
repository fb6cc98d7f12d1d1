"""Times as the store keeps them: integer seconds since the epoch, UTC.

Its own module, free of SQLAlchemy, so that ``dipwatch.store_lite`` (``dipwatch status``) shares it.
"""

from __future__ import annotations

from datetime import UTC, datetime


def to_epoch(when: datetime) -> int:
    if when.tzinfo is None:
        raise ValueError("naive datetime given to the store; times must be timezone-aware")
    return int(when.timestamp())


def from_epoch(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)
