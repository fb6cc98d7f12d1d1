"""The App Store collector against a local customer-reviews feed (fake_http.py) in Apple's JSON shape."""

from __future__ import annotations

import copy
import csv
import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fake_http import FakeServer

from collectors.appstore import (
    FEED,
    FEEDS,
    AppStoreCollector,
    brand_apps,
    feed_entries,
    make_appstore,
    review_to_post,
)
from collectors.base import Budget, CollectorError, Page, SourceUnavailableError
from dipwatch.core.brands import Brand
from dipwatch.core.records import Post

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sources"
ANSWER = json.loads((FIXTURES / "appstore_customer_reviews.json").read_text(encoding="utf-8"))
ENTRIES = ANSWER["feed"]["entry"]
APP = "1493012345"
ACME = Brand(key="acme", name="Acme", terms=("Acme",),
             sources={"appstore": {"app_ids": [int(APP)], "countries": ["gb"]}})
T0 = datetime(2024, 11, 21, 12, 0, tzinfo=UTC)


def review(number: int, hours: float, stars: int = 2) -> dict:
    """A review entry like the fixture's first, ``hours`` after T0."""
    made = copy.deepcopy(ENTRIES[0])
    made["id"]["label"] = str(11900000000 + number)
    made["updated"]["label"] = (T0 + timedelta(hours=hours)).astimezone(
        datetime.now().astimezone().tzinfo).isoformat()
    made["im:rating"]["label"] = str(stars)
    made["title"]["label"] = f"Review {number}"
    return made


class FakeFeed:
    """Apple's customer-reviews feed for one app in ``gb``: ``reviews`` newest-first, 50 a page, under
    every known URL form (``FEEDS``). As reported in 2026 (SOURCE.md, "App Store"), the forms listed in
    ``empty_forms`` (indexes into ``FEEDS``) answer an empty feed although the app has reviews."""

    def __init__(self, server: FakeServer):
        self.server = server
        self.reviews: list[dict] = []
        self.empty_forms: set[int] = set()
        for number, form in enumerate(FEEDS):
            for page in range(1, 11):
                server.route(form.format(country="gb", page=page, app_id=APP),
                             lambda request, number=number: self.page(request, number))

    def page(self, request, form: int = 0) -> dict:
        number = int(request.path.split("page=")[1].split("/")[0])
        ordered = sorted(self.reviews, key=lambda r: r["updated"]["label"], reverse=True)
        answer = copy.deepcopy(ANSWER)
        chunk = [] if form in self.empty_forms else ordered[(number - 1) * 50:number * 50]
        if chunk:
            answer["feed"]["entry"] = chunk
        else:
            del answer["feed"]["entry"]  # what the feed sends past its last review
        return answer

    def pages_asked(self) -> list[int]:
        return [int(r.path.split("page=")[1].split("/")[0]) for r in self.server.requests]


@pytest.fixture
def fake() -> Iterator[FakeFeed]:
    with FakeServer() as server:
        yield FakeFeed(server)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def collector(fake: FakeFeed, sleeps: list[float]) -> AppStoreCollector:
    made = make_appstore({"base_url": fake.server.url}, {})
    made.sleep = sleeps.append
    return made


def run(collector: AppStoreCollector, checkpoints: dict[str, str] | None = None,
        pages: int | None = None) -> tuple[list[Page], dict[str, str]]:
    stored = dict(checkpoints or {})
    got = []
    for page in collector.pages(ACME, stored.copy(), None, Budget.seconds(30)):
        got.append(page)
        if page.checkpoint:
            stored[page.checkpoint[0]] = page.checkpoint[1]
        if pages is not None and len(got) == pages:
            break
    return got, stored


def ids(pages: list[Page]) -> list[str]:
    return [post.post_id for page in pages for post, _ in page.posts]


# the boundary ------------------------------------------------------------------------------------
def test_review_maps_to_post_with_its_rating():
    assert review_to_post("gb", ENTRIES[0]) == Post(
        source="appstore", post_id="gb:11941208764", kind="review", rating=1, engagement=4,
        created_at=datetime(2024, 11, 21, 18, 42, 8, tzinfo=UTC), author="Basket-case-77",
        text="Can't check out\n\nApp crashes every time I press Pay. Three days now. Moving to another shop.",
        url="https://itunes.apple.com/gb/review?id=1493012345&type=Purple%20Software")
    assert review_to_post("gb", ENTRIES[1]).rating == 4


def test_rating_outside_one_to_five_is_dropped_and_the_review_kept(caplog):
    with caplog.at_level(logging.WARNING, logger="collectors.appstore"):
        post = review_to_post("gb", ENTRIES[2])
    assert post.rating is None
    assert post.text.startswith("Login loop\n\n")
    assert "gb:11939655301 has rating 7, outside 1-5" in caplog.text


def test_feed_with_one_review_or_none_and_the_app_entry_of_older_feeds():
    single = {"feed": {"entry": ENTRIES[0]}}
    assert [e["id"]["label"] for e in feed_entries(single, "p")] == ["11941208764"]
    assert feed_entries({"feed": {"title": {"label": "iTunes Store: Customer Reviews"}}}, "p") == []
    app_entry = {"im:name": {"label": "Acme Shopping"}, "id": {"label": "1493012345"}}
    assert review_to_post("gb", app_entry) is None
    with pytest.raises(CollectorError, match="expected a customer-reviews feed"):
        feed_entries({"results": []}, "/gb/rss/customerreviews/page=1/id=1/sortby=mostrecent/json")


def test_brand_apps_validates_ids_and_countries():
    brand = Brand(key="acme", name="Acme", terms=("Acme",),
                  sources={"appstore": {"app_ids": ["id1493012345", 284882215], "countries": ["GB", "us"]}})
    assert brand_apps(brand) == (["1493012345", "284882215"], ["gb", "us"])
    bad = Brand(key="acme", name="Acme", terms=("Acme",), sources={"appstore": {"app_ids": ["acme-app"]}})
    with pytest.raises(CollectorError, match=r"brands\.acme\.sources\.appstore\.app_ids: 'acme-app'"):
        brand_apps(bad)
    with pytest.raises(SourceUnavailableError, match="max_pages: expected 1 to 10"):
        make_appstore({"max_pages": 11}, {})


# paging and checkpoints --------------------------------------------------------------------------
def test_first_run_reads_every_page_and_yields_oldest_first(fake, collector):
    fake.reviews = [review(n, n / 10) for n in range(120)]
    pages, stored = run(collector)
    assert fake.pages_asked() == [1, 2, 3]  # 50 + 50 + 20: a short page is the last
    assert [len(p.posts) for p in pages] == [50, 50, 20]
    assert ids(pages)[0] == "gb:11900000000"
    assert ids(pages)[-1] == "gb:11900000119"
    assert {term for page in pages for _, term in page.posts} == {"Acme"}  # every review is about the brand
    assert json.loads(stored[f"reviews:gb:{APP}"]) == {
        "updated": (T0 + timedelta(hours=11.9)).isoformat(), "ids": ["gb:11900000119"]}


def test_second_run_stops_at_the_checkpoint_and_adds_only_new(fake, collector):
    fake.reviews = [review(n, n) for n in range(120)]
    _, stored = run(collector)
    fake.reviews += [review(200, 130), review(201, 131)]
    asked_before = len(fake.server.requests)
    pages, _ = run(collector, stored)
    assert ids(pages) == ["gb:11900000200", "gb:11900000201"]
    assert fake.pages_asked()[asked_before:] == [1]


def test_a_killed_run_resumes_after_the_last_stored_page(fake, collector):
    fake.reviews = [review(n, n) for n in range(130)]
    first, stored = run(collector, pages=1)
    rest, _ = run(collector, stored)
    assert ids(first) + ids(rest) == [f"gb:{11900000000 + n}" for n in range(130)]


# faults through collectors/http.py ----------------------------------------------------------------
def test_429_waits_then_goes_on(fake, collector, sleeps):
    fake.reviews = [review(1, 1)]
    fake.server.fail("/gb/rss/", "status", status=429, retry_after="5")
    pages, _ = run(collector)
    assert ids(pages) == ["gb:11900000001"]
    assert sleeps == [5.0]


def test_malformed_json_fails_the_brand(fake, collector):
    fake.server.fail("/gb/rss/", "badjson")
    with pytest.raises(CollectorError, match="not valid JSON"):
        run(collector)


def test_403_is_the_source_refusing_us(fake, collector):
    fake.server.fail("/gb/rss/", "status", status=403)
    with pytest.raises(SourceUnavailableError, match="HTTP 403"):
        run(collector)


# end to end ------------------------------------------------------------------------------------
def test_collect_command_stores_reviews_with_their_ratings(fake, cli_run, write):
    fake.reviews = copy.deepcopy(ENTRIES)
    write("dipwatch.toml", f'[sources.appstore]\nbase_url = "{fake.server.url}"\n[brands.acme]\n'
                           'name = "Acme"\nterms = ["Acme"]\n[brands.acme.sources.appstore]\n'
                           f'app_ids = [{APP}]\ncountries = ["gb"]\n')
    result = cli_run(["collect"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(cli_run(["export", "posts", "--brand", "acme"]).output)))
    got = sorted((r["source"], r["post_id"], r["kind"], r["rating"], r["term"]) for r in rows)
    assert got == [("appstore", "gb:11939655301", "review", "", "Acme"),
                   ("appstore", "gb:11940977120", "review", "4", "Acme"),
                   ("appstore", "gb:11941208764", "review", "1", "Acme")]


# the feed as reported in 2026 ---------------------------------------------------------------------------
def test_an_empty_url_form_is_followed_by_the_next_one(fake, collector):
    fake.reviews = [review(n, -n) for n in range(60)]
    fake.empty_forms = {0}
    pages, _ = run(collector)
    assert len(ids(pages)) == 60
    asked = [r.path for r in fake.server.requests]
    assert asked[0] == FEED.format(country="gb", page=1, app_id=APP)
    assert asked[1:] == [FEEDS[1].format(country="gb", page=n, app_id=APP) for n in (1, 2)]
    assert [w for page in pages for w in page.warnings] == []


def test_an_app_with_reviews_answering_none_under_every_form_raises_a_warning(fake, collector):
    fake.reviews = [review(n, -n) for n in range(3)]
    _, stored = run(collector)
    fake.empty_forms = set(range(len(FEEDS)))
    pages, after = run(collector, stored)
    (warning,) = [w for page in pages for w in page.warnings]
    assert warning.startswith(f"gb:{APP}: every URL form of the reviews feed answered no reviews")
    assert after == stored  # nothing moves
    assert len(fake.server.requests) == 1 + len(FEEDS)


def test_an_app_never_reviewed_is_quiet(fake, collector):
    pages, stored = run(collector)
    assert (pages, stored) == ([], {})
    assert len(fake.server.requests) == len(FEEDS)
