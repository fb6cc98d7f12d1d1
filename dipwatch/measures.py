"""Reads scored posts and outage windows from the store and measures them (for CLI, exports, dashboard)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from analysis.params import MetricParams
from analysis.recovery import OutageMetrics, outage_metrics
from analysis.sentiment import scorer_id, scorer_rates
from analysis.timeline import NEGATIVE, bucket_index, series_from_sums
from dipwatch.brands import Brand, known_brands
from dipwatch.config import Settings
from dipwatch.epoch import to_epoch
from dipwatch.store import Outage, Store
from dipwatch.times import plain


def measured_windows(outages: list) -> list:
    """The windows that count as outages: all but unconfirmed detected candidates."""
    return [w for w in outages if w.origin != "detected"]


class UnknownBrandError(ValueError):
    """A brand that is neither in the config nor in the store."""


def resolve_brand(settings: Settings, store: Store, name: str) -> Brand:
    """The brand called ``name`` (case-insensitive).

    :raises UnknownBrandError: naming the brands that exist.
    """
    brands = known_brands(settings, store)
    key = name.strip().lower()
    if key not in brands:
        listed = ", ".join(sorted(brands)) or "none yet (add one to dipwatch.toml or `dipwatch import`)"
        raise UnknownBrandError(f"--brand: unknown brand {name!r}; known brands: {listed}")
    return brands[key]


def as_of(store: Store, now: datetime | None = None) -> datetime:
    """The moment figures are measured at: ``now``, or the store's recorded ``as_of`` (the demo's
    scenario is fixed in time), or the clock."""
    if now is not None:
        return now
    recorded = store.get_meta("as_of")
    return datetime.fromisoformat(recorded) if recorded else datetime.now(UTC)


@dataclass(frozen=True)
class BrandView:
    """One brand's series and outage metrics, as of one moment."""

    brand: Brand
    params: MetricParams
    now: datetime
    series: pd.DataFrame
    outages: list[Outage]
    metrics: list[OutageMetrics]


@dataclass(frozen=True)
class BrandOutline:
    """What a :class:`BrandView` says besides its series and metrics: enough to choose an outage and
    its window (the Voices tab), read in a few milliseconds."""

    brand: Brand
    params: MetricParams
    now: datetime
    outages: list[Outage]


def brand_outline(settings: Settings, store: Store, brand: Brand, params: MetricParams | None = None,
                  now: datetime | None = None) -> BrandOutline:
    """The brand, params, moment and measured outage windows :func:`brand_view` would have."""
    return BrandOutline(brand, params or settings.metrics, as_of(store, now),
                        measured_windows(store.list_outages(brand.key)))


def load_series(store: Store, brand: str, params: MetricParams, start: datetime | None,
                end: datetime | None, sources: Sequence[str] | None = None) -> pd.DataFrame:
    """The bucketed series of ``brand`` from the bucket holding ``start`` to the one holding ``end``
    (each bucket whole), with one author one voice as ``params`` says. The database's rollup holds
    the sums: a brand's posts never travel to Python. Over ``sources`` only (the rollup does not
    keep sources apart) or without bounds, the series is bucketed from the posts."""
    if start is None or end is None or sources:
        from dipwatch.measures_extra import load_series_voiced

        return load_series_voiced(store, brand, params, start, end, voice=params.one_author_one_voice,
                                  sources=sources)
    delta = params.bucket_delta
    # Whole buckets, from the one holding start to the one holding end: what the rollup keeps.
    first, last = pd.Timestamp(start).floor(delta), pd.Timestamp(end).floor(delta)
    step = int(delta.total_seconds())
    rows = store.bucket_totals(brand, scorer_id(), first.to_pydatetime(), (last + delta).to_pydatetime(),
                               step, params.one_author_one_voice, NEGATIVE, shares=True)
    # Straight to arrays (a DataFrame of the rows and its reindexing cost more than the sums): the
    # rollup's buckets are whole multiples of the bucket from ``first``, one row each.
    index = bucket_index(params, first, last)
    buckets, posts, total, negatives, squares, post_count, called = bucket_columns(rows, 7)
    offset = buckets.astype(np.int64) - to_epoch(first.to_pydatetime())
    where = np.where((offset % step == 0) & (offset >= 0) & (offset < len(index) * step), offset // step, -1)
    return series_from_sums(index, where, posts, total, negatives, squares, params, post_count, called,
                            scorer_rates())


def bucket_columns(rows: list[tuple], width: int = 5) -> np.ndarray:
    """The rows of :meth:`dipwatch.store.Store.bucket_totals` as ``width`` float64 columns: bucket
    start (epoch seconds), votes, sum of compound, negative votes, sum of squares (and with its
    ``shares``, posts and posts called negative). Exact: the epochs and counts are whole numbers far
    below 2**53. One array of the rows: 4x faster than a DataFrame."""
    return np.array(rows, dtype=np.float64).T if rows else np.zeros((width, 0))


def brand_view(settings: Settings, store: Store, brand: Brand, params: MetricParams | None = None,
               now: datetime | None = None, sources: Sequence[str] | None = None) -> BrandView:
    """Measure every outage of ``brand``, on a series from its first baseline (or first post) to now,
    over the posts of ``sources`` only when given (the dashboard's Sources filter)."""
    params = params or settings.metrics
    now = as_of(store, now)
    windows, series = brand_series(store, brand.key, params, now, sources)
    metrics = [
        outage_metrics(series, window, [w for w in windows if w.id != window.id], params, now,
                       outage_id=window.id)
        for window in windows
    ]
    return BrandView(brand, params, now, series, windows, metrics)


def brand_series(store: Store, brand_key: str, params: MetricParams, now: datetime,
                 sources: Sequence[str] | None = None) -> tuple[list[Outage], pd.DataFrame]:
    """The measured outage windows of a brand and its series to ``now``, as :func:`brand_view` reads
    them (without measuring the outages)."""
    windows = measured_windows(store.list_outages(brand_key))  # unconfirmed candidates do not count
    span = store.time_range(brand_key)
    # The series starts at the first post: hours before collection began are unknown, not quiet,
    # and must not count as zero-volume baseline hours.
    start = span[0] if span else now - timedelta(days=params.baseline_days)
    return windows, load_series(store, brand_key, params, start, now, sources)


def metrics_record(metrics: OutageMetrics) -> dict:
    """The report's JSON record: times ISO 8601 UTC, floats rounded to 4 places."""
    return {key: plain(value) for key, value in metrics.as_dict().items()}


def metrics_json(metrics: list[OutageMetrics]) -> str:
    return json.dumps([metrics_record(m) for m in metrics], indent=2)


def competitor_comparisons(settings: Settings, store: Store, view: BrandView, outage,
                           series_of: Callable[[str], tuple[list[Outage], pd.DataFrame]] | None = None
                           ) -> list:
    """The outage's window measured on each of the brand's competitors, with the DiD.

    :param series_of: a competitor's key -> its windows and series on ``view``'s buckets, as of
        ``view.now`` (the dashboard passes its cache's); by default read with :func:`brand_series`.
    """
    from analysis.compare import compare

    brands = known_brands(settings, store)
    others = [w for w in view.outages if w.id != outage.id]
    read = series_of or (lambda key: brand_series(store, key, view.params, view.now))
    results = []
    for key in view.brand.competitors:
        if key not in brands:
            continue
        windows, series = read(key)  # only the series: compare measures the one window itself
        results.append(compare(view.series, others, key, series, windows, outage, view.params, view.now))
    return results


def comparison_record(comparison) -> dict:
    """A comparison as exports and the JSON report show it."""
    m = comparison.metrics
    return {key: plain(value) for key, value in {
        "competitor": comparison.competitor, "brand_change": comparison.brand_change,
        "competitor_change": comparison.competitor_change, "did": comparison.did,
        "spillover": comparison.spillover, "note": comparison.note,
        "competitor_dip_depth": m.dip_depth, "competitor_dip_depth_sd": m.dip_depth_sd,
        "competitor_volume_lift": m.volume_lift, "competitor_posts_during": m.posts_during,
    }.items()}
