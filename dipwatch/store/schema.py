"""Creating the tables, checking and upgrading the schema version, and the ``meta`` table."""

from __future__ import annotations

import logging
import secrets
import time

import sqlalchemy as sa

from dipwatch.store.records import StoreError
from dipwatch.store.tables import (
    LABEL_POSITIVE,
    ROLLUP_NEGATIVE,
    SCHEMA_ATTEMPTS,
    SCHEMA_LOCK_KEY,
    SCHEMA_VERSION,
    brand_sources,
    mentions,
    meta,
    metadata,
    posts,
    rollup,
    scores,
    voices,
)


class SchemaMixin:
    """The schema of :class:`dipwatch.store.Store`: created, checked and upgraded when it opens."""

    def _ensure_schema(self) -> None:
        """Create missing tables and record the schema version; safe when processes start together.

        Two processes opening a new database at once both see no tables and both CREATE: the loser
        gets "table ... already exists" (seen with two `dipwatch collect` runs started by cron at the
        same second). PostgreSQL serialises creators with a transaction-scoped advisory lock; on
        SQLite the loser simply looks again.
        """
        for attempt in range(SCHEMA_ATTEMPTS):
            try:
                with self.engine.begin() as conn:
                    if self.dialect == "postgresql":
                        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
                    self._create_schema(conn)
                return
            except sa.exc.DBAPIError as exc:
                racing = "already exists" in str(exc.orig) or "database is locked" in str(exc.orig)
                if racing and attempt < SCHEMA_ATTEMPTS - 1:
                    time.sleep(0.05 * (attempt + 1))
                    continue
                raise StoreError(f"cannot open database: {exc.orig}") from None

    def _check_schema(self, database: str) -> None:
        """What ``_ensure_schema`` does for a database it may not write: check, create nothing."""
        try:
            with self.engine.connect() as conn:
                version = conn.execute(
                    sa.select(meta.c.value).where(meta.c.key == "schema_version")).scalar()
        except sa.exc.DBAPIError as exc:
            raise StoreError(f"database {database}: read-only, and cannot be read: {exc.orig}") from None
        if version is None or int(version) != SCHEMA_VERSION:
            raise StoreError(
                f"database {database}: read-only, at schema version {version}; this dipwatch reads "
                f"version {SCHEMA_VERSION}: open it once where it can be written to upgrade it")

    def _create_schema(self, conn) -> None:
        metadata.create_all(conn)
        version = conn.execute(sa.select(meta.c.value).where(meta.c.key == "schema_version")).scalar()
        if version is None:
            self._insert_ignore(conn, meta, [
                {"key": "schema_version", "value": str(SCHEMA_VERSION)},
                {"key": "author_salt", "value": secrets.token_hex(16)},
            ])
            return
        version = int(version)
        if version > SCHEMA_VERSION:  # never write with older code into a newer schema
            from dipwatch.core.install import upgrade_command

            raise StoreError(
                f"database schema version {version} is newer than this dipwatch understands "
                f"({SCHEMA_VERSION}): a newer dipwatch on another host has upgraded it. Upgrade "
                f"dipwatch on this host, then run the command again: {upgrade_command()}"
            )
        if version == 1:  # version 2 added the rollup and brand_sources: fill them
            conn.execute(brand_sources.insert().from_select(
                ["brand", "source"], sa.select(mentions.c.brand, posts.c.source).distinct()
                .select_from(mentions.join(posts, posts.c.id == mentions.c.post))))
            # About a minute per million posts on a 2-core machine: say so once, on stderr.
            logging.getLogger(__name__).warning(
                "upgrading the database to schema version 2: building the series rollup (once)")
            self._upgrade_to_4(conn)  # the scores' probabilities, which the rebuild reads
            self._rebuild_rollup(conn)
            # create_all above made the voices and the rollup as version 5 keys and types them:
            # nothing to re-key or convert.
            version = self._set_version(conn, 5)
        if version == 2:
            logging.getLogger(__name__).warning(
                "upgrading the database to schema version 3: re-keying the rollup's voices and, "
                "on SQLite, rewriting mentions and scores without a rowid (once)")
            self._upgrade_to_3(conn)
            version = self._set_version(conn, 3)
        if version == 3:
            logging.getLogger(__name__).warning(
                "upgrading the database to schema version 4: adding the classifier's columns to "
                "scores and the rollup (once)")
            self._upgrade_to_4(conn)
            version = self._set_version(conn, 4)
        if version == 4:
            logging.getLogger(__name__).warning(
                "upgrading the database to schema version 5: rebuilding the series rollup with exact "
                "sums (once)")
            self._upgrade_to_5(conn)
            version = self._set_version(conn, 5)
        # Migrations from later versions go here, one step per version.

    def _set_version(self, conn, version: int) -> int:
        conn.execute(sa.update(meta).where(meta.c.key == "schema_version").values(value=str(version)))
        return version

    def _upgrade_to_3(self, conn) -> None:
        """Schema version 3: the voices keyed (brand, scorer, bucket, author), as ``voices`` says,
        instead of (brand, scorer, author, bucket); on SQLite, voices, mentions and scores without
        a rowid. The rows are kept as they are."""
        if self.dialect == "postgresql":
            conn.execute(sa.text("ALTER TABLE voices DROP CONSTRAINT voices_pkey"))
            conn.execute(sa.text("ALTER TABLE voices ADD PRIMARY KEY (brand, scorer, bucket, author)"))
            return
        # SQLite cannot change a table's key or give up its rowid: copy each into a new table.
        for table in (voices, mentions, scores):
            had = {column["name"] for column in sa.inspect(conn).get_columns(table.name)}
            names = [column.name for column in table.columns if column.name in had]
            conn.exec_driver_sql(f'ALTER TABLE "{table.name}" RENAME TO "{table.name}_v2"')
            for index in table.indexes:  # they went with the renamed table, under the same names
                conn.exec_driver_sql(f'DROP INDEX "{index.name}"')
            table.create(conn)
            old = sa.table(f"{table.name}_v2", *(sa.column(name) for name in names))
            conn.execute(table.insert().from_select(names, sa.select(*old.columns)))
            conn.exec_driver_sql(f'DROP TABLE "{table.name}_v2"')

    def _upgrade_to_4(self, conn) -> None:
        """Schema version 4: the classifier's probabilities and ``counted`` in ``scores``, the posts
        counted negative in ``rollup.counted``. Scores stored before were VADER's alone: their label
        becomes their probabilities (certain) and counted, and the rollup's per-post negatives its
        counted."""
        inspector = sa.inspect(conn)
        have = {column["name"] for column in inspector.get_columns("scores")}
        for name, kind in (("p_negative", "FLOAT"), ("p_neutral", "FLOAT"), ("p_positive", "FLOAT"),
                           ("counted", "SMALLINT")):
            if name not in have:
                conn.execute(sa.text(f"ALTER TABLE scores ADD COLUMN {name} {kind}"))
        negative = scores.c.compound <= ROLLUP_NEGATIVE
        positive = scores.c.compound >= LABEL_POSITIVE
        conn.execute(sa.update(scores).where(scores.c.p_negative.is_(None)).values(
            p_negative=sa.case((negative, 1.0), else_=0.0),
            p_neutral=sa.case((negative | positive, 0.0), else_=1.0),
            p_positive=sa.case((positive, 1.0), else_=0.0), counted=sa.case((negative, 1), else_=0)))
        if "counted" not in {column["name"] for column in inspector.get_columns("rollup")}:
            conn.execute(sa.text("ALTER TABLE rollup ADD COLUMN counted INTEGER NOT NULL DEFAULT 0"))
            conn.execute(sa.update(rollup).values(counted=rollup.c.negatives))

    def _upgrade_to_5(self, conn) -> None:
        """Schema version 5: the sums of the rollup and the voices as whole numbers of 1/SUM_SCALE
        (BIGINT) instead of floats. Both tables are derived from the posts, mentions and scores:
        they are made anew with their new types and rebuilt from them (SQLite cannot change a
        column's type in place; on PostgreSQL this is as fast as converting them)."""
        for table in (rollup, voices):
            table.drop(conn)
            table.create(conn)
        self._rebuild_rollup(conn)

    def schema_version(self) -> int:
        return int(self.get_meta("schema_version"))

    def get_meta(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(meta.c.value).where(meta.c.key == key)).scalar()

    def set_meta(self, key: str, value: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.delete(meta).where(meta.c.key == key))
            conn.execute(sa.insert(meta).values(key=key, value=value))
