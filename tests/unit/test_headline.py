"""The headline's words for each outage status."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from analysis.headline import headline
from analysis.recovery import OutageMetrics

BASE = OutageMetrics(
    outage_id=1, brand="acme", label="site down", severity="major",
    start=datetime(2026, 3, 1, 18, tzinfo=UTC), end=datetime(2026, 3, 1, 21, tzinfo=UTC),
    status="not recovered", baseline_mean=0.3, baseline_sd=0.05, baseline_posts=400,
    baseline_posts_per_h=2.0, trough=-0.11, trough_at=datetime(2026, 3, 1, 20, tzinfo=UTC),
    dip_depth=0.41, dip_depth_sd=8.2, time_to_trough_h=2.0, recovered_at=None, time_to_recover_h=None,
    hours_since_end=14.0, sentiment_hours_lost=5.0, volume_lift=2.3, posts_per_h_during=4.6,
    negative_share_baseline=0.1, negative_share_during=0.6, posts_during=120, sparse=False,
    sparse_reason=None,
)


def test_not_recovered_reads_like_the_issue_example():
    assert headline(BASE) == ("Sentiment fell 0.41 below normal, 2.3x the usual volume; "
                              "not yet recovered, 14 h since the site came back.")


def test_recovered_and_days():
    m = replace(BASE, status="recovered", time_to_recover_h=60.0, hours_since_end=None)
    assert headline(m).endswith("recovered 2.5 days after the fix.")


def test_ongoing_names_the_lowest_point_and_normal():
    m = replace(BASE, status="ongoing", end=None, hours_since_end=None)
    assert "still ongoing (lowest point so far -0.11, normal is 0.30)" in headline(m)


def test_sparse_and_no_baseline_are_said_plainly():
    sparse = replace(BASE, sparse=True, sparse_reason="outage window has 12 posts")
    assert headline(sparse).endswith("Few posts: outage window has 12 posts.")
    none = replace(BASE, baseline_mean=None, dip_depth=None, status="no baseline")
    assert headline(none).startswith("Not enough data before 'site down' to say what normal was")


SHARED = replace(BASE, share_status="not recovered", share_baseline=0.13, share_baseline_sd=0.03,
                 share_peak=0.786, share_during=0.6, share_rise_pts=65.6, volume_lift=2.04)


def test_the_share_leads_when_it_is_measured():
    """The share of all the posts during the outage leads, not the highest bucket: over a long
    outage the highest of hundreds of noisy buckets overstates it."""
    assert headline(SHARED) == ("60% of posts negative during the outage (normal 13%), 2.0x the usual "
                                "volume; not yet back to normal, 14 h since the site came back.")
    # No posts during the window yet (it has just started) but some after: the peak, said as such.
    assert headline(replace(SHARED, share_during=None)).startswith(
        "Up to 79% of posts negative (normal 13%)")


def test_share_recovered_ongoing_and_no_data():
    back = replace(SHARED, share_status="recovered", share_time_to_recover_h=12.0)
    assert headline(back).endswith("back to normal 12 h after the fix.")
    going = replace(SHARED, share_status="ongoing", end=None, hours_since_end=None)
    assert headline(going).endswith("the outage is still ongoing.")
    stopped = replace(SHARED, share_status="no data", data_gap_h=30.0)
    assert headline(stopped).endswith("no posts for 30 h, so nothing says whether it recovered.")


def test_the_headline_rounds_the_share_as_the_cards_do():
    from dashboard.model import fmt_share

    for share in (0.125, 0.135, 0.5049, 0.995):
        assert headline(replace(SHARED, share_during=share)).startswith(f"{fmt_share(share)} of posts")
        assert f"Up to {fmt_share(share)} of posts" in headline(replace(SHARED, share_during=None,
                                                                        share_peak=share))
