"""Opening a database: SQLite's pragmas, and a SQLite file this process may only read."""

from __future__ import annotations

import os
from pathlib import Path


def sqlite_pragmas(dbapi_connection, _record) -> None:
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


def sqlite_read_pragmas(dbapi_connection, _record) -> None:
    """``sqlite_pragmas`` for a read-only file: nothing that writes (journal mode, synchronous)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def read_only_sqlite(path: Path) -> str | None:
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
