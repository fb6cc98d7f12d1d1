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
    index = pd.date_range(pd.Timestamp(first), pd.Timestamp(last), freq=params.bucket_delta)
    frame = counts.reindex(index, fill_value=0)
    frame["posts"] = frame["posts"].astype("int64")
    frame["negatives"] = frame["negatives"].astype("int64")
    frame["total"] = frame["total"].astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["mean"] = frame["total"] / frame["posts"].where(frame["posts"] > 0)
        frame["negative_share"] = frame["negatives"] / frame["posts"].where(frame["posts"] > 0)
        window = params.smoothing_buckets
        rolling_total = frame["total"].rolling(window, min_periods=1).sum()
        rolling_posts = frame["posts"].rolling(window, min_periods=1).sum()
        frame["smoothed"] = rolling_total / rolling_posts.where(rolling_posts > 0)
        rolling_squares = frame["squares"].astype(float).rolling(window, min_periods=1).sum()
        spread = (rolling_squares - rolling_posts * frame["smoothed"] ** 2).clip(lower=0)
        error = np.sqrt(spread / (rolling_posts - 1).where(rolling_posts > 1) / rolling_posts)
        frame["smoothed_lo"] = (frame["smoothed"] - BAND_Z * error).clip(lower=-1.0)
        frame["smoothed_hi"] = (frame["smoothed"] + BAND_Z * error).clip(upper=1.0)
    frame.index.name = "bucket"
    return frame[SERIES_COLUMNS]
