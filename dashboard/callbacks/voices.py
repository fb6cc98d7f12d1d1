"""Voices: the posts behind the outage window or a clicked time step, and the words customers use
more than usual."""

from __future__ import annotations

from datetime import timedelta

from dash import Input, Output, State, ctx, no_update

from dashboard import ids, model
from dashboard.layout import render_posts_table, render_table
from dashboard.tables import TERM_COLUMNS, term_rows


def register(app, store, views, csv_download) -> None:

    @app.callback(
        Output(ids.CLICKED, "data"),
        Input(ids.TIMELINE, "clickData"), Input(ids.VOICES_WHOLE, "n_clicks"),
        Input(ids.BRAND, "value"), Input(ids.OUTAGE, "value"),
        State(ids.BUCKET, "value"),
    )
    def remember_click(click, _whole, _brand, _outage, bucket):
        if ctx.triggered_id != ids.TIMELINE:
            return None
        from dipwatch.core.params import MetricParams

        found = model.clicked_bucket(click, MetricParams(bucket=bucket or "1h").bucket_delta)
        return {"start": found[0].isoformat(), "end": found[1].isoformat()} if found else no_update

    def rows_and_where(brand_key, outage_id, bucket, sources, label, search, clicked):
        # The posts and words need the brand's outage windows, not its measured series.
        view = views.outline(brand_key, bucket or "1h", sources)
        outage = model.find_outage(view, outage_id)
        window = model.voices_window(clicked, outage, view.now)
        if window is None:
            return view, outage, None, []
        start, end, where = window
        rows = model.posts_between(store, brand_key, start, end, model.POSTS_LIMIT, search, sources,
                                   None if label == "all" else label)
        return view, outage, (start, end, where), rows

    @app.callback(
        Output(ids.POSTS_CAPTION, "children"), Output(ids.POSTS_TABLE, "children"),
        Output(ids.TERMS_TABLE, "children"),
        Input(ids.BRAND, "value"), Input(ids.OUTAGE, "value"), Input(ids.BUCKET, "value"),
        Input(ids.SOURCES, "value"), Input(ids.VOICES_LABEL, "value"), Input(ids.POSTS_SEARCH, "value"),
        Input(ids.CLICKED, "data"), Input(ids.DATA_VERSION, "data"), Input(ids.LIVE, "n_intervals"),
        Input(ids.TABS, "value"),
    )
    def show_voices(brand_key, outage_id, bucket, sources, label, search, clicked, _version, _tick, tab):
        if tab is not None and tab != "voices":  # built when its tab opens
            return no_update, no_update, no_update
        if not brand_key:
            return "No brands yet.", None, None
        view, outage, window, rows = rows_and_where(brand_key, outage_id, bucket, sources, label, search,
                                                    clicked)
        if window is None:
            return "No outages recorded for this brand: click a point on the timeline.", None, None
        start, end, where = window
        # Baseline of the comparison: the days before the selected outage (or before the clicked step).
        before = outage.start if outage is not None and outage.start <= start else start
        since = before - timedelta(days=view.params.baseline_days)
        # Kept with the views: a new label or search (which do not change the words) reads only posts.
        terms = views.words(brand_key, (start, end, since, before), sources, lambda: model.window_words(
            store, view.brand, start, end, since, before, sources))
        terms_table = (render_table("terms-data", term_rows(terms), TERM_COLUMNS, page_size=15) if terms
                       else "Too few posts in this window to compare words.")
        return (model.voices_caption(len(rows), where, label, search), render_posts_table(
            rows, model.POST_COLUMNS), terms_table)

    @app.callback(
        Output(ids.DOWNLOAD, "data"),
        Input(ids.DOWNLOAD_BUTTON, "n_clicks"),
        State(ids.BRAND, "value"), State(ids.OUTAGE, "value"), State(ids.BUCKET, "value"),
        State(ids.SOURCES, "value"), State(ids.VOICES_LABEL, "value"), State(ids.POSTS_SEARCH, "value"),
        State(ids.CLICKED, "data"),
        prevent_initial_call=True,
    )
    def download_posts(_clicks, brand_key, outage_id, bucket, sources, label, search, clicked):
        _view, outage, _window, rows = rows_and_where(brand_key, outage_id, bucket, sources, label, search,
                                                      clicked)
        what = "clicked" if clicked else f"outage-{outage.id if outage else 'none'}"
        return csv_download(model.POST_COLUMNS, rows, f"dipwatch-{brand_key}-{what}-posts.csv")

    @app.callback(
        Output(ids.TERMS_DOWNLOAD, "data"),
        Input(ids.TERMS_DOWNLOAD_BUTTON, "n_clicks"),
        State(ids.TERMS_TABLE, "children"), State(ids.BRAND, "value"),
        prevent_initial_call=True,
    )
    def download_terms(_clicks, table, brand_key):
        rows = (table or {}).get("props", {}).get("data", []) if isinstance(table, dict) else []
        return csv_download(TERM_COLUMNS, rows, f"dipwatch-{brand_key}-words.csv")
