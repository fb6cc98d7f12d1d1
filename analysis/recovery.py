"""Dip and recovery metrics of one outage, exactly as defined in the README ("Metrics").

All functions are pure: a bucketed series in, a record out; ``now`` is passed in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime

import pandas as pd

from analysis.params import MetricParams

HOUR = pd.Timedelta("1h")


@dataclass(frozen=True)
class OutageMetrics:
    """The report's record for one outage (times UTC; None where a figure cannot be computed)."""

    outage_id: int | None
    brand: str
    label: str
    severity: str
    start: datetime
    end: datetime | None
    status: str  # recovered | not recovered | ongoing | no baseline
    baseline_mean: float | None
    baseline_sd: float | None
    baseline_posts: int
    baseline_posts_per_h: float | None
    trough: float | None
    trough_at: datetime | None
    dip_depth: float | None
    dip_depth_sd: float | None
    time_to_trough_h: float | None
    recovered_at: datetime | None
    time_to_recover_h: float | None
    hours_since_end: float | None
    sentiment_hours_lost: float | None
    volume_lift: float | None
    posts_per_h_during: float | None
    negative_share_baseline: float | None
    negative_share_during: float | None
    posts_during: int
    sparse: bool
    sparse_reason: str | None

    def as_dict(self) -> dict:
        return asdict(self)


def _clean(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def baseline_mask(index: pd.DatetimeIndex, start: pd.Timestamp, others: Iterable,
                  params: MetricParams, now: pd.Timestamp):
    """Buckets of the baseline: the ``baseline_days`` before ``start``, leaving out every other
    window and ``exclusion_margin_h`` hours either side of it (an open window runs until ``now``)."""
    delta = params.bucket_delta
    mask = (index >= start - pd.Timedelta(days=params.baseline_days)) & (index + delta <= start)
    margin = pd.Timedelta(hours=params.exclusion_margin_h)
    for other in others:
        low = pd.Timestamp(other.start) - margin
        high = pd.Timestamp(other.end or now) + margin
        mask &= ~((index + delta > low) & (index < high))
    return mask


def outage_metrics(series: pd.DataFrame, outage, others: Iterable, params: MetricParams,
                   now: datetime, outage_id: int | None = None) -> OutageMetrics:
    """Measure one outage's dip and recovery.

    :param series: from :func:`analysis.timeline.bucket_series`, covering at least the baseline
        period before the outage through ``now`` (empty buckets included).
    :param outage: has ``brand``, ``start``, ``end`` (None: ongoing), ``label``, ``severity``.
    :param others: the brand's other windows, left out of the baseline with their margin.
    :param now: the time the figures are "as of"; an ongoing outage runs until then.
    """
    delta = params.bucket_delta
    bucket_h = params.bucket_hours
    now = pd.Timestamp(now)
    start = pd.Timestamp(outage.start)
    end = pd.Timestamp(outage.end) if outage.end is not None else None
    until = end if end is not None else now
    index = series.index
    smoothed = series["smoothed"]

    base = series[baseline_mask(index, start, others, params, now)]
    baseline_posts = int(base["posts"].sum())
    baseline_mean = _clean(base["smoothed"].mean()) if baseline_posts else None
    baseline_sd = _clean(base["smoothed"].std()) if baseline_posts else None
    baseline_rate = baseline_posts / (len(base) * bucket_h) if len(base) else None
    negative_share_baseline = base["negatives"].sum() / baseline_posts if baseline_posts else None

    # "During" figures use every bucket that overlaps the window.
    during = series[(index + delta > start) & (index < until)]
    posts_during = int(during["posts"].sum())
    hours_during = len(during) * bucket_h
    rate_during = posts_during / hours_during if hours_during else None
    negative_share_during = during["negatives"].sum() / posts_during if posts_during else None
    volume_lift = rate_during / baseline_rate if rate_during is not None and baseline_rate else None

    horizon = until + pd.Timedelta(hours=params.trough_horizon_h) if end is not None else now
    search = smoothed[(index + delta > start) & (index <= min(horizon, now))].dropna()
    trough = trough_at = time_to_trough = None
    if not search.empty:
        trough_at = search.idxmin()
        trough = float(search.loc[trough_at])
        time_to_trough = max(0.0, (trough_at - start) / HOUR)

    dip_depth = dip_depth_sd = None
    if baseline_mean is not None and trough is not None:
        dip_depth = baseline_mean - trough
        if baseline_sd:
            dip_depth_sd = dip_depth / baseline_sd

    recovered_at = None
    if end is not None and baseline_mean is not None:
        threshold = baseline_mean - params.recovery_sd * (baseline_sd or 0.0)
        recovered_at = _recovered_at(smoothed[index >= end], threshold, params)

    status = _status(end, recovered_at, baseline_mean)
    lost = None
    if baseline_mean is not None:
        stop = recovered_at if recovered_at is not None else now
        span = smoothed[(index + delta > start) & (index < stop)].dropna()
        lost = float((baseline_mean - span).clip(lower=0).sum() * bucket_h)

    reasons = []
    if baseline_posts < params.sparse_min_posts:
        reasons.append(f"baseline rests on {baseline_posts} posts")
    if posts_during < params.sparse_min_posts:
        reasons.append(f"outage window has {posts_during} posts")
    return OutageMetrics(
        outage_id=outage_id,
        brand=outage.brand,
        label=outage.label,
        severity=getattr(outage, "severity", "unknown"),
        start=start.to_pydatetime(),
        end=end.to_pydatetime() if end is not None else None,
        status=status,
        baseline_mean=baseline_mean,
        baseline_sd=baseline_sd,
        baseline_posts=baseline_posts,
        baseline_posts_per_h=baseline_rate,
        trough=trough,
        trough_at=trough_at.to_pydatetime() if trough_at is not None else None,
        dip_depth=dip_depth,
        dip_depth_sd=dip_depth_sd,
        time_to_trough_h=time_to_trough,
        recovered_at=recovered_at.to_pydatetime() if recovered_at is not None else None,
        time_to_recover_h=(recovered_at - end) / HOUR if recovered_at is not None else None,
        hours_since_end=(now - end) / HOUR if end is not None and recovered_at is None else None,
        sentiment_hours_lost=lost,
        volume_lift=volume_lift,
        posts_per_h_during=rate_during,
        negative_share_baseline=_clean(negative_share_baseline),
        negative_share_during=_clean(negative_share_during),
        posts_during=posts_during,
        sparse=bool(reasons),
        sparse_reason="; ".join(reasons) or None,
    )


def _recovered_at(after_end: pd.Series, threshold: float, params: MetricParams) -> pd.Timestamp | None:
    """First bucket from which the smoothed sentiment stays >= threshold for ``recovery_hold_h``.

    An empty bucket (NaN) is no evidence of recovery and breaks a run; the run must be complete
    inside the series, so recovery is never declared on data that has not arrived yet.
    """
    hold = max(1, math.ceil(params.recovery_hold_h / params.bucket_hours))
    ok = (after_end >= threshold).to_numpy()
    run = 0
    for i, good in enumerate(ok):
        run = run + 1 if good else 0
        if run >= hold:
            return after_end.index[i - hold + 1]
    return None


def _status(end, recovered_at, baseline_mean) -> str:
    if baseline_mean is None:
        return "no baseline"
    if end is None:
        return "ongoing"
    return "recovered" if recovered_at is not None else "not recovered"
