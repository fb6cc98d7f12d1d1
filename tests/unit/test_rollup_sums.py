"""The rollup's arithmetic without a database (dipwatch.store.rollup_sums): whole numbers of 1/SUM_SCALE,
so the same events give the same sums in any order, and votes and their squares are rounded exactly."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from dipwatch.store.rollup_sums import (
    add_vote_changes,
    quarter_sums,
    rollup_writes,
    spread,
    square_units,
    units,
    voice_writes,
    vote,
)
from dipwatch.store.tables import ROLLUP_FIELDS, ROLLUP_SIZES, SUM_SCALE

DAY = 1_772_323_200  # 2026-03-01T00:00:00Z
FIELD = {name: i for i, name in enumerate(ROLLUP_FIELDS)}


def event(minute: float, compound: float, author: str | None = None, sign: int = 1, counted: int = 0):
    return ("acme", "s", DAY + int(minute * 60), compound, author, sign, counted)


@pytest.mark.parametrize(("compound", "expected"), [
    (0.1234, 1_234_000_000), (-0.05, -500_000_000), (1.0, SUM_SCALE), (-1.0, -SUM_SCALE), (0.0, 0),
    (-0.00000000005, 0), (0.00000000005, 1),  # halves go up
])
def test_units_are_the_nearest_whole_number_of_a_ten_billionth(compound, expected):
    assert units(compound) == expected


def test_squares_and_votes_are_rounded_exactly_halves_away_from_zero():
    for value in (0, 1, -1, 70_710, 3 * 10**9 + 7, -(10**10), 123_456_789_012):
        exact = Fraction(value * value, SUM_SCALE)
        assert square_units(value) == int(exact + Fraction(1, 2)), value
    assert (vote(5, 2), vote(-5, 2), vote(7, 3), vote(-7, 3), vote(-1, 3)) == (3, -3, 2, -2, 0)


def test_a_vote_of_exactly_minus_005_counts_negative():
    """-0.04 and -0.06 average to -0.05: negative (compound <= -0.05), however they were added up."""
    quarters, by_author = quarter_sums([event(1, -0.04, "ann"), event(2, -0.06, "ann")])
    deltas = spread(quarters)
    add_vote_changes("acme", "s", by_author[("acme", "s")], {}, deltas)
    hour = deltas[("acme", "s", 3600, DAY)]
    assert hour[FIELD["votes"]] == 1
    assert hour[FIELD["vote_total"]] == -500_000_000
    assert hour[FIELD["vote_negatives"]] == 1


def test_the_same_events_give_the_same_sums_in_any_order_and_grouping():
    rng = random.Random(4)
    events = [event(rng.uniform(0, 3 * 1440), rng.uniform(-1, 1), rng.choice(["ann", "bob", None]),
                    counted=rng.randint(0, 1)) for _ in range(500)]

    def sums(batches):
        """Rollup and voices after storing ``batches`` one after the other, as the store would."""
        rollup, voices = {}, {}
        for batch in batches:
            quarters, by_author = quarter_sums(batch)
            deltas = spread(quarters)
            for (brand, scorer), changes in by_author.items():
                stored = {(a, q): v for (b, s, q, a), v in voices.items() if (b, s) == (brand, scorer)}
                add_vote_changes(brand, scorer, changes, stored, deltas)
                kept, gone = voice_writes(brand, scorer, changes, stored)
                voices.update({row[:4]: row[4:] for row in kept})
                for key in gone:
                    voices.pop((key["brand"], key["scorer"], key["bucket"], key["author"]))
            rows, _ = rollup_writes(deltas)
            for row in rows:
                old = rollup.get(row[:4], (0,) * len(ROLLUP_FIELDS))
                rollup[row[:4]] = tuple(a + b for a, b in zip(old, row[4:], strict=True))
        return rollup, voices

    reference = sums([events])
    shuffled = events[:]
    rng.shuffle(shuffled)
    assert sums([shuffled[:123], shuffled[123:400], shuffled[400:]]) == reference
    assert {key[2] for key in reference[0]} == set(ROLLUP_SIZES)
    # Adding 50 more and taking them away again leaves every figure as it was, to the last digit.
    extra = [event(rng.uniform(0, 3 * 1440), rng.uniform(-1, 1), rng.choice(["ann", "cy"]))
             for _ in range(50)]
    taken = [(*e[:5], -1, e[6]) for e in extra]
    after = sums([events, extra, taken])
    assert {k: v for k, v in after[0].items() if any(v)} == reference[0]
    assert after[1] == reference[1]


def test_an_authors_second_post_changes_their_vote_not_the_count():
    """Ann said -0.8 at minute 5; her 0.4 at minute 50 makes her hour's vote -0.2, still one vote."""
    quarter = DAY + 45 * 60
    stored = {("ann", DAY): (1, units(-0.8))}
    quarters, by_author = quarter_sums([event(50, 0.4, "ann")])
    deltas = spread(quarters)
    add_vote_changes("acme", "s", by_author[("acme", "s")], stored, deltas)
    hour = deltas[("acme", "s", 3600, DAY)]
    assert hour[FIELD["posts"]] == 1
    assert hour[FIELD["votes"]] == 0
    assert hour[FIELD["vote_total"]] == units(-0.2) - units(-0.8)
    assert hour[FIELD["vote_negatives"]] == 0  # negative before and after
    assert hour[FIELD["vote_squares"]] == square_units(units(-0.2)) - square_units(units(-0.8))
    # Her first quarter hour is a vote of its own at 15 minutes: unchanged, not in the deltas.
    assert deltas[("acme", "s", 900, quarter)][FIELD["votes"]] == 1
    assert ("acme", "s", 900, DAY) not in deltas
    kept, gone = voice_writes("acme", "s", by_author[("acme", "s")], stored)
    assert kept == [("acme", "s", quarter, "ann", 1, units(0.4))]
    assert gone == []


def test_taking_an_authors_last_post_away_deletes_their_voice_and_empties_the_bucket():
    stored = {("ann", DAY): (1, units(-0.8))}
    quarters, by_author = quarter_sums([event(5, -0.8, "ann", sign=-1)])
    deltas = spread(quarters)
    add_vote_changes("acme", "s", by_author[("acme", "s")], stored, deltas)
    kept, gone = voice_writes("acme", "s", by_author[("acme", "s")], stored)
    assert (kept, gone) == ([], [{"brand": "acme", "scorer": "s", "author": "ann", "bucket": DAY}])
    rows, emptied = rollup_writes(deltas)
    assert {row[2] for row in rows} == set(ROLLUP_SIZES)
    assert all(row[4 + FIELD["posts"]] == -1 and row[4 + FIELD["votes"]] == -1 for row in rows)
    assert len(emptied) == len(ROLLUP_SIZES)
