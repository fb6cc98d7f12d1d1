"""Reddit: submissions and comments that mention a brand, read with praw (read-only OAuth).

No praw object leaves this module: each item becomes a :class:`~dipwatch.core.records.Post` at the
boundary, in :func:`collectors.reddit_items.submission_to_post` and ``comment_to_post``, from the item's own
JSON fields (never through praw's lazy attributes, which fetch on first read).

Per brand and run, the requests are: the search over the brand's subreddits (one per 100 results), one
``/comments/<id>`` per matched new submission that has comments, up to ``replace_more_limit``
``/api/morechildren`` each, and (unless the subreddit is ``all``) one subreddit comment listing per 100
new comments.

Checkpoints (one per listing, e.g. ``search:r/unitedkingdom+casualuk:1a2b3c4d``) are JSON cursors
``{"floor": t, "seen": {fullname: t}}``: everything created before ``floor`` and every id in ``seen`` is
stored. A walk goes newest-first down to ``floor``, skips ``seen`` ids, and yields pages whose checkpoint
only adds their own ids to ``seen``; the last page moves ``floor`` up to the newest item minus
``search_overlap_seconds`` (Reddit's search index lags behind new posts), keeping the ids above it.
"""

from __future__ import annotations

import configparser
import functools
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any, TypeVar
from urllib.parse import urlsplit

import praw
import prawcore
import requests
from praw.exceptions import MissingRequiredAttributeException

from collectors.base import (
    Budget,
    BudgetExceededError,
    CollectorError,
    Page,
    SourceUnavailableError,
    checked_settings,
    skip_too_new,
)
from collectors.redaction import redact, secret_forms
from collectors.reddit_items import DELETED_TEXTS, SOURCE, comment_to_post, submission_to_post
from dipwatch.core.brands import Brand
from dipwatch.core.records import Post

log = logging.getLogger(__name__)

ENV_VARS = ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET", "REDDIT_USER_AGENT")
SUBREDDIT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{1,20}$")
MAX_QUERY = 512  # Reddit rejects longer search queries
# Lucene specials in Reddit's search syntax; a bare term containing one is escaped with a backslash.
SEARCH_SPECIALS = re.compile(r'([+\-&|!(){}\[\]^"~*?:\\/])')
RESERVED_WORDS = {"AND", "OR", "NOT"}
MAX_SEEN = 2000  # ids a cursor keeps; beyond this the floor rises to the oldest id kept
INFO_BATCH = 100  # /api/info answers at most 100 fullnames per request

T = TypeVar("T")


@dataclass(frozen=True)
class RedditOptions:
    """The ``[sources.reddit]`` settings (all optional).

    :param site: a praw.ini section holding the credentials (else ``praw_site`` or the environment).
    :param oauth_url: the API endpoint (default Reddit's); tests and proxies point it elsewhere.
    :param reddit_url: the endpoint of the OAuth token request (default Reddit's).
    :param timeout: seconds to wait for an answer before a request fails (default 16, praw's).
    :param comment_limit: comments asked for per thread (default 200).
    :param replace_more_limit: "more comments" stubs expanded per thread, one request each (default 2).
    :param max_429_retries: retries of a request answered 429 Too Many Requests (default 3).
    :param max_retry_after: the longest Retry-After wait honoured, in seconds (default 60).
    :param search_overlap_seconds: how far below the newest item each search re-walks, because
        Reddit's search index lags behind new posts (default 900).
    :param page_submissions: matched submissions (with their comments) per stored page (default 10).
    :param subreddit_comments: also read the subreddits' newest comments (default true; never for
        ``all``, whose comment firehose outruns 100 comments per request).
    """

    site: str | None = None
    oauth_url: str = "https://oauth.reddit.com"
    reddit_url: str = "https://www.reddit.com"
    timeout: int = 16
    comment_limit: int = 200
    replace_more_limit: int = 2
    max_429_retries: int = 3
    max_retry_after: float = 60.0
    search_overlap_seconds: int = 900
    page_submissions: int = 10
    subreddit_comments: bool = True

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> RedditOptions:
        """:raises SourceUnavailableError: (``missing_config``) naming an unknown or mistyped key."""
        values = checked_settings(cls, "reddit", settings)
        return cls(**values)


@dataclass
class Cursor:
    """A listing's checkpoint: items created before ``floor`` and the ids in ``seen`` are stored."""

    floor: int | None = None
    seen: dict[str, int] = field(default_factory=dict)

    @classmethod
    def decode(cls, text: str | None) -> Cursor:
        if not text:
            return cls()
        try:
            data = json.loads(text)
            return cls(floor=data["floor"], seen={str(k): int(v) for k, v in data["seen"].items()})
        except (ValueError, KeyError, TypeError, AttributeError):
            # A cursor we cannot read costs one full walk (the store drops duplicates), not the source.
            log.warning("reddit: unreadable checkpoint %.60r; walking the listing again", text)
            return cls()

    def encode(self) -> str:
        return json.dumps({"floor": self.floor, "seen": self.seen}, separators=(",", ":"), sort_keys=True)

    def with_seen(self, ids: Mapping[str, int]) -> Cursor:
        return Cursor(self.floor, {**self.seen, **ids})

    def advanced(self, walked: Mapping[str, int], overlap: int) -> Cursor:
        """The cursor once a walk down to ``floor`` is complete and ``walked`` is stored."""
        everything = {**self.seen, **walked}
        if not everything:
            return self
        floor = max(everything.values()) - overlap
        if self.floor is not None:
            floor = max(floor, self.floor)
        kept = sorted(((t, i) for i, t in everything.items() if t >= floor), reverse=True)[:MAX_SEEN]
        if len(kept) == MAX_SEEN:
            floor = kept[-1][0]
        return Cursor(floor, {i: t for t, i in kept})


def make_reddit(source_settings: Mapping[str, Any], env: Mapping[str, str]) -> RedditCollector:
    """Build the Reddit collector from ``[sources.reddit]`` and the environment.

    Credentials come from a praw.ini section (``site`` setting, or ``praw_site`` in the environment) or
    from ``REDDIT_CLIENT_ID``, ``REDDIT_CLIENT_SECRET`` and ``REDDIT_USER_AGENT``.

    :raises SourceUnavailableError: (``missing_config``) when credentials or settings are missing or wrong.
    """
    options = RedditOptions.from_settings(source_settings)
    # praw 8.0.3 reads its `timeout` setting but never hands it to prawcore, whose Session then asks
    # for 16 s on every request: the timeout is enforced by the HTTP session we give praw instead.
    session = _TimeoutSession(options.timeout)
    endpoints: dict[str, Any] = {"oauth_url": options.oauth_url, "reddit_url": options.reddit_url,
                 "check_for_updates": False, "timeout": options.timeout,
                 "requestor_kwargs": {"session": session, "timeout": options.timeout}}
    site = options.site or env.get("praw_site")
    if not site:
        missing = [name for name in ENV_VARS if not env.get(name, "").strip()]
        if missing:
            raise SourceUnavailableError(
                f"Reddit credentials missing: set {', '.join(missing)} (or name a praw.ini section with "
                "sources.reddit.site or praw_site). New Reddit API apps need Reddit's approval "
                "(https://www.reddit.com/prefs/apps); meanwhile `dipwatch import` loads posts from CSV "
                "or JSON Lines files.", missing_config=True)
        secret = env["REDDIT_CLIENT_SECRET"]
        reddit = praw.Reddit(client_id=env["REDDIT_CLIENT_ID"], client_secret=secret,
                             user_agent=env["REDDIT_USER_AGENT"], **endpoints)
        return RedditCollector(reddit, options, secrets=(secret,), client_id=env["REDDIT_CLIENT_ID"],
                               session=session)
    try:
        reddit = praw.Reddit(site, **endpoints)
    except MissingRequiredAttributeException as exc:
        setting = re.search(r"'(\w+)'", str(exc))
        raise SourceUnavailableError(
            f"praw.ini section [{site}] lacks {setting.group(1) if setting else 'a required setting'}; "
            "it needs client_id, client_secret and user_agent", missing_config=True) from None
    except configparser.Error as exc:
        raise SourceUnavailableError(
            f"praw.ini has no usable section [{site}] ({type(exc).__name__}); looked in ./praw.ini and "
            "~/.config/praw.ini", missing_config=True) from None
    config = reddit.config  # a script app's password may be in the section too
    secrets = tuple(v for v in (config.client_secret, config.password) if isinstance(v, str))
    return RedditCollector(reddit, options, secrets=secrets, client_id=config.client_id, session=session)


class _TimeoutSession(requests.Session):
    """A requests session that waits at most ``timeout`` seconds for any answer, and never longer than
    ``budget`` (the run's, set by the collector) has left.

    A wait the budget cut short raises :class:`BudgetExceededError` rather than a timeout: prawcore
    retries timeouts (three attempts, sleeping up to 4 s between them), which would hold a run against a
    silent server far past its ``--max-seconds``; prawcore passes any other exception up at once.
    """

    def __init__(self, timeout: float):
        super().__init__()
        self.timeout = timeout
        self.budget: Budget | None = None
        self.tokens: set[str] = set()  # the bearer tokens sent: credentials too, for redaction

    def request(self, method, url, *args, **kwargs):
        for name, value in (kwargs.get("headers") or {}).items():
            if name.lower() == "authorization" and isinstance(value, str):
                self.tokens.add(value.split()[-1])
        timeout, capped = self.timeout, False
        if self.budget is not None:
            remaining = self.budget.remaining()
            if remaining <= 0:
                raise BudgetExceededError("Reddit: the run's time budget (--max-seconds) ran out")
            timeout, capped = min(timeout, remaining), remaining < timeout
        kwargs["timeout"] = timeout
        try:
            return super().request(method, url, *args, **kwargs)
        except requests.Timeout:
            if capped:
                raise BudgetExceededError(f"Reddit: no answer from {urlsplit(url).netloc} before the run's "
                                          "time budget (--max-seconds) ran out") from None
            raise


class RedditCollector:
    """Reddit search and comment listings for each brand, as pages of Posts.

    :param reddit: a read-only ``praw.Reddit``.
    :param options: the source settings.
    :param secrets: strings that must never appear in an error message (the client secret), in any
        form (see :mod:`collectors.redaction`).
    :param client_id: the OAuth client id, which HTTP basic authentication sends with the secret.
    :param sleep: how to wait on 429 (tests pass a recorder).
    :param session: the HTTP session ``reddit`` sends through, told each call's budget (default none:
        requests then wait ``timeout`` whatever the budget has left).
    """

    name = SOURCE

    def __init__(self, reddit: praw.Reddit, options: RedditOptions, secrets: tuple[str | None, ...] = (),
                 sleep: Callable[[float], None] = time.sleep, session: _TimeoutSession | None = None,
                 client_id: str | None = None):
        self._reddit = reddit
        self.options = options
        self._secrets = secret_forms(secrets, client_id)
        self.sleep = sleep
        self._session = session

    # the job's entry point -----------------------------------------------------------------------
    def pages(self, brand: Brand, checkpoints: Mapping[str, str], since: datetime | None,
              budget: Budget) -> Iterator[Page]:
        """Yield pages of the brand's new submissions (with their threads) and matching comments.

        :raises SourceUnavailableError: Reddit refuses our credentials (401/403).
        :raises CollectorError: this brand's collection failed (5xx, timeout, bad answer, bad setting).
        """
        if not brand.terms:
            return
        subreddits = brand_subreddits(brand)
        multi = "+".join(subreddits)
        query = search_query(brand.terms)
        if len(query) > MAX_QUERY:
            raise CollectorError(
                f"brands.{brand.key}.terms: the Reddit search query is {len(query)} characters; "
                f"Reddit accepts {MAX_QUERY}. Use fewer or shorter terms.")
        since_ts = int(since.timestamp()) if since is not None else None
        key = f"search:r/{multi.lower()}:{hashlib.blake2b(query.encode(), digest_size=4).hexdigest()}"
        try:
            yield from self._search_pages(brand, multi, query, key, Cursor.decode(checkpoints.get(key)),
                                          since_ts, budget)
            if self.options.subreddit_comments and multi != "all":
                key = f"comments:r/{multi.lower()}"
                yield from self._comment_pages(brand, multi, key, Cursor.decode(checkpoints.get(key)),
                                               since_ts, budget)
        except (KeyError, TypeError, ValueError) as exc:
            # An item without the fields every Reddit item has (name, created_utc): a broken answer.
            raise CollectorError(self._redact(
                f"Reddit: an item in r/{multi} lacks an expected field ({type(exc).__name__}: "
                f"{self._redact(str(exc))[:80]})")) from None

    def _search_pages(self, brand: Brand, multi: str, query: str, key: str, cursor: Cursor,
                      since: int | None, budget: Budget) -> Iterator[Page]:
        listing = self._reddit.subreddit(multi).search(query, sort="new", limit=None)
        walked: dict[str, int] = {}
        page: list[tuple[Post, str]] = []
        page_ids: dict[str, int] = {}
        matched = 0
        now = datetime.now(UTC)
        for item in self._walk(listing, f"the search in r/{multi}", cursor.floor, since, budget):
            data = vars(item)
            name, created = data["name"], int(data["created_utc"])
            if skip_too_new(SOURCE, name, datetime.fromtimestamp(created, UTC), now):
                continue  # before `walked`: its time would lift the floor above every later post
            walked[name] = created
            if name in cursor.seen:
                continue
            page_ids[name] = created
            post = _mapped(submission_to_post, data)
            term = brand.match(post.text) if post is not None else None
            if post is None or term is None:  # Reddit's search is loose: "Next" finds "nextdoor"
                continue
            page.append((post, term))
            page.extend(self._thread(item, data, brand, term, now, budget))
            matched += 1
            if matched % self.options.page_submissions == 0:
                cursor = cursor.with_seen(page_ids)
                yield Page(page, (key, cursor.encode()))
                page, page_ids = [], {}
        final = cursor.with_seen(page_ids).advanced(walked, self.options.search_overlap_seconds)
        if page or final != cursor:
            yield Page(page, (key, final.encode()))

    def _thread(self, submission: Any, data: dict, brand: Brand, term: str, now: datetime,
                budget: Budget) -> list[tuple[Post, str]]:
        """The comments of a matched submission: all kept (replies like "same, down since 9" rarely
        name the brand), each under the term it names itself, else the submission's term."""
        if data.get("num_comments") == 0:  # saves a request per quiet thread
            return []
        submission.comment_sort = "new"
        submission.comment_limit = self.options.comment_limit
        what = f"the comments of {data['name']}"
        forest = self._call(lambda: submission.comments, what, budget)
        self._call(lambda: forest.replace_more(limit=self.options.replace_more_limit), what, budget)
        found = []
        for comment in forest.list():
            if not isinstance(comment, praw.models.Comment):  # an unexpanded "more" stub
                continue
            post = _mapped(comment_to_post, vars(comment))
            if post is None or skip_too_new(SOURCE, post.post_id, post.created_at, now):
                continue
            found.append((post, brand.match(post.text) or term))
        return found

    def _comment_pages(self, brand: Brand, multi: str, key: str, cursor: Cursor, since: int | None,
                       budget: Budget) -> Iterator[Page]:
        listing = self._reddit.subreddit(multi).comments(limit=None)
        walked: dict[str, int] = {}
        page: list[tuple[Post, str]] = []
        page_ids: dict[str, int] = {}
        now = datetime.now(UTC)
        for item in self._walk(listing, f"the comments of r/{multi}", cursor.floor, since, budget):
            data = vars(item)
            name, created = data["name"], int(data["created_utc"])
            if skip_too_new(SOURCE, name, datetime.fromtimestamp(created, UTC), now):
                continue  # before `walked`, as in _search_pages
            walked[name] = created
            if name in cursor.seen:
                continue
            page_ids[name] = created
            post = _mapped(comment_to_post, data)
            term = brand.match(post.text) if post is not None else None
            if post is not None and term is not None:
                page.append((post, term))
            if len(page_ids) == 100:
                cursor = cursor.with_seen(page_ids)
                yield Page(page, (key, cursor.encode()))
                page, page_ids = [], {}
        # Comments are listed the moment they are made: a minute of overlap covers clock skew.
        final = cursor.with_seen(page_ids).advanced(walked, 60)
        if page or final != cursor:
            yield Page(page, (key, final.encode()))

    # deletion compliance -----------------------------------------------------------------------
    def prune_deleted(self, fullnames: list[str], budget: Budget | None = None) -> list[str]:
        """Return those of ``fullnames`` (``t3_...``/``t1_...``) that were deleted or removed on Reddit.

        Asks ``/api/info`` in batches of 100. Gone means: missing from the answer, text replaced by
        "[deleted]" or "[removed]", or ``removed_by_category`` set. An author of None alone is not
        deletion: t1_cu5v4e7 (r/funny, 2015) kept its text after its author deleted the account.
        """
        budget = budget or Budget.seconds(3600)
        gone: list[str] = []
        names = iter(fullnames)
        while chunk := list(islice(names, INFO_BATCH)):
            items = self._call(functools.partial(self._info, chunk), "the deletion check (/api/info)", budget)
            found = {vars(i).get("name"): vars(i) for i in items}
            for name in chunk:
                data = found.get(name)
                text = (data or {}).get("body" if name.startswith("t1_") else "selftext")
                if data is None or text in DELETED_TEXTS or data.get("removed_by_category"):
                    gone.append(name)
        return gone

    # requests, retries and errors --------------------------------------------------------------
    def _walk(self, listing: Iterator[Any], what: str, floor: int | None, since: int | None,
              budget: Budget) -> Iterator[Any]:
        """Items of a newest-first listing down to ``floor`` / ``since``; praw fetches a page of 100
        inside ``next`` (and a failed ``next`` leaves the listing where it was, so it can be retried)."""
        stop = max((t for t in (floor, since) if t is not None), default=None)
        while True:
            try:
                item = self._call(lambda: next(listing), what, budget)
            except StopIteration:
                return
            if stop is not None and int(vars(item)["created_utc"]) < stop:
                return
            yield item

    def _info(self, fullnames: list[str]) -> list[Any]:
        return list(self._reddit.info(fullnames=fullnames))

    def _call(self, request: Callable[[], T], what: str, budget: Budget) -> T:
        """Run ``request`` (which may make praw requests), waiting out 429 answers a bounded number of
        times, and turn praw's failures into our errors."""
        attempt = 0
        if self._session is not None:
            self._session.budget = budget
        while True:
            budget.check()
            try:
                return request()
            except StopIteration:
                raise
            except prawcore.TooManyRequests as exc:
                wait = self._retry_after(exc.retry_after)
            except prawcore.ResponseException as exc:
                if exc.response.status_code != 429:  # the token endpoint's 429 comes as a plain one
                    raise self._error(exc, what) from None
                wait = self._retry_after(exc.response.headers.get("retry-after"))
            except prawcore.RequestException as exc:
                if isinstance(exc.original_exception, BudgetExceededError):  # from _TimeoutSession
                    raise exc.original_exception from None
                raise self._error(exc, what) from None
            except prawcore.PrawcoreException as exc:
                raise self._error(exc, what) from None
            except praw.exceptions.RedditAPIException as exc:
                # praw turns a 400 into this, with the body as the reason (HTML from Reddit's edge).
                raise CollectorError(self._redact(
                    f"Reddit: 400 for {what} ({self._quote(str(exc))})")) from None
            except praw.exceptions.PRAWException as exc:
                raise CollectorError(self._redact(
                    f"Reddit: {what} failed: {type(exc).__name__}: {self._redact(str(exc))[:100]}")) from None
            except (ValueError, KeyError, TypeError) as exc:
                # praw parsing an answer of the wrong shape (valid JSON, not a listing).
                raise CollectorError(self._redact(
                    f"Reddit: unexpected answer to {what} ({type(exc).__name__}: "
                    f"{self._redact(str(exc))[:100]})"
                )) from None
            attempt += 1
            if attempt > self.options.max_429_retries:
                raise CollectorError(
                    f"Reddit: still 429 Too Many Requests for {what} after {attempt - 1} waits; "
                    "the client's rate limit is used up, try a longer interval")
            if wait > budget.remaining():
                raise CollectorError(
                    f"Reddit: 429 Too Many Requests for {what} asks to wait {wait:.0f} s, more than the "
                    f"{max(budget.remaining(), 0):.0f} s left of the run's time budget")
            log.warning("reddit: 429 Too Many Requests for %s; waiting %.1f s (retry %d of %d)",
                        what, wait, attempt, self.options.max_429_retries)
            self.sleep(wait)

    def _retry_after(self, header: str | None) -> float:
        try:
            wait = float(header) if header is not None else 2.0
        except ValueError:  # an HTTP date instead of seconds: Reddit sends seconds, so be conservative
            wait = self.options.max_retry_after
        return min(max(wait, 0.0), self.options.max_retry_after)

    def _error(self, exc: prawcore.PrawcoreException, what: str) -> CollectorError:
        host = urlsplit(self.options.oauth_url).netloc
        if isinstance(exc, prawcore.ResponseException):
            response = exc.response
            status = response.status_code
            ctype = response.headers.get("content-type", "no content type").split(";")[0]
            if isinstance(exc, prawcore.BadJSON):
                return CollectorError(self._redact(
                    f"Reddit: the answer to {what} is not valid JSON ({status}, {ctype}, "
                    f"{len(response.content)} bytes: {self._quote(response.text)}); "
                    "a proxy or an outage page?"))
            if isinstance(exc, prawcore.InvalidToken | prawcore.InsufficientScope) or status == 401 or (
                    isinstance(exc, prawcore.OAuthException)):
                return SourceUnavailableError(
                    f"Reddit refused the credentials ({status}) at {host}: check REDDIT_CLIENT_ID and "
                    "REDDIT_CLIENT_SECRET (or the praw.ini section) and that the app is approved")
            if status == 403:
                reason = _json_field(response, "reason")
                if reason:  # private, banned or quarantined subreddit: this brand's setting, not the source
                    return CollectorError(self._redact(f"Reddit: 403 for {what}: the subreddit is {reason}"))
                return SourceUnavailableError(
                    f"Reddit answered 403 Forbidden to {what} at {host}: the app lacks access")
            if isinstance(exc, prawcore.ServerError):
                return CollectorError(
                    f"Reddit: {status} server error for {what}, three times in a row; Reddit is down or "
                    "overloaded, the next run will try again")
            if isinstance(exc, prawcore.Redirect | prawcore.NotFound):
                return CollectorError(f"Reddit: {what} not found ({status}); check the subreddit names")
            return CollectorError(self._redact(
                f"Reddit: {status} for {what} ({ctype}: {self._quote(response.text)})"))
        if isinstance(exc, prawcore.OAuthException):
            return SourceUnavailableError(
                self._redact(f"Reddit refused the credentials at {host}: {exc.error}"))
        if isinstance(exc, prawcore.RequestException):
            original = exc.original_exception
            log.debug("reddit: %s failed: %s", what, self._redact(repr(original)))
            if "timeout" in type(original).__name__.lower():
                return CollectorError(
                    f"Reddit: no answer from {host} for {what} within {self.options.timeout} s "
                    "(three tries)")
            return CollectorError(f"Reddit: cannot connect to {host} for {what} ({type(original).__name__})")
        return CollectorError(self._redact(f"Reddit: {what} failed: {type(exc).__name__}: {exc}"))

    def _redact(self, message: str) -> str:
        """``message`` without the credentials in any form; call it before cutting a quote short."""
        tokens = secret_forms(self._session.tokens) if self._session is not None else ()
        return redact(message, (*self._secrets, *tokens))

    def _quote(self, text: str | None) -> str:
        """The start of a server's reply for an error message, the credentials taken out first."""
        return _snippet_text(self._redact(text or ""))


def _mapped(to_post: Callable[[Mapping[str, Any]], Post], data: Mapping[str, Any]) -> Post | None:
    """``to_post(data)``, or None (logged with the item's id) for an item whose text is not a string."""
    try:
        return to_post(data)
    except TypeError as exc:
        log.warning("reddit: skipping an item: %s", exc)
        return None


def prune_deleted(collector: RedditCollector, fullnames: list[str], budget: Budget | None = None
                  ) -> list[str]:
    """Those of ``fullnames`` deleted or removed on Reddit (see :meth:`RedditCollector.prune_deleted`)."""
    return collector.prune_deleted(fullnames, budget)


# queries and settings -----------------------------------------------------------------------------
def search_query(terms: tuple[str, ...]) -> str:
    """Reddit search syntax for "any of ``terms``": multi-word terms quoted, specials escaped, ORed."""
    parts = []
    for term in terms:
        words = term.split()
        if not words:
            continue
        if len(words) > 1 or words[0].upper() in RESERVED_WORDS:
            phrase = " ".join(words).replace("\\", "\\\\").replace('"', '\\"')
            parts.append(f'"{phrase}"')
        else:
            parts.append(SEARCH_SPECIALS.sub(r"\\\1", words[0]))
    return " OR ".join(dict.fromkeys(parts))


def brand_subreddits(brand: Brand) -> list[str]:
    """The subreddits of ``[brands.<key>.sources.reddit] subreddits`` (default ``all``).

    :raises CollectorError: naming the field when a name is not a subreddit name.
    """
    value = brand.sources.get(SOURCE, {}).get("subreddits", ["all"])
    names = [value] if isinstance(value, str) else value
    where = f"brands.{brand.key}.sources.reddit.subreddits"
    if not isinstance(names, list) or not names:
        raise CollectorError(f"{where}: expected a list of subreddit names, like [\"unitedkingdom\"]")
    cleaned = []
    for name in names:
        bare = str(name).strip().removeprefix("/").removeprefix("r/")
        if not SUBREDDIT_NAME.match(bare):
            raise CollectorError(f"{where}: {name!r} is not a subreddit name (2-21 letters, digits or _)")
        cleaned.append(bare)
    if any(name.lower() == "all" for name in cleaned):
        return ["all"]  # "all" already holds every other subreddit
    return sorted(set(cleaned), key=str.lower)


def _snippet_text(text: str) -> str:
    title = re.search(r"<title>(.*?)</title>|<h1>(.*?)</h1>", text, re.IGNORECASE | re.DOTALL)
    if title:
        return "HTML page " + repr((title.group(1) or title.group(2)).strip()[:80])
    return repr(text[:60]) if text else "empty body"


def _json_field(response: Any, name: str) -> str | None:
    try:
        value = response.json().get(name)
    except (ValueError, AttributeError):
        return None
    return str(value) if value else None

