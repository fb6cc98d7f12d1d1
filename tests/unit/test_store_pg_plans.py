"""PostgreSQL from an empty database: the write path's (source, post_id) lookup probes its index from
the first batch, before any ANALYZE has given the planner statistics (issue 20: planned as a scan of
every post of the source until autovacuum came by, 0.8 s per 2,000 ids at 400k posts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dipwatch.core.records import Post
from dipwatch.store import ScoredPost, Store

BATCH = 5000
START = datetime(2026, 10, 1, tzinfo=UTC)


def batch(first: int, size: int = BATCH) -> list[ScoredPost]:
    return [ScoredPost(Post(source="reddit", post_id=f"t3_{n}", created_at=START + timedelta(seconds=n),
                            text="acme is down again", author=None, url=None, engagement=0),
                       None, [("acme", "acme")], (-0.5, 0.0, 0.5, 0.5)) for n in range(first, first + size)]


def lookup_plan(store: Store, post_ids: list[str]) -> str:
    """EXPLAIN of the lookup exactly as the write path sends it."""
    with store.engine.connect() as conn:
        compiled = store._row_ids_query().compile(dialect=conn.dialect)
        cursor = conn.connection.driver_connection.cursor()
        cursor.execute("EXPLAIN " + str(compiled), {"source": "reddit", **store._list_param(post_ids)})
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize("store", ["postgresql"], indirect=True)  # SQLite has no statistics to miss
def test_the_post_lookup_uses_its_index_from_the_first_batch_without_statistics(store):
    pg_store = store  # tables just made on an empty database (tests/conftest.py drops them after)
    with pg_store.engine.begin() as conn:  # no ANALYZE may come by during the test
        conn.exec_driver_sql("ALTER TABLE posts SET (autovacuum_enabled = false)")
    pg_store.ensure_brand("acme", "Acme", ["acme"], origin="import")
    for n in range(6):
        # What the batch looks up: half stored by the batch before, half new.
        wanted = [f"t3_{i}" for i in range(n * BATCH - BATCH // 2, (n + 1) * BATCH - BATCH // 2)]
        plan = lookup_plan(pg_store, wanted)
        both = "Index Cond: (((source)::text = 'reddit'::text) AND ((post_id)::text = k.post_id))"
        assert both in plan, plan
        assert "Seq Scan on posts" not in plan, plan
        assert "Bitmap" not in plan, plan
        result = pg_store.save_posts(batch(n * BATCH), "scorer-1")
        assert (result.new, result.existing) == (BATCH, 0)
    with pg_store.engine.connect() as conn:
        reltuples, analyzed = conn.exec_driver_sql(
            "SELECT c.reltuples, coalesce(s.last_analyze, s.last_autoanalyze) FROM pg_class c "
            "JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.relname = 'posts'").one()
    assert reltuples < 0  # never analyzed: the planner had no statistics at any batch
    assert analyzed is None
    # And the lookup finds exactly the stored posts among those asked for.
    found = pg_store.existing_post_ids("reddit", [f"t3_{i}" for i in range(29_990, 30_010)])
    assert found == {f"t3_{i}" for i in range(29_990, 30_000)}
