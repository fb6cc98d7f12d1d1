"""Dashboard latency and first-load size on 1,000,000 posts over 90 days for 5 brands.

Generates the posts straight into a SQLite store with ``store.save_posts`` in big batches (random but
plausible scores: no VADER on 1M texts), then, through the Flask test client of the Dash server,
times the callbacks a user sets off when switching brand and outage (POST ``/_dash-update-component``
with the payload the browser sends), and sums the bytes the first page load transfers.

Baseline, measured in the same run: one bare ``store.load_scores`` of the brand's posts (the least any
view of the brand must read), so the latencies are also printed as ratios of it.

Usage: python benchmarks/dashboard_callbacks.py [--posts N] [--rounds N] [--rebuild]
The database is kept in benchmarks/out/ (gitignored) and reused when it has the right size.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from analysis.sentiment import scorer_id  # noqa: E402
from dipwatch.core.records import Post  # noqa: E402
from dipwatch.store import ScoredPost, Store  # noqa: E402

BRANDS = ["alpha", "bravo", "charlie", "delta", "echo"]
DAYS = 90
END = datetime(2026, 9, 1, tzinfo=UTC)
BATCH = 50_000
SOURCES = ["reddit", "hackernews", "bluesky", "mastodon", "appstore"]
WORDS = """
site down again can't log in checkout failing great prices delivery late love the app refund please
working again finally back up terrible service staff were lovely
""".split()  # noqa: SIM905


def outages_of(brand_index: int) -> list[tuple[datetime, datetime | None, str]]:
    """Three windows per brand, spread over the 90 days; the last brand's latest one is ongoing."""
    start = END - timedelta(days=DAYS)
    windows = []
    for n, day in enumerate((30 + brand_index * 3, 55 + brand_index * 2, 80 + brand_index)):
        begin = start + timedelta(days=day, hours=18)
        end = None if (brand_index == len(BRANDS) - 1 and n == 2) else begin + timedelta(hours=6 + 10 * n)
        windows.append((begin, end, f"Outage {n + 1}"))
    return windows


def generate(store: Store, total: int) -> None:
    """``total`` posts over ``DAYS`` days, evenly over the brands, dipping during their outages."""
    rng = random.Random(6)
    scorer = scorer_id()
    start = END - timedelta(days=DAYS)
    span = (END - start).total_seconds()
    per_brand = total // len(BRANDS)
    for b, brand in enumerate(BRANDS):
        store.ensure_brand(brand, brand.title(), [brand], origin="import",
                           competitors=[BRANDS[(b + 1) % len(BRANDS)]])
        windows = outages_of(b)
        store.add_outages([{"brand": brand, "start": s, "end": e, "label": label, "severity": "major",
                            "origin": "manual"} for s, e, label in windows])
        batch: list[ScoredPost] = []
        for i in range(per_brand):
            created = start + timedelta(seconds=rng.random() * span)
            during = any(s <= created < (e or END) for s, e, _ in windows)
            mean = -0.45 if during else 0.12
            compound = max(-1.0, min(1.0, rng.gauss(mean, 0.45)))
            neg = max(0.0, -compound) * 0.6
            pos = max(0.0, compound) * 0.6
            post = Post(source=SOURCES[i % len(SOURCES)], post_id=f"{brand}-{i}", created_at=created,
                        text=f"{brand} " + " ".join(rng.choices(WORDS, k=8)), author=None,
                        url=f"https://example.org/{brand}/{i}", engagement=rng.randrange(50))
            batch.append(ScoredPost(post, f"a{rng.randrange(40_000)}", [(brand, brand)],
                                    (round(compound, 4), pos, 1 - pos - neg, neg)))
            if len(batch) >= BATCH:
                store.save_posts(batch, scorer)
                batch = []
        store.save_posts(batch, scorer)
    store.set_meta("as_of", END.isoformat())


def open_store(path: Path, total: int, rebuild: bool) -> Store:
    if rebuild and path.exists():
        path.unlink()
    store = Store(f"sqlite:///{path}")
    if store.count_posts() != total:
        store.close()
        path.unlink(missing_ok=True)
        store = Store(f"sqlite:///{path}")
        began = time.perf_counter()
        generate(store, total)
        print(f"generated {total:,} posts in {time.perf_counter() - began:.0f} s -> {path}")
    return store


def relabel_scores(store: Store) -> None:
    """Give the generated scores the current scorer id (a lexicon change renames the scorer; the
    scores here are random anyway), so a kept database stays usable."""
    import sqlalchemy as sa

    with store.engine.begin() as conn:
        changed = conn.execute(sa.text("UPDATE scores SET scorer = :s WHERE scorer != :s"),
                               {"s": scorer_id()}).rowcount
    if changed:
        store.rebuild_rollup()  # the rollup is keyed by scorer too


class Client:
    """Fires the dashboard's callbacks as the browser does: POST /_dash-update-component."""

    def __init__(self, app):
        self.app, self.http = app, app.server.test_client()
        self.values: dict[tuple[str, str], object] = {}

    def fire(self, name: str, changed: list[str]) -> tuple[float, dict]:
        """Run the callback whose outputs include ``name`` (``id.property``); return seconds and its
        response, after storing the values it set."""
        key, spec = next((k, v) for k, v in self.app.callback_map.items() if name in k)
        outputs = [{"id": o.component_id, "property": o.component_property} for o in spec["output"]] \
            if isinstance(spec["output"], list) else {"id": spec["output"].component_id,
                                                       "property": spec["output"].component_property}
        payload = {
            "output": key, "outputs": outputs, "changedPropIds": changed,
            "inputs": [{**i, "value": self.values.get((i["id"], i["property"]))} for i in spec["inputs"]],
            "state": [{**s, "value": self.values.get((s["id"], s["property"]))} for s in spec["state"]],
        }
        began = time.perf_counter()
        response = self.http.post("/_dash-update-component", json=payload)
        took = time.perf_counter() - began
        if response.status_code == 204:
            return took, {}
        assert response.status_code == 200, response.get_data(as_text=True)[-2000:]
        body = response.get_json()["response"]
        for component, props in body.items():
            for prop, value in props.items():
                self.values[(component, prop)] = value
        return took, body


CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def switch(client: Client, brand: str, outage: int | None) -> dict[str, float]:
    """One user switch: the state callback, then what it sets off on the Overview tab."""
    from dashboard import ids

    times = {}
    client.values[(ids.BRAND, "value")] = brand
    client.values[(ids.OUTAGE, "value")] = outage
    changed = [f"{ids.OUTAGE}.value"] if outage is not None else [f"{ids.BRAND}.value"]
    times["state"], _ = client.fire(f"{ids.URL}.search", changed)
    changed = [f"{ids.BRAND}.value", f"{ids.OUTAGE}.value"]
    times["overview"], _ = client.fire(f"{ids.HEADLINE}.children", changed)
    times["live"], _ = client.fire(f"{ids.LIVE}.disabled", changed)
    times["freshness"], _ = client.fire(f"{ids.FRESHNESS}.children", changed)
    return times


def first_load(url: str, query: str) -> tuple[int, int, int]:
    """Bytes a headless Chromium downloads to show ``url + query`` (raw, and gzip-compressed as a
    reverse proxy would send them), and the number of requests."""
    import gzip

    from playwright.sync_api import sync_playwright

    sizes: list[tuple[int, int]] = []

    def record(response):
        try:
            body = response.body()
        except Exception:  # a redirect or an aborted request has no body
            return
        sizes.append((len(body), len(gzip.compress(body, 6))))

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                     args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.on("response", record)
        page.goto(url + "/" + query, wait_until="networkidle")
        page.wait_for_timeout(1500)
        browser.close()
    return sum(r for r, _ in sizes), sum(g for _, g in sizes), len(sizes)


def other_tabs(client: Client, views, targets: list) -> None:
    """The other tabs' callbacks, each on a cold cache (the first look after a switch)."""
    from dashboard import ids

    tabs = {
        "timeline figure": ("timeline", f"{ids.TIMELINE}.figure"),
        "voices posts and words": ("voices", f"{ids.POSTS_CAPTION}.children"),
        "compare and event study": ("compare", f"{ids.COMPARE_NOTE}.children"),
        "outages table": ("outages", f"{ids.OUTAGES_DATA}.data"),
        "sources filter options": ("overview", f"{ids.SOURCES}.options"),
    }
    changed = [f"{ids.BRAND}.value", f"{ids.OUTAGE}.value", f"{ids.TABS}.value"]
    per_tab: dict[str, list[float]] = {name: [] for name in tabs}
    for brand, outage in targets:
        switch(client, brand, outage)
        for name, (tab, output) in tabs.items():
            views.clear()
            client.values[(ids.TABS, "value")] = tab
            took, _ = client.fire(output, changed)
            per_tab[name].append(took)
    client.values[(ids.TABS, "value")] = "overview"
    print(f"other callbacks, cold cache ({len(targets)} brand/outage pairs each):")
    for name, values in per_tab.items():
        print(f"    {name:24s} p50 {percentile(values, 0.5) * 1000:7.0f} ms   "
              f"p95 {percentile(values, 0.95) * 1000:7.0f} ms")


def series_alone(store: Store, baseline: float) -> None:
    """The series as the store reads it, one brand over its 90 days (the goal: under 50 ms)."""
    from dipwatch.core.params import MetricParams
    from dipwatch.measures import load_series

    params = MetricParams()
    took = []
    for brand in BRANDS * 4:
        span = store.time_range(brand)
        began = time.perf_counter()
        load_series(store, brand, params, span[0], END)
        took.append(time.perf_counter() - began)
    p50, p95 = percentile(took, 0.5), percentile(took, 0.95)
    print(f"series of one brand, 90 days hourly, one author one voice: p50 {p50 * 1000:.1f} ms, "
          f"p95 {p95 * 1000:.1f} ms (= {p50 / baseline:.3f}x the baseline)")


def cold_breakdown(views, baseline: float) -> None:
    """Where a cold switch spends its time: measuring the brand, then building its timeline figure."""
    from plotly.io.json import to_json_plotly

    from dashboard.figures import build_timeline_figure

    views.clear()
    brand = BRANDS[0]
    began = time.perf_counter()
    view = views.view(brand, "1h")
    measured = time.perf_counter() - began
    began = time.perf_counter()
    figure = build_timeline_figure(view.series, view.outages, view.metrics, view.outages[0].id, brand)
    figure_s = time.perf_counter() - began
    print(f"cold measure of one brand (load votes, one voice, bucket, metrics): {measured * 1000:.0f} ms "
          f"= {measured / baseline:.1f}x the baseline; timeline figure build {figure_s * 1000:.0f} ms, "
          f"{len(to_json_plotly(figure)) / 1e6:.2f} MB of JSON")


def run(store: Store, args) -> None:
    import threading

    from werkzeug.serving import make_server

    from dashboard.app import create_app, settle
    from dipwatch.core.config import Settings
    from dipwatch.measures import measured_windows

    settings = Settings(db_url=store.url)
    app = create_app(settings, store, env={})
    settle()  # as `dipwatch dashboard` and the WSGI entry point do
    views = app.server.config["DIPWATCH_VIEWS"]
    client = Client(app)
    targets = [(b, w.id) for b in BRANDS for w in measured_windows(store.list_outages(b))]

    # Baseline: the least any view of a brand must do, read its scored posts.
    bare = []
    for brand in BRANDS:
        began = time.perf_counter()
        rows = store.load_scores(brand, scorer_id())
        bare.append(time.perf_counter() - began)
    baseline = statistics.median(bare)
    print(f"posts per brand: {len(rows):,}; baseline store.load_scores of one brand: "
          f"median {baseline * 1000:.0f} ms")

    for mode in ("cold", "warm"):
        if mode == "warm":
            for brand, outage in targets:  # one unmeasured round fills the cache
                switch(client, brand, outage)
        totals, parts = [], {}
        for _ in range(args.rounds if mode == "warm" else max(1, args.rounds // 10)):
            for brand, outage in targets:
                if mode == "cold":
                    views.clear()
                times = switch(client, brand, outage)
                answer = times["state"] + times["overview"] + times["live"] + times["freshness"]
                totals.append(answer)
                for k, v in times.items():
                    parts.setdefault(k, []).append(v)
        p50, p95 = percentile(totals, 0.5), percentile(totals, 0.95)
        print(f"{mode} switch brand/outage ({len(totals)} switches): headline and cards answer "
              f"p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms  "
              f"(= {p50 / baseline:.1f}x / {p95 / baseline:.1f}x the baseline)")
        for k, v in parts.items():
            print(f"    {k:10s} p50 {percentile(v, 0.5) * 1000:7.0f} ms   "
                  f"p95 {percentile(v, 0.95) * 1000:7.0f} ms")

    other_tabs(client, views, targets)
    series_alone(store, baseline)

    cold_breakdown(views, baseline)

    httpd = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        for query in ("", "?tab=timeline"):
            raw, zipped, requests = first_load(f"http://127.0.0.1:{httpd.server_port}", query)
            print(f"first load of /{query}: {requests} requests, {raw / 1e6:.2f} MB of content "
                  f"(as decoded; the app sends it brotli- or gzip-compressed), {zipped / 1e6:.2f} MB "
                  "gzip-compressed (benchmarks/dashboard_browser.py measures what travels)")
    finally:
        httpd.shutdown()
        thread.join(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--generate-only", action="store_true")
    args = parser.parse_args()
    out = REPO / "benchmarks" / "out"
    out.mkdir(parents=True, exist_ok=True)
    store = open_store(out / f"dashboard_{args.posts}.db", args.posts, args.rebuild)
    if args.generate_only:
        return
    relabel_scores(store)
    run(store, args)


if __name__ == "__main__":
    main()
