"""Store reads and writes only the dashboard needs: sources of a brand, series and posts of chosen
sources, editing an outage window in place.

Kept apart from ``dipwatch/store.py`` (owned by the store's maintainers) and built on its tables;
the arithmetic stays in ``analysis`` and is shared with :func:`dipwatch.measures.brand_view`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

import pandas as pd
import sqlalchemy as sa

from analysis.params import MetricParams
from analysis.recovery import outage_metrics
from analysis.sentiment import scorer_id
from analysis.timeline import bucket_series
from analysis.uncertainty import one_voice
from dipwatch.brands import Brand
from dipwatch.config import Settings
from dipwatch.measures import BrandView, as_of, brand_view, measured_windows
from dipwatch.store import Store, mentions, outages, posts, scores, to_epoch


def brand_sources(store: Store, brand: str) -> list[str]:
    """The sources that posts mentioning ``brand`` came from, sorted."""
    return store.brand_sources(brand)


def data_stamp(store: Store, brand: str) -> tuple[int, int | None]:
    """(scored posts, latest post time) of ``brand``: changes whenever posts are added or removed."""
    return store.brand_stamp(brand, scorer_id())


def _where_time(query, start: datetime | None, end: datetime | None):
    if start is not None:
        query = query.where(mentions.c.created_at >= to_epoch(start))
    if end is not None:
        query = query.where(mentions.c.created_at < to_epoch(end))
    return query


def load_source_votes(store: Store, brand: str, sources: Sequence[str], params: MetricParams,
                      start: datetime | None, end: datetime | None) -> pd.DataFrame:
    """Like :func:`dipwatch.measures_extra.load_votes`, for the posts of ``sources`` only."""
    query = _where_time(
        sa.select(mentions.c.created_at, scores.c.compound, posts.c.author_hash)
        .join(scores, sa.and_(scores.c.post == mentions.c.post, scores.c.scorer == scorer_id()))
        .join(posts, posts.c.id == mentions.c.post)
        .where(mentions.c.brand == brand, posts.c.source.in_(list(sources))), start, end,
    ).order_by(mentions.c.created_at, posts.c.id)
    with store.engine.connect() as conn:
        rows = [tuple(row) for row in conn.execute(query)]
    frame = pd.DataFrame(rows, columns=["created_at", "compound", "author_hash"])
    frame["created_at"] = pd.to_datetime(frame["created_at"].astype("int64"), unit="s", utc=True)
    frame["compound"] = frame["compound"].astype(float)
    frame["author_hash"] = frame["author_hash"].astype(object).where(frame["author_hash"].notna(), None)
    return one_voice(frame, params) if params.one_author_one_voice else frame


def source_view(settings: Settings, store: Store, brand: Brand, params: MetricParams,
                sources: Sequence[str] | None = None, now: datetime | None = None) -> BrandView:
    """:func:`dipwatch.measures.brand_view` over the posts of ``sources`` only (all when empty)."""
    if not sources:
        return brand_view(settings, store, brand, params, now)
    now = as_of(store, now)
    windows = measured_windows(store.list_outages(brand.key))
    span = store.time_range(brand.key)
    start = span[0] if span else now - timedelta(days=params.baseline_days)
    votes = load_source_votes(store, brand.key, sources, params, start, now + params.bucket_delta)
    series = bucket_series(votes, params, start, now)
    metrics = [outage_metrics(series, w, [o for o in windows if o.id != w.id], params, now, outage_id=w.id)
               for w in windows]
    return BrandView(brand, params, now, series, windows, metrics)


def load_posts_of(store: Store, brand: str, start: datetime, end: datetime,
                  sources: Sequence[str] | None = None, label: str | None = None,
                  limit: int = 500) -> Iterator[dict]:
    """Posts mentioning ``brand`` in [start, end), most negative first, as ``store.load_posts`` rows.

    :param sources: only these sources (all when empty).
    :param label: only ``negative`` (compound <= -0.05), ``neutral`` or ``positive`` (>= 0.05) posts.
    """
    query = _where_time(
        sa.select(posts.c.source, posts.c.post_id, posts.c.created_at, posts.c.text, posts.c.url,
                  posts.c.engagement, posts.c.rating, scores.c.compound)
        .join(mentions, mentions.c.post == posts.c.id)
        .join(scores, sa.and_(scores.c.post == posts.c.id, scores.c.scorer == scorer_id()))
        .where(mentions.c.brand == brand), start, end,
    )
    if sources:
        query = query.where(posts.c.source.in_(list(sources)))
    if label == "negative":
        query = query.where(scores.c.compound <= -0.05)
    elif label == "positive":
        query = query.where(scores.c.compound >= 0.05)
    elif label == "neutral":
        query = query.where(scores.c.compound > -0.05, scores.c.compound < 0.05)
    query = query.order_by(scores.c.compound, mentions.c.created_at).limit(limit)
    with store.engine.connect() as conn:
        yield from conn.execute(query).mappings()


def load_texts(store: Store, brand: str, start: datetime, end: datetime, limit: int,
               sources: Sequence[str] | None = None) -> list[str]:
    """The texts of up to ``limit`` posts mentioning ``brand`` in [start, end), the latest first;
    from ``sources`` only (all when empty)."""
    query = _where_time(
        sa.select(posts.c.text).join(mentions, mentions.c.post == posts.c.id)
        .where(mentions.c.brand == brand), start, end,
    )
    if sources:
        query = query.where(posts.c.source.in_(list(sources)))
    query = query.order_by(mentions.c.created_at.desc()).limit(limit)
    with store.engine.connect() as conn:
        return list(conn.execute(query).scalars())


def update_outage(store: Store, outage_id: int, window) -> bool:
    """Replace the start, end, label and severity of outage ``outage_id`` with those of ``window``
    (an :class:`analysis.windows.Window` already validated); keep its id and origin."""
    values = {"starts_at": to_epoch(window.start),
              "ends_at": None if window.end is None else to_epoch(window.end),
              "label": window.label, "severity": window.severity}
    with store.engine.begin() as conn:
        return conn.execute(sa.update(outages).where(outages.c.id == outage_id).values(**values)).rowcount > 0
