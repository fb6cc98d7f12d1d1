"""The store on real SQLite and PostgreSQL: schema, idempotent saves, mentions, outages, hashed authors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from dipwatch.core.records import Post
from dipwatch.jobs.ingest import save_batch
from dipwatch.store import SCHEMA_VERSION, ScoredPost, Store, StoreError

T0 = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)


def post(post_id: str, text: str = "Acme is down", author: str | None = None) -> Post:
    return Post(source="file", post_id=post_id, created_at=T0, text=text, author=author)


def scored(post_id: str, brand: str = "acme") -> ScoredPost:
    return ScoredPost(post=post(post_id), author_hash=None, mentions=[(brand, "Acme")],
                      score=(-0.5, 0.0, 0.6, 0.4))


def test_new_database_records_schema_version(store):
    assert store.schema_version() == SCHEMA_VERSION == 5


def test_a_new_brand_is_recorded_once_and_only_its_first_recording_says_so(store):
    # Two imports naming the same new brand at once both store posts; only the one whose recording
    # lands announces "New brand" (dipwatch.jobs.ingest.import_for_brand).
    assert store.ensure_brand("globex", "Globex", ["globex"], origin="import") is True
    assert store.ensure_brand("globex", "Globex Corp", ["globex"], origin="import") is False
    assert [(b["key"], b["name"]) for b in store.list_brands()] == [("globex", "Globex")]


def test_sqlite_runs_in_wal_mode(sqlite_store):
    with sqlite_store.engine.connect() as conn:
        assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"


def test_saving_the_same_batch_twice_adds_nothing(store, dump):
    batch = [scored(f"p{i}") for i in range(5)]
    first = store.save_posts(batch, "vader-test")
    before = dump(store.url)
    second = store.save_posts(batch, "vader-test")
    assert (first.new, first.existing, first.new_mentions) == (5, 0, 5)
    assert (second.new, second.existing, second.new_mentions) == (0, 5, 0)
    assert store.count_posts() == 5
    assert dump(store.url)["posts"] == before["posts"]
    assert dump(store.url)["mentions"] == before["mentions"]


def test_post_mentioned_by_two_brands_is_one_post_with_two_mentions(store, dump):
    store.save_posts([scored("p1", "acme")], "vader-test")
    result = store.save_posts([scored("p1", "globex")], "vader-test")
    assert (result.new, result.existing, result.new_mentions) == (0, 1, 1)
    assert store.count_posts() == 1
    assert store.count_posts("acme") == store.count_posts("globex") == 1
    assert len(dump(store.url)["mentions"]) == 2


def test_newer_schema_version_is_refused_naming_it(db_url):
    with Store(db_url) as first:
        first.set_meta("schema_version", "999")
    with pytest.raises(StoreError, match=r"schema version 999 is newer"):
        Store(db_url)


def test_reopening_keeps_the_data_and_the_salt(db_url):
    with Store(db_url) as first:
        first.save_posts([scored("p1")], "vader-test")
        salt = first.get_meta("author_salt")
    with Store(db_url) as again:
        assert again.count_posts() == 1
        assert again.get_meta("author_salt") == salt


def test_outages_round_trip_with_an_open_window(store):
    start, end = T0, datetime(2026, 3, 1, 21, 0, tzinfo=UTC)
    closed, ongoing = store.add_outages([
        {"brand": "acme", "start": start, "end": end, "label": "checkout down", "severity": "major"},
        {"brand": "acme", "start": datetime(2026, 3, 5, tzinfo=UTC), "end": None, "label": "app down"},
    ])
    listed = store.list_outages("acme")
    assert [o.id for o in listed] == [closed, ongoing]
    first, second = listed
    assert (first.start, first.end, first.label, first.severity, first.origin) == (
        start, end, "checkout down", "major", "manual")
    assert (second.end, second.severity) == (None, "unknown")
    assert store.get_outage(ongoing) == second
    assert store.list_outages("globex") == []
    assert store.remove_outage(ongoing) is True
    assert store.remove_outage(ongoing) is False
    assert store.get_outage(ongoing) is None
    assert [o.id for o in store.list_outages()] == [closed]


def test_authors_are_never_stored_in_clear(store, dump):
    batch = [(post("p1", "Acme is down", author="alice"), [("acme", "Acme")]),
             (post("p2", "Acme works", author="alice"), [("acme", "Acme")]),
             (post("p3", "Acme again", author="bob"), [("acme", "Acme")])]
    save_batch(store, batch, store.get_meta("author_salt"))
    everything = dump(store.url)
    assert everything["posts"]
    cells = [str(cell).lower() for rows in everything.values() for row in rows for cell in row]
    assert not [c for c in cells if "alice" in c or "bob" in c]
    with store.engine.connect() as conn:
        hashes = conn.execute(sa.text("SELECT author_hash FROM posts ORDER BY post_id")).scalars().all()
    # Same author, same hash (so authors can be counted); different author, different hash.
    assert hashes[0] == hashes[1] != hashes[2]
    assert all(h for h in hashes)


def test_save_batch_scores_new_posts(store):
    save_batch(store, [(post("p1", "I love it, great service"), [("acme", "Acme")])],
               store.get_meta("author_salt"))
    with store.engine.connect() as conn:
        (compound,) = conn.execute(sa.text("SELECT compound FROM scores")).scalars().all()
    assert compound > 0.5


def _open(url: str, barrier) -> str:
    barrier.wait()
    try:
        Store(url).close()
    except StoreError as exc:
        return str(exc)
    return "ok"


def test_processes_opening_a_new_database_together_all_succeed(tmp_path):
    import multiprocessing

    context = multiprocessing.get_context("fork")
    for round_ in range(8):
        url = f"sqlite:///{tmp_path}/race{round_}.db"
        barrier = context.Manager().Barrier(3)
        with context.Pool(3) as pool:
            results = pool.starmap(_open, [(url, barrier)] * 3)
        assert results == ["ok"] * 3
        assert Store(url).schema_version() == SCHEMA_VERSION
