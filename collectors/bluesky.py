"""Bluesky: posts that mention a brand, found with ``app.bsky.feed.searchPosts`` (plain HTTP, no SDK).

Request and answer shapes follow the lexicons in bluesky-social/atproto: ``lexicons/app/bsky/feed/
searchPosts.json`` (``q``, ``sort=latest``, ``since`` inclusive and ``until`` exclusive on the post's
``sortAt``, ``limit`` 1-100, ``cursor``; answers ``{"cursor", "hitsTotal", "posts": [postView]}``),
``app/bsky/feed/defs.json#postView`` (``uri``, ``author.handle``, ``record``, ``likeCount``, ``indexedAt``)
and ``com/atproto/server/createSession.json`` / ``refreshSession.json`` (``identifier``, ``password`` ->
``accessJwt``, ``refreshJwt``; refresh with the refresh token as the bearer).

A session is the default (``require_session``): since January 2025 ``public.api.bsky.app`` often refuses
unauthenticated search outright, and it always refuses one that carries a ``cursor`` (403 with an HTML
page; atproto issues #2838, #3423, #3583, bsky-docs #296). Without ``BLUESKY_HANDLE`` and
``BLUESKY_APP_PASSWORD`` the source says so once and is skipped (exit 1), never failing other sources.

The session is kept between runs (:class:`collectors.session.SessionFile`, mode 0600, never logged): the
entryway allows about 100 logins a day per account (bsky-docs #183) and a collection every 10 minutes is
144 runs a day. The access token (120 minutes, atproto pds ``auth.ts``) is used until shortly before its
``exp``, then renewed with ``refreshSession`` (the refresh token lasts 90 days and rotates on every
refresh); ``createSession`` is called only when there is no session or the refresh is refused, and at
most ``max_logins_per_day`` times in 24 hours, so a misconfiguration cannot get the account locked out.
With ``require_session = false`` searches go to the public AppView first and log in when refused.

Checkpoints (one per query, ``search:<query>``) are JSON cursors ``{"floor", "seen", "gap"}`` over the
posts' ``sortAt``: every post before ``floor`` is stored, and so is every uri in ``seen``. A walk goes
newest-first down to ``floor``; each page's checkpoint only adds ``gap = [oldest, newest]``, the span
stored so far, so a run killed mid-walk leaves a cursor that is still true, and the next run first walks
``floor .. gap[0]`` (``until``) before moving ``floor`` up to ``gap[1]`` minus ``overlap_seconds``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from collectors.base import (
    Budget,
    CollectorError,
    Page,
    SourceUnavailableError,
    checked_settings,
    json_object,
    parse_iso_time,
    skip_too_new,
)
from collectors.http import HttpClient, HttpRefusedError, HttpStatusError
from collectors.session import SessionFile
from dipwatch.core.brands import Brand
from dipwatch.core.records import Post

log = logging.getLogger(__name__)

SOURCE = "bluesky"
SEARCH = "/xrpc/app.bsky.feed.searchPosts"
CREATE_SESSION = "/xrpc/com.atproto.server.createSession"
REFRESH_SESSION = "/xrpc/com.atproto.server.refreshSession"
EXPIRED = frozenset({"ExpiredToken", "InvalidToken"})  # the codes that say "this token is done"
RENEW_BEFORE = timedelta(minutes=5)  # refresh an access token this long before its exp
LOGIN_WINDOW = timedelta(days=1)
ENV_VARS = ("BLUESKY_HANDLE", "BLUESKY_APP_PASSWORD")
WEB = "https://bsky.app"
PAGE_LIMIT = 100  # the lexicon's maximum for searchPosts
MAX_SEEN = 2000  # uris a cursor keeps
MAX_KEY = 200  # longer queries are keyed by a hash (the store's checkpoint key holds 512)


@dataclass(frozen=True)
class BlueskyOptions:
    """The ``[sources.bluesky]`` settings (all optional).

    :param base_url: the AppView that answers searches without a session (default Bluesky's public one).
    :param auth_url: the PDS to log in on and to search through with a session (default bsky.social).
    :param require_session: search with a session only (default true; false: the public AppView first,
        logging in when it refuses).
    :param session_file: where the session is kept between runs (default: chosen by the collect job,
        beside the database).
    :param max_logins_per_day: ``createSession`` calls allowed in 24 hours (default 10; the entryway
        allows 100 per account, bsky-docs #183).
    :param lookback_hours: how far back a query's first run reaches without ``--since`` (default 72).
    :param overlap_seconds: how far below the newest post each walk re-reads, for posts the search
        index takes a while to list (default 300).
    :param timeout: seconds to wait for an answer (default 10).
    """

    base_url: str = "https://public.api.bsky.app"
    auth_url: str = "https://bsky.social"
    require_session: bool = True
    session_file: str = ""
    max_logins_per_day: int = 10
    lookback_hours: int = 72
    overlap_seconds: int = 300
    timeout: float = 10.0

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> BlueskyOptions:
        """:raises SourceUnavailableError: (``missing_config``) naming an unknown or mistyped key."""
        return cls(**checked_settings(cls, "bluesky", settings))


@dataclass
class Cursor:
    """A query's checkpoint (see the module docstring); times are ``sortAt`` values in UTC."""

    floor: datetime | None = None
    seen: dict[str, datetime] = field(default_factory=dict)
    gap: tuple[datetime, datetime] | None = None

    @classmethod
    def decode(cls, text: str | None) -> Cursor:
        if not text:
            return cls()
        try:
            data = json.loads(text)
            gap = data.get("gap")
            return cls(floor=parse_iso_time(data["floor"]) if data.get("floor") else None,
                       seen={str(k): _require_time(v) for k, v in data.get("seen", {}).items()},
                       gap=(_require_time(gap[0]), _require_time(gap[1])) if gap else None)
        except (ValueError, KeyError, TypeError, AttributeError, IndexError):
            # An unreadable cursor costs one walk of the lookback (the store drops duplicates).
            log.warning("bluesky: unreadable checkpoint %.60r; walking the lookback again", text)
            return cls()

    def encode(self) -> str:
        return json.dumps({"floor": _iso(self.floor) if self.floor else None,
                           "seen": {k: _iso(v) for k, v in self.seen.items()},
                           "gap": [_iso(self.gap[0]), _iso(self.gap[1])] if self.gap else None},
                          separators=(",", ":"), sort_keys=True)


def make_bluesky(source_settings: Mapping[str, Any], env: Mapping[str, str]) -> BlueskyCollector:
    """Build the Bluesky collector from ``[sources.bluesky]`` and the environment.

    :raises SourceUnavailableError: (``missing_config``) for a wrong setting; (not ``missing_config``:
        the source is skipped, exit 1) when ``require_session`` is set and the credentials are missing.
    """
    options = BlueskyOptions.from_settings(source_settings)
    collector = BlueskyCollector(options, env)
    if options.session_file:
        collector.keep_session_in(options.session_file)
    if options.require_session:
        collector.credentials()  # say so once, before any brand runs
    return collector


class BlueskyCollector:
    """Bluesky search results for each brand's queries, as pages of Posts.

    :param options: the source settings.
    :param env: where ``BLUESKY_HANDLE`` and ``BLUESKY_APP_PASSWORD`` are read, when a session is needed.
    """

    name = SOURCE
    # The wall clock that token expiry is judged by (tests replace it to simulate a week of runs).
    clock: Callable[[], datetime] = staticmethod(lambda: datetime.now(UTC))

    def __init__(self, options: BlueskyOptions, env: Mapping[str, str]):
        self.options = options
        self._env = env
        self.public = HttpClient(options.base_url, timeout=options.timeout)
        self.private = HttpClient(options.auth_url, timeout=options.timeout)
        self._store: SessionFile | None = None
        self._session: dict[str, Any] | None = None  # accessJwt, refreshJwt, identifier, logins
        self._loaded = False

    def keep_session_in(self, path: str) -> None:
        """Keep the session between runs in ``path`` (a :class:`SessionFile`; the job calls this)."""
        if self._store is None or not self.options.session_file:
            self._store = SessionFile(path)

    @property
    def sleep(self) -> Callable[[float], None]:
        """How both clients wait before a retry (tests set a recorder)."""
        return self.public.sleep

    @sleep.setter
    def sleep(self, value: Callable[[float], None]) -> None:
        self.public.sleep = self.private.sleep = value

    # the job's entry point -----------------------------------------------------------------------
    def pages(self, brand: Brand, checkpoints: Mapping[str, str], since: datetime | None,
              budget: Budget) -> Iterator[Page]:
        """Yield pages of the brand's posts newer than each query's checkpoint (or ``since``).

        :raises SourceUnavailableError: Bluesky refuses us, or a needed session lacks credentials.
        :raises CollectorError: this brand's collection failed.
        """
        default_floor = since or datetime.now(UTC) - timedelta(hours=self.options.lookback_hours)
        for query in brand_queries(brand):
            key = query_key(query)
            cursor = Cursor.decode(checkpoints.get(key))
            if since is not None and (cursor.floor is None or cursor.floor < since):
                cursor.floor = since
            yield from self._query_pages(brand, query, key, cursor, default_floor, budget)

    def _query_pages(self, brand: Brand, query: str, key: str, cursor: Cursor, default_floor: datetime,
                     budget: Budget) -> Iterator[Page]:
        floor = cursor.floor or default_floor
        if cursor.gap is not None:  # a walk was cut short: fill floor .. gap[0] first
            low, high = cursor.gap
            # `until` is exclusive: ask for a millisecond past the oldest stored post, so posts sharing its
            # time but not yet stored come back too (the stored one is dropped by the store as a duplicate).
            for posts, page_low, _ in self._walk(brand, query, floor, low + timedelta(milliseconds=1),
                                                 cursor, budget):
                low = min(low, page_low)
                cursor = Cursor(cursor.floor, cursor.seen, (low, high))
                yield Page(posts, (key, cursor.encode()))
            cursor = self._advanced(cursor, high)
            yield Page([], (key, cursor.encode()))
            floor = cursor.floor or default_floor
        newest: datetime | None = None
        for posts, page_low, walk_high in self._walk(brand, query, floor, None, cursor, budget):
            newest = walk_high
            cursor = Cursor(cursor.floor, cursor.seen, (page_low, newest))
            yield Page(posts, (key, cursor.encode()))
        if newest is not None:
            yield Page([], (key, self._advanced(cursor, newest).encode()))

    def _advanced(self, cursor: Cursor, high: datetime) -> Cursor:
        """The cursor once everything from its floor up to ``high`` is stored."""
        floor = high - timedelta(seconds=self.options.overlap_seconds)
        if cursor.floor is not None:
            floor = max(floor, cursor.floor)
        kept = sorted(((t, u) for u, t in cursor.seen.items() if t >= floor), reverse=True)[:MAX_SEEN]
        return Cursor(floor, {u: t for t, u in kept}, None)

    def _walk(self, brand: Brand, query: str, floor: datetime, until: datetime | None, cursor: Cursor,
              budget: Budget) -> Iterator[tuple[list[tuple[Post, str]], datetime, datetime]]:
        """Pages from the newest post down to ``floor``: (matched posts, the page's oldest ``sortAt``,
        the walk's newest ``sortAt``). Uris within the overlap window of the newest go into
        ``cursor.seen`` before their page is yielded, so the next run skips them.

        ``sortAt`` (what ``since``/``until`` filter on) is the earlier of createdAt and indexedAt
        (atproto packages/bsky, the post indexing plugin): the ``created_at`` :func:`post_from_view` keeps.
        """
        params: dict[str, Any] = {"q": query, "sort": "latest", "limit": PAGE_LIMIT, "since": _iso(floor)}
        if until is not None:
            params["until"] = _iso(until)
        overlap = timedelta(seconds=self.options.overlap_seconds)
        high: datetime | None = None
        cursors_seen: set[str] = set()
        now = datetime.now(UTC)
        while True:
            data = self._search(params, budget)
            views = data.get("posts") if isinstance(data, dict) else None
            if not isinstance(views, list):
                raise CollectorError(f"{SEARCH}: expected an object with a 'posts' list, got "
                                     f"{type(data).__name__}")
            page: list[tuple[Post, str]] = []
            low: datetime | None = None
            for view in views:
                post = post_from_view(view)
                sort_at = post.created_at
                if sort_at < floor:  # the server's `since` should have dropped it already
                    continue
                if skip_too_new(SOURCE, post.post_id, sort_at, now):
                    continue  # before `high`: the floor would rise above every later post
                low = sort_at if low is None else min(low, sort_at)
                high = sort_at if high is None else max(high, sort_at)
                if post.post_id in cursor.seen:
                    continue
                if high - sort_at <= overlap:
                    cursor.seen[post.post_id] = sort_at
                term = brand.match(post.text)
                if term is None:  # the search also finds "acmeville" and quoted accounts' posts
                    continue
                page.append((post, term))
            if low is not None and high is not None:
                yield page, low, high
            next_cursor = data.get("cursor")
            # An empty page or a missing cursor is the end; a cursor that repeats would walk forever.
            if not views or not isinstance(next_cursor, str) or next_cursor in {"", *cursors_seen}:
                return
            cursors_seen.add(next_cursor)
            params["cursor"] = next_cursor

    # requests -------------------------------------------------------------------------------------
    def _search(self, params: Mapping[str, Any], budget: Budget) -> Any:
        if not self.options.require_session and self._session_token() is None:
            try:
                return self.public.get_json(SEARCH, params, budget)
            except SourceUnavailableError as exc:
                log.info("bluesky: the public search refuses us (%s); searching with a session", exc)
        token = self._access_token(budget)
        try:
            return self.private.get_json(SEARCH, params, budget, headers={"Authorization": f"Bearer {token}"})
        except (HttpRefusedError, HttpStatusError) as exc:
            if exc.code not in EXPIRED:
                raise
        # The access token ran out early (revoked, a clock off): renew once and ask again.
        log.info("bluesky: the access token was refused as expired; renewing the session")
        token = self._access_token(budget, renew=True)
        return self.private.get_json(SEARCH, params, budget, headers={"Authorization": f"Bearer {token}"})

    def credentials(self) -> tuple[str, str]:
        """The handle and app password from the environment.

        :raises SourceUnavailableError: naming the variables that are not set (the source is skipped).
        """
        missing = [name for name in ENV_VARS if not self._env.get(name, "").strip()]
        if missing:
            raise SourceUnavailableError(
                f"Bluesky search needs a session: set {' and '.join(missing)} (an app password from "
                "https://bsky.app/settings/app-passwords, not the account password); skipping Bluesky")
        return self._env["BLUESKY_HANDLE"].strip(), self._env["BLUESKY_APP_PASSWORD"].strip()

    def _session_token(self) -> str | None:
        """The stored access token, loading the session file once per run."""
        if not self._loaded:
            self._loaded = True
            stored = self._store.load() if self._store is not None else None
            handle = self._env.get("BLUESKY_HANDLE", "").strip()
            if stored and stored.get("identifier") == handle and isinstance(stored.get("accessJwt"), str):
                self._session = stored
            elif stored:
                # Another account's session, or a damaged one: its login times still count.
                self._session = {"logins": stored.get("logins", [])}
        token = (self._session or {}).get("accessJwt")
        return token if isinstance(token, str) else None

    def _access_token(self, budget: Budget, renew: bool = False) -> str:
        """An access token good for a while: the stored one, else a refreshed one, else a new login.

        :raises SourceUnavailableError: credentials missing or refused, or the login limit reached.
        """
        now = self.clock()
        token = self._session_token()
        if token is not None and not renew and not _expires_within(token, now, RENEW_BEFORE):
            return token
        refresh = (self._session or {}).get("refreshJwt")
        if isinstance(refresh, str) and not _expires_within(refresh, now, timedelta(0)):
            try:
                data = self.private.post_json(REFRESH_SESSION, None, budget,
                                              headers={"Authorization": f"Bearer {refresh}"})
                return self._keep(data, login=False)
            except (HttpRefusedError, HttpStatusError) as exc:
                log.info("bluesky: refreshing the session was refused (HTTP %d %s); logging in again",
                         exc.status, exc.code or "")
        return self._login(budget)

    def _login(self, budget: Budget) -> str:
        handle, password = self.credentials()
        now = self.clock()
        logins = [t for t in (self._session or {}).get("logins", [])
                  if (when := parse_iso_time(t)) is not None and now - when < LOGIN_WINDOW]
        if len(logins) >= self.options.max_logins_per_day:
            raise SourceUnavailableError(
                f"Bluesky: {len(logins)} logins in the last 24 hours, the most max_logins_per_day allows "
                "(the entryway blocks an account after about 100 a day); the session could not be "
                "refreshed, so Bluesky is skipped until the oldest login is a day old")
        self._session = {"logins": [*logins, _iso(now)]}
        try:
            data = self.private.post_json(CREATE_SESSION, {"identifier": handle, "password": password},
                                          budget)
        except SourceUnavailableError as exc:
            self._save()  # the attempt counts against the limit, refused or not
            raise SourceUnavailableError(
                f"Bluesky refused the session for BLUESKY_HANDLE {handle!r} ({exc}); check "
                "BLUESKY_HANDLE and BLUESKY_APP_PASSWORD", missing_config=True) from None
        log.info("bluesky: logged in as %s", handle)
        return self._keep(data, login=True)

    def _keep(self, data: Any, login: bool) -> str:
        """Store the tokens of a createSession or refreshSession answer; return the access token."""
        access = data.get("accessJwt") if isinstance(data, dict) else None
        refresh = data.get("refreshJwt") if isinstance(data, dict) else None
        if not isinstance(access, str) or not access or not isinstance(refresh, str) or not refresh:
            path = CREATE_SESSION if login else REFRESH_SESSION
            raise CollectorError(f"{path}: expected an object with 'accessJwt' and 'refreshJwt'")
        self._session = {**(self._session or {}), "accessJwt": access, "refreshJwt": refresh,
                         "identifier": self._env.get("BLUESKY_HANDLE", "").strip()}
        self._save()
        return access

    def _save(self) -> None:
        if self._store is not None and self._session is not None:
            self._store.save(self._session)


def _expires_within(token: str, now: datetime, margin: timedelta) -> bool:
    """Whether a JWT's ``exp`` falls within ``margin`` of ``now``; False when it has no readable ``exp``
    (the service then says ``ExpiredToken`` and the session is renewed)."""
    parts = token.split(".")
    if len(parts) != 3:
        return False
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        exp = float(payload["exp"])
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        return False
    return datetime.fromtimestamp(exp, UTC) - now <= margin


# the boundary: one postView -> one Post ----------------------------------------------------------
def post_from_view(view: Any) -> Post:
    """A ``postView`` (app/bsky/feed/defs.json) as a Post; replies are comments under their parent's uri.

    :raises CollectorError: when the view has no ``uri`` or no usable time.
    """
    if not isinstance(view, dict) or not isinstance(view.get("uri"), str):
        raise CollectorError(f"{SEARCH}: expected post views with a 'uri', got {str(view)[:80]!r}")
    uri = view["uri"]
    record = json_object(view.get("record"))
    author = json_object(view.get("author"))
    handle = author.get("handle") if isinstance(author.get("handle"), str) else None
    # "handle.invalid" is what the AppView shows when a handle no longer resolves: link by DID instead.
    profile = handle if handle and handle != "handle.invalid" else author.get("did") or uri.split("/")[2]
    created = parse_iso_time(record.get("createdAt"))
    indexed = parse_iso_time(view.get("indexedAt"))
    # createdAt is written by the poster's client and may be anything; indexedAt is the AppView's own
    # clock. A createdAt after indexedAt is a skewed client, so the earlier of the two is kept.
    if created is None or (indexed is not None and created > indexed):
        created = indexed
    if created is None:
        raise CollectorError(f"{SEARCH}: post {uri}: neither record.createdAt nor indexedAt is a time")
    reply = json_object(record.get("reply"))
    parent = reply["parent"].get("uri") if isinstance(reply.get("parent"), dict) else None
    text = record["text"] if isinstance(record.get("text"), str) else ""
    return Post(
        source=SOURCE,
        post_id=uri,
        created_at=created,
        text=text,
        kind="comment" if parent else "post",
        author=handle,
        url=f"{WEB}/profile/{profile}/post/{uri.rsplit('/', 1)[-1]}",
        parent_id=parent,
        engagement=_int(view.get("likeCount")),
    )


def brand_queries(brand: Brand) -> list[str]:
    """``[brands.X.sources.bluesky] queries`` (default: the brand's terms, multi-word ones quoted).

    :raises CollectorError: naming the field when it is not a list of strings.
    """
    value = brand.sources.get(SOURCE, {}).get("queries")
    if value is None:
        return list(dict.fromkeys(f'"{t}"' if len(t.split()) > 1 else t for t in brand.terms))
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise CollectorError(f"brands.{brand.key}.sources.bluesky.queries: expected a list of search "
                             f"strings, got {value!r}")
    return list(dict.fromkeys(v.strip() for v in value))


def query_key(query: str) -> str:
    """The checkpoint key of a query: ``search:<query>``, hashed when too long for the store."""
    if len(query) <= MAX_KEY:
        return f"search:{query}"
    return f"search:{query[:64]}...{hashlib.sha1(query.encode()).hexdigest()[:12]}"  # noqa: S324


def _require_time(value: Any) -> datetime:
    when = parse_iso_time(value)
    if when is None:
        raise ValueError(f"not a time: {value!r}")
    return when


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
