"""The series rollup: kept up in the same transaction as the posts it sums, rebuilt from them, read
per bucket."""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from datetime import datetime

import sqlalchemy as sa

from dipwatch.core.times import to_epoch
from dipwatch.store.rollup_sums import (
    NEGATIVE_UNITS,
    Event,
    add_vote_changes,
    quarter_sums,
    rollup_writes,
    spread,
    voice_writes,
)
from dipwatch.store.tables import (
    ROLLUP_COLUMNS,
    ROLLUP_FIELDS,
    ROLLUP_NEGATIVE,
    ROLLUP_SIZES,
    SUM_SCALE,
    VOICE_COLUMNS,
    VOICE_SIZE,
    mentions,
    posts,
    rollup,
    scores,
    voices,
)


class SeriesMixin:
    """The rollup's upkeep and reads in :class:`dipwatch.store.Store`."""

    def _roll(self, conn, events: list[Event]) -> None:
        """Add (sign 1) or take away (sign -1) scored mentions in the rollup, on ``conn``'s
        transaction, which holds :meth:`_lock_writes`.

        :param events: one per mention and score that was stored or is about to be deleted (see
            :mod:`dipwatch.store.rollup_sums`).
        """
        if not events:
            return
        # Sum by quarter hour first (a batch's posts fall in a few), then the larger sizes from those.
        quarters, by_author = quarter_sums(events)
        deltas = spread(quarters)
        for (brand, scorer), changes in by_author.items():
            stored = self._stored_voices(conn, brand, scorer, changes)
            add_vote_changes(brand, scorer, changes, stored, deltas)
            kept, gone = voice_writes(brand, scorer, changes, stored)
            self._bulk_upsert(conn, voices, kept, add=False, keys=VOICE_COLUMNS)
            if gone:
                conn.execute(sa.delete(voices).where(
                    voices.c.brand == sa.bindparam("brand"), voices.c.scorer == sa.bindparam("scorer"),
                    voices.c.author == sa.bindparam("author"), voices.c.bucket == sa.bindparam("bucket")),
                    gone)
        rows, emptied = rollup_writes(deltas)
        self._bulk_upsert(conn, rollup, rows, add=True, keys=ROLLUP_COLUMNS)
        if emptied:
            conn.execute(sa.delete(rollup).where(
                rollup.c.brand == sa.bindparam("brand"), rollup.c.scorer == sa.bindparam("scorer"),
                rollup.c.size == sa.bindparam("size"), rollup.c.bucket == sa.bindparam("bucket"),
                rollup.c.posts <= 0), emptied)

    def _stored_voices(self, conn, brand: str, scorer: str, changes: dict[tuple[str, int], list]
                       ) -> dict[tuple[str, int], tuple]:
        """(author, quarter hour) -> (posts, total) of the authors in ``changes``, in the days their
        changes fall in (what their votes in every bucket size are made of)."""
        authors = sorted({author for author, _ in changes})
        day = ROLLUP_SIZES[-1]
        low = min(quarter for _, quarter in changes) // day * day
        high = max(quarter for _, quarter in changes) // day * day + day
        return {
            (author, bucket): (count, total) for author, bucket, count, total in self._select(
                conn, "voices", lambda: sa.select(voices.c.author, voices.c.bucket, voices.c.posts,
                                                  voices.c.total).where(
                    voices.c.brand == sa.bindparam("brand"), voices.c.scorer == sa.bindparam("scorer"),
                    voices.c.bucket >= sa.bindparam("low"), voices.c.bucket < sa.bindparam("high"),
                    self._in_list(voices.c.author)),
                {"brand": brand, "scorer": scorer, "low": low, "high": high,
                 **self._list_param(authors)})}

    def _scored_events(self, conn, rowids: Sequence[int], scorer: str | None = None,
                       brands: Collection[tuple[int, str]] | None = None, sign: int = 1) -> list[tuple]:
        """Rollup events for the stored mentions and scores of the posts ``rowids``: every scorer's
        (``scorer`` None) or one; every mention's or only the (post, brand) pairs in ``brands``."""
        if not rowids:
            return []
        query = (
            sa.select(mentions.c.post, mentions.c.brand, scores.c.scorer, mentions.c.created_at,
                      scores.c.compound, posts.c.author_hash, scores.c.counted)
            .join(scores, scores.c.post == mentions.c.post)
            .join(posts, posts.c.id == mentions.c.post)
            .where(self._in_list(mentions.c.post, sa.BigInteger))
        )
        if scorer is not None:
            query = query.where(scores.c.scorer == scorer)
        return [(brand, scorer_, created, compound, author, sign, counted)
                for post, brand, scorer_, created, compound, author, counted
                in conn.execute(query, self._list_param(rowids))
                if brands is None or (post, brand) in brands]

    def _rebuild_rollup(self, conn) -> None:
        """Fill the rollup from the stored mentions and scores, all in the database (the migrations
        to schema versions 2 and 5, and the reference the tests compare the maintained rollup with),
        with the arithmetic of :mod:`dipwatch.store.rollup_sums` in SQL."""
        conn.execute(sa.delete(voices))
        conn.execute(sa.delete(rollup))
        scored = (
            sa.select(mentions.c.brand, scores.c.scorer, mentions.c.created_at, posts.c.author_hash,
                      scores.c.counted, (scores.c.compound <= ROLLUP_NEGATIVE).label("negative"),
                      units_sql(scores.c.compound, self.dialect).label("value"))
            .select_from(mentions.join(scores, scores.c.post == mentions.c.post)
                         .join(posts, posts.c.id == mentions.c.post))
        ).subquery("scored")
        quarter = scored.c.created_at - scored.c.created_at % sa.literal(VOICE_SIZE, sa.BigInteger)
        conn.execute(voices.insert().from_select(
            ["brand", "scorer", "author", "bucket", "posts", "total"],
            sa.select(scored.c.brand, scored.c.scorer, scored.c.author_hash, quarter, sa.func.count(),
                      sa.func.sum(scored.c.value))
            .where(scored.c.author_hash.is_not(None))
            .group_by(scored.c.brand, scored.c.scorer, scored.c.author_hash, quarter)))
        square = square_units_sql(scored.c.value)
        for size in ROLLUP_SIZES:
            width = sa.literal(size, sa.BigInteger)
            bucket = scored.c.created_at - scored.c.created_at % width
            anonymous = scored.c.author_hash.is_(None)
            negative = scored.c.negative
            plain = (
                sa.select(scored.c.brand.label("brand"), scored.c.scorer.label("scorer"),
                          bucket.label("bucket"), sa.func.count().label("posts"),
                          sa.func.sum(scored.c.value).label("total"),
                          sa.func.sum(sa.case((negative, 1), else_=0)).label("negatives"),
                          sa.func.sum(square).label("squares"),
                          sa.func.sum(sa.case((anonymous, 1), else_=0)).label("votes"),
                          sa.func.sum(sa.case((anonymous, scored.c.value), else_=0)).label("vote_total"),
                          sa.func.sum(sa.case((anonymous & negative, 1), else_=0)).label("vote_negatives"),
                          sa.func.sum(sa.case((anonymous, square), else_=0)).label("vote_squares"),
                          sa.func.sum(scored.c.counted).label("counted"))
                .group_by(scored.c.brand, scored.c.scorer, bucket)
            )
            voice_bucket = voices.c.bucket - voices.c.bucket % width
            mean = vote_sql(sa.cast(sa.func.sum(voices.c.total), sa.BigInteger),
                            sa.cast(sa.func.sum(voices.c.posts), sa.BigInteger))
            means = (sa.select(voices.c.brand, voices.c.scorer, voice_bucket.label("bucket"),
                               mean.label("mean"))
                     .group_by(voices.c.brand, voices.c.scorer, voices.c.author, voice_bucket)).subquery()
            named = (
                sa.select(means.c.brand, means.c.scorer, means.c.bucket, sa.literal(0).label("posts"),
                          sa.literal(0).label("total"), sa.literal(0).label("negatives"),
                          sa.literal(0).label("squares"),
                          sa.func.count().label("votes"), sa.func.sum(means.c.mean).label("vote_total"),
                          sa.func.sum(sa.case((means.c.mean <= NEGATIVE_UNITS, 1), else_=0))
                          .label("vote_negatives"),
                          sa.func.sum(square_units_sql(means.c.mean)).label("vote_squares"),
                          sa.literal(0).label("counted"))
                .group_by(means.c.brand, means.c.scorer, means.c.bucket)
            )
            both = sa.union_all(plain, named).subquery()
            conn.execute(rollup.insert().from_select(
                ["brand", "scorer", "size", "bucket", *ROLLUP_FIELDS],
                sa.select(both.c.brand, both.c.scorer, sa.literal(size), both.c.bucket,
                          *(sa.func.sum(both.c[name]) for name in ROLLUP_FIELDS))
                .group_by(both.c.brand, both.c.scorer, both.c.bucket)))

    def rebuild_rollup(self) -> None:
        """Recompute the whole rollup from the stored posts (after editing the tables by hand)."""
        with self.engine.begin() as conn:
            self._lock_writes(conn)
            self._rebuild_rollup(conn)

    def brand_stamp(self, brand: str, scorer: str) -> tuple[int, int | None]:
        """(scored posts, latest post time) of ``brand``: changes whenever a scored post is added or
        removed, read from the rollup's days and the index in about a millisecond."""
        with self.engine.connect() as conn:
            count = conn.execute(sa.select(sa.func.coalesce(sa.func.sum(rollup.c.posts), 0)).where(
                rollup.c.brand == brand, rollup.c.scorer == scorer,
                rollup.c.size == ROLLUP_SIZES[-1])).scalar()
            latest = conn.execute(sa.select(sa.func.max(mentions.c.created_at))
                                  .where(mentions.c.brand == brand)).scalar()
        return int(count), latest

    def bucket_totals(self, brand: str, scorer: str, start: datetime, end: datetime, bucket_seconds: int,
                      one_voice: bool, negative: float, shares: bool = False) -> list[tuple]:
        """(bucket start epoch, votes, sum of compound, negative votes, sum of squared compound) per
        non-empty bucket of ``brand`` in [start, end), read from the rollup; a vote is negative at or
        below ``negative``. With ``shares``, two more: posts, and posts counted negative (always per
        post, whatever ``one_voice`` says).

        With ``one_voice`` an author's posts in a bucket are one vote, their mean compound (posts with
        no author hash count one each), as :func:`analysis.uncertainty.one_voice` does.

        :raises ValueError: unless the rollup has the figures: a bucket size of ``ROLLUP_SIZES``, the
            threshold ``ROLLUP_NEGATIVE``, and ``start`` and ``end`` on bucket boundaries.
        """
        first, stop = to_epoch(start), to_epoch(end)
        if (bucket_seconds not in ROLLUP_SIZES or negative != ROLLUP_NEGATIVE
                or first % bucket_seconds or stop % bucket_seconds):
            raise ValueError(f"the rollup has buckets of {ROLLUP_SIZES} seconds, whole, with negative at "
                             f"{ROLLUP_NEGATIVE}; asked for {bucket_seconds} s from {start} to {end} "
                             f"at {negative}")
        columns = ((rollup.c.votes, rollup.c.vote_total, rollup.c.vote_negatives, rollup.c.vote_squares)
                   if one_voice else (rollup.c.posts, rollup.c.total, rollup.c.negatives, rollup.c.squares))
        if shares:
            columns += (rollup.c.posts, rollup.c.counted)
        query = (sa.select(rollup.c.bucket, *columns)
                 .where(rollup.c.brand == brand, rollup.c.scorer == scorer, rollup.c.size == bucket_seconds,
                        rollup.c.bucket >= first, rollup.c.bucket < stop, rollup.c.posts > 0)
                 .order_by(rollup.c.bucket))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()  # at once: iterating the result row by row cost twice as much
        # The sums are whole numbers of 1/SUM_SCALE: divided once here, the same floats in any order.
        if shares:
            return [(int(b), int(n), int(t) / SUM_SCALE, int(g), int(q) / SUM_SCALE, int(p), int(c))
                    for b, n, t, g, q, p, c in rows]
        return [(int(b), int(n), int(t) / SUM_SCALE, int(g), int(q) / SUM_SCALE) for b, n, t, g, q in rows]


# The rollup's arithmetic (rollup_sums) in SQL, for the rebuild.
SPLIT = math.isqrt(SUM_SCALE)  # square_units_sql's halves: SPLIT² = SUM_SCALE


def units_sql(compound, dialect: str):
    """``rollup_sums.units`` of the column ``compound`` in SQL, as a BIGINT; the same integer:
    floor() of the same doubles (on SQLite, whose floor() needs its optional math functions, by
    truncating and stepping down below zero)."""
    shifted = compound * sa.literal(float(SUM_SCALE), sa.Float) + sa.literal(0.5, sa.Float)
    if dialect == "postgresql":
        return sa.cast(sa.func.floor(shifted), sa.BigInteger)
    truncated = sa.cast(shifted, sa.BigInteger)
    return truncated - sa.case((shifted < truncated, 1), else_=0)


def square_units_sql(value):
    """``rollup_sums.square_units`` of the BIGINT ``value`` in SQL, without overflowing 64 bits
    (value² does from |value| > 0.3 * SUM_SCALE): with |value| = a * SPLIT + b,
    (value² + SUM_SCALE / 2) // SUM_SCALE = a² + (2ab * SPLIT + b² + SUM_SCALE / 2) // SUM_SCALE."""
    magnitude = sa.func.abs(value, type_=sa.BigInteger)
    high = magnitude // SPLIT
    low = magnitude % SPLIT
    return high * high + (2 * high * low * SPLIT + low * low + SUM_SCALE // 2) // SUM_SCALE


def vote_sql(total, count):
    """``rollup_sums.vote`` in SQL, of BIGINTs (integer division truncates on both databases: the
    operands are made non-negative first)."""
    twice = 2 * count
    return sa.case((total >= 0, (2 * total + count) // twice), else_=-((count - 2 * total) // twice))
