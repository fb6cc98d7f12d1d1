"""Fixtures for collector tests: the fake Reddit server on a free port, and a collector pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import prawcore.sessions
import pytest
from reddit_server import RedditServer, RedditState

from collectors.reddit import RedditCollector, make_reddit


@pytest.fixture(autouse=True)
def no_retry_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """prawcore sleeps 0-2 s, then 2-4 s between its 5xx retries; make them instant.

    Private API of prawcore 4.0 (``FiniteRetryStrategy._sleep_seconds``):
    test_prawcore_retry_sleep_is_patchable fails first if an upgrade renames it.
    """
    monkeypatch.setattr(prawcore.sessions.FiniteRetryStrategy, "_sleep_seconds", lambda self: None)


@pytest.fixture
def reddit_server() -> Iterator[RedditServer]:
    server = RedditServer(RedditState()).start()
    yield server
    server.stop()


@pytest.fixture
def reddit_env(reddit_server: RedditServer) -> dict[str, str]:
    state = reddit_server.state
    return {"REDDIT_CLIENT_ID": state.client_id, "REDDIT_CLIENT_SECRET": state.client_secret,
            "REDDIT_USER_AGENT": "python:dipwatch-tests:0.1 (by /u/dipwatch)"}


@pytest.fixture
def sleeps() -> list[float]:
    """The waits the collector asked for (on 429), instead of sleeping."""
    return []


@pytest.fixture
def make_collector(reddit_server: RedditServer, reddit_env: dict[str, str], sleeps: list[float]):
    """Build a collector on the test server, with extra ``[sources.reddit]`` settings."""

    def _make(**settings) -> RedditCollector:
        collector = make_reddit({"oauth_url": reddit_server.url, "reddit_url": reddit_server.url, **settings},
                                reddit_env)
        collector.sleep = sleeps.append
        return collector

    return _make


@pytest.fixture
def collector(make_collector) -> RedditCollector:
    return make_collector()
