"""Hostile fakes of every collector's API, for the adversarial suite.

One :class:`Scenario` per collector wraps a local server that speaks the source's real JSON (built from
the recorded fixtures the collector tests use) and can turn hostile on demand:

- ``script.arm(kind, after=n)``: after ``n`` good answers from the listing endpoint, answer ``truncated``
  (a good page cut in half), ``html`` (a 200 with a captive-portal page), ``huge`` (a good page followed
  by 10 MB of JSON whitespace, without Content-Length) or ``hang`` (accept, never answer);
- ``repeat = True``: the listing ignores its cursor and answers the same full page, the same cursor, forever;
- ``add(..., raw=...)``: items in any shape (missing fields, wrong types, times in the future); the
  server files each under the time it was added with, so a mutilated item still sorts and filters.

A scenario also knows how to run its collector the way a user does: ``dipwatch collect`` for the live
sources (in process through :func:`dipwatch.jobs.collect.run_collect`, or as a command line), ``dipwatch
backfill reddit`` for Arctic Shift.

The helpers of ``tests/collectors`` (``fake_http.py``, ``reddit_server.py``) are imported from there; that
folder is no package, so it is put on ``sys.path`` here.
"""

from __future__ import annotations

import copy
import json
import re
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

COLLECTOR_TESTS = Path(__file__).resolve().parents[1] / "collectors"
if str(COLLECTOR_TESTS) not in sys.path:
    sys.path.insert(0, str(COLLECTOR_TESTS))

from fake_http import HTML_PAGE, FakeServer, Reply, Request  # noqa: E402
from reddit_server import Handler, RedditServer, RedditState, populate  # noqa: E402

from dipwatch.core.brands import Brand  # noqa: E402
from dipwatch.core.config import Settings  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
HUGE = 10 * 1024 * 1024
HOSTILE_KINDS = ("truncated", "html", "huge", "hang")
DEFECTS = ("no id", "no time", "no text", "time of wrong type", "text of wrong type", "not an object")
TEXT = "Acme checkout is down again"
REDDIT_ENV = {"REDDIT_CLIENT_ID": "test-client-id", "REDDIT_CLIENT_SECRET": "test-client-secret",
              "REDDIT_USER_AGENT": "python:dipwatch-adversarial:0.1 (by /u/dipwatch)"}


def _fixture(*parts: str) -> Any:
    return json.loads(FIXTURES.joinpath(*parts).read_text(encoding="utf-8"))


def iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Script:
    """When the listing endpoint turns hostile: after ``after`` good answers, ``times`` times ``kind``."""

    def __init__(self) -> None:
        self.kind: str | None = None
        self.after = 0
        self.times = 0
        self.answered = 0  # listing requests seen
        self.released = threading.Event()  # ends every hang (set when the scenario stops)
        self._lock = threading.Lock()

    def arm(self, kind: str, after: int = 1, times: int = 1) -> None:
        assert kind in HOSTILE_KINDS, kind
        with self._lock:
            self.kind, self.after, self.times, self.answered = kind, after, times, 0

    def take(self) -> str | None:
        """Count a listing request; the hostile kind to answer it with, if its turn has come."""
        with self._lock:
            self.answered += 1
            if self.kind is None or self.answered <= self.after or self.times <= 0:
                return None
            self.times -= 1
            return self.kind

    def hang(self) -> None:
        self.released.wait(120)


def hostile_body(kind: str, good: bytes) -> tuple[int, str, bytes]:
    """(status, content type, body) of a hostile answer to a request whose good answer is ``good``."""
    if kind == "truncated":  # a dropped proxy connection: the first half of the real page
        return 200, "application/json; charset=utf-8", good[: len(good) // 2]
    if kind == "html":  # a captive portal or a CDN challenge, with a 200
        return 200, "text/html; charset=utf-8", HTML_PAGE.encode()
    if kind == "huge":  # the real page, then 10 MB of whitespace (valid JSON, and no Content-Length)
        return 200, "application/json; charset=utf-8", good + b" " * HUGE
    raise ValueError(kind)


@dataclass
class Item:
    """An item a fake serves: ``raw`` as sent, filed under ``when`` (and ``number``, the item's id)."""

    number: int
    when: datetime
    raw: Any


class Scenario:
    """A collector and its hostile fake API; subclasses fill in the source's shapes."""

    name = ""  # the collector, as tests are parametrized
    source = ""  # the runs table's source for it
    command = "collect"  # the runs table's command for it
    names: tuple[str, ...] = ()  # an error message must name one of these (source or path)
    authors: tuple[str, ...] = ()  # the authors items carry (the store keeps only salted hashes)
    listing_path = ""  # where the hostile answers go

    def __init__(self) -> None:
        self.script = Script()
        self.repeat = False
        self.items: list[Item] = []
        self.lock = threading.RLock()
        self.delay = 0.0  # seconds each listing answer takes (so a run can be killed mid-way)

    # life cycle ---------------------------------------------------------------------------------
    def start(self) -> Scenario:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    @property
    def url(self) -> str:
        raise NotImplementedError

    def listing_requests(self) -> int:
        return self.script.answered

    # data ----------------------------------------------------------------------------------------
    def good(self, number: int, when: datetime, text: str = TEXT) -> Any:
        """The item ``number`` as the API sends it."""
        raise NotImplementedError

    def broken(self, number: int, when: datetime, defect: str) -> Any:
        """The item ``number`` with one of :data:`DEFECTS`."""
        raise NotImplementedError

    def post_id(self, number: int, when: datetime) -> str:
        """The stored ``post_id`` of item ``number`` (added at ``when``)."""
        raise NotImplementedError

    def add(self, number: int, when: datetime, text: str = TEXT, raw: Any = None) -> None:
        with self.lock:
            self.items.append(Item(number, when, self.good(number, when, text) if raw is None else raw))

    def populate(self, count: int, start: datetime, step: timedelta = timedelta(seconds=30),
                 first: int = 1) -> list[str]:
        """Add ``count`` good items from ``start`` on; return their stored ids."""
        for k in range(count):
            self.add(first + k, start + k * step, f"{TEXT} #{first + k}")
        return [self.post_id(first + k, start + k * step) for k in range(count)]

    def remove(self, number: int) -> None:
        with self.lock:
            self.items = [i for i in self.items if i.number != number]

    def newest_first(self) -> list[Item]:
        with self.lock:
            return sorted(self.items, key=lambda i: (i.when, i.number), reverse=True)

    # running -------------------------------------------------------------------------------------
    page_size = 0  # items per listing answer, as configured

    def source_settings(self) -> dict[str, Any]:
        """``[sources.NAME]``."""
        raise NotImplementedError

    def brand_settings(self) -> dict[str, Any]:
        """``[brands.acme.sources.NAME]``."""
        raise NotImplementedError

    def brand(self) -> Brand:
        return Brand(key="acme", name="Acme", terms=("Acme",), sources={self.name: self.brand_settings()})

    def settings(self, db_path: Path) -> Settings:
        return Settings(db_url=f"sqlite:///{db_path}", brands={"acme": self.brand()},
                        sources={self.name: self.source_settings()})

    def env(self) -> dict[str, str]:
        return {}

    def run(self, db_path: Path, max_seconds: float = 3.0) -> int:
        """Collect once, as the command does; return its exit code."""
        from dipwatch.jobs.collect import run_collect
        from dipwatch.store import Store

        with Store(f"sqlite:///{db_path}") as store:
            return run_collect(self.settings(db_path), store, max_seconds=max_seconds, env=self.env())

    def config_toml(self) -> str:
        lines = [f"[sources.{self.name}]", *_toml_table(self.source_settings()), "",
                 "[brands.acme]", 'name = "Acme"', 'terms = ["Acme"]', ""]
        if self.command == "collect":
            lines += [f"[brands.acme.sources.{self.name}]", *_toml_table(self.brand_settings()), ""]
        return "\n".join(lines)

    def cli_args(self, max_seconds: float) -> list[str]:
        return ["collect", "--max-seconds", str(max_seconds)]

    # the hostile answer, for fakes on fake_http.FakeServer ---------------------------------------
    def _answer(self, build: Callable[[], Any]) -> Any:
        kind = self.script.take()
        if self.delay:
            time.sleep(self.delay)
        if kind == "hang":
            self.script.hang()
            return Reply({"error": "the test is over"}, status=503)
        data = build()
        if kind is None:
            return data
        status, ctype, body = hostile_body(kind, json.dumps(data).encode())
        headers = {"Transfer-Encoding": "chunked"} if kind == "huge" else {}
        return Reply(body, status=status, content_type=ctype, headers=headers)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


def _toml_table(table: dict[str, Any]) -> list[str]:
    return [f"{key} = {_toml_value(value)}" for key, value in table.items()]


class _HttpScenario(Scenario):
    """A scenario on a :class:`FakeServer`."""

    def start(self) -> Scenario:
        self.server = FakeServer().start()
        self.routes(self.server)
        return self

    def routes(self, server: FakeServer) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        self.script.released.set()
        self.server.stop()

    @property
    def url(self) -> str:
        return self.server.url


# Hacker News (Algolia) ------------------------------------------------------------------------------
FILTER = re.compile(r"^created_at_i(<=|>=|<|>|=)(-?\d+)$")
OPS: dict[str, Callable[[int, int], bool]] = {"<": int.__lt__, "<=": int.__le__, ">": int.__gt__,
                                              ">=": int.__ge__, "=": int.__eq__}


class HackerNews(_HttpScenario):
    name = source = "hackernews"
    listing_path = "/api/v1/search_by_date"
    names = ("hackernews", "/api/v1/search_by_date")
    authors = ("someone",)
    page_size = 20

    def routes(self, server: FakeServer) -> None:
        server.route(self.listing_path, lambda req: self._answer(lambda: self.search(req)))

    def search(self, req: Request) -> dict:
        per_page, page = int(req.params.get("hitsPerPage", 20)), int(req.params.get("page", 0))
        filters = [FILTER.match(f.strip()) for f in req.params.get("numericFilters", "").split(",") if f]
        found = [i for i in self.newest_first()
                 if self.repeat or all(m and OPS[m[1]](int(i.when.timestamp()), int(m[2])) for m in filters)]
        if self.repeat:  # filters and page ignored: the same page, whatever is asked
            page = 0
        hits = [i.raw for i in found[page * per_page:(page + 1) * per_page]]
        return {"hits": hits, "nbHits": len(found), "page": page, "nbPages": -(-len(found) // per_page),
                "hitsPerPage": per_page, "query": req.params.get("query", ""), "processingTimeMS": 1}

    def good(self, number: int, when: datetime, text: str = TEXT) -> dict:
        # The fields the HN index returns for a story (story 40000001 style; see test_hackernews.py).
        created = int(when.timestamp())
        return {"_tags": ["story", "author_someone", f"story_{number}"], "author": "someone",
                "children": [], "created_at": iso(when), "created_at_i": created, "num_comments": 0,
                "objectID": str(number), "points": 3, "story_id": number, "title": text,
                "updated_at": iso(when), "url": f"https://status.acme.example/{number}"}

    def broken(self, number: int, when: datetime, defect: str) -> Any:
        item = self.good(number, when)
        if defect == "no id":
            del item["objectID"]
        elif defect == "no time":
            del item["created_at_i"], item["created_at"]
        elif defect == "no text":
            del item["title"], item["url"]
        elif defect == "time of wrong type":
            item["created_at_i"] = "yesterday"
        elif defect == "text of wrong type":
            item["title"] = ["Acme", "is", "down"]
        elif defect == "not an object":
            item = f"{TEXT} (a bare string where a hit belongs)"
        return item

    def post_id(self, number: int, when: datetime) -> str:
        return str(number)

    def source_settings(self) -> dict[str, Any]:
        return {"base_url": self.url, "hits_per_page": self.page_size, "timeout": 2}

    def brand_settings(self) -> dict[str, Any]:
        return {}


# Bluesky (app.bsky.feed.searchPosts) ----------------------------------------------------------------
BLUESKY_VIEW = _fixture("sources", "bluesky_search_posts.json")["posts"][0]


class Bluesky(_HttpScenario):
    name = source = "bluesky"
    listing_path = "/xrpc/app.bsky.feed.searchPosts"
    names = ("bluesky", "app.bsky.feed.searchPosts")
    authors = ("jenny-makes.bsky.social",)
    page_size = 100  # the collector asks for the lexicon's maximum

    def routes(self, server: FakeServer) -> None:
        server.route(self.listing_path, lambda req: self._answer(lambda: self.search(req)))

    def search(self, req: Request) -> dict:
        since = datetime.fromisoformat(req.params["since"]) if "since" in req.params else None
        until = datetime.fromisoformat(req.params["until"]) if "until" in req.params else None
        found = [i for i in self.newest_first()
                 if (since is None or i.when >= since) and (until is None or i.when < until)]
        limit = int(req.params.get("limit", 25))
        start = 0 if self.repeat else int(req.params.get("cursor", "0"))
        answer: dict[str, Any] = {"posts": [i.raw for i in found[start:start + limit]],
                                  "hitsTotal": len(found)}
        if self.repeat:
            answer["cursor"] = str(limit)  # "the next page starts at 100", every time
        elif start + limit < len(found):
            answer["cursor"] = str(start + limit)
        return answer

    def good(self, number: int, when: datetime, text: str = TEXT) -> dict:
        made = copy.deepcopy(BLUESKY_VIEW)
        made["uri"] = f"at://did:plc:w4xbfzo7kqfes5zb7r6qv3rw/app.bsky.feed.post/3lbq{number:09d}"
        made["record"]["createdAt"] = iso(when)
        made["indexedAt"] = iso(when + timedelta(milliseconds=400))
        made["record"]["text"] = text
        return made

    def broken(self, number: int, when: datetime, defect: str) -> Any:
        item = self.good(number, when)
        if defect == "no id":
            del item["uri"]
        elif defect == "no time":
            del item["record"]["createdAt"], item["indexedAt"]
        elif defect == "no text":
            del item["record"]["text"]
        elif defect == "time of wrong type":
            item["record"]["createdAt"] = item["indexedAt"] = int(when.timestamp())
        elif defect == "text of wrong type":
            item["record"]["text"] = ["Acme", "is", "down"]
        elif defect == "not an object":
            item = f"{TEXT} (a bare string where a postView belongs)"
        return item

    def post_id(self, number: int, when: datetime) -> str:
        return f"at://did:plc:w4xbfzo7kqfes5zb7r6qv3rw/app.bsky.feed.post/3lbq{number:09d}"

    def source_settings(self) -> dict[str, Any]:
        # The hostile server answers searches without a session (a session is the collector's default).
        return {"base_url": self.url, "auth_url": self.url, "timeout": 2.0, "require_session": False}

    def brand_settings(self) -> dict[str, Any]:
        return {}


# Mastodon (hashtag timeline) -------------------------------------------------------------------------
MASTODON_STATUS = _fixture("sources", "mastodon_tag_timeline.json")[0]
INSTANCE = "mastodon.example"


def snowflake_of(when: datetime, number: int) -> int:
    """A status id of ``when`` (lib/mastodon/snowflake.rb: ms << 16 | sequence)."""
    return (int(when.timestamp() * 1000) << 16) + number % 65536


class Mastodon(_HttpScenario):
    name = source = "mastodon"
    listing_path = "/api/v1/timelines/tag/Acme"
    names = ("mastodon", "/api/v1/timelines/tag/Acme")
    authors = (f"kestrel@{INSTANCE}",)
    page_size = 40  # the collector asks for the API's maximum

    def routes(self, server: FakeServer) -> None:
        server.route(self.listing_path, lambda req: self._answer(lambda: self.timeline(req)))

    def timeline(self, req: Request) -> list:
        ordered = sorted(self.newest_first(), key=lambda i: snowflake_of(i.when, i.number))
        limit = int(req.params.get("limit", 20))
        if "max_id" in req.params:
            ordered = [i for i in ordered if snowflake_of(i.when, i.number) < int(req.params["max_id"])]
        if "min_id" in req.params and not self.repeat:  # the statuses just above min_id, newest first
            ordered = [i for i in ordered if snowflake_of(i.when, i.number) > int(req.params["min_id"])]
        return [i.raw for i in ordered[:limit]][::-1]

    def good(self, number: int, when: datetime, text: str = TEXT) -> dict:
        made = copy.deepcopy(MASTODON_STATUS)
        made["id"] = str(snowflake_of(when, number))
        made["created_at"] = iso(when)
        made["content"] = f"<p>#{text}</p>"
        made["url"] = f"https://{INSTANCE}/@kestrel/{made['id']}"
        return made

    def broken(self, number: int, when: datetime, defect: str) -> Any:
        item = self.good(number, when)
        if defect == "no id":
            del item["id"]
        elif defect == "no time":
            del item["created_at"]
        elif defect == "no text":
            del item["content"]
        elif defect == "time of wrong type":
            item["created_at"] = int(when.timestamp())
        elif defect == "text of wrong type":
            item["content"] = ["<p>#Acme is down</p>"]
        elif defect == "not an object":
            item = f"{TEXT} (a bare string where a Status belongs)"
        return item

    def post_id(self, number: int, when: datetime) -> str:
        return f"{INSTANCE}:{snowflake_of(when, number)}"

    def source_settings(self) -> dict[str, Any]:
        return {"base_urls": {INSTANCE: self.url}, "timeout": 2.0}

    def brand_settings(self) -> dict[str, Any]:
        return {"instances": [INSTANCE]}

    def env(self) -> dict[str, str]:
        return {}  # no MASTODON_TOKEN: hashtag timelines only


# App Store (customer-reviews feed) -------------------------------------------------------------------
APPSTORE_ENTRY = _fixture("sources", "appstore_customer_reviews.json")["feed"]["entry"][0]
APP = "1493012345"
FEED_PAGE = re.compile(r"^/gb/rss/customerreviews/page=(\d+)/id=" + APP + r"/sortby=mostrecent/json$")


class AppStore(_HttpScenario):
    name = source = "appstore"
    listing_path = f"/gb/rss/customerreviews/page=1/id={APP}/sortby=mostrecent/json"
    names = ("appstore", "/rss/customerreviews/")
    authors = ("Basket-case-77",)
    page_size = 50  # the feed's

    def routes(self, server: FakeServer) -> None:
        for number in range(1, 11):
            path = f"/gb/rss/customerreviews/page={number}/id={APP}/sortby=mostrecent/json"
            server.route(path, lambda req: self._answer(lambda: self.feed(req)))

    def feed(self, req: Request) -> dict:
        found = FEED_PAGE.match(req.path)
        page = 1 if self.repeat or found is None else int(found[1])
        entries = [i.raw for i in self.newest_first()[(page - 1) * 50:page * 50]]
        feed: dict[str, Any] = {"author": {"name": {"label": "iTunes Store"}}, "id": {"label": req.path}}
        if entries:
            feed["entry"] = entries
        return {"feed": feed}

    def good(self, number: int, when: datetime, text: str = TEXT) -> dict:
        made = copy.deepcopy(APPSTORE_ENTRY)
        made["id"]["label"] = str(11900000000 + number)
        made["updated"]["label"] = when.astimezone(UTC).isoformat()
        made["title"]["label"] = f"Review {number}"
        made["content"]["label"] = text
        return made

    def broken(self, number: int, when: datetime, defect: str) -> Any:
        item = self.good(number, when)
        if defect == "no id":
            del item["id"]
        elif defect == "no time":
            del item["updated"]
        elif defect == "no text":
            del item["title"], item["content"]
        elif defect == "time of wrong type":
            item["updated"] = {"label": int(when.timestamp())}
        elif defect == "text of wrong type":
            item["title"] = {"label": ["Acme", "is", "down"]}
            item["content"] = {"label": {"text": "Acme is down"}}
        elif defect == "not an object":
            item = f"{TEXT} (a bare string where a review belongs)"
        return item

    def post_id(self, number: int, when: datetime) -> str:
        return f"gb:{11900000000 + number}"

    def source_settings(self) -> dict[str, Any]:
        return {"base_url": self.url, "timeout": 2.0}

    def brand_settings(self) -> dict[str, Any]:
        return {"app_ids": [int(APP)], "countries": ["gb"]}


# Arctic Shift (dipwatch backfill reddit) --------------------------------------------------------------
REDDIT_SUBMISSION = _fixture("reddit", "search_listing.json")["data"]["children"][0]["data"]
SUBREDDIT = "unitedkingdom"


class ArcticShift(_HttpScenario):
    """The archive, hostile in one more way: it ignores ``before`` (an item after the range comes back)."""

    name = "arcticshift"
    source = "reddit"  # backfilled items and runs are filed under the live source
    command = "backfill"
    listing_path = "/api/posts/search"
    names = ("arcticshift", "arctic", "/api/posts/search")
    authors = tuple(f"user{n}" for n in range(1, 400))
    page_size = 20

    def __init__(self) -> None:
        super().__init__()
        now = datetime.now(UTC).replace(microsecond=0)
        self.start_at, self.end_at = now - timedelta(days=1), now + timedelta(days=2)

    def routes(self, server: FakeServer) -> None:
        server.route(self.listing_path, lambda req: self._answer(lambda: self.search(req)))
        server.route("/api/comments/search", lambda req: {"data": []})

    def search(self, req: Request) -> dict:
        after = int(req.params["after"])
        oldest_first = self.newest_first()[::-1]
        if not self.repeat:
            oldest_first = [i for i in oldest_first if int(i.when.timestamp()) > after]
        return {"data": [i.raw for i in oldest_first[:int(req.params.get("limit", 25))]]}

    def good(self, number: int, when: datetime, text: str = TEXT) -> dict:
        item = copy.deepcopy(REDDIT_SUBMISSION)
        pid = f"p{number:05d}"
        created = int(when.timestamp())
        item.update(id=pid, title=text, selftext="", created_utc=created, created=created,
                    subreddit=SUBREDDIT, author=f"user{number}", score=number % 7,
                    permalink=f"/r/{SUBREDDIT}/comments/{pid}/slug/")
        item.pop("name", None)  # the archive need not carry it (see test_arcticshift.py)
        return item

    def broken(self, number: int, when: datetime, defect: str) -> Any:
        item = self.good(number, when)
        if defect == "no id":
            del item["id"]
        elif defect == "no time":
            del item["created_utc"]
        elif defect == "no text":
            del item["title"], item["selftext"]
        elif defect == "time of wrong type":
            item["created_utc"] = "yesterday"
        elif defect == "text of wrong type":
            item["title"] = ["Acme", "is", "down"]
        elif defect == "not an object":
            item = f"{TEXT} (a bare string where an item belongs)"
        return item

    def post_id(self, number: int, when: datetime) -> str:
        return f"t3_p{number:05d}"

    def source_settings(self) -> dict[str, Any]:
        return {"base_url": self.url, "timeout": 2.0, "limit": self.page_size}

    def brand_settings(self) -> dict[str, Any]:
        return {}

    def run(self, db_path: Path, max_seconds: float = 3.0) -> int:
        from collectors.base import Budget
        from dipwatch.jobs.backfill import backfill
        from dipwatch.store import Store

        with Store(f"sqlite:///{db_path}") as store:
            report = backfill(store, self.brand(), SUBREDDIT, self.start_at, self.end_at,
                              self.source_settings(), Budget.seconds(max_seconds), {})
        return 0 if report.status == "ok" else 1

    def cli_args(self, max_seconds: float) -> list[str]:
        return ["backfill", "reddit", "--brand", "acme", "--subreddit", SUBREDDIT,
                "--from", self.start_at.isoformat(), "--to", self.end_at.isoformat(),
                "--max-seconds", str(max_seconds)]


# Reddit (praw against reddit_server.py) ---------------------------------------------------------------
@dataclass
class HostileRedditState(RedditState):
    """RedditState whose search listing can be scripted, repeat its ``after``, or render items broken."""

    script: Script = field(default_factory=Script)
    repeat: bool = False
    broken_items: dict[str, Callable[[dict], Any]] = field(default_factory=dict)  # fullname -> child

    def rendered(self, item: dict) -> Any:
        child = super().rendered(item)
        mutate = self.broken_items.get(item["name"])
        return mutate(child) if mutate else child


class _HostileRedditHandler(Handler):
    hostile: str | None = None

    def _route(self, method: str, path: str, query: dict[str, str], form: dict[str, str]):
        state = self.server.state
        parts = [p for p in path.split("/") if p]
        if method == "GET" and len(parts) == 3 and parts[0] == "r" and parts[2] == "search":
            self.hostile = state.script.take()
            if self.hostile == "hang":
                state.script.hang()
            if state.repeat:  # `after` ignored: the first page, and the same `after`, every time
                query = {k: v for k, v in query.items() if k != "after"}
        return super()._route(method, path, query, form)

    def _send(self, record, status: int, body: str, ctype: str = "application/json; charset=UTF-8",
              extra: dict[str, str] | None = None) -> None:
        if self.hostile in {"truncated", "html", "huge"} and status == 200:
            status, ctype, raw = hostile_body(self.hostile, body.encode())
            body = raw.decode()
        self.hostile = None
        super()._send(record, status, body, ctype, extra)


class Reddit(Scenario):
    name = source = "reddit"
    listing_path = f"/r/{SUBREDDIT}/search/"
    names = ("reddit",)
    authors = ("alice",)
    page_size = 100

    def start(self) -> Scenario:
        self.state = HostileRedditState()
        self.script = self.state.script
        self.server = RedditServer(self.state)
        self.server.RequestHandlerClass = _HostileRedditHandler
        # A killed or timed-out client resets its connection: expected here, not worth a traceback.
        self.server.handle_error = lambda request, client_address: None
        self.server.start()
        self._ids: dict[int, str] = {}
        return self

    def stop(self) -> None:
        self.script.released.set()
        self.server.stop()

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def repeat(self) -> bool:  # type: ignore[override]
        return self.state.repeat if hasattr(self, "state") else False

    @repeat.setter
    def repeat(self, value: bool) -> None:
        if hasattr(self, "state"):
            self.state.repeat = value

    def add(self, number: int, when: datetime, text: str = TEXT, raw: Any = None) -> None:
        name = self.state.add_submission(SUBREDDIT, text, created=when.timestamp())
        self._ids[number] = name
        if callable(raw):
            self.state.broken_items[name] = raw

    def remove(self, number: int) -> None:
        name = self._ids.pop(number)
        with self.state.lock:
            self.state.submissions[SUBREDDIT] = [s for s in self.state.submissions[SUBREDDIT]
                                                 if s["name"] != name]
            self.state.broken_items.pop(name, None)

    def post_id(self, number: int, when: datetime) -> str:
        return self._ids[number]

    def populate_threads(self, count: int, comments_per_post: int) -> None:
        """``count`` submissions mentioning Acme, a minute apart, each with its comments."""
        populate(self.state, SUBREDDIT, count, comments_per_post=comments_per_post)

    def broken(self, number: int, when: datetime, defect: str) -> Callable[[dict], Any]:
        """For Reddit a defect is applied as the item is rendered (the server sorts on the intact one)."""

        def mutate(child: dict) -> Any:
            data = child["data"]
            if defect == "no id":
                del data["id"], data["name"]
            elif defect == "no time":
                del data["created_utc"]
            elif defect == "no text":
                del data["title"], data["selftext"]
            elif defect == "time of wrong type":
                data["created_utc"] = "yesterday"
            elif defect == "text of wrong type":
                data["title"] = ["Acme", "is", "down"]
            elif defect == "not an object":
                return f"{TEXT} (a bare string where a thing belongs)"
            return child

        return mutate

    def listing_requests(self) -> int:
        return self.script.answered

    def source_settings(self) -> dict[str, Any]:
        return {"oauth_url": self.url, "reddit_url": self.url}

    def brand_settings(self) -> dict[str, Any]:
        return {"subreddits": [SUBREDDIT]}

    def env(self) -> dict[str, str]:
        return dict(REDDIT_ENV)


SCENARIOS: dict[str, type[Scenario]] = {
    "reddit": Reddit, "hackernews": HackerNews, "bluesky": Bluesky, "mastodon": Mastodon,
    "appstore": AppStore, "arcticshift": ArcticShift,
}


def wait_until(condition: Callable[[], bool], timeout: float = 20.0, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()

