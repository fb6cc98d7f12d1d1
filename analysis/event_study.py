"""Event study: outages aligned at their start, mean abnormal sentiment by hour, with an interval.

Abnormal sentiment is an outage's smoothed sentiment minus that outage's own baseline mean, so
outages of a brand that is usually cheerful and of one that is usually grumpy can be averaged.
Pure: ``(window, series, baseline_mean)`` items in, DataFrames out.

Hour ``h`` of an outage is the hour starting ``h`` hours after its start, floored to its bucket
(an outage starting 18:20 on 1-hour buckets has hour 0 = the 18:00 bucket, the bucket its start
falls in, as in :func:`analysis.recovery.outage_metrics`). On 15-minute buckets the hour's value is
the mean of the smoothed values of its quarter hours that have posts; daily buckets are refused,
since one bucket would span 24 "hours".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.recovery import bucket_ticks, time_tick
from dipwatch.core.params import MetricParams

HOUR = pd.Timedelta("1h")
STUDY_COLUMNS = ["hour", "mean_abnormal", "lo", "hi", "outages"]
CURVE_COLUMNS = ["outage_id", "hour", "abnormal"]
LEVEL = 0.95  # lo/hi are the 2.5th and 97.5th percentiles of the bootstrap means


def _check(params: MetricParams, hours: int) -> None:
    if params.bucket_delta > HOUR:
        raise ValueError(f"event study: needs buckets of 1h or finer, got {params.bucket!r}")
    if hours < 1:
        raise ValueError(f"hours: expected 1 or more, got {hours}")


def _curve(window, series: pd.DataFrame, baseline_mean: float, params: MetricParams,
           hours: int) -> np.ndarray:
    """Abnormal sentiment of one outage at hours 0..hours-1 (NaN where there are no data)."""
    if baseline_mean is None or np.isnan(baseline_mean):
        raise ValueError(f"outage {getattr(window, 'id', None)}: no baseline mean; leave it out")
    anchor = pd.Timestamp(window.start).floor(params.bucket_delta)
    index = series.index
    ticks, first = bucket_ticks(index), time_tick(anchor, index)
    smoothed = series["smoothed"].to_numpy(dtype=np.float64)
    kept = np.flatnonzero((ticks >= first) & (ticks < first + hours * HOUR.value) & ~np.isnan(smoothed))
    hour = (ticks[kept] - first) // HOUR.value
    curve = np.full(hours, np.nan)
    if len(kept) and np.all(np.diff(hour) > 0):
        # One bucket per hour (1h buckets): the hour's mean is its value (+ 0.0, as a sum from zero
        # turns -0.0 into 0.0), without a groupby per outage.
        curve[hour] = (smoothed[kept] + 0.0) - float(baseline_mean)
    elif len(kept):
        by_hour = pd.Series(smoothed[kept]).groupby(hour).mean()  # 4 quarter hours averaged on 15min
        curve[by_hour.index.to_numpy()] = by_hour.to_numpy() - float(baseline_mean)
    return curve


def _curves(items, params: MetricParams, hours: int) -> np.ndarray:
    _check(params, hours)
    return np.array([_curve(w, s, b, params, hours) for w, s, b in items]).reshape(len(items), hours)


def _means(matrix: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Mean over ``axis`` (the outages) of the rows that have data, and how many rows that is (NaN
    where none)."""
    present = ~np.isnan(matrix)
    counts = present.sum(axis=axis)
    totals = np.where(present, matrix, 0.0).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return totals / np.where(counts > 0, counts, np.nan), counts


BOOT_CELLS = 1_000_000  # resampled values averaged at once: the bootstrap's memory stays a few MB


def _boot_means(matrix: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """:func:`_means` of ``matrix[d]`` for each row ``d`` of ``draws``, a block of resamples at a time
    (one array operation instead of one per resample; the sums are added in the same order)."""
    per = max(1, BOOT_CELLS // max(1, matrix.size))
    return np.concatenate([_means(matrix[draws[i:i + per]], axis=1)[0] for i in range(0, len(draws), per)])


def _nan_percentiles(values: np.ndarray, qs) -> list[np.ndarray]:
    """``np.nanpercentile(values, q, axis=0)`` for each ``q``, for columns with at least one value:
    the same order statistics and interpolation, but one ``np.percentile`` per count of values
    instead of one call per column (numpy's nanpercentile loops over the columns in Python)."""
    counts = (~np.isnan(values)).sum(axis=0)
    ordered = np.sort(values, axis=0)  # NaN sorts last: a column's values are its first ``count`` rows
    found = [np.full(values.shape[1], np.nan) for _ in qs]
    for count in np.unique(counts[counts > 0]):
        columns = counts == count
        for out, q in zip(found, qs, strict=True):
            out[columns] = np.percentile(ordered[:count][:, columns], q, axis=0)
    return found


def event_curves(items: list[tuple], params: MetricParams, hours: int = 72) -> pd.DataFrame:
    """Each outage's abnormal sentiment by hour from its start, for a chart.

    :param items: ``(window, series, baseline_mean)`` per outage; ``window`` has ``start`` and ``id``,
        ``series`` is from :func:`analysis.timeline.bucket_series`, ``baseline_mean`` a float.
    :returns: long frame with columns ``outage_id, hour, abnormal``: ``hours`` rows per outage in
        input order, ``abnormal`` NaN where the outage has no data at that hour (so lines break there).
    """
    matrix = _curves(items, params, hours)
    ids = [getattr(w, "id", i) for i, (w, _, _) in enumerate(items)]
    return pd.DataFrame({
        "outage_id": np.repeat(np.array(ids, dtype=object), hours),
        "hour": np.tile(np.arange(hours), len(items)),
        "abnormal": matrix.ravel(),
    }, columns=CURVE_COLUMNS)


def event_study(items: list[tuple], params: MetricParams, hours: int = 72, resamples: int = 200,
                seed: int = 0) -> pd.DataFrame:
    """Mean abnormal sentiment of the outages by hour from their start, with a bootstrap interval.

    :param items: ``(window, series, baseline_mean)`` per outage, as for :func:`event_curves`; leave
        out outages without a baseline (a None or NaN baseline mean raises ``ValueError``).
    :param hours: hours from start, one row each (default 72).
    :param resamples: bootstrap resamples (default 200; 0 leaves ``lo``/``hi`` NaN).
    :param seed: seed of the bootstrap (default 0): the same seed gives the same interval.
    :returns: ``hours`` rows with columns ``hour`` (0..hours-1), ``mean_abnormal`` (mean over the
        outages with data at that hour, NaN if none), ``lo``/``hi`` (2.5th and 97.5th percentiles of
        that mean when whole outages are resampled with replacement; a resample that draws no outage
        with data at an hour does not count there; one outage gives lo == hi == mean), ``outages``
        (how many outages have data at that hour).
    """
    matrix = _curves(items, params, hours)
    mean, counts = _means(matrix)
    lo = hi = np.full(hours, np.nan)
    if resamples > 0 and len(items):
        # Whole outages are resampled (not hours), so each resampled curve is a set of real outages.
        rng = np.random.default_rng(seed)
        draws = rng.integers(0, len(items), size=(resamples, len(items)))
        boot = _boot_means(matrix, draws)
        usable = (~np.isnan(boot)).any(axis=0)
        tail = (1 - LEVEL) / 2 * 100
        lo, hi = np.full(hours, np.nan), np.full(hours, np.nan)
        if usable.any():
            lo[usable], hi[usable] = _nan_percentiles(boot[:, usable], (tail, 100 - tail))
    return pd.DataFrame({"hour": np.arange(hours), "mean_abnormal": mean, "lo": lo, "hi": hi,
                         "outages": counts.astype("int64")}, columns=STUDY_COLUMNS)
