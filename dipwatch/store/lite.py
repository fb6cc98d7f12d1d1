"""Read-only SQLite for ``dipwatch status``, with the standard library's sqlite3 alone.

The Store is built on SQLAlchemy, and importing SQLAlchemy alone takes about 0.55 s, most of what
``dipwatch status`` took in all; a freshness check run by hand or by a monitoring probe should answer
at once. So this module answers that one question on a SQLite file with sqlite3, running the same
SQL as ``Store.collect_status(now)`` (:mod:`dipwatch.store.freshness`), and returns exactly what it
returns (tests/test_cli_status.py checks it on a real store).

It only reads: it opens the file read-only and creates, migrates and locks nothing. When it cannot
answer (PostgreSQL, a URL with options, a file that does not exist yet, a schema version it was not
written for, any sqlite3 error) ``collect_status_lite`` returns None and the caller opens the Store as
before, so messages and behaviour in those cases stay the Store's.

Import nothing here that imports SQLAlchemy (``dipwatch.store``'s package imports its modules lazily
for this): that is the point of it.
"""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import closing
from datetime import datetime
from pathlib import Path

from dipwatch.store.freshness import collect_status

# Schema versions (meta.schema_version) whose runs, mentions and posts tables have the columns read
# here; versions 2 to 5 only added tables and columns, re-keyed the rollup's voices and changed the
# rollup's types. A new version must be checked against the queries of dipwatch.store.freshness,
# then added.
STATUS_SCHEMA_VERSIONS = frozenset({1, 2, 3, 4, 5})
BUSY_TIMEOUT_S = 30.0  # as the Store's PRAGMA busy_timeout: wait for a writer's lock, do not fail
# SQLAlchemy URLs of a SQLite file through the standard driver; other drivers (sqlcipher, aiosqlite)
# and URLs with options (``?``) or %-escapes go through the Store, which parses them in full.
SQLITE_PREFIXES = ("sqlite:///", "sqlite+pysqlite:///")


def sqlite_file(url: str) -> Path | None:
    """The existing SQLite database file that ``url`` names, or None when this module must not read it.

    Mirrors SQLAlchemy's parsing for the plain case only: ``sqlite:///relative/path`` (relative to the
    working directory) and ``sqlite:////absolute/path``.
    """
    for prefix in SQLITE_PREFIXES:
        if url.startswith(prefix):
            database = url[len(prefix):]
            break
    else:
        return None
    if not database or database == ":memory:" or "?" in database or "%" in database:
        return None
    path = Path(os.path.abspath(database))
    return path if path.is_file() else None


def connect_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection to the database file ``path``, in autocommit mode (``BEGIN`` by hand)."""
    return sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S,
                           isolation_level=None)


def schema_version(conn: sqlite3.Connection) -> int | None:
    """``meta.schema_version`` as a number, or None when it is missing or not a number.

    :raises sqlite3.Error: when there is no ``meta`` table (not a dipwatch database) or no database.
    """
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    try:
        return int(row[0]) if row is not None else None
    except (TypeError, ValueError):
        return None


def collect_status_lite(url: str, now: datetime) -> list[dict] | None:
    """``Store(url).collect_status(now)`` without SQLAlchemy, or None when the Store must answer.

    None when ``url`` is not a SQLite file that exists, its schema version is not one of
    ``STATUS_SCHEMA_VERSIONS``, or sqlite3 fails at any point (the Store then reports the error in
    its own words). All reads are one snapshot (one read transaction).

    :raises ValueError: when ``now`` is naive, as the Store does.
    """
    path = sqlite_file(url)
    if path is None:
        return None
    try:
        with closing(connect_read_only(path)) as conn:
            conn.execute("BEGIN")
            if schema_version(conn) not in STATUS_SCHEMA_VERSIONS:
                return None
            return collect_status(lambda sql, params: conn.execute(sql, params).fetchall(), now)
    except sqlite3.Error:
        return None


def flock_holder(lock: Path) -> dict | None:
    """Who holds the flock on the lock file ``lock`` (``Store.exclusive`` beside a SQLite file):
    ``{"pid", "since"}`` as the holder wrote them into it, or None when nobody holds it.

    Whether it is held is read from /proc/locks, without taking the lock: taking it even for a moment
    would make a ``collect`` starting then believe another run holds it, and skip its turn. Where there
    is no /proc/locks, a holder whose process is alive is taken to hold it.
    """
    try:
        holder = json.loads(lock.read_text(encoding="utf-8") or "null")
        stat = lock.stat()
    except (OSError, ValueError):
        return None
    if not isinstance(holder, dict):
        holder = {"pid": None, "since": None}  # written by a dipwatch from before this record
    try:
        with open("/proc/locks", encoding="ascii") as fh:
            held = f"{os.major(stat.st_dev):02x}:{os.minor(stat.st_dev):02x}:{stat.st_ino} "
            return holder if any(" FLOCK " in line and held in line for line in fh) else None
    except OSError:
        pass
    try:
        os.kill(int(holder["pid"]), 0)
    except (OSError, TypeError, ValueError):
        return None
    return holder
