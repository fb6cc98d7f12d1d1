"""The Bluesky collector against a local searchPosts server (fake_http.py) speaking the lexicon's JSON."""

from __future__ import annotations

import base64
import copy
import csv
import io
import json
import logging
import os
import secrets
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fake_http import FakeServer, Reply

from collectors.base import Budget, Page, SourceUnavailableError
from collectors.bluesky import (
    CREATE_SESSION,
    REFRESH_SESSION,
    SEARCH,
    BlueskyCollector,
    BlueskyOptions,
    Cursor,
    brand_queries,
    make_bluesky,
    post_from_view,
)
from collectors.http import HttpClient
from dipwatch.core.brands import Brand
from dipwatch.core.config import load_settings
from dipwatch.core.records import Post
from dipwatch.jobs.collect import run_collect
from dipwatch.store import Store

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


HTML_403 = ("<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n<center><h1>403 Forbidden</h1>"
            "</center>\r\n<p>Request forbidden by administrative rules.</p>\r\n</body>\r\n</html>\r\n")
ACCESS_LIFETIME = timedelta(minutes=120)  # atproto packages/pds/src/account-manager/helpers/auth.ts
REFRESH_LIFETIME = timedelta(days=90)
LOGINS_PER_DAY, LOGINS_PER_5_MIN = 100, 30  # the entryway (bsky-docs #183); the PDS's 5-minute limit


def jwt(scope: str, expires: datetime) -> str:
    """A token shaped as the PDS's: three base64url parts, ``exp`` in the payload (never verified)."""
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    payload = {"scope": scope, "sub": SESSION["did"], "exp": int(expires.timestamp()),
               "jti": secrets.token_hex(8)}
    return f"{part({'typ': 'at+jwt', 'alg': 'ES256K'})}.{part(payload)}.{secrets.token_urlsafe(32)}"


class FakeBluesky:
    """The public AppView and the PDS on one server, as they behave in 2026 (tests/fixtures/sources/
    SOURCE.md, "Bluesky"):

    - searchPosts over ``posts`` (sortAt order, ``since`` inclusive, ``until`` exclusive, offset cursors);
    - without a bearer token: ``public_refuses = "cursor"`` answers a search carrying a cursor with 403 and
      an HTML page, ``"all"`` every search; None answers them;
    - with one: an unknown token is 401 ``InvalidToken``, an expired one 400 ``ExpiredToken``;
    - createSession issues an access token of 120 minutes and a refresh token of 90 days, and answers
      429 ``RateLimitExceeded`` past 30 logins in 5 minutes or 100 in a day; refreshSession takes the
      refresh token as bearer and rotates it (the old one is revoked);
    - every answer carries ``RateLimit-*`` headers, the reset in epoch seconds.

    ``now`` is the fake's clock; tests share it with the collector's to simulate days without sleeping.
    """

    def __init__(self, server: FakeServer):
        self.server = server
        self.posts: list[dict] = []
        self.public_refuses: str | None = "cursor"
        self.now = lambda: datetime.now(UTC)
        self.logins: list[datetime] = []
        self.refreshes = 0
        self.access: dict[str, datetime] = {}
        self.refresh: dict[str, datetime] = {}
        server.route(SEARCH, self.search)
        server.route(CREATE_SESSION, self.create_session, method="POST")
        server.route(REFRESH_SESSION, self.refresh_session, method="POST")

    def _limits(self, remaining: int, limit: int = 3000, window: int = 300) -> dict[str, str]:
        reset = int((self.now() + timedelta(seconds=window)).timestamp())
        return {"RateLimit-Limit": str(limit), "RateLimit-Remaining": str(max(0, remaining)),
                "RateLimit-Reset": str(reset), "RateLimit-Policy": f"{limit};w={window}"}

    def _bearer(self, request) -> str | None:
        value = request.headers.get("Authorization", "")
        return value.removeprefix("Bearer ") if value.startswith("Bearer ") else None

    def search(self, request) -> dict | Reply:
        token = self._bearer(request)
        if token is None:
            paging = "cursor" in request.params
            if self.public_refuses == "all" or (self.public_refuses == "cursor" and paging):
                return Reply(HTML_403, status=403, content_type="text/html")
        elif token not in self.access:
            return Reply({"error": "InvalidToken", "message": "Token could not be verified"}, 401)
        elif self.access[token] <= self.now():
            return Reply({"error": "ExpiredToken", "message": "Token has expired"}, 400)
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
        return Reply(answer, headers=self._limits(2999))

    def create_session(self, request) -> dict | Reply:
        now = self.now()
        self.logins.append(now)
        day = [t for t in self.logins if now - t < timedelta(days=1)]
        recent = [t for t in day if now - t < timedelta(minutes=5)]
        if len(day) > LOGINS_PER_DAY or len(recent) > LOGINS_PER_5_MIN:
            return Reply({"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}, 429,
                         self._limits(0, LOGINS_PER_DAY, 86400))
        if request.body != {"identifier": ENV["BLUESKY_HANDLE"], "password": ENV["BLUESKY_APP_PASSWORD"]}:
            return Reply({"error": "AuthenticationRequired", "message": "Invalid identifier or password"},
                         401)
        return Reply(self._issue(), headers=self._limits(LOGINS_PER_DAY - len(day), LOGINS_PER_DAY, 86400))

    def refresh_session(self, request) -> dict | Reply:
        token = self._bearer(request)
        if token not in self.refresh:
            return Reply({"error": "InvalidToken", "message": "Token has been revoked"}, 400)
        if self.refresh.pop(token) <= self.now():
            return Reply({"error": "ExpiredToken", "message": "Token has expired"}, 400)
        self.refreshes += 1
        return self._issue()

    def _issue(self) -> dict:
        now = self.now()
        access = jwt("com.atproto.access", now + ACCESS_LIFETIME)
        refresh = jwt("com.atproto.refresh", now + REFRESH_LIFETIME)
        self.access[access] = now + ACCESS_LIFETIME
        self.refresh[refresh] = now + REFRESH_LIFETIME
        return {**SESSION, "accessJwt": access, "refreshJwt": refresh}

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
def session_file(tmp_path: Path) -> Path:
    return tmp_path / "dipwatch.db.bluesky-session"


@pytest.fixture
def make_collector(fake: FakeBluesky, sleeps: list[float], session_file: Path):
    def _make(env: dict[str, str] | None = None, **settings) -> BlueskyCollector:
        collector = make_bluesky({"base_url": fake.server.url, "auth_url": fake.server.url, **settings},
                                 ENV if env is None else env)
        collector.keep_session_in(str(session_file))
        collector.sleep = sleeps.append
        collector.clock = fake.now
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
def test_a_session_is_the_default_and_the_bearer_token_goes_to_the_pds(fake, make_collector):
    fake.posts = [view(1, T0)]
    pages, _ = run(make_collector(), since=T0 - timedelta(days=1))
    assert ids(pages) == [view(1, T0)["uri"]]
    assert len(fake.logins) == 1
    (search,) = fake.searches()
    assert search.headers["Authorization"] == f"Bearer {next(iter(fake.access))}"


def test_without_credentials_the_source_is_skipped_not_a_config_error(fake, make_collector):
    with pytest.raises(SourceUnavailableError, match="set BLUESKY_HANDLE and BLUESKY_APP_PASSWORD") as exc:
        make_collector(env={})
    assert not exc.value.missing_config  # exit 1 for Bluesky; other sources go on
    with pytest.raises(SourceUnavailableError, match="set BLUESKY_APP_PASSWORD"):
        make_collector(env={"BLUESKY_HANDLE": "someone.bsky.social"})
    assert fake.server.requests == []


def test_anonymous_search_refused_on_its_cursor_page_goes_on_with_a_session(fake, make_collector):
    fake.posts = [view(n, T0 - timedelta(minutes=n)) for n in range(150)]
    pages, _ = run(make_collector(require_session=False), since=T0 - timedelta(days=1))
    assert len(set(ids(pages))) == 150
    first, refused, *rest = fake.searches()
    assert "Authorization" not in first.headers
    assert "Authorization" not in refused.headers
    assert refused.params["cursor"] == "100"
    assert [r.params["cursor"] for r in rest] == ["100"]
    assert rest[0].headers["Authorization"].startswith("Bearer ")
    assert len(fake.logins) == 1


def test_the_session_is_kept_between_runs_owner_only_and_never_logged(fake, make_collector, session_file,
                                                                      caplog):
    caplog.set_level(logging.DEBUG)
    fake.posts = [view(1, T0)]
    run(make_collector(), since=T0 - timedelta(days=1))
    run(make_collector(), since=T0 - timedelta(days=1))
    assert len(fake.logins) == 1
    assert stat.S_IMODE(os.stat(session_file).st_mode) == 0o600
    kept = json.loads(session_file.read_text())
    assert kept["accessJwt"] in fake.access
    assert kept["refreshJwt"] in fake.refresh
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    for secret in (kept["accessJwt"], kept["refreshJwt"], ENV["BLUESKY_APP_PASSWORD"]):
        assert secret not in logged


def test_a_session_file_readable_by_others_is_made_owner_only(fake, make_collector, session_file):
    run(make_collector(), since=T0 - timedelta(days=1))
    os.chmod(session_file, 0o644)
    run(make_collector(), since=T0 - timedelta(days=1))
    assert stat.S_IMODE(os.stat(session_file).st_mode) == 0o600
    assert len(fake.logins) == 1


def test_an_expiring_access_token_is_refreshed_with_the_refresh_token(fake, make_collector, session_file):
    clock = [datetime.now(UTC)]
    fake.now = lambda: clock[0]
    run(make_collector(), since=T0 - timedelta(days=1))
    old_refresh = json.loads(session_file.read_text())["refreshJwt"]
    clock[0] += timedelta(minutes=118)  # within five minutes of the access token's exp
    run(make_collector(), since=T0 - timedelta(days=1))
    (refresh,) = [r for r in fake.server.requests if r.path == REFRESH_SESSION]
    assert refresh.headers["Authorization"] == f"Bearer {old_refresh}"
    assert (len(fake.logins), fake.refreshes) == (1, 1)
    assert json.loads(session_file.read_text())["refreshJwt"] in fake.refresh  # the rotated one


def test_a_refused_refresh_logs_in_again(fake, make_collector):
    clock = [datetime.now(UTC)]
    fake.now = lambda: clock[0]
    run(make_collector(), since=T0 - timedelta(days=1))
    fake.refresh.clear()  # revoked (an app password deleted and made again)
    clock[0] += timedelta(hours=3)
    run(make_collector(), since=T0 - timedelta(days=1))
    assert len(fake.logins) == 2


def test_a_token_refused_mid_run_is_renewed_once(fake, make_collector):
    fake.posts = [view(1, T0)]
    run(make_collector(), since=T0 - timedelta(days=1))
    fake.access.clear()  # the PDS forgot it: 401 InvalidToken
    pages, _ = run(make_collector(), since=T0 - timedelta(days=1))
    assert ids(pages) == [view(1, T0)["uri"]]
    assert (len(fake.logins), fake.refreshes) == (1, 1)


def test_logins_stop_at_max_logins_per_day(fake, make_collector):
    clock = [datetime.now(UTC)]
    fake.now = lambda: clock[0]
    for _ in range(2):
        run(make_collector(max_logins_per_day=2), since=T0 - timedelta(days=1))
        fake.refresh.clear()
        clock[0] += timedelta(hours=3)
    with pytest.raises(SourceUnavailableError, match="2 logins in the last 24 hours"):
        run(make_collector(max_logins_per_day=2), since=T0 - timedelta(days=1))
    assert len(fake.logins) == 2
    clock[0] += timedelta(days=1)
    run(make_collector(max_logins_per_day=2), since=T0 - timedelta(days=1))
    assert len(fake.logins) == 3


def test_wrong_app_password_is_refused_without_showing_it(fake, make_collector):
    with pytest.raises(SourceUnavailableError, match="check BLUESKY_HANDLE and BLUESKY_APP_PASSWORD") as exc:
        run(make_collector(env={**ENV, "BLUESKY_APP_PASSWORD": "wrong-pass-word"}))
    assert "wrong-pass-word" not in str(exc.value)
    assert exc.value.missing_config


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


# a week of scheduled runs ------------------------------------------------------------------------
RUNS_PER_WEEK = 7 * 24 * 6  # `dipwatch collect` every 10 minutes


def test_a_week_of_ten_minute_runs_logs_in_once_and_refreshes(fake, tmp_path, monkeypatch):
    """Each run is a new collector, as each cron run is a new process: only the session file carries
    the session over. The clock is simulated (shared by the fake and the collector); nothing sleeps."""
    clock = [datetime(2026, 11, 30, tzinfo=UTC)]
    fake.now = lambda: clock[0]
    monkeypatch.setattr(BlueskyCollector, "clock", staticmethod(lambda: clock[0]))
    monkeypatch.setattr(HttpClient, "sleep", staticmethod(lambda seconds: None))
    fake.posts = [view(1, datetime.now(UTC) - timedelta(hours=1))]
    url = fake.server.url
    config = tmp_path / "dipwatch.toml"
    config.write_text(f'[sources.bluesky]\nbase_url = "{url}"\nauth_url = "{url}"\n'
                      '[brands.acme]\nterms = ["Acme"]\n[brands.acme.sources.bluesky]\n', encoding="utf-8")
    settings = load_settings(db=str(tmp_path / "week.db"), config=config, env={}, cwd=tmp_path)
    codes = []
    with Store(settings.db_url) as store:
        for _ in range(RUNS_PER_WEEK):
            codes.append(run_collect(settings, store, env=ENV))
            clock[0] += timedelta(minutes=10)
        assert store.count_posts("acme") == 1
    assert set(codes) == {0}
    assert len(fake.logins) == 1
    # A refresh whenever the 120-minute access token is within five minutes of its end: every 12 runs.
    assert fake.refreshes == RUNS_PER_WEEK // 12 - 1
    per_day = [sum(1 for t in fake.logins if t.date() == day.date()) for day in
               (datetime(2026, 11, 30, tzinfo=UTC) + timedelta(days=d) for d in range(7))]
    assert max(per_day) <= LOGINS_PER_DAY
    searches = fake.searches()
    assert len(searches) == RUNS_PER_WEEK
    assert all(r.headers["Authorization"].removeprefix("Bearer ") in fake.access for r in searches)
    print(f"{RUNS_PER_WEEK} runs: {len(fake.logins)} login(s), {fake.refreshes} refreshes, "
          f"{len(searches)} searches")
