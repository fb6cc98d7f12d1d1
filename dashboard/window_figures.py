"""Figures of one outage's window and its comparisons: the Overview's chart (negative share over
posts), the brands' negative share on one time axis, the change in tone beside competitors and the
event study. Built as plain dicts in plotly's figure schema from the primitives of
:mod:`dashboard.figures` (see its docstring for why), pure: nothing here queries.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from dashboard.figures import (
    BAND_COLOUR,
    COMPETITOR_COLOUR,
    FONT,
    HOVER_FORMAT,
    HOVER_TIME,
    INTERVAL_FILL,
    LINE_COLOUR,
    NEGATIVE_COLOUR,
    OUTAGE_COLOUR,
    OUTAGE_SHAPE,
    PHASE_COLOUR,
    POSTS_TRACE,
    SHARE_BAND_COLOUR,
    SHARE_BAND_TRACE,
    SHARE_TRACE,
    TICK_FORMATS,
    TOP_ROW,
    VOLUME_COLOUR,
    Figure,
    as_text,
    band_outline,
    between,
    build_empty_figure,
    iso_times,
    outage_shape,
    share_baseline_shapes,
    stacked_domains,
    template,
    typed_array,
    utc_naive,
    volume_trace,
    with_gaps,
)


def build_compare_figure(brand_name: str, comparisons: Sequence, names: dict | None = None) -> Figure:
    """The change in mean sentiment during the window, for the brand and each competitor, side by side.

    :param comparisons: :class:`analysis.compare.Comparison` (``brand_change``, ``competitor_change``).
    :param names: competitor key -> display name (the keys otherwise).
    """
    if not comparisons:
        return build_empty_figure("No competitors with posts to compare with")
    names = [as_text((names or {}).get(c.competitor, c.competitor)) for c in comparisons]
    brand = as_text(brand_name or "Brand")
    data = [
        {"type": "bar", "x": names, "y": [c.brand_change for c in comparisons], "name": brand,
         "marker": {"color": LINE_COLOUR}, "hovertemplate": "%{y:.2f}<extra>" + brand + "</extra>"},
        {"type": "bar", "x": names, "y": [c.competitor_change for c in comparisons], "name": "Competitor",
         "marker": {"color": COMPETITOR_COLOUR}, "hovertemplate": "%{y:.2f}<extra>%{x}</extra>"},
    ]
    annotations = [{"x": name, "y": 1, "yref": "paper", "showarrow": False, "yanchor": "bottom",
                    "text": f"difference in differences {c.did:+.2f}", "font": {"size": 12}}
                   for name, c in zip(names, comparisons, strict=True) if c.did is not None]
    layout = {
        # Short enough for a phone; the method's name is in the note above it.
        "title": {"text": "Change in tone vs own baseline", "x": 0.01},
        "template": template(), "font": dict(FONT), "barmode": "group", "height": 380,
        "yaxis": {"title": {"text": "change in tone"}, "zeroline": True},
        "xaxis": {"title": {"text": "competitor (same window)"}},
        "legend": {"orientation": "h", "y": -0.25}, "margin": {"l": 60, "r": 20, "t": 60, "b": 70},
    }
    if annotations:
        layout["annotations"] = annotations
    return {"data": data, "layout": layout}


def build_event_study_figure(frame: pd.DataFrame, brand_name: str = "") -> Figure:
    """All outages of a brand aligned at their start: mean abnormal sentiment per hour with its band.

    :param frame: columns ``hour``, ``mean_abnormal``, ``lo``, ``hi``, ``outages``
        (:func:`analysis.event_study.event_study`).
    """
    if frame is None or frame.empty:
        return build_empty_figure("Not enough outages to align")
    hours = frame["hour"].tolist()
    data = [
        # The band as one closed outline: along the upper edge, then back along the lower one.
        {"type": "scatter", "x": hours + hours[::-1], "y": frame["hi"].tolist() + frame["lo"].tolist()[::-1],
         "fill": "toself", "mode": "lines", "line": {"width": 0}, "fillcolor": "rgba(0,114,178,0.18)",
         "name": "95% interval", "hoverinfo": "skip"},
        {"type": "scatter", "x": typed_array(frame["hour"]), "y": typed_array(frame["mean_abnormal"]),
         "mode": "lines",
         "name": f"Mean across {as_text(brand_name)}'s outages" if brand_name else "Mean across outages",
         "line": {"color": LINE_COLOUR, "width": 2},
         "customdata": typed_array(frame["outages"]),
         "hovertemplate": "hour %{x}<br>%{y:.2f} (%{customdata} outages)<extra></extra>"},
    ]
    # The brand is named on the page; the title stays short enough for a phone.
    title = "Tone vs normal, hours after each outage started"
    layout = {
        "title": {"text": title, "x": 0.01, "font": {"size": 14}},
        "template": template(), "font": dict(FONT), "height": 380,
        "xaxis": {"title": {"text": "hours since the outage started"}},
        "yaxis": {"title": {"text": "sentiment minus normal"}},
        "legend": {"orientation": "h", "y": -0.25}, "margin": {"l": 60, "r": 20, "t": 60, "b": 70},
        # Zero (normal) across the full width.
        "shapes": [{"type": "line", "xref": "x domain", "x0": 0, "x1": 1, "yref": "y", "y0": 0, "y1": 0,
                    "line": {"color": PHASE_COLOUR, "dash": "dot", "width": 1}}],
    }
    return {"data": data, "layout": layout}




SHARE_BASELINE = "share-baseline"
OVERVIEW_HEIGHT = 420


def build_overview_figure(series: pd.DataFrame, outage, m, window: tuple, recovery_sd: float = 1.0
                          ) -> Figure:
    """The Overview's one chart: the selected outage's window, its smoothed negative share with the
    share's 95% interval above the volume of posts, against the baseline's normal band, the outage shaded.

    :param series: the brand's series at the configured bucket (columns ``share_smoothed``,
        ``share_lo``, ``share_hi``, ``posts``).
    :param outage: the window (``start``, ``end`` or None while ongoing).
    :param m: the outage's :class:`OutageMetrics` (``share_baseline``, ``share_baseline_sd``).
    :param window: ``(start, end)`` of the time shown.
    :param recovery_sd: baseline SDs above normal that still count as normal (the recovery band).
    """
    start, end = utc_naive(window[0]), utc_naive(window[1])
    if series.empty or "share_smoothed" not in series:
        return build_empty_figure("No scored posts in this window")
    shown = between(series, start, end)
    if shown.empty:
        return build_empty_figure("No scored posts in this window")
    shown = with_gaps(shown)
    x = iso_times(shown.index)
    share = shown["share_smoothed"].to_numpy(dtype=np.float64) * 100
    band_x, band_y = band_outline(x, shown["share_lo"].to_numpy(dtype=np.float64) * 100,
                                  shown["share_hi"].to_numpy(dtype=np.float64) * 100)
    data = [
        {"type": "scatter", **TOP_ROW, "x": band_x, "y": typed_array(band_y), "mode": "lines",
         "fill": "toself",
         "fillcolor": INTERVAL_FILL, "line": {"width": 0}, "hoverinfo": "skip", "name": SHARE_BAND_TRACE},
        {"type": "scatter", **TOP_ROW, "x": x, "y": typed_array(share), "mode": "lines", "name": SHARE_TRACE,
         "line": {"color": LINE_COLOUR, "width": 2.5}, "connectgaps": False,
         "hovertemplate": f"{HOVER_TIME}<br>%{{y:.0f}}% of posts negative<extra></extra>"},
        volume_trace(x, shown["posts"], POSTS_TRACE, VOLUME_COLOUR, "posts"),
    ]
    stop = utc_naive(outage.end) if outage.end is not None else end
    shapes = [outage_shape(outage, stop, 0.18)]
    if m is not None and m.share_baseline is not None:
        shapes += share_baseline_shapes(m, recovery_sd, SHARE_BASELINE)
    top = float(np.nanmax(np.concatenate([[0.0], share[~np.isnan(share)],
                                          band_y[~np.isnan(band_y)]])))
    top_domain, bottom_domain = stacked_domains((0.72, 0.28), 0.08)
    # One label, above the plot where no line runs through it; the key under the chart names the rest.
    annotations = [
        {"text": "outage" if outage.end is not None else "outage (ongoing)",
         "x": utc_naive(outage.start).isoformat(), "xref": "x", "xanchor": "left", "y": 1, "yref": "paper",
         "yanchor": "bottom", "showarrow": False, "font": {"size": 12, "color": OUTAGE_COLOUR},
         "name": OUTAGE_SHAPE.format(id=outage.id)},
    ]
    layout = {
        "xaxis": {"anchor": "y", "domain": [0.0, 1.0], "matches": "x2", "showticklabels": False,
                  "range": [start.isoformat(), end.isoformat()]},
        "yaxis": {"anchor": "x", "domain": top_domain, "title": {"text": "% negative"},
                  "range": [0, min(100.0, max(10.0, top * 1.1))], "ticksuffix": "%"},
        "xaxis2": {"anchor": "y2", "domain": [0.0, 1.0], "range": [start.isoformat(), end.isoformat()],
                   "tickformat": "%d %b" if end - start > pd.Timedelta(days=3) else "%H:%M\n%d %b"},
        "yaxis2": {"anchor": "x2", "domain": bottom_domain, "title": {"text": "posts"}, "nticks": 3},
        "template": template(), "font": dict(FONT), "bargap": 0, "height": OVERVIEW_HEIGHT,
        "hovermode": "x unified", "showlegend": False, "shapes": shapes, "annotations": annotations,
        "margin": {"l": 52, "r": 12, "t": 24, "b": 40},
    }
    return {"data": data, "layout": layout}


COMPARE_COLOURS = (COMPETITOR_COLOUR, NEGATIVE_COLOUR, BAND_COLOUR, PHASE_COLOUR)


def build_compare_share_figure(lines: Sequence[tuple[str, pd.DataFrame]], outage, window: tuple) -> Figure:
    """Each brand's smoothed negative share (%) on one time axis over the outage's window, the outage
    shaded: the brand first (blue, with its 95% interval), then its competitors.

    :param lines: ``(display name, series)``, the brand first; a series without the share is skipped.
    :param window: ``(start, end)`` of the time shown (:func:`dashboard.model.overview_window`).
    """
    start, end = utc_naive(window[0]), utc_naive(window[1])
    data: list[dict] = []
    for number, (name, series) in enumerate(lines):
        if series is None or series.empty or "share_smoothed" not in series:
            continue
        shown = with_gaps(between(series, start, end))
        if shown.empty:
            continue
        x = iso_times(shown.index)
        colour = LINE_COLOUR if number == 0 else COMPARE_COLOURS[(number - 1) % len(COMPARE_COLOURS)]
        if number == 0:
            band_x, band_y = band_outline(x, shown["share_lo"].to_numpy(dtype=np.float64) * 100,
                                          shown["share_hi"].to_numpy(dtype=np.float64) * 100)
            data.append({"type": "scatter", "x": band_x, "y": typed_array(band_y), "mode": "lines",
                         "fill": "toself",
                         "fillcolor": SHARE_BAND_COLOUR, "line": {"width": 0}, "hoverinfo": "skip",
                         "name": f"{as_text(name)}: 95% interval", "showlegend": False})
        data.append({"type": "scatter", "x": x, "y": typed_array(shown["share_smoothed"].to_numpy() * 100),
                     "mode": "lines", "name": as_text(name), "connectgaps": False,
                     "line": {"color": colour, "width": 2.5 if number == 0 else 2,
                              "dash": "solid" if number == 0 else "dot"},
                     "hovertemplate": f"{as_text(name)} %{{y:.0f}}% negative<extra></extra>"})
    if not data:
        return build_empty_figure("No negative share to compare in this window")
    stop = utc_naive(outage.end) if outage.end is not None else end
    layout = {
        "template": template(), "font": dict(FONT), "height": 380, "hovermode": "x unified",
        "xaxis": {"range": [start.isoformat(), end.isoformat()], "tickformatstops": TICK_FORMATS,
                  "hoverformat": HOVER_FORMAT},
        "yaxis": {"title": {"text": "% negative"}, "ticksuffix": "%", "rangemode": "tozero"},
        "shapes": [outage_shape(outage, stop, 0.15)],
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        "margin": {"l": 52, "r": 12, "t": 36, "b": 36},
    }
    return {"data": data, "layout": layout}
