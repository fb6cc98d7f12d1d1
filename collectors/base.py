"""The contract every collector keeps (a generator of pages of Post records), and its errors."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from dataclasses import MISSING, dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from dipwatch.core.brands import Brand
from dipwatch.core.errors import UserError
from dipwatch.core.records import Post

log = logging.getLogger(__name__)

# How far after the run's clock a post's time may lie and still be taken as clock skew. Beyond it the time
# is wrong (a skewed client, a broken federation peer, a hostile API): such a post is skipped, never stored
# and never allowed to move a checkpoint, or every later post would sort below the checkpoint and be lost.
FUTURE_TOLERANCE = timedelta(days=1)


class CollectorError(UserError):
    """A source could not be read; the message names the file, line or field and what was expected."""


class InputError(CollectorError):
    """Input the user gave is unusable as a whole (wrong format, missing column): nothing is stored.

    :param where: the file (and line, if known) at fault, e.g. ``posts.csv:1``.
    :param message: what was wrong and what was expected.
    """

    def __init__(self, where: str, message: str):
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


class SourceUnavailableError(CollectorError):
    """The source refuses us as a whole (no credentials, 401, 403): stop it for every brand.

    :param missing_config: True when the cause is missing credentials or settings (exit code 2).
    """

    def __init__(self, message: str, missing_config: bool = False):
        super().__init__(message)
        self.missing_config = missing_config


def json_object(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one: a field that is missing, null or of
    another type reads as having no keys."""
    return value if isinstance(value, dict) else {}


def checked_settings(cls: type, source: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    """The values of a ``[sources.NAME]`` table for the options dataclass ``cls``, each checked
    against the type of its default (a setting whose default is None takes a string).

    An int is accepted where a float is expected; nothing else is converted, and ``true``/``false``
    only where the default is a bool (Python counts a bool as an int: ``timeout = true`` would be 1).

    :raises SourceUnavailableError: (``missing_config``) naming an unknown or mistyped key.
    """
    known = {f.name: f for f in fields(cls)}
    values: dict[str, Any] = {}
    for key, given in settings.items():
        value = given
        if key not in known:
            raise SourceUnavailableError(f"sources.{source}.{key}: unknown setting; expected one of "
                                         f"{', '.join(sorted(known))}", missing_config=True)
        spec = known[key]
        if spec.default is not MISSING:
            default = spec.default
        elif spec.default_factory is not MISSING:
            default = spec.default_factory()
        else:
            default = None
        expected = str if default is None else type(default)
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
            raise SourceUnavailableError(f"sources.{source}.{key}: expected {expected.__name__}, "
                                         f"got {value!r}", missing_config=True)
        values[key] = value
    return values


class BudgetExceededError(CollectorError):
    """The run's time budget (``--max-seconds``) ran out."""


@dataclass(frozen=True)
class Page:
    """Posts a collector fetched, each with the brand term it matched, and the checkpoint that is
    true once they are stored: ``(query, cursor)``. The job stores the posts and the checkpoint in one
    transaction, so a run killed between pages resumes from the last stored page. ``warnings`` are
    signs of a degrading source that is still answering (a feed gone silent): the run log keeps them
    and ``dipwatch status`` shows them."""

    posts: list[tuple[Post, str]]
    checkpoint: tuple[str, str] | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Budget:
    """A run's deadline on the monotonic clock."""

    deadline: float

    @classmethod
    def seconds(cls, seconds: float) -> Budget:
        return cls(time.monotonic() + seconds)

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def check(self) -> None:
        """:raises BudgetExceededError: when the deadline has passed."""
        if self.remaining() <= 0:
            raise BudgetExceededError("the run's time budget (--max-seconds) ran out")


def parse_iso_time(value: object) -> datetime | None:
    """An RFC 3339 / ISO 8601 time (``Z`` or an offset; naive taken as UTC) in UTC, to the microsecond;
    None when it is not one.

    Fractions of any length are read (Bluesky sends milliseconds, Mastodon's rate-limit reset
    microseconds, other atproto servers nanoseconds): ``fromisoformat`` before Python 3.12 wants at most 6.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("z", "Z")
    if "." in text:
        head, _, rest = text.partition(".")
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = head + "." + rest[:min(digits, 6)].ljust(6, "0") + rest[digits:] if digits else head + rest
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def too_new(created_at: datetime, now: datetime) -> bool:
    """True when ``created_at`` lies more than :data:`FUTURE_TOLERANCE` after ``now`` (both aware)."""
    return created_at > now + FUTURE_TOLERANCE


def skip_too_new(source: str, item_id: object, created_at: datetime, now: datetime) -> bool:
    """:func:`too_new`, logging the item skipped (by ``source`` and id) when it is."""
    if not too_new(created_at, now):
        return False
    log.warning("%s: skipping %s, dated %s: more than %s after the run's clock (%s)", source, item_id,
                created_at.isoformat(), FUTURE_TOLERANCE, now.isoformat(timespec="seconds"))
    return True


class Collector(Protocol):
    """A source: built once per run from its settings, then asked for each brand's new posts.

    A source that logs in may also have ``keep_session_in(path)``: the collect job then hands it the
    owner-only file its session lives in between runs (:mod:`collectors.session`).
    """

    name: str

    def pages(self, brand: Brand, checkpoints: Mapping[str, str], since: datetime | None,
              budget: Budget) -> Iterator[Page]:
        """Yield pages of the brand's posts newer than ``checkpoints`` (by query) or ``since``.

        :raises SourceUnavailableError: the source refuses us as a whole.
        :raises CollectorError: this brand's collection failed (others may go on).
        """
        ...
