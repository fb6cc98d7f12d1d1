"""Hacker News: stories and comments that mention a brand, through the public Algolia search API (no key).

One query per brand term (or per ``queries`` in ``[brands.X.sources.hackernews]``) on
``/api/v1/search_by_date``, which answers newest first; Algolia matches prefixes and typos ("Next" finds
"Nextdoor"), so every hit is matched again locally with :meth:`Brand.match` and kept only if it matches.

Checkpoints (one per query, ``search:<query>``) are JSON cursors. ``done`` is the newest ``created_at_i``
of the last complete walk: everything up to it is stored. A walk goes newest first from now down to
``done - overlap_seconds`` (Algolia indexes new items a little late), paging by time rather than by page
number: each request asks ``created_at_i<=`` the oldest time of the page before, so new items arriving
meanwhile never shift the pages, and Algolia's cap of 1,000 hits per query (``paginationLimitedTo``)
never stops a long walk. Every page but the last carries ``{"done", "top", "below"}``: items in
``(below, top]`` are stored; a run killed or out of budget resumes that walk below ``below`` first, then
walks from now down to ``top``. The last page moves ``done`` up to ``top``.

API: https://hn.algolia.com/api (parameters ``query``, ``tags``, ``numericFilters``, ``hitsPerPage``,
``page``; response ``{"hits": [...], "page", "nbPages", "hitsPerPage", "nbHits"}``).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

from collectors.base import Budget, CollectorError, Page, SourceUnavailableError, skip_too_new
from collectors.http import HttpClient, HttpOptions, parse_options
from dipwatch.core.brands import Brand
from dipwatch.core.records import Post

log = logging.getLogger(__name__)

SOURCE = "hackernews"
SEARCH_PATH = "/api/v1/search_by_date"
ITEM_URL = "https://news.ycombinator.com/item?id="
ALGOLIA_MAX_HITS = 1000  # paginationLimitedTo on the HN index: page * hitsPerPage beyond it answers nothing
TEXT_FIELDS = ("title", "url", "story_text", "comment_text")  # strings or null in every hit


@dataclass(frozen=True)
class HackerNewsOptions(HttpOptions):
    """The ``[sources.hackernews]`` settings (all optional; see :class:`HttpOptions` for the shared ones).

    :param hits_per_page: hits asked for per request (default 100; Algolia allows up to 1000).
    :param overlap_seconds: how far below the last walk's newest item each walk starts again, because
        Algolia indexes new items a little late (default 600).
    :param first_run_days: how far back a query's first run reaches without ``--since`` (default 30).
    """

    base_url: str = "https://hn.algolia.com"
    hits_per_page: int = 100
    overlap_seconds: int = 600
    first_run_days: int = 30


@dataclass(frozen=True)
class Cursor:
    """A query's checkpoint; see the module docstring."""

    done: int | None = None
    top: int | None = None
    below: int | None = None

    @classmethod
    def decode(cls, text: str | None) -> Cursor:
        if not text:
            return cls()
        try:
            data = json.loads(text)
            values = [data.get(k) for k in ("done", "top", "below")]
            if not all(v is None or isinstance(v, int) for v in values):
                raise TypeError("not integers")
            cursor = cls(*values)
        except (ValueError, TypeError, AttributeError):
            # A cursor we cannot read costs one walk from first_run_days (the store drops duplicates).
            log.warning("hackernews: unreadable checkpoint %.60r; walking the query again", text)
            return cls()
        return cursor if (cursor.top is None) == (cursor.below is None) else cls(cursor.done)

    def encode(self) -> str:
        data = {"done": self.done} if self.top is None else {"done": self.done, "top": self.top,
                                                              "below": self.below}
        return json.dumps(data, separators=(",", ":"), sort_keys=True)


def make_hackernews(source_settings: Mapping[str, Any], env: Mapping[str, str]) -> HackerNewsCollector:
    """Build the collector from ``[sources.hackernews]``; no credentials are needed.

    :raises SourceUnavailableError: (``missing_config``) for an unknown or mistyped setting.
    """
    options = parse_options(HackerNewsOptions, SOURCE, source_settings)
    if not 1 <= options.hits_per_page <= ALGOLIA_MAX_HITS:
        raise SourceUnavailableError(f"sources.{SOURCE}.hits_per_page: expected 1 to {ALGOLIA_MAX_HITS}, "
                                     f"got {options.hits_per_page}", missing_config=True)
    return HackerNewsCollector(options)


class HackerNewsCollector:
    """Reads a brand's Hacker News mentions; ``clock`` (epoch seconds) is replaceable in tests."""

    name = SOURCE

    def __init__(self, options: HackerNewsOptions, client: HttpClient | None = None):
        self.options = options
        self.client = client or options.client()
        self.clock = time.time

    def pages(self, brand: Brand, checkpoints: Mapping[str, str], since: datetime | None,
              budget: Budget) -> Iterator[Page]:
        """Yield pages of the brand's new stories and comments, one per request, query by query."""
        since_ts = int(since.timestamp()) if since is not None else None
        for query in queries_for(brand):
            key = f"search:{query}"
            yield from self._query_pages(brand, query, key, Cursor.decode(checkpoints.get(key)), since_ts,
                                         budget)

    def _query_pages(self, brand: Brand, query: str, key: str, cursor: Cursor, since: int | None,
                     budget: Budget) -> Iterator[Page]:
        if cursor.top is not None:  # finish the walk a killed or out-of-budget run left
            cursor = yield from self._walk(brand, query, key, cursor, since, budget)
        yield from self._walk(brand, query, key, cursor, since, budget)

    def _lower_bound(self, cursor: Cursor, since: int | None) -> int:
        if cursor.done is not None:
            lower = cursor.done - self.options.overlap_seconds
        elif since is not None:
            lower = since - 1  # the filter is strict (created_at_i>lower): keep posts made at `since`
        else:
            lower = int(self.clock()) - self.options.first_run_days * 86400
        return max(lower, since - 1) if since is not None else lower

    def _walk(self, brand: Brand, query: str, key: str, cursor: Cursor, since: int | None,
              budget: Budget) -> Generator[Page, None, Cursor]:
        """One newest-first walk down to the lower bound; returns the cursor once it is complete."""
        lower = self._lower_bound(cursor, since)
        upper, top = cursor.below, cursor.top  # both None for a fresh walk
        page_no, boundary, per_page = 0, set[str](), self.options.hits_per_page
        now = datetime.fromtimestamp(self.clock(), UTC)
        read: set[str] = set()  # every objectID this walk has read
        stale = 0  # pages in a row that brought no hit not read before
        while True:
            filters = [f"created_at_i>{lower}"] + ([f"created_at_i<={upper}"] if upper is not None else [])
            params = {"query": query, "tags": "(story,comment)", "numericFilters": ",".join(filters),
                      "hitsPerPage": per_page, "page": page_no}
            answered = _hits(self.client.get_json(SEARCH_PATH, params, budget))
            ids = {str(hit.get("objectID")) for hit in answered}
            # One page of nothing new is normal (the page after a full page made in one second holds that
            # second again); two in a row mean the API ignores created_at_i and page, and would answer the
            # same hits until the budget ran out.
            stale = stale + 1 if len(answered) == per_page and ids <= read else 0
            if stale >= 2:
                raise CollectorError(f"{SOURCE}: GET {SEARCH_PATH} answered the same {len(answered)} hits "
                                     f"again for {query!r} (created_at_i<={upper}, page {page_no}); the API "
                                     "ignores its time filter, so paging would never end")
            read |= ids
            times = [t for t in (_created(hit) for hit in answered) if t is not None]  # to page on
            # A time from the future must not become `top` and then `done`: it would hide every later hit.
            hits = [hit for hit in answered if not _from_future(hit, now)]
            kept = [t for t in (_created(hit) for hit in hits) if t is not None]
            if top is None and kept:
                top = max(kept)
            posts = []
            for hit in hits:
                if str(hit.get("objectID")) in boundary:
                    continue  # seen on the page before: both pages hold the second they meet at
                post = hit_to_post(hit)
                term = brand.match(post.text) if post is not None else None
                if post is not None and term is not None:
                    posts.append((post, term))
            if len(answered) < per_page or not times:
                done = Cursor(top if top is not None else cursor.done)
                yield Page(posts, (key, done.encode()))
                return done
            oldest = min(times)
            yield Page(posts, (key, Cursor(cursor.done, top, oldest).encode()))
            same_second = {str(h.get("objectID")) for h in answered if _created(h) == oldest}
            if oldest == upper:
                # A whole page in one second: page through it, then step below it if Algolia's cap bites.
                page_no, boundary = page_no + 1, boundary | same_second
                if (page_no + 1) * per_page > ALGOLIA_MAX_HITS:
                    log.warning("hackernews: more than %d hits for %r at %d; skipping the rest of that "
                                "second", ALGOLIA_MAX_HITS, query, oldest)
                    page_no, upper, boundary = 0, oldest - 1, set()
            else:
                page_no, upper, boundary = 0, oldest, same_second


def queries_for(brand: Brand) -> list[str]:
    """The search queries of a brand: ``queries`` in ``[brands.X.sources.hackernews]``, else its terms.

    :raises CollectorError: naming the setting when ``queries`` is not a list of strings.
    """
    queries = brand.sources.get(SOURCE, {}).get("queries")
    if queries is None:
        return list(brand.terms)
    if not isinstance(queries, list) or not all(isinstance(q, str) and q.strip() for q in queries):
        raise CollectorError(f"brands.{brand.key}.sources.{SOURCE}.queries: expected a list of "
                             f"non-empty strings, got {queries!r}")
    return [q.strip() for q in queries]


def _hits(data: Any) -> list[dict]:
    if not isinstance(data, dict) or not isinstance(data.get("hits"), list):
        keys = f" with keys {', '.join(sorted(map(str, data)))}" if isinstance(data, dict) else ""
        raise CollectorError(f"GET {SEARCH_PATH}: expected a JSON object with a 'hits' list, got "
                             f"{type(data).__name__}{keys}")
    return [hit for hit in data["hits"] if isinstance(hit, dict)]


def _created(hit: Mapping[str, Any]) -> int | None:
    value = hit.get("created_at_i")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _from_future(hit: Mapping[str, Any], now: datetime) -> bool:
    created = _created(hit)
    return created is not None and skip_too_new(SOURCE, hit.get("objectID"),
                                                datetime.fromtimestamp(created, UTC), now)


def hit_to_post(hit: Mapping[str, Any]) -> Post | None:
    """A story or comment hit as a Post; None for a hit without id, time or text, or with a text field
    that is not a string (logged).

    Fields as the HN index stores them (https://hn.algolia.com/api; e.g. story 1 and comment 15):
    stories have ``title``, ``url``, ``story_text`` (HTML, for Ask HN and text posts) and ``points``;
    comments have ``comment_text`` (HTML), ``parent_id`` and ``story_id`` (integers) and ``points`` null.
    """
    object_id, created = hit.get("objectID"), _created(hit)
    if not object_id or created is None:
        log.warning("hackernews: skipping a hit without objectID or created_at_i: %.120r", hit)
        return None
    mistyped = [key for key in TEXT_FIELDS if not isinstance(hit.get(key), str | None)]
    if mistyped:
        log.warning("hackernews: skipping hit %s: %s not a string", object_id, " and ".join(mistyped))
        return None
    tags = hit.get("_tags") or []
    is_comment = "comment" in tags or (hit.get("comment_text") is not None and "story" not in tags)
    if is_comment:
        text = html_to_text(hit.get("comment_text") or "")
    else:
        title = (hit.get("title") or "").strip()
        # Link stories have no story_text (story 1, "Y Combinator", links ycombinator.com): the URL stands in.
        body = html_to_text(hit.get("story_text") or "") or (hit.get("url") or "").strip()
        text = f"{title}\n\n{body}" if body else title
    if not text:
        return None  # deleted or dead items keep their id but lose their text
    parent = hit.get("parent_id") if is_comment else None
    points = hit.get("points")
    return Post(
        source=SOURCE,
        post_id=str(object_id),
        created_at=datetime.fromtimestamp(created, UTC),
        text=text,
        kind="comment" if is_comment else "post",
        author=hit.get("author") or None,
        url=f"{ITEM_URL}{object_id}",
        parent_id=str(parent) if parent is not None else None,
        engagement=points if isinstance(points, int) and not isinstance(points, bool) else None,
    )


BREAKS = {"p": "\n\n", "br": "\n", "pre": "\n\n", "li": "\n"}


class _TextExtractor(HTMLParser):
    """HN's comment HTML to plain text: ``<p>`` separates paragraphs (HN never closes them), ``<a>`` keeps
    its text (the URL, shortened by HN with "..."), entities (``&#x27;``, ``&#x2F;``) are unescaped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.parts.append(BREAKS.get(tag, ""))

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Plain text of an HN HTML fragment: tags dropped, entities unescaped, paragraphs as blank lines."""
    if "<" not in markup and "&" not in markup:
        return markup.strip()
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    lines = "".join(parser.parts).split("\n")
    text = "\n".join(line.rstrip() for line in lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()
