"""Export rows: a brand's posts, timeline or outage metrics as the columns `dipwatch export` writes,
and the bootstrap intervals of the report and the export."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime

from dipwatch.core.config import Settings
from dipwatch.core.times import from_epoch, plain
from dipwatch.measures import (
    BrandView,
    brand_view,
    interval_records,
    load_series,
    metrics_record,
    resolve_brand,
)
from dipwatch.store import Store

POST_COLUMNS = ["source", "post_id", "kind", "created_at", "brand", "term", "text", "url", "author_hash",
                "engagement", "rating", "compound", "pos", "neu", "neg", "label", "scorer",
                "p_negative", "p_neutral", "p_positive", "class"]
# The tone family (per vote with one author one voice), then the share family (per post): see README.
TIMELINE_COLUMNS = ["bucket", "posts", "mean", "negatives", "negative_share", "smoothed", "smoothed_lo",
                    "smoothed_hi", "post_count", "called_negative", "share", "share_smoothed", "share_lo",
                    "share_hi"]


def export_rows(settings: Settings, store: Store, kind: str, brand: str, start: datetime | None,
                end: datetime | None, bucket: str | None = None, resamples: int = 0, seed: int = 0):
    """The columns and rows (an iterable of dicts, streamed for posts) of one export ``kind``.

    :raises UnknownBrandError: for a brand the store does not know.
    """
    from analysis.classifier import label_of
    from analysis.sentiment import classify, scorer_id

    chosen = resolve_brand(settings, store, brand)
    params = settings.metrics.with_bucket(bucket) if bucket else settings.metrics
    if kind == "posts":
        def rows():
            for row in store.load_posts(chosen.key, scorer_id(), start, end):
                yield {**row, "created_at": plain(from_epoch(row["created_at"])),
                       "label": classify(row["compound"]),
                       "class": label_of(row["p_negative"], row["p_neutral"], row["p_positive"]),
                       **{p: round(row[p], 4) for p in ("p_negative", "p_neutral", "p_positive")}}
        return POST_COLUMNS, rows()
    if kind == "timeline":
        span = store.time_range(chosen.key)
        if span is None:
            return TIMELINE_COLUMNS, []
        series = load_series(store, chosen.key, params, start or span[0],
                             (end - params.bucket_delta) if end else span[1])
        rows = ({"bucket": plain(ts.to_pydatetime()), "posts": int(row["posts"]),
                 "negatives": int(row["negatives"]), "post_count": int(row["post_count"]),
                 "called_negative": int(row["called_negative"]),
                 **{c: _number(row[c]) for c in ("mean", "negative_share", "smoothed", "smoothed_lo",
                                                 "smoothed_hi", "share", "share_smoothed", "share_lo",
                                                 "share_hi")}}
                for ts, row in series.iterrows())
        return TIMELINE_COLUMNS, rows
    from analysis.recovery import OutageMetrics
    from dipwatch.measures import INTERVAL_FIELDS

    view = brand_view(settings, store, chosen, params)
    picked = [m for m in view.metrics
              if (start is None or m.start >= start) and (end is None or m.start < end)]
    intervals = outage_intervals(view, store, settings, picked, resamples, seed)
    records = [{**metrics_record(m), **intervals.get(m.outage_id, {})} for m in picked]
    return list(OutageMetrics.__dataclass_fields__) + list(INTERVAL_FIELDS), records


def outage_intervals(view: BrandView, store: Store, settings: Settings, chosen, resamples: int,
                     seed: int) -> dict[int, dict]:
    """Bootstrap intervals of the ``chosen`` outages, as plain values, by outage id."""
    if not resamples or not chosen:
        return {}
    wanted = {m.outage_id for m in chosen}
    only = replace(view, metrics=[m for m in view.metrics if m.outage_id in wanted])
    records = interval_records(only, store, settings, resamples=resamples, seed=seed,
                               voice=view.params.one_author_one_voice)
    return {key: {k: plain(v) for k, v in record.items()} for key, record in records.items()}


def parquet_kinds(kind: str, columns: list[str]) -> dict[str, str]:
    """Each export column's kind for Parquet (``analysis.export.PARQUET_KINDS``): times as UTC
    timestamps, and a type for every column, also one with no value in the export."""
    if kind == "posts":
        numbers = ("compound", "pos", "neu", "neg", "p_negative", "p_neutral", "p_positive")
        return {c: "time" if c == "created_at" else "int" if c in ("engagement", "rating")
                else "float" if c in numbers else "text" for c in columns}
    if kind == "timeline":
        counts = ("posts", "negatives", "post_count", "called_negative")
        return {c: "time" if c == "bucket" else "int" if c in counts else "float" for c in columns}
    from analysis.recovery import OutageMetrics

    declared = {f.name: str(f.type) for f in OutageMetrics.__dataclass_fields__.values()}

    def of(column: str) -> str:
        annotation = declared.get(column, "float | None")
        if "datetime" in annotation:
            return "time"
        if annotation.startswith("bool"):
            return "bool"
        if annotation.startswith("int") or column == "resamples":
            return "int"
        return "text" if annotation.startswith("str") else "float"

    return {c: of(c) for c in columns}


def _number(value):
    value = float(value)
    return None if math.isnan(value) else round(value, 4)
