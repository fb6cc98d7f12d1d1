"""The incident report: one self-contained HTML file a comms team can forward.

Its chart is the dashboard Overview's (the outage's window, not all the data), drawn by plotly.js
inlined in the file, so it opens with no network at all. plotly.js is inlined gzipped and base64
encoded and unpacked by the browser's own ``DecompressionStream``: 2.0 MB instead of 4.8 MB (every
current browser has it: Chrome 80, Firefox 113, Safari 16.4). Every piece of text from posts, labels
and brand names is HTML-escaped; the figure goes in as JSON with ``<`` escaped.
"""

from __future__ import annotations

import base64
import gzip
import html
import json
from collections.abc import Sequence
from datetime import datetime
from functools import cache

from analysis.headline import headline, status_line
from dashboard import model
from dashboard.window_figures import build_overview_figure

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2933; margin: 2rem auto;
       max-width: 1100px; padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
.headline { font-size: 1.15rem; background: #f0f4f8; border-left: 4px solid #0b4f8a; padding: .7rem 1rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: .6rem; }
.card { border: 1px solid #d9e2ec; border-radius: 6px; padding: .5rem .7rem; }
.card .title { font-size: .8rem; color: #52606d; } .card .value { font-size: 1.3rem; font-weight: 600; }
.card .note { font-size: .75rem; color: #52606d; }
.warning { background: #fff4e5; border: 1px solid #f0b429; padding: .5rem .8rem; border-radius: 6px; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; }
th, td { border-bottom: 1px solid #d9e2ec; padding: .3rem .4rem; text-align: left; vertical-align: top; }
td.text { white-space: pre-wrap; word-break: break-word; }
.muted { color: #52606d; font-size: .85rem; }
.scroll { overflow-x: auto; }
.status { font-size: 1.2rem; font-weight: 700; margin: .8rem 0 .2rem; }
.chart { width: 100%; height: 420px; }
details { margin-top: 1rem; } summary { cursor: pointer; font-weight: 600; }
@media (max-width: 700px) {
  body { margin: .8rem auto; font-size: .95rem; }
  h1 { font-size: 1.25rem; } .status { font-size: 1.05rem; } .headline { font-size: 1rem; }
  .cards { grid-template-columns: 1fr 1fr; }
  table { font-size: .78rem; } .wide { display: none; }
}
"""
# Unpacks plotly.js (gzip, base64) and draws every chart of the page once it is loaded.
LOADER = """(async () => {
  const packed = document.getElementById("plotly-gz").textContent;
  const bytes = Uint8Array.from(atob(packed), c => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  (0, eval)(await new Response(stream).text());
  for (const node of document.querySelectorAll("div.chart")) {
    const figure = JSON.parse(document.getElementById(node.dataset.figure).textContent);
    Plotly.newPlot(node, figure.data, figure.layout, {displaylogo: false, responsive: true});
  }
})();"""

METHOD = """
<p>Every post is scored by VADER (vaderSentiment) plus an outage lexicon ("is down", "can't log in",
"back up"...): a compound score from -1 to +1; a post at or below -0.05 counts as negative. Posts are
counted in buckets; the <b>smoothed sentiment</b> is the post-weighted mean over a trailing window of
buckets. The <b>baseline</b> is the days before the outage, leaving out other outages and a margin
around them. The <b>trough</b> is the lowest smoothed sentiment from the start until three days after
the end; <b>dip depth</b> is baseline minus trough. <b>Recovered at</b> is the first time after the end
from which sentiment stays within one baseline SD of the baseline mean for six hours.
<b>Sentiment-hours lost</b> adds up the shortfall below baseline, hour by hour, until recovery.
<b>Volume lift</b> is posts per hour during the outage over the baseline's. A figure resting on fewer
than 30 posts is marked as sparse. The <b>difference in differences</b> compares the brand's change
from its baseline with a competitor's over the same window; a competitor that dipped too is no clean
control.</p>
"""


def _e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def build_report_html(view, metrics, outage, comparisons: Sequence, posts: Sequence[dict],
                      generated_at: datetime, freshness: Sequence[dict], demo: bool = False,
                      interval: dict | None = None, names: dict | None = None) -> str:
    """The whole report as one HTML string.

    :param view: the brand's :class:`dipwatch.measures.BrandView`.
    :param metrics: the outage's :class:`OutageMetrics`.
    :param comparisons: :class:`analysis.compare.Comparison` per competitor.
    :param posts: rows from :func:`dashboard.model.window_posts` (most negative first).
    :param freshness: ``store.collect_status`` rows: when each source last collected.
    :param names: brand key -> display name, for the competitors.
    """
    window = model.overview_window(outage, view.now, metrics.share_recovered_at, metrics.last_post_at)
    figure = build_overview_figure(view.series, outage, metrics, window, view.params.recovery_sd)
    chart = ('<div class="chart" data-figure="chart-figure"></div>'
             f'<script type="application/json" id="chart-figure">{_json(figure)}</script>'
             f'<script type="text/plain" id="plotly-gz">{packed_plotly()}</script><script>{LOADER}</script>')
    title = f"{view.brand.name}: {outage.label}"
    plain, details = model.overview_cards(metrics, interval)
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)} - dipwatch incident report</title><style>{STYLE}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="muted">Incident report by dipwatch, generated {_e(model.fmt_time(generated_at))}; '
        f"figures as of {_e(model.fmt_time(view.now))}. Outage: {_e(model.outage_label(outage))}, "
        f"severity {_e(outage.severity)}.</p>",
    ]
    if demo:
        parts.append('<p class="warning">Demo data: these posts are simulated.</p>')
    parts.append(f'<p class="status">{_e(status_line(metrics, view.now))}</p>')
    parts.append(f'<p class="headline">{_e(headline(metrics))}</p>')
    warning = model.sparse_warning(metrics)
    if warning:
        parts.append(f'<p class="warning">{_e(warning)}</p>')
    parts += [_cards(plain), f"<h2>{_e(model.OVERVIEW_CHART_TITLE)}</h2>", chart,
              f'<p class="muted">{_e(model.OVERVIEW_CHART_KEY)}</p>']
    if details:
        parts += [f"<details><summary>{_e(model.ANALYST_SUMMARY)}</summary>", _cards(details), "</details>"]
    parts.append("<h2>Compared with competitors</h2>")
    if comparisons:
        names = names or {}
        parts.append(f"<p>{_e(model.compare_summary(view.brand.name, metrics, comparisons, names))}</p>")
        parts.append('<details><summary>Method: difference in differences on the tone</summary>'
                     '<div class="scroll"><table><tr><th>Competitor</th><th>Brand\'s change</th>'
                     "<th>Competitor's change</th><th>Difference in differences</th><th>Competitor's dip</th>"
                     "<th>Note</th></tr>")
        for c in comparisons:
            parts.append(
                f"<tr><td>{_e(names.get(c.competitor, c.competitor))}</td>"
                f"<td>{_e(model.fmt_number(c.brand_change))}</td>"
                f"<td>{_e(model.fmt_number(c.competitor_change))}</td><td>{_e(model.fmt_number(c.did))}</td>"
                f"<td>{_e(model.fmt_number(c.metrics.dip_depth))}</td><td>{_e(c.note or '')}</td></tr>")
        parts.append("</table></div></details>")
    else:
        parts.append('<p class="muted">No competitors are configured for this brand.</p>')
    parts.append(f"<h2>What customers said (the {len(posts)} most negative posts of the window)</h2>")
    parts.append('<table><tr><th>Time (UTC)</th><th class="wide">Source</th><th class="wide">Sentiment</th>'
                 "<th>Post</th></tr>")
    for row in posts:
        parts.append(f"<tr><td>{_e(row['time'])}</td><td class=\"wide\">{_e(row['source'])}</td>"
                     f"<td class=\"wide\">{_e(row['sentiment'])}</td>"
                     f"<td class=\"text\">{_e(row['text'])}</td></tr>")
    parts.append("</table>")
    parts.append("<h2>Method</h2>" + METHOD)
    parts.append("<h2>Data</h2>")
    if freshness:
        parts.append("<ul>" + "".join(
            f"<li>{_e(r['source'])} for {_e(r['brand'])}: last collected "
            f"{_e(model.fmt_time(r['last_ok']))}</li>" for r in freshness) + "</ul>")
    else:
        parts.append('<p class="muted">Posts were imported from files; no scheduled collection has run.</p>')
    parts.append("</body></html>")
    return "\n".join(parts)


def _cards(cards: Sequence[tuple[str, str, str]]) -> str:
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="title">{_e(title)}</div><div class="value">{_e(value)}</div>'
        f'<div class="note">{_e(note)}</div></div>' for title, value, note in cards) + "</div>"


def _json(figure: dict) -> str:
    """The figure as JSON safe inside a ``<script>``: no ``</script>`` or comment can close it early."""
    return json.dumps(figure).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@cache
def packed_plotly() -> str:
    """plotly.js, gzipped and base64-encoded (about 0.6 s, once per process)."""
    from plotly.offline import get_plotlyjs

    return base64.b64encode(gzip.compress(get_plotlyjs().encode("utf-8"), 9, mtime=0)).decode("ascii")


def incident_report(settings, store, brand, outage_id: int | None = None, now: datetime | None = None,
                    top_posts: int = 25, resamples: int = 200, seed: int = 0) -> tuple[str, str]:
    """Measure ``brand``'s outage (default: the most recent) and return ``(file name, html)``.

    :raises ValueError: when the brand has no such outage.
    """
    from datetime import UTC

    from dipwatch.measures import brand_view, competitor_comparisons, known_brands

    view = brand_view(settings, store, brand, now=now)
    if outage_id is None:
        outage_id = model.default_outage(view.outages)
    outage = next((o for o in view.outages if o.id == outage_id), None)
    if outage is None:
        raise ValueError(f"--outage: brand {brand.key!r} has no outage {outage_id} "
                         "(see `dipwatch outages list`)")
    metrics = model.metrics_for(view, outage.id)
    posts = model.window_posts(store, brand.key, outage, limit=top_posts, now=view.now)
    comparisons = competitor_comparisons(settings, store, view, outage)
    freshness = [r for r in store.collect_status(view.now) if r["brand"] == brand.key]
    interval = None
    if resamples:
        from dataclasses import replace

        from dipwatch.measures import interval_records

        only = replace(view, metrics=[metrics])
        interval = interval_records(only, store, settings, resamples=resamples, seed=seed,
                                    voice=view.params.one_author_one_voice).get(outage.id)
    text = build_report_html(view, metrics, outage, comparisons, posts, datetime.now(UTC), freshness,
                             demo=store.get_meta("demo") is not None, interval=interval,
                             names={key: b.name for key, b in known_brands(settings, store).items()})
    return f"dipwatch-{brand.key}-outage-{outage.id}.html", text
