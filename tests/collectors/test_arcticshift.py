"""Reddit history through a local fake of the Arctic Shift API, and `dipwatch backfill reddit` end to end.

The fake answers ``/api/posts/search`` and ``/api/comments/search`` as Arctic Shift does
(https://github.com/ArthurHeitmann/arctic_shift/blob/master/api/README.md): ``{"data": [...]}``, items
filtered by ``subreddit``, ``after`` < ``created_utc`` < ``before``, sorted by ``created_utc`` with
``sort=asc``, at most ``limit`` (1-100). Items are Reddit's own JSON, built from the recorded Reddit
fixtures the live collector's tests use (tests/fixtures/reddit), without ``name`` (the archive need not
carry it), so the ids must come out as the live collector's fullnames all the same.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from fake_http import FakeServer, Reply, Request

from collectors.arcticshift import Cursor, checkpoint_query, make_arcticshift
from collectors.base import Budget, CollectorError
from collectors.http import HttpClient
from collectors.reddit_items import comment_to_post, submission_to_post
from dipwatch.core.brands import Brand
from dipwatch.core.records import Checkpoint
from dipwatch.jobs.ingest import save_batch
from dipwatch.store import Store

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "reddit"
SUBMISSION = json.loads((FIXTURES / "search_listing.json").read_text())["data"]["children"][0]["data"]
COMMENT = json.loads((FIXTURES / "subreddit_comments.json").read_text())["data"]["children"][0]["data"]
START = 1_714_521_600  # 2024-05-01T00:00:00Z
END = START + 14 * 86400
SUB = "unitedkingdom"
NEXT = Brand(key="next", name="Next", terms=("Next",))


def reddit_post(number: int, created: int, title: str, selftext: str = "", subreddit: str = SUB) -> dict:
    """A submission as Reddit (and so the archive) serves it; ``name`` is what Reddit adds on top."""
    item = copy.deepcopy(SUBMISSION)
    pid = f"p{number:05d}"
    item.update(id=pid, name=f"t3_{pid}", title=title, selftext=selftext, created_utc=created,
                created=created, subreddit=subreddit, author=f"user{number}", score=number % 7,
                permalink=f"/r/{subreddit}/comments/{pid}/slug/")
    return item


def reddit_comment(number: int, created: int, body: str, post: dict, subreddit: str = SUB) -> dict:
    item = copy.deepcopy(COMMENT)
    cid = f"c{number:05d}"
    item.update(id=cid, name=f"t1_{cid}", body=body, created_utc=created, created=created,
                subreddit=subreddit, link_id=post["name"], parent_id=post["name"],
                author="[deleted]", score=2,
                permalink=f"/r/{subreddit}/comments/{post['id']}/slug/{cid}/")
    return item


STRING_TIMES_BEFORE = 1_451_606_400  # 2016-01-01: the archive's schemas type 2008-2015 created_utc as string


class Archive:
    """The two search endpoints over ``posts`` and ``comments`` (Reddit JSON, ``name`` dropped), as the
    archive behaves in 2026 (tests/fixtures/sources/SOURCE.md, "Arctic Shift"):

    - items created before 2016 carry ``created_utc`` as a string (schemas/RC/2008.ts);
    - a query asking for more than ``slow_above`` items answers ``422 {"data": null, "error": "Timeout.
      Maybe slow down a bit"}`` (issue #66: the same request with limit=50 succeeded);
    - every answer carries ``X-RateLimit-Limit/Remaining/Reset`` (api/README.md, "Rate limiting"); the
      window holds ``window_requests`` requests and resets ``window_seconds`` later (epoch seconds:
      the README names no format).
    """

    def __init__(self) -> None:
        self.items: dict[str, list[dict]] = {"posts": [], "comments": []}
        self.slow_above: int | None = None
        self.window_requests = 1000
        self.window_seconds = 60
        self.used = 0

    def handler(self, kind: str):
        def answer(req: Request) -> dict | Reply:
            self.used += 1
            left = max(0, self.window_requests - self.used)
            headers = {"X-RateLimit-Limit": str(self.window_requests), "X-RateLimit-Remaining": str(left),
                       "X-RateLimit-Reset": str(int(time.time()) + self.window_seconds)}
            limit = int(req.params.get("limit", 25))
            if not 1 <= limit <= 100:
                return Reply({"error": "limit must be between 1 and 100"}, status=400)
            if self.slow_above is not None and limit > self.slow_above:
                return Reply({"data": None, "error": "Timeout. Maybe slow down a bit"}, 422, headers)
            after, before = int(req.params["after"]), int(req.params["before"])
            found = [{k: v for k, v in item.items() if k != "name"} for item in self.items[kind]
                     if item["subreddit"].lower() == req.params["subreddit"].lower()
                     and after < float(item["created_utc"]) < before]
            found.sort(key=lambda i: float(i["created_utc"]), reverse=req.params.get("sort") == "desc")
            served = [{**i, "created_utc": str(i["created_utc"])}
                      if float(i["created_utc"]) < STRING_TIMES_BEFORE else i for i in found[:limit]]
            return Reply({"data": served}, headers=headers)
        return answer


@pytest.fixture
def archive() -> Archive:
    return Archive()


@pytest.fixture
def server(archive: Archive) -> Iterator[FakeServer]:
    with FakeServer() as running:
        running.route("/api/posts/search", archive.handler("posts"))
        running.route("/api/comments/search", archive.handler("comments"))
        yield running


@pytest.fixture(autouse=True)
def instant_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waits: list[float] = []
    monkeypatch.setattr(HttpClient, "sleep", staticmethod(waits.append))
    return waits


def outage_thread(archive: Archive) -> tuple[dict, dict, dict, dict, dict]:
    """A matched post with an unmatched reply, a Nextdoor post, a matching comment elsewhere, noise."""
    matched = reddit_post(1, START + 3600, "Next website down?", "Can't check out since 9")
    nextdoor = reddit_post(2, START + 7200, "Nextdoor app is broken")
    reply = reddit_comment(1, START + 3700, "same here, since 9am", matched)
    elsewhere = reddit_comment(2, START + 7300, "Next is back up for me", nextdoor)
    noise = reddit_comment(3, START + 7400, "ask the neighbours", nextdoor)
    archive.items["posts"] += [matched, nextdoor, reddit_post(3, END + 10, "Next after the range")]
    archive.items["comments"] += [reply, elsewhere, noise]
    return matched, nextdoor, reply, elsewhere, noise


def write_config(write, server: FakeServer, extra: str = "") -> None:
    write("dipwatch.toml", f"""
[sources.arcticshift]
base_url = "{server.url}"
timeout = 2
{extra}
[brands.next]
name = "Next"
terms = ["Next"]
""")


def posts_table(db_path) -> list[tuple]:
    with Store(f"sqlite:///{db_path}") as store, store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT source, post_id, kind, text, url, parent_id, engagement, author_hash FROM posts "
            "ORDER BY post_id"))]


def runs(db_path) -> list[tuple]:
    with Store(f"sqlite:///{db_path}") as store, store.engine.connect() as conn:
        query = sa.text("SELECT command, source, brand, status, counts, message FROM runs")
        return [tuple(r) for r in conn.execute(query)]


def backfill_args(start: str = "2024-05-01", end: str = "2024-05-15") -> list[str]:
    return ["backfill", "reddit", "--brand", "Next", "--subreddit", f"r/{SUB}", "--from", start, "--to", end]


def test_backfill_command_end_to_end(cli_run, write, server, archive, db_path):
    matched, _, reply, elsewhere, _ = outage_thread(archive)
    write_config(write, server)
    result = cli_run(backfill_args())
    assert result.exit_code == 0, result.output
    assert "2 posts and 3 comments read, 3 kept, 3 new" in result.output
    rows = posts_table(db_path)
    # Same ids, text and url as the live collector makes from the same Reddit JSON.
    live = [submission_to_post(matched), comment_to_post(reply), comment_to_post(elsewhere)]
    assert [r[:7] for r in rows] == sorted(
        [(p.source, p.post_id, p.kind, p.text, p.url, p.parent_id, p.engagement) for p in live],
        key=lambda r: r[1])
    assert [r[1] for r in rows] == ["t1_c00001", "t1_c00002", "t3_p00001"]
    assert rows[0][7] is None  # "[deleted]" author: no hash
    assert rows[2][3] == "Next website down?\n\nCan't check out since 9"
    assert rows[2][4] == f"https://www.reddit.com/r/{SUB}/comments/p00001/slug/"
    first = server.requests[0].params
    assert first == {"subreddit": SUB, "after": str(START - 1), "before": str(END), "limit": "100",
                     "sort": "asc"}
    assert runs(db_path)[0][:5] == ("backfill", "reddit", "next", "ok",
                                    '{"comments_read": 3, "kept": 3, "new": 3, "posts_read": 2}')


def test_backfilling_again_adds_nothing(cli_run, write, server, archive, db_path):
    outage_thread(archive)
    write_config(write, server)
    assert cli_run(backfill_args()).exit_code == 0
    server.requests.clear()
    again = cli_run(backfill_args())
    assert again.exit_code == 0
    assert "0 posts and 0 comments read, 0 kept, 0 new" in again.output
    assert server.requests == []  # the same range is complete: nothing asked
    overlapping = cli_run(backfill_args("2024-04-30", "2024-05-02"))
    assert "3 kept, 0 new" in overlapping.output
    assert len(posts_table(db_path)) == 3


def test_items_collected_live_are_not_stored_twice(cli_run, write, server, archive, db_path):
    matched, _, reply, _, _ = outage_thread(archive)
    with Store(f"sqlite:///{db_path}") as store:  # what the live praw collector stored earlier
        save_batch(store, [(submission_to_post(matched), [("next", "Next")]),
                           (comment_to_post(reply), [("next", "Next")])], "salt")
    write_config(write, server)
    result = cli_run(backfill_args())
    assert "3 kept, 1 new" in result.output
    assert [r[1] for r in posts_table(db_path)] == ["t1_c00001", "t1_c00002", "t3_p00001"]


def test_pages_by_time_and_keeps_items_sharing_a_second(server, archive, sqlite_store):
    posts = [reddit_post(i, START + 10 * (i // 3), f"Next order {i} stuck") for i in range(25)]
    archive.items["posts"] = posts
    collector = make_arcticshift({"base_url": server.url, "limit": 10}, {})
    stored = run_pages(sqlite_store, collector)
    assert stored == 25
    afters = [int(r.params["after"]) for r in server.requests if r.path.endswith("/posts/search")]
    # Each page restarts one second before its predecessor's last item, so a second split by the
    # page boundary is read whole (items 9, 10 and 11 share START + 30).
    assert afters == [START - 1, START + 29, START + 59]
    assert len(server.requests) == 4  # three post pages, one (empty) comment page


def run_pages(store: Store, collector, pages: int | None = None, budget: float = 30) -> int:
    new = 0
    checkpoints = store.get_checkpoints("reddit", "next")
    walk = collector.backfill_pages(NEXT, SUB, START, END, checkpoints, Budget.seconds(budget))
    for number, page in enumerate(walk):
        if pages is not None and number >= pages:
            break  # killed here: this page is never stored
        checkpoint = Checkpoint("reddit", "next", *page.checkpoint)
        new += save_batch(store, [(p, [("next", t)]) for p, t in page.posts], "salt", checkpoint).new
    return new


def test_a_killed_backfill_resumes_where_it_stopped(server, archive, sqlite_store):
    posts = [reddit_post(i, START + 60 * i, f"Next delivery {i} late") for i in range(30)]
    archive.items["posts"] = posts
    archive.items["comments"] = [reddit_comment(i, START + 60 * i + 5, "still waiting", posts[i])
                                 for i in range(30)]
    collector = make_arcticshift({"base_url": server.url, "limit": 10}, {})
    assert run_pages(sqlite_store, collector, pages=5) == 30 + 10  # four post pages, one comment page
    cursor = Cursor.decode(sqlite_store.get_checkpoints("reddit", "next")[checkpoint_query(SUB, START, END)])
    assert (cursor.phase, cursor.after, len(cursor.threads)) == ("comments", START + 60 * 9 + 4, 30)
    server.requests.clear()
    assert run_pages(sqlite_store, collector) == 20  # every comment kept: their threads matched
    assert server.requests[0].path == "/api/comments/search"
    assert server.requests[0].params["after"] == str(START + 60 * 9 + 4)
    final = Cursor.decode(sqlite_store.get_checkpoints("reddit", "next")[checkpoint_query(SUB, START, END)])
    assert final.phase == "done"


def test_429_with_retry_after_is_waited_out(cli_run, write, server, archive, db_path, instant_sleep):
    outage_thread(archive)
    server.fail("/api/posts/search", "status", status=429, retry_after="5")
    write_config(write, server)
    assert cli_run(backfill_args()).exit_code == 0
    assert instant_sleep == [5.0]
    assert len(posts_table(db_path)) == 3


@pytest.mark.parametrize(("kind", "expected"), [("status", "HTTP 503"), ("badjson", "not valid JSON"),
                                                ("html", "HTML page")])
def test_failures_exit_1_and_are_logged(cli_run, write, server, archive, db_path, kind, expected):
    outage_thread(archive)
    server.fail("/api/comments/search", kind, status=503, times=10)
    write_config(write, server)
    result = cli_run(backfill_args())
    assert result.exit_code == 1
    assert "2 posts and 0 comments read, 1 kept, 1 new" in result.output
    (_, _, _, status, _, message), = runs(db_path)
    assert status == "failed"
    assert expected in message
    assert "/api/comments/search" in message


def test_a_shape_other_than_data_is_a_clear_error(cli_run, write, server, db_path):
    server.route("/api/posts/search", lambda req: {"error": None, "results": []})
    write_config(write, server)
    result = cli_run(backfill_args())
    assert result.exit_code == 1
    assert "expected a JSON object with a 'data' list, got keys error, results" in result.output


def test_empty_range_is_ok(cli_run, write, server, db_path):
    write_config(write, server)
    result = cli_run(backfill_args())
    assert result.exit_code == 0
    assert "0 posts and 0 comments read, 0 kept, 0 new" in result.output


def test_a_server_that_never_answers_ends_with_the_budget(cli_run, write, server, db_path):
    server.fail("/api/posts/search", "hang", times=100)
    write_config(write, server)
    started = time.monotonic()
    result = cli_run([*backfill_args(), "--max-seconds", "1"])
    assert time.monotonic() - started < 4
    assert result.exit_code == 1
    assert "run the same command again to continue" in result.output
    assert runs(db_path)[0][3] == "partial"


@pytest.mark.parametrize(("args", "expected"), [
    (["--from", "2024-05-15", "--to", "2024-05-01"], "is not before --to"),
    (["--subreddit", "r/no spaces"], "is not a subreddit name"),
    (["--brand", "Acme"], "'Acme' is not a brand in"),
    (["--from", "yesterday-ish"], "--from"),
])
def test_bad_input_exits_2(cli_run, write, server, args, expected):
    write_config(write, server)
    merged = dict(zip(backfill_args()[2::2], backfill_args()[3::2], strict=True))
    merged.update(zip(args[::2], args[1::2], strict=True))
    result = cli_run(["backfill", "reddit", *[x for pair in merged.items() for x in pair]])
    assert result.exit_code == 2
    assert expected in result.output
    assert server.requests == []


def test_a_bad_setting_exits_2(cli_run, write, server):
    write_config(write, server, extra="limit = 500")
    result = cli_run(backfill_args())
    assert result.exit_code == 2
    assert "sources.arcticshift.limit: expected 1 to 100, got 500" in result.output


def test_created_utc_as_float_is_accepted(server, archive, sqlite_store):
    post = reddit_post(1, START + 5, "Next down")
    post["created_utc"] = float(post["created_utc"])
    archive.items["posts"] = [post]
    collector = make_arcticshift({"base_url": server.url}, {})
    assert run_pages(sqlite_store, collector) == 1
    with sqlite_store.engine.connect() as conn:
        created = conn.execute(sa.text("SELECT created_at FROM posts")).scalar_one()
    assert created in (START + 5, datetime.fromtimestamp(START + 5, UTC).isoformat())


# the archive as it behaves in 2026 -------------------------------------------------------------------
def test_a_range_ending_on_a_page_boundary_completes_in_one_run(cli_run, write, server, archive, db_path):
    # Distinct seconds, limit 10: page 1 holds items 0-9, page 2 re-reads item 9 and holds 9-18, and
    # page 3 (after item 18's second minus one) holds item 18 alone, already read: the range's end.
    posts = [reddit_post(i, START + 60 * i, f"Next order {i} stuck") for i in range(19)]
    archive.items["posts"] = posts
    archive.items["comments"] = [reddit_comment(i, START + 60 * i + 5, "same", posts[i]) for i in range(19)]
    write_config(write, server, "limit = 10")
    first = cli_run(backfill_args())
    assert first.exit_code == 0, first.output
    assert len(posts_table(db_path)) == 38
    assert [r[3] for r in runs(db_path)] == ["ok"]
    post_pages = [r for r in server.requests if r.path == "/api/posts/search"]
    assert [int(r.params["after"]) for r in post_pages] == [START - 1, START + 60 * 9 - 1,
                                                              START + 60 * 18 - 1]
    server.requests.clear()
    again = cli_run(backfill_args())
    assert again.exit_code == 0
    assert "0 new" in again.output
    assert server.requests == []  # the checkpoint says "done": nothing is asked again


def test_an_archive_answering_the_same_full_page_again_still_fails(server, sqlite_store, monkeypatch):
    same = [reddit_post(i, START + i, f"Next {i}") for i in range(10)]
    server.route("/api/posts/search", lambda req: {"data": same})
    collector = make_arcticshift({"base_url": server.url, "limit": 10}, {})
    with pytest.raises(CollectorError, match="ignores 'after'"):
        run_pages(sqlite_store, collector)


def test_a_query_timeout_is_retried_with_a_smaller_page(cli_run, write, server, archive, db_path,
                                                        instant_sleep):
    archive.slow_above = 50
    archive.items["posts"] = [reddit_post(i, START + 60 * i, f"Next parcel {i} lost") for i in range(120)]
    write_config(write, server)
    result = cli_run(backfill_args())
    assert result.exit_code == 0, result.output
    assert len(posts_table(db_path)) == 120
    limits = [int(r.params["limit"]) for r in server.requests]
    assert limits[:2] == [100, 50]
    assert set(limits[2:]) == {50}  # the smaller page stays for the rest of the run
    assert instant_sleep == [1.0]


def test_a_query_timeout_that_persists_fails_naming_it(cli_run, write, server, archive, instant_sleep):
    archive.slow_above = 1
    outage_thread(archive)
    write_config(write, server)
    result = cli_run(backfill_args())
    assert result.exit_code == 1
    assert "Timeout. Maybe slow down a bit" in result.output
    assert [int(r.params["limit"]) for r in server.requests] == [100, 50, 25, 12]
    assert instant_sleep == [1.0, 2.0, 4.0]


def test_created_utc_as_a_numeric_string_is_accepted_and_fractions_kept(server, archive, sqlite_store):
    old = 1_230_768_000  # 2009-01-01: the archive serves it as "1230768000"
    post = reddit_post(1, old + 5, "Next down")
    archive.items["posts"] = [post, reddit_post(2, old + 6.25, "Next still down")]
    collector = make_arcticshift({"base_url": server.url}, {})
    pages = list(collector.backfill_pages(NEXT, SUB, old, old + 86400, {}, Budget.seconds(30)))
    got = [p for page in pages for p, _ in page.posts]
    assert [p.created_at for p in got] == [datetime.fromtimestamp(old + 5, UTC),
                                          datetime.fromtimestamp(old + 6.25, UTC)]
    answer = server.requests[0]
    assert answer.path == "/api/posts/search"


def test_a_spent_rate_limit_window_is_waited_out(cli_run, write, server, archive, db_path, instant_sleep):
    # The first page reports the window spent (X-RateLimit-Remaining: 0, reset in 30 s): the second page
    # of the same search waits for the reset instead of drawing a 429.
    archive.window_requests, archive.window_seconds = 1, 30
    archive.items["posts"] = [reddit_post(i, START + 60 * i, f"Next parcel {i} lost") for i in range(150)]
    write_config(write, server)
    result = cli_run(backfill_args())
    assert result.exit_code == 0, result.output
    assert len(instant_sleep) == 1
    assert 28 <= instant_sleep[0] <= 30
    assert len(posts_table(db_path)) == 150
