"""The demo posts: a scenario (:mod:`dipwatch.jobs.demo_scenario`) turned into a deterministic stream
of simulated posts.

Pure: no database, no network, no clock. ``dipwatch demo`` stores what :func:`generate_posts` yields.
Every post is invented; texts are drawn from the template pools below so that plain VADER already
reads complaints as negative and "it's back" posts as positive, and the dip shows on any scorer.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from dipwatch.core.records import Post
from dipwatch.jobs.demo_scenario import DemoBrand, DemoOutage, Rhythm, Scenario

SOURCE = "demo"
URL_PREFIX = "https://example.invalid/demo/"
# Post counts are drawn per 15-minute slot, so an outage starting at 18:30 lifts volume from 18:30,
# not from 18:00.
SLOT = timedelta(minutes=15)
# Comments answer one of the brand's last few posts.
RECENT_PARENTS = 40
# The share of an outage's complaints written in plain words ("outage_plain") rather than with an
# emotion word ("so frustrating", "useless"). With emotion words in every complaint the classifier
# caught all of them, where it catches 68% of negative posts by people (the held-out rates in the
# model card, with which analysis.quantify corrects the share): the correction then pushed every
# outage of the demo to "up to 100% of posts negative" when 87% were. The classifier calls 46% of the
# plain pool negative; with 55% of complaints plain it catches about 70% of the demo's, as it does
# people's, and the demo's share lands near its truth (tests/unit/test_demo.py measures it).
PLAIN_SHARE = 0.55

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
    # Complaints in plain words, as many real ones are ("3 unanswered emails and 1 phone call, still no
    # paper"): see PLAIN_SHARE. Written as customers write, all kept whatever they score.
    "outage_plain": (
        "been trying to order from {brand} since this morning and it still won't go through",
        "{brand} took the money but my order isn't showing in the app",
        "{brand} has had my money for 2 days and I have nothing to show for it",
        "third time today I've filled my basket on {site} only to lose it at the last step",
        "{brand} tells me to try again later. I've been trying again later all day",
        "so I guess I'm not getting my {item} from {brand} {day} then",
        "when will {brand} let us order online again? it has been hours",
        "{brand} emailed to say my order is on hold until further notice",
        "rang {brand} about my order, 45 minutes in the queue and then cut off",
        "the {brand} app shows my basket as empty again",
        "{brand} delivery slot gone, order gone, no word from anyone",
        "paid for next day delivery from {brand}, still nothing",
        '{brand} order page just says "something went wrong" every time',
        "had to drive to the {brand} store {store} because {site} wouldn't let me order",
        "{brand}, I need the {item} I paid for, not another apology email",
        "message to {brand} support sent at 9am, no answer at 6pm",
        "refund from {brand} for the failed order still pending",
        "{brand} chat bot keeps sending me back to the start",
        "had to order the {item} from somewhere else, {brand} just wouldn't take my card",
        "{brand} showing my order as delivered, nothing here",
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



@dataclass
class _Draft:
    brand: str
    created_at: datetime
    text: str
    mood: str
    comment: bool


# The moods whose posts a person would call negative: the truth the demo's estimated share of negative
# posts is checked against (tests/unit/test_demo.py).
NEGATIVE_MOODS = frozenset({"outage", "negative"})


def generate_posts(scenario: Scenario) -> Iterator[tuple[str, Post]]:
    """Yield ``(brand_key, post)`` for every simulated post, in ``created_at`` order (see
    :func:`generate_labelled`)."""
    for brand_key, post, _mood in generate_labelled(scenario):
        yield brand_key, post


def generate_labelled(scenario: Scenario) -> Iterator[tuple[str, Post, str]]:
    """Yield ``(brand_key, post, mood)`` for every simulated post, in ``created_at`` order; ``mood``
    is what the post was written to say (see NEGATIVE_MOODS).

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
            post = _finish(rng, draft, brands, counters, recent, pool, heavy, scenario)
            yield draft.brand, post, draft.mood
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
            if rng.random() < PLAIN_SHARE:
                pool = "outage_plain"
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
