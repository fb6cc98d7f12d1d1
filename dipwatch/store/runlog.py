"""The run log, the collectors' checkpoints and the locks that keep two runs apart."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from dipwatch.core.records import Checkpoint
from dipwatch.core.times import to_epoch
from dipwatch.store.freshness import collect_status
from dipwatch.store.lite import flock_holder
from dipwatch.store.tables import checkpoints, runs


class RunLogMixin:
    """Runs, checkpoints and locks of :class:`dipwatch.store.Store`."""

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
        the warnings of the last run (the SQL of :mod:`dipwatch.store.freshness`, which
        :mod:`dipwatch.store.lite` runs through sqlite3 alone)."""
        with self.engine.connect() as conn:
            return collect_status(lambda sql, params: conn.execute(sa.text(sql), params).all(), now)


def _lock_key(name: str) -> int:
    """The PostgreSQL advisory lock key of :meth:`Store.exclusive`'s lock ``name``: a signed int8."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)
