"""Mastodon: statuses that mention a brand, from hashtag timelines and (with a token) status search.

Plain HTTP against the REST API as documented at docs.joinmastodon.org: ``GET /api/v1/timelines/tag/:hashtag``
(``min_id``, ``max_id``, ``limit`` up to 40; public unless the instance turned off timeline previews) and
``GET /api/v2/search`` (``q``, ``type=statuses``, ``min_id``, ``max_id``, ``limit`` up to 40; needs a user
token, and without full-text search on the instance finds only statuses the account has seen). Both answer
``Status`` entities (docs: entities/Status): ``id`` (a string), ``created_at``, ``content`` (HTML),
``spoiler_text``, ``in_reply_to_id``, ``url``, ``uri``, ``account.acct``, ``favourites_count``,
``reblogs_count``, ``reblog``.

Status ids are Snowflakes (Mastodon's lib/mastodon/snowflake.rb: milliseconds since the epoch << 16, plus
a sequence), so an id can be made for a time: a first run starts at the id of ``--since`` or of
``lookback_hours`` ago. A status created in the past (one that federates late) gets the id of its own
``created_at`` (``Mastodon::Snowflake.id_at``), which is why each walk re-reads ``overlap_seconds``.

How instances behave in 2026, and what is done about it (sources in tests/fixtures/sources/SOURCE.md):

- Failures are per instance: one that refuses us (401/403), rate-limits us past ``max_retry_after`` or
  answers nonsense is marked failed for the run and named in the brand's error; the other instances go on.
- Since 4.5 an admin can restrict hashtag feeds to signed-in users: unauthenticated requests then get
  401 (failure above, with a hint to set a token), or, filtered, an empty list. A tag timeline that has
  answered statuses before and now answers nothing, and still nothing when asked for its latest status,
  ``EMPTY_RUNS`` runs in a row, raises a warning that ``dipwatch status`` shows.
- 429 comes with ``X-RateLimit-Reset`` (an ISO time) and no ``Retry-After``: the shared HTTP path waits
  for that reset, or fails the instance at once when it is further away than ``max_retry_after``.
- Search turns ``min_id``/``max_id`` into ``created_at`` bounds cut to whole seconds, so a walk down asks
  ``max_id`` one second above the lowest id it has, and drops the statuses it already read.

Checkpoints:
- ``tag:<instance>:<tag>``: ``{"id", "seen", "empty"}``. ``min_id`` pages forward in time (each answer is the
  ``limit`` statuses just above ``min_id``), so every page's checkpoint is simply its newest id: all below
  it is stored. A killed run resumes there. ``seen`` holds the ids inside the overlap window, ``empty`` the
  runs in a row in which a timeline that had answered before answered nothing.
- ``search:<instance>:<query>``: ``{"floor", "gap"}``. Search answers newest-first, so it walks down with
  ``max_id`` to ``floor`` (``min_id``); each page's checkpoint records the span stored so far as ``gap``,
  and a run after a kill first walks ``floor .. gap[0]`` before moving ``floor`` up to ``gap[1]``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

from collectors.base import (
    Budget,
    BudgetExceededError,
    CollectorError,
    Page,
    SourceUnavailableError,
    checked_settings,
    json_object,
    parse_iso_time,
    skip_too_new,
)
from collectors.http import HttpClient
from dipwatch.core.brands import Brand
from dipwatch.core.records import Post

log = logging.getLogger(__name__)

SOURCE = "mastodon"
TAG_TIMELINE = "/api/v1/timelines/tag/{tag}"
SEARCH = "/api/v2/search"
TOKEN_ENV = "MASTODON_TOKEN"  # noqa: S105 - the variable's name, not a token
PAGE_LIMIT = 40  # the API's maximum for both endpoints
MAX_SEEN = 2000
EMPTY_RUNS = 3  # runs in a row of a silent hashtag feed that had answered before, then a warning
SECOND = 1000 << 16  # one second in Snowflake ids
INSTANCE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+(:\d{1,5})?$")


@dataclass(frozen=True)
class MastodonOptions:
    """The ``[sources.mastodon]`` settings (all optional).

    :param scheme: ``https`` (default) or ``http``: how an instance name becomes a base URL.
    :param base_urls: a base URL per instance, overriding ``scheme`` (tests, proxies).
    :param tokens: per instance, the name of the environment variable holding its access token;
        instances not named here use ``MASTODON_TOKEN`` when it is set.
    :param lookback_hours: how far back a first run reaches without ``--since`` (default 72).
    :param overlap_seconds: how far below the newest status each walk re-reads, for statuses that
        federate late (default 600).
    :param timeout: seconds to wait for an answer (default 10).
    """

    scheme: str = "https"
    base_urls: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)
    lookback_hours: int = 72
    overlap_seconds: int = 600
    timeout: float = 10.0

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> MastodonOptions:
        """:raises SourceUnavailableError: (``missing_config``) naming an unknown or mistyped key."""
        values = checked_settings(cls, "mastodon", settings)
        if values.get("scheme", "https") not in {"https", "http"}:
            raise SourceUnavailableError("sources.mastodon.scheme: expected \"https\" or \"http\"",
                                         missing_config=True)
        return cls(**values)


def make_mastodon(source_settings: Mapping[str, Any], env: Mapping[str, str]) -> MastodonCollector:
    """Build the Mastodon collector from ``[sources.mastodon]`` and the environment.

    :raises SourceUnavailableError: (``missing_config``) for a wrong setting, or a ``tokens`` entry
        naming an environment variable that is not set.
    """
    options = MastodonOptions.from_settings(source_settings)
    tokens: dict[str, str] = {}
    for instance, variable in options.tokens.items():
        value = env.get(str(variable), "").strip()
        if not value:
            raise SourceUnavailableError(
                f"sources.mastodon.tokens.{instance}: the environment variable {variable} is not set; "
                "expected an access token of that instance (Preferences > Development)", missing_config=True)
        tokens[instance.lower()] = value
    default = env.get(TOKEN_ENV, "").strip() or None
    return MastodonCollector(options, tokens, default)


class MastodonCollector:
    """Hashtag timelines and status search on each brand's instances, as pages of Posts.

    :param options: the source settings.
    :param tokens: access tokens by instance.
    :param default_token: the token for instances without their own (``MASTODON_TOKEN``).
    """

    name = SOURCE

    def __init__(self, options: MastodonOptions, tokens: Mapping[str, str] | None = None,
                 default_token: str | None = None):
        self.options = options
        self._tokens = dict(tokens or {})
        self._default_token = default_token
        self._clients: dict[str, HttpClient] = {}
        self.sleep: Callable[[float], None] | None = None
        self.refused: dict[str, str] = {}  # instances that refused us this run, with why

    def _client(self, instance: str) -> HttpClient:
        if instance not in self._clients:
            base = self.options.base_urls.get(instance) or f"{self.options.scheme}://{instance}"
            self._clients[instance] = HttpClient(str(base), timeout=self.options.timeout)
        client = self._clients[instance]
        if self.sleep is not None:
            client.sleep = self.sleep
        return client

    def _get(self, instance: str, path: str, params: Mapping[str, Any], budget: Budget) -> Any:
        token = self._tokens.get(instance, self._default_token)
        headers = {"Authorization": f"Bearer {token}"} if token else None
        return self._client(instance).get_json(path, params, budget, headers=headers)

    # the job's entry point -----------------------------------------------------------------------
    def pages(self, brand: Brand, checkpoints: Mapping[str, str], since: datetime | None,
              budget: Budget) -> Iterator[Page]:
        """Yield pages of the brand's statuses on each configured instance: its hashtags, then (with a
        token) its search queries. An instance that fails is left for the rest of the brand (one that
        refuses us, for the rest of the run) and the others go on.

        :raises CollectorError: a bad setting, or naming each instance that failed once the others are read.
        """
        settings = brand_settings(brand)
        start = since or datetime.now(UTC) - timedelta(hours=self.options.lookback_hours)
        failed: dict[str, str] = {}
        for instance in settings["instances"]:
            if instance in self.refused:
                failed[instance] = self.refused[instance]
                continue
            try:
                yield from self._instance_pages(brand, instance, settings, checkpoints, start, since, budget)
            except BudgetExceededError:
                raise
            except SourceUnavailableError as exc:
                self.refused[instance] = failed[instance] = _refusal(exc)
                log.error("mastodon: %s refuses us (%s); skipping it for the rest of the run", instance,
                          failed[instance])
            except CollectorError as exc:
                failed[instance] = str(exc)
                log.error("mastodon: %s failed for %s (%s); going on with the other instances", instance,
                          brand.key, exc)
        if failed:
            reasons = "; ".join(f"{i}: {why}" for i, why in failed.items())
            raise CollectorError(f"{len(failed)} of {len(settings['instances'])} instances failed (the "
                                 f"others were read): {reasons}")

    def _instance_pages(self, brand: Brand, instance: str, settings: Mapping[str, Any],
                        checkpoints: Mapping[str, str], start: datetime, since: datetime | None,
                        budget: Budget) -> Iterator[Page]:
        for tag, term in settings["tags"].items():
            key = f"tag:{instance}:{tag.lower()}"
            yield from self._tag_pages(brand, instance, tag, term, key, checkpoints.get(key), start, since,
                                       budget)
        if self._tokens.get(instance, self._default_token) is None:
            return
        for query in settings["queries"]:
            key = f"search:{instance}:{query}"
            yield from self._search_pages(brand, instance, query, key, checkpoints.get(key), start, since,
                                          budget)

    def _tag_pages(self, brand: Brand, instance: str, tag: str, term: str, key: str, saved: str | None,
                   start: datetime, since: datetime | None, budget: Budget) -> Iterator[Page]:
        cursor = _decode(saved, {"id": None, "seen": [], "empty": 0})
        newest: str | None = cursor["id"]
        seen = set(cursor["seen"])
        first = True
        if newest is None or (since is not None and _id_key(newest) < _id_key(snowflake(since))):
            min_id = snowflake(start)
        else:
            min_id = _minus(newest, self.options.overlap_seconds)
        path = TAG_TIMELINE.format(tag=quote(tag, safe=""))
        now = datetime.now(UTC)
        while True:
            statuses = _list(self._get(instance, path, {"min_id": min_id, "limit": PAGE_LIMIT}, budget), path)
            statuses = _not_from_future(instance, statuses, now)
            if not statuses:
                if first and newest is not None:
                    yield self._silent_feed(instance, tag, path, key, cursor, budget)
                return
            first = False
            page: list[tuple[Post, str]] = []
            ids = []
            for status in statuses:
                post = status_to_post(instance, status)
                ids.append(_status_id(status))
                if post is None:
                    continue
                bare = post.post_id.rsplit(":", 1)[1]
                if bare in seen or (since is not None and post.created_at < since):
                    continue
                seen.add(bare)
                # The hashtag is itself the mention ("#AcmeRetail" names "Acme Retail" without a space).
                page.append((post, brand.match(post.text) or term))
            top = max(ids, key=_id_key)
            if newest is None or _id_key(top) > _id_key(newest):
                newest = top
            floor = _minus(newest, self.options.overlap_seconds)
            kept = sorted((i for i in seen if _id_key(i) > _id_key(floor)), key=_id_key, reverse=True)
            seen = set(kept[:MAX_SEEN])
            checkpoint = json.dumps({"id": newest, "seen": kept[:MAX_SEEN], "empty": 0},
                                    separators=(",", ":"))
            yield Page(page, (key, checkpoint))
            if _id_key(top) <= _id_key(min_id):  # no progress: a server that ignores min_id
                return
            min_id = top

    def _silent_feed(self, instance: str, tag: str, path: str, key: str, cursor: dict[str, Any],
                     budget: Budget) -> Page:
        """A feed that answered statuses before answers none above its checkpoint: ask for its latest
        status. Nothing there either is counted; ``EMPTY_RUNS`` such runs in a row raise a warning."""
        latest = _list(self._get(instance, path, {"limit": 1}, budget), path)
        empty = 0 if latest else int(cursor.get("empty") or 0) + 1
        warnings: tuple[str, ...] = ()
        if empty >= EMPTY_RUNS:
            warnings = (f"{instance} #{tag}: the hashtag feed answered nothing in {empty} runs in a row "
                        "after answering statuses before; this instance may restrict hashtag feeds to "
                        "signed-in users (Mastodon 4.5): give it a token (sources.mastodon.tokens)",)
            log.warning("mastodon: %s", warnings[0])
        checkpoint = json.dumps({**cursor, "empty": empty}, separators=(",", ":"))
        return Page([], (key, checkpoint), warnings)

    def _search_pages(self, brand: Brand, instance: str, query: str, key: str, saved: str | None,
                      start: datetime, since: datetime | None, budget: Budget) -> Iterator[Page]:
        cursor = _decode(saved, {"floor": None, "gap": None})
        floor = cursor["floor"] or snowflake(start)
        if since is not None and _id_key(floor) < _id_key(snowflake(since)):
            floor = snowflake(since)
        if cursor["gap"]:
            low, high = cursor["gap"]
            for page, page_low, _ in self._search_walk(brand, instance, query, floor, low, budget):
                low = min(low, page_low, key=_id_key)
                yield Page(page, (key, _encode_search(floor, (low, high))))
            floor = max(floor, high, key=_id_key)
            yield Page([], (key, _encode_search(floor, None)))
        high = None
        for page, page_low, walk_high in self._search_walk(brand, instance, query, floor, None, budget):
            high = walk_high
            yield Page(page, (key, _encode_search(floor, (page_low, high))))
        if high is not None:
            yield Page([], (key, _encode_search(max(floor, high, key=_id_key), None)))

    def _search_walk(self, brand: Brand, instance: str, query: str, floor: str, below: str | None,
                     budget: Budget) -> Iterator[tuple[list[tuple[Post, str]], str, str]]:
        """Pages newest-first between ``floor`` and ``below`` (both exclusive): (matched posts, the page's
        lowest id, the walk's highest id).

        Search cuts ``min_id`` and ``max_id`` to whole seconds (mastodon PR #26927, issue #32731): asked
        ``max_id`` = the lowest id read, it would skip the statuses of that second not yet read. So each
        page asks ``max_id`` one second higher and drops the ids already read; ``min_id`` cut down only
        brings back statuses at or below ``floor``, dropped here too."""
        params: dict[str, Any] = {"q": query, "type": "statuses", "limit": PAGE_LIMIT, "min_id": floor,
                                  "resolve": "false"}
        high: str | None = None
        now = datetime.now(UTC)
        read: set[str] = set()
        step_past = False
        while True:
            if below is not None:
                params["max_id"] = below if step_past else _plus_second(below)
            data = self._get(instance, SEARCH, params, budget)
            answered = _list(data.get("statuses") if isinstance(data, dict) else None, SEARCH)
            above_floor = [s for s in answered if _id_key(_status_id(s)) > _id_key(floor)]
            statuses = [s for s in above_floor if _status_id(s) not in read]
            if not statuses:
                if above_floor and not step_past:
                    # A whole page of one second already read: step past it (its unread rest is lost).
                    log.warning("mastodon: more than %d statuses in one second on %s for %r; stepping past",
                                PAGE_LIMIT, instance, query)
                    step_past = True
                    continue
                return
            step_past = False
            read.update(_status_id(s) for s in statuses)
            low = min((_status_id(s) for s in statuses), key=_id_key)  # to page on, future ones included
            current = _not_from_future(instance, statuses, now)
            page = []
            for status in current:
                post = status_to_post(instance, status)
                term = brand.match(post.text) if post is not None else None
                if post is not None and term is not None:  # full-text search stems: "Acme's" finds "acmes"
                    page.append((post, term))
            if current:  # a page of statuses from the future only moves the walk down, never `high`
                top = max((_status_id(s) for s in current), key=_id_key)
                high = top if high is None else max(high, top, key=_id_key)
            if high is not None:
                yield page, low, high
            below = low if below is None else min(below, low, key=_id_key)


# the boundary: one Status -> one Post ------------------------------------------------------------
def _not_from_future(instance: str, statuses: list, now: datetime) -> list:
    """``statuses`` without those dated more than a day ahead (logged). They go before their ids can
    become a checkpoint: a Snowflake id of a month ahead as ``min_id`` would hide every later status."""
    kept = []
    for status in statuses:
        original = _original(status)
        created = parse_iso_time(original.get("created_at")) if isinstance(original, dict) else None
        if created is None or not skip_too_new(SOURCE, f"{instance}:{_status_id(original)}", created, now):
            kept.append(status)
    return kept


def _original(status: Any) -> Any:
    """The status itself, or the one a reblog wrapper boosts."""
    if isinstance(status, dict) and isinstance(status.get("reblog"), dict):
        return status["reblog"]
    return status


def status_to_post(instance: str, status: Any) -> Post | None:
    """A Status entity as a Post; a reblog wrapper is read as the status it boosts. None (logged) for a
    status with no text (no ``content`` nor ``spoiler_text``) or a ``content`` that is not a string.

    :raises CollectorError: when the status has no id or no ``created_at``.
    """
    status = _original(status)
    status_id = _status_id(status)
    created = parse_iso_time(status.get("created_at"))
    if created is None:
        raise CollectorError(f"{instance}: status {status_id}: expected an ISO 8601 created_at, "
                             f"got {status.get('created_at')!r}")
    content = status.get("content")
    if not isinstance(content, str | None):
        log.warning("mastodon: skipping status %s:%s: its content is a JSON %s, expected HTML text",
                    instance, status_id, type(content).__name__)
        return None
    account = json_object(status.get("account"))
    acct = account.get("acct") if isinstance(account.get("acct"), str) else None
    # Local accounts' acct has no domain ("Gargron"); add the instance so names are unique across them.
    author = acct if not acct or "@" in acct else f"{acct}@{instance}"
    text = html_to_text(content or "")
    warning = status.get("spoiler_text")
    if isinstance(warning, str) and warning.strip():  # a content warning is the poster's own words too
        text = f"{warning.strip()}\n\n{text}"
    if not text:  # nothing to match or score; stored, it would count under the hashtag's term anyway
        log.info("mastodon: skipping status %s:%s: it has no text", instance, status_id)
        return None
    parent = status.get("in_reply_to_id")
    counts = [status.get("favourites_count"), status.get("reblogs_count")]
    return Post(
        source=SOURCE,
        post_id=f"{instance}:{status_id}",
        created_at=created,
        text=text,
        kind="comment" if parent else "post",
        author=author,
        url=status.get("url") or status.get("uri"),
        parent_id=f"{instance}:{parent}" if parent else None,
        engagement=sum(c for c in counts if isinstance(c, int) and not isinstance(c, bool)),
    )


class _PlainText(HTMLParser):
    """Mastodon's status HTML (``<p>``, ``<br>``, links with ``invisible``/``ellipsis`` spans) as text.

    The hidden parts of a shortened link ("https://", the tail after the ellipsis) are kept: the text is
    matched and scored, not displayed, and "acme.com/status" should read as written.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p" and self.parts:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(content: str) -> str:
    """The plain text of a status's HTML ``content``: paragraphs split by a blank line, ``<br>`` as a
    newline, tags dropped, entities decoded."""
    parser = _PlainText()
    parser.feed(content)
    parser.close()
    lines = "".join(parser.parts).split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


# settings ---------------------------------------------------------------------------------------
def brand_settings(brand: Brand) -> dict[str, Any]:
    """``[brands.X.sources.mastodon]``: ``instances`` (required), ``tags`` (default: each term without
    spaces or punctuation) and ``queries`` (default: the terms, phrases quoted; used where a token is set).

    :returns: ``{"instances": [...], "tags": {tag: term}, "queries": [...]}``.
    :raises CollectorError: naming the field that is missing or wrong.
    """
    table = brand.sources.get(SOURCE, {})
    where = f"brands.{brand.key}.sources.mastodon"
    instances = table.get("instances")
    if not isinstance(instances, list) or not instances or not all(isinstance(i, str) for i in instances):
        raise CollectorError(f"{where}.instances: expected a list of instance names, like "
                             "[\"mastodon.social\"]")
    cleaned = []
    for name in instances:
        host = name.strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/")
        if not INSTANCE.match(host):
            raise CollectorError(f"{where}.instances: {name!r} is not an instance host name")
        cleaned.append(host)
    tags: dict[str, str] = {}
    if "tags" in table:
        given = table["tags"]
        if not isinstance(given, list) or not all(isinstance(t, str) and t.strip("# ") for t in given):
            raise CollectorError(f"{where}.tags: expected a list of hashtags, like [\"AcmeRetail\"]")
        for tag in given:
            bare = tag.strip().lstrip("#")
            if not re.fullmatch(r"\w+", bare):
                raise CollectorError(f"{where}.tags: {tag!r} is not a hashtag (letters, digits and _)")
            tags.setdefault(bare, _term_of(brand, bare) or f"#{bare}")
    else:
        for term in brand.terms:
            bare = re.sub(r"\W", "", term)
            if bare and bare.lower() not in {t.lower() for t in tags}:
                tags[bare] = term
    queries = table.get("queries")
    if queries is None:
        queries = [f'"{t}"' if len(t.split()) > 1 else t for t in brand.terms]
    elif not isinstance(queries, list) or not all(isinstance(q, str) and q.strip() for q in queries):
        raise CollectorError(f"{where}.queries: expected a list of search strings")
    return {"instances": list(dict.fromkeys(cleaned)), "tags": tags,
            "queries": list(dict.fromkeys(q.strip() for q in queries))}


def _term_of(brand: Brand, tag: str) -> str | None:
    for term in brand.terms:
        if re.sub(r"\W", "", term).lower() == tag.lower():
            return term
    return None


# ids and times ----------------------------------------------------------------------------------
def snowflake(when: datetime) -> str:
    """The lowest Mastodon status id of ``when`` (lib/mastodon/snowflake.rb: ms << 16 | sequence)."""
    return str(int(when.timestamp() * 1000) << 16)


def _plus_second(status_id: str) -> str:
    """The id one second after ``status_id``; ids that are not Snowflakes stay as they are."""
    return str(int(status_id) + SECOND) if status_id.isdigit() else status_id


def _refusal(exc: SourceUnavailableError) -> str:
    """Why an instance refuses us, with what to do about a hashtag feed closed to visitors."""
    if "/api/v1/timelines/tag/" in str(exc):
        return (f"{exc}; since Mastodon 4.5 an instance can restrict hashtag feeds to signed-in users: "
                "give it a token (sources.mastodon.tokens)")
    return str(exc)


def _minus(status_id: str, seconds: int) -> str:
    """The id ``seconds`` before ``status_id``; ids that are not Snowflakes stay as they are."""
    if not status_id.isdigit():
        return status_id
    return str(max(0, int(status_id) - ((seconds * 1000) << 16)))


def _id_key(status_id: str) -> tuple[int, str]:
    # Ids are strings (docs: "cast from an integer, but not guaranteed to be a number"); decimal ids
    # without leading zeros order by length, then text.
    return len(status_id), status_id


def _status_id(status: Any) -> str:
    if not isinstance(status, dict) or not isinstance(status.get("id"), str | int) \
            or isinstance(status.get("id"), bool) or not str(status["id"]).strip():
        raise CollectorError(f"expected Mastodon statuses with an 'id', got {str(status)[:80]!r}")
    return str(status["id"])


def _list(value: Any, path: str) -> list:
    if not isinstance(value, list):
        raise CollectorError(f"{path}: expected a JSON list of statuses, got {type(value).__name__}")
    return value


def _decode(text: str | None, empty: dict[str, Any]) -> dict[str, Any]:
    """A checkpoint with ``empty``'s keys (``empty``, added later, may be missing from older ones)."""
    if not text:
        return dict(empty)
    try:
        data = json.loads(text)
        if isinstance(data, dict) and set(empty) - {"empty"} <= set(data) <= set(empty):
            return {**empty, **data}
    except ValueError:
        pass
    log.warning("mastodon: unreadable checkpoint %.60r; walking the lookback again", text)
    return dict(empty)


def _encode_search(floor: str, gap: tuple[str, str] | None) -> str:
    return json.dumps({"floor": floor, "gap": list(gap) if gap else None}, separators=(",", ":"))
