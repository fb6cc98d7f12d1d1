"""Timeline: the chart of the share over time, its series as CSV, and the incident report."""

from __future__ import annotations

from dash import Input, Output, State, dcc, no_update

from dashboard import ids, model
from dashboard.callbacks.downloads import csv_download
from dashboard.figures import build_empty_figure, build_timeline_figure
from dashboard.layout import chart_config
from dashboard.tables import SERIES_COLUMNS, series_rows
from dashboard.views import ViewCache
from dipwatch.store import Store


def register(app, store: Store, views: ViewCache) -> None:
    """The timeline chart, its series as CSV, and the incident report."""
    # Set by create_app(speedups=False), for benchmarks/dashboard_browser.py's baseline only.
    draw_all = app.server.config.get("DIPWATCH_DRAW_ALL", False)

    @app.callback(
        Output(ids.TIMELINE, "figure"), Output(ids.TIMELINE, "config"),
        Input(ids.BRAND, "value"), Input(ids.OUTAGE, "value"), Input(ids.BUCKET, "value"),
        Input(ids.PERIOD, "value"), Input(ids.SOURCES, "value"), Input(ids.DATA_VERSION, "data"),
        Input(ids.LIVE, "n_intervals"), Input(ids.TABS, "value"),
    )
    def show_timeline(brand_key, outage_id, bucket, period, sources, _version, _tick, tab):
        if tab is not None and tab != "timeline":  # built when its tab opens
            return no_update, no_update
        if not brand_key:
            return build_empty_figure("No brands yet: run `dipwatch demo` or import posts"), no_update
        view = views.view(brand_key, bucket or "1h", sources)
        outage = model.find_outage(view, outage_id)
        measured = views.view(brand_key, views.settings.metrics.bucket, sources).metrics  # as the cards
        x_range = model.period_window(period, outage, view.now, view.params)
        drawn = view.series if draw_all else model.series_near(view.series, x_range)
        figure = build_timeline_figure(
            drawn, view.outages, measured, outage.id if outage else None, view.brand.name,
            phases=store.outage_phases(outage.id) if outage else (), x_range=x_range,
            bucket=view.params.bucket,
            competitors=views.competitor_series(view), recovery_sd=view.params.recovery_sd)
        # Keep the user's zoom across live refreshes; reset it when the question changes.
        figure["layout"]["uirevision"] = f"{brand_key}/{outage_id}/{bucket}/{period}"
        name = f"dipwatch-{brand_key}-outage-{outage.id if outage else 'none'}-timeline"
        return figure, chart_config(name)

    @app.callback(
        Output(ids.SERIES_DOWNLOAD, "data"),
        Input(ids.SERIES_DOWNLOAD_BUTTON, "n_clicks"),
        State(ids.BRAND, "value"), State(ids.BUCKET, "value"), State(ids.SOURCES, "value"),
        prevent_initial_call=True,
    )
    def download_series(_clicks, brand_key, bucket, sources):
        view = views.view(brand_key, bucket or "1h", sources)
        return csv_download(SERIES_COLUMNS, series_rows(view.series),
                            f"dipwatch-{brand_key}-series-{view.params.bucket}.csv")

    @app.callback(
        Output(ids.REPORT_DOWNLOAD, "data"),
        Input(ids.REPORT_BUTTON, "n_clicks"),
        State(ids.BRAND, "value"), State(ids.OUTAGE, "value"),
        prevent_initial_call=True,
    )
    def download_report(_clicks, brand_key, outage_id):
        from dashboard.report import incident_report

        if not brand_key or outage_id is None:
            return None
        name, text = incident_report(views.settings, store, views.brands()[brand_key], outage_id)
        return dcc.send_string(text, name)
