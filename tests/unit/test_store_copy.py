"""PostgreSQL's bulk writes by COPY (Store._copy_merge): the same meaning as the INSERTs they replace.
Idempotent, ids right even for posts another writer stored meanwhile, and nothing left behind by a
transaction that fails half-way (a killed import)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from dipwatch.core.records import Post
from dipwatch.store import PostRow, ScoredPost, Store, posts

START = datetime(2026, 10, 1, tzinfo=UTC)
pytestmark = pytest.mark.parametrize("store", ["postgresql"], indirect=True)  # COPY is PostgreSQL's


def rows(first: int, count: int) -> list[PostRow]:
    return [ScoredPost(Post("reddit", f"t3_{n}", START + timedelta(seconds=n), "acme is down"), None,
                       [("acme", "acme")], (-0.5, 0.0, 0.5, 0.5)).row() for n in range(first, first + count)]


def stored_ids(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return dict(conn.execute(sa.select(posts.c.post_id, posts.c.id)).all())


def test_posts_stored_meanwhile_by_another_writer_get_their_ids_and_no_second_row(store):
    """A writer that does not take the write lock stored two of the posts between the lookup and the
    insert: they are not inserted again, and their ids are looked up."""
    batch = rows(0, 5)
    with store.engine.begin() as conn:
        conn.execute(sa.insert(posts), [
            {**dict(zip(("source", "post_id", "kind", "created_at", "text"), row[:5], strict=True)),
             "collected_at": 0} for row in batch[1:3]])
    ids: dict[str, int] = {}
    with store.engine.begin() as conn:
        store._lock_writes(conn)
        store._insert_posts(conn, "reddit", batch, ids, now=1)
    assert ids == stored_ids(store)
    assert sorted(ids) == [f"t3_{n}" for n in range(5)]


def test_a_transaction_that_fails_after_the_copy_leaves_nothing_and_the_next_write_works(store):
    store.ensure_brand("acme", "Acme", ["acme"], origin="import")

    def killed_after_the_copy() -> None:
        with store.engine.begin() as conn:
            store._lock_writes(conn)
            store._insert_posts(conn, "reddit", rows(0, 100), {}, now=1)
            raise RuntimeError("killed")  # as a kill between two statements of the transaction

    with pytest.raises(RuntimeError, match="killed"):
        killed_after_the_copy()
    assert stored_ids(store) == {}
    result = store.save_rows(rows(0, 100), "scorer-1")
    assert (result.new, result.existing) == (100, 0)
    again = store.save_rows(rows(50, 100), "scorer-1")
    assert (again.new, again.existing) == (50, 50)
    assert len(stored_ids(store)) == 150
    assert store.count_posts("acme") == 150
    (day,) = store.bucket_totals("acme", "scorer-1", START, START + timedelta(days=1), 86400, False, -0.05)
    assert day[1:] == (150, pytest.approx(-75.0), 150, pytest.approx(37.5))
