"""Times: parsing them the way every command accepts them (ISO 8601 with an offset, or epoch seconds),
and the store's form, integer seconds since the epoch, UTC.

Free of SQLAlchemy and pandas, so that ``dipwatch.store.lite`` (``dipwatch status``) shares it.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, tzinfo
from typing import overload
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dipwatch.core.errors import BadValueError

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def parse_zone(name: str) -> tzinfo:
    """Return the IANA zone ``name`` (``Europe/London``, ``UTC``).

    :raises BadValueError: naming the zone and what was expected.
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadValueError(f"unknown time zone {name!r}; expected an IANA name like Europe/London") from None


def parse_time(value, tz: tzinfo | None = None, field: str = "created_at") -> datetime:
    """Parse ISO 8601 (with offset or Z) or integer epoch seconds into an aware UTC datetime.

    :raises BadValueError: naming ``field`` and what was expected.
    """
    expected = "ISO 8601 with offset (2026-03-01T18:30:00Z) or integer epoch seconds"
    if isinstance(value, bool) or value is None:
        raise BadValueError(f"{field}: missing; expected {expected}")
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            raise BadValueError(f"{field}: {value!r} is not a whole number of seconds; expected {expected}")
        value = int(value)
    if isinstance(value, str):
        value = value.strip()
        if not value:
            raise BadValueError(f"{field}: empty; expected {expected}")
        if value.lstrip("-").isdigit():
            value = int(value)
    if isinstance(value, int):
        if not -(10**12) < value < 10**12:
            raise BadValueError(f"{field}: {value} is out of range; expected {expected}")
        when = datetime.fromtimestamp(value, UTC)
    elif isinstance(value, str):
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            raise BadValueError(f"{field}: {value[:40]!r} is not a date; expected {expected}") from None
        if when.tzinfo is None:
            if tz is None:
                raise BadValueError(
                    f"{field}: {value[:40]!r} has no UTC offset; add one (Z, +01:00) or pass --tz ZONE"
                )
            when = when.replace(tzinfo=tz)
        try:
            when = when.astimezone(UTC)
        except OverflowError:
            raise BadValueError(f"{field}: {value[:40]!r} is outside 1970-2099") from None
    else:
        raise BadValueError(f"{field}: {type(value).__name__} value; expected {expected}")
    if not EARLIEST <= when < LATEST:
        raise BadValueError(f"{field}: {when:%Y-%m-%d} is outside 1970-2099")
    return when


LATEST_EPOCH = int(LATEST.timestamp())


def parse_epoch(value, tz: tzinfo | None = None, field: str = "created_at") -> int:
    """:func:`parse_time` as whole seconds since the epoch, as the store keeps times (a fraction of
    a second is dropped). Whole seconds in range, as most files give them, are taken as they are:
    making a datetime of each and back took an import's checking worker a sixth of its time.

    :raises BadValueError: as :func:`parse_time`.
    """
    if type(value) is str and value.isascii() and value.isdigit():
        value = int(value)
    if type(value) is int and 0 <= value < LATEST_EPOCH:
        return value
    return int(parse_time(value, tz, field).timestamp())


def plain(value):
    """A value as exports show it: times ISO 8601 UTC with Z, floats rounded to 4 places."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, float):
        return round(value, 4)
    return value


def to_epoch(when: datetime) -> int:
    """``when`` as the store keeps it: whole seconds since the epoch."""
    if when.tzinfo is None:
        # A programming error, not the user's: the input parsers make every time aware.
        raise ValueError("naive datetime given to the store; times must be timezone-aware")
    return int(when.timestamp())


@overload
def from_epoch(seconds: int) -> datetime: ...
@overload
def from_epoch(seconds: None) -> None: ...
def from_epoch(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)
