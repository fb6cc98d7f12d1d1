"""The one request path every HTTP collector shares: timeouts, retries with backoff, 429, budget, size cap.

Every error names the method, host and URL path and what was expected, and never the query string or
the headers (both can carry secrets: tokens, app passwords). Tests make the waits instant by replacing
:attr:`HttpClient.sleep`.

Behaviour of :meth:`HttpClient.request_json`, per attempt (``1 + retries`` attempts at most):

- the run's budget is checked first, and no attempt waits longer for an answer than the budget has left;
- 5xx, 408, timeouts and connection errors are retried after ``backoff * 2**n`` seconds (1, 2, 4, ...);
- 429 is retried after its ``Retry-After`` (seconds or an HTTP date), else after the reset its rate-limit
  headers name (``RateLimit-Reset``, ``X-RateLimit-Reset``: see :func:`reset_wait`), else after
  ``backoff * 2**n``; a wait above ``max_retry_after`` fails at once rather than stall the run (and
  rather than spend the retries inside a window that will not reset before them: Mastodon's is 5 minutes);
- an answer whose ``RateLimit-Remaining`` or ``X-RateLimit-Remaining`` is 0 makes the next request to
  the same endpoint wait for that window's reset, under the same caps (the service would only answer 429);
- a wait that would outlast the budget raises :class:`~collectors.base.BudgetExceededError` (the run
  ends as partial and the next one resumes from the last stored page);
- 401 and 403 raise :class:`HttpRefusedError` (a :class:`~collectors.base.SourceUnavailableError`);
- any other non-2xx raises :class:`HttpStatusError`, and a body over ``max_bytes``, an HTML page or
  malformed JSON raise :class:`~collectors.base.CollectorError`. Both HTTP errors carry the status and
  the body's ``error`` code, so a source can act on its own service's codes (Bluesky's
  ``ExpiredToken``, Arctic Shift's 422 timeout).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

import requests

from collectors.base import (
    Budget,
    BudgetExceededError,
    CollectorError,
    SourceUnavailableError,
    checked_settings,
    parse_iso_time,
)
from dipwatch import __version__

log = logging.getLogger(__name__)

USER_AGENT = f"dipwatch/{__version__} (+https://github.com/dipwatch/dipwatch)"
MAX_BYTES = 20 * 1024 * 1024
RETRY_STATUSES = frozenset({408, 500, 502, 503, 504, 520, 521, 522, 524})
REFUSED_STATUSES = frozenset({401, 403})
CHUNK = 64 * 1024

OptionsT = TypeVar("OptionsT", bound="HttpOptions")


@dataclass(frozen=True)
class HttpOptions:
    """Settings every HTTP source takes in its ``[sources.NAME]`` table; a source subclasses it to
    add its own and to set ``base_url``'s default to the real service.

    :param base_url: the service's root URL (tests and proxies point it elsewhere).
    :param timeout: seconds to wait for the connection and for each read (default 10).
    :param retries: retries after the first attempt on 5xx, 408, 429 and connection errors (default 3).
    :param max_retry_after: the longest 429 ``Retry-After`` honoured, in seconds (default 60).
    """

    base_url: str = ""
    timeout: float = 10.0
    retries: int = 3
    max_retry_after: float = 60.0

    def client(self, **kwargs: Any) -> HttpClient:
        """An :class:`HttpClient` on ``base_url`` with these settings (``kwargs`` go to it as well)."""
        return HttpClient(self.base_url, timeout=self.timeout, retries=self.retries,
                          max_retry_after=self.max_retry_after, **kwargs)


def parse_options(cls: type[OptionsT], source: str, settings: Mapping[str, Any]) -> OptionsT:
    """Build ``cls`` (an :class:`HttpOptions` dataclass) from a ``[sources.NAME]`` table
    (:func:`~collectors.base.checked_settings`), and check its ``base_url``.

    :raises SourceUnavailableError: (``missing_config``) naming an unknown or mistyped key.
    """
    options = cls(**checked_settings(cls, source, settings))
    parts = urlsplit(options.base_url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise SourceUnavailableError(f"sources.{source}.base_url: expected an http(s) URL like "
                                     f"https://host, got {options.base_url!r}", missing_config=True)
    return options


@dataclass(frozen=True)
class JsonResponse:
    """A decoded JSON answer with its status and headers (for sources that page through ``Link``)."""

    data: Any
    status: int
    headers: Mapping[str, str]


class HttpStatusError(CollectorError):
    """A non-2xx answer other than a refusal or a retried status.

    :param status: the HTTP status.
    :param code: the body's ``error`` string (JSON), or None.
    """

    def __init__(self, message: str, status: int, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


class HttpRefusedError(SourceUnavailableError):
    """401 or 403: the service refuses us; ``status`` and ``code`` as :class:`HttpStatusError`."""

    def __init__(self, message: str, status: int, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


class _Retry(Exception):  # noqa: N818 - internal control flow, not an error anyone sees
    """One attempt failed in a way worth retrying."""

    def __init__(self, reason: str, wait: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.wait = wait


class HttpClient:
    """A JSON-over-HTTP client for one service.

    :param base_url: the service's root, e.g. ``https://hn.algolia.com``; paths are joined to it.
    :param user_agent: sent on every request (default names dipwatch, its version and its home page).
    :param timeout: seconds to wait for the connection and for each read (default 10).
    :param retries: retries after the first attempt, for 5xx, 408, 429 and connection errors (default 3).
    :param max_retry_after: the longest 429 ``Retry-After`` honoured, in seconds (default 60).
    :param backoff: the first retry's wait in seconds when the server names none; doubled each time
        (default 1).
    :param max_bytes: the largest body read (default 20 MB, after decompression).
    :param headers: sent on every request (e.g. ``Accept``); never shown in errors or logs.
    :param session: a ``requests.Session`` to use (default a new one).
    """

    # Waits go through this, so tests make them instant: set it on an instance or patch the class.
    sleep: Callable[[float], None] = staticmethod(time.sleep)
    # The wall clock that rate-limit resets given as times are measured against (tests replace it).
    clock: Callable[[], datetime] = staticmethod(lambda: datetime.now(UTC))

    def __init__(self, base_url: str, user_agent: str = USER_AGENT, timeout: float = 10.0, retries: int = 3,
                 max_retry_after: float = 60.0, backoff: float = 1.0, max_bytes: int = MAX_BYTES,
                 headers: Mapping[str, str] | None = None, session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/") + "/"
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.max_retry_after = float(max_retry_after)
        self.backoff = float(backoff)
        self.max_bytes = int(max_bytes)
        self.session = session or requests.Session()
        self.session.headers.update({"User-Agent": user_agent, "Accept": "application/json"})
        self.session.headers.update(headers or {})
        # Per endpoint (``where``), the seconds until the rate-limit window its last answer spent resets:
        # windows are per route (Bluesky's 100 logins a day must not hold back its searches).
        self._spent: dict[str, float] = {}

    def get_json(self, path: str, params: Mapping[str, Any] | None = None, budget: Budget | None = None,
                 headers: Mapping[str, str] | None = None) -> Any:
        """GET ``path`` and return its decoded JSON (a dict or a list).

        :raises SourceUnavailableError: on 401 or 403.
        :raises BudgetExceededError: when the budget ends before an answer.
        :raises CollectorError: for everything else that is not a 2xx JSON answer.
        """
        return self.request_json("GET", path, params=params, budget=budget, headers=headers).data

    def post_json(self, path: str, body: Any, budget: Budget | None = None,
                  headers: Mapping[str, str] | None = None) -> Any:
        """POST ``body`` as JSON to ``path`` and return the decoded answer (errors as :meth:`get_json`).

        POSTs are retried like GETs: use it only for idempotent calls (logins, searches).
        """
        return self.request_json("POST", path, body=body, budget=budget, headers=headers).data

    def request_json(self, method: str, path: str, params: Mapping[str, Any] | None = None, body: Any = None,
                     budget: Budget | None = None, headers: Mapping[str, str] | None = None) -> JsonResponse:
        """Send one request (with retries) and return the decoded JSON with status and headers.

        :param path: relative to ``base_url`` (``/api/x`` or ``api/x``), or an absolute URL (a ``next`` link).
        """
        url = urljoin(self.base_url, path.lstrip("/")) if "://" not in path else path
        where = _describe(method, url)
        attempt = 0
        while True:
            if budget is not None:
                budget.check()
            self._wait_for_window(where, budget)
            try:
                return self._attempt(method, url, where, params, body, headers, budget)
            except _Retry as retry:
                if attempt >= self.retries:
                    raise CollectorError(f"{where}: {retry.reason}, still after {attempt + 1} attempts; "
                                         "expected a 2xx JSON answer") from None
                wait = self.backoff * 2 ** attempt if retry.wait is None else retry.wait
                if wait > self.max_retry_after:
                    raise CollectorError(f"{where}: {retry.reason}; the server asks us to wait {wait:.0f} s, "
                                         f"more than max_retry_after ({self.max_retry_after:.0f} s)"
                                         ) from None
                if budget is not None and wait >= budget.remaining():
                    raise BudgetExceededError(f"{where}: {retry.reason}; waiting {wait:.0f} s to retry "
                                              "would outlast the run's time budget (--max-seconds)") from None
                log.info("%s: %s; retrying in %.1f s", where, retry.reason, wait)
                self.sleep(wait)
                attempt += 1

    def _attempt(self, method: str, url: str, where: str, params, body, headers,
                 budget: Budget | None) -> JsonResponse:
        timeout = self.timeout if budget is None else max(0.001, min(self.timeout, budget.remaining()))
        try:
            with self.session.request(method, url, params=params, json=body, headers=headers,
                                      timeout=timeout, stream=True, allow_redirects=True) as response:
                status = response.status_code
                if status == 429:
                    wait = _retry_after(response.headers.get("Retry-After"), self.clock())
                    if wait is None:
                        wait = reset_wait(response.headers, self.clock())
                    raise _Retry("HTTP 429 Too Many Requests", wait)
                if status in RETRY_STATUSES:
                    raise _Retry(f"HTTP {status} {response.reason or ''}".rstrip())
                content = self._read(response, where, budget)
        except requests.Timeout:
            if budget is not None and budget.remaining() <= 0:
                raise BudgetExceededError(f"{where}: no answer before the run's time budget "
                                          "(--max-seconds) ran out") from None
            raise _Retry(f"no answer within {timeout:.0f} s") from None
        except requests.ConnectionError as exc:
            # str(exc) holds the full URL with its query: name only the kind of failure.
            raise _Retry(f"connection failed ({type(exc).__name__})") from None
        except requests.RequestException as exc:
            raise CollectorError(f"{where}: request failed ({type(exc).__name__})") from None
        if status in REFUSED_STATUSES:
            raise HttpRefusedError(f"{where}: HTTP {status} {response.reason or ''}: the service "
                                   f"refuses us{_error_detail(content)}; check its credentials", status,
                                   _error_code(content))
        if not 200 <= status < 300:
            raise HttpStatusError(f"{where}: HTTP {status} {response.reason or ''}{_error_detail(content)}; "
                                  "expected a 2xx JSON answer", status, _error_code(content))
        if remaining(response.headers) == 0:
            self._spent[where] = reset_wait(response.headers, self.clock()) or 0.0
        return JsonResponse(_decode(content, response.headers.get("Content-Type", ""), where), status,
                            response.headers)

    def _wait_for_window(self, where: str, budget: Budget | None) -> None:
        """Wait out the window the last answer said was spent, under ``max_retry_after`` and the budget."""
        wait = self._spent.pop(where, 0.0)
        if wait <= 0:
            return
        if wait > self.max_retry_after:
            raise CollectorError(f"{where}: the service's rate limit is spent until {wait:.0f} s from now, "
                                 f"more than max_retry_after ({self.max_retry_after:.0f} s)")
        if budget is not None and wait >= budget.remaining():
            raise BudgetExceededError(f"{where}: the service's rate limit is spent for {wait:.0f} s, "
                                      "longer than the run's time budget (--max-seconds) has left")
        log.info("%s: rate limit spent; waiting %.1f s for its reset", where, wait)
        self.sleep(wait)

    def _read(self, response: requests.Response, where: str, budget: Budget | None) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise CollectorError(f"{where}: the answer is {int(declared):,} bytes, more than the "
                                 f"{self.max_bytes:,} bytes expected at most")
        chunks, size = [], 0
        for chunk in response.iter_content(CHUNK):
            size += len(chunk)
            if size > self.max_bytes:
                raise CollectorError(f"{where}: the answer exceeds the {self.max_bytes:,} bytes "
                                     "expected at most")
            if budget is not None:
                budget.check()  # a server trickling bytes must not hold the run past its budget
            chunks.append(chunk)
        return b"".join(chunks)


def _describe(method: str, url: str) -> str:
    """``GET host/path``: no scheme, credentials, query or fragment (they can hold secrets)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{method} {host}{parts.path or '/'}"


def _retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    now = now or datetime.now(UTC)
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


# Rate-limit headers as the services send them; the first present wins.
REMAINING_HEADERS = ("RateLimit-Remaining", "X-RateLimit-Remaining")
RESET_HEADERS = ("RateLimit-Reset", "X-RateLimit-Reset")
EPOCH_SECONDS = 1_000_000_000  # a reset at or above this is a time (epoch seconds), below it a delta
EPOCH_MILLISECONDS = 100_000_000_000


def remaining(headers: Mapping[str, str]) -> float | None:
    """The requests left in the current window (``RateLimit-Remaining``/``X-RateLimit-Remaining``)."""
    for name in REMAINING_HEADERS:
        value = headers.get(name)
        if value is not None:
            try:
                return float(value.strip().split(",")[0].split(";")[0])
            except ValueError:
                return None
    return None


def reset_wait(headers: Mapping[str, str], now: datetime) -> float | None:
    """Seconds from ``now`` until the window resets, from ``RateLimit-Reset`` or ``X-RateLimit-Reset``.

    The services disagree on the form, so all are read: an ISO 8601 time (Mastodon:
    ``2026-12-03T08:05:00.019685Z``), epoch seconds (Bluesky's atproto xrpc-server, GitHub-style APIs),
    epoch milliseconds, or delta seconds (the IETF RateLimit header draft). None when absent or unreadable.
    """
    for name in RESET_HEADERS:
        value = (headers.get(name) or "").strip()
        if not value:
            continue
        try:
            number = float(value)
        except ValueError:
            when = parse_iso_time(value)
            return None if when is None else max(0.0, (when - now).total_seconds())
        if number >= EPOCH_MILLISECONDS:
            number /= 1000
        if number >= EPOCH_SECONDS:
            return max(0.0, number - now.timestamp())
        return max(0.0, number)
    return None


def _error_code(content: bytes) -> str | None:
    """The ``error`` string of a JSON error body (``ExpiredToken``, ``Timeout. Maybe slow down a bit``)."""
    try:
        data = json.loads(content)
    except ValueError:
        return None
    code = data.get("error") if isinstance(data, dict) else None
    return code.strip() if isinstance(code, str) and code.strip() else None


def _error_detail(content: bytes) -> str:
    """The ``error``/``message`` a JSON error body states, shortened; nothing for other bodies."""
    try:
        data = json.loads(content)
    except ValueError:
        return ""
    if isinstance(data, dict):
        for key in ("error", "message", "error_description", "detail"):
            if isinstance(data.get(key), str) and data[key].strip():
                return f" ({data[key].strip()[:200]})"
    return ""


def _decode(content: bytes, content_type: str, where: str) -> Any:
    head = content[:512].lstrip().lower()
    if "html" in content_type.lower() or head.startswith((b"<!doctype", b"<html", b"<")):
        raise CollectorError(f"{where}: got an HTML page (Content-Type {content_type or 'none'}), "
                             "expected JSON; is the source's base_url right?")
    if not content.strip():
        raise CollectorError(f"{where}: got an empty body, expected JSON")
    try:
        return json.loads(content)
    except ValueError as exc:
        raise CollectorError(f"{where}: the body is not valid JSON ({exc}); expected JSON") from None
