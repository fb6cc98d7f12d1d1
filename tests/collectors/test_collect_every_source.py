"""One `dipwatch collect` across every source, each fake behaving as its service does in 2026
(tests/fixtures/sources/SOURCE.md): Bluesky refusing anonymous paging, one Mastodon instance restricting
its hashtag feed, and the Arctic Shift backfill of a range that ends on a page boundary.

Every expected post is stored, the exit code is 0 where nothing failed and 1 where an instance did, and a
second run adds nothing.
"""

from __future__ import annotations

import copy
import json
import os
import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fake_http import FakeServer
from reddit_server import populate
from test_appstore import APP, ENTRIES, FakeFeed
from test_arcticshift import Archive, reddit_comment, reddit_post
from test_bluesky import ENV as BLUESKY_ENV
from test_bluesky import FakeBluesky, view
from test_hackernews import PATH, Algolia, story
from test_mastodon import FakeMastodon, status

from collectors.http import HttpClient
from dipwatch.jobs.collect import session_path

NOW = datetime.now(UTC).replace(microsecond=0)
FIRST, SECOND = "mastodon.example", "other.example"
BACKFILL_START = datetime(2024, 5, 1, tzinfo=UTC)


def recent_status(minutes: int, number: int, text: str) -> dict:
    """A #Acme status ``minutes`` ago, with a Snowflake id of its own millisecond."""
    made = status(0, text, number)
    when = NOW - timedelta(minutes=minutes, milliseconds=-number)
    made["id"] = str((int(when.timestamp() * 1000) << 16) + number)
    made["created_at"] = when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return made


def recent_review(number: int, hours: int) -> dict:
    made = copy.deepcopy(ENTRIES[0])
    made["id"]["label"] = str(11900000000 + number)
    made["updated"]["label"] = (NOW - timedelta(hours=hours)).isoformat()
    made["title"]["label"] = f"Acme app review {number}"
    return made


class Services:
    """Every fake, filled with what the services hold, and the config pointing at them."""

    def __init__(self, reddit_server, servers: dict[str, FakeServer]):
        self.reddit = reddit_server
        populate(reddit_server.state, "unitedkingdom", 3, comments_per_post=1)  # 3 posts, 3 comments
        self.hn = Algolia()
        self.hn.hits = [story(1, int(NOW.timestamp()) - 3600, "Acme checkout is down again"),
                        story(2, int(NOW.timestamp()) - 1800, "Acme is back up")]
        servers["hn"].route(PATH, self.hn)
        self.feed = FakeFeed(servers["apple"])
        self.feed.reviews = [recent_review(n, n + 1) for n in range(3)]
        self.bluesky = FakeBluesky(servers["bluesky"])  # refuses anonymous paging (its default)
        self.bluesky.posts = [view(n, NOW - timedelta(minutes=n + 1)) for n in range(150)]
        self.first, self.second = FakeMastodon(servers[FIRST]), FakeMastodon(servers[SECOND])
        self.first.statuses = [recent_status(n + 1, n, f"#Acme is down {n}") for n in range(45)]
        self.second.statuses = [recent_status(n + 1, n, f"#Acme still down {n}") for n in range(5)]
        self.archive = Archive()
        start = int(BACKFILL_START.timestamp())
        posts = [reddit_post(i, start + 60 * i, f"Acme order {i} stuck") for i in range(19)]
        self.archive.items["posts"] = posts
        self.archive.items["comments"] = [reddit_comment(i, start + 60 * i + 5, "same", posts[i])
                                          for i in range(19)]
        servers["archive"].route("/api/posts/search", self.archive.handler("posts"))
        servers["archive"].route("/api/comments/search", self.archive.handler("comments"))
        self.servers = servers

    def config(self) -> str:
        url = {name: server.url for name, server in self.servers.items()}
        return f"""
[sources.reddit]
oauth_url = "{self.reddit.url}"
reddit_url = "{self.reddit.url}"
[sources.hackernews]
base_url = "{url['hn']}"
[sources.appstore]
base_url = "{url['apple']}"
[sources.bluesky]
base_url = "{url['bluesky']}"
auth_url = "{url['bluesky']}"
[sources.mastodon]
base_urls = {{"{FIRST}" = "{url[FIRST]}", "{SECOND}" = "{url[SECOND]}"}}
[sources.arcticshift]
base_url = "{url['archive']}"
limit = 10

[brands.acme]
name = "Acme"
terms = ["Acme"]
[brands.acme.sources.reddit]
subreddits = ["unitedkingdom"]
[brands.acme.sources.hackernews]
[brands.acme.sources.appstore]
app_ids = [{APP}]
countries = ["gb"]
[brands.acme.sources.bluesky]
[brands.acme.sources.mastodon]
instances = ["{FIRST}", "{SECOND}"]
"""


@pytest.fixture
def services(reddit_server, monkeypatch):
    monkeypatch.setattr(HttpClient, "sleep", staticmethod(lambda seconds: None))
    for name, value in BLUESKY_ENV.items():
        monkeypatch.setenv(name, value)
    names = ("hn", "apple", "bluesky", FIRST, SECOND, "archive")
    servers = {name: FakeServer().start() for name in names}
    try:
        yield Services(reddit_server, servers)
    finally:
        for server in servers.values():
            server.stop()


@pytest.fixture
def every_source(services, reddit_env, write, monkeypatch):
    for name, value in reddit_env.items():
        monkeypatch.setenv(name, value)
    write("dipwatch.toml", services.config())
    return services


def stored(db_path: Path) -> dict[str, int]:
    with sqlite3.connect(db_path) as conn:
        return dict(conn.execute("SELECT source, count(*) FROM posts GROUP BY source"))


def last_runs(db_path: Path) -> dict[str, tuple[str, dict, str | None]]:
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("SELECT source, status, counts, message FROM runs WHERE command = 'collect' "
                            "ORDER BY id").fetchall()
    return {source: (state, json.loads(counts), message) for source, state, counts, message in rows}


EXPECTED = {"reddit": 6, "hackernews": 2, "appstore": 3, "bluesky": 150, "mastodon": 50}


def backfill() -> list[str]:
    return ["backfill", "reddit", "--brand", "acme", "--subreddit", "unitedkingdom",
            "--from", "2024-05-01", "--to", "2024-05-15"]


def test_one_collect_across_every_source_stores_everything_and_a_second_adds_nothing(every_source, cli_run,
                                                                                      db_path):
    first = cli_run(["collect"])
    assert first.exit_code == 0, first.output
    assert stored(db_path) == EXPECTED
    assert {s: r[0] for s, r in last_runs(db_path).items()} == dict.fromkeys(EXPECTED, "ok")
    # Bluesky paged with its session: never anonymously, so the public refusal never bit.
    searches = every_source.bluesky.searches()
    assert len(searches) == 2
    assert all(r.headers["Authorization"].startswith("Bearer ") for r in searches)
    assert searches[1].params["cursor"] == "100"
    # The Arctic Shift range ends on a page boundary: one backfill, exit 0, nothing left to resume.
    filled = cli_run(backfill())
    assert filled.exit_code == 0, filled.output
    assert stored(db_path)["reddit"] == EXPECTED["reddit"] + 38

    again = cli_run(["collect"])
    assert again.exit_code == 0, again.output
    assert stored(db_path) == {**EXPECTED, "reddit": EXPECTED["reddit"] + 38}
    assert {s: r[1]["new"] for s, r in last_runs(db_path).items()} == dict.fromkeys(EXPECTED, 0)
    refilled = cli_run(backfill())
    assert refilled.exit_code == 0
    assert "0 new" in refilled.output
    assert len(every_source.bluesky.logins) == 1  # the second run used the stored session


def test_one_instance_refusing_fails_only_itself_and_exits_1(every_source, cli_run, db_path):
    every_source.second.restricted = "401"  # Mastodon 4.5: hashtag feeds for signed-in users only
    first = cli_run(["collect"])
    assert first.exit_code == 1
    assert "Traceback" not in first.output
    assert stored(db_path) == {**EXPECTED, "mastodon": 45}
    runs = last_runs(db_path)
    assert {s: r[0] for s, r in runs.items()} == {**dict.fromkeys(EXPECTED, "ok"), "mastodon": "failed"}
    assert runs["mastodon"][1] == {"fetched": 45, "new": 45}
    assert runs["mastodon"][2].startswith(f"1 of 2 instances failed (the others were read): {SECOND}: ")
    assert "restrict hashtag feeds to signed-in users" in runs["mastodon"][2]

    again = cli_run(["collect"])
    assert again.exit_code == 1
    assert stored(db_path) == {**EXPECTED, "mastodon": 45}
    assert {s: r[1]["new"] for s, r in last_runs(db_path).items()} == dict.fromkeys(EXPECTED, 0)
    status = cli_run(["status"])
    assert f"last error: 1 of 2 instances failed (the others were read): {SECOND}" in status.output


def test_without_bluesky_credentials_only_bluesky_is_skipped(every_source, cli_run, db_path, monkeypatch):
    for name in BLUESKY_ENV:
        monkeypatch.delenv(name)
    result = cli_run(["collect"])
    assert result.exit_code == 1
    assert result.output.count("set BLUESKY_HANDLE and BLUESKY_APP_PASSWORD") == 1  # said once
    assert stored(db_path) == {k: v for k, v in EXPECTED.items() if k != "bluesky"}
    assert every_source.bluesky.server.requests == []


def test_the_bluesky_session_is_owner_only_beside_the_database_and_never_logged(every_source, cli_run,
                                                                                 db_path):
    result = cli_run(["collect", "--log-format", "json"])
    assert result.exit_code == 0, result.output
    path = session_path(f"sqlite:///{db_path}", "bluesky", {})
    assert path == Path(f"{db_path}.bluesky-session")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    kept = json.loads(path.read_text())
    for secret in (kept["accessJwt"], kept["refreshJwt"], BLUESKY_ENV["BLUESKY_APP_PASSWORD"]):
        assert secret not in result.output
    with sqlite3.connect(db_path) as conn:
        dumped = "\n".join(conn.iterdump())
    assert kept["refreshJwt"] not in dumped  # never in the store, whose rows others may read


def test_a_silent_hashtag_feed_shows_as_a_warning_in_status(every_source, cli_run, db_path):
    assert cli_run(["collect", "--source", "mastodon"]).exit_code == 0
    every_source.second.restricted = "empty"  # filtered for visitors: 200 and []
    for _ in range(3):
        assert cli_run(["collect", "--source", "mastodon"]).exit_code == 0
    status = cli_run(["status"])
    line = next(row for row in status.output.splitlines() if "\tmastodon\t" in row)
    assert f"warning: {SECOND} #Acme: the hashtag feed answered nothing in 3 runs in a row" in line
    as_json = json.loads(cli_run(["status", "--json"]).output)
    (row,) = [r for r in as_json if r["source"] == "mastodon"]
    assert row["warnings"][0].endswith("give it a token (sources.mastodon.tokens)")


def test_session_path_for_postgresql_is_owner_state_not_the_store():
    url = "postgresql+psycopg://dipwatch:hunter2@db.example/dipwatch"
    path = session_path(url, "bluesky", {"XDG_STATE_HOME": "/var/lib/dipwatch-state"})
    assert path.parent == Path("/var/lib/dipwatch-state/dipwatch")
    assert path.name.startswith("bluesky-session-")
    assert "hunter2" not in str(path)
    assert session_path(url.replace("hunter2", "other"), "bluesky", {"XDG_STATE_HOME": "/x"}).name == \
        session_path(url, "bluesky", {"XDG_STATE_HOME": "/x"}).name  # the password is not part of it


def test_status_reads_the_same_warnings_with_sqlite3_alone_and_through_the_store(sqlite_store, db_url):
    from dipwatch.store.lite import collect_status_lite

    started = NOW - timedelta(minutes=5)
    warning = "gb:1: every URL form answered no reviews"
    sqlite_store.record_run("collect", "appstore", "acme", started, "ok",
                            {"fetched": 0, "new": 0, "warnings": [warning]})
    sqlite_store.record_run("collect", "hackernews", "acme", started, "ok", {"fetched": 1, "new": 1})
    lite = collect_status_lite(db_url, NOW)
    assert lite == sqlite_store.collect_status(NOW)
    assert [(r["source"], r["warnings"]) for r in lite] == [("appstore", [warning]), ("hackernews", [])]
