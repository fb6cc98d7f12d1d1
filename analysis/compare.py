"""Competitor comparison: the same window measured on a competitor, and the difference in differences."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from analysis.recovery import OutageMetrics, baseline_mask, bucket_ticks, outage_metrics, time_tick
from dipwatch.core.params import MetricParams

SPILLOVER_SD = 2.0  # a competitor whose own dip is this many of its baseline SDs also dipped


@dataclass(frozen=True)
class Comparison:
    """One competitor over one outage window of the brand.

    ``brand_change`` and ``competitor_change`` are the mean compound of the posts during the window
    minus the mean of the posts in each one's own baseline; ``did`` is their difference (negative: the
    brand fell further than the competitor). ``spillover`` says the competitor dipped too, so it is no
    clean control.
    """

    competitor: str
    metrics: OutageMetrics
    brand_change: float | None
    competitor_change: float | None
    did: float | None
    spillover: bool
    note: str | None


def mean_change(series: pd.DataFrame, start: datetime, end: datetime | None, others,
                params: MetricParams, now: datetime) -> float | None:
    """Post-weighted mean compound during [start, end or now) minus the same in the baseline."""
    index, delta = series.index, params.bucket_delta
    start_ts, until = pd.Timestamp(start), pd.Timestamp(end if end is not None else now)
    # On arrays, as outage_metrics: the same sums as the pandas columns, without their overhead.
    posts = series["posts"].to_numpy()
    mean = series["mean"].to_numpy(dtype=np.float64)
    totals = np.where(np.isnan(mean), 0.0, mean) * posts
    ticks = bucket_ticks(index)
    during = ((ticks + pd.Timedelta(delta).value > time_tick(start_ts, index))
              & (ticks < time_tick(until, index)))
    base = baseline_mask(index, start_ts, others, params, pd.Timestamp(now))
    n_during, n_base = posts[during].sum(), posts[base].sum()
    if not n_during or not n_base:
        return None
    return float(totals[during].sum() / n_during - totals[base].sum() / n_base)


def compare(brand_series: pd.DataFrame, brand_others, competitor: str, competitor_series: pd.DataFrame,
            competitor_windows, outage, params: MetricParams, now: datetime) -> Comparison:
    """Measure ``outage``'s window on ``competitor``'s series as if it had been the competitor's.

    :param brand_others: the brand's other windows (left out of the brand's baseline).
    :param competitor_windows: the competitor's own outage windows (left out of its baseline).
    """
    metrics = outage_metrics(competitor_series, outage, competitor_windows, params, now)
    brand_change = mean_change(brand_series, outage.start, outage.end, brand_others, params, now)
    competitor_change = mean_change(competitor_series, outage.start, outage.end, competitor_windows,
                                    params, now)
    did = None
    if brand_change is not None and competitor_change is not None:
        did = brand_change - competitor_change
    spillover = metrics.dip_depth_sd is not None and metrics.dip_depth_sd >= SPILLOVER_SD
    note = None
    if spillover:
        note = (f"{competitor} also dipped ({metrics.dip_depth_sd:.1f} SD): spillover or a shared cause, "
                "so it is no clean control")
    elif metrics.sparse:
        note = f"{competitor}: {metrics.sparse_reason}"
    return Comparison(competitor, metrics, brand_change, competitor_change, did, spillover, note)
