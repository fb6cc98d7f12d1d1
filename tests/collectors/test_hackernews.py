"""Hacker News through a local fake of the Algolia HN search API.

The fake answers ``/api/v1/search_by_date`` as hn.algolia.com does (shape from https://hn.algolia.com/api
and a recorded answer: ``hits`` newest first, ``page``, ``nbPages``, ``hitsPerPage``, ``nbHits``), matching
query words as prefixes the way Algolia does, so "Next" finds "Nextdoor" and the collector must drop it.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from fake_http import FakeServer, Request

from collectors.base import Budget
from collectors.hackernews import Cursor, HackerNewsCollector, hit_to_post, html_to_text, make_hackernews
from collectors.http import HttpClient
from dipwatch.core.brands import Brand
from dipwatch.core.records import Checkpoint
from dipwatch.jobs.ingest import save_batch
from dipwatch.store import Store

NOW = 1_718_000_000  # 2024-06-10T06:13:20Z
PATH = "/api/v1/search_by_date"
NEXT = Brand(key="next", name="Next", terms=("Next",))


def story(object_id: int, created: int, title: str, url: str | None = None, text: str | None = None,
          points: int = 3) -> dict:
    """A story hit with the fields the HN index returns (story 40000001 style)."""
    return {
        "_highlightResult": {"author": {"matchLevel": "none", "matchedWords": [], "value": "someone"}},
        "_tags": ["story", "author_someone", f"story_{object_id}"],
        "author": "someone", "children": [], "created_at": _iso(created), "created_at_i": created,
        "num_comments": 0, "objectID": str(object_id), "points": points, "story_id": object_id,
        "title": title, "updated_at": _iso(created), **({"url": url} if url else {}),
        **({"story_text": text} if text else {}),
    }


def comment(object_id: int, created: int, html: str, parent: int = 39999999) -> dict:
    """A comment hit: ``comment_text`` is HTML, ``points`` null, ``parent_id``/``story_id`` integers."""
    return {
        "_highlightResult": {"comment_text": {"matchLevel": "full", "value": html}},
        "_tags": ["comment", "author_commenter", "story_39999999"],
        "author": "commenter", "comment_text": html, "created_at": _iso(created), "created_at_i": created,
        "objectID": str(object_id), "parent_id": parent, "points": None, "story_id": 39999999,
        "story_title": "Ask HN: Is Next down?", "story_url": None, "updated_at": _iso(created),
    }


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


FILTER = re.compile(r"^created_at_i(<=|>=|<|>|=)(\d+)$")
OPS = {"<": int.__lt__, "<=": int.__le__, ">": int.__gt__, ">=": int.__ge__, "=": int.__eq__}


class Algolia:
    """The search_by_date endpoint over ``hits``: prefix word match, tags, numericFilters, paging."""

    def __init__(self) -> None:
        self.hits: list[dict] = []

    def __call__(self, req: Request) -> dict:
        words = re.findall(r"\w+", req.params.get("query", "").lower())
        tags = set(req.params.get("tags", "").strip("()").split(","))
        filters = [FILTER.match(f.strip()) for f in req.params.get("numericFilters", "").split(",") if f]
        assert all(filters), req.params["numericFilters"]
        per_page, page = int(req.params.get("hitsPerPage", 20)), int(req.params.get("page", 0))

        def wanted(hit: dict) -> bool:
            text = " ".join(str(hit.get(k) or "") for k in ("title", "story_text", "comment_text", "url"))
            tokens = re.findall(r"\w+", text.lower())
            return (tags & set(hit["_tags"]) != set()
                    and all(OPS[m[1]](hit["created_at_i"], int(m[2])) for m in filters)
                    and all(any(t.startswith(w) for t in tokens) for w in words))

        found = sorted((h for h in self.hits if wanted(h)), key=lambda h: (-h["created_at_i"], h["objectID"]))
        reachable = found[:1000]  # paginationLimitedTo
        return {"hits": reachable[page * per_page:(page + 1) * per_page], "nbHits": len(found), "page": page,
                "nbPages": math.ceil(len(reachable) / per_page), "hitsPerPage": per_page,
                "exhaustiveNbHits": True, "exhaustiveTypo": True, "query": req.params.get("query", ""),
                "params": "", "processingTimeMS": 1}


@pytest.fixture
def algolia() -> Algolia:
    return Algolia()


@pytest.fixture
def server(algolia: Algolia) -> Iterator[FakeServer]:
    with FakeServer() as running:
        running.route(PATH, algolia)
        yield running


@pytest.fixture(autouse=True)
def instant_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waits: list[float] = []
    monkeypatch.setattr(HttpClient, "sleep", staticmethod(waits.append))
    return waits


def make(server: FakeServer, **settings) -> HackerNewsCollector:
    collector = make_hackernews({"base_url": server.url, **settings}, {})
    collector.clock = lambda: NOW
    return collector


def collect(store: Store, collector: HackerNewsCollector, brand: Brand = NEXT, since=None,
            pages: int | None = None) -> int:
    """What ``dipwatch collect`` does with the pages (store each with its checkpoint); new posts."""
    new = 0
    checkpoints = store.get_checkpoints("hackernews", brand.key)
    for number, page in enumerate(collector.pages(brand, checkpoints, since, Budget.seconds(30))):
        if pages is not None and number >= pages:
            break  # the run is killed here: this page is never stored
        checkpoint = Checkpoint("hackernews", brand.key, *page.checkpoint) if page.checkpoint else None
        new += save_batch(store, [(p, [(brand.key, t)]) for p, t in page.posts], "salt", checkpoint).new
    return new


def stored_ids(store: Store) -> list[str]:
    with store.engine.connect() as conn:
        return sorted(conn.execute(sa.text("SELECT post_id FROM posts WHERE source='hackernews'")).scalars())


def test_pages_by_time_down_to_the_first_run_window(server, algolia, sqlite_store):
    algolia.hits = [story(1000 + i, NOW - 60 * i, f"Next checkout is down again ({i})") for i in range(250)]
    algolia.hits.append(story(999, NOW - 31 * 86400, "Next was down last month"))  # before first_run_days
    collector = make(server)
    assert collect(sqlite_store, collector) == 250
    filters = [r.params["numericFilters"] for r in server.requests]
    lower = NOW - 30 * 86400
    assert filters == [f"created_at_i>{lower}", f"created_at_i>{lower},created_at_i<={NOW - 60 * 99}",
                       f"created_at_i>{lower},created_at_i<={NOW - 60 * 198}"]
    assert {r.params["tags"] for r in server.requests} == {"(story,comment)"}
    assert Cursor.decode(sqlite_store.get_checkpoints("hackernews", "next")["search:Next"]) == Cursor(NOW)


def test_second_run_adds_only_new_items_and_stops_at_the_checkpoint(server, algolia, sqlite_store):
    algolia.hits = [story(1000 + i, NOW - 3600 * i, f"Next app down {i}") for i in range(5)]
    collector = make(server)
    assert collect(sqlite_store, collector) == 5
    algolia.hits += [comment(2000 + i, NOW + 100 * (i + 1), f"<p>Next is down for me too {i}</p>")
                     for i in range(3)]
    server.requests.clear()
    assert collect(sqlite_store, collector) == 3
    assert server.requests[0].params["numericFilters"] == f"created_at_i>{NOW - 600}"
    assert len(server.requests) == 1
    assert len(stored_ids(sqlite_store)) == 8


def test_word_boundary_match_drops_nextdoor(server, algolia, sqlite_store):
    algolia.hits = [story(1, NOW - 10, "Nextdoor raises prices"),
                    story(2, NOW - 20, "Next's website is down"),
                    comment(3, NOW - 30, "I moved to Nextdoor&#x27;s app")]
    assert collect(sqlite_store, make(server)) == 1
    assert stored_ids(sqlite_store) == ["2"]


def test_comment_html_becomes_plain_text(server, algolia, sqlite_store):
    html = ("Next&#x27;s checkout <i>still</i> fails &gt; 2h.<p>See "
            "<a href=\"https:&#x2F;&#x2F;status.next.co.uk\" rel=\"nofollow\">"
            "https:&#x2F;&#x2F;status.next.co.uk</a><p><pre><code>  HTTP 503\n</code></pre>")
    algolia.hits = [comment(41000001, NOW - 5, html, parent=41000000)]
    collect(sqlite_store, make(server))
    with sqlite_store.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT text, kind, url, parent_id, engagement FROM posts")).one()
    # Paragraphs become blank lines; a code block keeps its indentation.
    text = "Next's checkout still fails > 2h.\n\nSee https://status.next.co.uk\n\n  HTTP 503"
    assert row == (text, "comment", "https://news.ycombinator.com/item?id=41000001", "41000000", None)


def test_story_mapping_uses_title_and_text_or_url():
    link = hit_to_post(story(1, NOW, "Next is down", url="https://www.next.co.uk/", points=42))
    ask = hit_to_post(story(2, NOW, "Ask HN: Next down?", text="Anyone else?<p>Since 9am"))
    assert (link.text, link.kind, link.engagement, link.author) == (
        "Next is down\n\nhttps://www.next.co.uk/", "post", 42, "someone")
    assert ask.text == "Ask HN: Next down?\n\nAnyone else?\n\nSince 9am"
    assert link.created_at == datetime.fromtimestamp(NOW, UTC)
    assert html_to_text("a &amp; b") == "a & b"


def test_a_killed_walk_resumes_below_its_last_stored_page(server, algolia, sqlite_store):
    algolia.hits = [story(1000 + i, NOW - 60 * i, f"Next outage {i}") for i in range(250)]
    collector = make(server)
    assert collect(sqlite_store, collector, pages=1) == 100
    cursor = Cursor.decode(sqlite_store.get_checkpoints("hackernews", "next")["search:Next"])
    assert (cursor.top, cursor.below) == (NOW, NOW - 60 * 99)
    algolia.hits.append(story(5000, NOW + 30, "Next is back"))
    server.requests.clear()
    assert collect(sqlite_store, collector) == 151
    lower = NOW - 30 * 86400
    assert [r.params["numericFilters"] for r in server.requests] == [
        f"created_at_i>{lower},created_at_i<={NOW - 60 * 99}",
        f"created_at_i>{lower},created_at_i<={NOW - 60 * 198}",
        f"created_at_i>{NOW - 600}",  # then the new walk, down to the finished walk's top
    ]
    assert len(stored_ids(sqlite_store)) == 251
    assert json.loads(sqlite_store.get_checkpoints("hackernews", "next")["search:Next"]) == {"done": NOW + 30}


def test_a_second_full_of_hits_is_paged_through_not_lost(server, algolia, sqlite_store):
    algolia.hits = [story(3000 + i, NOW - 5, f"Next down {i}") for i in range(25)]
    algolia.hits += [story(4000 + i, NOW - 50 - i, f"Next down again {i}") for i in range(5)]
    assert collect(sqlite_store, make(server, hits_per_page=10)) == 30


def test_queries_setting_replaces_the_terms(server, algolia, sqlite_store):
    brand = Brand(key="next", name="Next", terms=("Next",),
                  sources={"hackernews": {"queries": ["next.co.uk"]}})
    algolia.hits = [story(1, NOW - 5, "Next down", url="https://www.next.co.uk/help")]
    assert collect(sqlite_store, make(server), brand=brand) == 1
    assert server.requests[0].params["query"] == "next.co.uk"


def test_since_sets_the_first_runs_lower_bound(server, algolia, sqlite_store):
    algolia.hits = [story(1, NOW - 100, "Next down")]
    collect(sqlite_store, make(server), since=datetime.fromtimestamp(NOW - 3600, UTC))
    assert server.requests[0].params["numericFilters"] == f"created_at_i>{NOW - 3601}"


# dipwatch collect, end to end -----------------------------------------------------------------------------
def write_config(write, server: FakeServer, extra: str = "") -> None:
    write("dipwatch.toml", f"""
[sources.hackernews]
base_url = "{server.url}"
timeout = 2
{extra}
[brands.next]
name = "Next"
terms = ["Next"]
[brands.next.sources.hackernews]
""")


def runs(db_path) -> list[tuple]:
    with Store(f"sqlite:///{db_path}") as store, store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text("SELECT source, brand, status, counts FROM runs"))]


def test_collect_command_stores_and_logs(cli_run, write, server, algolia, db_path):
    now = int(time.time())
    algolia.hits = [story(1, now - 60, "Next website down"), story(2, now - 90, "Nextdoor")]
    write_config(write, server)
    result = cli_run(["collect", "--source", "hackernews"])
    assert result.exit_code == 0, result.output
    assert runs(db_path) == [("hackernews", "next", "ok", '{"fetched": 1, "new": 1}')]


def test_429_with_retry_after_is_waited_out(cli_run, write, server, algolia, db_path, instant_sleep):
    algolia.hits = [story(1, int(time.time()) - 60, "Next website down")]
    server.fail(PATH, "status", status=429, retry_after="3", times=1)
    write_config(write, server)
    assert cli_run(["collect"]).exit_code == 0
    assert instant_sleep == [3.0]
    assert runs(db_path)[0][2:] == ("ok", '{"fetched": 1, "new": 1}')


@pytest.mark.parametrize(("kind", "expected"), [("status", "HTTP 503"), ("badjson", "not valid JSON"),
                                                ("html", "HTML page")])
def test_failures_are_recorded_as_failed_runs(cli_run, write, server, algolia, db_path, kind, expected):
    server.fail(PATH, kind, status=503, times=10)
    write_config(write, server)
    assert cli_run(["collect"]).exit_code == 1
    assert [r[2] for r in runs(db_path)] == ["failed"]
    with Store(f"sqlite:///{db_path}") as store, store.engine.connect() as conn:
        assert expected in conn.execute(sa.text("SELECT message FROM runs")).scalar_one()


def test_empty_result_is_an_ok_run(cli_run, write, server, db_path):
    write_config(write, server)
    assert cli_run(["collect"]).exit_code == 0
    assert runs(db_path) == [("hackernews", "next", "ok", '{"fetched": 0, "new": 0}')]


def test_a_server_that_never_answers_ends_with_the_budget(cli_run, write, server, db_path):
    server.fail(PATH, "hang", times=100)
    write_config(write, server)
    started = time.monotonic()
    result = cli_run(["collect", "--max-seconds", "1"])
    assert time.monotonic() - started < 4
    assert result.exit_code == 1
    assert runs(db_path)[0][2] == "partial"


def test_unknown_setting_is_a_config_error(cli_run, write, server, db_path):
    write_config(write, server, extra="hits_per_pg = 5")
    assert cli_run(["collect"]).exit_code == 2
    with Store(f"sqlite:///{db_path}") as store, store.engine.connect() as conn:
        assert "sources.hackernews.hits_per_pg: unknown setting" in conn.execute(
            sa.text("SELECT message FROM runs")).scalar_one()
