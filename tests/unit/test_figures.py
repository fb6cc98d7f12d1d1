"""Figure builders and dashboard model helpers, on tiny inline series (no store, no browser).

The builders return plain dicts; :func:`figure` checks one is plain JSON and what plotly.py itself
would send for it, and hands it back as a validated ``go.Figure`` for the assertions.
"""

from __future__ import annotations

import base64
import json
import math
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from plotly.subplots import make_subplots

from analysis.recovery import OutageMetrics
from dashboard import model
from dashboard.figures import (
    INTERVAL_TRACE,
    MEAN_TRACE,
    NEGATIVE_TRACE,
    POSTS_TRACE,
    RECOVERED_TRACE,
    ROW_HEIGHTS,
    ROW_SPACING,
    SENTIMENT_TRACE,
    TROUGH_TRACE,
    build_empty_figure,
    build_timeline_figure,
    typed_array,
)
from dipwatch.core.records import Outage

T0 = datetime(2026, 9, 10, 18, tzinfo=UTC)


def at(hour: int) -> datetime:
    return T0 + pd.Timedelta(hours=hour)


def tiny_series() -> pd.DataFrame:
    index = pd.date_range(T0, periods=6, freq="1h", tz="UTC", name="bucket")
    posts = [10, 12, 40, 35, 15, 11]
    negatives = [1, 2, 30, 20, 3, 1]
    return pd.DataFrame({
        "posts": posts,
        "mean": [0.30, 0.28, -0.40, -0.20, 0.10, 0.25],
        "negatives": negatives,
        "negative_share": [n / p for n, p in zip(negatives, posts, strict=True)],
        "smoothed": [0.30, 0.29, -0.10, -0.15, -0.05, 0.05],
    }, index=index)


def metrics(outage_id: int = 1, **changes) -> OutageMetrics:
    base = OutageMetrics(
        outage_id=outage_id, brand="brightmart", label="Evening outage", severity="major",
        start=at(2), end=at(3), status="recovered", baseline_mean=0.3, baseline_sd=0.05, baseline_posts=900,
        baseline_posts_per_h=10.0, trough=-0.15, trough_at=at(3), dip_depth=0.45, dip_depth_sd=9.0,
        time_to_trough_h=1.0, recovered_at=at(5), time_to_recover_h=2.0, hours_since_end=None,
        sentiment_hours_lost=1.234, volume_lift=2.345, posts_per_h_during=37.5,
        negative_share_baseline=0.14, negative_share_during=0.667, posts_during=75, sparse=False,
        sparse_reason=None,
    )
    return replace(base, **changes)


OUTAGES = [
    Outage(1, "brightmart", at(2), at(3), "Evening outage", "major", "demo"),
    Outage(2, "brightmart", at(4), None, "Cyberattack", "critical", "demo"),
]


def figure(built) -> go.Figure:
    """``built`` as a plotly Figure, validated against plotly's schema (a wrong property name raises).

    It must be plain JSON, which Dash sends as it is, and just what plotly.py would send for it: no
    value that plotly's validation would still change (a title given as text, a numpy array, ...).
    """
    assert isinstance(built, dict)
    assert set(built) == {"data", "layout"}
    json.dumps(built)  # no default: only dicts, lists, text, numbers, booleans and None
    fig = go.Figure(built)
    assert fig.to_plotly_json() == built
    return fig


def values(array) -> list:
    """A trace's array as a list, whether sent as a list or as a plotly.js typed array (base64)."""
    if isinstance(array, dict):
        decoded = np.frombuffer(base64.b64decode(array["bdata"]), dtype="<" + array["dtype"])
        if "shape" in array:
            decoded = decoded.reshape([int(n) for n in array["shape"].split(",")])
        return decoded.tolist()
    return list(array)


def trace(fig, name):
    matches = [t for t in fig.data if t.name == name]
    assert len(matches) == 1, f"expected one trace {name!r}, got {[t.name for t in fig.data]}"
    return matches[0]


def outage_rects(fig):
    return [s for s in fig.layout.shapes if (s.name or "").startswith("outage-")]


def test_sentiment_line_and_volume_bars_carry_the_series():
    fig = figure(build_timeline_figure(tiny_series(), OUTAGES, [metrics()], 1, "Brightmart"))
    assert values(trace(fig, SENTIMENT_TRACE).y) == [0.30, 0.29, -0.10, -0.15, -0.05, 0.05]
    assert values(trace(fig, MEAN_TRACE).y) == [0.30, 0.28, -0.40, -0.20, 0.10, 0.25]
    assert values(trace(fig, POSTS_TRACE).y) == [10, 12, 40, 35, 15, 11]
    assert values(trace(fig, NEGATIVE_TRACE).y) == [1, 2, 30, 20, 3, 1]  # no share: VADER's count
    assert "negative (VADER)" in trace(fig, NEGATIVE_TRACE).hovertemplate
    # Sentiment on the top row, volume on the bottom row, sharing one time axis.
    assert trace(fig, SENTIMENT_TRACE).yaxis == "y"
    assert trace(fig, POSTS_TRACE).yaxis == "y2"
    assert fig.layout.xaxis.matches == "x2" or fig.layout.xaxis2.matches == "x"
    assert "Brightmart" in fig.layout.title.text


def test_smoothed_line_has_its_interval_band_underneath():
    series = tiny_series()
    series["smoothed_lo"] = series["smoothed"] - 0.1
    series["smoothed_hi"] = series["smoothed"] + 0.1
    fig = figure(build_timeline_figure(series, OUTAGES, [metrics()], 1, "Brightmart"))
    band = trace(fig, INTERVAL_TRACE)
    # One closed outline: along the upper edge, back along the lower (fill "toself").
    upper = [v + 0.1 for v in series["smoothed"]]
    lower = [v - 0.1 for v in series["smoothed"]]
    assert values(band.y) == pytest.approx(upper + lower[::-1])
    assert band.fill == "toself"
    assert band.yaxis == "y"
    names = [t.name for t in fig.data]
    assert names.index(INTERVAL_TRACE) < names.index(SENTIMENT_TRACE)  # the line stays on top
    assert "95%" in trace(fig, SENTIMENT_TRACE).hovertemplate
    # The hover's interval: one (lower, upper) pair per bucket.
    assert values(trace(fig, SENTIMENT_TRACE).customdata) == [
        [lo, hi] for lo, hi in zip(series["smoothed_lo"], series["smoothed_hi"], strict=True)]


def test_the_band_and_the_lines_break_where_the_data_breaks():
    """At 15 minutes the band was drawn as wedges spanning days: two edge traces filled "tonexty"
    join across empty buckets, and a missing bucket joined the line too."""
    from dashboard.figures import SHARE_BAND_TRACE, SHARE_TRACE, band_outline

    index = pd.date_range(T0, periods=8, freq="15min", tz="UTC", name="bucket")
    keep = [0, 1, 2, 5, 6, 7]  # buckets 3 and 4 are missing from the series altogether
    share = np.array([0.1, 0.2, 0.3, np.nan, np.nan, 0.5, 0.6, np.nan])  # bucket 7: posts, no estimate
    series = pd.DataFrame({
        "posts": 10, "mean": 0.1, "negatives": 1, "negative_share": 0.1, "smoothed": 0.1,
        "smoothed_lo": 0.0, "smoothed_hi": 0.2, "post_count": 10, "called_negative": 1,
        "share": share, "share_smoothed": share, "share_lo": share - 0.05, "share_hi": share + 0.05,
    }, index=index).iloc[keep]
    fig = figure(build_timeline_figure(series, [], [], None, "Brightmart", bucket="15min"))
    # Below the share's line, the negative posts are its estimate (share x posts), not VADER's count.
    negatives = trace(fig, NEGATIVE_TRACE)
    assert values(negatives.y)[:3] == [1, 2, 3]
    assert "negative (estimated)" in negatives.hovertemplate
    line = trace(fig, SHARE_TRACE)
    assert len(line.x) == 8  # the missing buckets are back, as gaps
    assert [math.isnan(v) for v in values(line.y)] == [False] * 3 + [True] * 2 + [False] * 2 + [True]
    assert line.connectgaps is False
    band = trace(fig, SHARE_BAND_TRACE)
    assert band.fill == "toself"
    # Two closed runs split by None: buckets 0-2 and 5-6, each out along the top and back along the bottom.
    assert list(band.x).count(None) == 1
    first, second = " ".join(map(str, band.x)).split(" None ")
    assert len(first.split()) == 6
    assert len(second.split()) == 4
    assert values(band.y)[:6] == pytest.approx([15, 25, 35, 25, 15, 5])
    assert math.isnan(values(band.y)[6])  # the break, sent as NaN in the typed array
    # The tone's band breaks the same way; a lone bucket is a tick, not a wedge across the gap.
    xs, ys = band_outline(["a", "b", "c"], [0.0, np.nan, 1.0], [0.5, np.nan, 1.5])
    assert xs == ["a", "a", None, "c", "c"]
    assert np.array_equal(ys, [0.5, 0.0, np.nan, 1.5, 1.0], equal_nan=True)


def test_one_labelled_rect_per_outage_and_the_ongoing_one_runs_to_the_series_end():
    fig = figure(build_timeline_figure(tiny_series(), OUTAGES, [metrics()], 1, "Brightmart"))
    rects = outage_rects(fig)
    assert [r.name for r in rects] == ["outage-1", "outage-2"]
    assert pd.Timestamp(rects[0].x0) == pd.Timestamp("2026-09-10 20:00")
    assert pd.Timestamp(rects[0].x1) == pd.Timestamp("2026-09-10 21:00")
    # Last bucket starts at 23:00 and is an hour wide.
    assert pd.Timestamp(rects[1].x1) == pd.Timestamp("2026-09-11 00:00")
    labels = [a.text for a in fig.layout.annotations]
    assert "Evening outage" in labels
    assert "Cyberattack (ongoing)" in labels
    # The selected outage is shaded more strongly than the others.
    assert rects[0].opacity > rects[1].opacity


def test_selected_outage_gets_trough_recovery_and_baseline_band():
    fig = figure(build_timeline_figure(tiny_series(), OUTAGES, [metrics(), metrics(2, status="ongoing")], 1))
    trough = trace(fig, TROUGH_TRACE)
    assert pd.Timestamp(trough.x[0]) == pd.Timestamp("2026-09-10 21:00")
    assert trough.y[0] == -0.15
    recovered = trace(fig, RECOVERED_TRACE)
    assert pd.Timestamp(recovered.x[0]) == pd.Timestamp("2026-09-10 23:00")
    assert recovered.y[0] == 0.05  # the smoothed value in that bucket
    band = next(s for s in fig.layout.shapes if s.name == "baseline" and s.type == "rect")
    assert math.isclose(band.y0, 0.25)
    assert math.isclose(band.y1, 0.35)


def test_no_selected_outage_means_no_trough_marker():
    fig = figure(build_timeline_figure(tiny_series(), OUTAGES, [metrics()], None, "Brightmart"))
    assert TROUGH_TRACE not in {t.name for t in fig.data}
    assert len(outage_rects(fig)) == 2


def test_long_series_is_bounded_around_the_selected_outage():
    index = pd.date_range(T0, periods=5000, freq="15min", tz="UTC", name="bucket")
    series = pd.DataFrame({"posts": 1, "mean": 0.1, "negatives": 0, "negative_share": 0.0, "smoothed": 0.1},
                          index=index)
    late = Outage(7, "brightmart", index[4000].to_pydatetime(), index[4010].to_pydatetime(), "Late", "minor",
                  "demo")
    fig = figure(build_timeline_figure(series, [*OUTAGES, late], [metrics(7, start=late.start)], 7,
                                       "Brightmart"))
    x = trace(fig, SENTIMENT_TRACE).x
    assert len(x) == 3000
    assert pd.Timestamp(x[0]) < pd.Timestamp(late.start.replace(tzinfo=None)) < pd.Timestamp(x[-1])
    # Outage 1 ended before the window; the ongoing outage 2 still covers it.
    assert [r.name for r in outage_rects(fig)] == ["outage-2", "outage-7"]
    assert "1 day shows all" in fig.layout.title.subtitle.text


def test_empty_series_gives_a_message_instead_of_a_chart():
    empty = pd.DataFrame(columns=["posts", "mean", "negatives", "negative_share", "smoothed"],
                         index=pd.DatetimeIndex([], tz="UTC", name="bucket"))
    fig = figure(build_timeline_figure(empty, OUTAGES, [], None, "Shopwell"))
    assert len(fig.data) == 0
    assert fig.layout.annotations[0].text == "No scored posts for Shopwell yet"
    assert figure(build_empty_figure("Nothing here")).layout.annotations[0].text == "Nothing here"


def test_the_two_rows_sit_where_make_subplots_put_them():
    fig = figure(build_timeline_figure(tiny_series(), OUTAGES, [metrics()], 1, "Brightmart"))
    grid = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=ROW_SPACING,
                         row_heights=list(ROW_HEIGHTS))
    for axis in ("xaxis", "yaxis", "xaxis2", "yaxis2"):
        made = grid.layout[axis].to_plotly_json()  # anchor, domain (to the last bit), matches, ticks
        ours = fig.layout[axis].to_plotly_json()
        assert {key: ours.get(key) for key in made} == made, axis
    volume = {POSTS_TRACE, NEGATIVE_TRACE}  # filled steps, not bars (see figures.volume_trace)
    assert {(t.xaxis, t.yaxis) for t in fig.data if t.name in volume} == {("x2", "y2")}
    assert {(t.xaxis, t.yaxis) for t in fig.data if t.name not in volume} == {("x", "y")}


def test_times_are_drawn_as_naive_utc():
    series = tiny_series()
    series.index = series.index.tz_convert("Europe/Berlin")
    fig = figure(build_timeline_figure(series, OUTAGES, [metrics()], 1, "Brightmart"))
    hours = list(pd.date_range("2026-09-10 18:00", periods=6, freq="1h"))  # naive: no offset in the text
    assert [pd.Timestamp(t) for t in trace(fig, SENTIMENT_TRACE).x] == hours
    assert [pd.Timestamp(t) for t in trace(fig, POSTS_TRACE).x] == hours


def test_every_builder_draws_with_plotlys_plotly_white_template():
    from analysis.compare import Comparison
    from dashboard.window_figures import build_compare_figure, build_event_study_figure

    comparison = Comparison("shopwell", metrics(), brand_change=-0.7, competitor_change=0.1, did=None,
                            spillover=False, note=None)
    frame = pd.DataFrame({"hour": [0, 1], "mean_abnormal": [-0.1, -0.5], "lo": [-0.2, -0.7],
                          "hi": [0.0, -0.3], "outages": [3, 3]})
    for built in (build_empty_figure("Nothing here"), build_timeline_figure(tiny_series(), OUTAGES, [], None),
                  build_compare_figure("", [comparison]), build_event_study_figure(frame)):
        assert figure(built).layout.template == pio.templates["plotly_white"]


@pytest.mark.parametrize("array", [
    np.array([0.25, np.nan, -1.0]),  # a gap stays a gap
    np.array([1, 2, 127]),  # int64, which plotly.js has no typed array for: int8
    np.array([-1, 40_000]),  # int32
    np.array([0, 2**40]),  # wider than int32: a list
    np.array([[0.1, 0.2], [0.3, 0.4]]),  # the interval's (lower, upper) pairs
    np.array([0.5, 1.5], dtype=np.float32),
    np.array([], dtype=float),
], ids=["float64", "int8", "int32", "int64", "2-D", "float32", "empty"])
def test_arrays_are_sent_as_plotly_sends_them(array):
    sent = go.Figure({"data": [{"type": "scatter", "customdata": array}]}).to_plotly_json()["data"][0]
    expected = sent["customdata"]
    assert typed_array(array) == (expected.tolist() if isinstance(expected, np.ndarray) else expected)
    np.testing.assert_array_equal(np.array(values(typed_array(array))).reshape(array.shape), array)


def test_the_module_loads_without_plotly():
    code = ("import sys, dashboard.figures\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'plotly'))")
    loaded = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parents[2], capture_output=True,
                            text=True, check=True)
    assert loaded.stdout.strip() == "[]"


def card_map(m) -> dict[str, tuple[str, str]]:
    return {title: (value, note) for title, value, note in model.cards(m)}


def test_cards_are_formatted_for_people():
    cards = card_map(metrics())
    assert cards["Dip depth"] == ("0.45", "9.0 SD below baseline 0.30")
    assert cards["Trough"] == ("-0.15", "at 10 Sep 2026 21:00 UTC")
    assert cards["Time to trough"][0] == "1.0 h"
    assert cards["Recovered at"][0] == "10 Sep 2026 23:00 UTC"
    assert cards["Time to recover"] == ("2.0 h", "from the outage's end")
    assert cards["Sentiment-hours lost"][0] == "1.2"
    assert cards["Volume lift"] == ("2.3x", "37.5 posts/h vs 10.0")
    assert cards["Negative share"] == ("14% \u2192 67%", "baseline \u2192 during")
    assert cards["Posts during"] == ("75", "baseline: 900 posts")


def test_not_recovered_ongoing_and_missing_figures_are_said_in_words():
    stuck = card_map(metrics(status="not recovered", recovered_at=None, time_to_recover_h=None,
                             hours_since_end=30.25))
    assert stuck["Recovered at"][0] == "not yet recovered"
    assert stuck["Time to recover"] == ("not yet recovered", "30.2 h since the end")
    ongoing = card_map(metrics(status="ongoing", end=None, recovered_at=None, time_to_recover_h=None))
    assert ongoing["Recovered at"][0] == "ongoing"
    assert ongoing["Time to recover"][0] == "ongoing"
    blank = card_map(metrics(status="no baseline", baseline_mean=None, baseline_sd=None, dip_depth=None,
                             dip_depth_sd=None, volume_lift=None, negative_share_baseline=None))
    assert blank["Dip depth"][0] == "n/a"
    assert blank["Volume lift"][0] == "n/a"
    assert blank["Negative share"][0] == "n/a \u2192 67%"


def test_sparse_warning_names_the_reason():
    assert model.sparse_warning(metrics()) is None
    warning = model.sparse_warning(metrics(sparse=True, sparse_reason="outage window has 12 posts"))
    assert warning == "Sparse data: outage window has 12 posts. Treat these figures as rough."


@pytest.mark.parametrize(("url", "expected"), [
    ("https://example.invalid/p/1", "https://example.invalid/p/1"),
    ("javascript:alert(1)", None),
    (None, None),
])
def test_only_web_links_are_linked(url, expected):
    assert model.safe_link(url) == expected


def test_post_row_keeps_text_verbatim():
    row = model.post_row({"created_at": 1_789_000_000, "source": "demo", "compound": -0.61234,
                          "p_negative": 0.7, "p_neutral": 0.2, "p_positive": 0.1, "engagement": 4,
                          "text": "<script>alert(1)</script> =1+1", "url": "https://x.invalid"})
    assert row == {"time": "2026-09-10 00:26 UTC", "source": "demo", "sentiment": -0.612, "label": "negative",
                   "stars": None, "engagement": 4, "text": "<script>alert(1)</script> =1+1",
                   "link": "https://x.invalid"}


def test_post_row_shows_the_class_the_share_counts_not_vaders_sign():
    # "@brand please help, can't check out, thanks": VADER's compound is positive, the classifier
    # calls it negative and the headline's share counts it so; Voices must say the same.
    row = model.post_row({"created_at": 1_789_000_000, "source": "demo", "compound": 0.62,
                          "p_negative": 0.55, "p_neutral": 0.25, "p_positive": 0.2, "engagement": 0,
                          "text": "@brand please help, can't check out, thanks", "url": None})
    assert (row["sentiment"], row["label"]) == (0.62, "negative")


def test_post_row_shows_a_reviews_star_rating():
    row = model.post_row({"created_at": 1_789_000_000, "source": "appstore", "compound": -0.5, "rating": 1,
                          "p_negative": 0.9, "p_neutral": 0.05, "p_positive": 0.05, "engagement": None,
                          "text": "Crashes on login", "url": None})
    assert row["stars"] == 1
    assert "stars" in model.POST_COLUMNS


def test_bucket_means_are_sized_by_volume_and_axes_name_the_bucket():
    fig = figure(build_timeline_figure(tiny_series(), OUTAGES, [metrics()], 1, "Brightmart", bucket="15min"))
    sizes = values(trace(fig, MEAN_TRACE).marker.size)
    assert sizes[2] == max(sizes) == 12.0  # the busiest bucket (40 posts)
    assert sizes[0] < sizes[1] < sizes[2]
    # Short: on a phone "posts per 15 minutes" ran into the top row's title, and the title off the chart.
    assert fig.layout.yaxis2.title.text == "posts/15 min"
    assert fig.layout.yaxis.title.text == "sentiment (-1 to +1)"


def test_status_page_phases_are_drawn_and_labelled_and_the_period_sets_the_range():
    phases = [("investigating", at(2)), ("resolved", at(3)), ("postmortem", at(40))]  # the last is off-chart
    fig = figure(build_timeline_figure(tiny_series(), OUTAGES, [metrics()], 1, "Brightmart", phases=phases,
                                       x_range=(at(1), at(4))))
    lines = [s for s in fig.layout.shapes if (s.name or "").startswith("phase-")]
    assert [s.name for s in lines] == ["phase-investigating", "phase-resolved"]
    assert pd.Timestamp(lines[0].x0) == pd.Timestamp("2026-09-10 20:00")
    assert {"investigating", "resolved"} <= {a.text for a in fig.layout.annotations}
    assert [pd.Timestamp(x) for x in fig.layout.xaxis.range] == [pd.Timestamp("2026-09-10 19:00"),
                                                                 pd.Timestamp("2026-09-10 22:00")]


def test_compare_figure_shows_both_changes_and_the_difference():
    from analysis.compare import Comparison
    from dashboard.window_figures import build_compare_figure

    comparison = Comparison("shopwell", metrics(), brand_change=-0.7, competitor_change=0.1, did=-0.8,
                            spillover=False, note=None)
    fig = figure(build_compare_figure("Brightmart", [comparison]))
    assert [t.name for t in fig.data] == ["Brightmart", "Competitor"]
    assert [values(t.y) for t in fig.data] == [[-0.7], [0.1]]
    assert fig.layout.annotations[0].text == "difference in differences -0.80"
    none = figure(build_compare_figure("Brightmart", []))
    assert none.layout.annotations[0].text.startswith("No competitors")


def test_event_study_figure_draws_the_mean_and_its_band():
    from dashboard.window_figures import build_event_study_figure

    frame = pd.DataFrame({"hour": [0, 1, 2], "mean_abnormal": [-0.1, -0.5, -0.3], "lo": [-0.2, -0.7, -0.5],
                          "hi": [0.0, -0.3, -0.1], "outages": [3, 3, 2]})
    fig = figure(build_event_study_figure(frame, "Brightmart"))
    band, mean = fig.data
    assert values(mean.y) == [-0.1, -0.5, -0.3]
    assert values(band.y) == [0.0, -0.3, -0.1, -0.5, -0.7, -0.2]
    assert fig.layout.xaxis.title.text == "hours since the outage started"
    empty = figure(build_event_study_figure(frame.iloc[:0]))
    assert empty.layout.annotations[0].text == "Not enough outages to align"


HOSTILE = '<a href="https://evil.example/x">status</a> & <b>bold</b> &amp;'


def test_labels_and_names_are_shown_as_text_never_as_plotly_markup():
    """Outage labels, brand names, status-page phases and competitor names reach the chart as typed:
    Plotly would make ``<a href>`` a live link (also in the HTML report, which draws this figure)."""
    from analysis.compare import Comparison
    from dashboard.figures import as_text
    from dashboard.window_figures import build_compare_figure, build_event_study_figure

    outages = [Outage(1, "brightmart", at(2), at(3), HOSTILE, "major", "statuspage"),
               Outage(2, "brightmart", at(4), None, HOSTILE, "critical", "manual")]
    comparison = Comparison(HOSTILE, metrics(), brand_change=-0.7, competitor_change=0.1, did=-0.8,
                            spillover=False, note=None)
    frame = pd.DataFrame({"hour": [0, 1], "mean_abnormal": [-0.1, -0.5], "lo": [-0.2, -0.7],
                          "hi": [0.0, -0.3], "outages": [3, 3]})
    built = [build_timeline_figure(tiny_series(), outages, [metrics(label=HOSTILE)], 1, HOSTILE,
                                   phases=[(HOSTILE, at(2))]),
             build_compare_figure(HOSTILE, [comparison]), build_event_study_figure(frame, HOSTILE),
             build_timeline_figure(tiny_series().iloc[:0], [], [], None, HOSTILE)]
    escaped = ('&lt;a href="https://evil.example/x"&gt;status&lt;/a&gt; &amp; &lt;b&gt;bold&lt;/b&gt; '
               "&amp;amp;")
    assert as_text(HOSTILE) == escaped
    for fig in built:
        figure(fig)
        text = json.dumps(fig)
        assert "<a" not in text
        assert "<b>" not in text
        assert json.dumps(escaped)[1:-1] in text
    timeline = figure(built[0])
    assert [a.text for a in timeline.layout.annotations][:3] == [escaped, f"{escaped} (ongoing)", escaped]
    assert timeline.layout.title.text.startswith(escaped)
    compare = figure(built[1])
    assert list(compare.data[0].x) == [escaped]
    assert compare.layout.annotations[0].x == escaped  # still on its bar


def test_compare_says_in_plain_words_whose_rise_it_was():
    from analysis.compare import Comparison

    brand = metrics(share_baseline=0.12, share_during=0.93)
    calm = Comparison("shopwell", metrics(share_baseline=0.14, share_during=0.09), -0.7, 0.0, -0.7,
                      False, None)
    upset = Comparison("shopwell", metrics(share_baseline=0.14, share_during=0.40), -0.7, -0.3, -0.4,
                       True, None)
    names = {"shopwell": "Shopwell"}
    assert model.compare_summary("Brightmart", brand, [calm], names) == (
        "Brightmart: 93% of posts negative during the outage (normal 12%). Shopwell over the same time: "
        "9% (normal 14%), so the rise is Brightmart's own, not the market's.")
    shared = model.compare_summary("Brightmart", brand, [upset], names)
    assert "Shopwell's customers were unhappy too" in shared
    assert "No competitor" in model.compare_summary("Brightmart", brand, [], names)


def test_status_line_reads_in_plain_units_and_rounds_as_the_cards():
    from analysis.headline import status_line

    now = at(24 * 9 + 5)
    ongoing = metrics(end=None, share_status="ongoing", share_baseline=0.13, share_peak=0.951,
                      share_peak_at=at(100), share_during=0.794, volume_lift=2.04)
    assert status_line(ongoing, now) == (
        "ONGOING · day 10 · 79% of posts negative (normal 13%) · 2.0x volume")
    negative = {t: (v, d) for t, v, d in model.share_cards(ongoing)}["Negative posts"]
    assert negative[0] == "79%"
    assert negative[1].startswith("during the outage; at worst 95%, ")
    back = metrics(share_status="recovered", share_baseline=0.13, share_peak=0.5,
                   share_time_to_recover_h=12.4, share_recovered_at=at(15))
    assert status_line(back, now).startswith("RECOVERED 12 h after the fix · up to 50%")
    card = {t: v for t, v, _ in model.share_cards(back)}
    assert card["Back to normal"] == "12 h after the fix"
