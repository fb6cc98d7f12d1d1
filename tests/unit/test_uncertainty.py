"""One author, one voice, and bootstrap intervals, on hand-built posts."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from analysis import uncertainty
from analysis.recovery import outage_metrics
from analysis.timeline import bucket_series, series_from_sums
from analysis.uncertainty import _resampled_metrics, bootstrap_intervals, one_voice
from dipwatch.core.brands import Brand
from dipwatch.core.params import MetricParams

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PARAMS = MetricParams(bucket="1h", smoothing_buckets=1, baseline_days=1, exclusion_margin_h=2,
                      trough_horizon_h=3, recovery_sd=1.0, recovery_hold_h=2, sparse_min_posts=3,
                      peak_min_posts=1)


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


# The vectorised metrics of the resamples equal outage_metrics, series by series --------------------
def reference(index: pd.DatetimeIndex, posts: np.ndarray, total: np.ndarray, window, others, params,
              now: datetime):
    """outage_metrics of the series with these per-bucket volumes and sums of compound."""
    zeros = np.zeros(len(index))
    series = series_from_sums(index, np.arange(len(index)), posts.astype(np.int64), total, zeros, zeros,
                              params)
    return series, outage_metrics(series, window, others, params, now)


TIES: list = []  # lowest buckets that tie with another one (same window of votes, an empty bucket
# in and out): pandas' rolling sum may tell them apart in the last bit, and idxmin takes the lower


def assert_same_metrics(index, posts, totals, window, others, params, now) -> list:
    """Every column of ``totals`` measured both ways agrees: values to 1e-12, buckets exactly."""
    found = _resampled_metrics(index, posts.astype(float), totals, window, others, params, now)
    measured = []
    for column in range(totals.shape[1]):
        series, ref = reference(index, posts, totals[:, column], window, others, params, now)
        np.testing.assert_allclose(found.smoothed[:, column], series["smoothed"].to_numpy(), rtol=0,
                                   atol=1e-12)
        if ref.baseline_mean is None:
            assert found.baseline_mean is None
        else:
            assert found.baseline_mean[column] == pytest.approx(ref.baseline_mean, rel=0, abs=1e-12)
        if ref.trough_at is None:
            assert found.trough_at is None
        else:
            assert found.trough[column] == pytest.approx(ref.trough, rel=0, abs=1e-12)
            if index[found.trough_at[column]] != ref.trough_at:  # only where two buckets tie
                other = series["smoothed"].to_numpy()[found.trough_at[column]]
                assert other == pytest.approx(ref.trough, rel=0, abs=1e-12)
                TIES.append(ref.trough_at)
        if ref.end is None or ref.baseline_mean is None:
            assert found.time_to_recover_h is None
        else:
            expected = math.inf if ref.time_to_recover_h is None else ref.time_to_recover_h
            assert found.time_to_recover_h[column] == expected
        measured.append((series, ref))
    return measured


SERIES = 5


def random_case(rng: np.random.Generator):
    """A random series of 40-120 buckets (hours or quarter hours) with empty buckets and empty
    stretches, an outage (sometimes ongoing, sometimes ending after now), other windows (in its
    baseline or not, some open), random metric parameters, and SERIES random series of sums."""
    params = MetricParams(
        bucket=str(rng.choice(["1h", "15min"])), smoothing_buckets=int(rng.integers(1, 7)),
        baseline_days=1, exclusion_margin_h=float(rng.choice([0, 0.5, 2, 5])),
        trough_horizon_h=float(rng.choice([0, 1, 3, 10])), recovery_sd=float(rng.choice([0, 0.5, 1, 2])),
        recovery_hold_h=float(rng.choice([0, 0.25, 1, 2, 3.5])))
    hours = params.bucket_hours
    buckets = int(rng.integers(40, 121))
    index = pd.date_range(T0, periods=buckets, freq=params.bucket_delta)
    posts = rng.poisson(rng.uniform(0.5, 6), buckets) * (rng.random(buckets) > 0.25)
    for _ in range(int(rng.integers(0, 3))):  # a stretch longer than the smoothing window, empty
        gap = int(rng.integers(0, buckets))
        posts[gap : gap + int(rng.integers(1, 12))] = 0
    begin = int(rng.integers(buckets // 4, buckets - 5))
    start = index[begin] + pd.Timedelta(minutes=int(rng.integers(0, 60 * hours)))
    end = None
    if rng.random() > 0.25:
        end = start + pd.Timedelta(minutes=int(rng.integers(0, 12 * 60 * hours)))
    now = index[-1] + pd.Timedelta(minutes=int(rng.integers(0, 60 * hours)))
    if rng.random() < 0.1:  # a baseline with no posts at all
        posts[:begin] = 0
    others = []
    for i in range(int(rng.integers(0, 3))):
        other = index[int(rng.integers(0, buckets))] + pd.Timedelta(minutes=int(rng.integers(0, 60)))
        length = None if rng.random() < 0.3 else pd.Timedelta(minutes=int(rng.integers(0, 360)))
        others.append(Window("acme", other.to_pydatetime(),
                             None if length is None else (other + length).to_pydatetime(), id=2 + i))
    window = Window("acme", start.to_pydatetime(), None if end is None else end.to_pydatetime())
    # Sentiment around a level, lower in the outage, then back: some series recover, some do not.
    level = rng.uniform(-0.2, 0.4, SERIES)
    dip = np.where((index + params.bucket_delta > start) & (index < (end or now)), 1.0, 0.0)
    means = level + rng.normal(0, rng.uniform(0.01, 0.3), (buckets, SERIES))
    means -= dip[:, None] * rng.uniform(0, 0.8, SERIES)
    totals = posts[:, None] * np.clip(means, -1, 1)
    return index, posts, totals, window, others, params, now.to_pydatetime()


def test_vectorised_metrics_equal_outage_metrics_on_random_series():
    rng = np.random.default_rng(2026)
    seen = Counter()
    for _ in range(120):
        index, posts, totals, window, others, params, now = random_case(rng)
        for series, ref in assert_same_metrics(index, posts, totals, window, others, params, now):
            seen[ref.status] += 1
            seen["empty smoothed buckets"] += bool(series["smoothed"].isna().any())
            seen["other window in the baseline"] += any(
                pd.Timestamp(o.start) < pd.Timestamp(window.start) for o in others)
            hold = max(1, math.ceil(params.recovery_hold_h / params.bucket_hours))
            seen["recovered at the last bucket"] += ref.recovered_at == index[-hold]
    assert len(TIES) < 20
    # The cases the random series are for all came up, many times.
    for case in ("recovered", "not recovered", "ongoing", "no baseline", "empty smoothed buckets",
                 "other window in the baseline", "recovered at the last bucket"):
        assert seen[case] >= 5, (case, seen)


def test_vectorised_metrics_edge_cases():
    params = MetricParams(bucket="1h", smoothing_buckets=2, baseline_days=1, exclusion_margin_h=1,
                          trough_horizon_h=2, recovery_sd=1.0, recovery_hold_h=3)
    index = pd.date_range(T0, periods=36, freq="1h")
    posts = np.full(36, 4)
    calm = np.where(np.arange(36) % 2, 0.3, 0.2) * 4
    window = Window("acme", at(24), at(27))
    late = at(35.5)

    def check(totals, window=window, others=(), now=late, posts=posts):
        ((_, ref),) = assert_same_metrics(index, posts, totals[:, None], window, list(others), params, now)
        return ref

    dipped = calm.copy()
    dipped[24:27] = -2.0
    assert check(dipped).recovered_at == at(28)
    low_to_the_end = dipped.copy()
    low_to_the_end[27:] = -1.0
    assert check(low_to_the_end).status == "not recovered"
    last_three = low_to_the_end.copy()
    last_three[32:] = 1.2  # smoothed back for exactly the three hours held, the series' last three
    assert check(last_three).recovered_at == at(33)
    last_two = low_to_the_end.copy()
    last_two[33:] = 1.2  # two hours back: not yet a recovery
    assert check(last_two).status == "not recovered"
    assert check(dipped, window=Window("acme", at(24), None)).status == "ongoing"
    others = [Window("acme", at(2), at(4), id=2), Window("acme", at(10), None, id=3)]  # one still open
    assert check(dipped, others=others).baseline_posts == 4 * 5  # hours 0 and 5-8 only
    gaps = posts.copy()
    gaps[[3, 4, 5, 8, 9, 25, 26, 27, 28]] = 0  # whole smoothing windows empty, in and after the outage
    assert check(dipped * (gaps > 0), posts=gaps).status == "recovered"
    ((_, ref),) = assert_same_metrics(index[:27], posts[:27], dipped[:27, None], window, [], params,
                                      at(26.5))  # the series ends at now, before the outage does
    assert ref.status == "not recovered"
    assert check(dipped * 0, posts=posts * 0).status == "no baseline"


def test_how_far_the_resamples_are_followed_does_not_change_the_intervals(monkeypatch):
    # Some resamples recover late or never: those are followed to the end of the data.
    rows = [(h, c, None) for h in range(24) for c in (0.1, 0.3, 0.5)]
    rows += [(h, c, None) for h in range(24, 27) for c in (-0.2, -0.6, -0.9)]
    rows += [(h, c, None) for h in range(27, 60) for c in (-0.3, 0.0, 0.4)]
    posts = frame(rows)
    window = Window("acme", at(24), at(27))
    records = []
    for hours in (0, 3, 10_000):
        monkeypatch.setattr(uncertainty, "AFTER_END_H", hours)
        records.append(bootstrap_intervals(posts, window, [], PARAMS, at(60), start=T0))
    assert records[0] == records[1] == records[2]
    assert 0 < records[0]["recovered_share"] < 1


def test_resampled_sums_have_the_nonparametric_bootstraps_mean_and_variance():
    votes = np.array([-0.8, -0.3, 0.0, 0.1, 0.6, 0.9, 0.9])
    spread = np.array([(votes**2).sum() - votes.sum() ** 2 / len(votes)])
    noise = uncertainty._Noise(np.random.default_rng(5), spread, 40_000)
    drawn = noise.totals(np.array([votes.sum()]), 1)[0]
    # Redrawing the 7 votes with replacement: mean their sum, variance 7 times their (population) variance
    assert drawn.mean() == pytest.approx(votes.sum(), abs=0.03)
    assert drawn.var() == pytest.approx(len(votes) * votes.var(), rel=0.03)
    resampled = np.random.default_rng(5).choice(votes, (40_000, len(votes))).sum(axis=1)
    assert drawn.var() == pytest.approx(resampled.var(), rel=0.04)


@pytest.mark.parametrize("voice", [True, False])
@pytest.mark.parametrize("bucket", ["15min", "1h"])
def test_intervals_from_the_rollup_equal_intervals_from_the_posts(store, monkeypatch, voice, bucket):
    """The dashboard, report and exports resample the rollup's per-bucket sums: the same intervals as
    resampling the sums of the posts (or one-voice votes) themselves."""
    from dipwatch.core.config import Settings
    from dipwatch.core.records import Post
    from dipwatch.measures import brand_view, interval_records, load_votes
    from dipwatch.store import ScoredPost

    for module in ("dipwatch.measures", "dipwatch.measures"):
        monkeypatch.setattr(f"{module}.scorer_id", lambda: "test-scorer")
    rng = np.random.default_rng(4)
    items = []
    for i in range(1500):  # four days; the outage on the third, from 08:00 to 14:00
        hours = float(rng.uniform(0, 96))
        down = 56 <= hours < 62
        compound = float(np.clip(rng.normal(-0.5 if down else 0.2, 0.4), -1, 1).round(4))
        author = None if rng.random() < 0.1 else f"hash-{rng.integers(0, 60)}"
        post = Post("file", f"p{i}", T0 + timedelta(hours=hours), "Acme")
        items.append(ScoredPost(post, author, [("acme", "Acme")], (compound, 0, 1, 0)))
    store.save_posts(items, "test-scorer")
    store.ensure_brand("acme", "Acme", ["acme"], origin="import")
    (first_id, _) = store.add_outages([
        {"brand": "acme", "start": at(56), "end": at(62), "label": "down"},
        {"brand": "acme", "start": at(30), "end": at(31), "label": "blip"}])  # in the baseline
    params = MetricParams(bucket=bucket, baseline_days=2, one_author_one_voice=voice)
    settings = Settings(db_url="sqlite://")
    brand = Brand("acme", "Acme", ("acme",))
    view = brand_view(settings, store, brand, params, now=at(95.5))
    records = interval_records(view, store, settings, resamples=100, seed=3, voice=voice)
    assert set(records) == {m.outage_id for m in view.metrics}
    for metrics in view.metrics:
        window = next(w for w in view.outages if w.id == metrics.outage_id)
        others = [w for w in view.outages if w.id != window.id]
        votes = load_votes(store, "acme", params, view.series.index[0], at(96), voice)
        expected = bootstrap_intervals(votes, window, others, params, view.now, resamples=100, seed=3,
                                       start=view.series.index[0])
        record = records[metrics.outage_id]
        assert record.keys() == expected.keys()
        for key, value in expected.items():  # None (no bound) must match None exactly
            assert record[key] == (value if value is None else pytest.approx(value, rel=1e-9, abs=1e-12)), key
    main = records[first_id]
    point = next(m for m in view.metrics if m.outage_id == first_id)
    assert main["dip_depth_lo"] <= point.dip_depth <= main["dip_depth_hi"]
    assert main["trough_lo"] <= point.trough <= main["trough_hi"]
