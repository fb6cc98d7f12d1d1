"""The Reddit collector: praw itself against the local Reddit server (reddit_server.py)."""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import praw.config
import prawcore
import prawcore.sessions
import pytest
from reddit_server import FIXTURES, TOKEN, RedditServer, populate, search_matches

from collectors.base import Budget, BudgetExceededError, CollectorError, Page, SourceUnavailableError
from collectors.reddit import Cursor, RedditCollector, make_reddit, prune_deleted, search_query
from collectors.reddit_items import comment_to_post, submission_to_post
from dipwatch.core.brands import Brand
from dipwatch.core.records import Post

SENTINEL = "sekrit-SENTINEL-123"
ACME = Brand(key="acme", name="Acme", terms=("Acme", "Acme Retail"),
             sources={"reddit": {"subreddits": ["unitedkingdom"]}})


def run(collector: RedditCollector, brand: Brand = ACME, checkpoints: dict[str, str] | None = None,
        since: datetime | None = None, seconds: float = 60) -> tuple[list[Page], dict[str, str]]:
    """All pages of one brand, and the checkpoints as the job would have stored them."""
    stored = dict(checkpoints or {})
    pages = []
    for page in collector.pages(brand, stored.copy(), since, Budget.seconds(seconds)):
        pages.append(page)
        if page.checkpoint:
            stored[page.checkpoint[0]] = page.checkpoint[1]
    return pages, stored


def ids(pages: list[Page], kind: str | None = None) -> list[str]:
    return [post.post_id for page in pages for post, _ in page.posts if kind in (None, post.kind)]


def search_requests(server: RedditServer) -> list[dict[str, str]]:
    return [r.query for r in server.state.requests if r.path.endswith("/search/")]


# the boundary ------------------------------------------------------------------------------------
def test_submission_from_recorded_search_result_maps_to_post():
    data = json.loads((FIXTURES / "search_listing.json").read_text())["data"]["children"][0]["data"]
    post = submission_to_post(data)
    assert post == Post(
        source="reddit", post_id="t3_3gpbiu", kind="post", author="dClauzel", engagement=0,
        created_at=datetime(2015, 8, 12, 9, 8, 34, tzinfo=UTC),
        text=data["title"] + "\n\n" + data["selftext"],
        url="https://www.reddit.com/r/redditdev/comments/3gpbiu/prawoauth2util_problem_using_get_banned_raise/",
    )


def test_comment_without_permalink_and_deleted_author_maps_to_post():
    thread = json.loads((FIXTURES / "submission_comments.json").read_text())
    data = thread[1]["data"]["children"][0]["data"]  # t1_cklfmye (2014): no permalink field
    post = comment_to_post(data)
    assert (post.post_id, post.kind, post.parent_id, post.author) == (
        "t1_cklfmye", "comment", "t3_2gmzqe", "paneer_burrito")
    assert post.url == "https://www.reddit.com/comments/2gmzqe/_/cklfmye/"
    assert post.created_at == datetime.fromtimestamp(1411005112, UTC)
    deleted = json.loads((FIXTURES / "deleted_comments.json").read_text())["data"]["children"][1]["data"]
    assert comment_to_post(deleted).author is None  # t1_cu5v4e7: "[deleted]" author, text kept
    assert comment_to_post(deleted).text.startswith("That lady recording")


def test_search_query_quotes_phrases_escapes_specials_and_ors_terms():
    assert search_query(("Acme", "Acme Retail", "acme.com", "M&S", "AT&T+", "Not", 'say "hi"')) == (
        'Acme OR "Acme Retail" OR acme.com OR M\\&S OR AT\\&T\\+ OR "Not" OR "say \\"hi\\""')
    assert search_matches(search_query(("M&S",)), "queue at m&s") is True


def test_cursor_advances_floor_and_keeps_only_ids_above_it():
    cursor = Cursor().with_seen({"t3_a": 1000, "t3_b": 5000})
    advanced = cursor.advanced({"t3_c": 6000}, overlap=1500)
    assert advanced == Cursor(floor=4500, seen={"t3_b": 5000, "t3_c": 6000})
    assert Cursor.decode(advanced.encode()) == advanced
    assert Cursor.decode("not json") == Cursor()


# paging and checkpoints --------------------------------------------------------------------------
def test_pages_through_several_search_pages_then_second_run_adds_only_new(reddit_server, collector):
    state = reddit_server.state
    populate(state, "unitedkingdom", 250, comments_per_post=2)
    first, checkpoints = run(collector)

    assert len(ids(first, "post")) == 250
    assert len(set(ids(first))) == 750  # each submission with its two comments, none twice
    pages = search_requests(reddit_server)
    assert len(pages) == 3
    assert [p.get("after") is None for p in pages] == [True, False, False]
    assert pages[0]["q"] == 'Acme OR "Acme Retail"'
    assert pages[0]["sort"] == "new"
    assert all(p.checkpoint is not None for p in first)  # every page resumable
    assert set(checkpoints) == {"search:r/unitedkingdom:" + first[0].checkpoint[0].rsplit(":", 1)[1],
                                "comments:r/unitedkingdom"}

    state.requests.clear()
    populate(state, "unitedkingdom", 3, comments_per_post=1)
    second, _ = run(collector, checkpoints=checkpoints)
    new = [pid for pid in ids(second) if pid not in set(ids(first))]
    assert sorted(ids(second)) == sorted(new)
    assert len(ids(second, "post")) == 3
    assert len(ids(second, "comment")) == 3
    assert len(search_requests(reddit_server)) == 1  # stopped at the checkpoint, did not page on


def test_walk_stops_at_the_checkpoint_instead_of_paging_to_the_end(reddit_server, collector):
    populate(reddit_server.state, "unitedkingdom", 250)
    _, checkpoints = run(collector)
    reddit_server.state.requests.clear()
    populate(reddit_server.state, "unitedkingdom", 150)
    second, _ = run(collector, checkpoints=checkpoints)
    assert len(ids(second, "post")) == 150
    assert len(search_requests(reddit_server)) == 2  # 150 new + overlap, not all 400


def test_run_cut_off_midway_resumes_without_losing_or_refetching(reddit_server, make_collector):
    state = reddit_server.state
    populate(state, "unitedkingdom", 120, comments_per_post=1)
    clean, _ = run(make_collector())
    collector = make_collector()
    stored: set[str] = set()
    checkpoints: dict[str, str] = {}
    walk = collector.pages(ACME, {}, None, Budget.seconds(60))
    for page in [next(walk) for _ in range(3)]:  # the job stored three pages, then was killed
        stored |= {post.post_id for post, _ in page.posts}
        checkpoints[page.checkpoint[0]] = page.checkpoint[1]
    walk.close()
    state.requests.clear()

    resumed, _ = run(collector, checkpoints=checkpoints)
    assert stored | set(ids(resumed)) == set(ids(clean))
    assert not stored & set(ids(resumed))  # what was stored is not yielded (nor fetched) again
    threads = [p for p in state.paths("GET") if p.startswith("/comments/")]
    assert len(threads) == 120 - 30


def test_since_limits_the_first_walk(reddit_server, collector):
    state = reddit_server.state
    populate(state, "unitedkingdom", 10)
    cutoff = state.clock
    populate(state, "unitedkingdom", 5)
    pages, _ = run(collector, since=datetime.fromtimestamp(cutoff + 1, UTC))
    assert len(ids(pages, "post")) == 5


def test_search_hit_matching_only_inside_another_word_is_dropped(reddit_server, collector):
    state = reddit_server.state
    kept = state.add_submission("unitedkingdom", "Next's website is down", "cannot order")
    loose = state.add_submission("unitedkingdom", "Nextdoor app broken", "ask the nextdoor neighbours")
    brand = Brand(key="next", name="Next", terms=("Next",),
                  sources={"reddit": {"subreddits": ["unitedkingdom"]}})
    pages, _ = run(collector, brand)
    assert ids(pages, "post") == [kept]
    listed = [r for r in state.requests if r.path.endswith("/search/")]
    assert loose != kept
    assert search_matches(listed[0].query["q"], "Nextdoor app broken")  # the server did list it


def test_thread_comments_expand_more_stub_and_subreddit_comments_are_matched(reddit_server, collector):
    state = reddit_server.state
    link = state.add_submission("unitedkingdom", "Acme down?", "checkout fails",
                                comments=tuple(f"me too {n}" for n in range(12)))
    other = state.add_submission("unitedkingdom", "Weather thread", "rain")
    mention = state.add_comment(other, "acme retail app is dead for me too")
    state.add_comment(other, "lovely weather")
    pages, _ = run(collector)
    thread = [p for page in pages for p, _ in page.posts if p.parent_id == link]
    assert len(thread) == 12  # 5 inline + 7 behind "more", expanded with one /api/morechildren
    assert state.paths("POST").count("/api/morechildren/") == 1
    found = {p.post_id: term for page in pages for p, term in page.posts}
    assert found[mention] == "Acme Retail"
    assert other not in found
    assert {term for p, term in (x for page in pages for x in page.posts) if p.parent_id == link} == {"Acme"}


def test_subreddit_all_searches_everything_and_skips_the_comment_firehose(reddit_server, collector):
    state = reddit_server.state
    state.add_submission("unitedkingdom", "Acme outage", "")
    state.add_submission("CasualUK", "acme again", "")
    brand = Brand(key="acme", name="Acme", terms=("Acme",))
    pages, checkpoints = run(collector, brand)
    assert len(ids(pages, "post")) == 2
    assert not [p for p in state.paths() if p.endswith("/comments/") and p.startswith("/r/")]
    assert [k.split(":")[0] for k in checkpoints] == ["search"]


def test_bad_subreddit_name_is_a_collector_error_naming_the_field(collector):
    brand = Brand(key="acme", name="Acme", terms=("Acme",), sources={"reddit": {"subreddits": ["no spaces"]}})
    with pytest.raises(CollectorError, match=r"brands\.acme\.sources\.reddit\.subreddits: 'no spaces'"):
        run(collector, brand)


# rate limits and failures ------------------------------------------------------------------------
def test_429_waits_retry_after_then_succeeds(reddit_server, collector, sleeps):
    populate(reddit_server.state, "unitedkingdom", 3)
    reddit_server.state.fail("status", "/r/", times=2, status=429, retry_after="3")
    pages, _ = run(collector)
    assert len(ids(pages, "post")) == 3
    assert sleeps == [3.0, 3.0]


def test_429_wait_is_bounded_and_retries_are_finite(reddit_server, make_collector, sleeps):
    reddit_server.state.fail("status", "/r/", times=10, status=429, retry_after="3600")
    with pytest.raises(CollectorError, match=r"still 429 Too Many Requests .* after 2 waits"):
        run(make_collector(max_429_retries=2), seconds=600)
    assert sleeps == [60.0, 60.0]
    with pytest.raises(CollectorError, match=r"more than the .* left of the run's time budget"):
        run(make_collector(), seconds=30)


def test_repeated_503_is_a_collector_error_after_prawcore_retries(reddit_server, collector):
    reddit_server.state.fail("status", "/r/", times=3, status=503)
    with pytest.raises(CollectorError, match=r"503 server error for the search in r/unitedkingdom") as info:
        run(collector)
    assert not isinstance(info.value, SourceUnavailableError)
    assert [r.status for r in reddit_server.state.requests if r.path.startswith("/r/")] == [503] * 3


def test_two_503_then_success_is_absorbed_by_prawcore(reddit_server, collector):
    populate(reddit_server.state, "unitedkingdom", 2)
    reddit_server.state.fail("status", "/r/", times=2, status=503)
    pages, _ = run(collector)
    assert len(ids(pages, "post")) == 2


def test_401_stops_the_source(reddit_server, collector):
    reddit_server.state.fail("status", "/r/", times=99, status=401)
    with pytest.raises(SourceUnavailableError, match="refused the credentials") as info:
        run(collector)
    assert info.value.missing_config is False


def test_wrong_secret_stops_the_source(reddit_server, make_collector):
    reddit_server.state.client_secret = "something-else"
    with pytest.raises(SourceUnavailableError, match=r"refused the credentials \(401\)"):
        run(make_collector())


def test_403_of_a_private_subreddit_fails_only_this_brand(reddit_server, collector):
    body = json.dumps({"reason": "private", "message": "Forbidden", "error": 403})
    reddit_server.state.fail("status", "/r/", status=403, body=body)
    with pytest.raises(CollectorError, match="the subreddit is private") as info:
        run(collector)
    assert not isinstance(info.value, SourceUnavailableError)


def test_malformed_json_is_a_collector_error_with_a_clear_message(reddit_server, collector):
    reddit_server.state.fail("badjson", "/r/")
    expected = r"answer to the search in r/unitedkingdom is not valid JSON \(200, application/json, \d+ bytes"
    with pytest.raises(CollectorError, match=expected):
        run(collector)


def test_listing_item_without_its_fields_is_a_collector_error(reddit_server, collector):
    broken = {"kind": "Listing", "data": {"after": None, "children": [{"kind": "t3", "data": {"id": "x1"}}]}}
    reddit_server.state.fail("badjson", "/r/", body=json.dumps(broken))
    with pytest.raises(CollectorError, match=r"an item in r/unitedkingdom lacks an expected field"):
        run(collector)


def test_html_error_page_is_a_collector_error_with_a_clear_message(reddit_server, collector):
    reddit_server.state.fail("html", "/r/")
    with pytest.raises(CollectorError, match=r"not valid JSON \(200, text/html, .*HTML page '400 Bad"):
        run(collector)
    reddit_server.state.fail("html", "/r/", status=400)
    with pytest.raises(CollectorError, match=r"400 for the search in r/unitedkingdom \(HTML page '400 Bad"):
        run(collector)


def test_timeout_is_a_collector_error(reddit_server, make_collector):
    reddit_server.state.page_delay = 1.5
    with pytest.raises(CollectorError, match=r"no answer from 127\.0\.0\.1:\d+ .* within 1 s"):
        run(make_collector(timeout=1))


def test_budget_is_checked_between_requests(reddit_server, collector):
    populate(reddit_server.state, "unitedkingdom", 3)
    with pytest.raises(BudgetExceededError):
        run(collector, seconds=0)
    assert reddit_server.state.requests == []


# credentials and secrets -------------------------------------------------------------------------
def test_missing_credentials_name_the_variables(reddit_server):
    with pytest.raises(SourceUnavailableError) as info:
        make_reddit({"oauth_url": reddit_server.url}, {"REDDIT_CLIENT_ID": "abc"})
    message = str(info.value)
    assert info.value.missing_config is True
    assert "set REDDIT_CLIENT_SECRET, REDDIT_USER_AGENT (" in message
    assert "approval" in message
    assert "dipwatch import" in message


def test_unknown_setting_and_missing_praw_ini_section_are_config_errors(tmp_path, monkeypatch):
    with pytest.raises(SourceUnavailableError, match=r"sources\.reddit\.oauth: unknown setting") as info:
        make_reddit({"oauth": "x"}, {})
    assert info.value.missing_config
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setattr(praw.config.Config, "CONFIG", None)
    with pytest.raises(SourceUnavailableError, match=r"no usable section \[nosuch\]") as info:
        make_reddit({"site": "nosuch"}, {})
    assert info.value.missing_config


def test_praw_ini_site_supplies_credentials(reddit_server, tmp_path, monkeypatch):
    state = reddit_server.state
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(praw.config.Config, "CONFIG", None)  # praw reads praw.ini once per process
    Path("praw.ini").write_text(f"[dipwatch]\nclient_id={state.client_id}\nclient_secret={state.client_secret}\n"
                                "user_agent=python:dipwatch-tests:0.1\n")
    state.add_submission("unitedkingdom", "Acme down", "")
    collector = make_reddit({"site": "dipwatch", "oauth_url": reddit_server.url,
                             "reddit_url": reddit_server.url}, {})
    assert len(ids(run(collector)[0])) == 1


def test_sentinel_secret_never_in_errors_or_logs(reddit_server, caplog):
    state = reddit_server.state
    state.client_secret = SENTINEL
    env = {"REDDIT_CLIENT_ID": state.client_id, "REDDIT_CLIENT_SECRET": SENTINEL, "REDDIT_USER_AGENT": "t"}
    settings = {"oauth_url": reddit_server.url, "reddit_url": reddit_server.url, "timeout": 1}
    caplog.set_level(logging.DEBUG)
    populate(state, "unitedkingdom", 3, comments_per_post=1)
    scripted = [("status", {"status": 429, "retry_after": "0"}), ("status", {"status": 503, "times": 3}),
                ("status", {"status": 401, "times": 9}), ("badjson", {}), ("html", {}),
                ("html", {"status": 400}), ("status", {"status": 403})]
    messages = []
    for kind, options in [(None, {}), *scripted]:
        if kind:
            state.fail(kind, "/r/", **options)
        collector = make_reddit(settings, env)
        collector.sleep = lambda _s: None
        try:
            run(collector)
            prune_deleted(collector, ["t3_nope"])
        except CollectorError as exc:
            error: BaseException | None = exc
            while error is not None:
                messages.append(f"{error!r} {error}")
                error = error.__cause__ or error.__context__
    state.client_secret = "right-one"
    with pytest.raises(SourceUnavailableError) as info:
        run(make_reddit(settings, env))
    messages.append(str(info.value))
    assert len(messages) >= 8
    basic = base64.b64encode(f"{state.client_id}:{SENTINEL}".encode()).decode()
    for text in [*messages, caplog.text]:
        for form in (SENTINEL, TOKEN, basic, basic.rstrip("="), quote(basic, safe="")):
            assert form not in text


# deletion compliance -----------------------------------------------------------------------------
def test_prune_finds_deleted_removed_and_purged_items_in_batches(reddit_server, collector):
    state = reddit_server.state
    names = [state.add_submission("unitedkingdom", f"Acme {n}", "x") for n in range(230)]
    comment = state.add_comment(names[0], "acme is down")
    state.deleted[names[3]] = "[deleted]"
    state.deleted[comment] = "[removed]"
    state.purged.add(names[200])
    # Recorded items: t1_cu61tk1 was deleted (author and body "[deleted]"); t1_cu5v4e7's author
    # deleted the account but the comment stands.
    recorded = json.loads((FIXTURES / "deleted_comments.json").read_text())["data"]["children"]
    state.comments["t3_3hahrw"] = [c["data"] for c in recorded]
    gone = prune_deleted(collector, [*names, comment, "t1_cu61tk1", "t1_cu5v4e7"])
    assert gone == [names[3], names[200], comment, "t1_cu61tk1"]
    info = [r for r in state.requests if r.path == "/api/info/"]
    assert [len(r.query["id"].split(",")) for r in info] == [100, 100, 33]


def test_prawcore_retry_sleep_is_patchable():
    """Pins the private prawcore API the autouse fixture patches (prawcore 4.0)."""
    strategy = prawcore.sessions.FiniteRetryStrategy
    assert strategy.DEFAULT_RETRIES == 2
    assert strategy(retries=1)._sleep_seconds() is None  # patched; unpatched it returns 0-2 s
    assert prawcore.__version__.split(".")[0] == "4"
