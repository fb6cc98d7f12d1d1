"""The write path's SQL machinery: dialect INSERTs with ON CONFLICT, list parameters, statements
compiled once and run at the driver's speed, and the writers' lock."""

from __future__ import annotations

import json
import operator
import zlib
from collections.abc import Sequence

import sqlalchemy as sa

from dipwatch.store.tables import WRITE_LOCK_KEY


class BulkMixin:
    """Bulk writes of :class:`dipwatch.store.Store`, shared by its posts, rollup and schema."""

    # Test and benchmark seam: False sends PostgreSQL's bulk writes as executemany INSERTs, as
    # before COPY (benchmarks/pg_import.py measures both in one run).
    pg_copy = True

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
        ``executemany`` speed (PostgreSQL: COPY, see :meth:`_copy_merge`), skipping existing keys.
        Returns the rows inserted where the driver says (SQLite, PostgreSQL), else the rows given."""
        if not rows:
            return 0
        if self.dialect == "postgresql" and self.pg_copy:
            return len(self._copy_merge(conn, table, rows, None, keys))
        count = self._executemany(conn, table, rows, None, keys).rowcount
        return count if count is not None and count >= 0 else len(rows)

    def _bulk_upsert(self, conn, table: sa.Table, rows: list, add: bool,
                     keys: tuple[str, ...] | None = None) -> None:
        """Insert rows (dicts, or tuples of the columns ``keys``) or, where the primary key exists,
        set (``add`` False) or add to (``add`` True) its other columns, at the driver's
        ``executemany`` speed (PostgreSQL: COPY). The rows' keys must differ."""
        if not rows:
            return
        if self.dialect == "postgresql" and self.pg_copy:
            self._copy_merge(conn, table, rows, add, keys)
        else:
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

    def _copy_merge(self, conn, table: sa.Table, rows: list, add: bool | None,
                    keys: tuple[str, ...] | None = None, returning: tuple[str, ...] = ()) -> list[tuple]:
        """PostgreSQL: :meth:`_executemany`'s INSERT ... ON CONFLICT, the rows sent by COPY.

        The rows are copied into a temporary table of this connection (made when missing, with the
        columns ``keys`` and no constraint), then moved into ``table`` by one statement that empties
        it: ``WITH moved AS (DELETE FROM temp RETURNING ...) INSERT INTO table SELECT ... FROM moved
        ON CONFLICT ...``. So the upsert keeps its meaning (idempotent, nothing duplicated), all in
        the caller's transaction (a killed import leaves nothing behind), and an import's rows go
        to the server as one stream instead of one INSERT each (benchmarks/pg_import.py).

        :returns: the columns ``returning`` of the rows inserted or updated (one tuple per row; an
            empty tuple each without ``returning``).
        """
        keys = keys or tuple(rows[0])
        if isinstance(rows[0], dict):
            rows = list(map(operator.itemgetter(*keys), rows)) if len(keys) > 1 else [
                (row[keys[0]],) for row in rows]
        temp, merge = self._copy_statements(conn, table, keys, add, returning)
        cursor = conn.connection.driver_connection.cursor()
        try:
            with cursor.copy(f"COPY {temp} ({', '.join(map(_quote, keys))}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(merge)
            return cursor.fetchall() if returning else [()] * max(cursor.rowcount, 0)
        finally:
            cursor.close()

    def _copy_statements(self, conn, table: sa.Table, keys: tuple[str, ...], add: bool | None,
                         returning: tuple[str, ...]) -> tuple[str, str]:
        """The temporary table of :meth:`_copy_merge` for ``table`` and ``keys`` (made on this
        connection if it is not there), and the statement that moves its rows into ``table``."""
        temp = f"dipwatch_copy_{table.name}_{zlib.crc32(' '.join(keys).encode()):08x}"
        columns = ", ".join(map(_quote, keys))
        # Every time, not once per connection: a transaction rolled back takes the table with it.
        # Names are ours (tables, columns), never input: nothing to inject.
        conn.exec_driver_sql(f"CREATE TEMPORARY TABLE IF NOT EXISTS {temp} AS SELECT {columns} "  # noqa: S608
                             f"FROM {_quote(table.name)} WITH NO DATA")
        cache_key = ("copy", table.name, keys, add, returning)
        merge = self._compiled.get(cache_key)
        if merge is None:
            merge = (f"WITH moved AS (DELETE FROM {temp} RETURNING {columns}) "  # noqa: S608
                     f"INSERT INTO {_quote(table.name)} AS target ({columns}) SELECT {columns} FROM moved ")
            if add is None:
                merge += "ON CONFLICT DO NOTHING"
            else:
                key_names = [c.name for c in table.primary_key.columns]
                merge += f"ON CONFLICT ({', '.join(map(_quote, key_names))}) DO UPDATE SET " + ", ".join(
                    f"{_quote(name)} = " + (f"target.{_quote(name)} + EXCLUDED.{_quote(name)}" if add
                                            else f"EXCLUDED.{_quote(name)}")
                    for name in keys if name not in key_names)
            if returning:
                merge += " RETURNING " + ", ".join(f"target.{_quote(name)}" for name in returning)
            self._compiled[cache_key] = merge
        return temp, merge

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


def _quote(name: str) -> str:
    """A PostgreSQL identifier of ours (table and column names, never input) in double quotes."""
    return f'"{name}"'


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
