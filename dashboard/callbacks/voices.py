"""Voices: the posts behind the outage window or a clicked time step, a page at a time, all of them
as CSV, and the words customers use more than usual."""

from __future__ import annotations

from datetime import timedelta

from dash import Input, Output, State, ctx, no_update

from dashboard import ids, model, voices
from dashboard.callbacks.downloads import csv_download
from dashboard.layout import posts_columns, posts_page, render_table
from dashboard.tables import TERM_COLUMNS, term_rows


def register(app, store, views) -> None:
    _register_download(app, store, views)

    @app.callback(
        Output(ids.POSTS_CAPTION, "children"), Output(ids.POSTS_DATA, "data"),
        Output(ids.POSTS_DATA, "columns"), Output(ids.POSTS_DATA, "page_count"),
        Output(ids.POSTS_DATA, "page_current"), Output(ids.DOWNLOAD_BUTTON, "href"),
        Output(ids.DOWNLOAD_BUTTON, "children"),
        Input(ids.BRAND, "value"), Input(ids.OUTAGE, "value"), Input(ids.BUCKET, "value"),
        Input(ids.SOURCES, "value"), Input(ids.VOICES_LABEL, "value"), Input(ids.POSTS_SEARCH, "value"),
        Input(ids.CLICKED, "data"), Input(ids.DATA_VERSION, "data"), Input(ids.LIVE, "n_intervals"),
        Input(ids.TABS, "value"), Input(ids.POSTS_DATA, "page_current"), Input(ids.POSTS_DATA, "sort_by"),
    )
    def show_posts(brand_key, outage_id, bucket, sources, label, search, clicked, _version, _tick, tab,
                   page, sort_by):
        if tab is not None and tab != "voices":  # built when its tab opens
            return (no_update,) * 7
        if not brand_key:
            return "No brands yet.", [], no_update, 1, 0, None, "Download posts (CSV)"
        _view, outage, query = voices.find_query(views, brand_key, outage_id, bucket, sources, label, search,
                                                 clicked, voices.sort_of(sort_by))
        if query is None:
            return ("No outages recorded for this brand: click a point on the timeline.", [], no_update, 1, 0,
                    None, "Download posts (CSV)")
        counts = views.post_counts(query, lambda: voices.count(store, query))
        pages = max(1, -(-counts["posts"] // voices.VOICES_PAGE))
        # A new window, filter or order starts at the first page; paging keeps the rest.
        page = min(page or 0, pages - 1) if ctx.triggered_id == ids.POSTS_DATA else 0
        rows = voices.page_rows(store, query, page)
        return (voices.caption(query, counts["posts"]), posts_page(rows),
                posts_columns(voices.visible_columns(counts)), pages, page,
                voices.download_href(query, outage.id if outage and not clicked else None),
                f"Download all {counts['posts']:,} posts (CSV)")

    @app.callback(
        Output(ids.TERMS_TABLE, "children"),
        Input(ids.BRAND, "value"), Input(ids.OUTAGE, "value"), Input(ids.BUCKET, "value"),
        Input(ids.SOURCES, "value"), Input(ids.CLICKED, "data"), Input(ids.DATA_VERSION, "data"),
        Input(ids.LIVE, "n_intervals"), Input(ids.TABS, "value"),
    )
    def show_words(brand_key, outage_id, bucket, sources, clicked, _version, _tick, tab):
        if tab is not None and tab != "voices":
            return no_update
        if not brand_key:
            return None
        view, outage, query = voices.find_query(views, brand_key, outage_id, bucket, sources, None, None,
                                                clicked)
        if query is None:
            return None
        start, end = query.start, query.end
        # Baseline of the comparison: the days before the selected outage (or before the clicked step).
        before = outage.start if outage is not None and outage.start <= start else start
        since = before - timedelta(days=view.params.baseline_days)
        # Kept with the views: a new label or search (which do not change the words) reads only posts.
        terms = views.words(brand_key, (start, end, since, before), sources, lambda: model.window_words(
            store, view.brand, start, end, since, before, sources))
        return (render_table("terms-data", term_rows(terms), TERM_COLUMNS, page_size=15) if terms
                else "Too few posts in this window to compare words.")

    @app.callback(
        Output(ids.TERMS_DOWNLOAD, "data"),
        Input(ids.TERMS_DOWNLOAD_BUTTON, "n_clicks"),
        State(ids.TERMS_TABLE, "children"), State(ids.BRAND, "value"),
        prevent_initial_call=True,
    )
    def download_terms(_clicks, table, brand_key):
        rows = (table or {}).get("props", {}).get("data", []) if isinstance(table, dict) else []
        return csv_download(TERM_COLUMNS, rows, f"dipwatch-{brand_key}-words.csv")


def _register_download(app, store, views) -> None:
    """Every post of a Voices query as CSV, streamed from the store (formula-neutralised)."""
    from flask import Response, request, stream_with_context

    from analysis.export import csv_chunks

    def download_voices():
        try:
            query, name = voices.query_from_args(request.args, list(views.brands()))
        except ValueError as exc:
            return Response(f"{exc}\n", status=400, mimetype="text/plain")
        return Response(stream_with_context(csv_chunks(model.POST_COLUMNS, voices.all_rows(store, query))),
                        mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    app.server.add_url_rule(voices.DOWNLOAD_PATH, "download_voices", download_voices)
