"""Dip and recovery metrics of one outage, exactly as defined in the README ("Metrics").

All functions are pure: a bucketed series in, a record out; ``now`` is passed in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from analysis.quantify import adjusted_share
from dipwatch.core.params import MetricParams

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
    # The share family (README "Metrics"): the estimated share of negative posts, per post.
    share_status: str = "no data"  # recovered | not recovered | ongoing | no baseline | no data
    share_baseline: float | None = None  # estimated negative share of the baseline's posts
    share_baseline_sd: float | None = None  # sample SD of the smoothed share over the baseline buckets
    share_during: float | None = None  # estimated negative share of the posts during the window
    share_peak: float | None = None  # highest smoothed share, from the start to the trough horizon
    share_peak_at: datetime | None = None
    share_peak_lo: float | None = None  # its 95% interval
    share_peak_hi: float | None = None
    share_rise_pts: float | None = None  # peak minus baseline, in percentage points
    share_rise_sd: float | None = None  # the same in baseline SDs
    share_recovered_at: datetime | None = None  # first bucket after the end from which the smoothed share
    # stays at or below baseline + recovery_sd SDs for the hold
    share_time_to_recover_h: float | None = None
    excess_negative_posts: float | None = None  # negative posts beyond the baseline share, start to recovery
    voices_during: int = 0  # authors' votes (one per author per bucket) behind the tone figures
    last_post_at: datetime | None = None  # the last bucket with posts up to now
    data_gap_h: float | None = None  # hours of whole empty buckets since then, when at least one

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
    return _baseline(bucket_ticks(index), index, start, others, params, now)


def bucket_ticks(index: pd.DatetimeIndex) -> np.ndarray:
    """The bucket starts as integer nanoseconds, to compare with :func:`time_tick` of a time."""
    return index.as_unit("ns").asi8


def time_tick(when, index: pd.DatetimeIndex) -> int:
    """``when`` in integer nanoseconds; like comparing it with ``index``, refuses to mix a naive time
    with an aware index (or the other way round)."""
    when = pd.Timestamp(when)
    if (when.tz is None) != (index.tz is None):
        kind = "naive" if index.tz is None else "aware"
        raise TypeError(f"cannot compare {when!r} with the series' {kind} bucket times")
    return when.value


def _baseline(ticks: np.ndarray, index: pd.DatetimeIndex, start, others: Iterable, params: MetricParams,
              now) -> np.ndarray:
    """:func:`baseline_mask` on the bucket starts in nanoseconds (``ticks``)."""
    step = pd.Timedelta(params.bucket_delta).value
    begin = time_tick(start, index)
    ends = ticks + step
    mask = (ticks >= begin - pd.Timedelta(days=params.baseline_days).value) & (ends <= begin)
    margin = pd.Timedelta(hours=params.exclusion_margin_h).value
    for other in others:
        low = time_tick(other.start, index) - margin
        high = time_tick(other.end or now, index) + margin
        mask &= ~((ends > low) & (ticks < high))
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
    # On the columns' arrays and the bucket times in integer nanoseconds (selecting rows of the frame
    # and comparing Timestamps cost most of the time, three outages per brand view); the sums, means
    # and minima are the ones pandas took, so the figures are identical.
    bucket_h = params.bucket_hours
    now = pd.Timestamp(now)
    start = pd.Timestamp(outage.start)
    end = pd.Timestamp(outage.end) if outage.end is not None else None
    until = end if end is not None else now
    index = series.index
    ticks = bucket_ticks(index)
    ends = ticks + pd.Timedelta(params.bucket_delta).value
    smoothed = series["smoothed"].to_numpy(dtype=np.float64)
    # Posts are posts: the tone's one-author-one-voice votes are counted apart (voices_during).
    posts = series["post_count"].to_numpy()
    negatives = series["negatives"].to_numpy()
    present = ~np.isnan(smoothed)
    start_tick, until_tick, now_tick = time_tick(start, index), time_tick(until, index), time_tick(now, index)

    base = _baseline(ticks, index, start, others, params, now)
    baseline_posts, baseline_mean, baseline_sd, baseline_rate, negative_share_baseline = _base_figures(
        base, posts, series["posts"].to_numpy(), negatives, smoothed, bucket_h)

    after_start = ends > start_tick
    during = after_start & (ticks < until_tick)
    posts_during = int(posts[during].sum())
    # The last bucket with posts: hours after it are no data, not quiet (the series starts at the
    # first post, so hours before collection never count).
    rate_during = _rate_during(ticks, ends, during, last_seen := _last_with_posts(posts), posts_during,
                               bucket_h)
    votes_during = int(series["posts"].to_numpy()[during].sum())  # the tone's share is of votes
    negative_share_during = negatives[during].sum() / votes_during if votes_during else None
    volume_lift = rate_during / baseline_rate if rate_during is not None and baseline_rate else None

    horizon = until + pd.Timedelta(hours=params.trough_horizon_h) if end is not None else now
    horizon_tick = min(time_tick(horizon, index), now_tick)
    solid = resting(series["posts"].to_numpy(), params)  # the tone rests on votes
    trough, trough_at, time_to_trough = _trough(
        index, smoothed, after_start & (ticks <= horizon_tick) & present & solid, start)

    dip_depth = dip_depth_sd = None
    if baseline_mean is not None and trough is not None:
        dip_depth = baseline_mean - trough
        if baseline_sd:
            dip_depth_sd = dip_depth / baseline_sd

    recovered_at = None
    if end is not None and baseline_mean is not None:
        threshold = baseline_mean - params.recovery_sd * (baseline_sd or 0.0)
        after_end = np.flatnonzero(ticks >= time_tick(end, index))
        found = _first_held(smoothed[after_end] >= threshold, params)
        recovered_at = index[after_end[found]] if found is not None else None

    status = _status(end, recovered_at, baseline_mean)
    lost = None
    if baseline_mean is not None:
        stop = time_tick(recovered_at, index) if recovered_at is not None else now_tick
        below = baseline_mean - smoothed[after_start & (ticks < stop) & present]
        lost = float(np.where(below >= 0, below, 0).sum() * bucket_h)

    shares = _share_figures(series, ticks, ends, base, after_start, during, horizon_tick, now_tick, end,
                            index, params, votes_during, last_seen)
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
        **shares,
    )


def _last_with_posts(posts: np.ndarray) -> int | None:
    """Where the last bucket with posts is, None when none has any."""
    seen = np.flatnonzero(posts > 0)
    return int(seen[-1]) if len(seen) else None


def _rate_during(ticks: np.ndarray, ends: np.ndarray, during: np.ndarray, last_seen: int | None,
                 posts_during: int, bucket_h: float) -> float | None:
    """Posts per hour in the ``during`` buckets (every bucket that overlaps the window) up to the
    last bucket with posts (``last_seen``): hours after the posts stopped do not lower the volume."""
    data_end = ends[last_seen] if last_seen is not None else ticks[0] if len(ticks) else 0
    hours_during = int((during & (ticks < data_end)).sum()) * bucket_h
    return posts_during / hours_during if hours_during else None


def resting(counts: np.ndarray, params: MetricParams) -> np.ndarray:
    """Buckets a trough or a peak may rest on, from per-bucket ``counts`` (posts, or votes for the
    tone): with some of their own, and at least ``peak_min_posts`` in their smoothing window."""
    counts = np.asarray(counts, dtype=np.float64)
    window = pd.Series(counts).rolling(params.smoothing_buckets, min_periods=1).sum().to_numpy()
    return (counts > 0) & (window >= params.peak_min_posts)


def _share_figures(series: pd.DataFrame, ticks: np.ndarray, ends: np.ndarray, base: np.ndarray,
                   after_start: np.ndarray, during: np.ndarray, horizon_tick: int, now_tick: int, end,
                   index: pd.DatetimeIndex,
                   params: MetricParams, voices_during: int, last_seen: int | None) -> dict:
    """The share family of one outage (the fields after ``sparse_reason``)."""
    posts = series["post_count"].to_numpy(dtype=np.int64)
    called = series["called_negative"].to_numpy(dtype=np.int64)
    share = series["share_smoothed"].to_numpy(dtype=np.float64)
    lo, hi = series["share_lo"].to_numpy(dtype=np.float64), series["share_hi"].to_numpy(dtype=np.float64)
    rates = series.attrs.get("rates")
    step_h = params.bucket_hours
    last = index[last_seen] if last_seen is not None else None
    # Whole empty buckets up to the current one: measured to the second, two reports a second apart
    # differed in the 4th decimal (tests/test_report.py compares them).
    step = pd.Timedelta(params.bucket_delta).value
    gap = ((now_tick - now_tick % step) - ends[last_seen]) / HOUR.value if last_seen is not None else None
    figures: dict = {
        "share_status": "no data", "share_baseline": None, "share_baseline_sd": None, "share_during": None,
        "share_peak": None, "share_peak_at": None, "share_peak_lo": None, "share_peak_hi": None,
        "share_rise_pts": None, "share_rise_sd": None, "share_recovered_at": None,
        "share_time_to_recover_h": None, "excess_negative_posts": None,
        "voices_during": voices_during,
        "last_post_at": last.to_pydatetime() if last is not None else None,
        "data_gap_h": gap if gap is not None and gap >= step_h else None,
    }
    if np.isnan(share).all():
        return figures
    if rates is None:  # pandas keeps attrs through copies and slices, not through every operation
        raise ValueError("series: share columns without the error rates that estimated them "
                         "(series.attrs['rates'] was lost on the way from analysis.timeline)")

    def pooled(mask: np.ndarray) -> float | None:
        total = posts[mask].sum()
        return float(adjusted_share(called[mask].sum(), total, rates)) if total else None

    figures["share_during"] = pooled(during)
    baseline = pooled(base)
    base_values = pd.Series(share[base])
    sd = _clean(base_values.std()) if baseline is not None else None
    figures["share_baseline"], figures["share_baseline_sd"] = baseline, sd
    searched = np.flatnonzero(after_start & (ticks <= horizon_tick) & ~np.isnan(share)
                              & resting(posts, params))
    if len(searched):
        top = searched[np.argmax(share[searched])]
        figures.update(share_peak=float(share[top]), share_peak_at=index[top].to_pydatetime(),
                       share_peak_lo=_clean(lo[top]), share_peak_hi=_clean(hi[top]))
    if baseline is None:
        figures["share_status"] = "no baseline"
        return figures
    if figures["share_peak"] is not None:
        rise = figures["share_peak"] - baseline
        figures["share_rise_pts"] = 100 * rise
        figures["share_rise_sd"] = rise / sd if sd else None
    recovered_at = None
    if end is not None:
        band = baseline + params.recovery_sd * (sd or 0.0)
        after_end = np.flatnonzero(ticks >= time_tick(end, index))
        found = _first_held(share[after_end] <= band, params)  # NaN (no posts) breaks a run
        recovered_at = index[after_end[found]] if found is not None else None
    stop = time_tick(recovered_at, index) if recovered_at is not None else now_tick
    window = after_start & (ticks < stop)
    estimated = pooled(window)
    figures["excess_negative_posts"] = (
        max(0.0, (estimated - baseline) * float(posts[window].sum())) if estimated is not None else None)
    figures["share_recovered_at"] = recovered_at.to_pydatetime() if recovered_at is not None else None
    if recovered_at is not None:
        figures["share_time_to_recover_h"] = (recovered_at - pd.Timestamp(end)) / HOUR
    if end is None:
        figures["share_status"] = "ongoing"
    else:
        figures["share_status"] = "recovered" if recovered_at is not None else "not recovered"
    if figures["data_gap_h"] is not None and recovered_at is None:
        figures["share_status"] = "no data"  # the posts stopped: nothing says whether it recovered
    return figures


def _trough(index: pd.DatetimeIndex, smoothed: np.ndarray, searched: np.ndarray, start: pd.Timestamp
            ) -> tuple[float | None, pd.Timestamp | None, float | None]:
    """The lowest smoothed value among the ``searched`` buckets (the first of equal minima, as
    ``idxmin``), its bucket, and the hours from ``start`` to it; Nones when none is searched."""
    search = np.flatnonzero(searched)
    if not len(search):
        return None, None, None
    lowest = search[np.argmin(smoothed[search])]
    trough_at = index[lowest]
    return float(smoothed[lowest]), trough_at, max(0.0, (trough_at - start) / HOUR)


def _base_figures(base: np.ndarray, posts: np.ndarray, votes: np.ndarray, negatives: np.ndarray,
                  smoothed: np.ndarray, bucket_h: float) -> tuple:
    """Posts, mean and SD of the smoothed sentiment, posts per hour and negative share (of votes) of
    the baseline buckets ``base``."""
    baseline_buckets = int(base.sum())
    baseline_posts = int(posts[base].sum())
    base_smoothed = pd.Series(smoothed[base])  # pandas' NaN-skipping mean and sample SD
    baseline_mean = _clean(base_smoothed.mean()) if baseline_posts else None
    baseline_sd = _clean(base_smoothed.std()) if baseline_posts else None
    baseline_rate = baseline_posts / (baseline_buckets * bucket_h) if baseline_buckets else None
    counted = votes[base].sum()
    negative_share = negatives[base].sum() / counted if counted else None
    return baseline_posts, baseline_mean, baseline_sd, baseline_rate, negative_share


def _first_held(ok: np.ndarray, params: MetricParams) -> int | None:
    """Where the first run of ``recovery_hold_h`` (in buckets, at least one) true values in ``ok``
    begins; None when there is none. An empty bucket (NaN, not >= the threshold) is no evidence of
    recovery and breaks a run; the run must be complete inside the series, so recovery is never
    declared on data that has not arrived yet."""
    full = np.flatnonzero(held_runs(ok, hold_buckets(params)))
    return int(full[0]) if len(full) else None


def hold_buckets(params: MetricParams) -> int:
    """The buckets a recovery must hold for: ``recovery_hold_h`` in buckets, at least one."""
    return max(1, math.ceil(params.recovery_hold_h / params.bucket_hours))


def held_runs(ok: np.ndarray, hold: int) -> np.ndarray:
    """Along the first axis of ``ok`` (one series, or one per column): for each ``j``, whether
    ``ok[j]`` to ``ok[j + hold - 1]`` are all true (empty when ``ok`` is shorter than ``hold``)."""
    counted = np.zeros((len(ok) + 1, *np.shape(ok)[1:]), dtype=np.int64)
    np.cumsum(ok, axis=0, out=counted[1:])
    return counted[hold:] - counted[:-hold] == hold


def _status(end, recovered_at, baseline_mean) -> str:
    if baseline_mean is None:
        return "no baseline"
    if end is None:
        return "ongoing"
    return "recovered" if recovered_at is not None else "not recovered"
