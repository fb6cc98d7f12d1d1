"""The shared request path against a local fake server: retries, 429, refusals, bad bodies, budget."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fake_http import FakeServer, Reply

from collectors.base import Budget, BudgetExceededError, CollectorError, SourceUnavailableError
from collectors.http import (
    USER_AGENT,
    HttpClient,
    HttpRefusedError,
    HttpStatusError,
    _retry_after,
    reset_wait,
)

PATH = "/api/things"
SECRET = "s3cret-token-value"


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as running:
        running.route(PATH, lambda req: {"things": [1, 2], "asked": req.params})
        yield running


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(server: FakeServer, sleeps: list[float]) -> HttpClient:
    made = HttpClient(server.url, timeout=2)
    made.sleep = sleeps.append
    return made


def test_get_json_sends_params_and_a_descriptive_user_agent(client, server):
    answer = client.get_json(PATH, {"q": "acme"}, Budget.seconds(10))
    assert answer == {"things": [1, 2], "asked": {"q": "acme"}}
    assert server.requests[0].headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("dipwatch/")
    assert "+https://" in USER_AGENT


def test_429_waits_retry_after_then_succeeds(client, server, sleeps):
    server.fail(PATH, "status", status=429, retry_after="7", times=2)
    assert client.get_json(PATH, {}, Budget.seconds(60))["things"] == [1, 2]
    assert sleeps == [7.0, 7.0]
    assert [r.fault for r in server.requests] == ["status", "status", None]


def test_429_without_retry_after_backs_off_exponentially(client, server, sleeps):
    server.fail(PATH, "status", status=429, times=3)
    client.get_json(PATH, {}, Budget.seconds(60))
    assert sleeps == [1.0, 2.0, 4.0]


def test_retry_after_above_the_cap_fails_at_once(client, server, sleeps):
    server.fail(PATH, "status", status=429, retry_after="3600")
    with pytest.raises(CollectorError, match=r"wait 3600 s, more than max_retry_after \(60 s\)"):
        client.get_json(PATH, {}, Budget.seconds(60))
    assert sleeps == []


def test_retry_after_past_the_budget_ends_the_run_as_partial(client, server, sleeps):
    server.fail(PATH, "status", status=429, retry_after="30")
    with pytest.raises(BudgetExceededError, match="time budget"):
        client.get_json(PATH, {}, Budget.seconds(5))
    assert sleeps == []


def test_5xx_streak_is_retried_then_fails_naming_the_path_not_the_query(client, server, sleeps):
    server.fail(PATH, "status", status=503, times=10)
    with pytest.raises(CollectorError) as caught:
        client.get_json(PATH, {"token": SECRET}, Budget.seconds(60))
    message = str(caught.value)
    assert f"GET 127.0.0.1:{server.url.rsplit(':', 1)[1]}{PATH}" in message
    assert "HTTP 503" in message
    assert "4 attempts" in message
    assert SECRET not in message
    assert sleeps == [1.0, 2.0, 4.0]
    assert len(server.requests) == 4


def test_a_short_5xx_streak_recovers(client, server, sleeps):
    server.fail(PATH, "status", status=502, times=2)
    assert client.get_json(PATH, {}, Budget.seconds(60))["things"] == [1, 2]
    assert sleeps == [1.0, 2.0]


@pytest.mark.parametrize("status", [401, 403])
def test_refusal_makes_the_source_unavailable_without_retrying(client, server, status):
    server.fail(PATH, "status", status=status)
    with pytest.raises(SourceUnavailableError, match=f"HTTP {status}") as caught:
        client.get_json(PATH, {}, Budget.seconds(60), headers={"Authorization": f"Bearer {SECRET}"})
    assert SECRET not in str(caught.value)
    assert not caught.value.missing_config
    assert len(server.requests) == 1


def test_404_names_the_path_and_the_servers_error(client, server):
    with pytest.raises(CollectorError, match=r"/api/missing: HTTP 404 Not Found \(no route for GET"):
        client.get_json("/api/missing", {}, Budget.seconds(60))


@pytest.mark.parametrize(("kind", "expected"), [
    ("badjson", "not valid JSON"),
    ("html", "got an HTML page"),
    ("empty", "empty body"),
])
def test_bad_bodies_are_collector_errors(client, server, kind, expected):
    server.fail(PATH, kind)
    with pytest.raises(CollectorError, match=expected):
        client.get_json(PATH, {}, Budget.seconds(60))
    assert len(server.requests) == 1


def test_html_without_an_html_content_type_is_still_refused(client, server):
    server.route(PATH, lambda req: Reply("<html><body>Maintenance</body></html>", content_type="text/plain"))
    with pytest.raises(CollectorError, match="HTML page"):
        client.get_json(PATH, {}, Budget.seconds(60))


@pytest.mark.parametrize("declare_length", [True, False])
def test_a_body_over_the_size_cap_is_refused(server, declare_length):
    client = HttpClient(server.url, max_bytes=100_000)
    server.fail(PATH, "huge", size=300_000, declare_length=declare_length)
    with pytest.raises(CollectorError, match="100,000 bytes"):
        client.get_json(PATH, {}, Budget.seconds(60))


def test_a_server_that_never_answers_is_cut_off_by_the_budget(server, sleeps):
    client = HttpClient(server.url, timeout=30)
    client.sleep = sleeps.append
    server.fail(PATH, "hang", times=10)
    started = time.monotonic()
    with pytest.raises(BudgetExceededError):
        client.get_json(PATH, {}, Budget.seconds(1.0))
    assert time.monotonic() - started < 3


def test_a_timeout_is_retried(server, sleeps):
    client = HttpClient(server.url, timeout=0.3)
    client.sleep = sleeps.append
    server.fail(PATH, "hang", times=1)
    assert client.get_json(PATH, {}, Budget.seconds(30))["things"] == [1, 2]
    assert sleeps == [1.0]


def test_connection_refused_is_retried_then_fails(sleeps):
    with FakeServer() as gone:
        url = gone.url
    client = HttpClient(url)
    client.sleep = sleeps.append
    with pytest.raises(CollectorError, match="connection failed"):
        client.get_json(PATH, {"token": SECRET}, Budget.seconds(60))
    assert len(sleeps) == 3


def test_the_budget_is_checked_before_the_first_attempt(client, server):
    with pytest.raises(BudgetExceededError):
        client.get_json(PATH, {}, Budget(time.monotonic() - 1))
    assert server.requests == []


def test_post_json_sends_the_body(client, server):
    server.route("/api/login", lambda req: {"token": "t", "got": req.body}, method="POST")
    assert client.post_json("/api/login", {"user": "u"}, Budget.seconds(10))["got"] == {"user": "u"}


def test_retry_after_accepts_an_http_date():
    assert _retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert _retry_after("12") == 12.0
    assert _retry_after("soon") is None


# rate-limit headers (Mastodon: docs.joinmastodon.org/api/rate-limits, an ISO reset; Bluesky: atproto
# xrpc-server rate-limiter.ts, epoch seconds; the IETF draft: delta seconds) ------------------------------
NOW = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


@pytest.fixture
def clocked(client: HttpClient) -> HttpClient:
    client.clock = lambda: NOW
    return client


def test_reset_wait_reads_every_form_the_services_send():
    assert reset_wait({"X-RateLimit-Reset": "2026-12-03T08:05:00.019685Z"}, NOW) == pytest.approx(300.019685)
    assert reset_wait({"RateLimit-Reset": str(int(NOW.timestamp()) + 42)}, NOW) == 42.0
    assert reset_wait({"X-RateLimit-Reset": str(int(NOW.timestamp() * 1000) + 1500)}, NOW) == 1.5
    assert reset_wait({"RateLimit-Reset": "17"}, NOW) == 17.0
    assert reset_wait({"RateLimit-Reset": "2026-12-03T07:00:00Z"}, NOW) == 0.0  # already past
    assert reset_wait({"X-RateLimit-Reset": "whenever"}, NOW) is None
    assert reset_wait({}, NOW) is None


def test_429_without_retry_after_waits_for_the_iso_reset(clocked, server, sleeps):
    server.fail(PATH, "status", status=429, headers={"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0",
                                                     "X-RateLimit-Reset": "2026-12-03T08:00:20.500Z"})
    assert clocked.get_json(PATH, {}, Budget.seconds(60))["things"] == [1, 2]
    assert sleeps == [20.5]


def test_a_reset_minutes_away_fails_at_once_instead_of_wasting_the_retries(clocked, server, sleeps):
    server.fail(PATH, "status", status=429, times=5,
                headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2026-12-03T08:05:00Z"})
    with pytest.raises(CollectorError, match=r"wait 300 s, more than max_retry_after \(60 s\)"):
        clocked.get_json(PATH, {}, Budget.seconds(600))
    assert sleeps == []
    assert len(server.requests) == 1


def test_an_answer_that_spends_the_window_makes_the_next_request_wait(clocked, server, sleeps):
    reset = str(int(NOW.timestamp()) + 9)
    server.route(PATH, lambda req: Reply({"things": []}, headers={"RateLimit-Limit": "3000",
                                                                  "RateLimit-Remaining": "0",
                                                                  "RateLimit-Reset": reset,
                                                                  "RateLimit-Policy": "3000;w=300"}))
    clocked.get_json(PATH, {}, Budget.seconds(60))
    assert sleeps == []
    clocked.get_json(PATH, {}, Budget.seconds(60))
    assert sleeps == [9.0]
    with pytest.raises(BudgetExceededError, match="rate limit is spent"):
        clocked.get_json(PATH, {}, Budget.seconds(5))
    assert len(server.requests) == 2


def test_errors_carry_the_status_and_the_services_error_code(client, server):
    server.fail(PATH, "status", status=422, error="Timeout. Maybe slow down a bit")
    with pytest.raises(HttpStatusError) as caught:
        client.get_json(PATH, {}, Budget.seconds(10))
    assert (caught.value.status, caught.value.code) == (422, "Timeout. Maybe slow down a bit")
    server.fail(PATH, "status", status=401, error="ExpiredToken")
    with pytest.raises(HttpRefusedError) as refused:
        client.get_json(PATH, {}, Budget.seconds(10))
    assert (refused.value.status, refused.value.code) == (401, "ExpiredToken")


def test_a_spent_window_holds_back_only_its_own_endpoint(clocked, server, sleeps):
    reset = str(int(NOW.timestamp()) + 86400)  # Bluesky's logins: 100 a day
    server.route("/api/login", lambda req: Reply({"ok": True}, headers={"RateLimit-Remaining": "0",
                                                                        "RateLimit-Reset": reset}),
                 method="POST")
    clocked.post_json("/api/login", {}, Budget.seconds(60))
    assert clocked.get_json(PATH, {}, Budget.seconds(60))["things"] == [1, 2]
    assert sleeps == []
    with pytest.raises(CollectorError, match="rate limit is spent"):
        clocked.post_json("/api/login", {}, Budget.seconds(60))
