"""The records the store takes and gives: posts to store (ScoredPost, PostRow), outage windows,
checkpoints, the result of a save, and the store's error."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from dipwatch.core.errors import UserError
from dipwatch.core.records import Outage, Post
from dipwatch.core.times import from_epoch, to_epoch
from dipwatch.store.tables import LABEL_POSITIVE, ROLLUP_NEGATIVE


class StoreError(UserError):
    """The database cannot be used as it is (wrong schema version, unreachable)."""


@dataclass(frozen=True)
class ScoredPost:
    """A post ready to store: its author hash, the brands it mentions and, if new, its score."""

    post: Post
    author_hash: str | None
    mentions: Sequence[tuple[str, str]]  # (brand key, matched term)
    score: tuple[float, ...] | None = None  # compound, pos, neu, neg[, p_negative, p_neutral, p_positive]

    def row(self) -> PostRow:
        return PostRow.of(self.post, self.author_hash, self.mentions, self.score)


# The probabilities of a score given as VADER's four numbers only: its label, certain.
_CERTAIN = {"negative": (1.0, 0.0, 0.0), "neutral": (0.0, 1.0, 0.0), "positive": (0.0, 0.0, 1.0)}


def full_score(score: Sequence[float]) -> tuple:
    """A score as stored: (compound, pos, neu, neg, p_negative, p_neutral, p_positive, counted 0/1);
    one given as VADER's four numbers gets its label as certain probabilities, counted if negative."""
    if len(score) == 8:
        return (*score[:7], int(score[7]))
    compound = score[0]
    label = ("negative" if compound <= ROLLUP_NEGATIVE else "positive" if compound >= LABEL_POSITIVE
             else "neutral")
    return (*score[:4], *_CERTAIN[label], int(label == "negative"))


class PostRow(NamedTuple):
    """A :class:`ScoredPost` as the store writes it: the post's columns (``created_at`` in epoch
    seconds), its mentions and its score. An import's workers make these straight from the file's
    rows: a tuple is made and unpickled several times faster than a Post and a ScoredPost."""

    source: str
    post_id: str
    kind: str
    created_at: int
    text: str
    author_hash: str | None
    url: str | None
    parent_id: str | None
    engagement: int | None
    rating: int | None
    mentions: tuple[tuple[str, str], ...]  # (brand key, matched term)
    score: tuple[float, ...] | None  # compound, pos, neu, neg[, p_negative, p_neutral, p_positive]

    @classmethod
    def of(cls, post: Post, author_hash: str | None, mentions: Sequence[tuple[str, str]],
           score: tuple[float, ...] | None = None) -> PostRow:
        return cls(post.source, post.post_id, post.kind, to_epoch(post.created_at), post.text,
                   author_hash, post.url, post.parent_id, post.engagement, post.rating,
                   tuple(mentions), score)


# PostRow's fields by position, for plain tuples of them (what an import spools).
ROW_SOURCE, ROW_POST_ID, ROW_CREATED_AT, ROW_TEXT, ROW_AUTHOR_HASH, ROW_MENTIONS, ROW_SCORE = (
    PostRow._fields.index(name)
    for name in ("source", "post_id", "created_at", "text", "author_hash", "mentions", "score"))


@dataclass
class SaveResult:
    new: int = 0
    existing: int = 0
    new_mentions: int = 0
    skipped: list[str] = field(default_factory=list)


def outage_of(row) -> Outage:
    return Outage(
        id=row["id"], brand=row["brand"], start=from_epoch(row["starts_at"]),
        end=from_epoch(row["ends_at"]), label=row["label"], severity=row["severity"],
        origin=row["origin"], external_id=row["external_id"],
    )
