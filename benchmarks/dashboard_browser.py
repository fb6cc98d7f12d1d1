"""The dashboard as a user sees it, in headless Chromium: the first Timeline open on the demo, and the
time to a settled page for every tab at 1,000,000 posts.

1. Demo: a fresh browser (empty cache) lands on the Overview, reads it for ``READ_SECONDS``, then
   opens the Timeline tab; timed from the click to the chart drawn. Also the bytes the whole visit
   transferred, and how long plotly alone takes to draw that chart again (``Plotly.newPlot``, best
   of 3): the part of the open no server or network change can remove.
2. 1M posts (the store of benchmarks/dashboard_callbacks.py, generated there if missing): for each tab
   and each brand/outage pair, a navigation to ``/?brand=..&outage=..&tab=..`` timed to a settled
   page (the tab's content drawn and no component loading), with the server's view cache emptied
   first (the slowest case: the view is measured for that page), in one browser whose HTTP cache is
   warm after the first page, as a returning user's is. Baseline and speedups are served at once and
   opened in turn, page by page. The callbacks' own times, measured in the server, are printed too.

Baseline, from the same run: the same app with compression off, plotly.js loaded by the first chart,
the timeline drawing every bucket, and one layout for every page, whose view is read from the address
by a first round of callbacks before the view's own (``create_app(speedups=False)``: the code path
before them), printed beside each figure.

Usage: python benchmarks/dashboard_browser.py [--runs 5] [--posts 1000000] [--skip-1m]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.dashboard_callbacks import CHROMIUM_ARGS, percentile  # noqa: E402

SETTLED = {
    "overview": "#metric-cards .metric-card",
    "timeline": "#timeline-graph .gtitle",
    "voices": "#posts-table td",
    "outages": "#outages-table td",
    # The event study is in the closed details now: Compare has loaded once its share chart is drawn.
    "compare": "#compare-share-graph .scatterlayer .trace",
}
WAIT_MS = 60_000
READ_SECONDS = 1.5  # between the Overview settling and the click on Timeline, as a reader would


@contextmanager
def serve(db_path: Path, speedups: bool):
    """The dashboard on ``db_path`` from a thread; yields (url, app, callback seconds list)."""
    from flask import g, request
    from werkzeug.serving import make_server

    from dashboard.app import create_app, settle
    from dipwatch.core.config import Settings
    from dipwatch.store import Store

    url = f"sqlite:///{db_path}"
    with Store(url) as store:
        app = create_app(Settings(db_url=url), store, env={}, speedups=speedups)
        settle()
        callbacks: list[float] = []

        @app.server.before_request
        def _start():
            g.began = time.perf_counter()

        @app.server.after_request
        def _stop(response):
            if request.path == "/_dash-update-component":
                callbacks.append(time.perf_counter() - g.began)
            return response

        httpd = make_server("127.0.0.1", 0, app.server, threaded=True)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{httpd.server_port}", app, callbacks
        finally:
            httpd.shutdown()
            thread.join(timeout=10)


def settle_page(page, tab: str) -> None:
    page.wait_for_selector(SETTLED[tab], state="visible", timeout=WAIT_MS)
    page.wait_for_function("() => !document.querySelector('[data-dash-is-loading=\"true\"]')",
                           timeout=WAIT_MS)


def transferred(page) -> int:
    """Bytes the page fetched over the network (compressed where the server compressed)."""
    return page.evaluate("""() => performance.getEntriesByType('navigation')
        .concat(performance.getEntriesByType('resource')).reduce((n, e) => n + e.transferSize, 0)""")


def first_timeline(browser, url: str) -> tuple[float, int]:
    """Seconds from clicking Timeline to its chart, in a fresh context; bytes of the whole visit."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.goto(url + "/")
    settle_page(page, "overview")
    page.wait_for_timeout(READ_SECONDS * 1000)
    began = time.perf_counter()
    page.locator("#tabs .tab", has_text="Timeline").click()
    settle_page(page, "timeline")
    took = time.perf_counter() - began
    size = transferred(page)
    drawing = page.evaluate("""async () => {
        const shown = document.querySelector('#timeline-graph .js-plotly-plot');
        const box = document.createElement('div');
        box.style.width = shown.clientWidth + 'px';
        box.style.height = shown.clientHeight + 'px';
        document.body.appendChild(box);
        let best = Infinity;
        for (let i = 0; i < 3; i++) {
            const began = performance.now();
            await Plotly.newPlot(box, shown.data, shown.layout);
            best = Math.min(best, performance.now() - began);
        }
        return best / 1000;
    }""")
    context.close()
    return took, size, drawing


def demo_figures(browser, db_path: Path, runs: int) -> dict:
    found = {}
    for speedups in (False, True):
        with serve(db_path, speedups) as (url, _app, _callbacks):
            first_timeline(browser, url)  # one unmeasured visit: the server's views and bundles
            results = [first_timeline(browser, url) for _ in range(runs)]
        found[speedups] = ([t for t, _, _ in results], statistics.median(s for _, s, _ in results),
                           statistics.median(d for _, _, d in results))
    return found


class Viewer:
    """One served app and one browser page on it, warmed: the bundles in the browser's cache."""

    def __init__(self, browser, url: str, app, callbacks: list, first_brand: str):
        self.url, self.views, self.callbacks = url, app.server.config["DIPWATCH_VIEWS"], callbacks
        self.times: dict[str, list[float]] = {tab: [] for tab in SETTLED}
        self.context = browser.new_context(viewport={"width": 1366, "height": 900})
        self.page = self.context.new_page()
        self.page.goto(f"{url}/?brand={first_brand}")
        settle_page(self.page, "overview")
        for tab in SETTLED:
            self.page.goto(f"{url}/?tab={tab}")  # each tab's bundles (plotly.js, the table) once
            settle_page(self.page, tab)
        callbacks.clear()

    def open(self, brand: str, outage: int, tab: str) -> None:
        """Time one navigation to a settled page, with the view cache emptied first."""
        self.views.clear()
        began = time.perf_counter()
        self.page.goto(f"{self.url}/?brand={brand}&outage={outage}&tab={tab}")
        settle_page(self.page, tab)
        self.times[tab].append(time.perf_counter() - began)


def view_loads(browser, db_path: Path, targets: list[tuple[str, int]]) -> dict[bool, Viewer]:
    """Both apps served at once and opened in turn, page by page (baseline, then with speedups), so
    a change in the machine's load falls on both alike."""
    with serve(db_path, False) as plain, serve(db_path, True) as fast:
        viewers = {False: Viewer(browser, *plain, targets[0][0]), True: Viewer(browser, *fast, targets[0][0])}
        for brand, outage in targets:
            for tab in SETTLED:
                for viewer in viewers.values():
                    viewer.open(brand, outage, tab)
        for viewer in viewers.values():
            viewer.context.close()
    return viewers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--skip-1m", action="store_true")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from dipwatch.jobs.demo import build_demo
    from dipwatch.store import Store

    out = REPO / "benchmarks" / "out"
    out.mkdir(parents=True, exist_ok=True)
    demo = out / "demo_browser.db"
    if not demo.exists():
        with Store(f"sqlite:///{demo}") as store:
            build_demo(store)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        found = demo_figures(browser, demo, args.runs)
        print(f"demo, first Timeline open (click to chart drawn, empty browser cache, {args.runs} runs):")
        for speedups, label in ((False, "baseline (no speedups)"), (True, "with speedups")):
            times, size, drawing = found[speedups]
            print(f"    {label:26s} median {statistics.median(times):5.2f} s   max {max(times):5.2f} s   "
                  f"{size / 1e6:5.2f} MB transferred for the visit; plotly drawing the chart alone "
                  f"{drawing:4.2f} s")
        if not args.skip_1m:
            million(browser, out, args.posts)
        browser.close()


def million(browser, out: Path, posts: int) -> None:
    from benchmarks.dashboard_callbacks import BRANDS, open_store, relabel_scores
    from dipwatch.measures import measured_windows

    path = out / f"dashboard_{posts}.db"
    store = open_store(path, posts, rebuild=False)
    relabel_scores(store)
    targets = [(b, w.id) for b in BRANDS for w in measured_windows(store.list_outages(b))]
    store.close()
    print(f"{posts:,} posts: navigation to a settled page, empty view cache, {len(targets)} brand/outage "
          "pairs per tab:")
    viewers = view_loads(browser, path, targets)
    for speedups, label in ((False, "baseline (no speedups)"), (True, "with speedups")):
        viewer = viewers[speedups]
        print(f"  {label}:")
        for tab, values in viewer.times.items():
            p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
            print(f"    {tab:10s} p50 {p50:5.2f} s   p95 {p95:5.2f} s")
        callbacks = viewer.callbacks
        print(f"    callbacks ({len(callbacks)}): p50 {percentile(callbacks, 0.5) * 1000:4.0f} ms   "
              f"p95 {percentile(callbacks, 0.95) * 1000:4.0f} ms   max {max(callbacks) * 1000:4.0f} ms")


if __name__ == "__main__":
    main()
