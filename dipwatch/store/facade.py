"""The Store: one object for every caller, its methods in one module per noun."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from dipwatch.store.alert_log import AlertLogMixin
from dipwatch.store.bulk import BulkMixin
from dipwatch.store.opening import read_only_sqlite, sqlite_pragmas, sqlite_read_pragmas
from dipwatch.store.post_reads import PostReadsMixin
from dipwatch.store.post_writes import PostWritesMixin
from dipwatch.store.records import StoreError
from dipwatch.store.runlog import RunLogMixin
from dipwatch.store.schema import SchemaMixin
from dipwatch.store.series import SeriesMixin
from dipwatch.store.tables import READ_MAP_BYTES
from dipwatch.store.windows import WindowsMixin


class Store(PostWritesMixin, PostReadsMixin, SeriesMixin, WindowsMixin, RunLogMixin, AlertLogMixin,
            SchemaMixin, BulkMixin):
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
        self.read_only = False  # a SQLite file this process cannot write: see read_only_sqlite
        if self.dialect == "sqlite" and parsed.database and parsed.database != ":memory:":
            read_only = read_only_sqlite(Path(parsed.database))
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
            pragmas = sqlite_read_pragmas if self.read_only else sqlite_pragmas
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
