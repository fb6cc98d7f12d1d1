"""Outage detection on hand-built hourly series; every expected number is worked out here."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from analysis.detect import DetectParams, detect_outages, score_hours

T0 = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
SPIKE = 7 * 24 + 10  # Monday of the second week, 10:00


def at(hours: int) -> datetime:
    return T0 + timedelta(hours=hours)


def series(hours: int, changes: dict[int, tuple[float, float]] | None = None) -> pd.DataFrame:
    """``hours`` hourly buckets of 4 posts, 1 negative; ``changes`` maps hour -> (posts, negatives)."""
    posts = np.full(hours, 4.0)
    negatives = np.full(hours, 1.0)
    for hour, (p, n) in (changes or {}).items():
        posts[hour], negatives[hour] = p, n
    index = pd.date_range(T0, periods=hours, freq="1h", name="bucket")
    return pd.DataFrame({"posts": posts, "negatives": negatives}, index=index)


def test_spike_hour_is_scored_against_the_same_hour_of_earlier_days():
    hours = score_hours(series(8 * 24, {SPIKE: (20, 15)}))
    spike = hours.loc[at(SPIKE)]
    # Only one earlier week: the same hour of the 7 earlier days, all 4 posts. Median 4, MAD 0,
    # so the spread is the Poisson floor sqrt(4) = 2: (20 - 4) / 2 = 8.
    assert spike["profile"] == "day"
    assert spike["expected"] == 4
    assert spike["spread"] == 2
    assert spike["volume_z"] == pytest.approx(8.0)
    # Share 15/20 = 0.75 against the 178 earlier hours' 178/712 = 0.25, pooled p = 193/732.
    p = 193 / 732
    assert spike["baseline_share"] == pytest.approx(0.25)
    assert spike["share_z"] == pytest.approx(0.5 / math.sqrt(p * (1 - p) * (1 / 20 + 1 / 712)))
    assert bool(spike["flagged"])
    # An hour with under 7 days of data before it is not scored at all.
    assert math.isnan(hours.loc[at(7 * 24 - 1), "volume_z"])
    assert hours.loc[at(7 * 24), "volume_z"] == 0
    assert int(hours["flagged"].sum()) == 1


def test_candidate_window_has_start_end_and_score():
    (candidate,) = detect_outages(series(8 * 24, {SPIKE: (20, 15)}))
    assert (candidate.start, candidate.end, candidate.peak_at) == (at(SPIKE), at(SPIKE + 1), at(SPIKE))
    assert candidate.score == pytest.approx(8.0)
    assert candidate.posts == 20
    assert candidate.expected_posts == 4
    assert candidate.negative_share == 0.75
    assert candidate.baseline_negative_share == 0.25


def test_adjacent_flagged_hours_merge_and_a_gap_splits():
    changes = {SPIKE: (20, 15), SPIKE + 1: (24, 18), SPIKE + 4: (20, 15)}
    first, second = detect_outages(series(8 * 24, changes))
    assert (first.start, first.end) == (at(SPIKE), at(SPIKE + 2))
    assert first.posts == 44
    assert first.score == pytest.approx(10.0)  # the peak hour: (24 - 4) / 2
    assert (second.start, second.end) == (at(SPIKE + 4), at(SPIKE + 5))


def test_a_spike_of_good_news_is_not_an_outage():
    # 20 posts, none negative: volume z 8, but the share falls far below the usual 0.25
    hours = score_hours(series(8 * 24, {SPIKE: (20, 0)}))
    assert hours.loc[at(SPIKE), "volume_z"] == pytest.approx(8.0)
    assert hours.loc[at(SPIKE), "share_z"] < -2
    assert detect_outages(series(8 * 24, {SPIKE: (20, 0)})) == []


def test_too_few_posts_are_never_a_spike():
    quiet = series(8 * 24) * 0
    quiet.loc[at(SPIKE)] = (4, 4)  # z = (4 - 0) / 1 = 4, but fewer than min_posts = 5
    assert detect_outages(quiet) == []
    quiet.loc[at(SPIKE)] = (5, 5)
    assert len(detect_outages(quiet)) == 1


def test_weekly_rhythm_is_learned_after_three_weeks():
    # Every Monday 10:00 brings 30 posts (a weekly newsletter); from the fourth Monday on, the same
    # hour of earlier weeks (30, 30, 30) is the baseline, so it is no spike.
    mondays = {week * 168 + 10: (30.0, 7.5) for week in range(4)}
    hours = score_hours(series(4 * 168 + 24, mondays))
    fourth = hours.loc[at(3 * 168 + 10)]
    assert fourth["profile"] == "week"
    assert fourth["expected"] == 30
    assert not fourth["flagged"]
    # the second Monday has one earlier week only: compared with the same hour of earlier days
    second = hours.loc[at(168 + 10)]
    assert second["profile"] == "day"
    assert bool(second["flagged"])


def test_from_and_to_limit_the_hours_flagged_not_the_history():
    data = series(8 * 24, {SPIKE: (20, 15)})
    assert detect_outages(data, end=at(SPIKE)) == []
    assert len(detect_outages(data, start=at(SPIKE))) == 1


def test_under_seven_days_of_history_is_refused():
    with pytest.raises(ValueError, match=r"at least 7 days of data .* covers 6\.0 days"):
        detect_outages(series(6 * 24))


def test_hours_not_collected_are_not_history():
    data = series(8 * 24, {SPIKE: (20, 15)})
    data.iloc[:48] = np.nan  # two days never collected: 6 days of data remain
    with pytest.raises(ValueError, match=r"covers 6\.0 days"):
        detect_outages(data)


def test_params_are_checked():
    with pytest.raises(ValueError, match="volume_z: expected a number >= 0"):
        DetectParams(volume_z=-1)
