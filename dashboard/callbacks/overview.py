"""Overview: the status line, the outage's chart, the plain cards and the analyst details."""

from __future__ import annotations

from dash import Input, Output

from analysis.headline import status_line
from dashboard import ids, model
from dashboard.figures import build_empty_figure
from dashboard.layout import render_cards, render_status, render_warning
from dashboard.views import ViewCache
from dashboard.window_figures import build_overview_figure


def register(app, views: ViewCache) -> None:
    """The status line and headline, the outage's chart, the plain cards and the analyst details."""

    @app.callback(
        Output(ids.HEADLINE, "children"), Output(ids.CARDS, "children"),
        Output(ids.SPARSE_WARNING, "children"), Output(ids.DETAIL_CARDS, "children"),
        Output(ids.OVERVIEW_GRAPH, "figure"),
        Input(ids.BRAND, "value"), Input(ids.OUTAGE, "value"),
        Input(ids.SOURCES, "value"), Input(ids.DATA_VERSION, "data"), Input(ids.LIVE, "n_intervals"),
    )
    def show_overview(brand_key, outage_id, sources, _version, _tick):
        return overview_parts(views, brand_key, outage_id, sources)


def overview_parts(views: ViewCache, brand_key: str | None, outage_id: int | None, sources) -> tuple:
    """The Overview's five outputs: (status box, plain cards, sparse warning, analyst cards, chart).

    One response: the intervals (read from the rollup's sums, ~20 ms at 1M posts) used to come in a
    second callback writing the same cards, and a late plain response could hide them.
    """
    if not brand_key:
        empty = build_empty_figure("No brands yet")
        return "No brands yet: run `dipwatch demo` or import posts.", [], None, [], empty
    # Measured at the configured bucket, never at the chart's step: the same 3-hour outage read
    # "recovered 12 h after the fix" at 1 hour and "5.1 days" at 1 day.
    view = views.view(brand_key, views.settings.metrics.bucket, sources)
    metrics = model.metrics_for(view, outage_id)
    outage = model.find_outage(view, outage_id)
    if metrics is None or outage is None:
        return (f"{view.brand.name}: no outages recorded yet.", [], None, [],
                build_empty_figure("No outages recorded yet"))
    intervals = views.intervals(view, outage_id, sources)
    plain, details = model.overview_cards(metrics, intervals)
    window = model.overview_window(outage, view.now, metrics.share_recovered_at, metrics.last_post_at)
    figure = build_overview_figure(view.series, outage, metrics, window, view.params.recovery_sd)
    status = render_status(f"{view.brand.name} \u00b7 {model.outage_label(outage)}",
                           status_line(metrics, view.now))
    return status, render_cards(plain), render_warning(model.sparse_warning(metrics)), \
        render_cards(details), figure
