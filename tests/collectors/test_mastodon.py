"""The Mastodon collector against a local server (fake_http.py) speaking the REST API's Status JSON."""

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

from collectors.base import Budget, CollectorError, Page, SourceUnavailableError
from collectors.mastodon import (
    SEARCH,
    SECOND,
    MastodonCollector,
    brand_settings,
    html_to_text,
    make_mastodon,
    snowflake,
    status_to_post,
)
from dipwatch.core.brands import Brand
from dipwatch.core.records import Post

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sources"
TIMELINE = json.loads((FIXTURES / "mastodon_tag_timeline.json").read_text(encoding="utf-8"))
INSTANCE = "mastodon.example"
ACME = Brand(key="acme", name="Acme", terms=("Acme",), sources={"mastodon": {"instances": [INSTANCE]}})
T0 = datetime(2024, 11, 21, 18, 0, tzinfo=UTC)
TOKEN = "mastodon-test-token-0001"


def status(minutes: float, text: str = "#Acme checkout is down again", number: int = 1,
           tagged: bool = True) -> dict:
    """A status like the fixture's first (tagged #acme), ``minutes`` after T0, with a Snowflake id of
    that time."""
    when = T0 + timedelta(minutes=minutes)
    made = copy.deepcopy(TIMELINE[0])
    made["id"] = str(int(snowflake(when)) + number)
    made["created_at"] = when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    made["content"] = f"<p>{text}</p>"
    made["url"] = f"https://{INSTANCE}/@kestrel/{made['id']}"
    made["tags"] = made["tags"] if tagged else []
    return made


class FakeMastodon:
    """One instance as it behaves in 2026 (tests/fixtures/sources/SOURCE.md, "Mastodon"): tag timelines
    (``min_id`` pages forward, ``max_id`` back, newest first) and, with a token, ``/api/v2/search`` over
    ``statuses``, whose ``min_id``/``max_id`` become ``created_at`` bounds cut to whole seconds.

    ``restricted`` (Mastodon 4.5 hashtag feeds for signed-in users only): ``"401"`` answers visitors 401,
    ``"empty"`` answers them an empty list. Every answer carries ``X-RateLimit-*`` (the reset an ISO time);
    past ``window_requests`` requests it answers 429 without ``Retry-After``, the window resetting
    ``window_seconds`` after ``now``."""

    def __init__(self, server: FakeServer):
        self.server = server
        self.statuses: list[dict] = []
        self.restricted: str | None = None
        self.window_requests, self.window_seconds, self.used = 300, 300, 0
        self.now = datetime.now(UTC)
        for tag in ("Acme", "acme", "AcmeRetail"):
            server.route(f"/api/v1/timelines/tag/{tag}", self.timeline)
        server.route(SEARCH, self.search)

    def _limited(self, body: object, status: int = 200) -> Reply:
        self.used += 1
        reset = (self.now + timedelta(seconds=self.window_seconds)).isoformat(timespec="microseconds")
        headers = {"X-RateLimit-Limit": str(self.window_requests),
                   "X-RateLimit-Remaining": str(max(0, self.window_requests - self.used)),
                   "X-RateLimit-Reset": reset.replace("+00:00", "Z")}
        if self.used > self.window_requests:
            return Reply({"error": "Too many requests"}, 429, headers)
        return Reply(body, status, headers)

    def _window(self, found: list[dict], params: dict[str, str]) -> list[dict]:
        key = int
        found = sorted(found, key=lambda s: key(s["id"]))
        if "max_id" in params:
            found = [s for s in found if key(s["id"]) < key(params["max_id"])]
        limit = int(params.get("limit", "20"))
        if "min_id" in params:  # the statuses just above min_id, answered newest first
            found = [s for s in found if key(s["id"]) > key(params["min_id"])][:limit]
            return found[::-1]
        return found[::-1][:limit]

    def timeline(self, request) -> Reply:
        if self.restricted and "Authorization" not in request.headers:
            if self.restricted == "401":
                return self._limited({"error": "This API requires an authenticated user"}, 401)
            return self._limited([])
        tag = request.path.rsplit("/", 1)[1].lower()
        found = [s for s in self.statuses if tag in {t["name"].lower() for t in s["tags"]}]
        return self._limited(self._window(found, request.params))

    def search(self, request) -> Reply:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._limited({"error": "The access token is invalid"}, 401)
        words = request.params["q"].strip('"').lower()
        found = [s for s in self.statuses if words in html_to_text(s["content"]).lower()]
        # Real search answers the newest `limit` matches in the range (not those just above min_id), the
        # range being created_at > second(min_id) and < second(max_id) (PR #26927, issue #32731).
        found = sorted(found, key=lambda s: int(s["id"]), reverse=True)
        if "min_id" in request.params:
            found = [s for s in found if created(s) > whole_second(request.params["min_id"])]
        if "max_id" in request.params:
            found = [s for s in found if created(s) < whole_second(request.params["max_id"])]
        answer = {"accounts": [], "statuses": found[:int(request.params.get("limit", "20"))], "hashtags": []}
        return self._limited(answer)

    def requests(self, part: str) -> list:
        return [r for r in self.server.requests if part in r.path]


def created(item: dict) -> datetime:
    return datetime.fromisoformat(item["created_at"].replace("Z", "+00:00"))


def whole_second(status_id: str) -> datetime:
    """The time of a Snowflake id, cut to the second as search's date filter cuts it."""
    return datetime.fromtimestamp((int(status_id) >> 16) // 1000, UTC)


@pytest.fixture
def fake() -> Iterator[FakeMastodon]:
    with FakeServer() as server:
        yield FakeMastodon(server)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_collector(fake: FakeMastodon, sleeps: list[float]):
    def _make(env: dict[str, str] | None = None, **settings) -> MastodonCollector:
        collector = make_mastodon({"base_urls": {INSTANCE: fake.server.url}, **settings}, env or {})
        collector.sleep = sleeps.append
        return collector

    return _make


def run(collector: MastodonCollector, checkpoints: dict[str, str] | None = None,
        since: datetime | None = T0 - timedelta(days=1), pages: int | None = None,
        brand: Brand = ACME) -> tuple[list[Page], dict[str, str]]:
    stored = dict(checkpoints or {})
    got = []
    for page in collector.pages(brand, stored.copy(), since, Budget.seconds(30)):
        got.append(page)
        if page.checkpoint:
            stored[page.checkpoint[0]] = page.checkpoint[1]
        if pages is not None and len(got) == pages:
            break
    return got, stored


def ids(pages: list[Page]) -> list[str]:
    return [post.post_id for page in pages for post, _ in page.posts]


# the boundary ------------------------------------------------------------------------------------
def test_status_maps_to_post_with_html_as_plain_text():
    assert status_to_post(INSTANCE, TIMELINE[0]) == Post(
        source="mastodon", post_id="mastodon.example:113522262147072017",
        created_at=datetime(2024, 11, 21, 18, 4, 12, tzinfo=UTC),
        text=("Anyone else getting errors from #Acme checkout? Tried three cards & it's still failing.\n\n"
              "Status page says all good: https://status.acme.example/incidents/42\nnot good."),
        kind="post", author="kestrel@mastodon.example", engagement=7,
        url="https://mastodon.example/@kestrel/113522262147072017")


def test_reply_with_content_warning_is_a_comment_under_its_parent():
    post = status_to_post(INSTANCE, TIMELINE[1])
    assert (post.kind, post.parent_id, post.author) == (
        "comment", "mastodon.example:113522249902237697", "ortolan@fosstodon.example")
    assert post.text == "shopping rant\n\n@kestrel same, the #ACME app logged me out and won't let me back in"


def test_reblog_is_read_as_the_boosted_status():
    wrapper = {"id": "113522270000000001", "created_at": "2024-11-21T18:06:00.000Z", "content": "",
               "reblog": TIMELINE[0], "account": {"acct": "booster"}}
    assert status_to_post(INSTANCE, wrapper).post_id == "mastodon.example:113522262147072017"


def test_tags_default_to_terms_without_spaces_and_instances_are_required():
    brand = Brand(key="acme", name="Acme", terms=("Acme", "Acme Retail", "acme"),
                  sources={"mastodon": {"instances": ["https://Mastodon.Social/"]}})
    settings = brand_settings(brand)
    assert settings["tags"] == {"Acme": "Acme", "AcmeRetail": "Acme Retail"}
    assert settings["instances"] == ["mastodon.social"]
    with pytest.raises(CollectorError, match=r"brands\.acme\.sources\.mastodon\.instances: expected a list"):
        brand_settings(Brand(key="acme", name="Acme", terms=("Acme",), sources={"mastodon": {}}))


# paging and checkpoints --------------------------------------------------------------------------
def test_tag_timeline_pages_forward_from_since_and_keeps_tagged_statuses(fake, make_collector):
    fake.statuses = [status(n / 10, number=n) for n in range(95)]
    fake.statuses.append(status(20, "New anvil arrived #acme #roadrunner", 500))
    fake.statuses.append(status(-60 * 48, "too old", 7))  # before --since
    pages, stored = run(make_collector())
    timeline = fake.requests("/timelines/tag/")
    assert timeline[0].params["min_id"] == snowflake(T0 - timedelta(days=1))
    assert len(timeline) == 4  # 96 statuses at 40 a page, then an empty page
    assert len(set(ids(pages))) == 96
    assert json.loads(stored["tag:mastodon.example:acme"])["id"] == fake.statuses[95]["id"]
    # Every page's checkpoint is its newest id: all below is stored, so a kill loses nothing.
    first = json.loads(pages[0].checkpoint[1])["id"]
    assert first == max((p["id"] for p in fake.statuses[:40]), key=int)


def test_second_run_adds_only_new_statuses_and_rereads_the_overlap(fake, make_collector):
    fake.statuses = [status(n, number=n) for n in range(3)]
    _, stored = run(make_collector())
    fake.statuses.append(status(4, number=9))
    late = status(1.5, "late federated #acme post", 8)  # id from its own created_at, below the cursor
    fake.statuses.append(late)
    pages, _ = run(make_collector(), stored, since=None)
    assert sorted(ids(pages)) == sorted([f"{INSTANCE}:{fake.statuses[3]['id']}", f"{INSTANCE}:{late['id']}"])


def test_search_needs_a_token_walks_down_and_matches_words_locally(fake, make_collector):
    fake.statuses = [status(n, f"the Acme app is down ({n})", n) for n in range(50)]
    fake.statuses.append(status(60, "acmeville fair today; acme nothing", 60))
    pages, stored = run(make_collector())
    assert not fake.requests(SEARCH)  # no token, no search
    fake.statuses.append(status(61, "Acmeville fair", 61, tagged=False))
    pages, stored = run(make_collector({"MASTODON_TOKEN": TOKEN}))
    searches = fake.requests(SEARCH)
    # 52 matches at 40 a page: the second page is below the first's lowest id (asked one second above
    # it, as search cuts max_id to whole seconds).
    lowest = int(fake.statuses[12]["id"])
    assert [r.params.get("max_id") for r in searches[:2]] == [None, str(lowest + SECOND)]
    assert f"{INSTANCE}:{fake.statuses[-1]['id']}" not in ids(pages)  # "Acmeville" is not "Acme"
    assert json.loads(stored["search:mastodon.example:Acme"]) == {"floor": fake.statuses[-1]["id"],
                                                                  "gap": None}


def test_a_killed_search_walk_resumes_without_missing_statuses(fake, make_collector):
    fake.statuses = [status(n, f"Acme down {n}", n) for n in range(100)]
    env = {"MASTODON_TOKEN": TOKEN}
    first, stored = run(make_collector(env, tokens={}), pages=4)  # 3 tag pages, 1 search page
    assert json.loads(stored["search:mastodon.example:Acme"])["gap"] is not None
    fake.statuses.append(status(200, "Acme still down", 200))
    rest, _ = run(make_collector(env), stored)
    found = set(ids(first) + ids(rest))
    assert found == {f"{INSTANCE}:{s['id']}" for s in fake.statuses}


def test_token_named_per_instance_must_be_set():
    with pytest.raises(SourceUnavailableError, match="ACME_SOCIAL_TOKEN is not set") as exc:
        make_mastodon({"tokens": {INSTANCE: "ACME_SOCIAL_TOKEN"}}, {})
    assert exc.value.missing_config


# faults through collectors/http.py ----------------------------------------------------------------
def test_429_waits_then_goes_on(fake, make_collector, sleeps):
    fake.statuses = [status(1)]
    fake.server.fail("/api/v1/timelines/tag/", "status", status=429, retry_after="2")
    pages, _ = run(make_collector())
    assert len(ids(pages)) == 1
    assert sleeps == [2.0]


def test_401_on_search_is_the_instance_refusing_us(fake, make_collector):
    fake.statuses = [status(1)]
    with pytest.raises(CollectorError, match=r"1 of 1 instances failed.*HTTP 401.*check its credentials"):
        run(make_collector({"MASTODON_TOKEN": "expired-token"}))


def test_html_page_instead_of_json_fails_the_brand(fake, make_collector):
    fake.server.fail("/api/v1/timelines/tag/", "html")
    with pytest.raises(CollectorError, match="expected JSON"):
        run(make_collector())


# end to end ------------------------------------------------------------------------------------
def test_collect_command_stores_mastodon_statuses(fake, cli_run, write):
    fake.statuses = copy.deepcopy(TIMELINE)
    instance = fake.server.url.removeprefix("http://")
    write("dipwatch.toml", f'[sources.mastodon]\nscheme = "http"\n[brands.acme]\nterms = ["Acme"]\n'
                           f'[brands.acme.sources.mastodon]\ninstances = ["{instance}"]\n')
    result = cli_run(["collect", "--since", "2024-11-21"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(cli_run(["export", "posts", "--brand", "acme"]).output)))
    assert sorted(r["post_id"] for r in rows) == sorted(f"{instance}:{s['id']}" for s in TIMELINE)
    assert {r["source"] for r in rows} == {"mastodon"}


# instances as they behave in 2026 ----------------------------------------------------------------------
OTHER = "other.example"
TWO = Brand(key="acme", name="Acme", terms=("Acme",), sources={"mastodon": {"instances": [INSTANCE, OTHER]}})
GLOBEX = Brand(key="globex", name="Globex", terms=("Globex",),
               sources={"mastodon": {"instances": [INSTANCE, OTHER], "tags": ["Acme"]}})


@pytest.fixture
def other() -> Iterator[FakeMastodon]:
    with FakeServer() as server:
        yield FakeMastodon(server)


def two_instances(fake: FakeMastodon, other: FakeMastodon, sleeps: list[float]) -> MastodonCollector:
    collector = make_mastodon({"base_urls": {INSTANCE: fake.server.url, OTHER: other.server.url}}, {})
    collector.sleep = sleeps.append
    return collector


def test_an_instance_restricting_hashtag_feeds_fails_alone(fake, other, sleeps):
    fake.restricted = "401"
    other.statuses = [status(1), status(2, number=2)]
    collector = two_instances(fake, other, sleeps)
    got: list[Page] = []
    with pytest.raises(CollectorError) as caught:
        got.extend(collector.pages(TWO, {}, T0 - timedelta(days=1), Budget.seconds(30)))
    assert sorted(ids(got)) == sorted(f"{OTHER}:{s['id']}" for s in other.statuses)
    message = str(caught.value)
    assert message.startswith("1 of 2 instances failed")
    assert "mastodon.example: GET" in message
    assert "restrict hashtag feeds to signed-in users" in message
    asked = len(fake.server.requests)
    with pytest.raises(CollectorError, match="1 of 2 instances failed"):
        list(collector.pages(GLOBEX, {}, T0 - timedelta(days=1), Budget.seconds(30)))
    assert len(fake.server.requests) == asked  # refused once: not asked again in this run


def test_a_rate_limit_window_minutes_away_fails_that_instance_at_once(fake, other, sleeps):
    fake.window_requests = 0  # spent: 429 with X-RateLimit-Reset five minutes ahead, no Retry-After
    other.statuses = [status(1)]
    collector = two_instances(fake, other, sleeps)
    got: list[Page] = []
    with pytest.raises(CollectorError, match=r"mastodon.example: .*429.*more than max_retry_after"):
        got.extend(collector.pages(TWO, {}, T0 - timedelta(days=1), Budget.seconds(30)))
    assert len(fake.server.requests) == 1  # no 1/2/4 s retries wasted against a 5-minute window
    assert sleeps == []
    assert ids(got) == [f"{OTHER}:{other.statuses[0]['id']}"]


def test_a_rate_limit_reset_seconds_away_is_waited_for(fake, make_collector, sleeps):
    fake.statuses = [status(1)]
    reset = (datetime.now(UTC) + timedelta(seconds=20)).isoformat().replace("+00:00", "Z")
    fake.server.fail("/api/v1/timelines/tag/", "status", status=429,
                     headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset})
    pages, _ = run(make_collector())
    assert len(ids(pages)) == 1
    assert len(sleeps) == 1
    assert 15 < sleeps[0] <= 20


def test_a_hashtag_feed_gone_silent_raises_a_warning_after_three_runs(fake, make_collector):
    fake.statuses = [status(1)]
    _, stored = run(make_collector())
    fake.restricted = "empty"
    warnings = []
    for _ in range(3):
        pages, stored = run(make_collector(), stored, since=None)
        warnings.append([w for page in pages for w in page.warnings])
    assert warnings[:2] == [[], []]
    (warning,) = warnings[2]
    assert warning.startswith("mastodon.example #Acme: the hashtag feed answered nothing in 3 runs in a row")
    assert "may restrict hashtag feeds" in warning
    fake.restricted = None
    pages, stored = run(make_collector(), stored, since=None)
    assert [w for page in pages for w in page.warnings] == []
    assert json.loads(stored["tag:mastodon.example:acme"])["empty"] == 0


def test_a_quiet_feed_that_still_shows_its_latest_status_raises_no_warning(fake, make_collector):
    fake.statuses = [status(1)]
    _, stored = run(make_collector())
    for _ in range(4):
        pages, stored = run(make_collector(), stored, since=None)
        assert [w for page in pages for w in page.warnings] == []


def test_search_pages_overlap_by_one_second_so_statuses_sharing_it_are_all_read(fake, make_collector):
    # 35 matches after T0 + 40 min, ten within that one second (90 ms apart), three before it: the first
    # page of 40 ends halfway through the second, and a max_id cut to the second would skip its other five.
    fake.statuses = [status(60 + n, f"Acme down {n}", n, tagged=False) for n in range(35)]
    fake.statuses += [status(n, f"Acme slow {n}", 200 + n, tagged=False) for n in range(3)]
    shared = T0 + timedelta(minutes=40)
    for n in range(10):
        made = status(40, f"Acme down again {n}", 100 + n, tagged=False)
        when = shared + timedelta(milliseconds=90 * n)
        made["id"] = str((int(when.timestamp() * 1000) << 16) + n)
        made["created_at"] = when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        fake.statuses.append(made)
    pages, _ = run(make_collector({"MASTODON_TOKEN": TOKEN}))
    found = ids(pages)
    assert sorted(set(found)) == sorted(f"{INSTANCE}:{s['id']}" for s in fake.statuses)
    assert len(found) == len(set(found))  # the overlap's statuses already read are dropped
