"""Pure figure builders: a bucketed series, outage windows and their metrics in, a plotly figure out.

Nothing here queries the store or knows about Dash. Times are drawn as naive UTC (plotly.js ignores
UTC offsets in date strings), and the axis says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

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

# Okabe-Ito: distinguishable with the common colour-vision deficiencies, and on a washed-out projector.
LINE_COLOUR = "#0072B2"  # blue
OUTAGE_COLOUR = "#D55E00"  # vermillion
BAND_COLOUR = "#009E73"  # bluish green
VOLUME_COLOUR = "#56B4E9"  # sky blue
NEGATIVE_COLOUR = "#CC79A7"  # reddish purple
PHASE_COLOUR = "#555555"
COMPETITOR_COLOUR = "#E69F00"  # orange
BUCKET_WORDS = {"15min": "15 minutes", "1h": "hour", "1d": "day"}
PHASE_TRACE = "Status page phases"
# Chart-wide look: one font, calm grid, room for a legend below on a laptop or a projector.
FONT = {"family": "system-ui, -apple-system, 'Segoe UI', sans-serif", "size": 13, "color": "#222"}


def _utc_naive(value) -> pd.Timestamp | None:
    if value is None:
        return None
    stamp = pd.Timestamp(value)
    return stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo is not None else stamp


def _series_end(series: pd.DataFrame) -> pd.Timestamp | None:
    """The end of the last bucket (its start plus one bucket width, inferred from the index)."""
    if series.empty:
        return None
    last = _utc_naive(series.index[-1])
    if len(series.index) > 1:
        return last + (series.index[1] - series.index[0])
    return last


def build_empty_figure(message: str) -> go.Figure:
    """A blank figure that says why there is nothing to draw."""
    fig = go.Figure()
    fig.update_layout(
        xaxis={"visible": False},
        yaxis={"visible": False},
        annotations=[{"text": message, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5,
                      "showarrow": False, "font": {"size": 16}}],
        template="plotly_white",
        height=520,
        margin={"l": 40, "r": 20, "t": 40, "b": 40},
    )
    return fig


def build_timeline_figure(series: pd.DataFrame, outages: Sequence, metrics: Sequence,
                          selected_outage_id: int | None = None, brand_name: str = "",
                          phases: Sequence[tuple[str, datetime]] = (), x_range: tuple | None = None,
                          bucket: str = "1h") -> go.Figure:
    """Sentiment over time above post volume, with outage windows and the selected outage's metrics.

    :param series: from :func:`analysis.timeline.bucket_series` (index ``bucket`` UTC; columns
        ``posts``, ``mean``, ``negatives``, ``negative_share``, ``smoothed`` and, drawn as a band
        around it when present, ``smoothed_lo`` and ``smoothed_hi``).
    :param outages: windows with ``id``, ``start``, ``end`` (None: ongoing) and ``label``.
    :param metrics: :class:`analysis.recovery.OutageMetrics`, matched to windows by ``outage_id``.
    :param selected_outage_id: the outage whose baseline band, trough and recovery are drawn.
    :param brand_name: shown in the title.
    :param phases: ``(status, time)`` of the selected outage's status-page phases, drawn as labelled lines.
    :param x_range: ``(start, end)`` the time axis shows at first (the period filter); None: everything.
    :param bucket: the series' bucket (``15min``, ``1h``, ``1d``), named in the axis titles.
    """
    if series.empty:
        return build_empty_figure(f"No scored posts for {brand_name or 'this brand'} yet")
    selected = next((m for m in metrics if m.outage_id == selected_outage_id), None)
    series, bounded = _bounded(series, selected.start if selected is not None else None)
    x = series.index.tz_convert("UTC").tz_localize(None) if series.index.tz is not None else series.index
    end = _series_end(series)

    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06, row_heights=[0.7, 0.3])
    fig.add_trace(go.Scatter(
        x=x, y=series["mean"], mode="markers", name=MEAN_TRACE,
        marker={"size": _volume_sizes(series["posts"]), "color": LINE_COLOUR, "opacity": 0.25,
                "line": {"width": 0}},
        customdata=series["posts"],
        hovertemplate="%{x|%d %b %H:%M} UTC<br>mean %{y:.2f} of %{customdata} posts<extra></extra>",
    ), row=1, col=1)
    if "smoothed_lo" in series:
        # The band under the line: its lower edge, then the upper edge filled down to it.
        fig.add_trace(go.Scatter(
            x=x, y=series["smoothed_lo"], mode="lines", line={"width": 0}, connectgaps=False,
            showlegend=False, hoverinfo="skip", name=INTERVAL_TRACE + " (lower edge)",
        ), row=1, col=1)
        fig.add_trace(go.Scatter(
            x=x, y=series["smoothed_hi"], mode="lines", line={"width": 0}, connectgaps=False,
            fill="tonexty", fillcolor=INTERVAL_FILL, hoverinfo="skip", name=INTERVAL_TRACE,
        ), row=1, col=1)
    fig.add_trace(go.Scatter(
        x=x, y=series["smoothed"], mode="lines", name=SENTIMENT_TRACE,
        line={"color": LINE_COLOUR, "width": 2}, connectgaps=False,
        customdata=series[["smoothed_lo", "smoothed_hi"]] if "smoothed_lo" in series else None,
        hovertemplate=("%{x|%d %b %H:%M} UTC<br>smoothed %{y:.2f}"
                       + (" (95%: %{customdata[0]:.2f} to %{customdata[1]:.2f})" if "smoothed_lo" in series
                          else "") + "<extra></extra>"),
    ), row=1, col=1)
    fig.add_trace(go.Bar(
        x=x, y=series["posts"], name=POSTS_TRACE, marker={"color": VOLUME_COLOUR},
        hovertemplate="%{x|%d %b %H:%M} UTC<br>%{y} posts<extra></extra>",
    ), row=2, col=1)
    fig.add_trace(go.Bar(
        x=x, y=series["negatives"], name=NEGATIVE_TRACE, marker={"color": NEGATIVE_COLOUR},
        hovertemplate="%{x|%d %b %H:%M} UTC<br>%{y} negative<extra></extra>",
    ), row=2, col=1)

    first = _utc_naive(series.index[0])
    for outage in outages:
        if (outage.end is not None and _utc_naive(outage.end) < first) or _utc_naive(outage.start) > end:
            continue  # outside a bounded window
        _add_outage(fig, outage, end, outage.id == selected_outage_id)
    if selected is not None:
        _add_selected(fig, series, selected)
    _add_phases(fig, phases, first, end)

    per = BUCKET_WORDS.get(bucket, bucket)
    title = f"{brand_name}: customer sentiment and posts per {per}" if brand_name else "Customer sentiment"
    if selected is not None:
        title += f" (selected: {selected.label})"
    if bounded:
        title += "<br><sub>Showing the weeks around this outage: choose a longer bucket to see it all</sub>"
    fig.update_layout(
        title={"text": title, "x": 0.01},
        template="plotly_white",
        font=FONT,
        barmode="overlay",
        bargap=0,
        height=520,
        hovermode="x unified",
        legend={"orientation": "h", "y": -0.2},
        margin={"l": 60, "r": 20, "t": 60, "b": 70},
    )
    fig.update_yaxes(title_text="sentiment (-1 to +1)", range=[-1, 1], row=1, col=1)
    fig.update_yaxes(title_text=f"posts per {per}", row=2, col=1)
    fig.update_xaxes(title_text="time (UTC)", row=2, col=1)
    if x_range is not None:
        fig.update_xaxes(range=[_utc_naive(x_range[0]), _utc_naive(x_range[1])])
    return fig


def _volume_sizes(posts: pd.Series) -> list[float]:
    """Marker sizes 3-12 px by the square root of each bucket's post count (area ~ volume)."""
    top = float(posts.max()) if len(posts) else 0.0
    if top <= 0:
        return [3.0] * len(posts)
    return [round(3 + 9 * (float(n) / top) ** 0.5, 1) for n in posts]


def _add_phases(fig: go.Figure, phases: Sequence[tuple[str, datetime]], first, end) -> None:
    """A dotted line and a label at each status-page phase (investigating, identified, ...)."""
    for status, at in phases:
        when = _utc_naive(at)
        if when is None or when < first or (end is not None and when > end):
            continue
        fig.add_shape(type="line", xref="x", yref="paper", x0=when, x1=when, y0=0, y1=1,
                      line={"color": PHASE_COLOUR, "width": 1, "dash": "dot"}, name=f"phase-{status}")
        fig.add_annotation(x=when, xref="x", y=0.98, yref="paper", text=str(status), showarrow=False,
                           textangle=-90, xanchor="right", yanchor="top", name=f"phase-{status}",
                           font={"size": 10, "color": PHASE_COLOUR})


def _bounded(series: pd.DataFrame, focus, max_points: int = MAX_POINTS) -> tuple[pd.DataFrame, bool]:
    """At most ``max_points`` buckets, around ``focus`` (else the latest); True when it cut any."""
    if len(series) <= max_points:
        return series, False
    at = series.index.searchsorted(pd.Timestamp(focus)) if focus is not None else len(series)
    first = min(max(0, at - int(max_points * FOCUS_AT)), len(series) - max_points)
    return series.iloc[first : first + max_points], True


def _add_outage(fig: go.Figure, outage, series_end: pd.Timestamp, selected: bool) -> None:
    """One shaded rectangle over both rows (paper y) and its label; an ongoing one runs to the end."""
    start = _utc_naive(outage.start)
    stop = _utc_naive(outage.end) if outage.end is not None else max(series_end, start)
    label = outage.label if outage.end is not None else f"{outage.label} (ongoing)"
    fig.add_shape(
        type="rect", xref="x", yref="paper", x0=start, x1=stop, y0=0, y1=1, layer="below",
        fillcolor=OUTAGE_COLOUR, opacity=0.22 if selected else 0.1, line_width=0,
        name=OUTAGE_SHAPE.format(id=outage.id),
    )
    fig.add_annotation(
        x=start, xref="x", y=1, yref="paper", text=label, showarrow=False, xanchor="left",
        yanchor="bottom", font={"size": 11, "color": OUTAGE_COLOUR}, name=OUTAGE_SHAPE.format(id=outage.id),
    )


def _add_selected(fig: go.Figure, series: pd.DataFrame, m) -> None:
    """The selected outage's baseline band (mean +/- 1 SD across the chart), trough and recovery."""
    if m.baseline_mean is not None:
        sd = m.baseline_sd or 0.0
        fig.add_hrect(
            y0=m.baseline_mean - sd, y1=m.baseline_mean + sd, row=1, col=1, layer="below",
            fillcolor=BAND_COLOUR, opacity=0.15, line_width=0, name=BASELINE_BAND,
        )
        fig.add_hline(y=m.baseline_mean, row=1, col=1, line={"color": BAND_COLOUR, "dash": "dot", "width": 1},
                      name=BASELINE_BAND)
    if m.trough_at is not None and m.trough is not None:
        fig.add_trace(go.Scatter(
            x=[_utc_naive(m.trough_at)], y=[m.trough], mode="markers", name=TROUGH_TRACE,
            marker={"symbol": "triangle-down", "size": 13, "color": OUTAGE_COLOUR},
            hovertemplate="trough %{y:.2f}<br>%{x|%d %b %H:%M} UTC<extra></extra>",
        ), row=1, col=1)
    if m.recovered_at is not None:
        fig.add_trace(go.Scatter(
            x=[_utc_naive(m.recovered_at)], y=[_value_at(series, m.recovered_at, m.baseline_mean)],
            mode="markers", name=RECOVERED_TRACE,
            marker={"symbol": "circle", "size": 11, "color": BAND_COLOUR, "line": {"width": 1}},
            hovertemplate="recovered<br>%{x|%d %b %H:%M} UTC<extra></extra>",
        ), row=1, col=1)


def _value_at(series: pd.DataFrame, when: datetime, fallback: float | None) -> float | None:
    stamp = pd.Timestamp(when)
    if stamp in series.index:
        value = series.loc[stamp, "smoothed"]
        if pd.notna(value):
            return float(value)
    return fallback


def build_compare_figure(brand_name: str, comparisons: Sequence) -> go.Figure:
    """The change in mean sentiment during the window, for the brand and each competitor, side by side.

    :param comparisons: :class:`analysis.compare.Comparison` (``brand_change``, ``competitor_change``).
    """
    if not comparisons:
        return build_empty_figure("No competitors with posts to compare with")
    names = [c.competitor for c in comparisons]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=names, y=[c.brand_change for c in comparisons], name=brand_name or "Brand",
                         marker={"color": LINE_COLOUR},
                         hovertemplate="%{y:.2f}<extra>" + (brand_name or "Brand") + "</extra>"))
    fig.add_trace(go.Bar(x=names, y=[c.competitor_change for c in comparisons], name="Competitor",
                         marker={"color": COMPETITOR_COLOUR}, hovertemplate="%{y:.2f}<extra>%{x}</extra>"))
    for c in comparisons:
        if c.did is not None:
            fig.add_annotation(x=c.competitor, y=1, yref="paper", showarrow=False, yanchor="bottom",
                               text=f"difference in differences {c.did:+.2f}", font={"size": 12})
    fig.update_layout(
        title={"text": "Change in mean sentiment during the outage vs each one's own baseline", "x": 0.01},
        template="plotly_white", font=FONT, barmode="group", height=380,
        yaxis={"title": "change in sentiment (-2 to +2)", "zeroline": True},
        xaxis={"title": "competitor (same window)"},
        legend={"orientation": "h", "y": -0.25}, margin={"l": 60, "r": 20, "t": 60, "b": 70},
    )
    return fig


def build_event_study_figure(frame: pd.DataFrame, brand_name: str = "") -> go.Figure:
    """All outages of a brand aligned at their start: mean abnormal sentiment per hour with its band.

    :param frame: columns ``hour``, ``mean_abnormal``, ``lo``, ``hi``, ``outages``
        (:func:`analysis.event_study.event_study`).
    """
    if frame is None or frame.empty:
        return build_empty_figure("Not enough outages to align")
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=list(frame["hour"]) + list(frame["hour"])[::-1],
                             y=list(frame["hi"]) + list(frame["lo"])[::-1], fill="toself", mode="lines",
                             line={"width": 0}, fillcolor="rgba(0,114,178,0.18)", name="95% interval",
                             hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=frame["hour"], y=frame["mean_abnormal"], mode="lines",
                             name="Mean across outages",
                             line={"color": LINE_COLOUR, "width": 2}, customdata=frame["outages"],
                             hovertemplate="hour %{x}<br>%{y:.2f} (%{customdata} outages)<extra></extra>"))
    fig.add_hline(y=0, line={"color": PHASE_COLOUR, "dash": "dot", "width": 1})
    title = "Sentiment below normal, hours after each outage started"
    fig.update_layout(title={"text": f"{brand_name}: {title}" if brand_name else title, "x": 0.01},
                      template="plotly_white", font=FONT, height=380,
                      xaxis={"title": "hours since the outage started"},
                      yaxis={"title": "sentiment minus normal"},
                      legend={"orientation": "h", "y": -0.25}, margin={"l": 60, "r": 20, "t": 60, "b": 70})
    return fig
