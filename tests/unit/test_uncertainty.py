"""One author, one voice, and bootstrap intervals, on hand-built posts."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from analysis.params import MetricParams
from analysis.recovery import outage_metrics
from analysis.timeline import bucket_series
from analysis.uncertainty import bootstrap_intervals, one_voice

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PARAMS = MetricParams(bucket="1h", smoothing_buckets=1, baseline_days=1, exclusion_margin_h=2,
                      trough_horizon_h=3, recovery_sd=1.0, recovery_hold_h=2, sparse_min_posts=3)


@dataclass
class Window:
    brand: str
    start: datetime
    end: datetime | None
    label: str = "outage"
    severity: str = "major"
    id: int = 1


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def frame(rows: list[tuple[float, float, str | None]]) -> pd.DataFrame:
    """(hour, compound, author) -> posts at hh:10 + a second per row, so order is kept."""
    times = [at(h + 1 / 6) + timedelta(seconds=i) for i, (h, _, _) in enumerate(rows)]
    return pd.DataFrame({
        "created_at": pd.to_datetime(times, utc=True),
        "compound": [c for _, c, _ in rows],
        "author_hash": [a for _, _, a in rows],
    })


def measure(scores: pd.DataFrame, window: Window, now_h: int):
    series = bucket_series(scores, PARAMS, T0, at(now_h))
    return outage_metrics(series, window, [], PARAMS, at(now_h))


def test_one_voice_averages_an_authors_posts_within_a_bucket():
    votes = one_voice(frame([(0, -0.8, "a"), (0, -0.4, "a"), (0, 0.5, "b"), (1, 0.2, "a"),
                             (0, -0.9, None), (0, -0.7, None)]), PARAMS)
    by_hour = [(ts.hour, round(c, 6), a) for ts, c, a in votes.itertuples(index=False)]
    # a's two posts in hour 0 become one vote of -0.6; hour 1 is a new bucket, a new vote;
    # posts with no author are not merged (nothing says they share one)
    assert sorted(by_hour, key=str) == sorted(
        [(0, -0.6, "a"), (0, 0.5, "b"), (1, 0.2, "a"), (0, -0.9, None), (0, -0.7, None)], key=str)
    assert votes["created_at"].is_monotonic_increasing


def angry_account_day() -> list[tuple[float, float, str | None]]:
    """Hours 0-23: 20 authors an hour, hourly means 0.25 / 0.15 (baseline mean 0.2); hour 24: the
    same 20 authors at 0.2 plus one account posting 40 times at -0.8; hours 25-28 calm again."""
    rows = [(h, 0.25 if h % 2 == 0 else 0.15, f"u{i}") for h in range(24) for i in range(20)]
    rows += [(24, 0.2, f"u{i}") for i in range(20)] + [(24, -0.8, "angry")] * 40
    rows += [(h, 0.2, f"u{i}") for h in range(25, 29) for i in range(20)]
    return rows


def test_one_angry_account_makes_a_dip_only_without_one_voice():
    posts = frame(angry_account_day())
    window = Window("acme", at(24), at(25))
    baseline_sd = math.sqrt(24 * 0.05**2 / 23)
    raw = measure(posts, window, 29)
    # (20 x 0.2 + 40 x -0.8) / 60 = -0.4667: a dip of 0.6667, 13 baseline SDs deep
    assert raw.trough == pytest.approx(-28 / 60)
    assert raw.dip_depth == pytest.approx(0.2 + 28 / 60)
    assert raw.dip_depth_sd == pytest.approx((0.2 + 28 / 60) / baseline_sd)
    assert raw.negative_share_during == pytest.approx(40 / 60)
    voiced = measure(one_voice(posts, PARAMS), window, 29)
    # one vote of -0.8 among 20 at 0.2: (4 - 0.8) / 21 = 0.1524, within one baseline SD: no dip
    assert voiced.trough == pytest.approx(3.2 / 21)
    assert voiced.dip_depth == pytest.approx(0.2 - 3.2 / 21)
    assert voiced.dip_depth_sd < 1
    assert voiced.negative_share_during == pytest.approx(1 / 21)


def noisy_outage(copies: int = 1) -> pd.DataFrame:
    """Baseline hours 0-23 and recovery hours 27-33 of posts 0.1..0.5 around 0.3; outage hours 24-26
    of posts -0.2..-0.8; each post repeated ``copies`` times."""
    calm = [0.1, 0.2, 0.3, 0.4, 0.5]
    rows = [(h, c, None) for h in range(24) for c in calm]
    rows += [(h, c, None) for h in (24, 25, 26) for c in (-0.2, -0.4, -0.5, -0.6, -0.8)]
    rows += [(h, c, None) for h in range(27, 34) for c in calm]
    return frame([row for row in rows for _ in range(copies)])


def intervals(posts: pd.DataFrame, resamples: int = 60, **kwargs) -> dict:
    return bootstrap_intervals(posts, Window("acme", at(24), at(27)), [], PARAMS, at(34), start=T0,
                               resamples=resamples, **kwargs)


def test_bootstrap_is_repeatable_and_contains_the_point_estimate():
    posts = noisy_outage()
    first = intervals(posts)
    assert intervals(posts) == first  # seed 0 by default
    assert intervals(posts, seed=1) != first
    point = measure(posts, Window("acme", at(24), at(27)), 34)
    assert first["dip_depth_lo"] <= point.dip_depth <= first["dip_depth_hi"]
    assert first["trough_lo"] <= point.trough <= first["trough_hi"]
    assert first["time_to_recover_h_lo"] <= point.time_to_recover_h <= first["time_to_recover_h_hi"]
    assert first["resamples"] == 60
    assert first["interval_level"] == 0.95


def test_interval_narrows_with_more_posts():
    few, many = intervals(noisy_outage(1)), intervals(noisy_outage(6))
    assert many["dip_depth_hi"] - many["dip_depth_lo"] < few["dip_depth_hi"] - few["dip_depth_lo"]
    assert many["trough_hi"] - many["trough_lo"] < few["trough_hi"] - few["trough_lo"]


def test_identical_posts_in_each_bucket_give_a_zero_width_interval():
    # Hours 0-23 at 0.45 / 0.4 alternating (2 identical posts each), hours 24-25 at -0.5, then 0.45:
    # every resample is the data itself, so each interval is the point estimate.
    rows = [(h, 0.45 if h % 2 == 0 else 0.4, None) for h in range(24) for _ in range(2)]
    rows += [(h, -0.5, None) for h in (24, 25) for _ in range(3)]
    rows += [(h, 0.45, None) for h in range(26, 30) for _ in range(2)]
    posts = frame(rows)
    record = bootstrap_intervals(posts, Window("acme", at(24), at(26)), [], PARAMS, at(30),
                                 resamples=20, start=T0)
    assert record["trough_lo"] == record["trough_hi"] == pytest.approx(-0.5)
    assert record["dip_depth_lo"] == record["dip_depth_hi"] == pytest.approx(0.425 + 0.5)
    assert record["time_to_recover_h_lo"] == record["time_to_recover_h_hi"] == pytest.approx(0.0)
    assert record["recovered_share"] == 1.0


def test_an_outage_that_never_recovers_has_no_recovery_interval():
    rows = [(h, 0.45 if h % 2 == 0 else 0.4, None) for h in range(24) for _ in range(2)]
    rows += [(h, -0.5, None) for h in range(24, 30) for _ in range(3)]
    record = bootstrap_intervals(frame(rows), Window("acme", at(24), at(26)), [], PARAMS, at(30),
                                 resamples=20, start=T0)
    assert record["time_to_recover_h_lo"] is None
    assert record["time_to_recover_h_hi"] is None
    assert record["recovered_share"] == 0.0


def test_bad_arguments():
    with pytest.raises(ValueError, match="resamples: expected 1 or more"):
        intervals(noisy_outage(), resamples=0)
