"""The Bluesky collector against a local searchPosts server (fake_http.py) speaking the lexicon's JSON."""

from __future__ import annotations

import copy
import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fake_http import FakeServer, Reply

from collectors.base import Budget, Page, SourceUnavailableError
from collectors.bluesky import (
    CREATE_SESSION,
    SEARCH,
    BlueskyCollector,
    BlueskyOptions,
    Cursor,
    brand_queries,
    make_bluesky,
    post_from_view,
)
from dipwatch.brands import Brand
from dipwatch.posts import Post

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sources"
SEARCH_ANSWER = json.loads((FIXTURES / "bluesky_search_posts.json").read_text(encoding="utf-8"))
SESSION = json.loads((FIXTURES / "bluesky_create_session.json").read_text(encoding="utf-8"))
ACME = Brand(key="acme", name="Acme", terms=("Acme",), sources={"bluesky": {}})
ENV = {"BLUESKY_HANDLE": "dipwatch-tests.bsky.social", "BLUESKY_APP_PASSWORD": "abcd-efgh-ijkl-mnop"}
T0 = datetime(2024, 11, 21, 18, 0, tzinfo=UTC)


def view(number: int, when: datetime, text: str = "Acme checkout is broken again") -> dict:
    """A postView like the fixture's first, with its own rkey, time and text."""
    made = copy.deepcopy(SEARCH_ANSWER["posts"][0])
    made["uri"] = f"at://did:plc:w4xbfzo7kqfes5zb7r6qv3rw/app.bsky.feed.post/3lbq{number:09d}"
    made["record"]["createdAt"] = when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    made["indexedAt"] = (when + timedelta(milliseconds=400)).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")
    made["record"]["text"] = text
    return made


class FakeBluesky:
    """searchPosts over ``posts`` (sortAt order, ``since`` inclusive, ``until`` exclusive, offset cursors)
    and createSession; with ``need_session``, searches without a bearer token get 401."""

    def __init__(self, server: FakeServer):
        self.server = server
        self.posts: list[dict] = []
        self.need_session = False
        server.route(SEARCH, self.search)
        server.route(CREATE_SESSION, self.create_session, method="POST")

    def search(self, request) -> dict | Reply:
        token = request.headers.get("Authorization")
        if self.need_session and token != f"Bearer {SESSION['accessJwt']}":
            return Reply({"error": "AuthenticationRequired", "message": "Authentication Required"}, 401)
        since = datetime.fromisoformat(request.params["since"]) if "since" in request.params else None
        until = datetime.fromisoformat(request.params["until"]) if "until" in request.params else None
        words = request.params["q"].lower().strip('"')
        found = [p for p in self.posts if words in p["record"]["text"].lower()
                 and (since is None or post_from_view(p).created_at >= since)
                 and (until is None or post_from_view(p).created_at < until)]
        found.sort(key=lambda p: post_from_view(p).created_at, reverse=True)
        start = int(request.params.get("cursor", "0"))
        limit = int(request.params.get("limit", "25"))
        answer = {"posts": found[start:start + limit], "hitsTotal": len(found)}
        if start + limit < len(found):
            answer["cursor"] = str(start + limit)
        return answer

    def create_session(self, request) -> dict | Reply:
        if request.body != {"identifier": ENV["BLUESKY_HANDLE"], "password": ENV["BLUESKY_APP_PASSWORD"]}:
            return Reply({"error": "AuthenticationRequired", "message": "Invalid identifier or password"},
                         401)
        return SESSION

    def searches(self) -> list:
        return [r for r in self.server.requests if r.path == SEARCH]


@pytest.fixture
def fake() -> Iterator[FakeBluesky]:
    with FakeServer() as server:
        yield FakeBluesky(server)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_collector(fake: FakeBluesky, sleeps: list[float]):
    def _make(env: dict[str, str] | None = None, **settings) -> BlueskyCollector:
        collector = make_bluesky({"base_url": fake.server.url, "auth_url": fake.server.url, **settings},
                                 ENV if env is None else env)
        collector.sleep = sleeps.append
        return collector

    return _make


def run(collector: BlueskyCollector, checkpoints: dict[str, str] | None = None, since: datetime | None = None,
        pages: int | None = None) -> tuple[list[Page], dict[str, str]]:
    """Pages of one brand (the first ``pages`` only, as a killed run), and the checkpoints as stored."""
    stored = dict(checkpoints or {})
    got = []
    for page in collector.pages(ACME, stored.copy(), since, Budget.seconds(30)):
        got.append(page)
        if page.checkpoint:
            stored[page.checkpoint[0]] = page.checkpoint[1]
        if pages is not None and len(got) == pages:
            break
    return got, stored


def ids(pages: list[Page]) -> list[str]:
    return [post.post_id for page in pages for post, _ in page.posts]


# the boundary ------------------------------------------------------------------------------------
def test_post_view_maps_to_post():
    first, reply, _ = SEARCH_ANSWER["posts"]
    assert post_from_view(first) == Post(
        source="bluesky", post_id="at://did:plc:w4xbfzo7kqfes5zb7r6qv3rw/app.bsky.feed.post/3lbq2x7kdn22s",
        created_at=datetime(2024, 11, 21, 18, 4, 12, 381000, tzinfo=UTC),
        text="Acme's website has been down all evening and I can't check out my basket. Great.",
        kind="post", author="jenny-makes.bsky.social", engagement=14,
        url="https://bsky.app/profile/jenny-makes.bsky.social/post/3lbq2x7kdn22s")
    mapped = post_from_view(reply)
    assert (mapped.kind, mapped.parent_id) == (
        "comment", "at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/3lbq2q2ydn42k")
    # An unresolvable handle ("handle.invalid") links by DID.
    assert mapped.url == "https://bsky.app/profile/did:plc:q6gjnaw2blty4crticxkmujt/post/3lbq2tq4mcs2e"


def test_created_at_falls_back_to_indexed_at_when_missing_or_in_the_future():
    item = copy.deepcopy(SEARCH_ANSWER["posts"][0])
    item["record"]["createdAt"] = "2099-01-01T00:00:00Z"  # a client with a wrong clock
    assert post_from_view(item).created_at == datetime(2024, 11, 21, 18, 4, 13, 52000, tzinfo=UTC)
    del item["record"]["createdAt"]
    assert post_from_view(item).created_at == datetime(2024, 11, 21, 18, 4, 13, 52000, tzinfo=UTC)


def test_queries_default_to_terms_with_phrases_quoted():
    brand = Brand(key="acme", name="Acme", terms=("Acme", "Acme Retail"))
    assert brand_queries(brand) == ["Acme", '"Acme Retail"']


def test_unknown_setting_is_a_config_error():
    with pytest.raises(SourceUnavailableError, match=r"sources\.bluesky\.base: unknown setting") as exc:
        BlueskyOptions.from_settings({"base": "x"})
    assert exc.value.missing_config


# paging and checkpoints --------------------------------------------------------------------------
def test_first_run_pages_to_the_lookback_and_matches_words_locally(fake, make_collector):
    fake.posts = [view(n, T0 - timedelta(minutes=n)) for n in range(230)]
    fake.posts.append(view(999, T0 + timedelta(seconds=5), "dinner at acmeville tonight, acme-free zone"))
    fake.posts.append(view(998, T0 + timedelta(seconds=6), "Acmeville is lovely"))
    pages, stored = run(make_collector(), since=T0 - timedelta(hours=10))
    assert len(fake.searches()) == 3  # 232 hits at 100 a page
    got = ids(pages)
    assert len(got) == len(set(got)) == 231
    assert view(998, T0)["uri"] not in got  # "Acmeville" is not "Acme"
    assert fake.searches()[0].params["since"] == "2024-11-21T08:00:00.000Z"
    assert fake.searches()[0].params["sort"] == "latest"
    cursor = Cursor.decode(stored["search:Acme"])
    assert cursor.gap is None
    assert cursor.floor == T0 + timedelta(seconds=6) - timedelta(seconds=300)


def test_second_run_fetches_only_new_posts(fake, make_collector):
    fake.posts = [view(n, T0 - timedelta(minutes=n)) for n in range(5)]
    _, stored = run(make_collector(), since=T0 - timedelta(days=1))
    fake.posts += [view(100, T0 + timedelta(minutes=30)), view(101, T0 + timedelta(minutes=31))]
    pages, _ = run(make_collector(), stored)
    assert sorted(ids(pages)) == sorted([view(100, T0)["uri"], view(101, T0)["uri"]])
    assert fake.searches()[-1].params["since"] == "2024-11-21T17:55:00.000Z"  # newest minus the overlap


def test_a_killed_walk_resumes_without_missing_posts(fake, make_collector):
    fake.posts = [view(n, T0 - timedelta(minutes=n)) for n in range(250)]
    first, stored = run(make_collector(), since=T0 - timedelta(days=1), pages=1)
    assert Cursor.decode(stored["search:Acme"]).gap is not None
    fake.posts.append(view(500, T0 + timedelta(hours=1)))
    rest, stored = run(make_collector(), stored, since=T0 - timedelta(days=1))
    assert set(ids(first)) | set(ids(rest)) == {p["uri"] for p in fake.posts}
    assert len(ids(first)) == 100
    gap_fill = fake.searches()[1]
    assert gap_fill.params["until"] == "2024-11-21T16:21:00.001Z"  # just past the oldest post stored
    assert Cursor.decode(stored["search:Acme"]).gap is None


# session ----------------------------------------------------------------------------------------
def test_refused_public_search_logs_in_and_sends_the_bearer_token(fake, make_collector):
    fake.need_session = True
    fake.posts = [view(1, T0)]
    pages, _ = run(make_collector(), since=T0 - timedelta(days=1))
    assert ids(pages) == [view(1, T0)["uri"]]
    logins = [r for r in fake.server.requests if r.path == CREATE_SESSION]
    assert len(logins) == 1
    assert fake.searches()[-1].headers["Authorization"] == f"Bearer {SESSION['accessJwt']}"


def test_session_without_credentials_names_the_variables(fake, make_collector):
    fake.need_session = True
    collector = make_collector(env={"BLUESKY_HANDLE": "someone.bsky.social"})
    with pytest.raises(SourceUnavailableError, match="set BLUESKY_APP_PASSWORD") as exc:
        run(collector)
    assert exc.value.missing_config
    with pytest.raises(SourceUnavailableError, match="set BLUESKY_HANDLE and BLUESKY_APP_PASSWORD"):
        make_collector(env={}, require_session=True)


def test_wrong_app_password_is_refused_without_showing_it(fake, make_collector):
    fake.need_session = True
    with pytest.raises(SourceUnavailableError, match="check BLUESKY_HANDLE and BLUESKY_APP_PASSWORD") as exc:
        run(make_collector(env={**ENV, "BLUESKY_APP_PASSWORD": "wrong-pass-word"}))
    assert "wrong-pass-word" not in str(exc.value)


# faults through collectors/http.py ----------------------------------------------------------------
def test_429_waits_retry_after_then_goes_on(fake, make_collector, sleeps):
    fake.posts = [view(1, T0)]
    fake.server.fail(SEARCH, "status", status=429, retry_after="3")
    pages, _ = run(make_collector(), since=T0 - timedelta(days=1))
    assert ids(pages) == [view(1, T0)["uri"]]
    assert sleeps == [3.0]


def test_empty_result_stores_nothing_and_moves_nothing(fake, make_collector):
    pages, stored = run(make_collector())
    assert pages == []
    assert stored == {}


# end to end ------------------------------------------------------------------------------------
def test_collect_command_stores_bluesky_posts(fake, cli_run, write, monkeypatch):
    fake.posts = [view(1, T0), view(2, T0 - timedelta(minutes=1), "nothing about the brand")]
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    url = fake.server.url
    write("dipwatch.toml", f'[sources.bluesky]\nbase_url = "{url}"\nauth_url = "{url}"\n'
                           '[brands.acme]\nterms = ["Acme"]\n[brands.acme.sources.bluesky]\n')
    result = cli_run(["collect", "--since", "2024-11-20"])
    assert result.exit_code == 0, result.output
    exported = cli_run(["export", "posts", "--brand", "acme"])
    rows = list(csv.DictReader(io.StringIO(exported.output)))
    assert [(r["source"], r["post_id"], r["term"]) for r in rows] == [("bluesky", view(1, T0)["uri"], "Acme")]
