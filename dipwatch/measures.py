"""The read model: reads scored posts and outage windows from the store and measures them, for the
CLI, the exports, the alerts and the dashboard (one author one voice, bootstrap intervals and
detection included; the arithmetic is in ``analysis``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from analysis.detect import (
    Candidate,
    DetectParams,
    candidate_label,
    coincidences,
    detect_outages,
    unknown_candidates,
)
from analysis.recovery import OutageMetrics, outage_metrics
from analysis.sentiment import scorer_id, scorer_rates
from analysis.timeline import (
    bucket_index,
    bucket_series,
    series_from_sums,
    share_counts,
    with_shares,
)
from analysis.uncertainty import DEFAULT_RESAMPLES, bootstrap_from_sums, one_voice
from dipwatch.core.brands import Brand, known_brands, related_brands
from dipwatch.core.config import Settings
from dipwatch.core.conventions import NEGATIVE_THRESHOLD
from dipwatch.core.errors import BadValueError
from dipwatch.core.params import MetricParams
from dipwatch.core.records import Outage
from dipwatch.core.times import plain, to_epoch
from dipwatch.store import Store


def measured_windows(outages: list) -> list:
    """The windows that count as outages: all but unconfirmed detected candidates."""
    return [w for w in outages if w.origin != "detected"]


class UnknownBrandError(BadValueError):
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
        return load_series_voiced(store, brand, params, start, end, voice=params.one_author_one_voice,
                                  sources=sources)
    delta = params.bucket_delta
    # Whole buckets, from the one holding start to the one holding end: what the rollup keeps.
    first, last = pd.Timestamp(start).floor(delta), pd.Timestamp(end).floor(delta)
    step = int(delta.total_seconds())
    rows = store.bucket_totals(brand, scorer_id(), first.to_pydatetime(), (last + delta).to_pydatetime(),
                               step, params.one_author_one_voice, NEGATIVE_THRESHOLD, shares=True)
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


INTERVAL_FIELDS = ("dip_depth_lo", "dip_depth_hi", "trough_lo", "trough_hi", "time_to_recover_h_lo",
                   "time_to_recover_h_hi", "recovered_share", "interval_level", "resamples")


def load_votes(store: Store, brand: str, params: MetricParams, start: datetime | None = None,
               end: datetime | None = None, voice: bool = True,
               sources: Sequence[str] | None = None) -> pd.DataFrame:
    """Scored posts of ``brand`` in [start, end) as columns created_at, compound, author_hash; with
    ``voice`` (the metrics' default) each author counts once per bucket (raw exports pass False);
    from ``sources`` only (all when empty)."""
    frame = load_scored(store, brand, start, end, sources)
    return one_voice(frame, params) if voice else frame


def load_scored(store: Store, brand: str, start: datetime | None = None, end: datetime | None = None,
                sources: Sequence[str] | None = None) -> pd.DataFrame:
    """Scored posts of ``brand`` in [start, end) as columns created_at, compound, author_hash and
    counted (1 where the post counts as negative in the share), one row per post."""
    rows = store.load_scored_authors(brand, scorer_id(), start, end, sources)
    frame = pd.DataFrame(rows, columns=["created_at", "compound", "author_hash", "counted"])
    frame["created_at"] = pd.to_datetime(frame["created_at"].astype("int64"), unit="s", utc=True)
    frame["compound"] = frame["compound"].astype(float)
    frame["author_hash"] = frame["author_hash"].astype(object).where(frame["author_hash"].notna(), None)
    frame["counted"] = frame["counted"].astype("int64")
    return frame


def load_series_voiced(store: Store, brand: str, params: MetricParams, start: datetime | None,
                       end: datetime | None, voice: bool = True,
                       sources: Sequence[str] | None = None) -> pd.DataFrame:
    """:func:`dipwatch.measures.load_series` bucketed in pandas from the posts (of ``sources`` only
    when given), with one author, one voice (default on)."""
    delta = params.bucket_delta
    # Whole buckets, as load_series reads them from the rollup.
    first = pd.Timestamp(start).floor(delta).to_pydatetime() if start is not None else None
    stop = (pd.Timestamp(end).floor(delta) + delta).to_pydatetime() if end is not None else None
    frame = load_scored(store, brand, first, stop, sources)
    series = bucket_series(one_voice(frame, params) if voice else frame, params, start, end)
    return with_shares(series, share_counts(frame, params), params, scorer_rates())


def interval_records(view, store: Store, settings: Settings, resamples: int = DEFAULT_RESAMPLES,
                     seed: int = 0, voice: bool = True) -> dict[int, dict]:
    """Bootstrap intervals of every measured outage in ``view``, by outage id: the per-bucket sums
    its series was built from, read from the store's rollup (milliseconds, whatever the number of
    posts), resampled by :func:`analysis.uncertainty.bootstrap_from_sums`.

    :param view: a :class:`dipwatch.measures.BrandView` over all the brand's sources (the rollup
        does not keep sources apart); ``voice`` must match how its series was built (one author,
        one voice by default), so the intervals surround its point estimates.
    :param settings: unused today; kept so callers need not change when intervals gain settings.
    :returns: for each outage id a dict with the keys of :data:`INTERVAL_FIELDS` (None where the
        figure cannot be computed).
    """
    del settings
    params = view.params
    if view.series.empty:
        return {}
    delta = params.bucket_delta
    first = view.series.index[0]
    # Only the buckets the metrics read: from the earliest measured outage's baseline (with the
    # smoothing lead-in, as bootstrap_from_sums cuts them) to now, not the brand's whole history.
    leads = [pd.Timestamp(w.start) - pd.Timedelta(days=params.baseline_days)
             - delta * (params.smoothing_buckets - 1)
             for w in view.outages if any(m.outage_id == w.id for m in view.metrics)]
    since = max(first, min(leads, default=first).floor(delta))
    stop = pd.Timestamp(view.now).floor(delta) + delta
    rows = store.bucket_totals(view.brand.key, scorer_id(), since.to_pydatetime(), stop.to_pydatetime(),
                               int(delta.total_seconds()), voice, NEGATIVE_THRESHOLD)
    buckets, posts, total, _, squares = bucket_columns(rows)
    sums = pd.DataFrame({"posts": posts, "total": total, "squares": squares},
                        index=pd.to_datetime(buckets.astype(np.int64), unit="s", utc=True))
    records = {}
    for metrics in view.metrics:
        window = next(w for w in view.outages if w.id == metrics.outage_id)
        others = [w for w in view.outages if w.id != window.id]
        records[metrics.outage_id] = bootstrap_from_sums(
            sums, window, others, params, view.now, resamples=resamples, seed=seed, start=first)
    return records


def detect_candidates(store: Store, brand: str, detect: DetectParams | None = None,
                      start: datetime | None = None, end: datetime | None = None,
                      voice: bool = True) -> list[Candidate]:
    """Candidate outage windows of ``brand`` between ``start`` and ``end`` (default: all data),
    scored against all the brand's hourly history before each hour.

    :raises ValueError: when the brand has too little history (under 7 days by default).
    """
    hourly = MetricParams(bucket="1h", smoothing_buckets=1)
    span = store.time_range(brand)
    if span is None:
        raise ValueError(f"brand {brand!r} has no posts yet; outage detection needs at least "
                         f"{(detect or DetectParams()).min_history_days:g} days of them")
    last = min(end, span[1] + hourly.bucket_delta) if end is not None else span[1] + hourly.bucket_delta
    votes = load_votes(store, brand, hourly, span[0], last, voice)
    series = bucket_series(votes, hourly, span[0], last - pd.Timedelta(seconds=1))
    return detect_outages(series, detect, start, end)


@dataclass(frozen=True)
class DetectionPlan:
    """What a detection run would store: every candidate, the ones overlapping no known outage
    (``fresh``), per fresh candidate's start the related brand's outage it falls in
    (``coincides``), and the outage rows to upsert."""

    candidates: list[Candidate]
    fresh: list[Candidate]
    coincides: dict[datetime, str]
    rows: list[dict]


def plan_detection(store: Store, brand: str, brands: dict, detect: DetectParams | None = None,
                   start: datetime | None = None, end: datetime | None = None) -> DetectionPlan:
    """``brand``'s outage candidates as rows of origin 'detected' (keyed so that running again
    updates them). A candidate that falls in an outage of a related brand (``brands``: key ->
    Brand; a competitor, or a brand naming this one as its competitor) says so in its label: people
    comparing the two brands then is likelier than an outage here.

    :raises ValueError: when the brand has too little history to detect anything.
    """
    candidates = detect_candidates(store, brand, detect, start, end)
    fresh = unknown_candidates(candidates, (w for w in store.list_outages(brand) if w.origin != "detected"))
    theirs = [w for key in sorted(related_brands(brands, brand)) for w in store.list_outages(key)
              if w.origin != "detected"]
    coincides = coincidences(fresh, theirs, datetime.now(UTC), {k: b.name for k, b in brands.items()})
    rows = [{"brand": brand, "start": c.start, "end": c.end, "severity": "unknown", "origin": "detected",
             "external_id": f"detected:{int(c.start.timestamp())}",
             "label": candidate_label(c, coincides.get(c.start))} for c in fresh]
    return DetectionPlan(candidates, fresh, coincides, rows)


def event_items(settings, store, brand_keys, now=None) -> tuple[list[tuple], list[dict]]:
    """The event study's inputs from the store: ``(window, series, baseline_mean)`` for every
    confirmed outage of the brands (detected candidates do not count), on 1-hour buckets.

    :returns: the items, and a record for each outage left out because it has no baseline mean
        (keys outage_id, brand, label, reason).
    """
    brands = known_brands(settings, store)
    params = settings.metrics.with_bucket("1h")  # the study is by hour from start
    items, skipped = [], []
    for key in brand_keys:
        view = brand_view(settings, store, brands[key], params, now)
        by_id = {m.outage_id: m for m in view.metrics}
        for window in view.outages:
            metrics = by_id[window.id]
            if metrics.baseline_mean is None:
                skipped.append({"outage_id": window.id, "brand": key, "label": window.label,
                                "reason": "no baseline (no posts in the baseline days before its start)"})
                continue
            items.append((window, view.series, metrics.baseline_mean))
    return items, skipped
