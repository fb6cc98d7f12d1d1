"""Reddit history through the Arctic Shift archive API: a subreddit's posts and comments in a time range.

For ``dipwatch backfill reddit``: the weeks before and during an outage that no scheduled job collected,
without Reddit API credentials. Arctic Shift serves the items as Reddit's own JSON (``id``, ``title``,
``selftext``, ``body``, ``author``, ``created_utc``, ``score``, ``permalink``, ``link_id``, ``parent_id``),
so they are mapped by the live collector's own functions (:func:`collectors.reddit_items.submission_to_post`,
:func:`collectors.reddit_items.comment_to_post`) into source ``reddit`` with the fullnames ``t3_<id>`` /
``t1_<id>``: an item collected live and backfilled is stored once.

API (https://github.com/ArthurHeitmann/arctic_shift/blob/master/api/README.md): ``/api/posts/search`` and
``/api/comments/search`` with ``subreddit``, ``after``, ``before`` (epoch seconds), ``limit`` (1-100) and
``sort=asc`` (by ``created_utc``); the answer is ``{"data": [...]}`` with no cursor, so pages are cut by
time. Text search cannot narrow comments by subreddit (``body`` needs ``author``, ``link_id`` or
``parent_id``), so every item of the range is read and matched locally with :meth:`Brand.match`. Like the
live collector, every comment under a matched post is kept (replies such as "same here since 9" rarely
name the brand), with the post's term.

Checkpoint (query ``backfill:<subreddit>:<from>:<to>``, epoch seconds): the JSON cursor
``{"phase": "posts"|"comments"|"done", "after": t, "threads": {fullname: term}}``: every item of the phase
created at or before ``t`` is stored, and ``threads`` holds the matched posts whose comments are kept.
Each page asks ``after=`` the previous page's last second minus one, so items sharing that second are
read again (and skipped) rather than lost, whether the API's ``after`` is strict or not.

A phase ends with the first page holding fewer items than were asked for. When a range ends on a page
boundary that last page holds only the items of the previous page's last second, all already seen: a
normal end, not an archive ignoring ``after`` (that is a *full* page of items already read).

How the archive behaves in 2026, and what is done about it:

- ``HTTP 422 {"data": null, "error": "Timeout. Maybe slow down a bit"}`` when a query runs too long
  (arctic_shift issue #66: the same request with ``limit=50`` succeeded at once; issue #12: "Slow down
  a little"): retried after a backoff with half the page size, which then stays for the rest of the run.
- ``X-RateLimit-Remaining`` / ``X-RateLimit-Reset`` (api/README.md, "Rate limiting"): honoured by the
  shared HTTP path (:mod:`collectors.http`).
- ``created_utc`` is a string in the archive's own schemas of 2008-2015 items (schemas/RC/2008.ts,
  ``created_utc: string``): a numeric string is read as the number, and a fraction is kept.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from collectors.base import Budget, CollectorError, Page, SourceUnavailableError, skip_too_new
from collectors.http import HttpClient, HttpOptions, HttpStatusError, parse_options
from collectors.reddit_items import comment_to_post, submission_to_post
from dipwatch.core.brands import Brand
from dipwatch.core.errors import BadValueError
from dipwatch.core.records import Post

log = logging.getLogger(__name__)

SOURCE = "reddit"  # backfilled items join the live collector's, under the same ids
SETTINGS = "arcticshift"
PATHS = {"posts": "/api/posts/search", "comments": "/api/comments/search"}
PREFIX = {"posts": "t3_", "comments": "t1_"}
SUBREDDIT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{1,20}$")
MAX_THREADS = 20_000  # matched posts remembered for their comments; beyond, comments must match alone
# The archive's words for "this query ran too long" (issues #66 and #12): worth a retry with a smaller page.
TIMEOUT_WORDS = ("timeout", "timed out", "slow down")
MIN_LIMIT = 5  # the smallest page a timeout retry asks for


@dataclass(frozen=True)
class ArcticShiftOptions(HttpOptions):
    """The ``[sources.arcticshift]`` settings (all optional; see :class:`HttpOptions` for the shared ones).

    :param limit: items asked for per request (default 100, the API's maximum).
    :param timeout: seconds to wait for each answer (default 30: archive queries over busy subreddits
        take seconds).
    """

    base_url: str = "https://arctic-shift.photon-reddit.com"
    timeout: float = 30.0
    limit: int = 100


@dataclass
class Cursor:
    """A backfill's checkpoint; see the module docstring."""

    phase: str = "posts"
    after: int | None = None
    threads: dict[str, str] = field(default_factory=dict)

    @classmethod
    def decode(cls, text: str | None) -> Cursor:
        if not text:
            return cls()
        try:
            data = json.loads(text)
            cursor = cls(str(data["phase"]), data.get("after"), {str(k): str(v) for k, v in
                                                                   data.get("threads", {}).items()})
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("arcticshift: unreadable checkpoint %.60r; starting the backfill again", text)
            return cls()
        if cursor.phase not in {"posts", "comments", "done"} or not isinstance(cursor.after, int | None):
            log.warning("arcticshift: unreadable checkpoint %.60r; starting the backfill again", text)
            return cls()
        return cursor

    def encode(self) -> str:
        return json.dumps({"phase": self.phase, "after": self.after, "threads": self.threads},
                          separators=(",", ":"), sort_keys=True)


def checkpoint_query(subreddit: str, start: int, end: int) -> str:
    """The checkpoint query of one backfill: a different range is a different backfill."""
    return f"backfill:{subreddit.lower()}:{start}:{end}"


def normalise_subreddit(name: str) -> str:
    """``r/Foo``, ``/r/Foo/`` or ``Foo`` as ``Foo``.

    :raises ValueError: naming what was expected.
    """
    bare = name.strip().strip("/")
    bare = bare[2:] if bare.lower().startswith("r/") else bare
    if not SUBREDDIT_NAME.match(bare):
        raise BadValueError(f"--subreddit: {name!r} is not a subreddit name; expected 2-21 letters, digits "
                         "or '_' (e.g. unitedkingdom or r/unitedkingdom)")
    return bare


def make_arcticshift(source_settings: Mapping[str, Any], env: Mapping[str, str]) -> ArcticShiftCollector:
    """Build the collector from ``[sources.arcticshift]``; no credentials are needed.

    :raises SourceUnavailableError: (``missing_config``) for an unknown or mistyped setting.
    """
    options = parse_options(ArcticShiftOptions, SETTINGS, source_settings)
    if not 1 <= options.limit <= 100:
        raise SourceUnavailableError(f"sources.{SETTINGS}.limit: expected 1 to 100, got {options.limit}",
                                     missing_config=True)
    return ArcticShiftCollector(options)


class ArcticShiftCollector:
    """Reads a subreddit's history; ``read`` counts the items fetched per kind (matched or not)."""

    name = SOURCE

    def __init__(self, options: ArcticShiftOptions, client: HttpClient | None = None):
        self.options = options
        self.client = client or options.client()
        self.read = {"posts": 0, "comments": 0}
        self.limit = options.limit  # halved by each query timeout, for the rest of the run

    def backfill_pages(self, brand: Brand, subreddit: str, start: int, end: int,
                       checkpoints: Mapping[str, str], budget: Budget) -> Iterator[Page]:
        """Yield pages of the brand's posts, then comments, in ``subreddit`` created in ``[start, end)``.

        :raises CollectorError: when a request fails or an answer is not the expected shape.
        """
        key = checkpoint_query(subreddit, start, end)
        cursor = Cursor.decode(checkpoints.get(key))
        if cursor.phase == "posts":
            threads = yield from self._phase(brand, subreddit, "posts", (start, end), key, cursor, budget)
            cursor = Cursor("comments", None, threads)
        if cursor.phase == "comments":
            yield from self._phase(brand, subreddit, "comments", (start, end), key, cursor, budget)
        if cursor.phase == "done":
            log.info("arcticshift: the backfill %s is already complete", key)

    def _phase(self, brand: Brand, subreddit: str, kind: str, span: tuple[int, int], key: str,
               cursor: Cursor, budget: Budget) -> Generator[Page, None, dict[str, str]]:
        """Yield the pages of one kind created in ``span`` (``[start, end)``, epoch seconds); return the
        matched threads (fullname: term).

        :raises CollectorError: also when the archive answers the page before again (it ignores
            ``after``), rather than ask it the same question until the budget runs out.
        """
        start, end = span
        after = cursor.after if cursor.after is not None else start - 1
        threads = cursor.threads
        seen: set[str] = set()  # ids at the second the last page ended on
        previous: set[str] = set()  # every id of the page before
        now = datetime.now(UTC)
        while True:
            limit = self.limit
            params: dict[str, Any] = {"subreddit": subreddit, "after": after, "before": end, "limit": limit,
                                      "sort": "asc"}
            items = self._search(kind, params, budget)
            limit = params["limit"]  # what was asked for, after any timeout retries
            self.read[kind] += len(items)
            ids = {PREFIX[kind] + item["id"] for item in items}
            full = len(items) >= limit
            if full and ids <= previous:
                raise CollectorError(f"{SETTINGS}: GET {PATHS[kind]} answered the same {len(items)} {kind} "
                                     f"again for after={after}; the archive ignores 'after', so paging "
                                     f"r/{subreddit} would never end")
            previous = ids
            posts: list[tuple[Post, str]] = []
            for item in items:
                fullname = PREFIX[kind] + item["id"]
                if fullname in seen or not _in_span(fullname, _second(item), span, now):
                    continue
                post = _to_post(kind, {**item, "name": fullname})
                if post is None:
                    continue
                term = brand.match(post.text)
                if kind == "posts" and term is not None and len(threads) < MAX_THREADS:
                    threads = {**threads, fullname: term}
                if kind == "comments" and term is None:
                    term = threads.get(str(item.get("link_id")))
                if term is not None:
                    posts.append((post, term))
            # Sorted oldest first: a short page is the last, and an item at or past the end means the range
            # is read (an archive that ignores `before` would otherwise page on through everything after it).
            if not full or _second(items[-1]) >= end:
                following = "comments" if kind == "posts" else "done"
                done = Cursor(following, None, threads if following == "comments" else {})
                yield Page(posts, (key, done.encode()))
                return threads
            last = _second(items[-1])
            next_after = last - 1
            if next_after <= after:
                # A whole page created in one second: step past it (Arctic Shift has no other cursor).
                log.warning("arcticshift: more than %d %s in r/%s at %d; the rest of that second is skipped",
                            limit, kind, subreddit, last)
                next_after, seen = last, set()
            else:
                seen = {PREFIX[kind] + i["id"] for i in items if _second(i) == last}
            after = next_after
            yield Page(posts, (key, Cursor(kind, after, threads).encode()))

    def _search(self, kind: str, params: dict[str, Any], budget: Budget) -> list[dict]:
        """One page of ``kind``; a query timeout is retried after a backoff with half the page size
        (``params["limit"]`` and :attr:`limit` are lowered), ``retries`` times at most.

        :raises CollectorError: when the timeouts persist, or for any other failure.
        """
        attempt = 0
        while True:
            try:
                return _items(self.client.get_json(PATHS[kind], params, budget), PATHS[kind])
            except HttpStatusError as exc:
                if not _query_timeout(exc) or attempt >= self.options.retries:
                    raise
                # Never past the budget: the next request checks it first and ends the run as partial.
                wait = min(self.client.backoff * 2 ** attempt, max(0.0, budget.remaining()))
                self.limit = params["limit"] = max(MIN_LIMIT, min(self.limit, params["limit"]) // 2)
                log.info("arcticshift: %s; retrying in %.0f s with limit=%d", exc, wait, self.limit)
                self.client.sleep(wait)
                attempt += 1


def _query_timeout(exc: HttpStatusError) -> bool:
    """Whether an error is the archive's query timeout (422, "Timeout. Maybe slow down a bit")."""
    return exc.status == 422 and any(word in (exc.code or "").lower() for word in TIMEOUT_WORDS)


def _second(item: Mapping[str, Any]) -> int:
    """The whole second an item was created in (pages and checkpoints are cut at seconds)."""
    return math.floor(item["created_utc"])


def _items(data: Any, path: str) -> list[dict]:
    """The ``data`` list of an answer, each item with a string ``id`` and a numeric ``created_utc`` (a
    numeric string, as the archive's 2008-2015 items have it, becomes its number; fractions are kept).

    :raises CollectorError: naming the path and what was expected.
    """
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        got = f"keys {', '.join(sorted(map(str, data)))}" if isinstance(data, dict) else type(data).__name__
        raise CollectorError(f"GET {path}: expected a JSON object with a 'data' list, got {got}")
    items = []
    for item in data["data"]:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise CollectorError(f"GET {path}: expected items with a string 'id', got {str(item)[:120]!r}")
        created = _number(item.get("created_utc"))
        if created is None:
            raise CollectorError(f"GET {path}: item {item['id']}: expected a numeric 'created_utc', "
                                 f"got {item.get('created_utc')!r}")
        items.append({**item, "created_utc": created})
    return items


def _number(value: Any) -> int | float | None:
    """An epoch time given as a number or a numeric string; None for anything else (bools, NaN, words)."""
    if isinstance(value, str):
        try:
            value = float(value.strip()) if "." in value or "e" in value.lower() else int(value.strip())
        except ValueError:
            return None
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        return None
    return value


def _in_span(fullname: str, created: int, span: tuple[int, int], now: datetime) -> bool:
    """Whether an item belongs to the backfill: created in ``[start, end)`` (an archive that ignores
    ``before`` answers later items) and not more than a day after the run's clock (logged if not)."""
    start, end = span
    if not start <= created < end:
        log.warning("%s: skipping %s, created at %d: outside the backfill's range [%d, %d)", SETTINGS,
                    fullname, created, start, end)
        return False
    return not skip_too_new(SETTINGS, fullname, datetime.fromtimestamp(created, UTC), now)


def _to_post(kind: str, data: Mapping[str, Any]) -> Post | None:
    """The live collector's mapping, so both sources agree on text, url, author and ids; None (logged)
    for an item whose text is not a string."""
    try:
        return submission_to_post(data) if kind == "posts" else comment_to_post(data)
    except TypeError as exc:
        log.warning("%s: skipping an item: %s", SETTINGS, exc)
        return None
