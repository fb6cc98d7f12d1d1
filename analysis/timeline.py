"""Bucketing and smoothing: the per-bucket series every metric and chart is built from."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from analysis.params import MetricParams

NEGATIVE = -0.05  # VADER's own convention: compound <= -0.05 is negative
SERIES_COLUMNS = ["posts", "mean", "negatives", "negative_share", "smoothed", "smoothed_lo", "smoothed_hi"]
BAND_Z = 1.959964  # the normal quantile of a 95% interval


def scores_frame(rows) -> pd.DataFrame:
    """A frame of scored posts from ``(epoch seconds, compound)`` pairs: columns created_at, compound."""
    frame = pd.DataFrame(list(rows), columns=["created_at", "compound"])
    frame["created_at"] = pd.to_datetime(frame["created_at"].astype("int64"), unit="s", utc=True)
    frame["compound"] = frame["compound"].astype(float)
    return frame


def bucket_series(scores: pd.DataFrame, params: MetricParams, start: datetime | None = None,
                  end: datetime | None = None) -> pd.DataFrame:
    """Bucket scored posts and smooth them.

    :param scores: columns ``created_at`` (aware) and ``compound``.
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
        return pd.DataFrame(columns=SERIES_COLUMNS, index=pd.DatetimeIndex([], tz="UTC"))
    first = pd.Timestamp(start if start is not None else times.min()).floor(delta)
    last = pd.Timestamp(end if end is not None else times.max()).floor(delta)
    bucket = times.dt.floor(delta)
    inside = (bucket >= first) & (bucket <= last)
    parts = pd.DataFrame({"compound": scores["compound"], "negative": scores["compound"] <= NEGATIVE,
                          "square": scores["compound"] ** 2})
    counts = (
        parts[inside]
        .groupby(bucket[inside])
        .agg(posts=("compound", "size"), total=("compound", "sum"), negatives=("negative", "sum"),
             squares=("square", "sum"))
    )
    return series_from_counts(counts, params, first, last)


def series_from_counts(counts: pd.DataFrame, params: MetricParams, first, last) -> pd.DataFrame:
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
    return series_from_sums(index, where, counts["posts"].to_numpy(), counts["total"].to_numpy(),
                            counts["negatives"].to_numpy(), counts["squares"].to_numpy(), params)


def bucket_index(params: MetricParams, first, last) -> pd.DatetimeIndex:
    """Every bucket start from ``first`` to ``last`` (both bucket starts), the index of a series."""
    return pd.date_range(pd.Timestamp(first), pd.Timestamp(last), freq=params.bucket_delta)


def series_from_sums(index: pd.DatetimeIndex, where: np.ndarray, posts, total, negatives, squares,
                     params: MetricParams) -> pd.DataFrame:
    """:func:`series_from_counts` on arrays: row ``i`` of the sums is bucket ``where[i]`` of ``index``
    (rows at -1 are left out; buckets without a row are empty). Computed in numpy, with the same
    operations in the same order as the pandas columns they replace, so the figures are identical."""
    n = len(index)
    where = np.asarray(where, dtype=np.intp)
    kept = where >= 0
    at = where[kept]

    def spread_out(values, dtype):
        column = np.zeros(n, dtype=dtype)
        column[at] = np.asarray(values)[kept].astype(dtype)
        return column

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
    return pd.DataFrame({
        "posts": posts, "mean": mean, "negatives": negatives, "negative_share": negative_share,
        "smoothed": smoothed, "smoothed_lo": smoothed_lo, "smoothed_hi": smoothed_hi,
    }, index=index.rename("bucket"), columns=SERIES_COLUMNS)


def _rolling_sum(values: np.ndarray, window: int) -> np.ndarray:
    """The trailing ``window`` sum, as pandas' ``rolling(window, min_periods=1).sum()`` adds it."""
    return pd.Series(values, dtype=np.float64, copy=False).rolling(window, min_periods=1).sum().to_numpy()


def _clip_lower(values: np.ndarray, lower: float) -> np.ndarray:
    """``values`` raised to ``lower`` where below it, NaN kept (pandas' ``clip(lower=...)``)."""
    return np.where(np.isnan(values) | (values >= lower), values, lower)


def _clip_upper(values: np.ndarray, upper: float) -> np.ndarray:
    """``values`` lowered to ``upper`` where above it, NaN kept (pandas' ``clip(upper=...)``)."""
    return np.where(np.isnan(values) | (values <= upper), values, upper)
