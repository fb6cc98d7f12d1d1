"""Bucketing and smoothing: the per-bucket series every metric and chart is built from."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from analysis.quantify import Rates, adjusted_share, share_interval
from dipwatch.core.conventions import NEGATIVE_THRESHOLD
from dipwatch.core.params import MetricParams

TONE_COLUMNS = ["posts", "mean", "negatives", "negative_share", "smoothed", "smoothed_lo", "smoothed_hi"]
# The share family, always per post (never per author's vote): posts, posts the classifier calls
# negative, the estimated negative share of the bucket (analysis.quantify), and of the trailing
# smoothing window with its 95% interval.
SHARE_COLUMNS = ["post_count", "called_negative", "share", "share_smoothed", "share_lo", "share_hi"]
SERIES_COLUMNS = TONE_COLUMNS + SHARE_COLUMNS
BAND_Z = 1.959964  # the normal quantile of a 95% interval


def scores_frame(rows) -> pd.DataFrame:
    """A frame of scored posts from ``(epoch seconds, compound)`` pairs: columns created_at, compound."""
    frame = pd.DataFrame(list(rows), columns=["created_at", "compound"])
    frame["created_at"] = pd.to_datetime(frame["created_at"].astype("int64"), unit="s", utc=True)
    frame["compound"] = frame["compound"].astype(float)
    return frame


def bucket_series(scores: pd.DataFrame, params: MetricParams, start: datetime | None = None,
                  end: datetime | None = None, rates: Rates | None = None) -> pd.DataFrame:
    """Bucket scored posts and smooth them.

    :param scores: columns ``created_at`` (aware) and ``compound``, and ``counted`` (1 where the post
        counts as negative in the share, ``scores.counted``) for the share family, estimated with ``rates``.
    :param start: first bucket covers this time (default: the first post).
    :param end: last bucket covers this time (default: the last post); empty buckets are kept.
    :returns: indexed by bucket start (UTC), columns ``posts`` (count), ``mean`` (mean compound, NaN
        when empty), ``negatives``, ``negative_share``, ``smoothed`` (sum of compound over the trailing
        ``smoothing_buckets`` buckets divided by their post count, so a quiet hour weighs little; NaN
        when the whole window is empty).
    """
    delta = params.bucket_delta
    times = scores["created_at"]
    if start is None and end is None and times.empty:
        return pd.DataFrame(columns=SERIES_COLUMNS, index=pd.DatetimeIndex([], tz="UTC", name="bucket"))
    first = pd.Timestamp(start if start is not None else times.min()).floor(delta)
    last = pd.Timestamp(end if end is not None else times.max()).floor(delta)
    bucket = times.dt.floor(delta)
    inside = (bucket >= first) & (bucket <= last)
    parts = pd.DataFrame({"compound": scores["compound"],
                          "negative": scores["compound"] <= NEGATIVE_THRESHOLD,
                          "square": scores["compound"] ** 2, "called": scores.get("counted", 0)})
    counts = (
        parts[inside]
        .groupby(bucket[inside])
        .agg(posts=("compound", "size"), total=("compound", "sum"), negatives=("negative", "sum"),
             squares=("square", "sum"), called_negative=("called", "sum"))
    )
    return series_from_counts(counts, params, first, last,
                              rates if "counted" in scores else None)


def share_counts(scores: pd.DataFrame, params: MetricParams) -> pd.DataFrame:
    """Per bucket, ``post_count`` and ``called_negative`` of scored posts (columns ``created_at`` and
    ``counted``, 1 where the post counts as negative), indexed by bucket start."""
    bucket = scores["created_at"].dt.floor(params.bucket_delta)
    return (scores.assign(one=1).groupby(bucket)
            .agg(post_count=("one", "size"), called_negative=("counted", "sum")))


def with_shares(series: pd.DataFrame, counts: pd.DataFrame, params: MetricParams, rates: Rates
                ) -> pd.DataFrame:
    """``series`` with its share columns from :func:`share_counts`' ``counts`` (buckets outside the
    series are dropped, buckets without a row are empty)."""
    where = series.index.get_indexer(counts.index) if len(counts) else np.zeros(0, dtype=np.intp)
    kept = where >= 0
    posts = np.zeros(len(series), dtype=np.int64)
    called = np.zeros(len(series), dtype=np.int64)
    posts[where[kept]] = counts["post_count"].to_numpy()[kept]
    called[where[kept]] = counts["called_negative"].to_numpy()[kept]
    out = series.copy()
    for name, values in share_columns(posts, called, params.smoothing_buckets, rates).items():
        out[name] = values
    out.attrs["rates"] = rates
    return out


def share_columns(posts: np.ndarray, called: np.ndarray, window: int, rates: Rates | None) -> dict:
    """The share family's columns from per-bucket posts and posts called negative (see
    ``SHARE_COLUMNS``); the estimates are NaN without ``rates``."""
    posts = np.asarray(posts, dtype=np.int64)
    called = np.asarray(called, dtype=np.int64)
    columns = {"post_count": posts, "called_negative": called}
    if rates is None:
        return {**columns, **{name: np.full(len(posts), np.nan)
                              for name in ("share", "share_smoothed", "share_lo", "share_hi")}}
    rolling_posts = _rolling_sum(posts, window)
    rolling_called = _rolling_sum(called, window)
    low, high = share_interval(rolling_called, rolling_posts, rates)
    return {**columns, "share": adjusted_share(called, posts, rates),
            "share_smoothed": adjusted_share(rolling_called, rolling_posts, rates),
            "share_lo": low, "share_hi": high}


def series_from_counts(counts: pd.DataFrame, params: MetricParams, first, last,
                       rates: Rates | None = None) -> pd.DataFrame:
    """The series from per-bucket totals (``posts``, ``total`` compound, ``negatives``, ``squares``
    (sum of compound squared), indexed by bucket start), as :func:`bucket_series` makes it: the
    store can sum the buckets in SQL instead.

    ``smoothed_lo`` and ``smoothed_hi`` are the 95% interval of the smoothed mean (normal
    approximation, from the variance of the posts in the trailing window; NaN under two posts):
    how far the line could move by chance, given how many posts it stands on and how much they
    disagree.
    """
    index = bucket_index(params, first, last)
    # Where each row of ``counts`` goes (-1: not a bucket of the index, dropped as reindex drops it).
    where = index.get_indexer(counts.index) if len(counts) else np.zeros(0, dtype=np.intp)
    called = counts["called_negative"].to_numpy() if "called_negative" in counts else None
    return series_from_sums(index, where, counts["posts"].to_numpy(), counts["total"].to_numpy(),
                            counts["negatives"].to_numpy(), counts["squares"].to_numpy(), params,
                            counts["posts"].to_numpy(), called, rates)


def bucket_index(params: MetricParams, first, last) -> pd.DatetimeIndex:
    """Every bucket start from ``first`` to ``last`` (both bucket starts), the index of a series."""
    return pd.date_range(pd.Timestamp(first), pd.Timestamp(last), freq=params.bucket_delta)


def series_from_sums(index: pd.DatetimeIndex, where: np.ndarray, posts, total, negatives, squares,
                     params: MetricParams, post_count=None, called_negative=None,
                     rates: Rates | None = None) -> pd.DataFrame:
    """:func:`series_from_counts` on arrays: row ``i`` of the sums is bucket ``where[i]`` of ``index``
    (rows at -1 are left out; buckets without a row are empty). Computed in numpy, with the same
    operations in the same order as the pandas columns they replace, so the figures are identical.
    ``post_count`` and ``called_negative`` (rows as the others) give the share family its figures;
    without them the posts are ``posts`` and the estimates NaN."""
    n = len(index)
    where = np.asarray(where, dtype=np.intp)
    kept = where >= 0
    at = where[kept]

    def spread_out(values, dtype):
        column = np.zeros(n, dtype=dtype)
        column[at] = np.asarray(values)[kept].astype(dtype)
        return column

    shares = share_columns(  # without post counts of their own, the votes are the posts
        spread_out(post_count if post_count is not None else posts, np.int64),
        spread_out(called_negative if called_negative is not None else np.zeros(len(where)), np.int64),
        params.smoothing_buckets, rates if called_negative is not None else None)
    posts = spread_out(posts, np.int64)
    negatives = spread_out(negatives, np.int64)
    total = spread_out(total, np.float64)
    squares = spread_out(squares, np.float64)
    window = params.smoothing_buckets
    with np.errstate(invalid="ignore", divide="ignore"):
        counted = np.where(posts > 0, posts, np.nan)
        mean = total / counted
        negative_share = negatives / counted
        rolling_total = _rolling_sum(total, window)
        rolling_posts = _rolling_sum(posts, window)
        smoothed = rolling_total / np.where(rolling_posts > 0, rolling_posts, np.nan)
        rolling_squares = _rolling_sum(squares, window)
        spread = _clip_lower(rolling_squares - rolling_posts * smoothed ** 2, 0.0)
        error = np.sqrt(spread / np.where(rolling_posts > 1, rolling_posts - 1, np.nan) / rolling_posts)
        smoothed_lo = _clip_lower(smoothed - BAND_Z * error, -1.0)
        smoothed_hi = _clip_upper(smoothed + BAND_Z * error, 1.0)
    frame = pd.DataFrame({
        "posts": posts, "mean": mean, "negatives": negatives, "negative_share": negative_share,
        "smoothed": smoothed, "smoothed_lo": smoothed_lo, "smoothed_hi": smoothed_hi, **shares,
    }, index=index.rename("bucket"), columns=SERIES_COLUMNS)
    frame.attrs["rates"] = rates if called_negative is not None else None  # what the shares used
    return frame


def _rolling_sum(values: np.ndarray, window: int) -> np.ndarray:
    """The trailing ``window`` sum, as pandas' ``rolling(window, min_periods=1).sum()`` adds it."""
    return pd.Series(values, dtype=np.float64, copy=False).rolling(window, min_periods=1).sum().to_numpy()


def _clip_lower(values: np.ndarray, lower: float) -> np.ndarray:
    """``values`` raised to ``lower`` where below it, NaN kept (pandas' ``clip(lower=...)``)."""
    return np.where(np.isnan(values) | (values >= lower), values, lower)


def _clip_upper(values: np.ndarray, upper: float) -> np.ndarray:
    """``values`` lowered to ``upper`` where above it, NaN kept (pandas' ``clip(upper=...)``)."""
    return np.where(np.isnan(values) | (values <= upper), values, upper)
