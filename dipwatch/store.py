"""The store: the only module that speaks SQL (SQLAlchemy Core; SQLite by default, PostgreSQL by URL).

Times are stored as integer seconds since the epoch, UTC: unambiguous, portable between SQLite and
PostgreSQL, and cheap to index and bucket.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import operator
import os
import secrets
import time
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from dipwatch.epoch import from_epoch, to_epoch
from dipwatch.posts import Post
from dipwatch.store_lite import run_warnings

# 2: the series rollup (tables rollup and voices); 3: voices keyed by time before author, and on
# SQLite voices, mentions and scores without a rowid; 4: the classifier's probabilities and the flag
# ``counted`` in scores, the posts counted negative in the rollup (``counted``)
SCHEMA_VERSION = 4
SCHEMA_ATTEMPTS = 5
SCHEMA_LOCK_KEY = 0x64697077  # 'dipw': serialises schema creation on PostgreSQL
READ_MAP_BYTES = 256 * 2**20  # Store.map_for_reading: the dashboard's memory map of a SQLite file
# Posts deleted per step of delete_posts (their rollup events are held in memory meanwhile).
ID_CHUNK = 500
WRITE_LOCK_KEY = 0x64697078  # serialises writers of posts, mentions and scores on PostgreSQL
# The series rollup keeps, per brand, scorer and bucket of these sizes (the dashboard's 15 min, 1 h
# and 1 day), the sums a series needs, with and without one author one voice; a vote is negative
# at or below ROLLUP_NEGATIVE (VADER's convention, analysis.timeline.NEGATIVE).
ROLLUP_SIZES = (900, 3600, 86400)
ROLLUP_NEGATIVE = -0.05
LABEL_POSITIVE = 0.05  # and positive at or above this (analysis.sentiment.classify)
VOICE_SIZE = ROLLUP_SIZES[0]  # voices are kept per quarter hour; hours and days add them up
# An author's vote is their mean rounded to this many places (analysis.uncertainty.VOTE_DIGITS):
# sums in another order differ in the last bit, and a mean of exactly -0.05 must count as negative
# however its posts were added up.
VOTE_DIGITS = 10

metadata = sa.MetaData()

meta = sa.Table(
    "meta", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
brands = sa.Table(
    "brands", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("terms", sa.Text, nullable=False),  # JSON list
    sa.Column("competitors", sa.Text, nullable=False, server_default="[]"),  # JSON list of keys
    sa.Column("origin", sa.String(16), nullable=False),  # config | import | demo
    sa.Column("created_at", sa.BigInteger, nullable=False),
)
posts = sa.Table(
    "posts", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("post_id", sa.String(256), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("author_hash", sa.String(64)),
    sa.Column("url", sa.Text),
    sa.Column("parent_id", sa.String(256)),
    sa.Column("engagement", sa.BigInteger),
    sa.Column("rating", sa.SmallInteger),
    sa.Column("collected_at", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("source", "post_id", name="uq_posts_source_post_id"),
)
# mentions and scores have no rowid on SQLite (schema version 3): their primary key is the table,
# one B-tree fewer to write per post (storing an import of 200,000 posts took 9% less time).
mentions = sa.Table(
    "mentions", metadata,
    sa.Column("post", sa.ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("brand", sa.String(64), primary_key=True),
    sa.Column("term", sa.Text, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),  # copied from posts: per-brand range scans
    # Covering for the per-brand series: brand, time range, then the post to join its score.
    sa.Index("ix_mentions_brand_created_post", "brand", "created_at", "post"),
    sqlite_with_rowid=False,
)
scores = sa.Table(
    "scores", metadata,
    sa.Column("post", sa.ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("scorer", sa.String(128), primary_key=True),
    sa.Column("compound", sa.Float, nullable=False),
    sa.Column("pos", sa.Float, nullable=False),
    sa.Column("neu", sa.Float, nullable=False),
    sa.Column("neg", sa.Float, nullable=False),
    # The classifier's class probabilities (analysis.classifier); the scorer "vader" stores its label
    # as certainties (1, 0, 0). Nullable only because schema 4 added them to existing tables: every
    # score written since has them, and the upgrade filled the older ones from compound.
    sa.Column("p_negative", sa.Float),
    sa.Column("p_neutral", sa.Float),
    sa.Column("p_positive", sa.Float),
    # 1 when the post counts as negative in the share the quantification adjusts (its p_negative at
    # or above the model's count threshold; VADER's label for the scorer "vader").
    sa.Column("counted", sa.SmallInteger),
    sqlite_with_rowid=False,
)
outages = sa.Table(
    "outages", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("brand", sa.String(64), nullable=False, index=True),
    sa.Column("starts_at", sa.BigInteger, nullable=False),
    sa.Column("ends_at", sa.BigInteger),  # NULL: still ongoing
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("severity", sa.String(32), nullable=False),
    sa.Column("origin", sa.String(16), nullable=False),  # manual | import | statuspage | detected | demo
    sa.Column("external_id", sa.String(256)),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)
runs = sa.Table(
    "runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("command", sa.String(32), nullable=False),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("brand", sa.String(64)),
    sa.Column("started_at", sa.BigInteger, nullable=False),
    sa.Column("finished_at", sa.BigInteger),
    sa.Column("status", sa.String(16), nullable=False),  # ok | partial | failed
    sa.Column("counts", sa.Text, nullable=False),  # JSON
    sa.Column("message", sa.Text),
)
alerts = sa.Table(
    "alerts", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("brand", sa.String(64), nullable=False),
    sa.Column("rule", sa.String(32), nullable=False),
    sa.Column("key", sa.String(128), nullable=False),  # one episode per (brand, key) at a time
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("started_at", sa.BigInteger, nullable=False),
    sa.Column("last_seen_at", sa.BigInteger, nullable=False),
    sa.Column("resolved_at", sa.BigInteger),  # NULL while the episode lasts
    sa.Column("sent", sa.Text),  # JSON: delivery results of the alert, per channel
    sa.Column("cleared", sa.Text),  # JSON: delivery results of the "back to normal" message
    sa.Index("ix_alerts_brand_key", "brand", "key"),
)
# The series rollup, maintained in the same transaction as the posts, mentions and scores it sums:
# reading a brand's 90-day series from it takes milliseconds, where summing 200,000 posts through
# mentions -> scores -> posts took seconds (benchmarks/dashboard_callbacks.py).
rollup = sa.Table(
    "rollup", metadata,
    sa.Column("brand", sa.String(64), primary_key=True),
    sa.Column("scorer", sa.String(128), primary_key=True),
    sa.Column("size", sa.Integer, primary_key=True, autoincrement=False),  # seconds: ROLLUP_SIZES
    sa.Column("bucket", sa.BigInteger, primary_key=True, autoincrement=False),  # start, epoch seconds
    sa.Column("posts", sa.Integer, nullable=False),
    sa.Column("total", sa.Float, nullable=False),  # sum of compound
    sa.Column("negatives", sa.Integer, nullable=False),
    sa.Column("squares", sa.Float, nullable=False),  # sum of compound squared: the interval band
    sa.Column("votes", sa.Integer, nullable=False),  # one author one voice: authors + anonymous posts
    sa.Column("vote_total", sa.Float, nullable=False),  # sum of the votes (an author's mean compound)
    sa.Column("vote_negatives", sa.Integer, nullable=False),
    sa.Column("vote_squares", sa.Float, nullable=False),
    # Posts (not votes) counted negative (scores.counted): with ``posts`` the share the quantification
    # adjusts (analysis.quantify). Whole numbers, so the same posts give the same sums in any order.
    sa.Column("counted", sa.Integer, nullable=False, server_default="0"),
)
# The rollup's figures, in the order its upkeep keeps them: per post, then per vote.
ROLLUP_FIELDS = ("posts", "total", "negatives", "squares", "votes", "vote_total", "vote_negatives",
                 "vote_squares", "counted")
EMPTY_SUMS = (0, 0.0, 0, 0.0, 0, 0.0, 0, 0.0, 0)  # a rollup delta before anything is added
ROLLUP_COLUMNS = ("brand", "scorer", "size", "bucket", *ROLLUP_FIELDS)
# Per author and quarter hour, what their posts add up to: what the rollup's votes are made of, so a
# new post of an author already heard in the bucket changes their vote instead of adding one.
# Keyed by time before author (schema version 3), without a rowid: with the author first, an
# import's voices went to random places of a B-tree larger than the page cache, and storing a
# million posts took 18 s longer (benchmarks/import_1m.py); by time, they go to its end.
voices = sa.Table(
    "voices", metadata,
    sa.Column("brand", sa.String(64), primary_key=True),
    sa.Column("scorer", sa.String(128), primary_key=True),
    sa.Column("bucket", sa.BigInteger, primary_key=True, autoincrement=False),  # quarter-hour start
    sa.Column("author", sa.String(64), primary_key=True),
    sa.Column("posts", sa.Integer, nullable=False),
    sa.Column("total", sa.Float, nullable=False),
    sqlite_with_rowid=False,
)
# Which sources a brand's posts came from (the dashboard's Sources filter), kept with the mentions:
# listing them from the posts took over a second at 200,000 posts per brand.
brand_sources = sa.Table(
    "brand_sources", metadata,
    sa.Column("brand", sa.String(64), primary_key=True),
    sa.Column("source", sa.String(64), primary_key=True),
)
checkpoints = sa.Table(
    "checkpoints", metadata,
    sa.Column("source", sa.String(64), primary_key=True),
    sa.Column("brand", sa.String(64), primary_key=True),
    sa.Column("query", sa.String(512), primary_key=True),  # e.g. "search:unitedkingdom"
    sa.Column("cursor", sa.Text, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)


class StoreError(Exception):
    """The database cannot be used as it is (wrong schema version, unreachable)."""


@dataclass(frozen=True)
class ScoredPost:
    """A post ready to store: its author hash, the brands it mentions and, if new, its score."""

    post: Post
    author_hash: str | None
    mentions: Sequence[tuple[str, str]]  # (brand key, matched term)
    score: tuple[float, ...] | None = None  # compound, pos, neu, neg[, p_negative, p_neutral, p_positive]

    def row(self) -> PostRow:
        return PostRow.of(self.post, self.author_hash, self.mentions, self.score)


MENTION_COLUMNS = ("post", "brand", "term", "created_at")
VOICE_COLUMNS = ("brand", "scorer", "bucket", "author", "posts", "total")
SCORE_COLUMNS = ("post", "scorer", "compound", "pos", "neu", "neg", "p_negative", "p_neutral", "p_positive",
                 "counted")
# The probabilities of a score given as VADER's four numbers only: its label, certain.
_CERTAIN = {"negative": (1.0, 0.0, 0.0), "neutral": (0.0, 1.0, 0.0), "positive": (0.0, 0.0, 1.0)}


def full_score(score: Sequence[float]) -> tuple:
    """A score as stored: (compound, pos, neu, neg, p_negative, p_neutral, p_positive, counted 0/1);
    one given as VADER's four numbers gets its label as certain probabilities, counted if negative."""
    if len(score) == 8:
        return (*score[:7], int(score[7]))
    compound = score[0]
    label = ("negative" if compound <= ROLLUP_NEGATIVE else "positive" if compound >= LABEL_POSITIVE
             else "neutral")
    return (*score[:4], *_CERTAIN[label], int(label == "negative"))
# The columns of ``posts`` a PostRow gives, in its order.
POST_COLUMNS = ("source", "post_id", "kind", "created_at", "text", "author_hash", "url", "parent_id",
                "engagement", "rating")


class PostRow(NamedTuple):
    """A :class:`ScoredPost` as the store writes it: the post's columns (``created_at`` in epoch
    seconds), its mentions and its score. An import's workers make these straight from the file's
    rows: a tuple is made and unpickled several times faster than a Post and a ScoredPost."""

    source: str
    post_id: str
    kind: str
    created_at: int
    text: str
    author_hash: str | None
    url: str | None
    parent_id: str | None
    engagement: int | None
    rating: int | None
    mentions: tuple[tuple[str, str], ...]  # (brand key, matched term)
    score: tuple[float, ...] | None  # compound, pos, neu, neg[, p_negative, p_neutral, p_positive]

    @classmethod
    def of(cls, post: Post, author_hash: str | None, mentions: Sequence[tuple[str, str]],
           score: tuple[float, ...] | None = None) -> PostRow:
        return cls(post.source, post.post_id, post.kind, to_epoch(post.created_at), post.text,
                   author_hash, post.url, post.parent_id, post.engagement, post.rating,
                   tuple(mentions), score)


# PostRow's fields by position, for plain tuples of them (what an import spools).
ROW_SOURCE, ROW_POST_ID, ROW_CREATED_AT, ROW_TEXT, ROW_AUTHOR_HASH, ROW_MENTIONS, ROW_SCORE = (
    PostRow._fields.index(name)
    for name in ("source", "post_id", "created_at", "text", "author_hash", "mentions", "score"))


@dataclass(frozen=True)
class Outage:
    id: int
    brand: str
    start: datetime
    end: datetime | None
    label: str
    severity: str
    origin: str
    external_id: str | None = None


@dataclass(frozen=True)
class Checkpoint:
    """How far a collector got for one (source, brand, query); ``cursor`` is the source's own."""

    source: str
    brand: str
    query: str
    cursor: str


@dataclass
class SaveResult:
    new: int = 0
    existing: int = 0
    new_mentions: int = 0
    skipped: list[str] = field(default_factory=list)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the dashboard read while a collector writes; busy_timeout waits for a writer's lock
    # instead of failing with "database is locked"; NORMAL is crash-safe in WAL mode.
    # busy_timeout first: switching a new file to WAL needs a lock that another process opening it at
    # the same moment may hold, and without the timeout that fails at once with "database is locked".
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # 64 MiB of page cache instead of SQLite's 2 MiB: an import of a million posts inserts into
    # indexes of tens of megabytes, and with the default most inserts missed the cache.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def _sqlite_read_pragmas(dbapi_connection, _record) -> None:
    """``_sqlite_pragmas`` for a read-only file: nothing that writes (journal mode, synchronous)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def _read_only_sqlite(path: Path) -> str | None:
    """The URL that opens the existing SQLite file ``path`` read-only when this process cannot write it,
    or None when it can (or the file does not exist yet).

    So that ``status``, ``report``, ``export`` and the dashboard still read a database on a read-only
    file system, or a file they may only read. A WAL database needs its ``-shm`` index, which SQLite
    must create beside the file: on a read-only file system (nothing can write the file, so nothing
    can change it while it is read), or in a folder we cannot write holding no ``-shm``, the file is
    opened ``immutable`` (no locks, no index); otherwise ``mode=ro``, which still sees a writer's
    commits.
    """
    if not path.is_file():
        return None
    try:
        read_only_fs = bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return None
    folder_writable = os.access(path.parent, os.W_OK)
    # In a folder we cannot write, SQLite still writes a WAL database whose -wal and -shm exist.
    companions = all(os.access(f"{path}{suffix}", os.W_OK) for suffix in ("-wal", "-shm"))
    if not read_only_fs and os.access(path, os.W_OK) and (folder_writable or companions):
        return None
    index = Path(f"{path}-shm")
    frozen = read_only_fs or (not folder_writable and not index.exists())
    uri = Path(os.path.abspath(path)).as_uri() + ("?immutable=1" if frozen else "?mode=ro")
    return f"sqlite:///{uri}&uri=true"


class Store:
    """Read and write dipwatch's tables.

    :param url: a SQLAlchemy URL (``sqlite:///path``, ``postgresql+psycopg://...``).
    """

    def __init__(self, url: str):
        self.url = url
        self._compiled: dict = {}
        try:
            parsed = make_url(url)
        except sa.exc.ArgumentError:
            raise StoreError(f"database: {url[:40]!r} is not a path or SQLAlchemy URL "
                             "(e.g. data/dipwatch.db, postgresql+psycopg://host/db)") from None
        self.dialect = parsed.get_backend_name()
        self.read_only = False  # a SQLite file this process cannot write: see _read_only_sqlite
        if self.dialect == "sqlite" and parsed.database and parsed.database != ":memory:":
            read_only = _read_only_sqlite(Path(parsed.database))
            if read_only is not None:
                self.read_only = True
                url = read_only
            else:
                try:
                    Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StoreError(f"database {parsed.database}: cannot create its folder: "
                                     f"{exc.strerror}") from None
        try:
            self.engine = sa.create_engine(url)
        except (sa.exc.ArgumentError, ImportError) as exc:
            raise StoreError(f"database URL {parsed.render_as_string(hide_password=True)}: {exc}") from None
        if self.dialect == "sqlite":
            pragmas = _sqlite_read_pragmas if self.read_only else _sqlite_pragmas
            sa.event.listen(self.engine, "connect", pragmas)
        if self.read_only:
            self._check_schema(parsed.database)
        else:
            self._ensure_schema()

    def close(self) -> None:
        self.engine.dispose()

    def map_for_reading(self, size: int = READ_MAP_BYTES) -> None:
        """Have SQLite read the database through a memory map of up to ``size`` bytes, for a
        long-running reader (the dashboard): page reads become memory reads, which halved reading
        a window's texts at 1,000,000 posts. Not for writers such as an import: the mapped pages
        they read would count in their resident memory. (PostgreSQL: nothing to do.)"""
        if self.dialect != "sqlite":
            return
        pragma = f"PRAGMA mmap_size={int(size)}"
        sa.event.listen(self.engine, "connect", lambda dbapi, _record: dbapi.execute(pragma))
        self.engine.dispose()  # connections already open are replaced by mapped ones

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # schema ---------------------------------------------------------------------------------
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
            from dipwatch.install import upgrade_command

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
            # create_all above made the voices as version 3 keys them: nothing to re-key.
            version = self._set_version(conn, 4)
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

    def schema_version(self) -> int:
        return int(self.get_meta("schema_version"))

    def get_meta(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(meta.c.value).where(meta.c.key == key)).scalar()

    def set_meta(self, key: str, value: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.delete(meta).where(meta.c.key == key))
            conn.execute(sa.insert(meta).values(key=key, value=value))

    def _insert_ignore(self, conn, table: sa.Table, rows: list[dict]) -> int:
        """Insert rows, skipping any whose key already exists; return how many were inserted."""
        if not rows:
            return 0
        # RETURNING counts what was inserted on both databases (psycopg's executemany rowcount is -1).
        key = next(iter(table.primary_key.columns))
        stmt = self._insert(table).on_conflict_do_nothing().returning(key)
        return len(conn.execute(stmt, rows).all())

    def _insert(self, table: sa.Table):
        """The dialect's INSERT (which has ON CONFLICT). Imported here: the PostgreSQL dialect pulls
        in asyncio and asyncpg support, ~0.15 s that `dipwatch status` on SQLite need not pay."""
        if self.dialect == "postgresql":
            from sqlalchemy.dialects import postgresql as dialect
        else:
            from sqlalchemy.dialects import sqlite as dialect
        return dialect.insert(table)

    def _in_list(self, column, item_type=sa.String):
        """``column IN`` the list bound as ``ids`` (pass it through :meth:`_list_param`): one
        parameter however long the list, so the statement is compiled once and cached. An expanding
        ``IN (?, ?, ...)`` is rendered anew for every list: its 2,000 parameters cost more than the
        lookup itself in an import's profile."""
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import ARRAY

            return column == sa.any_(sa.bindparam("ids", type_=ARRAY(item_type)))
        # SQLite: the list as a JSON array, unpacked by json_each (built into SQLite since 3.38,
        # and in the amalgamation Python ships before that).
        values = sa.select(sa.literal_column("value")).select_from(
            sa.func.json_each(sa.bindparam("ids", type_=sa.String)))
        return column.in_(values.scalar_subquery())

    def _list_param(self, values: Sequence) -> dict:
        """The ``ids`` parameter of :meth:`_in_list` for ``values``."""
        return {"ids": list(values) if self.dialect == "postgresql" else json.dumps(list(values))}

    def _select(self, conn, name: str, build, params: dict) -> list[tuple]:
        """The rows of the SELECT ``build()`` as the driver's tuples, on ``conn``'s transaction; it
        is built and compiled once per store, as ``name``. For the lookups of the write path: making
        SQLAlchemy's Row objects, one at a time, cost an import more than the lookups themselves.
        The parameters go to the driver as they are (strings, numbers, :meth:`_list_param`)."""
        compiled = self._compiled.get(name)
        if compiled is None:
            compiled = self._compiled[name] = build().compile(dialect=conn.dialect)
        values = tuple(params[key] for key in compiled.positiontup) if compiled.positional else params
        cursor = conn.connection.driver_connection.cursor()
        try:
            cursor.execute(str(compiled), values)
            return cursor.fetchall()
        finally:
            cursor.close()

    def _bulk_insert_ignore(self, conn, table: sa.Table, rows: list,
                            keys: tuple[str, ...] | None = None) -> int:
        """Insert many rows (dicts, or tuples of the columns ``keys``) at the driver's
        ``executemany`` speed, skipping existing keys. Returns the rows inserted where the driver
        says (SQLite), else the rows given."""
        if not rows:
            return 0
        count = self._executemany(conn, table, rows, None, keys).rowcount
        return count if count is not None and count >= 0 else len(rows)

    def _bulk_upsert(self, conn, table: sa.Table, rows: list, add: bool,
                     keys: tuple[str, ...] | None = None) -> None:
        """Insert rows (dicts, or tuples of the columns ``keys``) or, where the primary key exists,
        set (``add`` False) or add to (``add`` True) its other columns, at the driver's
        ``executemany`` speed."""
        if rows:
            self._executemany(conn, table, rows, add, keys)

    def _executemany(self, conn, table: sa.Table, rows: list, add: bool | None,
                     keys: tuple[str, ...] | None = None):
        """INSERT ``rows`` (all with the keys of the first) ON CONFLICT DO NOTHING (``add`` None)
        or DO UPDATE (see :meth:`_bulk_upsert`), straight to the driver.

        SQLAlchemy's per-row parameter processing cost three times the database's own work on a
        100,000-post import (``construct_params`` in the profile), so each statement is compiled
        once and the rows go to the driver as they are.
        """
        keys = keys or tuple(rows[0])
        cache_key = (table.name, keys, add)
        compiled = self._compiled.get(cache_key)
        if compiled is None:
            stmt = self._insert(table)
            if add is None:
                stmt = stmt.on_conflict_do_nothing()
            else:
                key_names = [c.name for c in table.primary_key.columns]
                values = {name: (table.c[name] + stmt.excluded[name]) if add else stmt.excluded[name]
                          for name in keys if name not in key_names}
                stmt = stmt.on_conflict_do_update(index_elements=key_names, set_=values)
            compiled = stmt.compile(dialect=conn.dialect, column_keys=list(keys))
            self._compiled[cache_key] = compiled
        return conn.exec_driver_sql(str(compiled), _driver_params(compiled, rows, keys))

    def _lock_writes(self, conn) -> None:
        """Make the transaction on ``conn`` the only writer of posts, mentions and scores until it
        ends; it must be the transaction's first statement.

        The rollup is maintained from what a transaction reads (which posts are new, an author's
        earlier posts in a bucket), so two writers must not interleave. SQLite: BEGIN IMMEDIATE
        takes the write lock before the first read (a plain BEGIN would read an older snapshot and
        fail, or miss a post another writer just committed). PostgreSQL: a transaction-scoped
        advisory lock, which only dipwatch's own writers take.
        """
        if self.dialect == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif self.dialect == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK_KEY})

    # the series rollup --------------------------------------------------------------------------
    def _roll(self, conn, events: list[tuple[str, str, int, float, str | None, int, int]]) -> None:
        """Add (sign 1) or take away (sign -1) scored mentions in the rollup, on ``conn``'s
        transaction, which holds :meth:`_lock_writes`.

        :param events: (brand, scorer, created_at epoch, compound, author hash or None, sign, 1 if
            the post is counted negative else 0), one per mention and score that was stored or is
            about to be deleted.
        """
        if not events:
            return
        # Sum by quarter hour first (a batch's posts fall in a few), then the larger sizes from those.
        quarters: dict[tuple[str, str, int], list] = {}
        by_author: dict[tuple[str, str], dict[tuple[str, int], list]] = {}
        for brand, scorer, created, compound, author, sign, counted in events:
            quarter = created - created % VOICE_SIZE
            sums = quarters.get((brand, scorer, quarter))
            if sums is None:
                sums = quarters[(brand, scorer, quarter)] = list(EMPTY_SUMS)
            sums[8] += sign * counted
            negative = sign if compound <= ROLLUP_NEGATIVE else 0
            square = sign * compound * compound
            sums[0] += sign
            sums[1] += sign * compound
            sums[2] += negative
            sums[3] += square
            if author is None:  # nothing says two anonymous posts share an author: a vote each
                sums[4] += sign
                sums[5] += sign * compound
                sums[6] += negative
                sums[7] += square
            else:
                changes = by_author.get((brand, scorer))
                if changes is None:
                    changes = by_author[(brand, scorer)] = {}
                change = changes.get((author, quarter))
                if change is None:
                    change = changes[(author, quarter)] = [0, 0.0]
                change[0] += sign
                change[1] += sign * compound
        deltas: dict[tuple, list] = {}  # (brand, scorer, size, bucket) -> the six column deltas
        for (brand, scorer, quarter), sums in quarters.items():
            for size in ROLLUP_SIZES:
                key = (brand, scorer, size, quarter - quarter % size)
                delta = deltas.get(key)
                if delta is None:
                    deltas[key] = list(sums)
                else:
                    for i, value in enumerate(sums):
                        delta[i] += value
        for (brand, scorer), changes in by_author.items():
            self._roll_voices(conn, brand, scorer, changes, deltas)
        rows, emptied = [], []
        for key, delta in deltas.items():
            if not any(delta):
                continue
            rows.append((*key, *delta))
            if delta[0] < 0:
                emptied.append(dict(zip(("brand", "scorer", "size", "bucket"), key, strict=True)))
        self._bulk_upsert(conn, rollup, rows, add=True, keys=ROLLUP_COLUMNS)
        if emptied:
            conn.execute(sa.delete(rollup).where(
                rollup.c.brand == sa.bindparam("brand"), rollup.c.scorer == sa.bindparam("scorer"),
                rollup.c.size == sa.bindparam("size"), rollup.c.bucket == sa.bindparam("bucket"),
                rollup.c.posts <= 0), emptied)

    def _roll_voices(self, conn, brand: str, scorer: str, changes: dict[tuple[str, int], list],
                     deltas: dict[tuple, list]) -> None:
        """Update the voices of one brand and scorer by ``changes`` ((author, quarter hour) ->
        [posts, total]), and add to ``deltas`` how each changed author's vote changes per size."""
        authors = sorted({author for author, _ in changes})
        day = ROLLUP_SIZES[-1]
        low = min(quarter for _, quarter in changes) // day * day
        high = max(quarter for _, quarter in changes) // day * day + day
        stored: dict[tuple[str, int], tuple[int, float]] = {  # the authors' quarters in those days
            (author, bucket): (count, total) for author, bucket, count, total in self._select(
                conn, "voices", lambda: sa.select(voices.c.author, voices.c.bucket, voices.c.posts,
                                                  voices.c.total).where(
                    voices.c.brand == sa.bindparam("brand"), voices.c.scorer == sa.bindparam("scorer"),
                    voices.c.bucket >= sa.bindparam("low"), voices.c.bucket < sa.bindparam("high"),
                    self._in_list(voices.c.author)),
                {"brand": brand, "scorer": scorer, "low": low, "high": high,
                 **self._list_param(authors)})}
        stored_of: dict[str, list[tuple[int, int, float]]] = {}
        for (author, quarter), (count, total) in stored.items():
            stored_of.setdefault(author, []).append((quarter, count, total))
        changed_of: dict[str, list[tuple[int, int, float]]] = {}
        for (author, quarter), (count, total) in changes.items():
            changed_of.setdefault(author, []).append((quarter, count, total))
        for author, changed in changed_of.items():
            before = stored_of.get(author, ())
            if not before and len(changed) == 1:  # most often: the author's first post that day
                quarter, count, total = changed[0]
                if count > 0:
                    mean = round(total / count, VOTE_DIGITS)
                    negative = 1 if mean <= ROLLUP_NEGATIVE else 0
                    for size in ROLLUP_SIZES:  # the quarter's sums made every size's entry
                        delta = deltas[(brand, scorer, size, quarter - quarter % size)]
                        delta[4] += 1
                        delta[5] += mean
                        delta[6] += negative
                        delta[7] += mean * mean
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
                            mean = round(t / n, VOTE_DIGITS)
                            delta[4] += sign
                            delta[5] += sign * mean
                            delta[6] += sign if mean <= ROLLUP_NEGATIVE else 0
                            delta[7] += sign * mean * mean
        kept, gone = [], []
        nothing = (0, 0.0)
        for (author, quarter), (count, total) in changes.items():
            had = stored.get((author, quarter), nothing)
            if had[0] + count > 0:
                kept.append((brand, scorer, quarter, author, had[0] + count, had[1] + total))
            else:
                gone.append({"brand": brand, "scorer": scorer, "author": author, "bucket": quarter})
        self._bulk_upsert(conn, voices, kept, add=False, keys=VOICE_COLUMNS)
        if gone:
            conn.execute(sa.delete(voices).where(
                voices.c.brand == sa.bindparam("brand"), voices.c.scorer == sa.bindparam("scorer"),
                voices.c.author == sa.bindparam("author"), voices.c.bucket == sa.bindparam("bucket")),
                gone)

    def _scored_events(self, conn, rowids: Sequence[int], scorer: str | None = None,
                       brands: Collection[tuple[int, str]] | None = None, sign: int = 1) -> list[tuple]:
        """Rollup events for the stored mentions and scores of the posts ``rowids``: every scorer's
        (``scorer`` None) or one; every mention's or only the (post, brand) pairs in ``brands``."""
        if not rowids:
            return []
        query = (
            sa.select(mentions.c.post, mentions.c.brand, scores.c.scorer, mentions.c.created_at,
                      scores.c.compound, posts.c.author_hash, scores.c.counted)
            .join(scores, scores.c.post == mentions.c.post)
            .join(posts, posts.c.id == mentions.c.post)
            .where(self._in_list(mentions.c.post, sa.BigInteger))
        )
        if scorer is not None:
            query = query.where(scores.c.scorer == scorer)
        return [(brand, scorer_, created, compound, author, sign, counted)
                for post, brand, scorer_, created, compound, author, counted
                in conn.execute(query, self._list_param(rowids))
                if brands is None or (post, brand) in brands]

    def _rebuild_rollup(self, conn) -> None:
        """Fill the rollup from the stored mentions and scores, all in the database (the migration
        to schema version 2, and the reference the tests compare the maintained rollup with)."""
        conn.execute(sa.delete(voices))
        conn.execute(sa.delete(rollup))
        scored = (mentions.join(scores, scores.c.post == mentions.c.post)
                  .join(posts, posts.c.id == mentions.c.post))
        quarter = mentions.c.created_at - mentions.c.created_at % sa.literal(VOICE_SIZE, sa.BigInteger)
        conn.execute(voices.insert().from_select(
            ["brand", "scorer", "author", "bucket", "posts", "total"],
            sa.select(mentions.c.brand, scores.c.scorer, posts.c.author_hash, quarter, sa.func.count(),
                      sa.func.sum(scores.c.compound))
            .select_from(scored).where(posts.c.author_hash.is_not(None))
            .group_by(mentions.c.brand, scores.c.scorer, posts.c.author_hash, quarter)))
        for size in ROLLUP_SIZES:
            width = sa.literal(size, sa.BigInteger)
            bucket = mentions.c.created_at - mentions.c.created_at % width
            anonymous = posts.c.author_hash.is_(None)
            negative = scores.c.compound <= ROLLUP_NEGATIVE
            plain = (
                sa.select(mentions.c.brand.label("brand"), scores.c.scorer.label("scorer"),
                          bucket.label("bucket"), sa.func.count().label("posts"),
                          sa.func.sum(scores.c.compound).label("total"),
                          sa.func.sum(sa.case((negative, 1), else_=0)).label("negatives"),
                          sa.func.sum(scores.c.compound * scores.c.compound).label("squares"),
                          sa.func.sum(sa.case((anonymous, 1), else_=0)).label("votes"),
                          sa.func.sum(sa.case((anonymous, scores.c.compound), else_=0.0)).label("vote_total"),
                          sa.func.sum(sa.case((anonymous & negative, 1), else_=0)).label("vote_negatives"),
                          sa.func.sum(sa.case((anonymous, scores.c.compound * scores.c.compound),
                                              else_=0.0)).label("vote_squares"),
                          sa.func.sum(scores.c.counted).label("counted"))
                .select_from(scored).group_by(mentions.c.brand, scores.c.scorer, bucket)
            )
            voice_bucket = voices.c.bucket - voices.c.bucket % width
            means = (sa.select(voices.c.brand, voices.c.scorer, voice_bucket.label("bucket"),
                               sa.cast(sa.func.round(sa.cast(sa.func.sum(voices.c.total)
                                                             / sa.func.sum(voices.c.posts), sa.Numeric),
                                                     VOTE_DIGITS), sa.Float).label("mean"))
                     .group_by(voices.c.brand, voices.c.scorer, voices.c.author, voice_bucket)).subquery()
            named = (
                sa.select(means.c.brand, means.c.scorer, means.c.bucket, sa.literal(0).label("posts"),
                          sa.literal(0.0).label("total"), sa.literal(0).label("negatives"),
                          sa.literal(0.0).label("squares"),
                          sa.func.count().label("votes"), sa.func.sum(means.c.mean).label("vote_total"),
                          sa.func.sum(sa.case((means.c.mean <= ROLLUP_NEGATIVE, 1), else_=0))
                          .label("vote_negatives"),
                          sa.func.sum(means.c.mean * means.c.mean).label("vote_squares"),
                          sa.literal(0).label("counted"))
                .group_by(means.c.brand, means.c.scorer, means.c.bucket)
            )
            both = sa.union_all(plain, named).subquery()
            conn.execute(rollup.insert().from_select(
                ["brand", "scorer", "size", "bucket", *ROLLUP_FIELDS],
                sa.select(both.c.brand, both.c.scorer, sa.literal(size), both.c.bucket,
                          *(sa.func.sum(both.c[name]) for name in ROLLUP_FIELDS))
                .group_by(both.c.brand, both.c.scorer, both.c.bucket)))

    def rebuild_rollup(self) -> None:
        """Recompute the whole rollup from the stored posts (after editing the tables by hand)."""
        with self.engine.begin() as conn:
            self._lock_writes(conn)
            self._rebuild_rollup(conn)

    # brands -----------------------------------------------------------------------------------
    def ensure_brand(self, key: str, name: str, terms: Sequence[str], origin: str,
                     competitors: Sequence[str] = ()) -> None:
        with self.engine.begin() as conn:
            self._insert_ignore(conn, brands, [{
                "key": key, "name": name, "terms": json.dumps(list(terms)), "origin": origin,
                "competitors": json.dumps(list(competitors)),
                "created_at": to_epoch(datetime.now(UTC)),
            }])

    def list_brands(self) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(brands).order_by(brands.c.key)).mappings().all()
        return [{**row, "terms": json.loads(row["terms"]), "competitors": json.loads(row["competitors"])}
                for row in rows]

    # posts ------------------------------------------------------------------------------------
    def existing_post_ids(self, source: str, post_ids: Iterable[str]) -> set[str]:
        """The subset of ``post_ids`` already stored for ``source``."""
        with self.engine.connect() as conn:
            return set(self._row_ids(conn, source, list(post_ids)))

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
        meanwhile): the database gives them, and they are looked up.
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

    def unscored(self, scorer: str, limit: int = 5000) -> list[tuple[int, str]]:
        """(row id, text) of posts with no score by ``scorer``, oldest first."""
        missing = (
            sa.select(posts.c.id, posts.c.text)
            .outerjoin(scores, sa.and_(scores.c.post == posts.c.id, scores.c.scorer == scorer))
            .where(scores.c.post.is_(None))
            .order_by(posts.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [(rowid, text) for rowid, text in conn.execute(missing)]

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

    def count_posts(self, brand: str | None = None) -> int:
        with self.engine.connect() as conn:
            if brand is None:
                return conn.execute(sa.select(sa.func.count()).select_from(posts)).scalar()
            return conn.execute(
                sa.select(sa.func.count()).select_from(mentions).where(mentions.c.brand == brand)
            ).scalar()

    def _scored_mentions(self, brand: str, scorer: str, start: datetime | None, end: datetime | None):
        query = (
            sa.select(mentions.c.created_at, scores.c.compound)
            .join(scores, sa.and_(scores.c.post == mentions.c.post, scores.c.scorer == scorer))
            .where(mentions.c.brand == brand)
        )
        query = _in_time(query, start, end)
        return query

    def load_scores(self, brand: str, scorer: str, start: datetime | None = None,
                    end: datetime | None = None) -> list[tuple[int, float]]:
        """(created_at epoch seconds, compound) of every scored post mentioning ``brand``."""
        query = self._scored_mentions(brand, scorer, start, end).order_by(mentions.c.created_at)
        with self.engine.connect() as conn:
            return [(created, compound) for created, compound in conn.execute(query)]

    def _chosen_posts(self, columns, brand: str, scorer: str, start: datetime | None,
                      end: datetime | None, sources: Sequence[str] | None, label: str | None,
                      contains: str | None):
        """``columns`` of the scored mentions of ``brand`` in [start, end) that pass the filters."""
        chosen = (
            sa.select(*columns)
            .join(scores, sa.and_(scores.c.post == mentions.c.post, scores.c.scorer == scorer))
            .where(mentions.c.brand == brand)
        )
        chosen = _in_time(chosen, start, end)
        needle = (contains or "").strip()
        if sources or needle:
            chosen = chosen.join(posts, posts.c.id == mentions.c.post)
        if sources:
            chosen = chosen.where(posts.c.source.in_(list(sources)))
        if needle:
            escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            chosen = chosen.where(posts.c.text.ilike(f"%{escaped}%", escape="\\"))
        if label == "negative":
            chosen = chosen.where(scores.c.compound <= ROLLUP_NEGATIVE)
        elif label == "positive":
            chosen = chosen.where(scores.c.compound >= LABEL_POSITIVE)
        elif label == "neutral":
            chosen = chosen.where(scores.c.compound > ROLLUP_NEGATIVE, scores.c.compound < LABEL_POSITIVE)
        return chosen

    def count_window_posts(self, brand: str, scorer: str, start: datetime | None = None,
                           end: datetime | None = None, sources: Sequence[str] | None = None,
                           label: str | None = None, contains: str | None = None) -> dict[str, int]:
        """How many posts :meth:`load_posts` gives with these filters (``posts``), and how many of
        them have a star rating (``rated``) and any engagement (``engaged``): a table can leave out
        a column no post fills."""
        chosen = self._chosen_posts([mentions.c.post], brand, scorer, start, end, sources, label,
                                    contains).subquery("chosen")
        query = (sa.select(sa.func.count(), sa.func.count(posts.c.rating),
                           sa.func.count(sa.func.nullif(posts.c.engagement, 0)))
                 .select_from(chosen).join(posts, posts.c.id == chosen.c.post))
        with self.engine.connect() as conn:
            total, rated, engaged = conn.execute(query).one()
        return {"posts": total, "rated": rated, "engaged": engaged}

    def load_posts(self, brand: str, scorer: str, start: datetime | None = None,
                   end: datetime | None = None, order: str = "time", limit: int | None = None,
                   sources: Sequence[str] | None = None, label: str | None = None,
                   offset: int = 0, descending: bool = False, contains: str | None = None):
        """Posts mentioning ``brand`` with their scores, as dicts, ``order`` by ``time``,
        ``sentiment`` (most negative first), ``engagement``, ``rating`` or ``source``; reversed
        when ``descending``.

        :param sources: only posts from these sources (all when empty).
        :param label: only ``negative`` (compound <= -0.05), ``neutral`` or ``positive`` (>= 0.05) posts.
        :param contains: only posts whose text contains this, ignoring case (blank: all).
        :param offset: skip this many posts first (a page of a table: ``offset`` and ``limit``).

        Ties keep the time order, then the post's row order, so a limit always picks the same posts.
        """
        # Two steps: which posts, from the mentions' covering index and the scores alone (ordered
        # and limited there), then their rows. Joining the posts before the limit read every post
        # row of the window (thousands of scattered pages: most of a Voices tab's time on a cold
        # cache) to keep 200 of them.
        by_post = {"engagement": posts.c.engagement, "rating": posts.c.rating, "source": posts.c.source}
        columns = [mentions.c.post, mentions.c.created_at, scores.c.compound, scores.c.pos,
                   scores.c.neu, scores.c.neg, scores.c.scorer, scores.c.p_negative, scores.c.p_neutral,
                   scores.c.p_positive]
        chosen = self._chosen_posts(columns, brand, scorer, start, end, sources, label, contains)
        if order in by_post:
            if not sources and not (contains or "").strip():
                chosen = chosen.join(posts, posts.c.id == mentions.c.post)
            first = by_post[order]
        else:
            first = scores.c.compound if order == "sentiment" else None
        keys = [mentions.c.created_at, mentions.c.post]
        keys = [k.desc() if descending else k for k in keys]
        if first is not None:
            # Posts without a rating (all but reviews) last either way, on SQLite and PostgreSQL.
            keys.insert(0, (first.desc() if descending else first).nulls_last())
        # Numbered in that order, so the page of rows read below keeps it (a window function sees
        # the rows before ORDER BY and LIMIT, hence its own ORDER BY).
        chosen = chosen.add_columns(sa.func.row_number().over(order_by=keys).label("rank"))
        chosen = chosen.order_by(*keys).limit(limit).offset(offset or None).subquery("chosen")
        named = mentions.alias("named")  # the matched term: read for the chosen posts only
        query = (
            sa.select(
                posts.c.source, posts.c.post_id, posts.c.kind, posts.c.created_at, posts.c.text,
                posts.c.url, posts.c.author_hash, posts.c.engagement, posts.c.rating,
                named.c.brand, named.c.term, chosen.c.compound, chosen.c.pos, chosen.c.neu,
                chosen.c.neg, chosen.c.scorer, chosen.c.p_negative, chosen.c.p_neutral, chosen.c.p_positive,
            )
            .select_from(chosen)
            .join(posts, posts.c.id == chosen.c.post)
            .join(named, sa.and_(named.c.post == chosen.c.post, named.c.brand == brand))
        )
        # The page keeps the chosen order: the subquery's position of each post, numbered there.
        query = query.order_by(chosen.c.rank)
        with self.engine.connect() as conn:
            yield from conn.execute(query).mappings()

    def load_texts(self, brand: str, start: datetime, end: datetime, limit: int,
                   sources: Sequence[str] | None = None) -> list[str]:
        """The texts of up to ``limit`` posts mentioning ``brand`` in [start, end), the latest first;
        from ``sources`` only (all when empty)."""
        query = _in_time(sa.select(posts.c.text).join(mentions, mentions.c.post == posts.c.id)
                         .where(mentions.c.brand == brand), start, end)
        if sources:
            query = query.where(posts.c.source.in_(list(sources)))
        query = query.order_by(mentions.c.created_at.desc()).limit(limit)
        with self.engine.connect() as conn:
            return conn.execute(query).scalars().all()  # fetched at once, not row by row

    def time_range(self, brand: str) -> tuple[datetime, datetime] | None:
        """The times of the first and the last post mentioning ``brand``."""
        # Two queries: SQLite answers a lone min() or max() from the index's ends, but scans every
        # entry of the brand (130 ms at 200,000 posts) for both in one query.
        with self.engine.connect() as conn:
            low, high = (conn.execute(sa.select(func(mentions.c.created_at)).where(mentions.c.brand == brand)
                                      ).scalar() for func in (sa.func.min, sa.func.max))
        return None if low is None else (from_epoch(low), from_epoch(high))

    def brand_stamp(self, brand: str, scorer: str) -> tuple[int, int | None]:
        """(scored posts, latest post time) of ``brand``: changes whenever a scored post is added or
        removed, read from the rollup's days and the index in about a millisecond."""
        with self.engine.connect() as conn:
            count = conn.execute(sa.select(sa.func.coalesce(sa.func.sum(rollup.c.posts), 0)).where(
                rollup.c.brand == brand, rollup.c.scorer == scorer,
                rollup.c.size == ROLLUP_SIZES[-1])).scalar()
            latest = conn.execute(sa.select(sa.func.max(mentions.c.created_at))
                                  .where(mentions.c.brand == brand)).scalar()
        return int(count), latest

    # outages ----------------------------------------------------------------------------------
    def add_outages(self, rows: Sequence[dict]) -> list[int]:
        """Insert outage windows (keys: brand, start, end, label, severity, origin) in one transaction."""
        now = to_epoch(datetime.now(UTC))
        ids = []
        with self.engine.begin() as conn:
            for row in rows:
                ids.append(conn.execute(sa.insert(outages).values(
                    brand=row["brand"], starts_at=to_epoch(row["start"]),
                    ends_at=None if row.get("end") is None else to_epoch(row["end"]),
                    label=row["label"], severity=row.get("severity") or "unknown",
                    origin=row.get("origin", "manual"), external_id=row.get("external_id"),
                    created_at=now,
                )).inserted_primary_key[0])
        return ids

    def list_outages(self, brand: str | None = None) -> list[Outage]:
        query = sa.select(outages).order_by(outages.c.brand, outages.c.starts_at, outages.c.id)
        if brand is not None:
            query = query.where(outages.c.brand == brand)
        with self.engine.connect() as conn:
            return [_outage(row) for row in conn.execute(query).mappings()]

    def get_outage(self, outage_id: int) -> Outage | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(outages).where(outages.c.id == outage_id)).mappings().first()
        return None if row is None else _outage(row)

    def update_outage(self, outage_id: int, window) -> bool:
        """Replace the start, end, label and severity of outage ``outage_id`` with those of ``window``
        (an :class:`analysis.windows.Window` already validated); keep its id and origin."""
        values = {"starts_at": to_epoch(window.start),
                  "ends_at": None if window.end is None else to_epoch(window.end),
                  "label": window.label, "severity": window.severity}
        with self.engine.begin() as conn:
            return conn.execute(sa.update(outages).where(outages.c.id == outage_id).values(**values)
                                ).rowcount > 0

    def remove_outage(self, outage_id: int) -> bool:
        with self.engine.begin() as conn:
            return conn.execute(sa.delete(outages).where(outages.c.id == outage_id)).rowcount > 0

    # checkpoints ------------------------------------------------------------------------------
    def _put_checkpoint(self, conn, checkpoint: Checkpoint, now: int) -> None:
        key = (checkpoints.c.source == checkpoint.source) & (checkpoints.c.brand == checkpoint.brand) & (
            checkpoints.c.query == checkpoint.query)
        conn.execute(sa.delete(checkpoints).where(key))
        conn.execute(sa.insert(checkpoints).values(
            source=checkpoint.source, brand=checkpoint.brand, query=checkpoint.query,
            cursor=checkpoint.cursor, updated_at=now,
        ))

    def get_checkpoints(self, source: str, brand: str) -> dict[str, str]:
        """The cursors of ``(source, brand)``, by query."""
        query = sa.select(checkpoints.c.query, checkpoints.c.cursor).where(
            checkpoints.c.source == source, checkpoints.c.brand == brand)
        with self.engine.connect() as conn:
            return {str(q): str(c) for q, c in conn.execute(query)}

    # locks ------------------------------------------------------------------------------------
    @contextmanager
    def exclusive(self, name: str, wait: bool = False) -> Iterator[bool]:
        """Hold the lock ``name`` for this database while the block runs; yield whether we got it.

        The lock dies with its process (an flock beside a SQLite file, an advisory lock on a
        PostgreSQL session), so a run that was killed never leaves a stale lock behind.
        """
        holder = {"pid": os.getpid(), "since": int(time.time())}  # for `dipwatch status`: lock_holder
        if self.dialect == "postgresql":
            key = _lock_key(name)
            with self.engine.connect() as conn:
                if wait:
                    conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": key})
                    got = True
                else:
                    got = bool(conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
                if got:
                    conn.execute(sa.text("SELECT set_config('application_name', :v, false)"),
                                 {"v": "dipwatch " + json.dumps(holder)})
                conn.commit()
                try:
                    yield got
                finally:
                    if got:
                        conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                        conn.execute(sa.text("SELECT set_config('application_name', '', false)"))
                        conn.commit()
            return
        database = make_url(self.url).database
        if not database or database == ":memory:":
            yield True
            return
        with open(f"{database}.{name}.lock", "a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            fh.truncate(0)
            fh.write(json.dumps(holder))  # "a+": at the end, which is now the start
            fh.flush()
            try:
                yield True
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def lock_holder(self, name: str) -> dict | None:
        """The process holding the lock ``name`` (see :meth:`exclusive`): ``{"pid", "since"}`` (since
        as epoch seconds; pid as seen on the host that holds it), or None when nobody holds it."""
        if self.dialect == "postgresql":
            key = _lock_key(name) & 0xFFFFFFFFFFFFFFFF  # pg_locks shows the key as two unsigned halves
            with self.engine.connect() as conn:
                found = conn.execute(sa.text(
                    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
                    "AND l.classid::bigint = :hi AND l.objid::bigint = :lo"),
                    {"hi": key >> 32, "lo": key & 0xFFFFFFFF}).scalar()
            try:
                return json.loads(found.removeprefix("dipwatch ")) if found else None
            except ValueError:
                return {"pid": None, "since": None}  # held by a dipwatch from before this record
        database = make_url(self.url).database
        if not database or database == ":memory:":
            return None
        from dipwatch.store_lite import flock_holder

        return flock_holder(Path(f"{database}.{name}.lock"))

    # runs -------------------------------------------------------------------------------------
    def record_run(self, command: str, source: str, brand: str | None, started: datetime,
                   status: str, counts: dict, message: str | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.insert(runs).values(
                command=command, source=source, brand=brand, started_at=to_epoch(started),
                finished_at=to_epoch(datetime.now(UTC)), status=status,
                counts=json.dumps(counts, sort_keys=True), message=message,
            ))

    def collect_status(self, now: datetime) -> list[dict]:
        """Per (source, brand) collected: last run, last successful run, last error, posts in 24 h, and
        the warnings of the last run (``store_lite.collect_status`` answers the same)."""
        since = to_epoch(now) - 24 * 3600
        with self.engine.connect() as conn:
            pairs = conn.execute(
                sa.select(runs.c.source, runs.c.brand).where(runs.c.command == "collect").distinct()
                .order_by(runs.c.brand, runs.c.source)
            ).all()
            status = []
            for source, brand in pairs:
                mine = (runs.c.command == "collect") & (runs.c.source == source) & (runs.c.brand == brand)
                last = conn.execute(sa.select(runs).where(mine).order_by(runs.c.id.desc()).limit(1)
                                    ).mappings().first()
                last_ok = conn.execute(sa.select(sa.func.max(runs.c.finished_at))
                                       .where(mine, runs.c.status == "ok")).scalar()
                last_error = conn.execute(
                    sa.select(runs.c.message, runs.c.finished_at)
                    .where(mine, runs.c.status != "ok").order_by(runs.c.id.desc()).limit(1)
                ).first()
                joined = mentions.join(posts, posts.c.id == mentions.c.post)
                recent = conn.execute(
                    sa.select(sa.func.count()).select_from(joined)
                    .where(mentions.c.brand == brand, posts.c.source == source,
                           mentions.c.created_at >= since)
                ).scalar()
                status.append({
                    "source": source, "brand": brand, "last_status": last["status"],
                    "last_run": from_epoch(last["finished_at"]), "last_ok": from_epoch(last_ok),
                    "last_error": last_error[0] if last_error else None,
                    "last_error_at": from_epoch(last_error[1]) if last_error else None,
                    "posts_24h": recent, "warnings": run_warnings(last["counts"]),
                })
        return status

    def last_runs(self) -> list[dict]:
        """The latest run of each (source, brand), newest first."""
        latest = sa.select(sa.func.max(runs.c.id)).group_by(runs.c.source, runs.c.brand)
        query = sa.select(runs).where(runs.c.id.in_(latest)).order_by(runs.c.id.desc())
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

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

    def brand_sources(self, brand: str) -> list[str]:
        """The sources that posts mentioning ``brand`` came from, sorted."""
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(brand_sources.c.source).where(brand_sources.c.brand == brand)
                                     .order_by(brand_sources.c.source)).scalars())

    # alerts -----------------------------------------------------------------------------------
    @staticmethod
    def _deliveries(row: dict) -> dict:
        """An alert row with its delivery results decoded: None while unknown (not sent yet, or the
        run died sending it), ``{}`` when no channel was set, else the results per channel."""
        for key in ("sent", "cleared"):
            row[key] = json.loads(row[key]) if row[key] else None
        return row

    def open_alerts(self, brand: str) -> list[dict]:
        """Episodes of ``brand`` still going on (times as epoch seconds, deliveries decoded)."""
        query = sa.select(alerts).where(alerts.c.brand == brand, alerts.c.resolved_at.is_(None))
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(alerts.c.id)).mappings()
            return [self._deliveries(dict(row)) for row in rows]

    def last_resolved_alert(self, brand: str, key: str) -> dict | None:
        query = (sa.select(alerts).where(alerts.c.brand == brand, alerts.c.key == key,
                                         alerts.c.resolved_at.is_not(None))
                 .order_by(alerts.c.resolved_at.desc()).limit(1))
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else self._deliveries(dict(row))

    def start_alert(self, brand: str, rule: str, key: str, summary: str, now: datetime) -> int:
        with self.engine.begin() as conn:
            return conn.execute(sa.insert(alerts).values(
                brand=brand, rule=rule, key=key, summary=summary, started_at=to_epoch(now),
                last_seen_at=to_epoch(now),
            )).inserted_primary_key[0]

    def update_alert(self, alert_id: int, **values) -> None:
        """Set columns of one alert; datetimes become epoch seconds, dicts JSON."""
        converted = {
            k: to_epoch(v) if isinstance(v, datetime) else json.dumps(v) if isinstance(v, dict) else v
            for k, v in values.items()
        }
        with self.engine.begin() as conn:
            conn.execute(sa.update(alerts).where(alerts.c.id == alert_id).values(**converted))

    def list_alerts(self, brand: str | None = None, limit: int = 100) -> list[dict]:
        query = sa.select(alerts).order_by(alerts.c.id.desc()).limit(limit)
        if brand is not None:
            query = query.where(alerts.c.brand == brand)
        with self.engine.connect() as conn:
            rows = [dict(row) for row in conn.execute(query).mappings()]
        for row in rows:
            for key in ("started_at", "last_seen_at", "resolved_at"):
                row[key] = from_epoch(row[key])
            self._deliveries(row)
        return rows

    # outage windows from status pages and detection ------------------------------------------
    # Phases (a status page's investigating/identified/monitoring/resolved times) live in ``meta``
    # under ``outage_phases:<id>`` as JSON, so no table changes; a schema version 2 should move
    # them to their own table.
    def upsert_outages(self, rows: Sequence[dict], keep_origins: Collection[str] = ("confirmed",)
                       ) -> list[tuple[int, str]]:
        """Insert or update windows keyed on ``(brand, external_id)``, all in one transaction.

        Re-importing the same incident updates its window instead of adding a second one. A row
        whose stored window has an origin in ``keep_origins`` (a detected window a person has
        confirmed) is left as it is.

        :param rows: keys brand, start, end, label, severity, origin, external_id (required) and
            optionally phases: a list of ``(status, aware datetime)``.
        :returns: ``(id, "added" | "updated" | "kept")`` for each row, in order.
        """
        now = to_epoch(datetime.now(UTC))
        results = []
        with self.engine.begin() as conn:
            for row in rows:
                if not row.get("external_id"):
                    raise ValueError("external_id: missing; needed to update a window on re-import")
                values = {
                    "starts_at": to_epoch(row["start"]),
                    "ends_at": None if row.get("end") is None else to_epoch(row["end"]),
                    "label": row["label"], "severity": row.get("severity") or "unknown",
                    "origin": row["origin"],
                }
                found = conn.execute(
                    sa.select(outages.c.id, outages.c.origin).where(
                        outages.c.brand == row["brand"], outages.c.external_id == row["external_id"])
                    .order_by(outages.c.id).limit(1)
                ).first()
                if found is None:
                    outage_id = conn.execute(sa.insert(outages).values(
                        brand=row["brand"], external_id=row["external_id"], created_at=now, **values,
                    )).inserted_primary_key[0]
                    action = "added"
                elif found.origin in keep_origins:
                    results.append((found.id, "kept"))
                    continue
                else:
                    outage_id = found.id
                    conn.execute(sa.update(outages).where(outages.c.id == outage_id).values(**values))
                    action = "updated"
                if "phases" in row:
                    key = f"outage_phases:{outage_id}"
                    conn.execute(sa.delete(meta).where(meta.c.key == key))
                    conn.execute(sa.insert(meta).values(key=key, value=json.dumps(
                        [[status, to_epoch(at)] for status, at in row["phases"]])))
                results.append((outage_id, action))
        return results

    def outage_phases(self, outage_id: int) -> list[tuple[str, datetime]]:
        """``(status, time)`` of each phase of a status-page window, oldest first; [] if none."""
        stored = self.get_meta(f"outage_phases:{outage_id}")
        return [(status, from_epoch(at)) for status, at in json.loads(stored)] if stored else []

    def confirm_outage(self, outage_id: int) -> Outage | None:
        """Turn a detected candidate (origin ``detected``) into an outage (origin ``confirmed``).

        :returns: the window as it is now, or None when there is no window ``outage_id``; a window
            of another origin is returned unchanged.
        """
        with self.engine.begin() as conn:
            conn.execute(sa.update(outages).where(
                outages.c.id == outage_id, outages.c.origin == "detected").values(origin="confirmed"))
            row = conn.execute(sa.select(outages).where(outages.c.id == outage_id)).mappings().first()
        return None if row is None else _outage(row)

    def load_scored_authors(self, brand: str, scorer: str, start: datetime | None = None,
                            end: datetime | None = None, sources: Sequence[str] | None = None
                            ) -> list[tuple[int, float, str | None, int]]:
        """(created_at epoch seconds, compound, author hash or None, 1 if counted negative else 0)
        of every scored post mentioning ``brand`` in [start, end), from ``sources`` only (all when
        empty), by time."""
        query = (
            sa.select(mentions.c.created_at, scores.c.compound, posts.c.author_hash, scores.c.counted)
            .join(scores, sa.and_(scores.c.post == mentions.c.post, scores.c.scorer == scorer))
            .join(posts, posts.c.id == mentions.c.post)
            .where(mentions.c.brand == brand)
        )
        query = _in_time(query, start, end)
        if sources:
            query = query.where(posts.c.source.in_(list(sources)))
        with self.engine.connect() as conn:
            return [tuple(row) for row in conn.execute(query.order_by(mentions.c.created_at, posts.c.id))]

    def bucket_totals(self, brand: str, scorer: str, start: datetime, end: datetime, bucket_seconds: int,
                      one_voice: bool, negative: float, shares: bool = False) -> list[tuple]:
        """(bucket start epoch, votes, sum of compound, negative votes, sum of squared compound) per
        non-empty bucket of ``brand`` in [start, end), read from the rollup; a vote is negative at or
        below ``negative``. With ``shares``, two more: posts, and posts counted negative (always per
        post, whatever ``one_voice`` says).

        With ``one_voice`` an author's posts in a bucket are one vote, their mean compound (posts with
        no author hash count one each), as :func:`analysis.uncertainty.one_voice` does.

        :raises ValueError: unless the rollup has the figures: a bucket size of ``ROLLUP_SIZES``, the
            threshold ``ROLLUP_NEGATIVE``, and ``start`` and ``end`` on bucket boundaries.
        """
        first, stop = to_epoch(start), to_epoch(end)
        if (bucket_seconds not in ROLLUP_SIZES or negative != ROLLUP_NEGATIVE
                or first % bucket_seconds or stop % bucket_seconds):
            raise ValueError(f"the rollup has buckets of {ROLLUP_SIZES} seconds, whole, with negative at "
                             f"{ROLLUP_NEGATIVE}; asked for {bucket_seconds} s from {start} to {end} "
                             f"at {negative}")
        columns = ((rollup.c.votes, rollup.c.vote_total, rollup.c.vote_negatives, rollup.c.vote_squares)
                   if one_voice else (rollup.c.posts, rollup.c.total, rollup.c.negatives, rollup.c.squares))
        if shares:
            columns += (rollup.c.posts, rollup.c.counted)
        query = (sa.select(rollup.c.bucket, *columns)
                 .where(rollup.c.brand == brand, rollup.c.scorer == scorer, rollup.c.size == bucket_seconds,
                        rollup.c.bucket >= first, rollup.c.bucket < stop, rollup.c.posts > 0)
                 .order_by(rollup.c.bucket))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()  # at once: iterating the result row by row cost twice as much
        if shares:
            return [(int(b), int(n), float(t), int(g), float(q), int(p), int(c))
                    for b, n, t, g, q, p, c in rows]
        return [(int(b), int(n), float(t), int(g), float(q)) for b, n, t, g, q in rows]


def _in_time(query, start: datetime | None, end: datetime | None):
    """``query`` restricted to mentions in [start, end) (either bound may be None)."""
    if start is not None:
        query = query.where(mentions.c.created_at >= to_epoch(start))
    if end is not None:
        query = query.where(mentions.c.created_at < to_epoch(end))
    return query


def _driver_params(compiled, rows: list, keys: tuple[str, ...]) -> list:
    """``rows`` (dicts, or tuples of the columns ``keys``) as the driver takes them for
    ``compiled``: tuples in its order for a positional paramstyle (SQLite's ?), built at C speed by
    itemgetter; dicts for a named one (psycopg's)."""
    if isinstance(rows[0], dict):
        if not compiled.positional:
            return rows
        order = compiled.positiontup
    elif not compiled.positional:
        return [dict(zip(keys, row, strict=True)) for row in rows]
    elif tuple(compiled.positiontup) == keys:
        return rows
    else:
        order = [keys.index(name) for name in compiled.positiontup]
    get = operator.itemgetter(*order)
    return list(map(get, rows)) if len(order) > 1 else [(get(row),) for row in rows]



def _lock_key(name: str) -> int:
    """The PostgreSQL advisory lock key of :meth:`Store.exclusive`'s lock ``name``: a signed int8."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)

def _outage(row) -> Outage:
    return Outage(
        id=row["id"], brand=row["brand"], start=from_epoch(row["starts_at"]),
        end=from_epoch(row["ends_at"]), label=row["label"], severity=row["severity"],
        origin=row["origin"], external_id=row["external_id"],
    )
