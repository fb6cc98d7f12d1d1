"""The HTML incident report opened in headless Chromium with every network request refused."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run"]
SCRIPT_POST = "Acme <script>window.pwned = 1</script> is down, awful and useless"

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (CI installs it)")
if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
    pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium; CI installs it)",
                allow_module_level=True)


def test_report_renders_its_chart_offline_and_shows_posts_as_text(cli_run, write, tmp_path):
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    lines = ["id,created_at,text"]
    for hour in range(96):
        text = "Acme is down and terrible" if hour >= 90 else "Acme is lovely"
        lines += [f"p{hour}-{i},{(t0 + timedelta(hours=hour, minutes=5 * i)).isoformat()},{text}"
                  for i in range(3)]
    lines.append(f'x1,{(t0 + timedelta(hours=91)).isoformat()},"{SCRIPT_POST}"')
    write("posts.csv", "\n".join(lines) + "\n")
    assert cli_run(["import", "posts.csv", "--brand", "acme"]).exit_code == 0
    start = (t0 + timedelta(hours=90)).isoformat()
    assert cli_run(["outages", "add", "--brand", "acme", "--start", start, "--label", "<b>site</b> down"]
                   ).exit_code == 0
    result = cli_run(["report", "--brand", "acme", "--html", "-o", "report.html"])
    assert result.exit_code == 0, result.output
    report = tmp_path / "report.html"

    outside: list[str] = []
    errors: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context()

        def refuse(route):
            if route.request.url.startswith("file:"):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        context.route("**/*", refuse)
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(report.as_uri())
        sync_api.expect(page.locator(".js-plotly-plot .main-svg").first).to_be_visible(timeout=20_000)
        sync_api.expect(page.locator("h1")).to_have_text("acme: <b>site</b> down")
        sync_api.expect(page.locator("td.text", has_text="<script>")).to_have_text(SCRIPT_POST)
        assert page.evaluate("window.pwned") is None  # the post's script never ran
        # The report leads with the share of negative posts, as the dashboard does.
        # The posts stopped at hour 96 (months before the clock's now), and the status says so.
        assert page.locator(".status").inner_text().startswith("NO DATA · day ")
        assert re.match(r"\d+% of posts negative during the outage \(normal \d+%\)",
                        page.locator(".headline").inner_text())
        # The chart shows the outage (hours 90-96) with two days before it, not all four days.
        shown = page.evaluate("""() => { const l = document.querySelector('.js-plotly-plot').layout;
                                         return [l.xaxis.range[0], l.xaxis.range[1],
                                                 l.shapes.find(s => s.name.startsWith('outage')).x0]; }""")
        first, last, outage_start = (datetime.fromisoformat(t).replace(tzinfo=UTC) for t in shown)
        assert first == t0 + timedelta(hours=90 - 48)
        assert t0 + timedelta(hours=95) <= last <= t0 + timedelta(hours=96 + 6)
        assert first < outage_start < last
        # Labels do not collide: one annotation (the outage's) and no chart title to run into.
        assert page.evaluate("document.querySelectorAll('.js-plotly-plot .annotation').length") == 1
        # Readable on a phone: nothing wider than the screen.
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(300)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        browser.close()
    assert outside == []
    assert errors == []
    # Smaller while still opening offline: plotly.js gzipped inline, 2.0 MB instead of 4.8 MB.
    assert report.stat().st_size < 2_300_000
