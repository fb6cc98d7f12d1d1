"""The demo scenario: its records, loaded and checked from TOML (data/demo/scenario.toml).

Pure: no database, no network, no clock. :mod:`dipwatch.jobs.demo_posts` turns a scenario into posts.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.resources import files

from dipwatch.core.brands import normalise_brand_name

SEVERITIES = ("minor", "major", "critical")
OUTAGE_TOPICS = ("site", "checkout", "orders")  # which template pool an outage's complaints use


@dataclass(frozen=True)
class DemoBrand:
    """A brand in the demo: key, display name, match terms, competitors and how much it is talked about."""

    key: str
    name: str
    terms: tuple[str, ...]
    competitors: tuple[str, ...]
    posts_per_hour: float = 10.0
    id_prefix: str = ""


@dataclass(frozen=True)
class DemoOutage:
    """An outage in the demo; ``end`` None means still ongoing at the scenario's ``as_of``.

    :param topic: what customers complain about: one of ``OUTAGE_TOPICS``.
    :param volume: post-rate multiplier while the outage lasts.
    :param negativity: share of posts that are complaints while it lasts (0-1).
    :param recovery_hours: hours after the end over which volume and complaints fade back to normal.
    """

    brand: str
    start: datetime
    end: datetime | None
    label: str
    severity: str
    topic: str = "site"
    volume: float = 1.0
    negativity: float = 0.0
    recovery_hours: float = 0.0


@dataclass(frozen=True)
class Rhythm:
    """Posts per hour over the day: fewest at ``quiet_hour``, most at ``peak_hour`` (UTC)."""

    quiet_hour: int = 4
    peak_hour: int = 20
    amplitude: float = 0.7


@dataclass(frozen=True)
class Mix:
    """Normal-time shares of positive, neutral and negative posts, and reply/switch shares."""

    positive: float = 0.48
    neutral: float = 0.38
    negative: float = 0.14
    comment_share: float = 0.3
    switch_share: float = 0.12


@dataclass(frozen=True)
class Authors:
    """A pool of author names, of which ``heavy`` write ``heavy_share`` of all posts."""

    pool: int = 6000
    heavy: int = 12
    heavy_share: float = 0.08


@dataclass(frozen=True)
class Scenario:
    """The whole demo: brands, outages, the span [start, as_of) and the knobs of the generator."""

    brands: tuple[DemoBrand, ...]
    outages: tuple[DemoOutage, ...]
    as_of: datetime
    seed: int
    start: datetime
    days: int = 50
    rhythm: Rhythm = field(default_factory=Rhythm)
    mix: Mix = field(default_factory=Mix)
    authors: Authors = field(default_factory=Authors)
    noise_posts: int = 0


# --- loading -----------------------------------------------------------------------------------

TOP_KEYS = {"seed", "start", "days", "as_of", "noise_posts", "rhythm", "mix", "authors", "brands", "outages"}
BRAND_KEYS = {"name", "terms", "competitors", "posts_per_hour", "id_prefix"}
OUTAGE_KEYS = {
    "brand",
    "start",
    "end",
    "label",
    "severity",
    "topic",
    "volume",
    "negativity",
    "recovery_hours",
}


def load_scenario(text: str | None = None) -> Scenario:
    """Parse a scenario from TOML text; the bundled ``scenario.toml`` when ``text`` is None.

    :raises ValueError: naming the key and what was expected.
    """
    if text is None:
        text = files("dipwatch.resources.demo").joinpath("scenario.toml").read_text("utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"scenario: not valid TOML: {exc}") from None
    _no_unknown(data, TOP_KEYS, "")
    start = _datetime(_required(data, "start", ""), "start")
    seed = _integer(_required(data, "seed", ""), "seed", 0)
    days = _integer(_required(data, "days", ""), "days", 1)
    span_end = start + timedelta(days=days)
    as_of = _datetime(data.get("as_of", span_end), "as_of")
    if not start < as_of <= span_end:
        raise ValueError(
            f"as_of: expected a moment after start ({start.isoformat()}) and no later than "
            f"start + days ({span_end.isoformat()}), got {as_of.isoformat()}"
        )
    brands = _brands(_required(data, "brands", ""))
    keys = {b.key for b in brands}
    for brand in brands:
        for rival in brand.competitors:
            if rival not in keys or rival == brand.key:
                raise ValueError(
                    f"brands.{brand.key}.competitors: {rival!r} is not another brand of the scenario"
                )
    outages = _outages(data.get("outages", []), keys, start, as_of)
    mix = _mix(_table(data, "mix"))
    return Scenario(
        brands=brands,
        outages=outages,
        as_of=as_of,
        seed=seed,
        start=start,
        days=days,
        rhythm=_rhythm(_table(data, "rhythm")),
        mix=mix,
        authors=_authors(_table(data, "authors")),
        noise_posts=_integer(data.get("noise_posts", 0), "noise_posts", 0),
    )


def _brands(table) -> tuple[DemoBrand, ...]:
    if not isinstance(table, dict) or not table:
        raise ValueError("brands: expected at least one table like [brands.acme]")
    brands = []
    for raw_key, body in table.items():
        where = f"brands.{raw_key}"
        try:
            key = normalise_brand_name(raw_key)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        if not isinstance(body, dict):
            raise ValueError(f"{where}: expected a table ([{where}])")
        _no_unknown(body, BRAND_KEYS, where)
        name = _string(_required(body, "name", where), f"{where}.name")
        terms = _strings(_required(body, "terms", where), f"{where}.terms", minimum=1)
        competitors = _strings(body.get("competitors", []), f"{where}.competitors", minimum=0)
        brands.append(
            DemoBrand(
                key=key,
                name=name,
                terms=terms,
                competitors=tuple(c.lower() for c in competitors),
                posts_per_hour=_number(
                    _required(body, "posts_per_hour", where), f"{where}.posts_per_hour", 0.0, 1000.0
                ),
                id_prefix=_string(body.get("id_prefix", key[:2]), f"{where}.id_prefix"),
            )
        )
    prefixes = [b.id_prefix for b in brands]
    if len(set(prefixes)) != len(prefixes):
        raise ValueError(f"brands.*.id_prefix: expected a different prefix per brand, got {prefixes}")
    return tuple(brands)


def _outages(items, keys: set[str], start: datetime, as_of: datetime) -> tuple[DemoOutage, ...]:
    if not isinstance(items, list):
        raise ValueError("outages: expected an array of tables ([[outages]])")
    outages = []
    for n, body in enumerate(items, 1):
        where = f"outages[{n}]"
        if not isinstance(body, dict):
            raise ValueError(f"{where}: expected a table ([[outages]])")
        _no_unknown(body, OUTAGE_KEYS, where)
        brand = _string(_required(body, "brand", where), f"{where}.brand")
        if brand not in keys:
            raise ValueError(f"{where}.brand: expected one of {sorted(keys)}, got {brand!r}")
        began = _datetime(_required(body, "start", where), f"{where}.start")
        if not start <= began < as_of:
            raise ValueError(
                f"{where}.start: expected a moment between the scenario's start ({start.isoformat()}) "
                f"and as_of ({as_of.isoformat()}), got {began.isoformat()}"
            )
        end = body.get("end")
        if end is not None:
            end = _datetime(end, f"{where}.end")
            if end <= began:
                raise ValueError(
                    f"{where}.end: expected a moment after its start ({began.isoformat()}), "
                    f"got {end.isoformat()}"
                )
            if end > as_of:
                raise ValueError(
                    f"{where}.end: {end.isoformat()} is after as_of ({as_of.isoformat()}); "
                    "leave end out for an outage that is still ongoing"
                )
        severity = _string(_required(body, "severity", where), f"{where}.severity")
        if severity not in SEVERITIES:
            raise ValueError(f"{where}.severity: expected one of {SEVERITIES}, got {severity!r}")
        topic = _string(body.get("topic", "site"), f"{where}.topic")
        if topic not in OUTAGE_TOPICS:
            raise ValueError(f"{where}.topic: expected one of {OUTAGE_TOPICS}, got {topic!r}")
        outages.append(
            DemoOutage(
                brand=brand,
                start=began,
                end=end,
                label=_string(_required(body, "label", where), f"{where}.label"),
                severity=severity,
                topic=topic,
                volume=_number(body.get("volume", 1.0), f"{where}.volume", 0.0, 100.0),
                negativity=_number(body.get("negativity", 0.0), f"{where}.negativity", 0.0, 1.0),
                recovery_hours=_number(
                    body.get("recovery_hours", 0.0), f"{where}.recovery_hours", 0.0, 24.0 * 365
                ),
            )
        )
    return tuple(outages)


def _rhythm(table: dict) -> Rhythm:
    _no_unknown(table, {"quiet_hour", "peak_hour", "amplitude"}, "rhythm")
    rhythm = Rhythm(
        quiet_hour=_integer(table.get("quiet_hour", 4), "rhythm.quiet_hour", 0, 23),
        peak_hour=_integer(table.get("peak_hour", 20), "rhythm.peak_hour", 0, 23),
        amplitude=_number(table.get("amplitude", 0.7), "rhythm.amplitude", 0.0, 1.0),
    )
    if rhythm.quiet_hour == rhythm.peak_hour:
        raise ValueError("rhythm.peak_hour: expected a different hour from rhythm.quiet_hour")
    return rhythm


def _mix(table: dict) -> Mix:
    defaults = Mix()
    _no_unknown(table, {"positive", "neutral", "negative", "comment_share", "switch_share"}, "mix")
    values = {
        name: _number(table.get(name, getattr(defaults, name)), f"mix.{name}", 0.0, 1.0)
        for name in ("positive", "neutral", "negative", "comment_share", "switch_share")
    }
    total = values["positive"] + values["neutral"] + values["negative"]
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"mix.positive + mix.neutral + mix.negative: expected 1, got {total:g}")
    return Mix(**values)


def _authors(table: dict) -> Authors:
    _no_unknown(table, {"pool", "heavy", "heavy_share"}, "authors")
    authors = Authors(
        pool=_integer(table.get("pool", 6000), "authors.pool", 1, 90_000),
        heavy=_integer(table.get("heavy", 12), "authors.heavy", 0),
        heavy_share=_number(table.get("heavy_share", 0.08), "authors.heavy_share", 0.0, 1.0),
    )
    if authors.heavy > authors.pool:
        raise ValueError(f"authors.heavy: expected at most authors.pool ({authors.pool})")
    return authors


def _required(table: dict, key: str, where: str):
    if key not in table:
        name = f"{where}.{key}" if where else key
        raise ValueError(f"{name}: missing; expected it in the scenario")
    return table[key]


def _table(data: dict, key: str) -> dict:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ValueError(f"{key}: expected a table ([{key}]), got {type(value).__name__}")
    return value


def _no_unknown(table: dict, known: set[str], where: str) -> None:
    for key in sorted(set(table) - known):
        name = f"{where}.{key}" if where else key
        raise ValueError(f"{name}: unknown setting; expected one of {sorted(known)}")


def _datetime(value, key: str) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{key}: expected a date-time like 2026-09-01T00:00:00Z") from None
    if not isinstance(value, datetime):
        raise ValueError(f"{key}: expected a date-time like 2026-09-01T00:00:00Z, got {value!r}")
    if value.tzinfo is None:
        raise ValueError(f"{key}: expected a UTC offset (end the time with Z), got {value}")
    return value.astimezone(UTC)


def _integer(value, key: str, lo: int, hi: int | None = None) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < lo or (hi and value > hi):
        bounds = f"between {lo} and {hi}" if hi else f">= {lo}"
        raise ValueError(f"{key}: expected a whole number {bounds}, got {value!r}")
    return value


def _number(value, key: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise ValueError(f"{key}: expected a number between {lo:g} and {hi:g}, got {value!r}")
    return float(value)


def _string(value, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{key}: expected a non-empty string, got {value!r}")
    return value.strip()


def _strings(value, key: str, minimum: int) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"{key}: expected a list of non-empty strings, got {value!r}")
    if len(value) < minimum:
        raise ValueError(f"{key}: expected at least {minimum} entry")
    return tuple(v.strip() for v in value)
