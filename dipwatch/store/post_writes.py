"""Storing posts with their mentions and scores (idempotent, keyed on ``(source, post_id)``),
brands, and deleting posts."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import sqlalchemy as sa

from dipwatch.core.records import Checkpoint
from dipwatch.core.times import to_epoch
from dipwatch.store.records import (
    ROW_AUTHOR_HASH,
    ROW_CREATED_AT,
    ROW_MENTIONS,
    ROW_POST_ID,
    ROW_SCORE,
    ROW_SOURCE,
    PostRow,
    SaveResult,
    ScoredPost,
    StoreError,
    full_score,
)
from dipwatch.store.tables import (
    ID_CHUNK,
    MENTION_COLUMNS,
    POST_COLUMNS,
    SCORE_COLUMNS,
    brand_sources,
    brands,
    mentions,
    posts,
    scores,
)


class PostWritesMixin:
    """The posts' write path of :class:`dipwatch.store.Store`."""

    # brands -----------------------------------------------------------------------------------
    def ensure_brand(self, key: str, name: str, terms: Sequence[str], origin: str,
                     competitors: Sequence[str] = ()) -> bool:
        """Record brand ``key`` unless it is known; whether this call recorded it (of two imports
        naming the same new brand at once, one)."""
        with self.engine.begin() as conn:
            return bool(self._insert_ignore(conn, brands, [{
                "key": key, "name": name, "terms": json.dumps(list(terms)), "origin": origin,
                "competitors": json.dumps(list(competitors)),
                "created_at": to_epoch(datetime.now(UTC)),
            }]))

    # posts ------------------------------------------------------------------------------------
    def save_posts(self, items: Sequence[ScoredPost], scorer: str,
                   checkpoint: Checkpoint | None = None) -> SaveResult:
        """Store a batch of posts, their mentions and scores, and a checkpoint, in one transaction.

        Keyed on ``(source, post_id)``: a post already stored is left as it is (its new mentions are
        added), so saving the same batch twice adds nothing. The checkpoint commits with the posts it
        covers, so a job killed at any point resumes without losing or duplicating anything.
        """
        return self.save_rows([item.row() for item in items], scorer, checkpoint)

    def save_rows(self, items: Sequence[PostRow | tuple], scorer: str,
                  checkpoint: Checkpoint | None = None) -> SaveResult:
        """:meth:`save_posts` for posts already made rows: :class:`PostRow`, or plain tuples of
        the same fields (an import's, which pickle several times faster)."""
        result = SaveResult()
        if not items and checkpoint is None:
            return result
        now = to_epoch(datetime.now(UTC))
        with self.engine.begin() as conn:
            self._lock_writes(conn)
            if checkpoint is not None:
                self._put_checkpoint(conn, checkpoint, now)
            by_source: dict[str, list[PostRow]] = {}
            for item in items:
                by_source.setdefault(item[ROW_SOURCE], []).append(item)
            for source, group in by_source.items():
                ids = self._row_ids(conn, source, [item[ROW_POST_ID] for item in group])
                known = set(ids.values())
                firsts = {}  # a post given twice in one batch is stored once, as first given
                for item in group:
                    if item[ROW_POST_ID] not in ids:
                        firsts.setdefault(item[ROW_POST_ID], item)
                self._insert_posts(conn, source, list(firsts.values()), ids, now)
                result.new += len(firsts)
                stored = self._stored_state(conn, sorted(known), scorer)
                mention_rows, score_rows = [], []
                added: dict[tuple[int, str], tuple[int, str | None]] = {}  # new (post, brand) pairs
                scored: dict[int, tuple[float, int]] = {}  # posts this batch gives their first score
                # by scorer: (compound, 1 if counted negative)
                no_state = ((), None)
                for item in group:
                    rowid = ids[item[ROW_POST_ID]]
                    brands_before, compound = stored.get(rowid, no_state) if known else no_state
                    score = item[ROW_SCORE]
                    if score is not None and compound is None and rowid not in scored:
                        score = full_score(score)
                        scored[rowid] = (score[0], score[7])
                        score_rows.append((rowid, scorer, *score))
                    created = item[ROW_CREATED_AT]
                    for brand, term in item[ROW_MENTIONS]:
                        if brand in brands_before or (rowid, brand) in added:
                            continue
                        added[(rowid, brand)] = (created, item[ROW_AUTHOR_HASH])
                        mention_rows.append((rowid, brand, term, created))
                result.new_mentions += self._bulk_insert_ignore(conn, mentions, mention_rows,
                                                                MENTION_COLUMNS)
                self._bulk_insert_ignore(conn, brand_sources, [
                    {"brand": brand, "source": source} for brand in sorted({b for _, b in added})])
                self._bulk_insert_ignore(conn, scores, score_rows, SCORE_COLUMNS)
                # The rollup: new posts from what was just written; stored posts from the database
                # (a new score counts for all their mentions, a new mention with their stored score).
                events = [(brand, scorer, created, scored[rowid][0], author, 1, scored[rowid][1])
                          for (rowid, brand), (created, author) in added.items()
                          if rowid not in known and rowid in scored]
                rescored = sorted(rowid for rowid in scored if rowid in known)
                events += self._scored_events(conn, rescored, scorer)
                gained = {pair for pair in added if pair[0] in known and pair[0] not in scored}
                events += self._scored_events(conn, sorted({rowid for rowid, _ in gained}), scorer,
                                              brands=gained)
                self._roll(conn, events)
        result.existing = len(items) - result.new
        return result

    def _insert_posts(self, conn, source: str, fresh: list[PostRow], ids: dict[str, int], now: int) -> None:
        """Insert the new posts ``fresh`` of ``source`` and add their row ids to ``ids``.

        SQLite: this transaction holds the database's write lock (:meth:`_lock_writes`), so the
        ids after the largest stored one are free: they are given here, which spares looking the
        posts up again after the insert. PostgreSQL (other writers may take ids from the sequence
        meanwhile): the database gives them, and the insert returns them (looked up after the
        insert when ``pg_copy`` is off).
        """
        if not fresh:
            return
        if self.dialect == "sqlite":
            top = conn.exec_driver_sql("SELECT max(id) FROM posts").scalar() or 0
            rows = [(rowid, *row[:10], now) for rowid, row in enumerate(fresh, start=top + 1)]
            inserted = self._bulk_insert_ignore(conn, posts, rows, ("id", *POST_COLUMNS, "collected_at"))
            if inserted != len(fresh):  # impossible under the write lock: never store a wrong id
                raise StoreError(f"storing posts: {len(fresh) - inserted} of {len(fresh)} new posts "
                                 "were written meanwhile by another process; nothing was stored")
            ids.update((row[2], row[0]) for row in rows)
        elif self.pg_copy:
            # The ids come back from the insert; ON CONFLICT DO NOTHING still guards against a
            # writer that does not take the lock, and the posts it stored are looked up.
            given = dict(self._copy_merge(conn, posts, [(*row[:10], now) for row in fresh],
                                          None, (*POST_COLUMNS, "collected_at"), ("post_id", "id")))
            ids.update(given)
            if len(given) < len(fresh):
                ids.update(self._row_ids(conn, source, [row[ROW_POST_ID] for row in fresh
                                                        if row[ROW_POST_ID] not in given]))
        else:
            # ON CONFLICT DO NOTHING still guards against a writer that does not take the lock.
            self._bulk_insert_ignore(conn, posts, [(*row[:10], now) for row in fresh],
                                     (*POST_COLUMNS, "collected_at"))
            ids.update(self._row_ids(conn, source, [row[ROW_POST_ID] for row in fresh]))

    def _stored_state(self, conn, rowids: list[int], scorer: str
                      ) -> dict[int, tuple[tuple[str, ...], float | None]]:
        """For stored posts: the brands they already mention and their compound by ``scorer``."""
        if not rowids:
            return {}
        ids = self._list_param(rowids)
        compounds = dict(iter(conn.execute(sa.select(scores.c.post, scores.c.compound).where(
            self._in_list(scores.c.post, sa.BigInteger), scores.c.scorer == sa.bindparam("scorer")),
            {**ids, "scorer": scorer})))
        brands_of: dict[int, list[str]] = {}
        for post, brand in conn.execute(sa.select(mentions.c.post, mentions.c.brand)
                                        .where(self._in_list(mentions.c.post, sa.BigInteger)), ids):
            brands_of.setdefault(post, []).append(brand)
        return {rowid: (tuple(brands_of.get(rowid, ())), compounds.get(rowid)) for rowid in rowids}

    def _row_ids(self, conn, source: str, post_ids: list[str]) -> dict[str, int]:
        """{post_id: row id} of the stored posts of ``source`` among ``post_ids``."""
        if not post_ids:
            return {}
        return dict(self._select(conn, "row_ids", self._row_ids_query,
                                 {"source": source, **self._list_param(post_ids)}))

    def _row_ids_query(self):
        if self.dialect != "postgresql":
            return sa.select(posts.c.post_id, posts.c.id).where(
                posts.c.source == sa.bindparam("source"), self._in_list(posts.c.post_id))
        # PostgreSQL: one probe of the (source, post_id) index per id, whatever the statistics.
        # ``post_id = ANY(:ids)`` was planned from the table's statistics, and on a database no
        # ANALYZE had seen yet, that meant the index for ``source`` only and every post of the
        # source filtered against the list (0.8 s per 2,000 ids at 400k posts, issue 20); with
        # statistics, a parallel seq scan (88 ms here). The LIMIT keeps the subquery from being
        # flattened into a join that could be hashed; the key is unique, so it drops nothing.
        return sa.text(
            "SELECT k.post_id, p.id FROM unnest(CAST(:ids AS text[])) AS k(post_id) "
            "CROSS JOIN LATERAL (SELECT id FROM posts WHERE source = :source "
            "AND post_id = k.post_id LIMIT 1) AS p")

    def save_scores(self, scorer: str, rows: Sequence[tuple[int, Sequence[float]]]):
        """Store scores of stored posts by ``scorer`` (a post that has one keeps it)."""
        with self.engine.begin() as conn:
            self._lock_writes(conn)
            if not rows:
                return
            stmt = self._insert(scores).on_conflict_do_nothing().returning(scores.c.post)
            added = conn.execute(stmt, [
                dict(zip(SCORE_COLUMNS, (rowid, scorer, *full_score(score)), strict=True))
                for rowid, score in rows
            ]).scalars().all()
            # Only the scores inserted count: a post that had one kept it.
            self._roll(conn, self._scored_events(conn, sorted(set(added)), scorer))

    # deletion compliance ----------------------------------------------------------------------
    def post_ids(self, source: str, created_before: datetime | None = None, batch: int = 1000
                 ) -> Iterator[list[str]]:
        """The stored post ids of ``source`` (created before ``created_before``), in batches, by row id."""
        last = 0
        while True:
            query = sa.select(posts.c.id, posts.c.post_id).where(posts.c.source == source, posts.c.id > last)
            if created_before is not None:
                query = query.where(posts.c.created_at < to_epoch(created_before))
            with self.engine.connect() as conn:
                rows = conn.execute(query.order_by(posts.c.id).limit(batch)).all()
            if not rows:
                return
            last = rows[-1][0]
            yield [post_id for _, post_id in rows]

    def delete_posts(self, source: str, post_ids: Sequence[str]) -> int:
        """Delete posts with their mentions and scores, in one transaction; return how many."""
        deleted = 0
        with self.engine.begin() as conn:
            self._lock_writes(conn)
            brands_before = conn.execute(sa.select(brand_sources.c.brand)
                                         .where(brand_sources.c.source == source)).scalars().all()
            for i in range(0, len(post_ids), ID_CHUNK):
                chunk = list(post_ids[i : i + ID_CHUNK])
                rowids = list(self._row_ids(conn, source, chunk).values())
                if not rowids:
                    continue
                self._roll(conn, self._scored_events(conn, rowids, sign=-1))
                # Explicit deletes rather than ON DELETE CASCADE: SQLite enforces it only with the
                # foreign_keys pragma, and a store opened by another tool may not set it.
                ids = self._list_param(rowids)
                for table in (mentions, scores):
                    conn.execute(sa.delete(table).where(self._in_list(table.c.post, sa.BigInteger)), ids)
                deleted += conn.execute(sa.delete(posts).where(self._in_list(posts.c.id, sa.BigInteger)),
                                        ids).rowcount
            for brand in brands_before:  # a brand left with no post from this source loses it
                still = sa.exists().where(mentions.c.brand == brand, mentions.c.post == posts.c.id,
                                          posts.c.source == source)
                if not conn.execute(sa.select(still)).scalar():
                    conn.execute(sa.delete(brand_sources).where(brand_sources.c.brand == brand,
                                                                brand_sources.c.source == source))
        return deleted
