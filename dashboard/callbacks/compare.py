"""Compare: the brand against its competitors over the selected window (difference in differences,
spillover), and the event study of all the brand's outages aligned at their start."""

from __future__ import annotations

from functools import partial

from dash import Input, Output, State, no_update

from analysis.event_study import event_study
from dashboard import ids, model
from dashboard.callbacks.downloads import csv_download
from dashboard.figures import build_empty_figure
from dashboard.layout import render_table
from dashboard.tables import COMPARE_COLUMNS, comparison_rows
from dashboard.window_figures import (
    build_compare_figure,
    build_compare_share_figure,
    build_event_study_figure,
)
from dipwatch.measures import competitor_comparisons

EVENT_HOURS = 72
EVENT_RESAMPLES = 200


def compare_note(brand_name: str, comparisons, names=None) -> str:
    """The method's figures in words (the details' note), with a warning for each competitor that
    dipped too; ``names``: competitor key -> display name."""
    if not comparisons:
        return (f"{brand_name} has no competitors with posts in the store: add `competitors` to the brand "
                "in dipwatch.toml to compare.")
    parts = []
    for c in comparisons:
        name = (names or {}).get(c.competitor, c.competitor)
        if c.did is None:
            parts.append(f"{name}: not enough posts to compare" + (f" ({c.note})" if c.note else ""))
            continue
        words = "fell further than" if c.did < 0 else "held up better than"
        part = (f"In tone (VADER, -1 to +1), {brand_name} {words} {name} by {abs(c.did):.2f}: the "
                "difference in differences, each one's change from its own baseline over the same window")
        if c.spillover:
            part += f". Warning: {name} dipped too, so it is no clean comparison (spillover)"
        parts.append(part)
    return "; ".join(parts) + "."


def comparisons_of(store, views, brand_key, outage_id, bucket, sources) -> tuple:
    """The brand's view and its comparisons with each competitor over the selected outage."""
    view = views.view(brand_key, bucket or "1h", sources)
    outage = model.find_outage(view, outage_id)
    if outage is None:
        return view, []
    # A competitor's series from the cache (its view when one is kept): measuring its outages
    # is not needed, compare measures the selected window on it.
    return view, competitor_comparisons(views.settings, store, view, outage,
                                        partial(cached_series, views, view))


def cached_series(views, view, key: str) -> tuple:
    """A competitor's windows and series on ``view``'s buckets as of its ``now``, from the cache."""
    return views.series(key, view.params, view.now)


def register(app, store, views) -> None:

    @app.callback(
        Output(ids.COMPARE_SUMMARY, "children"), Output(ids.COMPARE_SHARE_GRAPH, "figure"),
        Output(ids.COMPARE_NOTE, "children"), Output(ids.COMPARE_GRAPH, "figure"),
        Output(ids.COMPARE_TABLE, "children"), Output(ids.EVENT_GRAPH, "figure"),
        Input(ids.BRAND, "value"), Input(ids.OUTAGE, "value"), Input(ids.BUCKET, "value"),
        Input(ids.SOURCES, "value"), Input(ids.DATA_VERSION, "data"), Input(ids.TABS, "value"),
    )
    def show_compare(brand_key, outage_id, bucket, sources, _version, tab):
        if tab is not None and tab != "compare":  # built when its tab opens
            return (no_update,) * 6
        if not brand_key:
            empty = build_empty_figure("No brands yet")
            return "", empty, "", empty, None, empty
        view, comparisons = comparisons_of(store, views, brand_key, outage_id, bucket, sources)
        names = {key: brand.name for key, brand in views.brands().items()}
        rows = comparison_rows(comparisons, names)
        return (*share_comparison(views, view, outage_id, comparisons, names),
                compare_note(view.brand.name, comparisons, names),
                build_compare_figure(view.brand.name, comparisons, names),
                render_table("compare-data", rows, COMPARE_COLUMNS) if rows else None,
                event_figure(views, brand_key, sources, view.brand.name))

    @app.callback(
        Output(ids.COMPARE_DOWNLOAD, "data"),
        Input(ids.COMPARE_DOWNLOAD_BUTTON, "n_clicks"),
        State(ids.BRAND, "value"), State(ids.OUTAGE, "value"), State(ids.BUCKET, "value"),
        State(ids.SOURCES, "value"),
        prevent_initial_call=True,
    )
    def download_compare(_clicks, brand_key, outage_id, bucket, sources):
        _view, comparisons = comparisons_of(store, views, brand_key, outage_id, bucket, sources)
        return csv_download(COMPARE_COLUMNS, comparison_rows(comparisons),
                            f"dipwatch-{brand_key}-outage-{outage_id}-competitors.csv")


def share_comparison(views, view, outage_id, comparisons, names) -> tuple:
    """(plain-words summary, chart of every brand's negative share) over the outage's window."""
    outage = model.find_outage(view, outage_id)
    if outage is None:
        return f"{view.brand.name}: no outages recorded yet.", build_empty_figure("No outages recorded yet")
    measured = model.metrics_for(view, outage.id)
    window = model.overview_window(outage, view.now, measured.share_recovered_at if measured else None,
                                   measured.last_post_at if measured else None)
    lines = [(view.brand.name, view.series), *views.competitor_series(view)]
    return (model.compare_summary(view.brand.name, measured, comparisons, names),
            build_compare_share_figure(lines, outage, window))


def event_figure(views, brand_key: str, sources, brand_name: str):
    """The event study of the brand's outages on hourly buckets (needs a baseline for each)."""
    view = views.view(brand_key, "1h", sources)
    by_id = {m.outage_id: m for m in view.metrics}
    items = [(w, view.series, by_id[w.id].baseline_mean) for w in view.outages
             if by_id[w.id].baseline_mean is not None]
    if not items:
        return build_empty_figure("No outage with a baseline to align yet")
    frame = event_study(items, view.params, hours=EVENT_HOURS, resamples=EVENT_RESAMPLES, seed=0)
    return build_event_study_figure(frame, brand_name)
