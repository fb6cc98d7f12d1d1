"""The demo scenario: load it from TOML and turn it into a deterministic stream of simulated posts.

Pure: no database, no network, no clock. ``dipwatch demo`` stores what :func:`generate_posts` yields.
Every post is invented; texts are drawn from the template pools below so that plain VADER already
reads complaints as negative and "it's back" posts as positive, and the dip shows on any scorer.
"""

from __future__ import annotations

import math
import random
import tomllib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.resources import files

from dipwatch.core.brands import normalise_brand_name
from dipwatch.core.records import Post

SOURCE = "demo"
URL_PREFIX = "https://example.invalid/demo/"
SEVERITIES = ("minor", "major", "critical")
# Post counts are drawn per 15-minute slot, so an outage starting at 18:30 lifts volume from 18:30,
# not from 18:00.
SLOT = timedelta(minutes=15)
# Comments answer one of the brand's last few posts.
RECENT_PARENTS = 40

# Template pools. Placeholders: {brand} a name-like term, {site} a domain term (or "the X website"),
# {rival} a competitor's term, {item}, {store}, {day}, {day_n} (day of the outage, from 1).
TEMPLATES: dict[str, tuple[str, ...]] = {
    "positive": (
        "Great {item} from {brand} today, really happy",
        "{brand} delivery came early and the driver was lovely",
        "The staff at {brand} {store} were so helpful today, thank you",
        "{brand} prices on {item} are good this week",
        "love the new {item} range at {brand}",
        "{brand} click and collect was quick and easy, nice",
        "good deal on {item} at {brand}, cheers",
        "shoutout to the {brand} team {store}, brilliant service",
        "ordered {item} on {site} last night, already here. Impressed",
        "{brand} self checkout actually worked first time, amazing",
        "the {brand} app makes the weekly shop so easy, love it",
        "{brand} refunded my {item} straight away, great customer service",
    ),
    "neutral": (
        "anyone know when {brand} restocks {item}?",
        "popping to {brand} for {item}",
        "{brand} {store} opening hours on Sunday?",
        "ordered {item} from {site}, arriving {day}",
        "does {brand} still do price matching?",
        "just did the weekly shop on the {brand} app",
        "{brand} meal deal for lunch again",
        "is the {brand} {store} doing the late opening {day}?",
        "picked up {item} at {brand} on the way home",
        "{brand} delivery slot booked for {day}",
    ),
    "negative": (
        "{brand} delivery late again, annoying",
        "the queue at {brand} {store} was terrible this morning",
        "my {item} from {brand} arrived damaged, not happy",
        "{brand} prices keep going up, ridiculous",
        "no {item} left at {brand} {store} again, disappointed",
        "{brand} substituted my {item} with something useless",
    ),
    "outage_site": (
        "{brand} website is down again. So frustrating",
        "can't log in to the {brand} app, this is ridiculous",
        "is it just me or is {site} not loading? So frustrating",
        "{brand} down for anyone else? Useless",
        "tried {site} three times, error page every time. Really annoyed",
        "{brand} app just spins and crashes. Absolutely useless",
        "{brand} site is broken and nobody says why. Terrible service",
        "why is {brand} always broken when I need it? So frustrating",
        "hate this, {site} has been down for ages",
        "{brand} outage again?! Awful",
        "{site} keeps timing out, so annoying",
    ),
    "outage_checkout": (
        "checkout keeps failing on {site}, so frustrating",
        "{brand} took my money twice and the order failed. Ridiculous",
        "payment declined on {brand} three times, my card is fine. Useless",
        "stuck on the {brand} payment page, terrible",
        "basket full and the {brand} checkout is broken. So annoyed",
        "{brand} charged me and no order confirmation. Worst shopping experience",
        "{brand} payments failing for hours now, this is ridiculous",
        "can't pay for my {item} on {site}, error after error. Frustrating",
    ),
    "outage_orders": (
        "still can't order anything from {brand}. Awful",
        "day {day_n} of no online orders from {brand}, ridiculous",
        "a cyberattack and zero updates from {brand}. Terrible communication, so angry",
        "worried about my data after the {brand} hack, so angry",
        "no click and collect at {brand} again, useless",
        "{site} still says orders are paused. Day {day_n}. Pathetic",
        "{brand} cancelled my {item} order because of the attack, really upset",
        "how is {brand} still broken after a week? Terrible",
        "stolen data and no online shop, {brand} is a disaster",
    ),
    "aftermath": (
        "still no refund from {brand} after the outage, annoyed",
        "{brand} lost my order in the outage, terrible",
        "{brand} charged me twice during the outage and I'm still waiting. Frustrating",
        "not trusting {site} with my card again after that mess, awful",
        "{brand} customer service queue is ridiculous since the outage",
    ),
    "recovery": (
        "{brand} site is back up, finally working. Great",
        "orders working again on {site}, thank goodness",
        "phew, the {brand} app is fixed, happy now",
        "{brand} checkout works again, good job fixing it",
        "{brand} back online, nice one team",
        "finally ordered my {item} from {brand}, relieved",
        "fair play to {brand} for the apology and the voucher",
        "{site} loading fine now, thanks for sorting it",
    ),
    "switch": (
        "{brand} is down so I'm ordering from {rival} instead. Works great",
        "gave up on {brand}, {rival} to the rescue",
        "switched to {rival} while {brand} is broken, delivery booked in two minutes. Brilliant",
        "{rival} app working perfectly while {brand} sorts itself out, happy",
        "thanks {rival} for the easy shop today, {brand} wasn't an option",
    ),
    # Text that is dangerous in a spreadsheet cell or a web page; a handful, placed at random.
    "noise": (
        '=HYPERLINK("https://example.invalid/win","{brand} voucher, click here")',
        "-1 star, {brand} delivery never turned up",
        "+1 for the {brand} bakery counter",
        "@{brand} where is my parcel?",
        "{brand} <script>alert(1)</script> lol",
        "[{brand} refund form](https://example.invalid/refund) worked for me",
        "=cmd|' /C calc'!A0 {brand} price list",
        "<b>{brand}</b> opening hours changed {day}",
    ),
}
OUTAGE_TOPICS = ("site", "checkout", "orders")
FILLERS: dict[str, tuple[str, ...]] = {
    "item": (
        "bread",
        "school shoes",
        "kettles",
        "nappies",
        "birthday cakes",
        "garden furniture",
        "phone chargers",
        "cat food",
        "winter coats",
        "microwaves",
        "towels",
        "garden chairs",
    ),
    "store": (
        "in Leeds",
        "in Croydon",
        "on the high street",
        "in Bristol",
        "in Glasgow",
        "at the retail park",
        "in Cardiff",
        "in Norwich",
    ),
    "day": ("tomorrow", "on Friday", "next week", "on Saturday", "tonight"),
}
# Replies sometimes open with an agreement; the rest of the reply is drawn from the same mix.
REPLY_OPENERS = {
    "outage": ("same here, ", "me too. ", "same, "),
    "recovery": ("yep, ", "confirmed, "),
}


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


# --- generating --------------------------------------------------------------------------------


@dataclass
class _Draft:
    brand: str
    created_at: datetime
    text: str
    mood: str
    comment: bool


def generate_posts(scenario: Scenario) -> Iterator[tuple[str, Post]]:
    """Yield ``(brand_key, post)`` for every simulated post, in ``created_at`` order.

    Deterministic: the same scenario gives the same posts (one ``random.Random(seed)``).
    Volume per 15-minute slot is Poisson around base rate x daily rhythm x outage multiplier;
    the text mix turns to complaints inside an outage and fades back over its recovery tail.
    """
    rng = random.Random(scenario.seed)
    brands = {b.key: b for b in scenario.brands}
    pool = [f"user{n}" for n in rng.sample(range(1000, 100_000), scenario.authors.pool)]
    heavy = pool[: scenario.authors.heavy]
    counters = dict.fromkeys(brands, 0)
    recent: dict[str, deque[str]] = {key: deque(maxlen=RECENT_PARENTS) for key in brands}
    noise = _noise_slots(rng, scenario)

    slot_start = scenario.start
    while slot_start < scenario.as_of:
        slot_end = min(slot_start + SLOT, scenario.as_of)
        seconds = max(1, int((slot_end - slot_start).total_seconds()))
        drafts: list[_Draft] = []
        for brand in scenario.brands:
            middle = slot_start + (slot_end - slot_start) / 2
            rate = (
                brand.posts_per_hour
                * _rhythm_factor(scenario.rhythm, middle)
                * _volume_factor(scenario, brand.key, middle)
                * seconds
                / 3600
            )
            for _ in range(_poisson(rng, rate)):
                at = slot_start + timedelta(seconds=rng.randrange(seconds))
                drafts.append(_draft(rng, scenario, brands, brand, at))
        for n, brand_key in noise.get(slot_start, ()):
            at = slot_start + timedelta(seconds=rng.randrange(seconds))
            template = TEMPLATES["noise"][n % len(TEMPLATES["noise"])]
            text = _render(rng, template, brands[brand_key], None, at, None, casual=False)
            drafts.append(_Draft(brand_key, at, text, "noise", comment=False))
        drafts.sort(key=lambda d: d.created_at)
        for draft in drafts:
            yield draft.brand, _finish(rng, draft, brands, counters, recent, pool, heavy, scenario)
        slot_start = slot_end


def _noise_slots(rng: random.Random, scenario: Scenario) -> dict[datetime, list[tuple[int, str]]]:
    slots_total = max(1, int((scenario.as_of - scenario.start) / SLOT))
    chosen: dict[datetime, list[tuple[int, str]]] = {}
    for n in range(scenario.noise_posts):
        at = scenario.start + SLOT * rng.randrange(slots_total)
        brand = scenario.brands[n % len(scenario.brands)].key
        chosen.setdefault(at, []).append((n, brand))
    return chosen


def _rhythm_factor(rhythm: Rhythm, at: datetime) -> float:
    """1 - amplitude at the quiet hour, rising to 1 + amplitude at the peak hour and back down."""
    hour = at.hour + at.minute / 60 + at.second / 3600
    rise = (rhythm.peak_hour - rhythm.quiet_hour) % 24
    since_quiet = (hour - rhythm.quiet_hour) % 24
    # phase runs 0 -> 1 from the quiet hour to the peak hour, then 1 -> 0 back to the quiet hour.
    falling = 1 - (since_quiet - rise) / (24 - rise)
    phase = since_quiet / rise if since_quiet <= rise else falling
    return 1 - rhythm.amplitude * math.cos(math.pi * phase)


def _volume_factor(scenario: Scenario, brand: str, at: datetime) -> float:
    factor = 1.0
    for outage in scenario.outages:
        if outage.brand != brand or at < outage.start:
            continue
        if outage.end is None or at < outage.end:
            factor = max(factor, outage.volume)
        elif outage.recovery_hours:
            fade = 1 - (at - outage.end).total_seconds() / 3600 / outage.recovery_hours
            if fade > 0:
                factor = max(factor, 1 + (outage.volume - 1) * fade)
    return factor


def _state(scenario: Scenario, brand: str, at: datetime) -> tuple[DemoOutage | None, float, float]:
    """The outage shaping ``brand``'s posts at ``at``, with the chance of a complaint and of a
    "it's back" post; (None, 0, 0) in normal times."""
    best: tuple[DemoOutage | None, float, float] = (None, 0.0, 0.0)
    for outage in scenario.outages:
        if outage.brand != brand or at < outage.start:
            continue
        if outage.end is None or at < outage.end:
            state = (outage, outage.negativity, 0.0)
        elif outage.recovery_hours:
            fade = 1 - (at - outage.end).total_seconds() / 3600 / outage.recovery_hours
            if fade <= 0:
                continue
            # Complaints linger at up to 60% of the outage's level; "it's back" posts peak at 40%.
            state = (outage, 0.6 * outage.negativity * fade, 0.4 * fade)
        else:
            continue
        if state[1] + state[2] > best[1] + best[2]:
            best = state
    return best


def _draft(
    rng: random.Random,
    scenario: Scenario,
    brands: dict[str, DemoBrand],
    brand: DemoBrand,
    at: datetime,
) -> _Draft:
    outage, p_complaint, p_recovery = _state(scenario, brand.key, at)
    roll = rng.random()
    rival = None
    key = brand.key
    if outage is not None and roll < p_complaint:
        inside = outage.end is None or at < outage.end
        if inside and brand.competitors and rng.random() < scenario.mix.switch_share:
            mood, pool = "switch", "switch"
            rival = brands[rng.choice(brand.competitors)]
            key = rival.key
        else:
            mood = "outage"
            pool = f"outage_{outage.topic}" if inside else "aftermath"
    elif outage is not None and roll < p_complaint + p_recovery:
        mood, pool = "recovery", "recovery"
    else:
        mix = scenario.mix
        roll = rng.random()
        pool = (
            "positive"
            if roll < mix.positive
            else ("neutral" if roll < mix.positive + mix.neutral else "negative")
        )
        mood = pool
    text = _render(rng, rng.choice(TEMPLATES[pool]), brand, rival, at, outage)
    comment = rng.random() < scenario.mix.comment_share
    if comment and mood in REPLY_OPENERS and rng.random() < 0.3:
        text = rng.choice(REPLY_OPENERS[mood]) + text[0].lower() + text[1:]
    return _Draft(key, at, text, mood, comment)


class _Fill(dict):
    """Placeholder values picked on first use, so a template only draws the fillers it needs."""

    def __init__(self, rng: random.Random, values: dict[str, str]) -> None:
        super().__init__(values)
        self.rng = rng

    def __missing__(self, key: str) -> str:
        value = self.rng.choice(FILLERS[key])
        self[key] = value
        return value


def _render(
    rng: random.Random,
    template: str,
    brand: DemoBrand,
    rival: DemoBrand | None,
    at: datetime,
    outage: DemoOutage | None,
    *,
    casual: bool = True,
) -> str:
    """Fill ``template`` for ``brand``; ``casual`` lower-cases some texts, as people type them."""
    names = [t for t in brand.terms if "." not in t] or [brand.name]
    domains = [t for t in brand.terms if "." in t]
    # The display name most of the time, the other spellings now and then, as people write them.
    name = names[0] if len(names) == 1 or rng.random() < 0.8 else rng.choice(names[1:])
    site = rng.choice(domains) if domains and rng.random() < 0.7 else f"the {name} website"
    values = {"brand": name, "site": site}
    if rival is not None:
        values["rival"] = rival.name if rng.random() < 0.8 else rng.choice(rival.terms)
    if outage is not None:
        values["day_n"] = str(int((at - outage.start).total_seconds() // 86400) + 1)
    text = template.format_map(_Fill(rng, values))
    if casual and rng.random() < 0.15:
        text = text.lower()
    return text


def _finish(
    rng: random.Random,
    draft: _Draft,
    brands: dict[str, DemoBrand],
    counters: dict[str, int],
    recent: dict[str, deque[str]],
    pool: list[str],
    heavy: list[str],
    scenario: Scenario,
) -> Post:
    counters[draft.brand] += 1
    post_id = f"{brands[draft.brand].id_prefix}-{counters[draft.brand]:06d}"
    parents = recent[draft.brand]
    parent_id = rng.choice(parents) if draft.comment and parents else None
    if parent_id is None:
        parents.append(post_id)
    is_heavy = heavy and rng.random() < scenario.authors.heavy_share
    author = rng.choice(heavy) if is_heavy else rng.choice(pool)
    # Complaints during an outage get shared more; replies get fewer likes than posts.
    mean_likes = 8.0 if draft.mood in {"outage", "switch"} else 3.0
    if parent_id is not None:
        mean_likes /= 2
    engagement = min(int(rng.expovariate(1 / mean_likes)), 500)
    return Post(
        source=SOURCE,
        post_id=post_id,
        created_at=draft.created_at,
        text=draft.text,
        kind="comment" if parent_id is not None else "post",
        author=author,
        url=URL_PREFIX + post_id,
        parent_id=parent_id,
        engagement=engagement,
    )


def _poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw: Knuth's method for small rates, a rounded normal above 30 (close enough)."""
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit = math.exp(-lam)
    count, product = 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
