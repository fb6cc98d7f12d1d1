"""What the dashboard says in words: headline shown, freshness line, period, clicked time step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from analysis.headline import headline
from analysis.words import Term
from dashboard import model, voices
from dashboard.tables import OUTAGE_COLUMNS, outage_rows, series_rows, term_rows
from dashboard.voices import VoicesQuery
from dipwatch.core.params import MetricParams
from dipwatch.core.records import Outage
from tests.unit.test_figures import OUTAGES, metrics, tiny_series

NOW = datetime(2026, 10, 20, 12, tzinfo=UTC)


def status(source, last_ok, last_status="ok", error=None, brand="brightmart"):
    return {"source": source, "brand": brand, "last_ok": last_ok, "last_run": last_ok,
            "last_status": last_status, "last_error": error, "posts_24h": 10}


def test_headline_shown_for_the_selected_outage():
    assert headline(metrics()) == ("Sentiment fell 0.45 below normal, 2.3x the usual volume; "
                                   "recovered 2.0 h after the fix.")
    stuck = metrics(status="not recovered", recovered_at=None, time_to_recover_h=None, hours_since_end=14.2)
    assert headline(stuck).endswith("not yet recovered, 14 h since the site came back.")


def test_freshness_lists_each_source_and_flags_stale_ones():
    rows = [status("reddit", NOW - timedelta(minutes=12)), status("hackernews", NOW - timedelta(minutes=40)),
            status("reddit", NOW - timedelta(days=3), brand="shopwell")]
    assert model.freshness(rows, "brightmart", NOW) == (
        "Last collection: hackernews 40 min ago, reddit 12 min ago.", False)
    text, stale = model.freshness(rows, "shopwell", NOW)
    assert stale
    assert text == "Data may be out of date. Last collection: reddit 3.0 days ago."


def test_freshness_flags_failed_runs_and_files_only_brands():
    rows = [status("reddit", NOW - timedelta(minutes=5), "failed", "HTTP 503 from oauth.reddit.com\ntrace"),
            status("bluesky", None, "failed")]
    text, stale = model.freshness(rows, "brightmart", NOW)
    assert stale
    assert "bluesky: never collected successfully (last run failed)" in text
    assert "reddit 5 min ago (last run failed: HTTP 503 from oauth.reddit.com)" in text
    assert model.freshness([], "brightmart", NOW, NOW - timedelta(hours=2)) == (
        "Posts imported from files (no scheduled collection); latest post 20 Oct 2026 10:00 UTC.", False)


def test_period_window():
    params = MetricParams()
    ended = Outage(1, "b", NOW - timedelta(days=5), NOW - timedelta(days=4), "x", "major", "manual")
    assert model.period_window("outage", ended, NOW, params) == (ended.start - timedelta(days=14),
                                                                 ended.end + timedelta(hours=72))
    ongoing = Outage(2, "b", NOW - timedelta(days=1), None, "y", "major", "manual")
    assert model.period_window("outage", ongoing, NOW, params)[1] == NOW
    assert model.period_window("7d", None, NOW, params) == (NOW - timedelta(days=7), NOW)
    assert model.period_window("all", ended, NOW, params) is None


def test_clicked_bucket_from_plotly_click_data():
    click = {"points": [{"curveNumber": 0, "x": "2026-10-19 04:00", "y": -0.5}]}
    start, end = model.clicked_bucket(click, pd.Timedelta(hours=1))
    assert (start, end) == (datetime(2026, 10, 19, 4, tzinfo=UTC), datetime(2026, 10, 19, 5, tzinfo=UTC))
    assert model.clicked_bucket(None, pd.Timedelta(hours=1)) is None
    assert model.clicked_bucket({"points": [{"x": "not a time"}]}, pd.Timedelta(hours=1)) is None
    assert model.clicked_at(click) == "2026-10-19T04:00:00+00:00"
    assert model.clicked_step("2026-10-19T04:00Z", "1d") == {"start": "2026-10-19T04:00:00+00:00",
                                                             "end": "2026-10-20T04:00:00+00:00"}
    assert model.clicked_step(None, "1h") is None


def test_voices_caption_and_window():
    clicked = {"start": "2026-10-19T04:00:00+00:00", "end": "2026-10-19T05:00:00+00:00"}
    *_, where = model.voices_window(clicked, OUTAGES[0], NOW)
    assert where == ("the time step from 19 Oct 2026 04:00 UTC to 19 Oct 2026 05:00 UTC "
                     "(clicked on the chart)")
    query = VoicesQuery("brightmart", NOW, NOW, where, label="negative", contains="refund",
                        order="engagement", descending=True)
    assert voices.caption(query, 6546).startswith(
        '6,546 negative posts containing "refund" from the time step from 19 Oct 2026 04:00 UTC to '
        "19 Oct 2026 05:00 UTC (clicked on the chart), most engagement first.")
    assert voices.sort_of([{"column_id": "label", "direction": "desc"}]) == ("sentiment", True)
    assert voices.sort_of([{"column_id": "text", "direction": "asc"}]) == ("sentiment", False)
    assert voices.visible_columns({"posts": 9, "rated": 0, "engaged": 3}) == [
        "time", "source", "sentiment", "label", "engagement", "text", "link"]
    assert model.voices_window(None, None, NOW) is None


def test_table_rows_are_plain_values():
    windows = [*OUTAGES, Outage(9, "brightmart", OUTAGES[0].start, None, "detected: 90 posts",
                                "unknown", "detected")]
    rows = outage_rows(windows, {1: metrics()})
    assert [r["id"] for r in rows] == [2, 1, 9]  # newest first
    by_id = {r["id"]: r for r in rows}
    assert by_id[1]["status"] == "recovered"  # no share family: the tone's recovery, said as such
    assert (by_id[1]["dip_depth"], by_id[1]["time_to_recover_h"], by_id[1]["share_peak_pct"]) == (
        0.45, 2.0, None)
    # With the share measured, the row speaks in it as the Overview does: its status, whole
    # percentages and its hours to recover; the tone's dip stays, last.
    shared = metrics(share_status="not recovered", share_baseline=0.134, share_during=0.604,
                     share_peak=0.786, share_time_to_recover_h=None)
    row = outage_rows(windows, {1: shared})[1]
    assert (row["status"], row["share_normal_pct"], row["share_during_pct"], row["share_peak_pct"],
            row["time_to_recover_h"], row["dip_depth"]) == ("not recovered", 13, 60, 79, None, 0.45)
    assert list(row) == list(OUTAGE_COLUMNS)  # every row has the table's columns, in its order
    assert by_id[9]["origin"] == "detected (unconfirmed)"
    assert by_id[9]["status"] == "candidate: confirm to measure"
    assert by_id[2]["end"] == "ongoing"
    frame = tiny_series().assign(smoothed_lo=lambda f: f["smoothed"] - 0.1235,  # 0.3 - 0.1235 = 0.1765
                                 smoothed_hi=lambda f: f["smoothed"] + 0.1)
    frame.loc[frame.index[1], "smoothed_lo"] = float("nan")  # under two posts: no interval
    series = series_rows(frame)
    assert series[0] == {"bucket": "2026-09-10T18:00:00Z", "posts": 10, "mean": 0.3, "smoothed": 0.3,
                         "smoothed_lo": 0.1765, "smoothed_hi": 0.4, "negative_share": 0.1}
    assert series[1]["smoothed_lo"] is None
    assert term_rows([Term("site down", 4, 400.0, 0.0, 80.0)])[0]["ratio"] == "new"


def test_the_timeline_draws_the_period_and_a_tenth_of_its_length_either_side():
    index = pd.date_range("2026-10-01", periods=200, freq="h", tz="UTC", name="bucket")
    series = pd.DataFrame({"posts": range(200)}, index=index)
    window = (datetime(2026, 10, 2, tzinfo=UTC), datetime(2026, 10, 7, tzinfo=UTC))
    near = model.series_near(series, window)
    assert (near.index[0], near.index[-1]) == (pd.Timestamp("2026-10-01 12:00", tz="UTC"),
                                               pd.Timestamp("2026-10-07 11:00", tz="UTC"))
    assert model.series_near(series, None) is series
