"""Store-backed helpers for the trust features: one author one voice, bootstrap intervals, detection.

Plain functions for the CLI, the exports and the dashboard; the arithmetic is in ``analysis``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd

from analysis.detect import Candidate, DetectParams, detect_outages
from analysis.params import MetricParams
from analysis.sentiment import scorer_id, scorer_rates
from analysis.timeline import NEGATIVE, bucket_series, share_counts, with_shares
from analysis.uncertainty import DEFAULT_RESAMPLES, bootstrap_from_sums, one_voice
from dipwatch.config import Settings
from dipwatch.measures import bucket_columns
from dipwatch.store import Store

INTERVAL_FIELDS = ("dip_depth_lo", "dip_depth_hi", "trough_lo", "trough_hi", "time_to_recover_h_lo",
                   "time_to_recover_h_hi", "recovered_share", "interval_level", "resamples")


def load_votes(store: Store, brand: str, params: MetricParams, start: datetime | None = None,
               end: datetime | None = None, voice: bool = True,
               sources: Sequence[str] | None = None) -> pd.DataFrame:
    """Scored posts of ``brand`` in [start, end) as columns created_at, compound, author_hash; with
    ``voice`` (the metrics' default) each author counts once per bucket (raw exports pass False);
    from ``sources`` only (all when empty)."""
    frame = load_scored(store, brand, start, end, sources)
    return one_voice(frame, params) if voice else frame


def load_scored(store: Store, brand: str, start: datetime | None = None, end: datetime | None = None,
                sources: Sequence[str] | None = None) -> pd.DataFrame:
    """Scored posts of ``brand`` in [start, end) as columns created_at, compound, author_hash and
    counted (1 where the post counts as negative in the share), one row per post."""
    rows = store.load_scored_authors(brand, scorer_id(), start, end, sources)
    frame = pd.DataFrame(rows, columns=["created_at", "compound", "author_hash", "counted"])
    frame["created_at"] = pd.to_datetime(frame["created_at"].astype("int64"), unit="s", utc=True)
    frame["compound"] = frame["compound"].astype(float)
    frame["author_hash"] = frame["author_hash"].astype(object).where(frame["author_hash"].notna(), None)
    frame["counted"] = frame["counted"].astype("int64")
    return frame


def load_series_voiced(store: Store, brand: str, params: MetricParams, start: datetime | None,
                       end: datetime | None, voice: bool = True,
                       sources: Sequence[str] | None = None) -> pd.DataFrame:
    """:func:`dipwatch.measures.load_series` bucketed in pandas from the posts (of ``sources`` only
    when given), with one author, one voice (default on)."""
    delta = params.bucket_delta
    # Whole buckets, as load_series reads them from the rollup.
    first = pd.Timestamp(start).floor(delta).to_pydatetime() if start is not None else None
    stop = (pd.Timestamp(end).floor(delta) + delta).to_pydatetime() if end is not None else None
    frame = load_scored(store, brand, first, stop, sources)
    series = bucket_series(one_voice(frame, params) if voice else frame, params, start, end)
    return with_shares(series, share_counts(frame, params), params, scorer_rates())


def interval_records(view, store: Store, settings: Settings, resamples: int = DEFAULT_RESAMPLES,
                     seed: int = 0, voice: bool = True) -> dict[int, dict]:
    """Bootstrap intervals of every measured outage in ``view``, by outage id: the per-bucket sums
    its series was built from, read from the store's rollup (milliseconds, whatever the number of
    posts), resampled by :func:`analysis.uncertainty.bootstrap_from_sums`.

    :param view: a :class:`dipwatch.measures.BrandView` over all the brand's sources (the rollup
        does not keep sources apart); ``voice`` must match how its series was built (one author,
        one voice by default), so the intervals surround its point estimates.
    :param settings: unused today; kept so callers need not change when intervals gain settings.
    :returns: for each outage id a dict with the keys of :data:`INTERVAL_FIELDS` (None where the
        figure cannot be computed).
    """
    del settings
    params = view.params
    if view.series.empty:
        return {}
    delta = params.bucket_delta
    first = view.series.index[0]
    # Only the buckets the metrics read: from the earliest measured outage's baseline (with the
    # smoothing lead-in, as bootstrap_from_sums cuts them) to now, not the brand's whole history.
    leads = [pd.Timestamp(w.start) - pd.Timedelta(days=params.baseline_days)
             - delta * (params.smoothing_buckets - 1)
             for w in view.outages if any(m.outage_id == w.id for m in view.metrics)]
    since = max(first, min(leads, default=first).floor(delta))
    stop = pd.Timestamp(view.now).floor(delta) + delta
    rows = store.bucket_totals(view.brand.key, scorer_id(), since.to_pydatetime(), stop.to_pydatetime(),
                               int(delta.total_seconds()), voice, NEGATIVE)
    buckets, posts, total, _, squares = bucket_columns(rows)
    sums = pd.DataFrame({"posts": posts, "total": total, "squares": squares},
                        index=pd.to_datetime(buckets.astype(np.int64), unit="s", utc=True))
    records = {}
    for metrics in view.metrics:
        window = next(w for w in view.outages if w.id == metrics.outage_id)
        others = [w for w in view.outages if w.id != window.id]
        records[metrics.outage_id] = bootstrap_from_sums(
            sums, window, others, params, view.now, resamples=resamples, seed=seed, start=first)
    return records


def detect_candidates(store: Store, brand: str, detect: DetectParams | None = None,
                      start: datetime | None = None, end: datetime | None = None,
                      voice: bool = True) -> list[Candidate]:
    """Candidate outage windows of ``brand`` between ``start`` and ``end`` (default: all data),
    scored against all the brand's hourly history before each hour.

    :raises ValueError: when the brand has too little history (under 7 days by default).
    """
    hourly = MetricParams(bucket="1h", smoothing_buckets=1)
    span = store.time_range(brand)
    if span is None:
        raise ValueError(f"brand {brand!r} has no posts yet; outage detection needs at least "
                         f"{(detect or DetectParams()).min_history_days:g} days of them")
    last = min(end, span[1] + hourly.bucket_delta) if end is not None else span[1] + hourly.bucket_delta
    votes = load_votes(store, brand, hourly, span[0], last, voice)
    series = bucket_series(votes, hourly, span[0], last - pd.Timedelta(seconds=1))
    return detect_outages(series, detect, start, end)
