"""Rows and plain-words headers of the dashboard's tables, shared by the tables and their CSV files.

No Dash imports. The CSV files carry the same columns as the tables (machine-friendly names as
headers, since analysts import them); the tables show the plain-words headers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from analysis.headline import share_measured
from dashboard.model import fmt_time
from dipwatch.measures import comparison_record, plain

# Share first, as the Overview reads (README "Metrics"): the recovery, the normal and peak share of
# negative posts and the hours to recover are the share family's when it is measured
# (analysis.headline.share_measured), the tone's otherwise; the tone's own figures come last.
OUTAGE_COLUMNS = {
    "id": "Id", "label": "Outage", "start": "Start (UTC)", "end": "End (UTC)", "severity": "Severity",
    "origin": "Origin", "status": "Recovery", "share_normal_pct": "Negative posts, normal (%)",
    "share_during_pct": "Negative posts, during (%)", "share_peak_pct": "Negative posts, at worst (%)",
    "time_to_recover_h": "Hours to recover", "volume_lift": "Volume lift (x)", "posts_during": "Posts during",
    "dip_depth": "Tone dip (VADER, -1..+1)", "trough": "Lowest tone (VADER)",
}
SERIES_COLUMNS = {
    "bucket": "Bucket start (UTC)", "posts": "Posts", "mean": "Mean sentiment",
    "smoothed": "Smoothed sentiment", "smoothed_lo": "Smoothed: 95% low", "smoothed_hi": "Smoothed: 95% high",
    "negative_share": "Negative share",
}
COMPARE_COLUMNS = {
    "competitor": "Competitor", "brand_change": "Brand change", "competitor_change": "Competitor change",
    "did": "Difference in differences", "spillover": "Competitor dipped too", "note": "Note",
    "competitor_dip_depth": "Competitor dip depth", "competitor_volume_lift": "Competitor volume lift (x)",
    "competitor_posts_during": "Competitor posts during",
}
TERM_COLUMNS = {
    "term": "Word or phrase", "window_count": "Posts in window", "window_per_1000": "Per 1,000 posts",
    "baseline_per_1000": "Per 1,000 at baseline", "ratio": "Times usual (new: not seen at baseline)",
}
ORIGINS = {"detected": "detected (unconfirmed)", "confirmed": "detected, confirmed"}


def _round(value, places: int = 3):
    return round(value, places) if isinstance(value, float) else value


def _pct(share: float | None) -> int | None:
    """A share as a whole percentage, as the Overview's cards and headline round it."""
    return None if share is None else round(share * 100)


def _measured(m) -> dict:
    """The figures of one measured window: the share family's recovery when it speaks."""
    shares = share_measured(m)
    return {
        "status": m.share_status if shares else m.status,
        "share_normal_pct": _pct(m.share_baseline), "share_during_pct": _pct(m.share_during),
        "share_peak_pct": _pct(m.share_peak),
        "time_to_recover_h": _round(m.share_time_to_recover_h if shares else m.time_to_recover_h, 1),
        "volume_lift": _round(m.volume_lift, 2), "posts_during": m.posts_during,
        "dip_depth": _round(m.dip_depth), "trough": _round(m.trough),
    }


def outage_rows(windows: Sequence, metrics_by_id: Mapping) -> list[dict]:
    """One row per window (candidates included), newest first, with its measured figures."""
    rows = []
    for w in sorted(windows, key=lambda w: w.start, reverse=True):
        m = metrics_by_id.get(w.id)
        unmeasured = dict.fromkeys(OUTAGE_COLUMNS) | {
            "status": "candidate: confirm to measure" if w.origin == "detected" else ""}
        row = {
            **(_measured(m) if m else unmeasured),
            "id": w.id, "label": w.label, "start": fmt_time(w.start),
            "end": fmt_time(w.end) if w.end else "ongoing", "severity": w.severity,
            "origin": ORIGINS.get(w.origin, w.origin),
        }
        rows.append({key: row[key] for key in OUTAGE_COLUMNS})
    return rows


def series_rows(series: pd.DataFrame) -> list[dict]:
    """The bucketed series as rows (bucket start ISO 8601 UTC)."""
    def value(x) -> float | None:
        return None if pd.isna(x) else round(float(x), 4)

    return [{"bucket": plain(stamp.to_pydatetime()), "posts": int(posts), "mean": value(mean),
             "smoothed": value(smoothed), "smoothed_lo": value(low), "smoothed_hi": value(high),
             "negative_share": value(share)}
            for stamp, posts, mean, smoothed, low, high, share in zip(
                series.index, series["posts"], series["mean"], series["smoothed"], series["smoothed_lo"],
                series["smoothed_hi"], series["negative_share"], strict=True)]


def comparison_rows(comparisons: Sequence, names: Mapping[str, str] | None = None) -> list[dict]:
    """Table rows of the comparisons; ``names``: competitor key -> display name (keys otherwise)."""
    rows = [{k: _round(v) for k, v in comparison_record(c).items() if k in COMPARE_COLUMNS}
            for c in comparisons]
    rows = [{**row, "competitor": (names or {}).get(row["competitor"], row["competitor"])} for row in rows]
    return [{**row, "spillover": "yes" if row["spillover"] else "no"} for row in rows]


def term_rows(terms: Sequence) -> list[dict]:
    return [{"term": t.term, "window_count": t.window_count, "window_per_1000": round(t.window_per_1000, 1),
             "baseline_per_1000": round(t.baseline_per_1000, 1),
             "ratio": round(t.ratio, 1) if t.baseline_per_1000 else "new"} for t in terms]
