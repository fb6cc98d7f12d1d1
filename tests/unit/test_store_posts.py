"""The posts of a window (Voices, exports): the store chooses them from the mentions and scores, then
reads their rows; the result is the posts a plain join of every table, sorted and cut, gives."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from dipwatch.core.records import Post
from dipwatch.core.times import to_epoch
from dipwatch.store import ScoredPost, mentions, posts, scores

T0 = datetime(2026, 4, 1, tzinfo=UTC)
COLUMNS = ["source", "post_id", "kind", "created_at", "text", "url", "author_hash", "engagement", "rating",
           "brand", "term", "compound", "pos", "neu", "neg", "scorer",
           "p_negative", "p_neutral", "p_positive"]


def fill(store) -> None:
    """Posts of two brands (some mention both), two scorers, many equal scores and equal times."""
    rng = random.Random(11)
    items, other = [], []
    for i in range(240):
        created = T0 + timedelta(minutes=rng.choice([0, 5, 5, 30, 61, 90, 90, 150, 200]) + i // 40 * 60)
        source = rng.choice(["reddit", "appstore", "bluesky"])
        brands = rng.choice([[("acme", "Acme")], [("acme", "ACME app")], [("acme", "Acme"), ("zeta", "Zeta")],
                             [("zeta", "Zeta")]])
        compound = rng.choice([-0.9, -0.4, -0.05, -0.04, 0.0, 0.04, 0.05, 0.3, 0.9])
        post = Post(source, f"p{i}", created, f"post {i} about {brands[0][1]}", url=f"https://x.org/{i}",
                    engagement=rng.randrange(5), rating=rng.choice([None, 1, 5]))
        items.append(ScoredPost(post, rng.choice([None, "hash-a", "hash-b"]), brands,
                                (compound, 0.1, 0.8, 0.1)))
        other.append(ScoredPost(post, None, brands, (-compound, 0.2, 0.6, 0.2)))
    store.save_posts(items, "scorer-a")
    store.save_posts(other, "scorer-b")  # the same posts, scored by another scorer


def reference(store, brand, scorer, start, end, order, limit, sources, label) -> list[dict]:
    """Every (post, mention, score) row joined plainly, filtered, sorted and cut in Python."""
    query = (sa.select(posts, mentions.c.brand, mentions.c.term, scores.c.compound, scores.c.pos,
                       scores.c.neu, scores.c.neg, scores.c.scorer, scores.c.p_negative, scores.c.p_neutral,
                       scores.c.p_positive)
             .join(mentions, mentions.c.post == posts.c.id).join(scores, scores.c.post == posts.c.id))
    with store.engine.connect() as conn:
        rows = [dict(row) for row in conn.execute(query).mappings()]
    low, high = (to_epoch(t) if t else None for t in (start, end))
    kept = [r for r in rows if r["brand"] == brand and r["scorer"] == scorer
            and (low is None or r["created_at"] >= low) and (high is None or r["created_at"] < high)
            and (not sources or r["source"] in sources)
            and {"negative": r["compound"] <= -0.05, "positive": r["compound"] >= 0.05,
                 "neutral": -0.05 < r["compound"] < 0.05, None: True}[label]]
    if order == "sentiment":
        kept.sort(key=lambda r: (r["compound"], r["created_at"], r["id"]))
    else:
        kept.sort(key=lambda r: (r["created_at"], r["id"]))
    return [{c: r[c] for c in COLUMNS} for r in kept[:limit]]


@pytest.mark.parametrize("order", ["sentiment", "time"])
def test_chosen_posts_are_those_of_a_plain_join_sorted_and_cut(store, order):
    fill(store)
    rng = random.Random(5)
    windows = [(None, None), (T0 + timedelta(minutes=5), T0 + timedelta(hours=4)),
               (T0, T0 + timedelta(minutes=90))]
    for start, end in windows:
        for limit in (None, 1, 7, 60, 1000):
            for sources in (None, [], ["appstore"], ["reddit", "bluesky"]):
                label = rng.choice([None, "negative", "neutral", "positive"])
                brand = rng.choice(["acme", "zeta"])
                found = [dict(row) for row in store.load_posts(brand, "scorer-a", start, end, order=order,
                                                               limit=limit, sources=sources, label=label)]
                expected = reference(store, brand, "scorer-a", start, end, order, limit, sources, label)
                assert found == expected, (start, end, limit, sources, label, brand)
                if limit and limit < len(reference(store, brand, "scorer-a", start, end, order, None,
                                                   sources, label)):
                    assert len(found) == limit


def test_a_limited_read_stops_early_and_releases_its_connection(store):
    fill(store)
    posts_read = store.load_posts("acme", "scorer-a", order="sentiment", limit=5)
    first = next(posts_read)
    posts_read.close()
    assert first["compound"] == -0.9
    assert first["scorer"] == "scorer-a"


ORDER_COLUMNS = {"engagement": "engagement", "rating": "rating", "source": "source", "sentiment": "compound",
                 "time": "created_at"}


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("order", list(ORDER_COLUMNS))
def test_pages_in_any_order_make_up_the_whole_window(store, order, descending):
    """Voices pages on the server: page after page of 7 gives every post once, in the order asked
    for, posts without a value (no rating) last either way; the count says how many there are."""
    fill(store)
    start, end = T0 + timedelta(minutes=5), T0 + timedelta(hours=5)
    whole = [dict(r) for r in store.load_posts("acme", "scorer-a", start, end, order=order,
                                               descending=descending)]
    paged = []
    for page in range(len(whole) // 7 + 2):
        paged += [dict(r) for r in store.load_posts("acme", "scorer-a", start, end, order=order,
                                                    descending=descending, limit=7, offset=page * 7)]
    assert paged == whole
    values = [r[ORDER_COLUMNS[order]] for r in whole]
    present = [v for v in values if v is not None]
    assert values == present + [None] * (len(values) - len(present))
    assert present == sorted(present, reverse=descending)
    counted = store.count_window_posts("acme", "scorer-a", start, end)
    assert counted == {"posts": len(whole), "rated": sum(1 for r in whole if r["rating"] is not None),
                       "engaged": sum(1 for r in whole if r["engagement"])}


def test_contains_ignores_case_and_reads_wildcards_as_text(store):
    fill(store)
    every = [dict(r) for r in store.load_posts("acme", "scorer-a")]
    found = [dict(r) for r in store.load_posts("acme", "scorer-a", contains=" ABOUT acme app ")]
    assert found == [r for r in every if "about acme app" in r["text"].lower()]
    assert found
    assert store.count_window_posts("acme", "scorer-a", contains="about ACME app")["posts"] == len(found)
    for wildcard in ("%", "_", "post_1", "\\"):
        assert list(store.load_posts("acme", "scorer-a", contains=wildcard)) == []
