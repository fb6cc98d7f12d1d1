"""The page: header, controls, the headline, and one tab per view (overview, timeline, voices,
outages, compare).

Also the small renderers callbacks use to turn model data into components. Post text is always
passed as a plain string child, which React renders as text: never markdown, never HTML.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from dash import dash_table, dcc, html

from dashboard import ids
from dashboard.figures import build_empty_figure
from dashboard.model import ANALYST_SUMMARY, OVERVIEW_CHART_KEY, OVERVIEW_CHART_TITLE
from dashboard.state import PERIODS, TABS, VOICES_PAGE, ViewState
from dashboard.tables import OUTAGE_COLUMNS
from dipwatch.core.conventions import BUCKETS

BUCKET_LABELS = {"15min": "15 min", "1h": "1 hour", "1d": "1 day"}
LINK_SAFE = ":/?#@!$&'*+,;=%~-._"  # URL characters kept as they are; ( ) [ ] < > and spaces are encoded
POST_HEADERS = {"time": "Time (UTC)", "source": "Source", "sentiment": "Sentiment (-1 to +1)",
                "label": "Class", "stars": "Stars (reviews)", "engagement": "Engagement", "text": "Text",
                "link": "Link"}
LABEL_CHOICES = {"all": "All posts", "negative": "Negative", "neutral": "Neutral", "positive": "Positive"}

PAGE = {"maxWidth": "1280px", "margin": "0 auto", "padding": "0 16px 32px"}
CONTROLS = {"display": "flex", "gap": "16px", "flexWrap": "wrap", "alignItems": "flex-end",
            "marginBottom": "12px"}
ROW = {"display": "flex", "gap": "12px", "flexWrap": "wrap", "alignItems": "center", "margin": "8px 0"}
CARD_ROW = {"display": "grid", "gridTemplateColumns": "repeat(auto-fill, minmax(200px, 1fr))", "gap": "10px"}
# Styles repeated across components live in one stylesheet (app.py puts it in the page), not inline.
# Calm palette: greys for chrome, Okabe-Ito colours (see figures.py) for data and warnings only.
STYLESHEET = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; color: #222; background: #fff;
       font-size: 15px; line-height: 1.4; }
h1 { font-size: 26px; margin: 12px 0 2px; }
h2 { font-size: 18px; margin: 18px 0 6px; }
label { font-size: 13px; color: #444; font-weight: 600; display: block; margin-bottom: 2px; }
button { font: inherit; font-size: 14px; padding: 5px 12px; border: 1px solid #888; border-radius: 4px;
         background: #f4f4f4; cursor: pointer; }
button:hover, .button-link:hover { background: #e8e8e8; }
.button-link { font-size: 14px; padding: 5px 12px; border: 1px solid #888; border-radius: 4px;
               background: #f4f4f4; color: #222; text-decoration: none; }
input[type=text], input[type=search] { font: inherit; padding: 5px 8px; border: 1px solid #bbb;
                                       border-radius: 4px; }
.subtitle { color: #555; margin-bottom: 6px; }
.demo-note { background: #fff3cd; border: 1px solid #e0c36c; padding: 4px 10px; border-radius: 4px;
             display: inline-block; font-size: 13px; }
.freshness { font-size: 13px; color: #555; margin: 6px 0; }
.freshness.stale { color: #222; background: #fbe3d2; border-left: 4px solid #D55E00; padding: 4px 8px; }
.live-note { font-size: 13px; color: #0072B2; font-weight: 600; }
.brand-note:not(:empty) { font-size: 13px; background: #fbe3d2; border-left: 4px solid #D55E00;
                          padding: 4px 8px; }
.headline { margin: 8px 0 12px; padding: 8px 14px; border-left: 5px solid #0072B2; background: #f2f7fb; }
.headline:empty { display: none; }
.status-context { font-size: 13px; color: #555; }
.status-line { font-size: 20px; font-weight: 700; letter-spacing: .01em; }
.overview-grid { display: grid; grid-template-columns: minmax(0, 2.2fr) minmax(220px, 1fr);
                 gap: 16px; align-items: start; }
.overview-cards { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; }
.compare-summary { font-size: 16px; margin: 4px 0 10px; }
.chart-title { font-size: 15px; font-weight: 600; margin: 0 0 2px; }
details.analyst { margin-top: 16px; }
details.analyst > summary { cursor: pointer; font-weight: 600; color: #333; padding: 4px 0; }
.controls > div { min-width: 0; }
#tabs .tab { padding: 8px 14px; }
.metric-card { border: 1px solid #ddd; border-radius: 6px; padding: 8px 12px; background: #fafafa; }
.card-title { font-size: 13px; color: #555; }
.card-value { font-size: 22px; font-weight: 600; margin: 2px 0; }
.card-note { font-size: 12px; color: #666; }
.sparse-warning { background: #fbe3d2; border-left: 4px solid #D55E00; padding: 6px 10px; border-radius: 4px;
                  margin: 10px 0; }
.caption { font-size: 13px; color: #555; margin: 4px 0 6px; }
.message-error { color: #a33c00; font-weight: 600; }
.message-ok { color: #006e50; font-weight: 600; }
.form-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 10px;
             align-items: end; margin: 8px 0; }
.tab-body { padding-top: 10px; }
.confirm-box { display: flex; gap: 10px; align-items: center; flex-wrap: wrap; margin: 8px 0;
               padding: 8px 12px; background: #fbe3d2; border-left: 4px solid #D55E00; }
.confirm-box[hidden] { display: none; }
.dash-spreadsheet-inner td, .dash-spreadsheet-inner th {
  font-family: system-ui, -apple-system, 'Segoe UI', sans-serif !important; }
/* A phone (390 px): one column, compact controls and tabs, the status near the top, no sideways
   scrolling; the posts table keeps its time, text and link. */
@media (max-width: 700px) {
  body { font-size: 14px; }
  h1 { font-size: 20px; margin-top: 6px; }
  .subtitle { font-size: 13px; }
  .status-line { font-size: 17px; }
  .overview-grid { grid-template-columns: minmax(0, 1fr); }
  .controls { gap: 8px !important; }
  .controls > div { width: calc(50% - 4px) !important; flex: none !important; }
  .controls > div.control-wide { width: 100% !important; }
  #tabs .tab { padding: 6px 2px !important; font-size: 13px; min-width: 0; }
  .form-grid { grid-template-columns: minmax(0, 1fr); }
  #posts-table td[data-dash-column=source], #posts-table th[data-dash-column=source],
  #posts-table td[data-dash-column=sentiment], #posts-table th[data-dash-column=sentiment],
  #posts-table td[data-dash-column=label], #posts-table th[data-dash-column=label],
  #posts-table td[data-dash-column=stars], #posts-table th[data-dash-column=stars],
  #posts-table td[data-dash-column=engagement], #posts-table th[data-dash-column=engagement] {
    display: none; }
  #posts-table .dash-spreadsheet-inner table { table-layout: fixed; width: 100% !important; }
  #posts-table td[data-dash-column=text], #posts-table th[data-dash-column=text] {
    min-width: 0 !important; width: auto !important; max-width: none !important; }
  #posts-table td[data-dash-column=text] .dash-cell-value { white-space: normal; overflow-wrap: anywhere; }
  #posts-table td[data-dash-column=time], #posts-table th[data-dash-column=time] {
    width: 74px !important; min-width: 0 !important; }
  #posts-table td[data-dash-column=link], #posts-table th[data-dash-column=link] {
    width: 46px !important; min-width: 0 !important; }
  /* The outages table keeps what a reader asks of each outage (is it over, how bad, how long) next
     to its name, in whole words; the window's times, the baseline, ids and the analysts' columns
     are on a wider screen. */
  #outages-table td[data-dash-column=id], #outages-table th[data-dash-column=id],
  #outages-table td[data-dash-column=start], #outages-table th[data-dash-column=start],
  #outages-table td[data-dash-column=end], #outages-table th[data-dash-column=end],
  #outages-table td[data-dash-column=severity], #outages-table th[data-dash-column=severity],
  #outages-table td[data-dash-column=origin], #outages-table th[data-dash-column=origin],
  #outages-table td[data-dash-column=share_normal_pct], #outages-table th[data-dash-column=share_normal_pct],
  #outages-table td[data-dash-column=share_peak_pct], #outages-table th[data-dash-column=share_peak_pct],
  #outages-table td[data-dash-column=volume_lift], #outages-table th[data-dash-column=volume_lift],
  #outages-table td[data-dash-column=posts_during], #outages-table th[data-dash-column=posts_during],
  #outages-table td[data-dash-column=dip_depth], #outages-table th[data-dash-column=dip_depth],
  #outages-table td[data-dash-column=trough], #outages-table th[data-dash-column=trough] {
    display: none; }
  #outages-table .dash-spreadsheet-inner table { table-layout: fixed; width: 100% !important; }
  #outages-table td, #outages-table th { min-width: 0 !important; max-width: none !important;
    white-space: normal !important; font-size: 13px; padding: 4px !important; }
  #outages-table th { font-size: 12px; }
  #outages-table td[data-dash-column=label], #outages-table th[data-dash-column=label] {
    width: auto !important; }
  #outages-table td[data-dash-column=status], #outages-table th[data-dash-column=status] {
    width: 80px !important; }
  #outages-table td[data-dash-column=share_during_pct], #outages-table th[data-dash-column=share_during_pct],
  #outages-table td[data-dash-column=time_to_recover_h],
  #outages-table th[data-dash-column=time_to_recover_h] { width: 72px !important; }
  #outages-table td.dash-select-cell, #outages-table th.dash-select-header { width: 30px !important; }
  /* Other tables keep their columns and scroll inside their own box, never the page. */
  .dash-table-container .dash-spreadsheet-container { max-width: 100%; overflow-x: auto !important; }
}
"""
CHART_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"],
                "toImageButtonOptions": {"format": "png", "scale": 2, "filename": "dipwatch-chart"}}


def chart_config(filename: str) -> dict:
    """The modebar of a chart: its camera button downloads a PNG called ``filename``.png."""
    return {**CHART_CONFIG, "toImageButtonOptions": {**CHART_CONFIG["toImageButtonOptions"],
                                                     "filename": filename}}


def _control(label: str, component, width: str) -> html.Div:
    return html.Div([html.Label(label, htmlFor=component.id), component], style={"width": width})


def _download(button_id: str, download_id: str, text: str = "Download CSV") -> list:
    return [html.Button(text, id=button_id, n_clicks=0), dcc.Download(id=download_id)]


@dataclass(frozen=True)
class Landing:
    """The view a page opens on, resolved on the server from the page's address
    (:func:`dashboard.callbacks.page.landing`), so that every callback asks for that view in the
    first round instead of waiting for the state to be read from the address in a round of its own.

    ``href`` is the page's whole address the layout was built for, or None when the server could
    not tell: the page then reads its address itself.
    """

    state: ViewState = field(default_factory=ViewState)
    href: str | None = None
    search: str = ""  # the query string of ``state`` (dashboard.state.build_search)
    outages: list = field(default_factory=list)  # the brand's outage dropdown options
    note: str | None = None  # dashboard.model.unknown_brand_note
    step: dict | None = None  # the clicked time step (dashboard.model.clicked_step)

    @property
    def address(self) -> str | None:
        """The query string of ``href`` as ``window.location.search`` gives it ("" for none), or None."""
        if self.href is None:
            return None
        query = urlsplit(self.href).query
        return "?" + query if query else ""


def build_layout(brands: Mapping, default_brand: str | None, demo_note: str | None,
                 landing: Landing | None = None) -> html.Div:
    """The whole page.

    :param brands: brand key -> brand (anything with a ``name``), in display order.
    :param default_brand: the brand selected on load when there is no ``landing`` (None when there
        are no brands).
    :param demo_note: shown in the header when the store holds simulated demo data.
    :param landing: the view to open on, with its controls set (see :class:`Landing`).
    """
    landing = landing or Landing(ViewState(brand=default_brand))
    state = landing.state
    header = [html.H1("dipwatch"),
              html.Div("How customers' public sentiment dipped during each outage, and when it recovered.",
                       className="subtitle")]
    if demo_note:
        header.append(html.Div(demo_note, id=ids.DEMO_NOTE, className="demo-note"))
    header += [html.Div(id=ids.FRESHNESS, className="freshness"),
               html.Div(id=ids.LIVE_NOTE, className="live-note"),
               html.Div(landing.note, id=ids.BRAND_NOTE, className="brand-note")]
    controls = html.Div([
        _control("Brand", dcc.Dropdown(id=ids.BRAND, value=state.brand, clearable=False, searchable=False,
                                       options=[{"label": b.name, "value": k} for k, b in brands.items()]),
                 "200px"),
        html.Div([html.Label("Outage", htmlFor=ids.OUTAGE),
                  dcc.Dropdown(id=ids.OUTAGE, options=landing.outages, value=state.outage, clearable=False,
                               searchable=False, placeholder="No outages recorded")],
                 className="control-wide", style={"flex": "1", "minWidth": "320px"}),
        _control("Period", dcc.Dropdown(id=ids.PERIOD, value=state.period, clearable=False,
                                        searchable=False,
                                        options=[{"label": v, "value": k} for k, v in PERIODS.items()]),
                 "200px"),
        _control("Sources", dcc.Dropdown(id=ids.SOURCES, value=[], multi=True, placeholder="All sources"),
                 "220px"),
        html.Div([html.Label("Time step (charts)"),
                  dcc.RadioItems(id=ids.BUCKET, value=state.bucket, inline=True,
                                 options=[{"label": BUCKET_LABELS[b], "value": b} for b in BUCKETS],
                                 inputStyle={"marginRight": "4px", "marginLeft": "10px"})]),
        html.Div([html.Button("Incident report (HTML)", id=ids.REPORT_BUTTON, n_clicks=0,
                              title="One self-contained file to forward: headline, cards, chart, posts"),
                  dcc.Download(id=ids.REPORT_DOWNLOAD)]),
    ], style=CONTROLS, className="controls")
    # mobile_breakpoint=0: the tabs stay one compact row on a phone instead of a stacked list.
    tabs = dcc.Tabs(id=ids.TABS, value=state.tab, mobile_breakpoint=0, children=[
        dcc.Tab(label=TABS["overview"], value="overview", children=_overview()),
        dcc.Tab(label=TABS["timeline"], value="timeline", children=_timeline()),
        dcc.Tab(label=TABS["voices"], value="voices", children=_voices(state)),
        dcc.Tab(label=TABS["outages"], value="outages", children=_outages()),
        dcc.Tab(label=TABS["compare"], value="compare", children=_compare()),
    ])
    # The address the layout was built for. dcc.Location sets the parts it is not given from the
    # browser's address when it mounts; given them all, it sets none (setting search would ask
    # for the state again, and an href set late was pushed back over the tab's address).
    location = (dcc.Location(id=ids.URL, refresh=False) if landing.href is None
                else dcc.Location(id=ids.URL, refresh=False, search=landing.search, href=landing.href,
                                  pathname=urlsplit(landing.href).path, hash=""))
    return html.Div([
        location,
        dcc.Store(id=ids.LANDING, data=None if landing.href is None
                  else {"address": landing.address, "search": landing.search}),
        dcc.Store(id=ids.LANDING_CHECK),
        dcc.Interval(id=ids.LIVE, interval=60_000, disabled=True),
        dcc.Store(id=ids.DATA_VERSION, data=0),
        dcc.Store(id=ids.INTERVALS),
        dcc.Store(id=ids.CLICKED, data=landing.step),
        html.Header(header),
        # The status first, above the controls: on a phone they stack ~600 px tall. One main
        # landmark holds the page's content (axe-core: region).
        html.Main([html.Div(id=ids.HEADLINE, className="headline", role="status"), controls, tabs]),
    ], style=PAGE)


def _overview() -> html.Div:
    return html.Div([
        html.Div([
            html.Div([
                html.H2(OVERVIEW_CHART_TITLE, className="chart-title"),
                dcc.Graph(id=ids.OVERVIEW_GRAPH, figure=build_empty_figure("Loading..."),
                          config=chart_config("dipwatch-overview"), style={"height": "420px"}),
                html.Div(OVERVIEW_CHART_KEY, className="caption"),
            ]),
            html.Div(id=ids.CARDS, className="overview-cards"),
        ], className="overview-grid"),
        html.Div(id=ids.SPARSE_WARNING),
        html.Details([
            html.Summary(ANALYST_SUMMARY),
            html.Div(id=ids.DETAIL_CARDS, style=CARD_ROW),
            html.Div("Intervals: 95% bootstrap intervals over the posts. Tone figures are on VADER's "
                     "compound score (-1 to +1), the second signal; the share of negative posts leads.",
                     className="caption"),
        ], id=ids.DETAILS, className="analyst"),
    ], className="tab-body")


def _timeline() -> html.Div:
    return html.Div([
        dcc.Graph(id=ids.TIMELINE, figure=build_empty_figure("Loading..."), config=CHART_CONFIG,
                  clear_on_unhover=True),
        html.Div([html.Span("Click a point (or, with the chart focused, choose one with the arrow keys and "
                            "press Enter) to read the posts of that time step in Voices. "
                            "Drag to zoom both panels; double-click to zoom out.", className="caption"),
                  *_download(ids.SERIES_DOWNLOAD_BUTTON, ids.SERIES_DOWNLOAD, "Download series (CSV)")],
                 style=ROW),
    ], className="tab-body")


def _voices(state: ViewState) -> html.Div:
    return html.Div([
        html.Div([
            html.Button("Whole outage window", id=ids.VOICES_WHOLE, n_clicks=0,
                        title="Show the posts of the selected outage's window again"),
            html.Div(dcc.Dropdown(id=ids.VOICES_LABEL, value=state.label, clearable=False, searchable=False,
                                  options=[{"label": v, "value": k} for k, v in LABEL_CHOICES.items()]),
                     style={"width": "160px"}),
            dcc.Input(id=ids.POSTS_SEARCH, value=state.search, type="search", debounce=True,
                      style={"width": "260px"},
                      placeholder="Text contains..."),
            # A link, not a callback: the file is streamed from the store (every post of the window).
            html.A("Download posts (CSV)", id=ids.DOWNLOAD_BUTTON, download="", className="button-link"),
        ], style=ROW),
        html.Div(id=ids.POSTS_CAPTION, className="caption", role="status"),
        html.Div(render_posts_table(), id=ids.POSTS_TABLE),
        html.H2("What customers say more than usual"),
        html.Div("Words and two-word phrases in these posts, compared with the outage's baseline "
                 "(a sample of up to 3,000 posts from the 14 days before it).", className="caption"),
        html.Div(id=ids.TERMS_TABLE),
        html.Div(_download(ids.TERMS_DOWNLOAD_BUTTON, ids.TERMS_DOWNLOAD, "Download words (CSV)"), style=ROW),
    ], className="tab-body")


def _time_zones() -> list[dict]:
    """UTC first, then every IANA zone this system knows, by name."""
    from zoneinfo import available_timezones

    zones = sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))
    return [{"label": "UTC", "value": "UTC"}, *({"label": z.replace("_", " "), "value": z} for z in zones)]


TIME_ZONES = _time_zones()


def _outages() -> html.Div:
    severities = [{"label": s, "value": s} for s in ("unknown", "minor", "major", "critical", "maintenance")]
    return html.Div([
        html.Div("Select a row to edit, remove or confirm it. Detected candidates count only once confirmed.",
                 className="caption"),
        html.Div(render_table(ids.OUTAGES_DATA, [], OUTAGE_COLUMNS, selectable=True), id=ids.OUTAGES_TABLE),
        html.Div(_download(ids.OUTAGES_DOWNLOAD_BUTTON, ids.OUTAGES_DOWNLOAD, "Download outages (CSV)"),
                 style=ROW),
        html.H2("Add or change a window"),
        html.Div([
            html.Div([html.Label("Time zone of start and end", htmlFor=ids.FORM_TZ),
                      dcc.Dropdown(id=ids.FORM_TZ, value="UTC", clearable=False, searchable=True,
                                   options=TIME_ZONES)]),
            html.Div([html.Label("Start (date and time in that zone)", htmlFor=ids.FORM_START),
                      dcc.Input(id=ids.FORM_START, type="text", placeholder="2026-10-01 18:00",
                                style={"width": "100%"})]),
            html.Div([html.Label("End (blank while ongoing)", htmlFor=ids.FORM_END),
                      dcc.Input(id=ids.FORM_END, type="text", placeholder="2026-10-01 21:30",
                                style={"width": "100%"})]),
            html.Div([html.Label("Label", htmlFor=ids.FORM_LABEL),
                      dcc.Input(id=ids.FORM_LABEL, type="text", placeholder="checkout down",
                                style={"width": "100%"})]),
            html.Div([html.Label("Severity", htmlFor=ids.FORM_SEVERITY),
                      dcc.Dropdown(id=ids.FORM_SEVERITY, value="unknown", options=severities,
                                   clearable=False, searchable=False)]),
        ], className="form-grid"),
        html.Div([
            html.Button("Add window", id=ids.FORM_ADD, n_clicks=0),
            html.Button("Save changes to selected", id=ids.FORM_SAVE, n_clicks=0),
            html.Button("Remove selected", id=ids.FORM_REMOVE, n_clicks=0),
            html.Button("Confirm selected candidate", id=ids.FORM_CONFIRM, n_clicks=0),
            html.Button("Detect candidates", id=ids.FORM_DETECT, n_clicks=0,
                        title="Propose windows where mentions rose well above the usual for that hour"),
        ], style=ROW),
        html.Div([html.Span(id=ids.REMOVE_QUESTION),
                  html.Button("Yes, remove it", id=ids.REMOVE_YES, n_clicks=0),
                  html.Button("Cancel", id=ids.REMOVE_NO, n_clicks=0)],
                 id=ids.REMOVE_BOX, hidden=True, role="group", className="confirm-box"),
        html.Div(id=ids.FORM_MESSAGE, role="status"),
    ], className="tab-body")


def _compare() -> html.Div:
    return html.Div([
        html.Div(id=ids.COMPARE_SUMMARY, className="compare-summary", role="status"),
        html.H2("Share of posts negative, the brand and its competitors", className="chart-title"),
        dcc.Graph(id=ids.COMPARE_SHARE_GRAPH, figure=build_empty_figure("Loading..."),
                  config=chart_config("dipwatch-compare-share"), style={"height": "380px"}),
        html.Div("Solid blue: the brand, with its 95% interval shaded. Dotted: competitors. Orange: the "
                 "outage.", className="caption"),
        html.Details([
            html.Summary("Method: difference in differences on the tone, and every outage aligned"),
            html.Div(id=ids.COMPARE_NOTE, className="caption"),
            dcc.Graph(id=ids.COMPARE_GRAPH, figure=build_empty_figure("Loading..."),
                      config=chart_config("dipwatch-compare")),
            html.Div(id=ids.COMPARE_TABLE),
            html.Div(_download(ids.COMPARE_DOWNLOAD_BUTTON, ids.COMPARE_DOWNLOAD,
                               "Download comparison (CSV)"), style=ROW),
            dcc.Graph(id=ids.EVENT_GRAPH, figure=build_empty_figure("Loading..."),
                      config=chart_config("dipwatch-event-study")),
        ], id=ids.COMPARE_DETAILS, className="analyst"),
    ], className="tab-body")


def render_cards(cards: Sequence[tuple[str, str, str]]) -> list[html.Div]:
    """One box per (title, value, note)."""
    return [
        html.Div([html.Div(title, className="card-title"), html.Div(value, className="card-value"),
                  html.Div(note, className="card-note")], className="metric-card")
        for title, value, note in cards
    ]


def render_status(context: str, status: str) -> list[html.Div]:
    """The status box: which brand and outage, then the status line. (The headline's sentence said
    the same again under it; the incident report, read without the cards, keeps it.)"""
    return [html.Div(context, className="status-context"), html.Div(status, className="status-line")]


def render_warning(text: str | None) -> html.Div | None:
    return html.Div(text, className="sparse-warning") if text else None


def render_posts_table() -> dash_table.DataTable:
    """The posts as a DataTable paged and sorted on the server (``page_action`` and ``sort_action``
    custom): the callback sends one page of the window at a time (see :mod:`dashboard.voices`).
    (An html.Table of 200 rows is 1,400 components, which took Dash's renderer about 15 s to draw
    in headless Chromium.)

    Every column keeps DataTable's default text presentation, so post text is shown as text. Only
    the link column is markdown, and its cells are built here from http(s) URLs with the characters
    markdown could read as syntax percent-encoded (see :func:`markdown_link`).
    """
    with warnings.catch_warnings():
        # Dash 4 warns on every DataTable that it will leave the built-ins for dash-ag-grid, which
        # is not installed here; the warning would repeat on every update. Revisit when Dash 5 lands.
        warnings.filterwarnings("ignore", message=r"(?s).*DataTable will be removed",
                                category=DeprecationWarning)
        return dash_table.DataTable(
            id=ids.POSTS_DATA, columns=posts_columns(POST_HEADERS), data=[],
            markdown_options={"html": False, "link_target": "_blank"},
            page_action="custom", page_current=0, page_size=VOICES_PAGE, page_count=1,
            sort_action="custom", sort_mode="single", sort_by=[],
            style_cell={"textAlign": "left", "whiteSpace": "normal", "height": "auto", "fontSize": "13px",
                        "fontFamily": "inherit", "padding": "4px 6px"},
            style_cell_conditional=[{"if": {"column_id": "text"}, "minWidth": "420px"}],
            style_header={"fontWeight": 600},
        )


def posts_page(rows: Sequence[dict]) -> list[dict]:
    """The table's data for ``rows`` (:func:`dashboard.model.post_row`), links as markdown."""
    return [{**row, "link": markdown_link(row.get("link"))} for row in rows]


def posts_columns(names: Sequence[str]) -> list[dict]:
    return [_column(c) for c in names]


def markdown_link(url: str | None) -> str:
    """``[open](url)`` for an http(s) URL, with spaces, brackets and angle brackets percent-encoded."""
    if not url:
        return ""
    return f"[open]({quote(url, safe=LINK_SAFE)})"


def _column(name: str) -> dict:
    column = {"name": POST_HEADERS.get(name, name), "id": name}
    if name == "link":
        column["presentation"] = "markdown"
    return column


def render_table(table_id: str, rows: Sequence[dict], headers: Mapping[str, str], page_size: int = 25,
                 selectable: bool = False, selected: Sequence[int] = ()) -> dash_table.DataTable:
    """A plain sortable table of ``rows`` with plain-words ``headers`` (column id -> header)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"(?s).*DataTable will be removed",
                                category=DeprecationWarning)
        return dash_table.DataTable(
            id=table_id, columns=[{"name": name, "id": key} for key, name in headers.items()],
            data=list(rows), sort_action="native", page_size=page_size,
            row_selectable="single" if selectable else False, selected_rows=list(selected),
            style_cell={"textAlign": "left", "whiteSpace": "normal", "height": "auto", "fontSize": "13px",
                        "fontFamily": "inherit", "padding": "4px 6px"},
            style_header={"fontWeight": 600},
        )


def render_message(text: str | None, ok: bool = False) -> html.Div | None:
    """An inline result line: an error (names the field) or what was done."""
    return html.Div(text, className="message-ok" if ok else "message-error") if text else None
