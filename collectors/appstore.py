"""Apple App Store customer reviews of a brand's apps, from Apple's public RSS feed in its JSON form.

``GET /<country>/rss/customerreviews/page=<n>/id=<app id>/sortby=mostrecent/json`` on itunes.apple.com,
no key; 50 reviews a page, pages 1 to 10 (Apple's RSS generator, rss.applemarketingtools.com, documents the
feed family; the field names below are the feed's own). The answer is XML turned into JSON: every value
is ``{"label": ...}``, ``feed.entry`` is a list, a single object when there is one review, and absent when
there is none. Each review entry has ``id``, ``updated`` (ISO 8601 with offset), ``title``, ``content``,
``im:rating`` ("1".."5"), ``im:version``, ``im:voteSum``, ``im:voteCount``, ``author.name`` and ``link``.

Reviews are about the app, so each counts for the brand under its name; the star rating is kept in
``Post.rating`` as a second, direct measure of satisfaction.

In 2026 third parties report that the legacy feed answers an empty feed for some URL forms or apps that
do have reviews. The known forms (:data:`FEEDS`) are tried in order until one answers reviews, and that
one is read for the following pages; a form the feed does not know (a 4xx) counts as empty. When every
form answers nothing for an app that had reviews stored before, the page carries a warning that
``dipwatch status`` shows: an empty feed there is more likely Apple's failure than a quiet app.

Checkpoint (one per app and country, ``reviews:<country>:<app id>``): ``{"updated", "ids"}``, the newest
``updated`` stored and the ids stored at that time. A walk reads pages newest-first until a page reaches
below ``updated`` (at most 10 pages, 500 reviews), then yields the new reviews oldest-first, 50 a page,
each page's checkpoint being its newest review: everything older is in earlier pages, so a kill at any
moment leaves a true checkpoint.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from collectors.base import (
    Budget,
    CollectorError,
    Page,
    SourceUnavailableError,
    checked_settings,
    json_object,
    skip_too_new,
)
from collectors.http import HttpClient, HttpStatusError
from dipwatch.core.brands import Brand
from dipwatch.core.records import Post

log = logging.getLogger(__name__)

SOURCE = "appstore"
FEED = "/{country}/rss/customerreviews/page={page}/id={app_id}/sortby=mostrecent/json"
# Every URL form of the feed known to answer reviews as JSON, most used first (SOURCE.md, "App Store").
FEEDS = (
    FEED,
    "/{country}/rss/customerreviews/id={app_id}/sortBy=mostRecent/page={page}/json",
    "/{country}/rss/customerreviews/id={app_id}/page={page}/sortby=mostrecent/json",
)
MAX_PAGES = 10  # the feed answers pages 1-10 and nothing beyond
PAGE_SIZE = 50
COUNTRY = re.compile(r"^[a-z]{2}$")
APP_ID = re.compile(r"^(?:id)?(\d{1,12})$")


@dataclass(frozen=True)
class AppStoreOptions:
    """The ``[sources.appstore]`` settings (all optional).

    :param base_url: the feed's host (default ``https://itunes.apple.com``).
    :param max_pages: feed pages read per app and country, 1-10 (default 10).
    :param timeout: seconds to wait for an answer (default 10).
    """

    base_url: str = "https://itunes.apple.com"
    max_pages: int = MAX_PAGES
    timeout: float = 10.0

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> AppStoreOptions:
        """:raises SourceUnavailableError: (``missing_config``) naming an unknown or mistyped key."""
        values = checked_settings(cls, "appstore", settings)
        if not 1 <= values.get("max_pages", MAX_PAGES) <= MAX_PAGES:
            raise SourceUnavailableError(f"sources.appstore.max_pages: expected 1 to {MAX_PAGES}",
                                         missing_config=True)
        return cls(**values)


def make_appstore(source_settings: Mapping[str, Any], env: Mapping[str, str]) -> AppStoreCollector:
    """Build the App Store collector from ``[sources.appstore]`` (the feed needs no credentials).

    :raises SourceUnavailableError: (``missing_config``) for a wrong setting.
    """
    return AppStoreCollector(AppStoreOptions.from_settings(source_settings))


class AppStoreCollector:
    """Customer reviews of each brand's apps in each of its countries, as pages of Posts.

    :param options: the source settings.
    """

    name = SOURCE

    def __init__(self, options: AppStoreOptions):
        self.options = options
        self.client = HttpClient(options.base_url, timeout=options.timeout)

    @property
    def sleep(self) -> Callable[[float], None]:
        """How the client waits before a retry (tests set a recorder)."""
        return self.client.sleep

    @sleep.setter
    def sleep(self, value: Callable[[float], None]) -> None:
        self.client.sleep = value

    def pages(self, brand: Brand, checkpoints: Mapping[str, str], since: datetime | None,
              budget: Budget) -> Iterator[Page]:
        """Yield pages of new reviews of the brand's apps, oldest first per app and country.

        :raises CollectorError: a bad setting or answer.
        """
        app_ids, countries = brand_apps(brand)
        for app_id in app_ids:
            for country in countries:
                key = f"reviews:{country}:{app_id}"
                yield from self._app_pages(brand, app_id, country, key, checkpoints.get(key), since, budget)

    def _app_pages(self, brand: Brand, app_id: str, country: str, key: str, saved: str | None,
                   since: datetime | None, budget: Budget) -> Iterator[Page]:
        floor, stored_ids = _decode(saved)
        if since is not None and (floor is None or floor < since):
            floor, stored_ids = since, set()
        fresh: dict[str, Post] = {}
        now = datetime.now(UTC)
        form, entries = self._first_page(app_id, country, budget)
        if not entries and saved:  # a checkpoint: reviews of this app were stored before
            warning = (f"{country}:{app_id}: every URL form of the reviews feed answered no reviews, though "
                       "reviews of this app were stored before; Apple's legacy feed may be failing for it")
            log.warning("appstore: %s", warning)
            yield Page([], None, (warning,))
        for number in range(1, self.options.max_pages + 1):
            if number > 1:
                path = form.format(country=country, page=number, app_id=app_id)
                entries = feed_entries(self.client.get_json(path, None, budget), path)
            reached_floor = False
            for entry in entries:
                post = review_to_post(country, entry)
                # A review dated ahead would become the checkpoint and hide every later review.
                if post is None or skip_too_new(SOURCE, post.post_id, post.created_at, now):
                    continue
                if floor is not None and (post.created_at < floor or (
                        post.created_at == floor and post.post_id in stored_ids)):
                    reached_floor = True
                    continue
                fresh.setdefault(post.post_id, post)
            if reached_floor or len(entries) < PAGE_SIZE:
                break
        ordered = sorted(fresh.values(), key=lambda p: (p.created_at, p.post_id))
        for start in range(0, len(ordered), PAGE_SIZE):
            chunk = ordered[start:start + PAGE_SIZE]
            newest = chunk[-1].created_at
            if floor is None or newest > floor:
                floor, stored_ids = newest, set()
            stored_ids |= {p.post_id for p in chunk if p.created_at == newest}
            yield Page([(post, brand.name) for post in chunk], (key, _encode(floor, stored_ids)))

    def _first_page(self, app_id: str, country: str, budget: Budget) -> tuple[str, list[dict]]:
        """The first URL form (of :data:`FEEDS`) whose page 1 has reviews, with them; the first form and
        ``[]`` when none has. A form answering 4xx counts as empty, unless every form does.

        :raises CollectorError: when every form fails, or one answers something other than a feed.
        """
        failures: list[HttpStatusError] = []
        for form in FEEDS:
            path = form.format(country=country, page=1, app_id=app_id)
            try:
                entries = feed_entries(self.client.get_json(path, None, budget), path)
            except HttpStatusError as exc:
                failures.append(exc)
                continue
            if entries:
                return form, entries
            log.info("appstore: %s answered no reviews; trying the next URL form", path)
        if len(failures) == len(FEEDS):
            raise failures[0]
        return FEEDS[0], []


# the boundary: one feed entry -> one Post ----------------------------------------------------------
def feed_entries(data: Any, path: str) -> list[dict]:
    """The review entries of a feed answer: ``[]`` when it has none, a list when it has one.

    :raises CollectorError: when the answer is not a customer-reviews feed.
    """
    feed = data.get("feed") if isinstance(data, dict) else None
    if not isinstance(feed, dict):
        raise CollectorError(f"{path}: expected a customer-reviews feed ({{\"feed\": ...}}), "
                             f"got {str(data)[:60]!r}")
    entries = feed.get("entry", [])
    if isinstance(entries, dict):  # one review: the XML-to-JSON conversion drops the list
        entries = [entries]
    if not isinstance(entries, list):
        raise CollectorError(f"{path}: feed.entry: expected a list of reviews")
    return [e for e in entries if isinstance(e, dict)]


def review_to_post(country: str, entry: Mapping[str, Any]) -> Post | None:
    """A review entry as a Post (kind ``review``), or None for an entry that is not a review (older
    feeds put the app itself first, with ``im:name`` and no ``im:rating``) and, logged, for a review with
    neither title nor content, or with one that is not text. A title alone is the review's text.

    A rating outside 1-5 is dropped (``rating`` None) and the review kept: its text still counts.

    :raises CollectorError: when a review has no id or no ``updated`` time.
    """
    if "im:rating" not in entry:
        return None
    review_id = _label(entry.get("id"))
    updated = _parse_time(_label(entry.get("updated")))
    if not review_id or updated is None:
        raise CollectorError(f"{SOURCE} ({country}): expected reviews with an id and an ISO 8601 "
                             f"'updated', got id {review_id!r}, updated {_label(entry.get('updated'))!r}")
    mistyped = [key for key in ("title", "content") if not _is_text(entry.get(key))]
    if mistyped:
        log.warning("appstore: skipping review %s:%s: its %s not text", country, review_id,
                    " and ".join(mistyped))
        return None
    title, content = _label(entry.get("title")).strip(), _label(entry.get("content")).strip()
    if not title and not content:
        log.warning("appstore: skipping review %s:%s: it has neither title nor content", country, review_id)
        return None
    rating = _small_int(_label(entry.get("im:rating")))
    if rating is not None and not 1 <= rating <= 5:
        log.warning("appstore: review %s:%s has rating %s, outside 1-5; kept without it",
                    country, review_id, rating)
        rating = None
    author = json_object(entry.get("author"))
    link = entry.get("link")
    href = None
    if isinstance(link, dict) and isinstance(link.get("attributes"), dict):
        href = link["attributes"].get("href")
    return Post(
        source=SOURCE,
        post_id=f"{country}:{review_id}",
        created_at=updated,
        text=f"{title}\n\n{content}" if title and content else title or content,
        kind="review",
        author=_label(author.get("name")) or None,
        url=href if isinstance(href, str) and href else None,
        engagement=_small_int(_label(entry.get("im:voteSum"))),
        rating=rating,
    )


def brand_apps(brand: Brand) -> tuple[list[str], list[str]]:
    """``[brands.X.sources.appstore]``: ``app_ids`` (required; numbers, ``"id"`` prefix allowed) and
    ``countries`` (two-letter store codes, default ``["us"]``).

    :raises CollectorError: naming the field that is missing or wrong.
    """
    table = brand.sources.get(SOURCE, {})
    where = f"brands.{brand.key}.sources.appstore"
    given = table.get("app_ids")
    if not isinstance(given, list) or not given:
        raise CollectorError(f"{where}.app_ids: expected a list of App Store app ids, like [284882215]")
    app_ids = []
    for value in given:
        found = APP_ID.match(str(value).strip().lower()) if not isinstance(value, bool) else None
        if found is None:
            raise CollectorError(f"{where}.app_ids: {value!r} is not an app id (the digits after "
                                 "'id' in the app's App Store link)")
        app_ids.append(found.group(1))
    countries = table.get("countries", ["us"])
    if not isinstance(countries, list) or not countries or not all(
            isinstance(c, str) and COUNTRY.match(c.strip().lower()) for c in countries):
        raise CollectorError(f"{where}.countries: expected two-letter store country codes, like [\"gb\"]")
    return list(dict.fromkeys(app_ids)), list(dict.fromkeys(c.strip().lower() for c in countries))


def _is_text(value: Any) -> bool:
    """Whether a field is absent or text: a string, or ``{"label": string}`` (or with no label)."""
    if isinstance(value, dict):
        value = value.get("label")
    return isinstance(value, str | None)


def _label(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("label")
    return value if isinstance(value, str) else ""


def _small_int(text: str) -> int | None:
    text = text.strip()
    return int(text) if re.fullmatch(r"-?\d{1,9}", text) else None


def _parse_time(text: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _decode(text: str | None) -> tuple[datetime | None, set[str]]:
    if not text:
        return None, set()
    try:
        data = json.loads(text)
        when = _parse_time(data["updated"])
        if when is not None:
            return when, {str(i) for i in data["ids"]}
    except (ValueError, KeyError, TypeError, AttributeError):
        pass
    log.warning("appstore: unreadable checkpoint %.60r; reading all pages again", text)
    return None, set()


def _encode(floor: datetime, ids: set[str]) -> str:
    return json.dumps({"updated": floor.isoformat(), "ids": sorted(ids)}, separators=(",", ":"))
