"""Thin callbacks: unpack the inputs, ask the model, build the figure and components, return them.

This module wires the shared state (URL, controls, live refresh), the overview and the timeline; the
voices, outages and compare tabs have their own modules. Heavy views are only built while their tab
is open; the measured brand view is shared through :class:`dashboard.views.ViewCache`.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

from dash import Input, Output, State, ctx, dcc, no_update

from analysis.headline import headline
from dashboard import callbacks_compare, callbacks_outages, callbacks_voices, ids, model
from dashboard.figures import build_empty_figure, build_timeline_figure
from dashboard.layout import chart_config, render_cards, render_warning
from dashboard.state import ViewState, build_search, parse_at, parse_state, resolve_state
from dashboard.tables import SERIES_COLUMNS, series_rows
from dashboard.views import ViewCache
from dipwatch.config import Settings, SettingsWatch
from dipwatch.measures import measured_windows
from dipwatch.store import Store


def csv_download(columns, rows, name: str) -> dict:
    """A CSV file for dcc.Download, written by the export code (formula-neutralised)."""
    from analysis.export import write_csv

    buffer = io.StringIO()
    write_csv(list(columns), rows, buffer)
    return dcc.send_string(buffer.getvalue(), name)


def register_callbacks(app, settings: Settings | SettingsWatch, store: Store,
                       views: ViewCache | None = None) -> ViewCache:
    """Wire the page's controls to the model, reading from ``store``; return the view cache.

    :param settings: the settings, or a :class:`SettingsWatch` that reads an edited config again.
    """
    views = views or ViewCache(settings, store)

    def selectable(brand_key: str) -> list:
        return measured_windows(store.list_outages(brand_key))

    @app.callback(
        Output(ids.BRAND, "options"),
        Output(ids.BRAND, "value"), Output(ids.OUTAGE, "options"), Output(ids.OUTAGE, "value"),
        Output(ids.PERIOD, "value"), Output(ids.BUCKET, "value"), Output(ids.TABS, "value"),
        Output(ids.URL, "search"), Output(ids.BRAND_NOTE, "children"),
        Output(ids.VOICES_LABEL, "value"), Output(ids.POSTS_SEARCH, "value"), Output(ids.CLICKED, "data"),
        Input(ids.URL, "search"), Input(ids.BRAND, "value"), Input(ids.OUTAGE, "value"),
        Input(ids.PERIOD, "value"), Input(ids.BUCKET, "value"), Input(ids.TABS, "value"),
        Input(ids.DATA_VERSION, "data"), Input(ids.TIMELINE, "clickData"),
        Input(ids.VOICES_LABEL, "value"), Input(ids.POSTS_SEARCH, "value"),
        Input(ids.VOICES_WHOLE, "n_clicks"),
        State(ids.CLICKED, "data"),
    )
    def sync_state(search, brand, outage, period, bucket, tab, _version, click, label, text, _whole, clicked):
        # One callback owns the URL and what it holds, the Voices filters and clicked time step too,
        # so a copied link opens the same posts.
        trigger = ctx.triggered_id
        if trigger in (None, ids.URL):
            wanted = parse_state(search)
        else:
            at = (clicked or {}).get("start")
            if trigger == ids.TIMELINE:
                at = model.clicked_at(click) or at
            elif trigger in (ids.BRAND, ids.OUTAGE, ids.VOICES_WHOLE):
                at = None
            wanted = ViewState(brand, None if trigger == ids.BRAND else outage, period, bucket,
                               "voices" if trigger == ids.TIMELINE and click else tab, label or "all",
                               (text or "").strip(), parse_at(at))
        windows = {}

        def outages_of(key):
            return [w.id for w in windows.setdefault(key, selectable(key))]

        def default_of(key):
            return model.default_outage(windows.setdefault(key, selectable(key)))

        # The brands as they are now: one imported since start-up is listed, and its link opens it.
        brands = model.ordered_brands(views.brands())
        state = resolve_state(wanted, list(brands), outages_of, default_of)
        chosen = windows.get(state.brand) or (selectable(state.brand) if state.brand else [])
        current = {"brand": brand, "outage": outage, "period": period, "bucket": bucket, "tab": tab,
                   "label": label, "search": text, "at": None}
        changed = {k: (v if current[k] != v else no_update)
                   for k, v in vars(state).items()}
        step = model.clicked_step(state.at, state.bucket)
        new_search = build_search(state)
        return (model.brand_options(brands), changed["brand"], model.outage_options(chosen),
                changed["outage"], changed["period"], changed["bucket"], changed["tab"],
                new_search if new_search != (search or "") else no_update,
                model.unknown_brand_note(wanted.brand, brands, state.brand),
                changed["label"], changed["search"], step if step != clicked else no_update)

    @app.callback(Output(ids.SOURCES, "options"), Input(ids.BRAND, "value"))
    def list_sources(brand_key):
        return [{"label": s, "value": s} for s in views.sources(brand_key)] if brand_key else []

    _register_header(app, store, selectable)
    _register_overview(app, views)
    _register_timeline(app, store, views)
    callbacks_voices.register(app, store, views, csv_download)
    callbacks_outages.register(app, store, views, csv_download)
    callbacks_compare.register(app, store, views, csv_download)
    return views


def _register_header(app, store: Store, selectable) -> None:
    """Live refresh while the selected outage is open, and the freshness line."""

    @app.callback(
        Output(ids.LIVE, "disabled"), Output(ids.LIVE_NOTE, "children"),
        Input(ids.BRAND, "value"), Input(ids.OUTAGE, "value"), Input(ids.DATA_VERSION, "data"),
    )
    def live_refresh(brand_key, outage_id, _version):
        outage = next((w for w in selectable(brand_key) if w.id == outage_id), None) if brand_key else None
        if outage is None or outage.end is not None:
            return True, None
        return False, "Live: this outage is ongoing; the figures refresh every minute."

    @app.callback(
        Output(ids.FRESHNESS, "children"), Output(ids.FRESHNESS, "className"),
        Input(ids.BRAND, "value"), Input(ids.LIVE, "n_intervals"),
    )
    def show_freshness(brand_key, _tick):
        if not brand_key:
            return "", "freshness"
        now = datetime.now(UTC)
        span = store.time_range(brand_key)
        text, stale = model.freshness(store.collect_status(now), brand_key, now, span[1] if span else None)
        return text, "freshness stale" if stale else "freshness"


def _register_overview(app, views: ViewCache) -> None:
    """The headline and the metric cards, with their 95% intervals."""

    @app.callback(
        Output(ids.HEADLINE, "children"), Output(ids.CARDS, "children"),
        Output(ids.SPARSE_WARNING, "children"),
        Input(ids.BRAND, "value"), Input(ids.OUTAGE, "value"),
        Input(ids.SOURCES, "value"), Input(ids.DATA_VERSION, "data"), Input(ids.LIVE, "n_intervals"),
    )
    def show_overview(brand_key, outage_id, sources, _version, _tick):
        # One response: the intervals (read from the rollup's sums, ~20 ms at 1M posts) used to come
        # in a second callback writing the same cards, and a late plain response could hide them.
        if not brand_key:
            return "No brands yet: run `dipwatch demo` or import posts.", [], None
        # Measured at the configured bucket, never at the chart's step: the same 3-hour outage read
        # "recovered 12 h after the fix" at 1 hour and "5.1 days" at 1 day.
        view = views.view(brand_key, views.settings.metrics.bucket, sources)
        metrics = model.metrics_for(view, outage_id)
        if metrics is None:
            return f"{view.brand.name}: no outages recorded yet.", [], None
        intervals = views.intervals(view, outage_id, sources)
        return (headline(metrics), render_cards(model.cards(metrics, intervals)),
                render_warning(model.sparse_warning(metrics)))


def _register_timeline(app, store: Store, views: ViewCache) -> None:
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
            bucket=view.params.bucket)
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
