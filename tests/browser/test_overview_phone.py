"""The Overview's status line and chart, the phone layout (390 px), and screenshots of every tab at
desktop and phone width for people to look at (``tests/browser/screenshots/``)."""

from __future__ import annotations

import re

import pytest

from dashboard import ids
from tests.browser.conftest import screenshot
from tests.browser.test_dashboard import CHECKOUT, choose, open_page, open_tab

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (CI installs it)")
expect = sync_api.expect
expect.set_options(timeout=20_000)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
TABS = ["Overview", "Timeline", "Voices", "Outages", "Compare"]
# What each tab shows once it has loaded: the screenshot waits for it.
LOADED = {"Overview": f"#{ids.OVERVIEW_GRAPH} .main-svg", "Timeline": f"#{ids.TIMELINE} .gtitle",
          "Voices": f"#{ids.POSTS_TABLE} td", "Outages": f"#{ids.OUTAGES_TABLE} td",
          "Compare": f"#{ids.EVENT_GRAPH} .gtitle"}
STATUS = f"#{ids.HEADLINE} .status-line"


@pytest.fixture
def phone(browser):
    from tests.browser.conftest import Page

    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    opened = Page(context.new_page())
    opened.page.on("console", lambda m: m.type == "error" and opened.problems.append(f"console: {m.text}"))
    opened.page.on("pageerror", lambda e: opened.problems.append(f"page error: {e}"))
    try:
        yield opened
    finally:
        context.close()


def test_status_line_and_chart_at_an_ongoing_and_a_finished_outage(server, page):
    p = open_page(page, server)
    # Brightmart opens on the cyberattack, ongoing: the status in capitals, the day, plain units.
    expect(p.locator(STATUS)).to_have_text(re.compile(
        r"^ONGOING · day \d+ · \d+% of posts negative \(normal \d+%\) · \d\.\dx volume$"))
    expect(p.locator(f"#{ids.OVERVIEW_GRAPH} .main-svg").first).to_be_visible()
    drawn = drawn_chart(p, ids.OVERVIEW_GRAPH)
    assert {"% of posts negative (smoothed)", "95% interval of the share", "Posts"} <= set(drawn["traces"])
    assert "outage-3" in drawn["shapes"]
    assert "share-baseline" in drawn["shapes"]
    # The plain cards first, each saying one thing; the analyst figures in a closed details section.
    titles = p.locator(f"#{ids.CARDS} .card-title").all_inner_texts()
    assert titles == ["Negative posts", "Volume", "Back to normal", "Excess negative posts"]
    assert not p.locator(f"#{ids.DETAIL_CARDS}").is_visible()
    p.locator(f"#{ids.DETAILS} summary").click()
    expect(p.locator(f"#{ids.DETAIL_CARDS} .metric-card", has_text="Dip depth")).to_be_visible()
    details = p.locator(f"#{ids.DETAIL_CARDS} .card-title").all_inner_texts()
    assert not {"Back to normal", "Recovered at", "Time to recover"} & set(details)  # one recovery story
    # A finished outage: recovered, in the same rounding as the headline and the card.
    choose(p, ids.OUTAGE, CHECKOUT)
    status = p.locator(STATUS)
    expect(status).to_have_text(re.compile(r"^RECOVERED (\d+ h|\d\.\d h|\d+\.\d days) after the fix · "
                                           r"\d+% of posts negative \(normal \d+%\) · \d\.\dx volume$"))
    took = re.match(r"RECOVERED (.+?) after the fix", status.inner_text()).group(1)
    back = p.locator(f"#{ids.CARDS} .metric-card", has_text="Back to normal").locator(".card-value")
    expect(back).to_have_text(f"{took} after the fix")
    # The chart shows the outage's window, not the whole 50 days.
    span = p.evaluate(
        """id => { const l = document.querySelector('#' + id + ' .js-plotly-plot').layout;
                   return (new Date(l.xaxis.range[1]) - new Date(l.xaxis.range[0])) / 3.6e6; }""",
        ids.OVERVIEW_GRAPH)
    assert 48 <= span <= 24 * 10, span
    page.assert_clean(server)


def drawn_chart(page, graph_id: str) -> dict:
    """The rendered figure's trace and shape names, read from plotly's own state."""
    return page.evaluate(
        """id => { const plot = document.querySelector('#' + id + ' .js-plotly-plot');
                   return {traces: plot.data.map(t => t.name),
                           shapes: (plot.layout.shapes || []).map(s => s.name)}; }""",
        graph_id)


def assert_chart_text_fits(p, name: str, graph: str) -> None:
    """The chart's title, subtitle and axis titles lie inside its box and do not overlap."""
    boxes = _boxes(p, graph)
    texts = boxes["title"] + boxes["axes"]
    for text in texts:
        assert _inside(text, boxes["chart"]), (name, graph, text, boxes["chart"])
    for i, a in enumerate(texts):
        for b in texts[i + 1:]:
            assert not _overlap(a, b), (name, graph, a, b)


def _boxes(p, graph_id: str) -> dict:
    """The bounding boxes of a chart, its title and its axis titles, in page pixels."""
    return p.evaluate(
        """id => {
            const root = document.querySelector('#' + id);
            const box = e => { const r = e.getBoundingClientRect();
                               return [r.left, r.top, r.right, r.bottom]; };
            const all = sel => [...root.querySelectorAll(sel)].filter(e => e.textContent.trim())
                                                             .map(box);
            return {chart: box(root.querySelector('.main-svg')), title: all('.gtitle, .gtitle-subtitle'),
                    axes: all('.xtitle, .ytitle, .x2title, .y2title'),
                    notes: all('.annotation-text')};
        }""",
        graph_id,
    )


def _inside(inner, outer) -> bool:
    return inner[0] >= outer[0] - 1 and inner[1] >= outer[1] - 1 and inner[2] <= outer[2] + 1 \
        and inner[3] <= outer[3] + 1


def _overlap(a, b) -> bool:
    return a[0] < b[2] - 1 and b[0] < a[2] - 1 and a[1] < b[3] - 1 and b[1] < a[3] - 1


def test_phone_layout(server, phone):
    p = open_page(phone, server)
    # The status is on the first screen, above the stacked controls.
    top = p.locator(f"#{ids.HEADLINE}").bounding_box()
    assert top["y"] + 40 < PHONE["height"], top
    tabs = p.locator(f"#{ids.TABS} .tab")
    assert max(b["y"] for b in (tabs.nth(i).bounding_box() for i in range(5))) - \
        min(b["y"] for b in (tabs.nth(i).bounding_box() for i in range(5))) < 5  # one compact row
    for name in TABS:
        open_tab(p, name)
        expect(p.locator(LOADED[name]).first).to_be_attached()
        assert p.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name
        if name == "Compare":
            p.locator(f"#{ids.COMPARE_DETAILS} summary").click()  # the method's charts too
            expect(p.locator(f"#{ids.EVENT_GRAPH} .gtitle")).to_be_visible()
            p.wait_for_timeout(500)  # plotly redraws at the width it now has
        graphs = {"Overview": [ids.OVERVIEW_GRAPH], "Timeline": [ids.TIMELINE],
                  "Compare": [ids.COMPARE_SHARE_GRAPH, ids.COMPARE_GRAPH, ids.EVENT_GRAPH]}
        for graph in graphs.get(name, []):
            assert_chart_text_fits(p, name, graph)
        if name == "Outages":
            # Whether each outage is over, how bad and how long: on the screen without scrolling.
            for column in ("label", "status", "share_during_pct", "time_to_recover_h"):
                box = p.locator(f"#{ids.OUTAGES_TABLE} td[data-dash-column='{column}']").first.bounding_box()
                assert box["x"] + box["width"] <= PHONE["width"], (column, box)
        if name == "Voices":
            cell = p.locator(f"#{ids.POSTS_TABLE} td[data-dash-column='text']").first
            box = cell.bounding_box()
            assert box["x"] >= 0, box
            assert box["x"] + min(box["width"], 100) <= PHONE["width"], box
    # All data at 15 minutes is too many points: the timeline is bounded around the outage and says
    # so in a subtitle. (Around the outage, only the buckets near it are sent, and all of them fit.)
    p.goto(server.url + "/?tab=timeline&bucket=15min&period=all")
    expect(p.locator(f"#{ids.TIMELINE} .gtitle-subtitle")).to_contain_text("1 day shows all")
    assert_chart_text_fits(p, "Timeline at 15 min", ids.TIMELINE)
    phone.assert_clean(server)


@pytest.mark.parametrize(("size", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_screenshots_of_every_tab(server, browser, size, viewport):
    """Writes ``<tab>-<size>.png`` for people to look at; fails only if a tab does not load."""
    context = browser.new_context(viewport=viewport, device_scale_factor=1)
    try:
        p = context.new_page()
        p.goto(server.url + "/")
        expect(p.locator(STATUS)).to_contain_text(re.compile(r"\w"), timeout=40_000)
        for name in TABS:
            open_tab(p, name)
            expect(p.locator(LOADED[name]).first).to_be_attached()
            p.wait_for_timeout(400)  # plotly's transitions
            screenshot(p, f"{name.lower()}-{size}")
    finally:
        context.close()
