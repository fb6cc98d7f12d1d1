"""Exports: CSV that spreadsheets cannot run as formulas, and Parquet; streamed row by row.

Writers take a file object and never open files themselves (``dipwatch.jobs.ingest.atomic_output`` does).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from itertools import islice
from typing import IO

import pyarrow as pa
import pyarrow.parquet as pq

# A cell starting with one of these is run as a formula by Excel, LibreOffice or Google Sheets
# (OWASP "CSV Injection"); tab and carriage return start formulas in some importers too.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PARQUET_BATCH = 50_000


def neutralise(value: str) -> str:
    """Prefix a cell a spreadsheet would run as a formula with ``'``, so it shows as text.

    Leading spaces do not protect a cell (spreadsheets skip them), so they are looked past.
    """
    stripped = value.lstrip(" ")
    if stripped.startswith(FORMULA_STARTS) or value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise(value)
    return value  # numbers stay numbers: -0.42 is a score, not a formula


def _values(row, columns: Sequence[str]):
    return [row.get(c) for c in columns] if isinstance(row, Mapping) else list(row)


def csv_chunks(columns: Sequence[str], rows: Iterable, rows_per_chunk: int = 2000) -> Iterator[str]:
    """The text :func:`write_csv` writes, in pieces of up to ``rows_per_chunk`` rows, for a
    response streamed while ``rows`` are still being read."""
    buffer = io.StringIO()
    for n, _ in enumerate(_rows_written(columns, rows, buffer), 1):
        if n % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _rows_written(columns: Sequence[str], rows: Iterable, fh: IO[str]) -> Iterator[None]:
    """Write a header, then each of ``rows`` as it is asked for."""
    # RFC 4180's CRLF: the csv module quotes a field that holds any line-terminator character, so
    # with "\n" alone a lone "\r" went out unquoted and split the row (the next "cell" then started
    # with whatever followed it, a formula included).
    writer = csv.writer(fh, lineterminator="\r\n")
    writer.writerow([neutralise(c) for c in columns])
    for row in rows:
        writer.writerow([_cell(v) for v in _values(row, columns)])
        yield


def write_csv(columns: Sequence[str], rows: Iterable, fh: IO[str]) -> int:
    """Write a header and ``rows`` (dicts or sequences in ``columns`` order); return rows written."""
    return sum(1 for _ in _rows_written(columns, rows, fh))


# The kinds of column ``write_parquet`` is told about: times (ISO 8601 text in the rows) become UTC
# timestamp columns, the others keep their type even where every value is empty.
PARQUET_KINDS = {"time": pa.timestamp("s", tz="UTC"), "int": pa.int64(), "float": pa.float64(),
                 "bool": pa.bool_(), "text": pa.string()}


def _parquet_value(value, kind: str | None):
    if kind == "time" and isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def write_parquet(columns: Sequence[str], rows: Iterable, fh: IO[bytes],
                  kinds: Mapping[str, str] | None = None) -> int:
    """Write ``rows`` as Parquet in batches (bounded memory); return rows written.

    :param kinds: column -> one of ``PARQUET_KINDS``; a column not named gets the type of its first
        batch's values (text when they are all empty).
    """
    kinds = kinds or {}
    iterator = iter(rows)
    writer = None
    count = 0
    try:
        while batch := list(islice(iterator, PARQUET_BATCH)):
            records = [{c: _parquet_value(v, kinds.get(c)) for c, v in zip(columns, _values(r, columns),
                                                                             strict=True)}
                       for r in batch]
            if writer is None:
                guessed = pa.Table.from_pylist(records).schema
                schema = pa.schema([pa.field(c, PARQUET_KINDS[kinds[c]] if c in kinds
                                             else pa.string() if pa.types.is_null(guessed.field(c).type)
                                             else guessed.field(c).type) for c in columns])
                writer = pq.ParquetWriter(fh, schema)
            writer.write_table(pa.Table.from_pylist(records, schema=writer.schema))
            count += len(batch)
        if writer is None:
            empty = {c: pa.array([], PARQUET_KINDS[kinds.get(c, "text")]) for c in columns}
            pq.write_table(pa.table(empty), fh)
    finally:
        if writer is not None:
            writer.close()
    return count
