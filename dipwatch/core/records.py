"""The records every layer shares: a Post (what every collector yields and the store keeps), an
Outage window, a collector's Checkpoint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

KINDS = ("post", "comment", "review")


@dataclass(frozen=True, slots=True)
class Post:
    """One public post or comment, as a collector found it.

    :param source: where it came from (``reddit``, ``file``, a label given to ``dipwatch import``).
    :param post_id: the id the source gives it; unique within ``source``.
    :param created_at: when it was posted, timezone-aware (converted to UTC on creation).
    :param text: the post's text, as written.
    :param kind: ``post``, ``comment`` or ``review``.
    :param author: the author's name as the source gives it; the store keeps only a salted hash.
    :param url: a link to the original, if any.
    :param parent_id: the ``post_id`` of the post this one answers, if any.
    :param engagement: the source's score, likes or upvotes, if any.
    :param rating: a star rating (1-5) where the source has one (app reviews).
    """

    source: str
    post_id: str
    created_at: datetime
    text: str
    kind: str = "post"
    author: str | None = None
    url: str | None = None
    parent_id: str | None = None
    engagement: int | None = None
    rating: int | None = None

    def __reduce__(self):
        # Pickled as its fields (an import spools its posts to a temporary file): the generic
        # pickling of a slotted dataclass looks up its fields for every post, and cost a third of
        # the spool's time.
        return (Post, (self.source, self.post_id, self.created_at, self.text, self.kind, self.author,
                       self.url, self.parent_id, self.engagement, self.rating))

    def __post_init__(self) -> None:
        if self.created_at.tzinfo is None:
            raise ValueError(f"post {self.post_id!r}: created_at must be timezone-aware")
        if self.kind not in KINDS:
            raise ValueError(f"post {self.post_id!r}: kind must be one of {KINDS}, not {self.kind!r}")
        object.__setattr__(self, "created_at", self.created_at.astimezone(UTC))


@dataclass(frozen=True)
class Outage:
    """One outage window of a brand; ``end`` is None while it is ongoing; ``origin`` is manual,
    statuspage or detected."""

    id: int
    brand: str
    start: datetime
    end: datetime | None
    label: str
    severity: str
    origin: str
    external_id: str | None = None


@dataclass(frozen=True)
class Checkpoint:
    """How far a collector got for one (source, brand, query); ``cursor`` is the source's own."""

    source: str
    brand: str
    query: str
    cursor: str
