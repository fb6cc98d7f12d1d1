"""Timeline and recovery metrics on hand-built series; every expected number is worked out here."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from analysis.recovery import outage_metrics
from analysis.timeline import bucket_series, scores_frame
from dipwatch.core.params import MetricParams

T0 = datetime(2026, 1, 1, tzinfo=UTC)
# Small windows so every figure can be worked out by hand: smoothed == the bucket mean.
PARAMS = MetricParams(bucket="1h", smoothing_buckets=1, baseline_days=1, exclusion_margin_h=2,
                      trough_horizon_h=3, recovery_sd=1.0, recovery_hold_h=2, sparse_min_posts=3,
                      peak_min_posts=1)
BASELINE_SD = math.sqrt(24 * 0.05**2 / 23)  # 24 hourly means of 0.5 / 0.4 around 0.45, ddof=1


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


def posts(*groups: tuple[int, list[float]]) -> pd.DataFrame:
    """(hour, [compound of each post in that hour]) -> a scores frame; posts at hh:10."""
    rows = [(int(at(h + 1 / 6).timestamp()), c) for h, values in groups for c in values]
    return scores_frame(rows)


def baseline_day() -> list[tuple[int, list[float]]]:
    """Hours 0-23: two posts an hour; even hours average 0.5, odd hours 0.4 (mean 0.45)."""
    return [(h, [0.4, 0.6] if h % 2 == 0 else [0.3, 0.5]) for h in range(24)]


def measure(frame, window, now_h, others=()):
    series = bucket_series(frame, PARAMS, T0, at(now_h))
    return outage_metrics(series, window, others, PARAMS, at(now_h), outage_id=window.id)


def test_bucket_series_weights_smoothing_by_post_count():
    frame = scores_frame([(int(at(0).timestamp()), 1.0)] + [(int(at(1).timestamp()), -0.2)] * 3)
    series = bucket_series(frame, MetricParams(smoothing_buckets=2), T0, at(3))
    assert list(series["posts"]) == [1, 3, 0, 0]
    # (1.0 + 3 * -0.2) / 4 posts = 0.1, not the 0.4 an unweighted mean of means would give
    assert series["smoothed"].iloc[1] == pytest.approx(0.1)
    assert series["smoothed"].iloc[2] == pytest.approx(-0.2)  # only hour 1 is in the window
    assert math.isnan(series["smoothed"].iloc[3])  # a window with no posts has no sentiment
    assert list(series["negatives"]) == [0, 3, 0, 0]
    assert series["negative_share"].iloc[1] == 1.0


def test_smoothed_band_is_the_95_interval_of_the_window_mean():
    # Hour 0: 0.2 and 0.6; hour 1: 0.4. Window of 2 hours at hour 1: posts 0.2, 0.6, 0.4.
    frame = scores_frame([(int(at(0).timestamp()), 0.2), (int(at(0).timestamp()), 0.6),
                          (int(at(1).timestamp()), 0.4), (int(at(3).timestamp()), -0.9)])
    series = bucket_series(frame, MetricParams(smoothing_buckets=2), T0, at(3))
    # mean 0.4, sample variance ((-0.2)^2 + 0.2^2 + 0) / 2 = 0.04, standard error sqrt(0.04 / 3)
    half = 1.959964 * math.sqrt(0.04 / 3)
    assert series["smoothed_lo"].iloc[1] == pytest.approx(0.4 - half)
    assert series["smoothed_hi"].iloc[1] == pytest.approx(0.4 + half)
    # Hour 0 alone: 0.2 and 0.6, variance 0.08, two posts
    assert series["smoothed_hi"].iloc[0] == pytest.approx(0.4 + 1.959964 * math.sqrt(0.08 / 2))
    # One post in the window (hour 3: hours 2 and 3): no interval
    assert math.isnan(series["smoothed_lo"].iloc[3])
    assert math.isnan(series["smoothed_hi"].iloc[3])
    assert series["smoothed"].iloc[3] == pytest.approx(-0.9)


def test_smoothed_band_stays_within_the_scale():
    frame = scores_frame([(int(at(0).timestamp()), c) for c in (-1.0, -1.0, 0.9)])
    series = bucket_series(frame, MetricParams(smoothing_buckets=1), T0, at(0))
    assert series["smoothed_lo"].iloc[0] == -1.0  # the normal interval would go below -1
    assert series["smoothed_lo"].iloc[0] <= series["smoothed"].iloc[0] <= series["smoothed_hi"].iloc[0]


@pytest.mark.parametrize(("bucket", "count"), [("15min", 9), ("1h", 3), ("1d", 1)])
def test_bucket_sizes(bucket, count):
    frame = posts((0, [0.1]), (2, [0.2]))
    series = bucket_series(frame, PARAMS.with_bucket(bucket), T0, at(2))
    assert len(series) == count
    assert series["posts"].sum() == 2


def test_clean_dip_that_recovers():
    frame = posts(*baseline_day(), (24, [-0.5] * 4), (25, [-0.8] * 4), (26, [-0.2] * 4),
                  (27, [0.1, 0.1]), *[(h, [0.45, 0.45]) for h in range(28, 33)])
    m = measure(frame, Window("acme", at(24), at(27)), now_h=33)
    assert m.status == "recovered"
    assert m.baseline_mean == pytest.approx(0.45)
    assert m.baseline_sd == pytest.approx(BASELINE_SD)
    assert m.baseline_posts == 48
    assert m.trough == pytest.approx(-0.8)
    assert m.trough_at == at(25)
    assert m.time_to_trough_h == pytest.approx(1.0)
    assert m.dip_depth == pytest.approx(1.25)
    assert m.dip_depth_sd == pytest.approx(1.25 / BASELINE_SD)
    # hour 27 (0.1) is below 0.45 - 1 SD; hours 28 and 29 hold above it for the 2 h required
    assert m.recovered_at == at(28)
    assert m.time_to_recover_h == pytest.approx(1.0)
    assert m.hours_since_end is None
    # 0.45 minus each smoothed value, hours 24-27: 0.95 + 1.25 + 0.65 + 0.35
    assert m.sentiment_hours_lost == pytest.approx(3.2)
    # 12 posts in 3 h against 48 posts in 24 h
    assert m.posts_during == 12
    assert m.volume_lift == pytest.approx(2.0)
    assert m.negative_share_baseline == 0.0
    assert m.negative_share_during == 1.0
    assert not m.sparse


def test_dip_that_never_recovers():
    frame = posts(*baseline_day(), (24, [-0.5] * 4), (25, [-0.8] * 4), (26, [-0.2] * 4),
                  *[(h, [0.1, 0.1]) for h in range(27, 33)])
    m = measure(frame, Window("acme", at(24), at(27)), now_h=33)
    assert m.status == "not recovered"
    assert m.recovered_at is None
    assert m.time_to_recover_h is None
    assert m.hours_since_end == pytest.approx(6.0)
    # hours 24-26 as above (2.85), then six hours at 0.1: 6 * 0.35
    assert m.sentiment_hours_lost == pytest.approx(2.85 + 2.1)
    assert m.trough == pytest.approx(-0.8)


def test_recovery_needs_the_whole_hold_period_in_the_data():
    frame = posts(*baseline_day(), (24, [-0.5] * 4), (25, [0.45] * 2))
    m = measure(frame, Window("acme", at(24), at(25)), now_h=25)
    assert m.recovered_at is None  # one good hour is not the two hours required
    assert m.status == "not recovered"


def test_ongoing_outage_runs_until_now():
    frame = posts(*baseline_day(), (24, [-0.5] * 4), (25, [-0.6] * 4), (26, [-0.4] * 2))
    m = measure(frame, Window("acme", at(24), None), now_h=27)
    assert m.status == "ongoing"
    assert m.end is None
    assert m.recovered_at is None
    assert m.hours_since_end is None
    assert m.trough == pytest.approx(-0.6)
    assert m.posts_during == 10  # hours 24, 25 and 26 overlap [start, now)
    assert m.volume_lift == pytest.approx((10 / 3) / 2)


def test_outage_with_no_baseline_data():
    frame = posts((24, [-0.5] * 4), (25, [-0.8] * 4))
    m = measure(frame, Window("acme", at(24), at(26)), now_h=30)
    assert m.status == "no baseline"
    assert m.baseline_mean is None
    assert m.dip_depth is None
    assert m.recovered_at is None
    assert m.sentiment_hours_lost is None
    assert m.volume_lift is None
    assert m.trough == pytest.approx(-0.8)  # the trough itself is still measured
    assert m.sparse
    assert "baseline rests on 0 posts" in m.sparse_reason


def test_outage_with_too_few_posts_is_flagged_sparse():
    frame = posts(*baseline_day(), (24, [-0.9, -0.7]), *[(h, [0.45, 0.45]) for h in range(25, 30)])
    m = measure(frame, Window("acme", at(24), at(25)), now_h=30)
    assert m.posts_during == 2
    assert m.sparse
    assert m.sparse_reason == "outage window has 2 posts"
    assert m.trough == pytest.approx(-0.8)  # still computed, but flagged


def test_two_overlapping_outages_leave_each_other_out_of_their_baselines():
    frame = posts(*baseline_day(), (24, [-0.5] * 4), (25, [-0.8] * 4), (26, [-0.6] * 4),
                  (27, [-0.6] * 4), (28, [-0.4] * 4), (29, [-0.3] * 4),
                  *[(h, [0.45, 0.45]) for h in range(30, 40)])
    first = Window("acme", at(24), at(27), id=1)
    second = Window("acme", at(26), at(30), id=2)
    m1 = measure(frame, first, now_h=40, others=[second])
    m2 = measure(frame, second, now_h=40, others=[first])
    # first: its 24 baseline hours end before second's window minus the 2 h margin (24h)
    assert m1.baseline_posts == 48
    # second: hours 2-25 before its start, minus first's window +-2 h (hours 22-28): hours 2-21
    assert m2.baseline_posts == 40
    assert m2.baseline_mean == pytest.approx(0.45)
    assert m2.negative_share_baseline == 0.0
    assert m2.trough == pytest.approx(-0.6)  # hours 26-33 searched: -0.6 at 26 (first minimum)
    assert m2.trough_at == at(26)
    assert m1.trough == pytest.approx(-0.8)


def test_recovery_is_the_first_full_run_of_the_hold():
    """The run search on arrays finds what a loop over the buckets finds."""
    import random

    import numpy as np

    from analysis.recovery import _first_held

    def loop(ok, hold):
        run = 0
        for i, good in enumerate(ok):
            run = run + 1 if good else 0
            if run >= hold:
                return i - hold + 1
        return None

    rng = random.Random(2)
    for _ in range(300):
        ok = [rng.random() < 0.7 for _ in range(rng.randrange(0, 30))]
        hold_h = rng.choice([0, 1, 2, 5, 6])
        params = MetricParams(bucket="1h", recovery_hold_h=hold_h)
        assert _first_held(np.array(ok, dtype=bool), params) == loop(ok, max(1, hold_h))


def test_shares_without_their_rates_are_an_error_not_a_silent_tone_headline():
    """The share family is measured with the error rates the series' shares were estimated with,
    carried in ``series.attrs``; a series that lost them must not quietly read as "no share"."""
    from analysis.quantify import Rates

    frame = posts(*baseline_day(), (24, [-0.6, -0.7, -0.5]), (25, [0.5, 0.4]))
    frame["counted"] = (frame["compound"] < 0).astype(float)
    rates = Rates(tpr=0.7, fpr=0.1, negatives=1000, others=1000)
    window = Window("acme", at(24), at(25))
    series = bucket_series(frame, PARAMS, T0, at(30), rates=rates)
    measured = outage_metrics(series, window, (), PARAMS, at(30), outage_id=1)
    assert measured.share_during == pytest.approx(1.0)  # 3 of 3 called negative: (1 - 0.1) / 0.6, kept to 1
    series.attrs.clear()
    with pytest.raises(ValueError, match="without the error rates"):
        outage_metrics(series, window, (), PARAMS, at(30), outage_id=1)
