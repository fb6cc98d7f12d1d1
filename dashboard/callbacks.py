"""Thin callbacks: unpack the inputs, ask the model, build the figure and components, return them."""

from __future__ import annotations

import io

from dash import Input, Output, State, dcc

from dashboard import ids, model
from dashboard.figures import build_empty_figure, build_timeline_figure
from dashboard.layout import render_cards, render_posts_table, render_warning
from dipwatch.config import Settings
from dipwatch.measures import brand_view, known_brands, measured_windows
from dipwatch.store import Store


def register_callbacks(app, settings: Settings, store: Store) -> None:
    """Wire the page's controls to the model, reading from ``store``."""

    def view_of(brand_key: str, bucket: str = "1h"):
        brand = known_brands(settings, store)[brand_key]
        return brand_view(settings, store, brand, settings.metrics.with_bucket(bucket))

    @app.callback(
        Output(ids.OUTAGE, "options"),
        Output(ids.OUTAGE, "value"),
        Input(ids.BRAND, "value"),
    )
    def choose_brand(brand_key):
        if not brand_key:
            return [], None
        outages = measured_windows(store.list_outages(brand_key))
        return model.outage_options(outages), model.default_outage(outages)

    @app.callback(
        Output(ids.CARDS, "children"),
        Output(ids.SPARSE_WARNING, "children"),
        Output(ids.TIMELINE, "figure"),
        Output(ids.POSTS_CAPTION, "children"),
        Output(ids.POSTS_TABLE, "children"),
        Input(ids.BRAND, "value"),
        Input(ids.OUTAGE, "value"),
        Input(ids.BUCKET, "value"),
        Input(ids.POSTS_SEARCH, "value"),
    )
    def show_outage(brand_key, outage_id, bucket, search):
        if not brand_key:
            empty = build_empty_figure("No brands yet: run `dipwatch demo` or import posts")
            return [], None, empty, "", None
        view = view_of(brand_key, bucket or "1h")
        outage = model.find_outage(view, outage_id)
        figure = build_timeline_figure(view.series, view.outages, view.metrics,
                                       outage.id if outage else None, view.brand.name)
        if outage is None:
            return [], None, figure, "No outages recorded for this brand.", None
        metrics = model.metrics_for(view, outage.id)
        rows = model.window_posts(store, brand_key, outage, now=view.now, contains=search)
        return (render_cards(model.cards(metrics)), render_warning(model.sparse_warning(metrics)), figure,
                model.posts_caption(rows, outage, view.now, search),
                render_posts_table(rows, model.POST_COLUMNS))

    @app.callback(
        Output(ids.DOWNLOAD, "data"),
        Input(ids.DOWNLOAD_BUTTON, "n_clicks"),
        State(ids.BRAND, "value"),
        State(ids.OUTAGE, "value"),
        State(ids.POSTS_SEARCH, "value"),
        prevent_initial_call=True,
    )
    def download_posts(_clicks, brand_key, outage_id, search):
        from analysis.export import write_csv

        view = view_of(brand_key)
        outage = model.find_outage(view, outage_id)
        rows = model.window_posts(store, brand_key, outage, now=view.now, contains=search) if outage else []
        buffer = io.StringIO()
        write_csv(model.POST_COLUMNS, rows, buffer)
        name = f"dipwatch-{brand_key}-outage-{outage.id if outage else 'none'}-posts.csv"
        return dcc.send_string(buffer.getvalue(), name)

    @app.callback(
        Output(ids.REPORT_DOWNLOAD, "data"),
        Input(ids.REPORT_BUTTON, "n_clicks"),
        State(ids.BRAND, "value"),
        State(ids.OUTAGE, "value"),
        prevent_initial_call=True,
    )
    def download_report(_clicks, brand_key, outage_id):
        from dashboard.report import incident_report

        if not brand_key or outage_id is None:
            return None
        name, text = incident_report(settings, store, known_brands(settings, store)[brand_key], outage_id)
        return dcc.send_string(text, name)
