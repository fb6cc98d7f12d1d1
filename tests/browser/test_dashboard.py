"""The dashboard in a real headless Chromium, over the demo database, served from a thread."""

from __future__ import annotations

import io
import logging
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard import ids
from dipwatch.config import Settings
from dipwatch.jobs import build_demo
from dipwatch.store import Store

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run"]
SCRIPT_POST = "Bright Mart <script>alert(1)</script> lol"  # demo post bm-019326, 17 Oct, in the cyberattack

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (CI installs it)")
if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
    pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium; CI installs it)",
                allow_module_level=True)
expect = sync_api.expect
# Each callback measures every outage of the brand (about 1 s on the demo): wait longer than the default 5 s.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[tuple[str, io.StringIO]]:
    """The demo dashboard on a free port; yields its base URL and its log."""
    from werkzeug.serving import make_server

    from dashboard.app import create_app

    db_url = "sqlite:///" + str(tmp_path_factory.mktemp("dashboard") / "demo.db")
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    handler.setLevel(logging.INFO)
    loggers = [logging.getLogger("werkzeug"), logging.getLogger("dashboard.app")]
    with Store(db_url) as store:
        build_demo(store)
        app = create_app(Settings(db_url=db_url), store)
        loggers.append(app.server.logger)  # Flask logs callback exceptions here
        for logger in loggers:
            logger.addHandler(handler)
        httpd = make_server("127.0.0.1", 0, app.server, threaded=True)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{httpd.server_port}", log
        finally:
            httpd.shutdown()
            thread.join(timeout=10)
            for logger in loggers:
                logger.removeHandler(handler)


@pytest.fixture
def page(server):
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(accept_downloads=True)
            yield context.new_page()
        finally:
            browser.close()


def card_values(page) -> dict[str, str]:
    titles = page.locator(f"#{ids.CARDS} .card-title").all_inner_texts()
    values = page.locator(f"#{ids.CARDS} .card-value").all_inner_texts()
    return dict(zip(titles, values, strict=True))


def chart(page) -> dict:
    """The rendered figure's title, trace names and total post count, read from plotly's own state."""
    return page.evaluate(
        """id => {
            const plot = document.querySelector('#' + id + ' .js-plotly-plot');
            // _fullData: plotly.js's decoded copy (plotly.py 6+ sends numeric arrays base64-encoded)
            const posts = plot._fullData.find(t => t.name === 'Posts');
            return {title: plot.layout.title.text, traces: plot.data.map(t => t.name),
                    points: posts.y.length, posts: Array.from(posts.y).reduce((a, b) => a + b, 0)};
        }""",
        ids.TIMELINE,
    )


def choose(page, dropdown_id: str, option: str) -> None:
    page.locator(f"#{dropdown_id}").click()
    page.locator(".dash-dropdown-option", has_text=option).first.click()


def test_dashboard_walkthrough(server, page):
    url, log = server
    problems: list[str] = []
    dialogs: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(f"console error: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    try:
        page.goto(url)
        expect(page.locator(f"#{ids.DEMO_NOTE}")).to_have_text("Demo data: these posts are simulated")
    except (AssertionError, sync_api.Error):
        print("--- server log ---\n" + log.getvalue())
        raise
    expect(page).to_have_title("dipwatch")

    # Brightmart opens on its most recent outage: the cyberattack, still ongoing.
    cards = page.locator(f"#{ids.CARDS} .metric-card")
    expect(cards).to_have_count(9, timeout=30_000)
    expect(page.locator(f"#{ids.OUTAGE}")).to_contain_text("Cyberattack: online orders halted")
    expect(cards.filter(has_text="Recovered at")).to_contain_text("ongoing")
    graph = page.locator(f"#{ids.TIMELINE}")
    expect(graph.locator(".gtitle")).to_contain_text("Brightmart")
    expect(graph.locator(".annotation-text", has_text="(ongoing)")).to_have_text(
        "Cyberattack: online orders halted (ongoing)")
    cyberattack = card_values(page)
    first_chart = chart(page)
    assert {"Sentiment (smoothed)", "Bucket mean", "Posts", "Trough"} <= set(first_chart["traces"])
    assert "Recovered" not in first_chart["traces"]  # an ongoing outage has not recovered
    assert cyberattack["Posts during"] != "n/a"
    expect(page.locator(f"#{ids.POSTS_CAPTION}")).to_contain_text("most negative first")

    # A post with markup is shown as literal text, and the CSV download carries it verbatim.
    search = page.locator(f"#{ids.POSTS_SEARCH}")
    search.fill("<script>")
    search.press("Enter")
    text_cell = page.locator(f"#{ids.POSTS_TABLE} td[data-dash-column='text']")
    expect(text_cell).to_have_count(1)
    expect(text_cell).to_have_text(SCRIPT_POST)
    assert page.locator(f"#{ids.POSTS_TABLE} script").count() == 0
    with page.expect_download() as download:
        page.locator(f"#{ids.DOWNLOAD_BUTTON}").click()
    csv_text = Path(download.value.path()).read_text(encoding="utf-8")
    assert csv_text.splitlines()[0] == "time,source,sentiment,label,engagement,text,link"
    assert SCRIPT_POST in csv_text
    assert len(csv_text.splitlines()) == 2
    search.fill("")
    search.press("Enter")
    expect(page.locator(f"#{ids.POSTS_CAPTION}")).to_contain_text("(the first 200)")

    # Another outage: it ended and recovered, so the cards and the chart change.
    choose(page, ids.OUTAGE, "Checkout and payments failing")
    expect(graph.locator(".gtitle")).to_contain_text("Checkout and payments failing")
    recovered_value = cards.filter(has_text="Recovered at").locator(".card-value")
    expect(recovered_value).to_have_text(re.compile(r"\d{4} \d\d:\d\d UTC"))
    checkout = card_values(page)
    assert checkout != cyberattack
    assert checkout["Time to recover"].endswith(" h")
    assert "Recovered" in chart(page)["traces"]

    # The incident report of the selected outage downloads as one self-contained HTML file.
    with page.expect_download() as report:
        page.locator(f"#{ids.REPORT_BUTTON}").click()
    report_html = Path(report.value.path()).read_text(encoding="utf-8")
    assert report.value.suggested_filename.startswith("dipwatch-brightmart-outage-")
    assert "<h1>Brightmart: Checkout and payments failing</h1>" in report_html
    assert "Demo data: these posts are simulated." in report_html

    # Another brand: its own outage list, cards and chart.
    choose(page, ids.BRAND, "Shopwell")
    expect(graph.locator(".gtitle")).to_contain_text("Shopwell")
    expect(page.locator(f"#{ids.OUTAGE}")).to_contain_text("Website not loading")
    expect(cards).to_have_count(9)
    shopwell = card_values(page)
    assert shopwell not in (cyberattack, checkout)
    shopwell_chart = chart(page)
    assert shopwell_chart["posts"] != first_chart["posts"]

    assert dialogs == [], f"a post's markup ran as script: {dialogs}"
    assert problems == [], "\n".join(problems) + "\n--- server log ---\n" + log.getvalue()
