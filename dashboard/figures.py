"""Pure figure builders: a bucketed series, outage windows and their metrics in, a plotly figure out.

Nothing here queries the store or knows about Dash. Times are drawn as naive UTC (plotly.js ignores
UTC offsets in date strings), and the axis says so.

Every builder returns the figure as a plain dict in plotly's figure schema, ``{"data": [...],
"layout": {...}}``, which ``dcc.Graph(figure=...)`` passes to plotly.js as it is. Built with plotly's
graph objects (``make_subplots``, ``add_trace``, ``update_layout``), every property was validated and
deep-copied on the way in and again on the way out: on the 1M-post benchmark, the timeline of a
brand's 2,161 hourly buckets took 280-430 ms to build (most of its callback) and 45-65 ms more for
Dash to encode; as a dict it takes about 3 ms to build and 3 ms to encode. (The demo's 1,201 hourly
buckets: 124 ms before, 1.7 ms now.) So plotly is not imported here, except once for the look's
template (:func:`template`).

The dicts hold what plotly.py 6+ sent for those figures: numeric columns as plotly.js typed arrays
(base64 of the raw values), times as ISO text, the two rows' axes where ``make_subplots`` put them,
so the browser gets the same JSON as before. Keep them plain JSON, with no Timestamps or numpy
values: Dash encodes with orjson, and a single value orjson cannot take sends the whole response
through plotly's slow value-by-value cleaning. ``go.Figure(fig)`` validates such a dict against
plotly's schema (the tests do), and ``plotly.io.to_html(fig)`` renders it.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

Figure = dict[str, Any]  # {"data": [trace, ...], "layout": {...}} in plotly's figure schema

SENTIMENT_TRACE = "Sentiment (smoothed)"
MEAN_TRACE = "Bucket mean"
INTERVAL_TRACE = "95% interval of the smoothed line"
INTERVAL_FILL = "rgba(0, 114, 178, 0.25)"  # LINE_COLOUR, faint (0.15 was lost on the outage shading)
POSTS_TRACE = "Posts"
NEGATIVE_TRACE = "Negative posts"
TROUGH_TRACE = "Trough"
RECOVERED_TRACE = "Recovered"
BASELINE_BAND = "baseline"
OUTAGE_SHAPE = "outage-{id}"
# A 15-minute series over 50 days is ~5,000 buckets per trace (~0.8 MB of JSON). Past this many buckets
# the chart shows a window around the selected outage: 3,000 x 15 min still covers its 14-day baseline.
MAX_POINTS = 3000
FOCUS_AT = 0.55  # where the selected outage's start sits in a bounded window (its baseline is before it)
# The timeline's two rows, sentiment over volume, sharing the time axis: their share of the height
# (top first) and the gap between them, a fraction of the plot's height.
ROW_HEIGHTS = (0.7, 0.3)
ROW_SPACING = 0.06

# Okabe-Ito: distinguishable with the common colour-vision deficiencies, and on a washed-out projector.
LINE_COLOUR = "#0072B2"  # blue
OUTAGE_COLOUR = "#D55E00"  # vermillion
BAND_COLOUR = "#009E73"  # bluish green
VOLUME_COLOUR = "#56B4E9"  # sky blue
NEGATIVE_COLOUR = "#CC79A7"  # reddish purple
PHASE_COLOUR = "#555555"
COMPETITOR_COLOUR = "#E69F00"  # orange
# Chart-wide look: one font, calm grid, room for a legend below on a laptop or a projector.
FONT = {"family": "system-ui, -apple-system, 'Segoe UI', sans-serif", "size": 13, "color": "#222"}
TEMPLATE = "plotly_white"
# The timeline's rows, as traces name their axes: sentiment above, post volume below.
TOP_ROW = {"xaxis": "x", "yaxis": "y"}
BOTTOM_ROW = {"xaxis": "x2", "yaxis": "y2"}

# The numpy dtypes plotly.js takes as typed arrays, and its codes for them (plotly.py's table).
_TYPED_ARRAYS = {"int8": "i1", "uint8": "u1", "int16": "i2", "uint16": "u2", "int32": "i4", "uint32": "u4",
                 "float32": "f4", "float64": "f8"}


@cache
def template() -> dict:
    """plotly.py's ``plotly_white`` template, spelt out: plotly.js knows no template names.

    plotly.py expanded ``template="plotly_white"`` like this in every figure. Loaded on first use (about
    0.1 s, with the import), then shared by every figure, so it must not be changed in place.
    """
    import plotly.io as pio

    return pio.templates[TEMPLATE].to_plotly_json()


def typed_array(values) -> dict | list:
    """A column of numbers as a plotly.js typed array: ``{"dtype": "f8", "bdata": <base64>}``.

    What plotly.py sends for a numpy array, and about half the JSON of a list of floats; NaN stays
    NaN, a gap. int64, which plotly.js has no typed array for, is narrowed to the smallest integer
    type that holds the values, as plotly.py does; what no typed array holds goes as a list.
    """
    array = np.ascontiguousarray(values)
    if array.size == 0:
        return []
    if array.dtype.kind in "iu" and array.dtype.itemsize == 8:
        signed = array.dtype.kind == "i"
        narrower = (np.int8, np.int16, np.int32) if signed else (np.uint8, np.uint16, np.uint32)
        low, high = array.min(), array.max()
        fits = next((t for t in narrower if np.iinfo(t).min <= low and high <= np.iinfo(t).max), None)
        if fits is None:
            return array.tolist()
        array = array.astype(fits)
    code = _TYPED_ARRAYS.get(array.dtype.name)
    if code is None:
        return array.tolist()
    spec = {"dtype": code, "bdata": base64.b64encode(array).decode("ascii")}
    if array.ndim > 1:
        spec["shape"] = ", ".join(str(n) for n in array.shape)
    return spec


def naive_utc(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """``index`` in UTC without its zone, as plotly.js reads times."""
    return index.tz_convert("UTC").tz_localize(None) if index.tz is not None else index


def iso_times(index: pd.DatetimeIndex) -> list[str]:
    """Bucket starts as naive-UTC ISO strings, as plotly.py writes a datetime64 array."""
    return np.datetime_as_string(naive_utc(index).to_numpy()).tolist()


def between(series: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """The buckets of ``series`` from ``start`` to ``end`` (naive UTC, both included)."""
    index = naive_utc(series.index)
    return series[(index >= start) & (index <= end)]


def outage_shape(outage, stop: pd.Timestamp, opacity: float) -> dict:
    """The outage's shaded rectangle over the whole plot's height, from its start to ``stop``."""
    return {"type": "rect", "xref": "x", "yref": "paper", "x0": utc_naive(outage.start).isoformat(),
            "x1": stop.isoformat(), "y0": 0, "y1": 1, "layer": "below", "fillcolor": OUTAGE_COLOUR,
            "opacity": opacity, "line": {"width": 0}, "name": OUTAGE_SHAPE.format(id=outage.id)}


def utc_naive(value) -> pd.Timestamp | None:
    if value is None:
        return None
    stamp = pd.Timestamp(value)
    return stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo is not None else stamp


def _iso(value) -> str | None:
    """One time as naive-UTC ISO text (plotly.py wrote a ``Timestamp`` the same way)."""
    stamp = utc_naive(value)
    return None if stamp is None else stamp.isoformat()


def _series_end(series: pd.DataFrame) -> pd.Timestamp | None:
    """The end of the last bucket (its start plus one bucket width, inferred from the index)."""
    if series.empty:
        return None
    last = utc_naive(series.index[-1])
    if len(series.index) > 1:
        return last + (series.index[1] - series.index[0])
    return last


def stacked_domains(row_heights: Sequence[float], spacing: float) -> list[list[float]]:
    """Each row's ``[bottom, top]`` as a fraction of the plot's height, top row first.

    The same arithmetic as ``make_subplots(rows=len(row_heights), cols=1, vertical_spacing=spacing,
    row_heights=row_heights)``, to the last bit of each float.
    """
    scale = 1.0 - spacing * (len(row_heights) - 1)
    total = float(sum(row_heights))
    heights = [scale * (h / total) for h in reversed(row_heights)]  # bottom row first
    domains = []
    for row, height in enumerate(heights):
        bottom = sum(heights[:row]) + row * spacing
        top = bottom + height
        domains.append([min(max(bottom, 0.0), 1.0), min(max(top, 0.0), 1.0)])  # make_subplots' clamp
    return domains[::-1]


def as_text(value: object) -> str:
    """``value`` as text that Plotly shows as typed. Plotly reads every string it draws (titles,
    annotations, legend and tick labels, hover text) as its own HTML subset, so an outage label,
    brand name or status-page incident name with ``<a href=...>`` became a live link: escape the
    three characters its parser acts on (it turns the entities back into characters)."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def build_empty_figure(message: str) -> Figure:
    """A blank figure that says why there is nothing to draw (``message`` is plain text)."""
    return {"data": [], "layout": {
        "xaxis": {"visible": False},
        "yaxis": {"visible": False},
        "annotations": [{"text": as_text(message), "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5,
                         "showarrow": False, "font": {"size": 16}}],
        "template": template(),
        "height": 520,
        "margin": {"l": 40, "r": 20, "t": 40, "b": 40},
    }}


def volume_trace(x: list, counts: pd.Series, name: str, colour: str, what: str) -> dict:
    """Posts per bucket in the bottom row, as a filled step from each bucket's start to the next.

    Not bars: plotly draws a bar as an SVG path of its own, and the demo's timeline at 1 hour has
    1,256 of them, 440 of the 510 ms the chart took to draw in Chromium (80 ms without them, one
    path per trace as a step area). The step also spans the bucket's own hour, where a bar was
    centred on its start.
    """
    return {"type": "scatter", **BOTTOM_ROW, "x": x, "y": typed_array(counts.fillna(0)), "name": name,
            "mode": "lines", "line": {"shape": "hv", "width": 0, "color": colour}, "fill": "tozeroy",
            "fillcolor": colour, "hovertemplate": f"{HOVER_TIME}<br>%{{y}} {what}<extra></extra>"}


def negative_posts(series: pd.DataFrame, shares: bool) -> pd.Series:
    """The negative posts of each bucket, in the measure the line above them is drawn in: with the
    share, its estimate times the bucket's posts (rounded; the share the line smooths), else
    VADER's count. Drawn under the share's line, VADER's count told another story: in the demo's
    week before each outage it counts 21% of posts negative where the share is 12-14%."""
    if not shares:
        return series["negatives"]
    return (series["share"] * series["post_count"]).round()


def build_timeline_figure(series: pd.DataFrame, outages: Sequence, metrics: Sequence,
                          selected_outage_id: int | None = None, brand_name: str = "",
                          phases: Sequence[tuple[str, datetime]] = (), x_range: tuple | None = None,
                          bucket: str = "1h", competitors: Sequence[tuple[str, pd.DataFrame]] = (),
                          recovery_sd: float = 1.0) -> Figure:
    """The share of negative posts over time above post volume, with outage windows and the selected
    outage's metrics; the tone (VADER's -1..+1) and competitors' shares as lines to switch on.

    Two rows sharing one time axis: ``x``/``y`` (the share, or the tone when the series has no share)
    above ``x2``/``y2`` (posts), the top row's ticks hidden and its zoom matched to the bottom's, as
    ``make_subplots(shared_xaxes=True)`` laid them out; with the share, the tone is on ``y3``, over the
    top row, right.

    :param series: from :func:`analysis.timeline.bucket_series` (index ``bucket`` UTC; columns
        ``posts``, ``mean``, ``negatives``, ``negative_share``, ``smoothed`` and, drawn as a band
        around it when present, ``smoothed_lo`` and ``smoothed_hi``; the share family's
        ``share_smoothed``, ``share_lo``, ``share_hi`` lead when present).
    :param outages: windows with ``id``, ``start``, ``end`` (None: ongoing) and ``label``.
    :param metrics: :class:`analysis.recovery.OutageMetrics`, matched to windows by ``outage_id``.
    :param selected_outage_id: the outage whose baseline band, peak (trough) and recovery are drawn.
    :param brand_name: shown in the title.
    :param phases: ``(status, time)`` of the selected outage's status-page phases, drawn as labelled lines.
    :param x_range: ``(start, end)`` the time axis shows at first (the period filter), kept within the
        data; None: everything.
    :param bucket: the series' bucket (``15min``, ``1h``, ``1d``), named in the titles; missing buckets
        break the lines and bands.
    :param competitors: ``(display name, series)`` drawn as their share, hidden until switched on.
    :param recovery_sd: baseline SDs above normal that still count as normal (the share's band).
    """
    if series.empty:
        return build_empty_figure(f"No scored posts for {brand_name or 'this brand'} yet")
    selected = next((m for m in metrics if m.outage_id == selected_outage_id), None)
    series, bounded = _bounded(series, selected.start if selected is not None else None)
    series = with_gaps(series)
    shares = "share_smoothed" in series and bool(series["share_smoothed"].notna().any())
    x = iso_times(series.index)  # one list, shared by the traces: the JSON writes it out for each
    end = _series_end(series)
    data: list[dict] = []
    if shares:
        data += _share_traces(x, series)
    data += _tone_traces(x, series, shares)
    data += _competitor_traces(competitors, series.index) if shares else []
    data.append(volume_trace(x, series["posts"], POSTS_TRACE, VOLUME_COLOUR, "posts"))
    data.append(volume_trace(x, negative_posts(series, shares), NEGATIVE_TRACE, NEGATIVE_COLOUR,
                             "negative (estimated)" if shares else "negative (VADER)"))

    first = utc_naive(series.index[0])
    shown = _shown_range(x_range, first, end)
    shapes: list[dict] = []
    annotations: list[dict] = []
    for outage in outages:
        if (outage.end is not None and utc_naive(outage.end) < first) or utc_naive(outage.start) > end:
            continue  # outside a bounded window
        _add_outage(shapes, annotations, outage, end, outage.id == selected_outage_id, shown)
    if selected is not None:
        _add_selected(data, shapes, series, selected, shares, recovery_sd)
    _add_phases(shapes, annotations, phases, first, end)

    what = "% of posts negative" if shares else "sentiment"
    # Short enough for a phone (390 px): the selected outage is named by its label on the chart,
    # the bucket by the volume's axis.
    title = f"{as_text(brand_name)}: {what}" if brand_name else f"Customer {what}"
    top_domain, bottom_domain = stacked_domains(ROW_HEIGHTS, ROW_SPACING)
    layout = {
        "xaxis": {"anchor": "y", "domain": [0.0, 1.0], "matches": "x2", "showticklabels": False,
                  "hoverformat": HOVER_FORMAT},
        "yaxis": ({"anchor": "x", "domain": top_domain, "title": {"text": "% negative"},
                   "range": [0, 105], "ticksuffix": "%"} if shares else
                  {"anchor": "x", "domain": top_domain, "title": {"text": "sentiment (-1 to +1)"},
                   "range": [-1, 1]}),
        "xaxis2": {"anchor": "y2", "domain": [0.0, 1.0], "tickformatstops": TICK_FORMATS,
                   "hoverformat": HOVER_FORMAT},
        "yaxis2": {"anchor": "x2", "domain": bottom_domain, "nticks": 4,
                   "title": {"text": f"posts/{PER_SHORT.get(bucket, bucket)}"}},
        "title": {"text": title, "x": 0.01, "xanchor": "left", "y": 0.985, "yref": "container",
                  "yanchor": "top", "font": {"size": 15}},  # a <br><sub> second line was cut at the top
        "template": template(),
        "font": dict(FONT),
        "barmode": "overlay",
        "bargap": 0,
        "height": 520,
        "hovermode": "x unified",
        # Below the ticks, also the two-line ones (hour over date) of a window under a day.
        "legend": {"orientation": "h", "y": -0.13, "yanchor": "top", "x": 0, "font": {"size": 12}},
        "margin": {"l": 56, "r": 16, "t": 78 if bounded else 64, "b": 24},
    }
    if bounded:
        layout["title"]["subtitle"] = {"text": "Weeks around this outage; 1 day shows all",
                                       "font": {"size": 12}}
    if shares:
        # No scale drawn: an empty axis by the share read as a third measure; the tone's legend
        # entry names its scale and its hover gives the values.
        layout["yaxis3"] = {"overlaying": "y", "side": "right", "range": [-1, 1], "visible": False,
                            "anchor": "x"}
    if shapes:
        layout["shapes"] = shapes
    if annotations:
        layout["annotations"] = annotations
    if shown is not None:
        layout["xaxis"]["range"] = [shown[0].isoformat(), shown[1].isoformat()]
        layout["xaxis2"]["range"] = [shown[0].isoformat(), shown[1].isoformat()]
    return {"data": data, "layout": layout}


PER_SHORT = {"15min": "15 min", "1h": "h", "1d": "day"}
HOVER_FORMAT = "%d %b %Y %H:%M UTC"  # as the page writes times (dashboard.model.fmt_time)
HOVER_TIME = "%{x|%d %b %Y %H:%M} UTC"
# Ticks as the page writes dates (21 Sep, not Sep 21); the hour too once zoomed in to less than a day.
TICK_FORMATS = [{"dtickrange": [None, 86_400_000], "value": "%H:%M\n%d %b"},
                {"dtickrange": [86_400_000, None], "value": "%d %b"}]
SHARE_BAND_COLOUR = "rgba(0, 114, 178, 0.22)"
TONE_GROUP = "tone"
TONE_TRACE_NAME = "Tone (VADER, -1 to +1)"
PEAK_TRACE = "Peak"
BACK_TRACE = "Back to normal"


def _shown_range(x_range, first, end) -> tuple | None:
    """The period's range kept within the data: "Around the outage" of an outage near the start of
    collection does not open on days with nothing to draw."""
    if x_range is None:
        return None
    low, high = utc_naive(x_range[0]), utc_naive(x_range[1])
    low, high = max(low, first), min(high, end) if end is not None else high
    return (low, high) if low < high else (utc_naive(x_range[0]), utc_naive(x_range[1]))


def _share_traces(x: list[str], series: pd.DataFrame) -> list[dict]:
    """The smoothed negative share (%) and its 95% interval, broken where the data breaks."""
    band_x, band_y = band_outline(x, series["share_lo"].to_numpy(dtype=np.float64) * 100,
                                  series["share_hi"].to_numpy(dtype=np.float64) * 100)
    return [
        {"type": "scatter", **TOP_ROW, "x": band_x, "y": typed_array(band_y), "mode": "lines",
         "fill": "toself",
         "fillcolor": SHARE_BAND_COLOUR, "line": {"width": 0}, "hoverinfo": "skip", "name": SHARE_BAND_TRACE,
         "legendgroup": "share", "showlegend": False},
        {"type": "scatter", **TOP_ROW, "x": x, "y": typed_array(series["share_smoothed"].to_numpy() * 100),
         "mode": "lines", "name": SHARE_TRACE, "legendgroup": "share", "connectgaps": False,
         "line": {"color": LINE_COLOUR, "width": 2},
         "customdata": typed_array(np.column_stack((series["share_lo"].to_numpy() * 100,
                                               series["share_hi"].to_numpy() * 100))),
         "hovertemplate": ("%{y:.0f}% negative (95%: %{customdata[0]:.0f} to %{customdata[1]:.0f})"
                           "<extra></extra>")},
    ]


def _tone_traces(x: list[str], series: pd.DataFrame, secondary: bool) -> list[dict]:
    """VADER's tone: bucket means sized by volume, the smoothed line and its interval. Beside the
    share (``secondary``) they sit on the right-hand axis, one legend entry, hidden until switched on."""
    axis = {"xaxis": "x", "yaxis": "y3"} if secondary else TOP_ROW
    extra = {"legendgroup": TONE_GROUP, "visible": "legendonly"} if secondary else {}
    colour = PHASE_COLOUR if secondary else LINE_COLOUR
    traces = [{
        "type": "scatter", **axis, "x": x, "y": typed_array(series["mean"]), "mode": "markers",
        "name": MEAN_TRACE,
        "marker": {"size": _volume_sizes(series["posts"].fillna(0)), "color": colour, "opacity": 0.25,
                   "line": {"width": 0}},
        "customdata": typed_array(series["posts"].fillna(0)),
        "hovertemplate": "mean tone %{y:.2f} of %{customdata} posts<extra></extra>",
        **extra, **({"showlegend": False} if secondary else {}),
    }]
    # Beside the share, the tone's line goes without its band: a second band was ~100 kB of a 1-hour
    # timeline for a trace hidden until switched on (the hover still gives the interval).
    band = "smoothed_lo" in series
    if band and not secondary:
        band_x, band_y = band_outline(x, series["smoothed_lo"], series["smoothed_hi"])
        traces.append({"type": "scatter", **axis, "x": band_x, "y": typed_array(band_y), "mode": "lines",
                       "fill": "toself",
                       "fillcolor": INTERVAL_FILL, "line": {"width": 0}, "hoverinfo": "skip",
                       "name": INTERVAL_TRACE, **extra, **({"showlegend": False} if secondary else {})})
    smoothed = {
        "type": "scatter", **axis, "x": x, "y": typed_array(series["smoothed"]), "mode": "lines",
        "name": TONE_TRACE_NAME if secondary else SENTIMENT_TRACE,
        "line": {"color": colour, "width": 2}, "connectgaps": False,
        "hovertemplate": ("tone %{y:.2f}"
                          + (" (95%: %{customdata[0]:.2f} to %{customdata[1]:.2f})" if band else "")
                          + "<extra></extra>"),
        **extra,
    }
    if band:
        smoothed["customdata"] = typed_array(np.column_stack((series["smoothed_lo"], series["smoothed_hi"])))
    traces.append(smoothed)
    return traces


def _competitor_traces(competitors: Sequence[tuple[str, pd.DataFrame]], index: pd.DatetimeIndex
                       ) -> list[dict]:
    """Each competitor's smoothed negative share over the same buckets, hidden until switched on."""
    traces = []
    for name, other in competitors:
        if other is None or other.empty or "share_smoothed" not in other:
            continue
        aligned = other["share_smoothed"].reindex(index)
        traces.append({
            "type": "scatter", **TOP_ROW, "x": iso_times(index), "y": typed_array(aligned.to_numpy() * 100),
            "mode": "lines", "name": f"{as_text(name)} (competitor)", "visible": "legendonly",
            "connectgaps": False, "line": {"color": COMPETITOR_COLOUR, "width": 1.5, "dash": "dot"},
            "hovertemplate": f"{as_text(name)} %{{y:.0f}}% negative<extra></extra>",
        })
    return traces


def _volume_sizes(posts: pd.Series) -> list[float]:
    """Marker sizes 3-12 px by the square root of each bucket's post count (area ~ volume)."""
    top = float(posts.max()) if len(posts) else 0.0
    if top <= 0:
        return [3.0] * len(posts)
    # Worked out once per distinct count (a few hundred, for thousands of buckets), and with Python's
    # round as before: numpy's rounds x * 10, which can tip a tie the other way.
    counts, where = np.unique(posts.to_numpy(), return_inverse=True)
    sizes = np.array([round(3 + 9 * (float(n) / top) ** 0.5, 1) for n in counts])
    return sizes[where].tolist()


def _add_phases(shapes: list[dict], annotations: list[dict], phases: Sequence[tuple[str, datetime]], first,
                end) -> None:
    """A dotted line and a label at each status-page phase (investigating, identified, ...)."""
    for status, at in phases:
        when = utc_naive(at)
        if when is None or when < first or (end is not None and when > end):
            continue
        name, x = f"phase-{as_text(status)}", when.isoformat()
        shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": x, "x1": x, "y0": 0, "y1": 1,
                       "line": {"color": PHASE_COLOUR, "width": 1, "dash": "dot"}, "name": name})
        annotations.append({"x": x, "xref": "x", "y": 0.98, "yref": "paper", "text": as_text(status),
                            "showarrow": False, "textangle": -90, "xanchor": "right", "yanchor": "top",
                            "name": name, "font": {"size": 10, "color": PHASE_COLOUR}})


def _bounded(series: pd.DataFrame, focus, max_points: int = MAX_POINTS) -> tuple[pd.DataFrame, bool]:
    """At most ``max_points`` buckets, around ``focus`` (else the latest); True when it cut any."""
    if len(series) <= max_points:
        return series, False
    at = series.index.searchsorted(pd.Timestamp(focus)) if focus is not None else len(series)
    first = min(max(0, at - int(max_points * FOCUS_AT)), len(series) - max_points)
    return series.iloc[first : first + max_points], True


def _add_outage(shapes: list[dict], annotations: list[dict], outage, series_end: pd.Timestamp,
                selected: bool, shown: tuple | None = None) -> None:
    """One shaded rectangle over both rows (paper y); an ongoing one runs to the end.

    Only the selected outage is named above the plot, right-aligned when it starts in the right half
    of the time shown, so its label stays on the chart and clear of the title (several labels along
    the top ran into each other); the others are named inside the plot, turned on their side."""
    start = utc_naive(outage.start)
    stop = utc_naive(outage.end) if outage.end is not None else max(series_end, start)
    label = as_text(outage.label if outage.end is not None else f"{outage.label} (ongoing)")
    name = OUTAGE_SHAPE.format(id=outage.id)
    shapes.append(outage_shape(outage, stop, 0.22 if selected else 0.1))
    if not selected:
        annotations.append({"x": start.isoformat(), "xref": "x", "y": 0.99, "yref": "paper", "text": label,
                            "showarrow": False, "textangle": -90, "xanchor": "left", "yanchor": "top",
                            "font": {"size": 10, "color": OUTAGE_COLOUR}, "name": name})
        return
    low, high = shown if shown is not None else (None, None)
    right = low is not None and start > low + (high - low) / 2
    at = min(stop, high) if right else max(start, low) if low is not None else start
    annotations.append({
        "x": at.isoformat(), "xref": "x", "y": 1, "yref": "paper", "text": label, "showarrow": False,
        "xanchor": "right" if right else "left", "yanchor": "bottom",
        "font": {"size": 11, "color": OUTAGE_COLOUR}, "name": name,
    })


def _add_selected(data: list[dict], shapes: list[dict], series: pd.DataFrame, m, shares: bool = False,
                  recovery_sd: float = 1.0) -> None:
    """The selected outage's baseline band across the chart, its peak and when it was back to
    normal: in the share (%) when ``shares``, with the tone's trough and recovery on its hidden
    axis; else in the tone."""
    tone_axis = {"xaxis": "x", "yaxis": "y3"} if shares else TOP_ROW
    hidden = {"legendgroup": TONE_GROUP, "visible": "legendonly", "showlegend": False} if shares else {}
    if shares and m.share_baseline is not None:
        shapes += share_baseline_shapes(m, recovery_sd, BASELINE_BAND)
    elif not shares and m.baseline_mean is not None:
        sd = m.baseline_sd or 0.0
        # Across the top row's full width ("x domain"), at sentiment values (y).
        shapes.append({
            "type": "rect", "xref": "x domain", "x0": 0, "x1": 1, "yref": "y", "y0": m.baseline_mean - sd,
            "y1": m.baseline_mean + sd, "layer": "below", "fillcolor": BAND_COLOUR, "opacity": 0.15,
            "line": {"width": 0}, "name": BASELINE_BAND,
        })
        shapes.append({
            "type": "line", "xref": "x domain", "x0": 0, "x1": 1, "yref": "y", "y0": m.baseline_mean,
            "y1": m.baseline_mean, "line": {"color": BAND_COLOUR, "dash": "dot", "width": 1},
            "name": BASELINE_BAND,
        })
    if shares and m.share_peak_at is not None and m.share_peak is not None:
        data.append({
            "type": "scatter", **TOP_ROW, "x": [_iso(m.share_peak_at)], "y": [m.share_peak * 100],
            "mode": "markers", "name": PEAK_TRACE,
            "marker": {"symbol": "triangle-up", "size": 13, "color": OUTAGE_COLOUR},
            "hovertemplate": "worst: %{y:.0f}% negative<extra></extra>",
        })
    if shares and m.share_recovered_at is not None:
        at = pd.Timestamp(m.share_recovered_at)
        value = series["share_smoothed"].get(at) if at in series.index else None
        data.append({
            "type": "scatter", **TOP_ROW, "x": [_iso(m.share_recovered_at)],
            "y": [float(value) * 100 if value is not None and pd.notna(value) else m.share_baseline * 100],
            "mode": "markers", "name": BACK_TRACE,
            "marker": {"symbol": "circle", "size": 11, "color": BAND_COLOUR, "line": {"width": 1}},
            "hovertemplate": "back to normal<extra></extra>",
        })
    if m.trough_at is not None and m.trough is not None:
        data.append({
            "type": "scatter", **tone_axis, "x": [_iso(m.trough_at)], "y": [m.trough],
            "mode": "markers", "name": TROUGH_TRACE, **hidden,
            "marker": {"symbol": "triangle-down", "size": 13, "color": OUTAGE_COLOUR},
            "hovertemplate": "tone's trough %{y:.2f}<extra></extra>",
        })
    if m.recovered_at is not None:
        data.append({
            "type": "scatter", **tone_axis, "x": [_iso(m.recovered_at)],
            "y": [_value_at(series, m.recovered_at, m.baseline_mean)], "mode": "markers",
            "name": RECOVERED_TRACE, **hidden,
            "marker": {"symbol": "circle", "size": 11, "color": BAND_COLOUR, "line": {"width": 1}},
            "hovertemplate": "tone recovered<extra></extra>",
        })


def _value_at(series: pd.DataFrame, when: datetime, fallback: float | None) -> float | None:
    stamp = pd.Timestamp(when)
    if stamp in series.index:
        value = series.loc[stamp, "smoothed"]
        if pd.notna(value):
            return float(value)
    return fallback


def band_outline(x: Sequence[str], low, high) -> tuple[list, np.ndarray]:
    """A band's outline for ``fill: "toself"``: each run of buckets where both edges are known goes
    along the upper edge and back along the lower, and runs are split by a gap (x ``None``, y NaN),
    so the band breaks where the data breaks. (``fill: "tonexty"`` between two edge traces joins
    across gaps: at 15 minutes it drew wedges spanning days.) A lone bucket is a vertical tick.

    :returns: the x values (a list) and the y values (float64, for a typed array).
    """
    low, high = np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)
    known = ~(np.isnan(low) | np.isnan(high))
    edges = np.flatnonzero(np.diff(np.concatenate(([0], known.astype(np.int8), [0]))))
    xs: list = []
    ys: list[np.ndarray] = []
    for first, stop in zip(edges[::2], edges[1::2], strict=True):
        if xs:
            xs.append(None)
            ys.append(np.array([np.nan]))
        xs += x[first:stop] + x[first:stop][::-1]
        ys += [high[first:stop], low[first:stop][::-1]]
    return xs, np.concatenate(ys) if ys else np.zeros(0)


def with_gaps(series: pd.DataFrame) -> pd.DataFrame:
    """``series`` with an all-NaN row at every missing bucket (its step is the shortest between two
    buckets), so lines and bands drawn from it break there instead of joining across the hole."""
    if len(series) < 2:
        return series
    step = series.index[1:] - series.index[:-1]
    full = pd.date_range(series.index[0], series.index[-1], freq=step.min(), name=series.index.name)
    return series if len(full) == len(series) else series.reindex(series.index.union(full))


def share_baseline_shapes(m, recovery_sd: float, name: str) -> list[dict]:
    """The normal negative share (%) across the top row: a dotted line at the baseline and the band
    up to ``recovery_sd`` baseline SDs either side (the recovery's band), both called ``name``."""
    normal = m.share_baseline * 100
    sd = (m.share_baseline_sd or 0.0) * 100 * recovery_sd
    return [{"type": "rect", "xref": "x domain", "x0": 0, "x1": 1, "yref": "y", "y0": max(0.0, normal - sd),
             "y1": normal + sd, "layer": "below", "fillcolor": BAND_COLOUR, "opacity": 0.16,
             "line": {"width": 0}, "name": name},
            {"type": "line", "xref": "x domain", "x0": 0, "x1": 1, "yref": "y", "y0": normal, "y1": normal,
             "line": {"color": BAND_COLOUR, "dash": "dot", "width": 1.5}, "name": name}]


SHARE_TRACE = "% of posts negative (smoothed)"
SHARE_BAND_TRACE = "95% interval of the share"
