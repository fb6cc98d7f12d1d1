"""Reading posts: brands, counts, scores, texts and time ranges of a brand's posts."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa

from dipwatch.core.times import from_epoch, to_epoch
from dipwatch.store.tables import (
    brand_sources,
    brands,
    mentions,
    posts,
    scores,
)


class PostReadsMixin:
    """The posts' reads of :class:`dipwatch.store.Store`."""

    def list_brands(self) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(brands).order_by(brands.c.key)).mappings().all()
        return [{**row, "terms": json.loads(row["terms"]), "competitors": json.loads(row["competitors"])}
                for row in rows]

    def existing_post_ids(self, source: str, post_ids: Iterable[str]) -> set[str]:
        """The subset of ``post_ids`` already stored for ``source``."""
        with self.engine.connect() as conn:
            return set(self._row_ids(conn, source, list(post_ids)))

    def unscored(self, scorer: str, limit: int = 5000) -> list[tuple[int, str]]:
        """(row id, text) of posts with no score by ``scorer``, oldest first."""
        missing = (
            sa.select(posts.c.id, posts.c.text)
            .outerjoin(scores, sa.and_(scores.c.post == posts.c.id, scores.c.scorer == scorer))
            .where(scores.c.post.is_(None))
            .order_by(posts.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [(rowid, text) for rowid, text in conn.execute(missing)]

    def count_posts(self, brand: str | None = None) -> int:
        with self.engine.connect() as conn:
            if brand is None:
                return conn.execute(sa.select(sa.func.count()).select_from(posts)).scalar()
            return conn.execute(
                sa.select(sa.func.count()).select_from(mentions).where(mentions.c.brand == brand)
            ).scalar()

    def _scored_mentions(self, brand: str, scorer: str, start: datetime | None, end: datetime | None):
        query = (
            sa.select(mentions.c.created_at, scores.c.compound)
            .join(scores, sa.and_(scores.c.post == mentions.c.post, scores.c.scorer == scorer))
            .where(mentions.c.brand == brand)
        )
        query = _in_time(query, start, end)
        return query

    def load_scores(self, brand: str, scorer: str, start: datetime | None = None,
                    end: datetime | None = None) -> list[tuple[int, float]]:
        """(created_at epoch seconds, compound) of every scored post mentioning ``brand``."""
        query = self._scored_mentions(brand, scorer, start, end).order_by(mentions.c.created_at)
        with self.engine.connect() as conn:
            return [(created, compound) for created, compound in conn.execute(query)]

    def _chosen_posts(self, columns, brand: str, scorer: str, start: datetime | None,
                      end: datetime | None, sources: Sequence[str] | None, label: str | None,
                      contains: str | None, join_posts: bool = False):
        """``columns`` of the scored mentions of ``brand`` in [start, end) that pass the filters,
        joined to their posts when a filter needs them or ``join_posts`` asks."""
        chosen = (
            sa.select(*columns)
            .join(scores, sa.and_(scores.c.post == mentions.c.post, scores.c.scorer == scorer))
            .where(mentions.c.brand == brand)
        )
        chosen = _in_time(chosen, start, end)
        needle = (contains or "").strip()
        if sources or needle or join_posts:
            chosen = chosen.join(posts, posts.c.id == mentions.c.post)
        if sources:
            chosen = chosen.where(posts.c.source.in_(list(sources)))
        if needle:
            escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            chosen = chosen.where(posts.c.text.ilike(f"%{escaped}%", escape="\\"))
        # The post's class as the share counts it: the likeliest of its three probabilities, negative
        # before neutral before positive on a tie (analysis.classifier.label_of). With the "vader"
        # scorer the probabilities are VADER's label as certainties, so this is VADER's label.
        neg, neu, pos = scores.c.p_negative, scores.c.p_neutral, scores.c.p_positive
        if label == "negative":
            chosen = chosen.where(neg >= neu, neg >= pos)
        elif label == "neutral":
            chosen = chosen.where(neu > neg, neu >= pos)
        elif label == "positive":
            chosen = chosen.where(pos > neg, pos > neu)
        return chosen

    def count_window_posts(self, brand: str, scorer: str, start: datetime | None = None,
                           end: datetime | None = None, sources: Sequence[str] | None = None,
                           label: str | None = None, contains: str | None = None) -> dict[str, int]:
        """How many posts :meth:`load_posts` gives with these filters (``posts``), and how many of
        them have a star rating (``rated``) and any engagement (``engaged``): a table can leave out
        a column no post fills."""
        chosen = self._chosen_posts([mentions.c.post], brand, scorer, start, end, sources, label,
                                    contains).subquery("chosen")
        query = (sa.select(sa.func.count(), sa.func.count(posts.c.rating),
                           sa.func.count(sa.func.nullif(posts.c.engagement, 0)))
                 .select_from(chosen).join(posts, posts.c.id == chosen.c.post))
        with self.engine.connect() as conn:
            total, rated, engaged = conn.execute(query).one()
        return {"posts": total, "rated": rated, "engaged": engaged}

    def load_posts(self, brand: str, scorer: str, start: datetime | None = None,
                   end: datetime | None = None, order: str = "time", limit: int | None = None,
                   sources: Sequence[str] | None = None, label: str | None = None,
                   offset: int = 0, descending: bool = False, contains: str | None = None):
        """Posts mentioning ``brand`` with their scores, as dicts, ``order`` by ``time``,
        ``sentiment`` (most negative first), ``engagement``, ``rating`` or ``source``; reversed
        when ``descending``.

        :param sources: only posts from these sources (all when empty).
        :param label: only ``negative``, ``neutral`` or ``positive`` posts: the class the share
            counts, the likeliest of the post's three probabilities.
        :param contains: only posts whose text contains this, ignoring case (blank: all).
        :param offset: skip this many posts first (a page of a table: ``offset`` and ``limit``).

        Ties keep the time order, then the post's row order, so a limit always picks the same posts.
        """
        # Two steps: which posts, from the mentions' covering index and the scores alone (ordered
        # and limited there), then their rows. Joining the posts before the limit read every post
        # row of the window (thousands of scattered pages: most of a Voices tab's time on a cold
        # cache) to keep 200 of them.
        by_post = {"engagement": posts.c.engagement, "rating": posts.c.rating, "source": posts.c.source}
        columns = [mentions.c.post, mentions.c.created_at, scores.c.compound, scores.c.pos,
                   scores.c.neu, scores.c.neg, scores.c.scorer, scores.c.p_negative, scores.c.p_neutral,
                   scores.c.p_positive]
        chosen = self._chosen_posts(columns, brand, scorer, start, end, sources, label, contains,
                                    join_posts=order in by_post)
        first = by_post.get(order, scores.c.compound if order == "sentiment" else None)
        keys = [mentions.c.created_at, mentions.c.post]
        keys = [k.desc() if descending else k for k in keys]
        if first is not None:
            # Posts without a rating (all but reviews) last either way, on SQLite and PostgreSQL.
            keys.insert(0, (first.desc() if descending else first).nulls_last())
        # Numbered in that order, so the page of rows read below keeps it (a window function sees
        # the rows before ORDER BY and LIMIT, hence its own ORDER BY).
        chosen = chosen.add_columns(sa.func.row_number().over(order_by=keys).label("rank"))
        chosen = chosen.order_by(*keys).limit(limit).offset(offset or None).subquery("chosen")
        named = mentions.alias("named")  # the matched term: read for the chosen posts only
        query = (
            sa.select(
                posts.c.source, posts.c.post_id, posts.c.kind, posts.c.created_at, posts.c.text,
                posts.c.url, posts.c.author_hash, posts.c.engagement, posts.c.rating,
                named.c.brand, named.c.term, chosen.c.compound, chosen.c.pos, chosen.c.neu,
                chosen.c.neg, chosen.c.scorer, chosen.c.p_negative, chosen.c.p_neutral, chosen.c.p_positive,
            )
            .select_from(chosen)
            .join(posts, posts.c.id == chosen.c.post)
            .join(named, sa.and_(named.c.post == chosen.c.post, named.c.brand == brand))
        )
        # The page keeps the chosen order: the subquery's position of each post, numbered there.
        query = query.order_by(chosen.c.rank)
        with self.engine.connect() as conn:
            yield from conn.execute(query).mappings()

    def load_texts(self, brand: str, start: datetime, end: datetime, limit: int,
                   sources: Sequence[str] | None = None) -> list[str]:
        """The texts of up to ``limit`` posts mentioning ``brand`` in [start, end), the latest first;
        from ``sources`` only (all when empty)."""
        query = _in_time(sa.select(posts.c.text).join(mentions, mentions.c.post == posts.c.id)
                         .where(mentions.c.brand == brand), start, end)
        if sources:
            query = query.where(posts.c.source.in_(list(sources)))
        query = query.order_by(mentions.c.created_at.desc()).limit(limit)
        with self.engine.connect() as conn:
            return conn.execute(query).scalars().all()  # fetched at once, not row by row

    def time_range(self, brand: str) -> tuple[datetime, datetime] | None:
        """The times of the first and the last post mentioning ``brand``."""
        # Two queries: SQLite answers a lone min() or max() from the index's ends, but scans every
        # entry of the brand (130 ms at 200,000 posts) for both in one query.
        with self.engine.connect() as conn:
            low, high = (conn.execute(sa.select(func(mentions.c.created_at)).where(mentions.c.brand == brand)
                                      ).scalar() for func in (sa.func.min, sa.func.max))
        return None if low is None else (from_epoch(low), from_epoch(high))

    def brand_sources(self, brand: str) -> list[str]:
        """The sources that posts mentioning ``brand`` came from, sorted."""
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(brand_sources.c.source).where(brand_sources.c.brand == brand)
                                     .order_by(brand_sources.c.source)).scalars())

    def load_scored_authors(self, brand: str, scorer: str, start: datetime | None = None,
                            end: datetime | None = None, sources: Sequence[str] | None = None
                            ) -> list[tuple[int, float, str | None, int]]:
        """(created_at epoch seconds, compound, author hash or None, 1 if counted negative else 0)
        of every scored post mentioning ``brand`` in [start, end), from ``sources`` only (all when
        empty), by time."""
        query = (
            sa.select(mentions.c.created_at, scores.c.compound, posts.c.author_hash, scores.c.counted)
            .join(scores, sa.and_(scores.c.post == mentions.c.post, scores.c.scorer == scorer))
            .join(posts, posts.c.id == mentions.c.post)
            .where(mentions.c.brand == brand)
        )
        query = _in_time(query, start, end)
        if sources:
            query = query.where(posts.c.source.in_(list(sources)))
        with self.engine.connect() as conn:
            return [tuple(row) for row in conn.execute(query.order_by(mentions.c.created_at, posts.c.id))]


def _in_time(query, start: datetime | None, end: datetime | None):
    """``query`` restricted to mentions in [start, end) (either bound may be None)."""
    if start is not None:
        query = query.where(mentions.c.created_at >= to_epoch(start))
    if end is not None:
        query = query.where(mentions.c.created_at < to_epoch(end))
    return query
