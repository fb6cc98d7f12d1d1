"""Exports: CSV that spreadsheets cannot run as formulas, and Parquet; streamed row by row.

Writers take a file object and never open files themselves (``dipwatch.jobs.atomic_output`` does).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
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


def write_csv(columns: Sequence[str], rows: Iterable, fh: IO[str]) -> int:
    """Write a header and ``rows`` (dicts or sequences in ``columns`` order); return rows written."""
    # RFC 4180's CRLF: the csv module quotes a field that holds any line-terminator character, so
    # with "\n" alone a lone "\r" went out unquoted and split the row (the next "cell" then started
    # with whatever followed it, a formula included).
    writer = csv.writer(fh, lineterminator="\r\n")
    writer.writerow([neutralise(c) for c in columns])
    count = 0
    for row in rows:
        writer.writerow([_cell(v) for v in _values(row, columns)])
        count += 1
    return count


def write_parquet(columns: Sequence[str], rows: Iterable, fh: IO[bytes]) -> int:
    """Write ``rows`` as Parquet in batches (bounded memory); return rows written."""
    iterator = iter(rows)
    writer = None
    count = 0
    try:
        while batch := list(islice(iterator, PARQUET_BATCH)):
            table = pa.Table.from_pylist([dict(zip(columns, _values(r, columns), strict=True))
                                          for r in batch])
            if writer is None:
                # A column empty in the first batch has no type yet; text is the safe guess.
                schema = pa.schema([pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f
                                    for f in table.schema])
                writer = pq.ParquetWriter(fh, schema)
            writer.write_table(table.cast(writer.schema))
            count += len(batch)
        if writer is None:
            pq.write_table(pa.table({c: pa.array([], pa.string()) for c in columns}), fh)
    finally:
        if writer is not None:
            writer.close()
    return count
