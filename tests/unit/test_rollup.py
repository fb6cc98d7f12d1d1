"""The series rollup, kept in the same transaction as the posts, always equals the rollup rebuilt from
the stored posts, whatever order posts, mentions, scores and deletions arrive in; on SQLite and
PostgreSQL. And a database of schema version 1 gains a filled rollup when opened, and one of version 2
its voices keyed by time, with nothing lost."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import sqlalchemy as sa

from dipwatch.core.params import MetricParams
from dipwatch.core.records import Post
from dipwatch.measures import load_series, load_series_voiced
from dipwatch.store import (
    ROLLUP_SIZES,
    ScoredPost,
    Store,
    brand_sources,
    mentions,
    meta,
    posts,
    rollup,
    scores,
    voices,
)

T0 = datetime(2026, 3, 1, tzinfo=UTC)
SCORER = "test-scorer"


def rollup_rows(store: Store) -> dict[tuple, tuple]:
    """The rollup as {key: figures}, floats rounded (sums in another order differ in the last bit)."""
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(rollup)).all()
    return {tuple(row[:4]): (row.posts, round(row.total, 9), row.negatives, row.votes,
                             round(row.vote_total, 9), row.vote_negatives) for row in rows}


def voice_rows(store: Store) -> dict[tuple, tuple]:
    with store.engine.connect() as conn:
        return {tuple(row[:4]): (row.posts, round(row.total, 9))
                for row in conn.execute(sa.select(voices)).all()}


def assert_rollup_is_rebuilt(store: Store) -> None:
    kept, kept_voices = rollup_rows(store), voice_rows(store)
    store.rebuild_rollup()
    assert kept_voices == voice_rows(store)
    rebuilt = rollup_rows(store)
    assert kept.keys() == rebuilt.keys()
    for key, figures in kept.items():  # counts exactly; sums added in another order to 1e-8
        assert figures == pytest.approx(rebuilt[key], abs=1e-8), key


def random_post(rng: random.Random, i: int) -> tuple[Post, str | None]:
    author = rng.choice(["ann", "bob", "cy", "dee", None])
    created = T0 + timedelta(minutes=rng.uniform(0, 60 * 72))
    return Post("file", f"p{i}", created, "Acme and Zed", author=author), author and f"hash-{author}"


def test_rollup_follows_every_kind_of_write(store):
    rng = random.Random(11)
    made: list[tuple[Post, str | None]] = []
    for step in range(12):
        batch = []
        for _ in range(rng.randint(5, 60)):
            if made and rng.random() < 0.25:  # a post seen before, maybe with a new brand
                post, author = rng.choice(made)
            else:
                post, author = random_post(rng, len(made))
                made.append((post, author))
            brands = rng.sample([("acme", "Acme"), ("zed", "Zed")], rng.randint(1, 2))
            score = None if rng.random() < 0.2 else (rng.choice([-0.8, -0.05, -0.04, 0.0, 0.3, 0.9]),
                                                     0.0, 1.0, 0.0)
            batch.append(ScoredPost(post, author, brands, score))
        if batch and rng.random() < 0.3:
            batch.append(batch[0])  # the same post twice in one batch
        store.save_posts(batch, SCORER)
        if step % 3 == 2:  # late scores for the posts saved without one
            with store.engine.connect() as conn:
                missing = conn.execute(
                    sa.select(posts.c.id).outerjoin(scores, sa.and_(scores.c.post == posts.c.id,
                                                                    scores.c.scorer == SCORER))
                    .where(scores.c.post.is_(None))).scalars().all()
            store.save_scores(SCORER, [(rowid, (rng.choice([-0.6, 0.2]), 0.0, 1.0, 0.0))
                                       for rowid in missing])
        if step % 4 == 3:  # deletions, as `dipwatch prune` makes them
            gone = rng.sample([post.post_id for post, _ in made], 10)
            store.delete_posts("file", gone)
            made = [(post, author) for post, author in made if post.post_id not in gone]
        assert_rollup_is_rebuilt(store)
    assert {key[2] for key in rollup_rows(store)} == set(ROLLUP_SIZES)
    assert rollup_rows(store), "the test must leave something to compare"


@pytest.mark.parametrize("bucket", ["15min", "1h", "1d"])
def test_series_from_rollup_equals_pandas_after_deletions(store, monkeypatch, bucket):
    monkeypatch.setattr("dipwatch.measures.scorer_id", lambda: SCORER)
    monkeypatch.setattr("dipwatch.measures.scorer_id", lambda: SCORER)
    rng = random.Random(5)
    items = []
    for i in range(400):
        post, author = random_post(rng, i)
        items.append(ScoredPost(post, author, [("acme", "Acme")], (rng.uniform(-1, 1), 0.0, 1.0, 0.0)))
    store.save_posts(items, SCORER)
    store.delete_posts("file", [f"p{i}" for i in range(0, 400, 7)])
    for voice in (True, False):
        params = MetricParams(bucket=bucket, one_author_one_voice=voice)
        start, end = T0, T0 + timedelta(hours=71)
        summed = load_series(store, "acme", params, start, end)
        bucketed = load_series_voiced(store, "acme", params, start, end, voice=voice)
        assert summed.index.equals(bucketed.index)
        assert summed["posts"].tolist() == bucketed["posts"].tolist()
        assert summed["negatives"].tolist() == bucketed["negatives"].tolist()
        for column in ("mean", "smoothed", "smoothed_lo", "smoothed_hi"):
            assert np.allclose(summed[column], bucketed[column], equal_nan=True, atol=1e-9), column


def test_one_author_posting_again_changes_their_vote_not_the_count(sqlite_store):
    """Ann's second post in the hour replaces her vote by the mean of both; the count stays 1."""
    first = Post("file", "a1", T0 + timedelta(minutes=5), "Acme")
    second = Post("file", "a2", T0 + timedelta(minutes=50), "Acme")
    sqlite_store.save_posts([ScoredPost(first, "ann", [("acme", "Acme")], (-0.8, 0, 1, 0))], SCORER)
    sqlite_store.save_posts([ScoredPost(second, "ann", [("acme", "Acme")], (0.4, 0, 1, 0))], SCORER)
    end = T0 + timedelta(hours=1)
    (voiced,) = sqlite_store.bucket_totals("acme", SCORER, T0, end, 3600, True, -0.05)
    (plain,) = sqlite_store.bucket_totals("acme", SCORER, T0, end, 3600, False, -0.05)
    assert voiced[1:] == (1, pytest.approx(-0.2), 1, pytest.approx(0.04))  # one vote, the mean, negative
    assert plain[1:] == (2, pytest.approx(-0.4), 1, pytest.approx(0.8))
    sqlite_store.delete_posts("file", ["a1"])
    (voiced,) = sqlite_store.bucket_totals("acme", SCORER, T0, end, 3600, True, -0.05)
    assert voiced[1:] == (1, pytest.approx(0.4), 0, pytest.approx(0.16))


def test_version_1_database_gains_a_filled_rollup(db_url):
    rng = random.Random(2)
    with Store(db_url) as store:
        store.save_posts([ScoredPost(*random_post(rng, i), [("acme", "Acme")], (0.5, 0, 1, 0))
                          for i in range(50)], SCORER)
        expected = rollup_rows(store)
        with store.engine.begin() as conn:  # make it look like a database from before the rollup
            conn.execute(sa.delete(rollup))
            conn.execute(sa.delete(voices))
            conn.execute(sa.delete(brand_sources))
            conn.execute(sa.update(meta).where(meta.c.key == "schema_version").values(value="1"))
    with Store(db_url) as store:
        assert store.schema_version() == 5
        assert rollup_rows(store) == expected
        assert sum(row[0] for key, row in expected.items() if key[2] == 3600) == 50
        assert store.brand_sources("acme") == ["file"]


def voices_key(store: Store) -> list[str]:
    with store.engine.connect() as conn:
        return sa.inspect(conn).get_pk_constraint("voices")["constrained_columns"]


def without_rowid(store: Store) -> set[str]:
    if store.dialect != "sqlite":
        return set()
    with store.engine.connect() as conn:
        return {name for name, sql in conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table'") if "WITHOUT ROWID" in sql}


def table_rows(store: Store) -> dict[str, list[tuple]]:
    """Rows of the tables the upgrade rebuilds or must leave alone, read through this store's engine
    (opening a Store would upgrade the database)."""
    with store.engine.connect() as conn:
        return {table.name: sorted((tuple(row) for row in conn.execute(sa.select(table))), key=repr)
                for table in (posts, mentions, scores, voices, rollup, brand_sources)}


def test_version_2_database_gets_its_voices_keyed_by_time_and_keeps_them(store):
    rng = random.Random(3)
    items = [ScoredPost(*random_post(rng, i), [("acme", "Acme")], (rng.uniform(-1, 1), 0, 1, 0))
             for i in range(120)]
    store.save_posts(items[:80], SCORER)
    expected_voices, expected_rollup = voice_rows(store), rollup_rows(store)
    old = sa.Table(  # the voices as schema version 2 made them: author before bucket
        "voices", sa.MetaData(),
        *(sa.Column(name, voices.c[name].type, primary_key=name in ("brand", "scorer", "author",
                                                                   "bucket"), autoincrement=False,
                    nullable=False)
          for name in ("brand", "scorer", "author", "bucket", "posts", "total")))
    with store.engine.begin() as conn:
        kept = conn.execute(sa.select(voices)).mappings().all()
        voices.drop(conn)
        old.create(conn)
        conn.execute(old.insert(), [dict(row) for row in kept])
        if store.dialect == "sqlite":  # version 2's mentions and scores had a rowid
            for name in ("mentions", "scores"):
                made = [sql for (sql,) in conn.exec_driver_sql(
                    "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL ORDER BY type DESC",
                    (name,))]  # the table first, then its indexes
                conn.exec_driver_sql(f"ALTER TABLE {name} RENAME TO old_{name}")
                for (index,) in conn.exec_driver_sql(
                        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                        "AND sql IS NOT NULL", (f"old_{name}",)).all():
                    conn.exec_driver_sql(f"DROP INDEX {index}")
                for sql in made:
                    conn.exec_driver_sql(sql.replace("WITHOUT ROWID", ""))
                conn.exec_driver_sql(f"INSERT INTO {name} SELECT * FROM old_{name}")  # noqa: S608
                conn.exec_driver_sql(f"DROP TABLE old_{name}")
        conn.execute(sa.update(meta).where(meta.c.key == "schema_version").values(value="2"))
    assert voices_key(store) == ["brand", "scorer", "author", "bucket"]
    assert without_rowid(store) == set()
    stored = table_rows(store)
    with Store(store.url) as upgraded:
        assert upgraded.schema_version() == 5
        assert voices_key(upgraded) == ["brand", "scorer", "bucket", "author"]
        if upgraded.dialect == "sqlite":
            assert without_rowid(upgraded) == {"voices", "mentions", "scores"}
        assert voice_rows(upgraded) == expected_voices
        assert rollup_rows(upgraded) == expected_rollup
        assert table_rows(upgraded) == stored
        upgraded.save_posts(items[40:], SCORER)  # new posts of the same authors, and repeats
        assert_rollup_is_rebuilt(upgraded)
        upgraded.delete_posts("file", [f"p{i}" for i in range(0, 120, 3)])
        assert_rollup_is_rebuilt(upgraded)


def test_brand_sources_follow_saves_and_deletions(store):
    """The Sources filter's list: every source a brand's posts came from, and no source whose posts
    for that brand were all deleted."""
    def save(source: str, post_id: str, brands: list[str]) -> None:
        store.save_posts([ScoredPost(Post(source, post_id, T0, "text"), None,
                                     [(b, b) for b in brands], (0.1, 0, 1, 0))], SCORER)

    save("reddit", "r1", ["acme"])
    save("appstore", "a1", ["acme", "zed"])
    save("appstore", "a2", ["zed"])
    assert store.brand_sources("acme") == ["appstore", "reddit"]
    assert store.brand_sources("zed") == ["appstore"]
    store.delete_posts("appstore", ["a1"])
    assert store.brand_sources("acme") == ["reddit"]
    assert store.brand_sources("zed") == ["appstore"]  # a2 is still there
    store.delete_posts("appstore", ["a2"])
    assert store.brand_sources("zed") == []


def test_version_4_database_gets_exact_sums_and_keeps_its_figures(store):
    """Schema version 5 keeps the rollup's and the voices' sums as whole numbers of 1/SUM_SCALE: a
    version 4 database (sums as floats) is rebuilt once, to the figures a new database has."""
    rng = random.Random(8)
    store.save_posts([ScoredPost(*random_post(rng, i), [("acme", "Acme")], (rng.uniform(-1, 1), 0, 1, 0))
                      for i in range(150)], SCORER)
    expected_voices, expected_rollup = voice_rows(store), rollup_rows(store)
    end = T0 + timedelta(days=4)
    expected_series = store.bucket_totals("acme", SCORER, T0, end, 3600, True, -0.05, shares=True)
    floats = {"total", "squares", "vote_total", "vote_squares"}
    with store.engine.begin() as conn:  # the rollup and voices as version 4 typed them: floats
        for table in (rollup, voices):
            kept = [dict(row) for row in conn.execute(sa.select(table)).mappings()]
            old = sa.Table(table.name, sa.MetaData(), *(
                sa.Column(c.name, sa.Float if c.name in floats or (table is voices and c.name == "total")
                          else c.type, primary_key=c.primary_key, autoincrement=False, nullable=False)
                for c in table.columns))
            table.drop(conn)
            old.create(conn)
            conn.execute(old.insert(), [{k: v / 1e10 if k in floats else v for k, v in row.items()}
                                        for row in kept])
        conn.execute(sa.update(meta).where(meta.c.key == "schema_version").values(value="4"))
    with Store(store.url) as upgraded:
        assert upgraded.schema_version() == 5
        with upgraded.engine.connect() as conn:
            types = {c["name"]: c["type"] for c in sa.inspect(conn).get_columns("rollup")}
        assert all(isinstance(types[name], sa.Integer) for name in floats), types
        assert voice_rows(upgraded) == expected_voices
        assert rollup_rows(upgraded) == expected_rollup
        series = upgraded.bucket_totals("acme", SCORER, T0, end, 3600, True, -0.05, shares=True)
        assert series == expected_series
        assert_rollup_is_rebuilt(upgraded)
