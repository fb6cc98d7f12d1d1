"""How sure are we: bootstrap intervals for the dip and recovery metrics, and one author, one voice.

Pure: scored posts or per-bucket sums in, records out; the random generator is seeded, so the same
inputs always give the same intervals.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

import numpy as np
import pandas as pd

from analysis.recovery import HOUR, baseline_mask, held_runs, hold_buckets
from dipwatch.core.conventions import VOTE_DIGITS
from dipwatch.core.params import MetricParams

INTERVAL_METRICS = ("dip_depth", "trough", "time_to_recover_h")
DEFAULT_RESAMPLES = 200
DEFAULT_LEVEL = 0.95


# A bucket whose votes' sum of squared deviations is below this share of their sum of squares is
# taken as unanimous: what is left is the rounding of the sums (the rollup's are kept by adding and
# taking away), not disagreement, and would otherwise blur a zero-width interval by ~1e-9.
SPREAD_ROUNDING = 1e-10
# Hours after an outage's end the resamples' recovery is first looked for; those not recovered by
# then are followed further, as far as the data goes (the intervals are the same either way).
AFTER_END_H = 48


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


def bucket_sums(scores: pd.DataFrame, params: MetricParams) -> pd.DataFrame:
    """Per-bucket ``posts``, ``total`` (sum of compound) and ``squares`` (sum of compound squared) of
    ``scores`` (columns ``created_at``, ``compound``), indexed by bucket start, non-empty buckets
    only: what the store's rollup keeps (:meth:`dipwatch.store.Store.bucket_totals`)."""
    compound = scores["compound"].astype(float)
    parts = pd.DataFrame({"compound": compound, "square": compound ** 2})
    sums = (parts.groupby(scores["created_at"].dt.floor(params.bucket_delta))
            .agg(posts=("compound", "size"), total=("compound", "sum"), squares=("square", "sum")))
    sums.index.name = "bucket"
    return sums


def bootstrap_intervals(scores: pd.DataFrame, outage, others: Iterable, params: MetricParams,
                        now: datetime, resamples: int = DEFAULT_RESAMPLES, seed: int = 0,
                        level: float = DEFAULT_LEVEL, start: datetime | None = None) -> dict:
    """:func:`bootstrap_from_sums` of scored posts (or one-voice votes): columns ``created_at`` and
    ``compound``; ``start`` defaults to the first post."""
    _check(resamples, level)
    if scores.empty:
        return _no_interval(level, resamples)
    first = start if start is not None else scores["created_at"].min()
    return bootstrap_from_sums(bucket_sums(scores, params), outage, others, params, now, resamples,
                               seed, level, first)


def bootstrap_from_sums(sums: pd.DataFrame, outage, others: Iterable, params: MetricParams,
                        now: datetime, resamples: int = DEFAULT_RESAMPLES, seed: int = 0,
                        level: float = DEFAULT_LEVEL, start: datetime | None = None) -> dict:
    """Percentile bootstrap intervals for dip depth, trough and time to recover of one outage, from
    the per-bucket sums its series is made of.

    Trough and dip depth are taken at the point estimate's trough bucket (see below), so their
    intervals say how sure the level at the lowest point is, not which bucket was lowest.

    What is resampled: each bucket's sum of compound. Redrawing a bucket's n votes with replacement
    (the nonparametric bootstrap within buckets) gives a resampled sum with mean ``total`` and
    variance ``squares - total**2 / n`` exactly; each resample draws every bucket's sum from the
    normal distribution with that mean and variance, independently (a moment-matched parametric
    bootstrap, which needs only the sums the store keeps, not the votes). Bucket volumes stay fixed:
    the interval is about what was said, not how much. The smoothed series is linear in the sums, so
    it has the same means and covariances as under the nonparametric draw; the series and the three
    metrics of every resample are then computed at once, exactly as
    :func:`analysis.recovery.outage_metrics` defines them.

    :param sums: columns ``posts``, ``total``, ``squares``, indexed by bucket start (aware), as
        :func:`bucket_sums` makes them or the store's rollup keeps them; empty buckets may be left out.
    :param start: the first bucket of the point estimate's series (default: the first bucket of
        ``sums``), so the resampled series line up with it.
    :param resamples: default 200; ``seed``: default 0; ``level``: default 0.95 (2.5% to 97.5%).
    :returns: ``{metric}_lo`` and ``{metric}_hi`` for dip_depth, trough and time_to_recover_h (None
        when no resample gives a value; time_to_recover_h_hi is None when more than the upper tail
        of resamples never recover), ``recovered_share`` (share of resamples that recovered, None
        for an outage without an end or baseline), ``interval_level`` and ``resamples``.
    """
    _check(resamples, level)
    sums = sums[sums["posts"] > 0]
    if sums.empty:  # nothing to resample: no interval
        return _no_interval(level, resamples)
    others = list(others)
    delta = params.bucket_delta
    first = pd.Timestamp(start if start is not None else sums.index.min()).floor(delta)
    # Only the buckets the metrics read: smoothing lead-in, baseline, outage, recovery, to now.
    lead = pd.Timestamp(outage.start) - pd.Timedelta(days=params.baseline_days)
    first = max(first, (lead - delta * (params.smoothing_buckets - 1)).floor(delta))
    index = pd.date_range(first, pd.Timestamp(now).floor(delta), freq=delta)
    frame = sums.reindex(index, fill_value=0)
    posts = frame["posts"].to_numpy(dtype=float)
    total = frame["total"].to_numpy(dtype=float)
    squares = frame["squares"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        spread = squares - total * total / posts  # n times the bucket's variance: NaN when empty
    spread[~(spread > SPREAD_ROUNDING * squares)] = 0.0

    # The estimate itself: where its trough is, and whether recovery is measured at all (an end and
    # a baseline: the same for every resample, whose volumes are the data's). Its trough is looked
    # for up to the horizon: the buckets after it do not count.
    until = pd.Timestamp(outage.end if outage.end is not None else now)
    horizon = until + pd.Timedelta(hours=params.trough_horizon_h) if outage.end is not None else until
    upto = int(index.searchsorted(min(horizon, pd.Timestamp(now)), side="right"))
    point = _resampled_metrics(index[:upto], posts[:upto], total[:upto, None], outage, others, params,
                               now)
    # The trough's interval is that of the smoothed sentiment at the estimate's trough bucket. The
    # minimum of each resampled series would be biased low (noise makes every resample's lowest
    # bucket lower), so on a long outage its interval could miss the estimate altogether (seen on
    # the demo's 10-day outage: dip depth 0.809, min-based interval [0.817, 0.901]).
    at = None if point.trough_at is None else int(point.trough_at[0])
    recovering = point.time_to_recover_h is not None
    values = _resampled_values(index, posts, total, spread, at, recovering, outage, others, params,
                               now, resamples, seed)
    record: dict = {}
    tail = (1 - level) / 2
    for name, drawn in values.items():
        low = high = None
        if len(drawn):
            low, high = (float(q) for q in np.quantile(drawn, [tail, 1 - tail], method="inverted_cdf"))
        record[f"{name}_lo"] = None if low is None or math.isinf(low) else low
        record[f"{name}_hi"] = None if high is None or math.isinf(high) else high
    recovery = values["time_to_recover_h"]
    record["recovered_share"] = float(np.isfinite(recovery).mean()) if len(recovery) else None
    record["interval_level"] = level
    record["resamples"] = resamples
    return record


def _check(resamples: int, level: float) -> None:
    if resamples < 1:
        raise ValueError(f"resamples: expected 1 or more, got {resamples}")
    if not 0 < level < 1:
        raise ValueError(f"level: expected between 0 and 1, got {level}")


def _no_interval(level: float, resamples: int) -> dict:
    return {**{f"{name}_{end}": None for name in INTERVAL_METRICS for end in ("lo", "hi")},
            "recovered_share": None, "interval_level": level, "resamples": resamples}


def _resampled_values(index: pd.DatetimeIndex, posts: np.ndarray, total: np.ndarray,
                      spread: np.ndarray, at: int | None, recovering: bool, outage, others: list,
                      params: MetricParams, now: datetime, resamples: int, seed: int
                      ) -> dict[str, np.ndarray]:
    """Each metric of :data:`INTERVAL_METRICS` in every resample (time to recover inf when one
    never recovers); empty when the estimate has no such figure."""
    values: dict[str, np.ndarray] = {name: np.zeros(0) for name in INTERVAL_METRICS}
    if at is None and not recovering:
        return values
    noise = _Noise(np.random.default_rng(seed), spread, resamples)
    # The resamples' series only as far as read: through the trough bucket and, when recovery is
    # measured, a while after the end; those that have not recovered by then are followed further
    # (most recover within hours, and 90 days of quarter hours cost 20 times as much).
    ended = int(index.searchsorted(pd.Timestamp(outage.end))) if outage.end is not None else 0
    after = math.ceil((AFTER_END_H + params.recovery_hold_h) / params.bucket_hours)
    stop = min(len(index), max(at + 1 if at is not None else 0, ended + after if recovering else 0))
    found = _resampled_metrics(index[:stop], posts[:stop], noise.totals(total, stop), outage, others,
                               params, now)
    if at is not None:
        values["trough"] = found.smoothed[at]
        if found.baseline_mean is not None:
            values["dip_depth"] = found.baseline_mean - values["trough"]
    if recovering:
        recovery = found.time_to_recover_h
        assert recovery is not None  # the point estimate recovers, so it has an end and a baseline
        values["time_to_recover_h"] = recovery
        while stop < len(index):
            waiting = np.flatnonzero(np.isinf(recovery))
            if not len(waiting):
                break
            stop = min(len(index), ended + 4 * (stop - ended))
            again = _resampled_metrics(index[:stop], posts[:stop], noise.totals(total, stop, waiting),
                                       outage, others, params, now)
            recovery[waiting] = again.time_to_recover_h
    return values


class _Noise:
    """The resamples' per-bucket sums: the data's plus a standard normal draw per bucket and
    resample times the bucket's standard deviation (none for unanimous or empty buckets). Drawn
    bucket by bucket, in order, as far as asked: each bucket gets the same draws however far the
    series is followed, so the intervals do not depend on how far that is."""

    def __init__(self, rng: np.random.Generator, spread: np.ndarray, resamples: int):
        self.rng, self.resamples = rng, resamples
        self.noisy = np.flatnonzero(spread)
        self.sd = np.sqrt(spread[self.noisy])[:, None]
        self.drawn = np.zeros((0, resamples))  # [k, r]: the k-th noisy bucket in resample r

    def totals(self, total: np.ndarray, stop: int, rows: np.ndarray | None = None) -> np.ndarray:
        """[bucket, resample]: the sums of the first ``stop`` buckets in every resample (``rows``
        of them only, when given)."""
        count = int(np.searchsorted(self.noisy, stop))
        if count > len(self.drawn):
            more = self.rng.standard_normal((count - len(self.drawn), self.resamples))
            self.drawn = np.concatenate([self.drawn, more]) if len(self.drawn) else more
        drawn = self.drawn[:count] if rows is None else self.drawn[:count, rows]
        out = np.repeat(total[:stop, None], drawn.shape[1], axis=1)
        out[self.noisy[:count]] += drawn * self.sd[:count]
        return out


class _Metrics(NamedTuple):
    """The metrics of many series at once (one column each) that the intervals need."""

    smoothed: np.ndarray  # [bucket, series]: NaN where the whole smoothing window is empty
    baseline_mean: np.ndarray | None  # [series]; None when the baseline has no posts
    trough_at: np.ndarray | None  # [series]: its trough's bucket; None when there is none to search
    trough: np.ndarray | None  # [series]
    time_to_recover_h: np.ndarray | None  # [series], inf when never recovered; None: no end or baseline


def _resampled_metrics(index: pd.DatetimeIndex, posts: np.ndarray, totals: np.ndarray, outage,
                       others: Iterable, params: MetricParams, now: datetime) -> _Metrics:
    """Smoothed sentiment, baseline mean, trough and time to recover of every column of ``totals``
    (``[bucket, series]``: the per-bucket sums of compound of one series over ``index``, all with
    the bucket volumes ``posts``), as :func:`analysis.recovery.outage_metrics` computes them from
    the series :func:`analysis.timeline.series_from_sums` makes of one column (the tests check they
    agree to 1e-12).

    The volumes being the same in every series, so are the empty buckets, the NaN smoothed values
    and the buckets each metric reads: only the values differ, and numpy takes them all at once.
    """
    delta = params.bucket_delta
    now = pd.Timestamp(now)
    start = pd.Timestamp(outage.start)
    end = pd.Timestamp(outage.end) if outage.end is not None else None
    buckets, columns = totals.shape
    # The smoothed sentiment: sums over the trailing window (fewer at the start), as pandas' rolling.
    rolling_total = totals.copy()
    rolling_posts = np.array(posts, dtype=float)
    for back in range(1, min(params.smoothing_buckets, buckets)):
        rolling_total[back:] += totals[:-back]
        rolling_posts[back:] += posts[:-back]
    heard = rolling_posts > 0
    smoothed = rolling_total / np.where(heard, rolling_posts, np.nan)[:, None]

    in_base = np.asarray(baseline_mask(index, start, others, params, now), dtype=bool)
    baseline_mean: np.ndarray | None = None
    baseline_sd: np.ndarray | None = None
    if posts[in_base].sum():
        base = smoothed[in_base & heard]  # its NaNs left out, as pandas' mean and std do
        baseline_mean = base.mean(axis=0)
        # One value has no SD (pandas: NaN, which outage_metrics takes as 0).
        baseline_sd = base.std(axis=0, ddof=1) if len(base) > 1 else np.zeros(columns)

    trough_at = trough = None
    horizon = end + pd.Timedelta(hours=params.trough_horizon_h) if end is not None else now
    # On buckets with votes of their own and peak_min_posts in their window (recovery.resting).
    solid = (np.asarray(posts) > 0) & (rolling_posts >= params.peak_min_posts)
    search = np.flatnonzero((index + delta > start) & (index <= min(horizon, now)) & heard & solid)
    if len(search):
        trough_at = search[smoothed[search].argmin(axis=0)]  # the first lowest, as idxmin
        trough = smoothed[trough_at, np.arange(columns)]

    time_to_recover = None
    if end is not None and baseline_mean is not None and baseline_sd is not None:  # set together
        threshold = baseline_mean - params.recovery_sd * baseline_sd
        after = np.flatnonzero(index >= end)
        time_to_recover = np.full(columns, np.inf)
        # Recovered at the first bucket that starts ``hold`` buckets all at or above the threshold
        # (NaN is not: an empty window is no evidence of recovery), as outage_metrics finds it.
        held = held_runs(smoothed[after] >= threshold, hold_buckets(params))  # [j, series]
        if len(held):
            recovered = held.any(axis=0)
            hours = np.asarray((index[after] - end) / HOUR, dtype=float)
            time_to_recover[recovered] = hours[held.argmax(axis=0)[recovered]]
    return _Metrics(smoothed, baseline_mean, trough_at, trough, time_to_recover)
