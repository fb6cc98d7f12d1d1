"""The bundled demo scenario and its post generator: deterministic, big enough, and shaped like an outage."""

from __future__ import annotations

import dataclasses
import hashlib
import random
import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from itertools import islice

import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from analysis.quantify import adjusted_share
from analysis.sentiment import score_texts, scorer_rates
from dipwatch.core.brands import Brand
from dipwatch.core.records import Post
from dipwatch.jobs.demo_posts import FILLERS, NEGATIVE_MOODS, TEMPLATES, generate_labelled, generate_posts
from dipwatch.jobs.demo_scenario import Scenario, load_scenario

BUNDLED = files("dipwatch.resources.demo").joinpath("scenario.toml").read_text("utf-8")


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_scenario()


@pytest.fixture(scope="module")
def labelled(scenario) -> list[tuple[str, Post, str]]:
    return list(generate_labelled(scenario))


@pytest.fixture(scope="module")
def posts(labelled) -> list[tuple[str, Post]]:
    return [(brand, post) for brand, post, _mood in labelled]


@pytest.fixture(scope="module")
def vader() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def digest(posts: list[tuple[str, Post]]) -> str:
    h = hashlib.sha256()
    for brand, post in posts:
        # repr names every field of the frozen dataclass (astuple would deep-copy: 10x slower).
        h.update(repr((brand, post)).encode())
    return h.hexdigest()


def excluded(scenario: Scenario, brand: str, at: datetime, margin: timedelta) -> bool:
    """True if ``at`` is inside one of ``brand``'s outages, its recovery tail, or ``margin`` around."""
    for o in scenario.outages:
        if o.brand != brand:
            continue
        end = (o.end or scenario.as_of) + timedelta(hours=o.recovery_hours)
        if o.start - margin <= at < end + margin:
            return True
    return False


def in_window(posts, brand: str, start: datetime, end: datetime) -> list[Post]:
    return [p for b, p in posts if b == brand and start <= p.created_at < end]


def test_generation_is_deterministic_and_follows_the_seed(scenario, posts):
    assert digest(list(generate_posts(scenario))) == digest(posts)
    reseeded = dataclasses.replace(scenario, seed=scenario.seed + 1)
    assert digest(list(islice(generate_posts(reseeded), 500))) != digest(posts[:500])


def test_posts_are_many_span_the_scenario_and_come_in_time_order(scenario, posts):
    assert len(posts) >= 20_000
    times = [p.created_at for _, p in posts]
    assert times == sorted(times)
    assert times[-1] - times[0] >= timedelta(days=45)
    assert scenario.start <= times[0]
    assert times[-1] < scenario.as_of
    assert all(t.tzinfo is UTC for t in times)
    assert {b for b, _ in posts} == {"brightmart", "shopwell"}


def test_post_fields_look_like_a_source(posts):
    ids = [p.post_id for _, p in posts]
    assert len(set(ids)) == len(ids)
    seen: set[str] = set()
    for brand, post in posts:
        assert post.source == "demo"
        assert post.post_id.startswith({"brightmart": "bm-", "shopwell": "sw-"}[brand])
        assert post.url == f"https://example.invalid/demo/{post.post_id}"
        assert post.kind in {"post", "comment"}
        assert (post.kind == "comment") == (post.parent_id is not None)
        assert post.parent_id is None or post.parent_id in seen
        assert 0 <= post.engagement <= 500
        assert post.author.startswith("user")
        seen.add(post.post_id)
    kinds = Counter(p.kind for _, p in posts)
    assert kinds["comment"] > 0.1 * len(posts)
    # A few heavy posters: the busiest author writes far more than a typical one.
    by_author = Counter(p.author for _, p in posts)
    assert by_author.most_common(1)[0][1] > 10 * statistics.median(by_author.values())


def test_every_post_mentions_the_brand_it_is_yielded_for(scenario, posts):
    brands = {b.key: Brand(key=b.key, name=b.name, terms=b.terms) for b in scenario.brands}
    unmatched = [p.text for b, p in posts if brands[b].match(p.text) is None]
    assert unmatched == []
    spellings = Counter(brands["brightmart"].match(p.text) for b, p in posts if b == "brightmart")
    assert set(spellings) == {"Brightmart", "Bright Mart", "brightmart.com"}


def test_bundled_scenario_has_the_outages_the_demo_tells(scenario):
    bright = [o for o in scenario.outages if o.brand == "brightmart"]
    assert len(bright) >= 3
    ongoing = [o for o in bright if o.end is None]
    assert len(ongoing) == 1
    assert timedelta(days=7) <= scenario.as_of - ongoing[0].start <= timedelta(days=14)
    lengths = [o.end - o.start for o in bright if o.end is not None]
    assert len(set(lengths)) == len(lengths)
    assert min(lengths) <= timedelta(hours=4)
    assert max(lengths) >= timedelta(days=1)
    assert max(o.recovery_hours for o in bright) >= 24
    assert any(o.brand == "shopwell" for o in scenario.outages)
    assert next(b for b in scenario.brands if b.key == "brightmart").competitors == ("shopwell",)


def test_daily_rhythm_peaks_in_the_evening(scenario, posts):
    per_hour: Counter[datetime] = Counter()
    for brand, post in posts:
        if brand == "brightmart":
            per_hour[post.created_at.replace(minute=0, second=0)] += 1
    days = [scenario.start + timedelta(days=n) for n in range(scenario.days)]
    calm = [d for d in days if not any(
        excluded(scenario, "brightmart", d + timedelta(hours=h), timedelta(0)) for h in range(24)
    )]
    assert len(calm) >= 20

    def mean(hours: range) -> float:
        return statistics.mean(per_hour[d + timedelta(hours=h)] for d in calm for h in hours)

    assert mean(range(18, 22)) >= 2 * mean(range(2, 6))


def test_volume_rises_during_every_outage(scenario, posts):
    for outage in scenario.outages:
        end = outage.end or scenario.as_of
        during = len(in_window(posts, outage.brand, outage.start, end))
        during_rate = during / ((end - outage.start).total_seconds() / 3600)
        # The design's baseline (14 days before, other outages and 24 h around them left out),
        # cut at the scenario's start for the first outage.
        base_start = max(outage.start - timedelta(days=14), scenario.start)
        baseline = [
            p for p in in_window(posts, outage.brand, base_start, outage.start)
            if not excluded(scenario, outage.brand, p.created_at, timedelta(hours=24))
        ]
        hours = int((outage.start - base_start).total_seconds() // 3600)
        base_hours = sum(
            1 for h in range(hours)
            if not excluded(
                scenario, outage.brand, base_start + timedelta(hours=h), timedelta(hours=24)
            )
        )
        assert during_rate > 1.5 * len(baseline) / base_hours, outage.label


def test_plain_vader_sees_the_ongoing_outage_dip(scenario, posts, vader):
    ongoing = next(o for o in scenario.outages if o.end is None)
    before = in_window(posts, ongoing.brand, ongoing.start - timedelta(days=14), ongoing.start)
    during = in_window(posts, ongoing.brand, ongoing.start, scenario.as_of)
    rng = random.Random(0)

    def mean_compound(sample: list[Post]) -> float:
        texts = [p.text for p in rng.sample(sample, min(len(sample), 2000))]
        return statistics.mean(vader.polarity_scores(t)["compound"] for t in texts)

    assert mean_compound(during) <= mean_compound(before) - 0.2


def test_the_estimated_share_of_negative_posts_is_near_the_demos_truth(scenario, labelled):
    """The demo's posts are as hard for the classifier as people's, so the share the dashboard shows
    (counted, then corrected with the rates measured on human labels) is the share the demo wrote:
    with an emotion word in every complaint the classifier caught them all, the correction pushed
    every outage to 100% (truth 78-86%), and the demo's headline said "up to 100% negative"."""
    rates = scorer_rates()
    found = {}
    for o in scenario.outages:
        if o.brand != "brightmart":  # the competitor's 3-hour outage has about 20 posts
            continue
        spans = {"during": (o.start, o.end or scenario.as_of),
                 "week before": (o.start - timedelta(days=7), o.start - timedelta(days=1))}
        for name, (start, end) in spans.items():
            rows = [(post.text, mood) for brand, post, mood in labelled
                    if brand == o.brand and start <= post.created_at < end]
            truth = sum(mood in NEGATIVE_MOODS for _, mood in rows) / len(rows)
            called = sum(score.counted for score in score_texts([text for text, _ in rows]))
            estimate = float(adjusted_share([called], [len(rows)], rates)[0])
            found[o.label, name] = (len(rows), round(truth, 3), round(estimate, 3))
    # Within 5 points where a window has over 1,000 posts, 8 for the evening outage's 300 (a binomial
    # SD of 2.4 points after the correction's 1/(tpr - fpr) = 1.9x).
    far = {key: value for key, value in found.items()
           if abs(value[1] - value[2]) > (0.05 if value[0] > 1000 else 0.08)}
    assert far == {}, found


def test_customers_switch_to_the_competitor_during_an_outage(scenario, posts):
    ongoing = next(o for o in scenario.outages if o.end is None)
    switching = [
        p for p in in_window(posts, "shopwell", ongoing.start, scenario.as_of)
        if "brightmart" in p.text.lower() or "bright mart" in p.text.lower()
    ]
    assert len(switching) >= 50
    calm = in_window(posts, "shopwell", ongoing.start - timedelta(days=14), ongoing.start)
    assert not any("brightmart" in p.text.lower() for p in calm)


def test_a_handful_of_posts_carry_dangerous_text(posts):
    risky = [
        p.text for _, p in posts
        if p.text[0] in "=+-@" or "<script>" in p.text or "](" in p.text
    ]
    assert 3 <= len(risky) <= 20


@pytest.mark.parametrize(
    ("pools", "sign"),
    [
        (("outage_site", "outage_checkout", "outage_orders", "aftermath", "negative"), -1),
        (("recovery", "positive", "switch"), 1),
    ],
)
def test_templates_read_the_right_way_to_plain_vader(vader, pools, sign):
    values = {"brand": "Brightmart", "site": "brightmart.com", "rival": "Shopwell",
              "store": "in Leeds", "day": "tomorrow", "day_n": "3"}
    wrong = []
    for pool in pools:
        for template in TEMPLATES[pool]:
            for item in FILLERS["item"]:
                text = template.format(item=item, **values)
                for variant in (text, text.lower()):
                    if vader.polarity_scores(variant)["compound"] * sign < 0.05:
                        wrong.append(variant)
    assert wrong == []


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ("seed = 20260901\n", "", "seed"),
        ('terms = ["Shopwell", "shopwell.co.uk"]\n', "", "brands.shopwell.terms"),
        ("end = 2026-09-10T21:30:00Z", "end = 2026-09-10T17:00:00Z", "outages[1].end"),
        ('severity = "minor"', 'severity = "meh"', "outages[4].severity"),
        ("start = 2026-09-01T00:00:00Z", "start = 2026-09-01T00:00:00", "start"),
        ("negativity = 0.85", "negativity = 1.85", "outages[1].negativity"),
        ('competitors = ["shopwell"]', 'competitors = ["shopwel"]', "brands.brightmart.competitors"),
        ("neutral = 0.38", "neutral = 0.5", "mix."),
        ("volume = 5.0", "volume = 5.0\nvolumme = 2", "outages[1].volumme"),
        ("as_of = 2026-10-21T00:00:00Z", "as_of = 2026-12-01T00:00:00Z", "as_of"),
    ],
)
def test_broken_scenario_is_a_value_error_naming_the_key(old, new, named):
    assert old in BUNDLED
    with pytest.raises(ValueError, match=r"^" + named.replace("[", r"\[").replace("]", r"\]")):
        load_scenario(BUNDLED.replace(old, new, 1))


def test_not_toml_is_a_value_error():
    with pytest.raises(ValueError, match="not valid TOML"):
        load_scenario("seed = ")


def test_load_scenario_reads_text_and_bundled_alike():
    assert load_scenario(BUNDLED) == load_scenario()
