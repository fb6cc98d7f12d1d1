"""The series rollup's arithmetic, as pure functions: what a batch of scored mentions adds to (or
takes from) the rollup's sums and the voices, with no database. :mod:`dipwatch.store.series` reads
the stored voices and writes what these functions return.

An event is ``(brand, scorer, created_at epoch, compound, author hash or None, sign, counted)``:
sign 1 for a scored mention stored, -1 for one about to be deleted; counted 1 if the post counts as
negative in the share the quantification adjusts.

Sums are integers: compound, its square and the votes in whole numbers of 1/SUM_SCALE
(:func:`units`, :func:`square_units`, :func:`vote`), so the same posts give the same figures to
the last digit whatever order they are added and taken away in. :meth:`Store._rebuild_rollup` does
the same arithmetic in SQL, as the reference the tests compare the upkeep with.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from dipwatch.store.tables import EMPTY_SUMS, ROLLUP_NEGATIVE, ROLLUP_SIZES, SUM_SCALE, VOICE_SIZE

Event = tuple[str, str, int, float, "str | None", int, int]
# A vote at or below this (in 1/SUM_SCALE) is negative: ROLLUP_NEGATIVE, exactly.
NEGATIVE_UNITS = round(ROLLUP_NEGATIVE * SUM_SCALE)
HALF = SUM_SCALE // 2
# (brand, scorer) -> (author, quarter-hour start) -> [posts, total]: how an author's voices change.
AuthorChanges = dict[tuple[str, str], dict[tuple[str, int], list]]
# (brand, scorer, size, bucket start) -> the rollup's figures (ROLLUP_FIELDS) to add.
Deltas = dict[tuple[str, str, int, int], list]


def units(compound: float) -> int:
    """``compound`` in whole numbers of 1/SUM_SCALE, to the nearest (halves up).

    Computed as floor(compound * SUM_SCALE + 0.5) in doubles: IEEE multiplication and addition give
    the same double in Python, SQLite and PostgreSQL, so the rebuild in SQL (units_sql) gets the same
    integer for every stored compound.
    """
    return math.floor(compound * float(SUM_SCALE) + 0.5)


def square_units(value: int) -> int:
    """The square of ``value`` (in 1/SUM_SCALE) in 1/SUM_SCALE, to the nearest (halves up): exact."""
    return (value * value + HALF) // SUM_SCALE


def vote(total: int, count: int) -> int:
    """An author's vote in a bucket: the mean of their ``count`` posts' compound, whose sum is
    ``total`` (in 1/SUM_SCALE), rounded to the nearest 1/SUM_SCALE, halves away from zero: exact."""
    magnitude = (2 * abs(total) + count) // (2 * count)
    return magnitude if total >= 0 else -magnitude


def quarter_sums(events: Iterable[Event]) -> tuple[dict[tuple[str, str, int], list], AuthorChanges]:
    """The rollup figures of ``events`` per (brand, scorer, quarter hour), with the votes of posts
    without an author (nothing says two anonymous posts share one: a vote each); and per author and
    quarter hour the change in their posts and total, of which their votes are made."""
    quarters: dict[tuple[str, str, int], list] = {}
    by_author: AuthorChanges = {}
    for brand, scorer, created, compound, author, sign, counted in events:
        quarter = created - created % VOICE_SIZE
        sums = quarters.get((brand, scorer, quarter))
        if sums is None:
            sums = quarters[(brand, scorer, quarter)] = list(EMPTY_SUMS)
        sums[8] += sign * counted
        negative = sign if compound <= ROLLUP_NEGATIVE else 0
        value = units(compound)
        square = sign * square_units(value)
        value *= sign
        sums[0] += sign
        sums[1] += value
        sums[2] += negative
        sums[3] += square
        if author is None:
            sums[4] += sign
            sums[5] += value
            sums[6] += negative
            sums[7] += square
        else:
            changes = by_author.get((brand, scorer))
            if changes is None:
                changes = by_author[(brand, scorer)] = {}
            change = changes.get((author, quarter))
            if change is None:
                change = changes[(author, quarter)] = [0, 0]
            change[0] += sign
            change[1] += value
    return quarters, by_author


def spread(quarters: Mapping[tuple[str, str, int], list]) -> Deltas:
    """The quarter hours' figures added into the bucket of every rollup size that holds them."""
    deltas: Deltas = {}
    for (brand, scorer, quarter), sums in quarters.items():
        for size in ROLLUP_SIZES:
            key = (brand, scorer, size, quarter - quarter % size)
            delta = deltas.get(key)
            if delta is None:
                deltas[key] = list(sums)
            else:
                for i, value in enumerate(sums):
                    delta[i] += value
    return deltas


def add_vote(delta: list, mean: int, sign: int) -> None:
    """Add (sign 1) or take away (-1) one vote of ``mean`` (in 1/SUM_SCALE) in the rollup figures
    ``delta``."""
    delta[4] += sign
    delta[5] += sign * mean
    delta[6] += sign if mean <= NEGATIVE_UNITS else 0
    delta[7] += sign * square_units(mean)


def add_vote_changes(brand: str, scorer: str, changes: Mapping[tuple[str, int], list],
                     stored: Mapping[tuple[str, int], tuple], deltas: Deltas) -> None:
    """Add to ``deltas`` how each changed author's vote changes in every bucket of every size.

    :param changes: (author, quarter hour) -> [posts, total] that the batch adds or takes away.
    :param stored: (author, quarter hour) -> (posts, total) of those authors as stored, in at least
        the days the changes fall in.
    """
    stored_of: dict[str, list[tuple[int, int, int]]] = {}
    for (author, quarter), (count, total) in stored.items():
        stored_of.setdefault(author, []).append((quarter, count, total))
    changed_of: dict[str, list[tuple[int, int, int]]] = {}
    for (author, quarter), (count, total) in changes.items():
        changed_of.setdefault(author, []).append((quarter, count, total))
    for author, changed in changed_of.items():
        before = stored_of.get(author, ())
        if not before and len(changed) == 1:  # most often: the author's first post that day
            quarter, count, total = changed[0]
            if count > 0:
                mean = vote(total, count)
                for size in ROLLUP_SIZES:
                    key = (brand, scorer, size, quarter - quarter % size)
                    add_vote(deltas.setdefault(key, list(EMPTY_SUMS)), mean, 1)
            continue
        for size in ROLLUP_SIZES:
            for bucket in {quarter - quarter % size for quarter, _, _ in changed}:
                count = total = 0
                for quarter, n, t in before:
                    if bucket <= quarter < bucket + size:
                        count += n
                        total += t
                old = (count, total)
                for quarter, n, t in changed:
                    if bucket <= quarter < bucket + size:
                        count += n
                        total += t
                delta = deltas.setdefault((brand, scorer, size, bucket), list(EMPTY_SUMS))
                for (n, t), sign in ((old, -1), ((count, total), 1)):
                    if n > 0:
                        add_vote(delta, vote(t, n), sign)


def voice_writes(brand: str, scorer: str, changes: Mapping[tuple[str, int], list],
                 stored: Mapping[tuple[str, int], tuple]) -> tuple[list[tuple], list[dict]]:
    """The voices to write after ``changes``: rows (brand, scorer, bucket, author, posts, total) to
    set, and the keys of those left with no post, to delete."""
    kept, gone = [], []
    nothing = (0, 0)
    for (author, quarter), (count, total) in changes.items():
        had = stored.get((author, quarter), nothing)
        if had[0] + count > 0:
            kept.append((brand, scorer, quarter, author, had[0] + count, had[1] + total))
        else:
            gone.append({"brand": brand, "scorer": scorer, "author": author, "bucket": quarter})
    return kept, gone


def rollup_writes(deltas: Deltas) -> tuple[list[tuple], list[dict]]:
    """The rollup rows to add (brand, scorer, size, bucket, *figures), leaving out deltas of nothing,
    and the keys of the buckets that lost posts: to delete where none is left."""
    rows, emptied = [], []
    for key, delta in deltas.items():
        if not any(delta):
            continue
        rows.append((*key, *delta))
        if delta[0] < 0:
            emptied.append(dict(zip(("brand", "scorer", "size", "bucket"), key, strict=True)))
    return rows, emptied

