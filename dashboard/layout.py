"""The page: header, controls, metric cards, the timeline and the posts of the selected outage.

Also the small renderers callbacks use to turn model data into components. Post text is always
passed as a plain string child, which React renders as text: never markdown, never HTML.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from urllib.parse import quote

from dash import dash_table, dcc, html

from analysis.params import BUCKETS
from dashboard import ids
from dashboard.figures import build_empty_figure

BUCKET_LABELS = {"15min": "15 min", "1h": "1 h", "1d": "1 day"}
LINK_SAFE = ":/?#@!$&'*+,;=%~-._"  # URL characters kept as they are; ( ) [ ] < > and spaces are encoded
POST_HEADERS = {"time": "Time (UTC)", "source": "Source", "sentiment": "Sentiment", "label": "Label",
                "engagement": "Engagement", "text": "Text", "link": "Link"}

PAGE = {"fontFamily": "system-ui, -apple-system, 'Segoe UI', sans-serif", "maxWidth": "1280px",
        "margin": "0 auto", "padding": "0 16px 32px", "color": "#222"}
DEMO_NOTE = {"background": "#fff3cd", "border": "1px solid #e0c36c", "padding": "6px 10px",
             "borderRadius": "4px", "display": "inline-block"}
CONTROLS = {"display": "flex", "gap": "24px", "flexWrap": "wrap", "alignItems": "flex-end",
            "marginBottom": "16px"}
CARD_ROW = {"display": "grid", "gridTemplateColumns": "repeat(auto-fill, minmax(180px, 1fr))", "gap": "10px"}
# Styles repeated per card live in one stylesheet (app.py puts it in the page), not inline on each.
STYLESHEET = """
.metric-card { border: 1px solid #ddd; border-radius: 6px; padding: 8px 12px; background: #fafafa; }
.card-title { font-size: 13px; color: #555; }
.card-value { font-size: 22px; font-weight: 600; margin: 2px 0; }
.card-note { font-size: 12px; color: #666; }
.sparse-warning { background: #f8d7da; border: 1px solid #d9534f; padding: 6px 10px; border-radius: 4px;
                  margin: 10px 0; }
"""


def build_layout(brands: Mapping, default_brand: str | None, demo_note: str | None) -> html.Div:
    """The whole page.

    :param brands: brand key -> brand (anything with a ``name``), in display order.
    :param default_brand: the brand selected on load (None when there are no brands).
    :param demo_note: shown in the header when the store holds simulated demo data.
    """
    header = [html.H1("dipwatch", style={"marginBottom": "4px"}),
              html.Div("How customers' public sentiment dipped during each outage, and when it recovered.",
                       style={"color": "#555", "marginBottom": "8px"})]
    if demo_note:
        header.append(html.Div(demo_note, id=ids.DEMO_NOTE, style=DEMO_NOTE))
    controls = html.Div([
        html.Div([html.Label("Brand", htmlFor=ids.BRAND),
                  dcc.Dropdown(id=ids.BRAND, value=default_brand,
                               options=[{"label": b.name, "value": k} for k, b in brands.items()],
                               clearable=False, searchable=False)],
                 style={"width": "220px"}),
        html.Div([html.Label("Outage", htmlFor=ids.OUTAGE),
                  dcc.Dropdown(id=ids.OUTAGE, options=[], value=None, clearable=False, searchable=False,
                               placeholder="No outages recorded")],
                 style={"flex": "1", "minWidth": "320px"}),
        html.Div([html.Label("Bucket"),
                  dcc.RadioItems(id=ids.BUCKET, value="1h", inline=True,
                                 options=[{"label": BUCKET_LABELS[b], "value": b} for b in BUCKETS],
                                 inputStyle={"marginRight": "4px", "marginLeft": "10px"})]),
        html.Div([html.Button("Incident report (HTML)", id=ids.REPORT_BUTTON, n_clicks=0,
                              title="One self-contained file to forward: headline, cards, chart, posts"),
                  dcc.Download(id=ids.REPORT_DOWNLOAD)], style={"alignSelf": "flex-end"}),
    ], style=CONTROLS)
    return html.Div([
        html.Header(header, style={"marginBottom": "16px"}),
        controls,
        html.Div(id=ids.CARDS, style=CARD_ROW),
        html.Div(id=ids.SPARSE_WARNING),
        dcc.Graph(id=ids.TIMELINE, figure=build_empty_figure("Loading..."), config={"displaylogo": False}),
        html.H2("Posts in the outage window", style={"fontSize": "18px"}),
        html.Div([
            dcc.Input(id=ids.POSTS_SEARCH, type="search", debounce=True, style={"width": "280px"},
                      placeholder="Filter: text contains..."),
            html.Button("Download CSV", id=ids.DOWNLOAD_BUTTON, n_clicks=0),
            dcc.Download(id=ids.DOWNLOAD),
        ], style={"display": "flex", "gap": "12px", "marginBottom": "8px"}),
        html.Div(id=ids.POSTS_CAPTION, style={"fontSize": "13px", "color": "#555", "marginBottom": "6px"}),
        html.Div(id=ids.POSTS_TABLE),
    ], style=PAGE)


def render_cards(cards: Sequence[tuple[str, str, str]]) -> list[html.Div]:
    """One box per (title, value, note)."""
    return [
        html.Div([html.Div(title, className="card-title"), html.Div(value, className="card-value"),
                  html.Div(note, className="card-note")], className="metric-card")
        for title, value, note in cards
    ]


def render_warning(text: str | None) -> html.Div | None:
    return html.Div(text, className="sparse-warning") if text else None


def render_posts_table(rows: Sequence[dict], columns: Sequence[str]) -> dash_table.DataTable:
    """The posts as a DataTable: one component with the rows as data. (An html.Table of 200 rows is
    1,400 components, which took Dash's renderer about 15 s to draw in headless Chromium.)

    Every column keeps DataTable's default text presentation, so post text is shown as text. Only
    the link column is markdown, and its cells are built here from http(s) URLs with the characters
    markdown could read as syntax percent-encoded (see :func:`markdown_link`).
    """
    with warnings.catch_warnings():
        # Dash 4 warns on every DataTable that it will leave the built-ins for dash-ag-grid, which
        # is not installed here; the warning would repeat on every update. Revisit when Dash 5 lands.
        warnings.filterwarnings("ignore", message=r"(?s).*DataTable will be removed",
                                category=DeprecationWarning)
        return _posts_table(rows, columns)


def _posts_table(rows: Sequence[dict], columns: Sequence[str]) -> dash_table.DataTable:
    return dash_table.DataTable(
        id=ids.POSTS_DATA,
        columns=[_column(c) for c in columns],
        data=[{**row, "link": markdown_link(row.get("link"))} for row in rows],
        markdown_options={"html": False, "link_target": "_blank"},
        page_size=50,
        style_cell={"textAlign": "left", "whiteSpace": "normal", "height": "auto", "fontSize": "13px",
                    "fontFamily": "inherit", "padding": "4px 6px"},
        style_cell_conditional=[{"if": {"column_id": "text"}, "minWidth": "420px"}],
        style_header={"fontWeight": 600},
    )


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
