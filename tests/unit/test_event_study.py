"""Event study on hand-built series; every expected number is worked out here."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from analysis.event_study import event_curves, event_study
from dipwatch.core.params import MetricParams

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PARAMS = MetricParams(bucket="1h", smoothing_buckets=1)


@dataclass
class Window:
    id: int
    start: datetime


def series(start: datetime, smoothed: list[float], freq: str = "1h") -> pd.DataFrame:
    """A series whose ``smoothed`` column is given (NaN: an empty bucket); other columns unused."""
    index = pd.date_range(start, periods=len(smoothed), freq=freq, tz="UTC")
    return pd.DataFrame({"posts": 1, "smoothed": smoothed}, index=index)


def test_two_outages_average_their_abnormal_sentiment_with_an_interval_between_them():
    # Baselines 0.5 and 0.1: hour 0 is 0.1 - 0.5 = -0.4 and -0.1 - 0.1 = -0.2, mean -0.3;
    # hour 1 is -0.2 and 0.0, mean -0.1.
    first = (Window(1, T0), series(T0, [0.1, 0.3]), 0.5)
    second = (Window(2, T0 + timedelta(days=3)), series(T0 + timedelta(days=3), [-0.1, 0.1]), 0.1)
    study = event_study([first, second], PARAMS, hours=2)
    assert list(study.columns) == ["hour", "mean_abnormal", "lo", "hi", "outages"]
    assert list(study["hour"]) == [0, 1]
    assert list(study["mean_abnormal"]) == pytest.approx([-0.3, -0.1])
    assert list(study["outages"]) == [2, 2]
    # A resample draws (1, 1), (1, 2), (2, 1) or (2, 2): means -0.4, -0.3, -0.3, -0.2 at hour 0. Of 200
    # resamples about 50 draw each pure pair, far more than the 5 that the 2.5% tail needs, so the
    # interval's ends are the two outages themselves.
    assert list(study["lo"]) == pytest.approx([-0.4, -0.2])
    assert list(study["hi"]) == pytest.approx([-0.2, 0.0])


def test_one_outage_has_a_zero_width_interval_at_its_own_value():
    study = event_study([(Window(1, T0), series(T0, [0.2, -0.6]), 0.4)], PARAMS, hours=2)
    assert list(study["mean_abnormal"]) == pytest.approx([-0.2, -1.0])
    assert (study["lo"] == study["mean_abnormal"]).all()
    assert (study["hi"] == study["mean_abnormal"]).all()


def test_count_drops_where_an_outage_has_no_data_and_hours_without_data_stay_empty():
    # Outage 1 has three hours of data; outage 2 only its first hour (then an empty bucket, then the
    # series ends). Baselines 0: abnormal == smoothed.
    first = (Window(1, T0), series(T0, [-0.4, -0.2, -0.1]), 0.0)
    second = (Window(2, T0), series(T0, [-0.2, math.nan]), 0.0)
    study = event_study([first, second], PARAMS, hours=4)
    assert list(study["outages"]) == [2, 1, 1, 0]
    assert list(study["mean_abnormal"].iloc[:3]) == pytest.approx([-0.3, -0.2, -0.1])
    # From hour 1 only outage 1 is there: every resample that has data then has only outage 1.
    assert study["lo"].iloc[1] == study["hi"].iloc[1] == pytest.approx(-0.2)
    assert study.iloc[3][["mean_abnormal", "lo", "hi"]].isna().all()


def test_alignment_uses_the_bucket_the_start_falls_in_and_ignores_data_before_it():
    # Start 02:20 -> hour 0 is the 02:00 bucket (0.6 - 0.5 = 0.1), hour 1 the 03:00 bucket (-0.3).
    data = series(T0, [0.9, 0.9, 0.6, 0.2])
    study = event_study([(Window(7, T0 + timedelta(hours=2, minutes=20)), data, 0.5)], PARAMS, hours=3)
    assert list(study["mean_abnormal"].iloc[:2]) == pytest.approx([0.1, -0.3])
    assert list(study["outages"]) == [1, 1, 0]


def test_quarter_hour_buckets_are_averaged_within_each_hour():
    # Hour 0: quarters 0.1, 0.3, empty, 0.2 -> mean of those with data 0.2; minus baseline 0.5 -> -0.3.
    data = series(T0, [0.1, 0.3, math.nan, 0.2, -0.5], freq="15min")
    study = event_study([(Window(1, T0), data, 0.5)], PARAMS.with_bucket("15min"), hours=2)
    assert list(study["mean_abnormal"]) == pytest.approx([-0.3, -1.0])


def test_daily_buckets_and_missing_baselines_are_refused():
    item = (Window(1, T0), series(T0, [0.1]), 0.0)
    with pytest.raises(ValueError, match="1h or finer"):
        event_study([item], PARAMS.with_bucket("1d"))
    with pytest.raises(ValueError, match="no baseline"):
        event_study([(Window(2, T0), series(T0, [0.1]), None)], PARAMS)


def test_same_seed_same_interval_and_no_resamples_no_interval():
    items = [(Window(i, T0), series(T0, [v]), 0.0) for i, v in enumerate([-0.5, -0.1, 0.2, -0.3])]
    first = event_study(items, PARAMS, hours=1, seed=3)
    again = event_study(items, PARAMS, hours=1, seed=3)
    pd.testing.assert_frame_equal(first, again)
    mean = first["mean_abnormal"].iloc[0]
    assert mean == pytest.approx(-0.175)  # (-0.5 - 0.1 + 0.2 - 0.3) / 4
    assert -0.5 <= first["lo"].iloc[0] < mean < first["hi"].iloc[0] <= 0.2
    other = event_study(items, PARAMS, hours=1, seed=4)
    assert (other["lo"].iloc[0], other["hi"].iloc[0]) != (first["lo"].iloc[0], first["hi"].iloc[0])
    bare = event_study(items, PARAMS, hours=1, resamples=0)
    assert bare[["lo", "hi"]].isna().all().all()


def test_no_outages_gives_empty_hours():
    study = event_study([], PARAMS, hours=3)
    assert list(study["outages"]) == [0, 0, 0]
    assert study["mean_abnormal"].isna().all()


def test_event_curves_are_long_with_a_row_per_outage_and_hour():
    first = (Window(1, T0), series(T0, [0.1, 0.3]), 0.5)
    second = (Window(2, T0), series(T0, [-0.1]), 0.1)
    curves = event_curves([first, second], PARAMS, hours=2)
    assert list(curves.columns) == ["outage_id", "hour", "abnormal"]
    assert list(curves["outage_id"]) == [1, 1, 2, 2]
    assert list(curves["hour"]) == [0, 1, 0, 1]
    values = curves["abnormal"].to_numpy()
    assert values[:3] == pytest.approx([-0.4, -0.2, -0.2])
    assert np.isnan(values[3])


def test_the_bootstrap_at_once_equals_numpy_resample_by_resample():
    """The resampled means and their percentiles, computed for all resamples at once, are numpy's
    per-resample means and np.nanpercentile to the last bit (columns with gaps included)."""
    from analysis.event_study import _boot_means, _means, _nan_percentiles

    rng = np.random.default_rng(8)
    for outages in (1, 2, 3, 9, 40):
        matrix = rng.normal(size=(outages, 72))
        matrix[rng.random(matrix.shape) < 0.4] = np.nan
        draws = rng.integers(0, outages, size=(200, outages))
        boot = _boot_means(matrix, draws)
        expected = np.array([_means(matrix[d])[0] for d in draws])
        assert np.array_equal(boot, expected, equal_nan=True)
        usable = (~np.isnan(boot)).any(axis=0)
        lo, hi = _nan_percentiles(boot[:, usable], (2.5, 97.5))
        assert np.array_equal(lo, np.nanpercentile(boot[:, usable], 2.5, axis=0))
        assert np.array_equal(hi, np.nanpercentile(boot[:, usable], 97.5, axis=0))


def test_hourly_curves_equal_the_mean_of_each_hour():
    """On 1h buckets each hour's value is its bucket's (no groupby); -0.0 reads as 0.0 as a mean does."""
    values = [0.2, -0.0, math.nan, -0.5, 0.1]
    study = event_curves([(Window(1, T0), series(T0, values), 0.0)], PARAMS, hours=5)
    grouped = pd.Series(values).groupby(np.arange(5)).mean().to_numpy()
    assert np.array_equal(study["abnormal"].to_numpy(), grouped, equal_nan=True)
    assert not np.signbit(study["abnormal"].to_numpy()[1])
