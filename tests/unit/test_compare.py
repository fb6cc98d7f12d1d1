"""Competitor comparison and difference in differences on hand-built series."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from analysis.compare import compare
from analysis.timeline import bucket_series, scores_frame
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


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def series(baseline: float, during: float, after: float = 0.4):
    """24 baseline hours of 2 posts at ``baseline``, hours 24-26 with 4 posts at ``during``."""
    rows = [(int(at(h + 0.2).timestamp()), baseline) for h in range(24) for _ in range(2)]
    rows += [(int(at(h + 0.2).timestamp()), during) for h in range(24, 27) for _ in range(4)]
    rows += [(int(at(h + 0.2).timestamp()), after) for h in range(27, 34) for _ in range(2)]
    return bucket_series(scores_frame(rows), PARAMS, T0, at(34))


OUTAGE = Window("acme", at(24), at(27))


def test_difference_in_differences_against_a_calm_competitor():
    result = compare(series(0.4, -0.5), [], "globex", series(0.3, 0.2), [], OUTAGE, PARAMS, at(34))
    assert result.brand_change == pytest.approx(-0.9)  # -0.5 during vs 0.4 before
    assert result.competitor_change == pytest.approx(-0.1)  # 0.2 vs 0.3
    assert result.did == pytest.approx(-0.8)
    assert not result.spillover
    assert result.metrics.baseline_mean == pytest.approx(0.3)


def test_competitor_that_dipped_too_is_flagged_as_no_clean_control():
    # Competitor baseline alternates 0.35/0.25 (SD ~0.05) and falls to -0.3: a dip of ~12 SD.
    rows = [(int(at(h + 0.2).timestamp()), 0.35 if h % 2 else 0.25) for h in range(24) for _ in range(2)]
    rows += [(int(at(h + 0.2).timestamp()), -0.3) for h in range(24, 27) for _ in range(4)]
    competitor = bucket_series(scores_frame(rows), PARAMS, T0, at(34))
    result = compare(series(0.4, -0.5), [], "globex", competitor, [], OUTAGE, PARAMS, at(34))
    assert result.spillover
    assert "globex also dipped" in result.note
    assert result.did == pytest.approx(-0.9 - (-0.6))


def test_competitor_without_posts_gives_no_difference():
    empty = bucket_series(scores_frame([]), PARAMS, T0, at(34))
    result = compare(series(0.4, -0.5), [], "globex", empty, [], OUTAGE, PARAMS, at(34))
    assert result.competitor_change is None
    assert result.did is None
    assert result.metrics.sparse
