"""One `dipwatch collect` over three sources where one fails: exit 1, the other two stored, the run
log right; the failing source is retried a bounded number of times, not forever."""

from __future__ import annotations

import copy
import json
import sqlite3
import time

from fake_http import FakeServer
from test_appstore import APP, ENTRIES, FakeFeed
from test_hackernews import PATH, Algolia, story

from collectors.http import HttpClient

BLUESKY_SEARCH = "/xrpc/app.bsky.feed.searchPosts"


def test_one_failing_source_does_not_stop_the_others(cli_run, write, db_path, monkeypatch):
    monkeypatch.setattr(HttpClient, "sleep", staticmethod(lambda seconds: None))
    now = int(time.time())
    with FakeServer() as hn, FakeServer() as apple, FakeServer() as bluesky:
        algolia = Algolia()
        algolia.hits = [story(1, now - 3600, "Acme checkout is down again"),
                        story(2, now - 1800, "Acme is back up")]
        hn.route(PATH, algolia)
        feed = FakeFeed(apple)
        feed.reviews = copy.deepcopy(ENTRIES)
        bluesky.fail(BLUESKY_SEARCH, "status", status=503, times=50)  # a 5xx streak
        write("dipwatch.toml", f"""
[sources.hackernews]
base_url = "{hn.url}"
[sources.appstore]
base_url = "{apple.url}"
[sources.bluesky]
base_url = "{bluesky.url}"
require_session = false  # the public AppView, without credentials: here it fails with a 5xx streak
[brands.acme]
name = "Acme"
terms = ["Acme"]
[brands.acme.sources.hackernews]
[brands.acme.sources.appstore]
app_ids = [{APP}]
countries = ["gb"]
[brands.acme.sources.bluesky]
""")
        result = cli_run(["collect"])
        attempts = len([r for r in bluesky.requests if r.path == BLUESKY_SEARCH])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    with sqlite3.connect(db_path) as conn:
        stored = dict(conn.execute("SELECT source, count(*) FROM posts GROUP BY source"))
        runs = {source: (status, json.loads(counts), message) for source, status, counts, message in
                conn.execute("SELECT source, status, counts, message FROM runs WHERE command='collect'")}
    assert stored == {"hackernews": 2, "appstore": 3}
    assert runs["hackernews"][:2] == ("ok", {"fetched": 2, "new": 2})
    assert runs["appstore"][:2] == ("ok", {"fetched": 3, "new": 3})
    assert runs["bluesky"][0] == "failed"
    assert "503" in runs["bluesky"][2]
    assert 1 < attempts <= 5  # retried with backoff, a bounded number of times
