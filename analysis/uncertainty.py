"""How sure are we: bootstrap intervals for the dip and recovery metrics, and one author, one voice.

Pure: scored posts in, records out; the random generator is seeded, so the same inputs always give
the same intervals.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime

import numpy as np
import pandas as pd

from analysis.params import MetricParams
from analysis.recovery import outage_metrics
from analysis.timeline import NEGATIVE, bucket_series

INTERVAL_METRICS = ("dip_depth", "trough", "time_to_recover_h")
DEFAULT_RESAMPLES = 200
DEFAULT_LEVEL = 0.95


VOTE_DIGITS = 10  # places an author's vote (their mean in a bucket) is rounded to


def one_voice(scores: pd.DataFrame, params: MetricParams) -> pd.DataFrame:
    """Count each author at most once per bucket: an author's posts in a bucket become one vote,
    their mean compound, timed at their first post in it. Posts with no author hash stay as they are
    (nothing says two of them share an author).

    :param scores: columns ``created_at`` (aware), ``compound``, ``author_hash`` (None when unknown).
    :returns: the same columns, one row per (bucket, author) and one per anonymous post, by time.
    """
    columns = ["created_at", "compound", "author_hash"]
    known = scores["author_hash"].notna()
    named = scores[known]
    votes = (
        named.assign(bucket=named["created_at"].dt.floor(params.bucket_delta))
        .groupby(["bucket", "author_hash"], sort=False)
        .agg(created_at=("created_at", "min"), compound=("compound", "mean"))
        .reset_index()[columns]
    )
    # Rounded, as the store's rollup rounds them: a mean of exactly -0.05 summed in another order
    # differs in the last bit, and must count as negative either way.
    votes["compound"] = votes["compound"].round(VOTE_DIGITS)
    frames = [f for f in (votes, scores.loc[~known, columns]) if not f.empty]
    if not frames:
        return scores[columns].iloc[:0]
    merged = pd.concat(frames, ignore_index=True)
    merged["author_hash"] = merged["author_hash"].astype(object).where(merged["author_hash"].notna(), None)
    return merged.sort_values("created_at", kind="stable").reset_index(drop=True)


def bootstrap_intervals(scores: pd.DataFrame, outage, others: Iterable, params: MetricParams,
                        now: datetime, resamples: int = DEFAULT_RESAMPLES, seed: int = 0,
                        level: float = DEFAULT_LEVEL, start: datetime | None = None) -> dict:
    """Percentile bootstrap intervals for dip depth, trough and time to recover of one outage.

    Trough and dip depth are taken at the point estimate's trough bucket (see below), so their
    intervals say how sure the level at the lowest point is, not which bucket was lowest.

    Each resample draws, within every bucket, as many posts as the bucket has, with replacement,
    then recomputes the series and the metrics exactly as :func:`analysis.recovery.outage_metrics`
    does. Bucket volumes stay fixed: the interval is about which posts were said, not how many.

    :param scores: the posts (or one-voice votes) the point estimate was measured on: columns
        ``created_at`` and ``compound``.
    :param start: the first bucket of the point estimate's series (default: the first post), so
        the resampled series line up with it.
    :param resamples: default 200; ``seed``: default 0; ``level``: default 0.95 (2.5% to 97.5%).
    :returns: ``{metric}_lo`` and ``{metric}_hi`` for dip_depth, trough and time_to_recover_h (None
        when no resample gives a value; time_to_recover_h_hi is None when more than the upper tail
        of resamples never recover), ``recovered_share`` (share of resamples that recovered, None
        for an outage without an end or baseline), ``interval_level`` and ``resamples``.
    """
    if resamples < 1:
        raise ValueError(f"resamples: expected 1 or more, got {resamples}")
    if not 0 < level < 1:
        raise ValueError(f"level: expected between 0 and 1, got {level}")
    others = list(others)
    if scores.empty:  # nothing to resample: no interval
        return {**{f"{name}_{end}": None for name in INTERVAL_METRICS for end in ("lo", "hi")},
                "recovered_share": None, "interval_level": level, "resamples": resamples}
    delta = params.bucket_delta
    now_ts = pd.Timestamp(now)
    times = scores["created_at"]
    first = pd.Timestamp(start if start is not None else times.min()).floor(delta)
    # Only the buckets the metrics read: smoothing lead-in, baseline, outage, recovery, to now.
    lead = pd.Timestamp(outage.start) - pd.Timedelta(days=params.baseline_days)
    lead = (lead - delta * (params.smoothing_buckets - 1)).floor(delta)
    first = max(first, lead)
    last = now_ts.floor(delta)
    inside = (times >= first) & (times < last + delta)
    frame = pd.DataFrame({"created_at": times[inside].to_numpy(),
                          "compound": scores.loc[inside, "compound"].to_numpy(dtype=float)})
    frame = frame.sort_values("created_at", kind="stable").reset_index(drop=True)
    base = bucket_series(frame, params, first, last)
    slot = ((frame["created_at"].dt.floor(delta) - first) // delta).to_numpy(dtype=np.int64)
    offsets, sizes = _bucket_layout(slot)
    compound = frame["compound"].to_numpy()
    rng = np.random.default_rng(seed)
    values: dict[str, list[float]] = {name: [] for name in INTERVAL_METRICS}
    recovered = 0
    # The trough's interval is that of the smoothed sentiment at the estimate's trough bucket. The
    # minimum of each resampled series would be biased low (noise makes every resample's lowest
    # bucket lower), so on a long outage its interval could miss the estimate altogether (seen on
    # the demo's 10-day outage: dip depth 0.809, min-based interval [0.817, 0.901]).
    trough_at = outage_metrics(base, outage, others, params, now).trough_at
    at = None if trough_at is None else base.index.get_loc(pd.Timestamp(trough_at))
    for _ in range(resamples):
        drawn = compound[offsets + np.floor(rng.random(len(compound)) * sizes).astype(np.int64)]
        series = _with_sums(base, np.bincount(slot, weights=drawn, minlength=len(base)),
                            np.bincount(slot, weights=drawn <= NEGATIVE, minlength=len(base)), params)
        metrics = outage_metrics(series, outage, others, params, now)
        if at is not None:
            trough = float(series["smoothed"].iloc[at])
            if not math.isnan(trough):
                values["trough"].append(trough)
                if metrics.baseline_mean is not None:
                    values["dip_depth"].append(metrics.baseline_mean - trough)
        if metrics.end is not None and metrics.baseline_mean is not None:
            recovered += metrics.time_to_recover_h is not None
            values["time_to_recover_h"].append(
                math.inf if metrics.time_to_recover_h is None else metrics.time_to_recover_h)
    record: dict = {}
    tail = (1 - level) / 2
    for name, found in values.items():
        low = high = None
        if found:
            low, high = (float(q) for q in np.quantile(found, [tail, 1 - tail], method="inverted_cdf"))
        record[f"{name}_lo"] = None if low is None or math.isinf(low) else low
        record[f"{name}_hi"] = None if high is None or math.isinf(high) else high
    record["recovered_share"] = recovered / len(values["time_to_recover_h"]) if values[
        "time_to_recover_h"] else None
    record["interval_level"] = level
    record["resamples"] = resamples
    return record


def _with_sums(base: pd.DataFrame, total: np.ndarray, negatives: np.ndarray,
               params: MetricParams) -> pd.DataFrame:
    """``base`` (a :func:`bucket_series` result) with new per-bucket sums of compound and negatives,
    its other columns recomputed as bucket_series does; post counts are unchanged."""
    posts = base["posts"].to_numpy(dtype=float)
    window = params.smoothing_buckets
    with np.errstate(invalid="ignore", divide="ignore"):
        counted = np.where(posts > 0, posts, np.nan)
        rolling_total = pd.Series(total).rolling(window, min_periods=1).sum().to_numpy()
        rolling_posts = pd.Series(posts).rolling(window, min_periods=1).sum().to_numpy()
        return pd.DataFrame({
            "posts": base["posts"].to_numpy(), "mean": total / counted,
            "negatives": negatives.astype(np.int64), "negative_share": negatives / counted,
            "smoothed": rolling_total / np.where(rolling_posts > 0, rolling_posts, np.nan),
        }, index=base.index)


def _bucket_layout(groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For posts sorted by bucket: each post's bucket's first position and the bucket's size."""
    if len(groups) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    change = np.r_[True, groups[1:] != groups[:-1]]
    starts = np.flatnonzero(change)
    sizes = np.diff(np.r_[starts, len(groups)])
    run = np.cumsum(change) - 1
    return starts[run], sizes[run]
