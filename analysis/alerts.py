"""Alert rules: which conditions hold for a brand right now (pure; delivery lives elsewhere).

The thresholds are declared in :mod:`dipwatch.core.alert_rules` (no pandas: the config reads them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from analysis.headline import share_lead
from analysis.recovery import OutageMetrics, baseline_mask
from dipwatch.core.alert_rules import AlertRules
from dipwatch.core.params import MetricParams

HOUR = pd.Timedelta("1h")


@dataclass(frozen=True)
class Condition:
    """A rule that holds now. ``key`` names the episode: the same key on the next run is the same
    episode, so it is not sent again."""

    brand: str
    rule: str  # sentiment | volume | detected | not_recovered
    key: str
    summary: str


def _complete(series: pd.DataFrame, params: MetricParams, now: datetime) -> pd.DataFrame:
    """Buckets that have ended by ``now``: the current, half-filled bucket would alert on noise."""
    return series[series.index + params.bucket_delta <= pd.Timestamp(now)]


def sentiment_condition(brand: str, series: pd.DataFrame, windows: Iterable, rules: AlertRules,
                        params: MetricParams, now: datetime) -> Condition | None:
    """Smoothed sentiment under baseline mean - k SD for the latest N complete buckets. The baseline
    is the ``baseline_days`` before those buckets, leaving out known outage windows."""
    done = _complete(series, params, now)
    if len(done) < rules.sentiment_buckets:
        return None
    latest = done.iloc[-rules.sentiment_buckets:]
    first = latest.index[0]
    base = done[baseline_mask(done.index, first, windows, params, pd.Timestamp(now))]["smoothed"].dropna()
    if len(base) < 2:
        return None
    mean, sd = float(base.mean()), float(base.std())
    threshold = mean - rules.sentiment_sd * sd
    values = latest["smoothed"]
    if values.isna().any() or not (values < threshold).all():
        return None
    return Condition(brand, "sentiment", "sentiment",
                     f"{brand}: {_share_now(done, latest, windows, params, now)}"
                     f"sentiment {values.iloc[-1]:.2f} is below its normal band "
                     f"({mean:.2f} - {rules.sentiment_sd:g} SD = {threshold:.2f}) for the last "
                     f"{rules.sentiment_buckets} x {params.bucket}")


def _share_now(done: pd.DataFrame, latest: pd.DataFrame, windows: Iterable, params: MetricParams,
               now: datetime) -> str:
    """The negative share now and normally, in plain words, to lead an alert: "64% of posts
    negative (normal 13%); "; "" where the series has no share family."""
    if "share_smoothed" not in latest or pd.isna(latest["share_smoothed"].iloc[-1]):
        return ""
    base = done[baseline_mask(done.index, latest.index[0], windows, params, pd.Timestamp(now))]
    posts = base["post_count"].sum()
    if not posts or pd.isna(base["share"]).all():
        return f"{latest['share_smoothed'].iloc[-1] * 100:.0f}% of posts negative; "
    normal = (base["share"] * base["post_count"]).sum() / posts
    return f"{latest['share_smoothed'].iloc[-1] * 100:.0f}% of posts negative (normal {normal * 100:.0f}%); "


def volume_condition(brand: str, series: pd.DataFrame, rules: AlertRules, params: MetricParams,
                     now: datetime) -> Condition | None:
    """The latest complete bucket against the same hour of the week in up to four earlier weeks."""
    done = _complete(series, params, now)
    if done.empty:
        return None
    last_at = done.index[-1]
    count = int(done["posts"].iloc[-1])
    earlier = [last_at - pd.Timedelta(weeks=w) for w in range(1, 5)]
    usual_counts = [int(done.at[t, "posts"]) for t in earlier if t in done.index]
    if not usual_counts:
        return None
    usual = sum(usual_counts) / len(usual_counts)
    if count < rules.volume_min_posts or count <= rules.volume_multiple * max(usual, 1.0):
        return None
    return Condition(brand, "volume", "volume",
                     f"{brand}: {count} posts in the {params.bucket} from {last_at:%a %H:%M} UTC, "
                     f"{count / max(usual, 1.0):.1f}x the usual {usual:.1f} for that hour of the week")


def outage_conditions(brand: str, metrics: Iterable[OutageMetrics], detected: Iterable, rules: AlertRules,
                      now: datetime) -> list[Condition]:
    """Outages not recovered after ``not_recovered_hours``, and unconfirmed detected candidates."""
    found = []
    for m in metrics:
        if m.status == "ongoing":
            hours = (pd.Timestamp(now) - pd.Timestamp(m.start)) / HOUR
            what = f"{m.label!r} has been ongoing for {hours:.0f} h"
        elif m.status == "not recovered":
            hours = m.hours_since_end
            what = f"sentiment has not recovered {hours:.0f} h after {m.label!r} ended"
        else:
            continue
        lead, normal = share_lead(m), m.share_baseline
        if lead is not None and normal is not None:  # as the headline leads
            what = f"{lead} of posts negative (normal {normal * 100:.0f}%); {what}"
        if hours >= rules.not_recovered_hours:
            found.append(Condition(brand, "not_recovered", f"not_recovered:{m.outage_id}",
                                   f"{brand}: {what}"))
    if rules.detected:
        for window in detected:
            found.append(Condition(brand, "detected", f"detected:{window.id}",
                                   f"{brand}: possible outage detected from {window.start:%d %b %H:%M} UTC "
                                   f"({window.label}); confirm with `dipwatch outages confirm {window.id}`"))
    return found


__all__ = ["AlertRules", "Condition", "outage_conditions", "sentiment_condition", "volume_condition"]
