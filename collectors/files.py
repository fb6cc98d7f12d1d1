"""File import: posts from CSV or JSON Lines files, streamed row by row.

Columns (CSV header or JSON keys): ``id``, ``created_at`` and ``text`` are required; ``author``,
``url`` and ``engagement`` are optional; anything else is ignored. ``created_at`` is ISO 8601 with an
offset or ``Z``, or integer seconds since the epoch; a naive time needs ``tz``.
"""

from __future__ import annotations

import csv
import json
import math
import operator
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path

from collectors.base import InputError
from dipwatch.epoch import from_epoch
from dipwatch.posts import Post
from dipwatch.times import parse_epoch

REQUIRED = ("id", "created_at", "text")
OPTIONAL = ("author", "url", "engagement")
# A row as read_rows gives it: these columns' values in this order, None where the file has none.
FIELDS = REQUIRED + OPTIONAL
_ID, _CREATED_AT, _TEXT, _AUTHOR, _URL, _ENGAGEMENT = range(len(FIELDS))
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
SNIFF_BYTES = 64 * 1024
MAX_TEXT = 40_000  # Reddit's own limit for a self post; longer "posts" are broken rows
MAX_ID = 256
DEDUP_BATCH = 2000
MAX_FIELD = 1_000_000  # a CSV field longer than this is an unclosed quote swallowing the file


@dataclass(frozen=True)
class Rejected:
    """A row that could not be imported: its (first) line number and why."""

    line: int
    reason: str


def detect_format(path: Path) -> str:
    """Return ``csv`` or ``jsonl`` for ``path``, refusing anything else before a row is read.

    :raises InputError: for a missing, empty, binary or unrecognisable file.
    """
    try:
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except FileNotFoundError:
        raise InputError(str(path), "file not found") from None
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc.strerror}") from None
    if not head.strip():
        raise InputError(str(path), "file is empty: expected a CSV header or JSON lines")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(str(path), "file is UTF-16: expected UTF-8 (re-save it as UTF-8)")
    if b"\x00" in head:
        raise InputError(str(path), "binary file (contains NUL bytes): expected CSV or JSON Lines text")
    first_line = head.split(b"\n", 1)[0]
    try:
        first_line.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # Only the header decides for the whole file; a bad byte in a later row rejects that row.
        if b"\n" in head or exc.start < len(first_line) - 4:
            raise InputError(
                f"{path}:1", f"not UTF-8 text (byte {exc.start}): expected UTF-8 CSV or JSON Lines"
            ) from None
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        first = head.decode("utf-8-sig", errors="replace").lstrip()
        fmt = "jsonl" if first.startswith("{") else "csv" if "," in first.split("\n", 1)[0] else None
    if fmt is None:
        raise InputError(str(path), "not a CSV or JSON Lines file: expected .csv, .jsonl or .ndjson")
    return fmt


def read_posts(path: Path, source: str = "file", tz: tzinfo | None = None
               ) -> Iterator[tuple[int, Post | Rejected]]:
    """Yield ``(line, Post)`` for each good row and ``(line, Rejected)`` for each bad one.

    The header (or first JSON line's keys) is checked before anything is yielded.

    :param path: the file.
    :param source: the source label the posts are stored under.
    :param tz: the zone of naive timestamps; without it they are rejected.
    :raises InputError: when the file as a whole is unusable.
    """
    rows = read_rows(path)
    with closing(SeenIds()) as seen:
        pending: list[tuple[int, Post | Rejected]] = []
        for line, row in rows:
            if isinstance(row, Rejected):
                pending.append((line, row))
            else:
                try:
                    pending.append((line, to_post(row, source, tz)))
                except ValueError as exc:
                    pending.append((line, Rejected(line, str(exc))))
            if len(pending) >= DEDUP_BATCH:
                yield from seen.resolve(pending)
                pending = []
        yield from seen.resolve(pending)


def read_rows(path: Path) -> Iterator[tuple[int, tuple | Rejected]]:
    """The first half of :func:`read_posts`: ``(line, row)`` with each row a tuple of the values
    of the columns ``FIELDS`` as the file gives them (None for a column it does not have; not
    checked yet: :func:`to_post` does that), or a rejection for a row that cannot be read at all.
    Tuples, not dicts: an import sends its rows to worker processes, and unpickling a dict per row
    took a quarter of a worker's time. The file's format is checked at once, the header (or
    first JSON line) at the first row.

    :raises InputError: when the file as a whole is unusable.
    """
    fmt = detect_format(path)
    return _csv_rows(path) if fmt == "csv" else _jsonl_rows(path)


def duplicate_rejection(line: int, post_id: str, first: int) -> Rejected:
    return Rejected(line, f"duplicate id {post_id!r} (first on line {first})")


class SeenIds:
    """The first line of every id read so far, kept in a private temporary SQLite database on disk,
    so the duplicate check stays in bounded memory for a file of any size (a dict of 20M ids would
    need gigabytes). Standard-library sqlite3, not the store: nothing here outlives the read."""

    def __init__(self):
        self.conn = sqlite3.connect("")  # "" = a temporary on-disk database, deleted on close
        self.conn.execute("CREATE TABLE seen (id TEXT PRIMARY KEY, line INTEGER) WITHOUT ROWID")

    def close(self) -> None:
        self.conn.close()

    def repeats(self, batch: list[tuple[int, str]]) -> dict[int, int]:
        """For ``(line, id)`` pairs in file order: {line: the id's first line} of every pair whose
        id was seen before (earlier in the file or in ``batch``); the others are remembered."""
        # Most often no id is repeated: then inserting them all is the whole check. (A pair
        # ignored here, as already there, is looked up below.)
        before = self.conn.total_changes
        self.conn.executemany("INSERT OR IGNORE INTO seen VALUES (?, ?)",
                              [(post_id, line) for line, post_id in batch])
        if self.conn.total_changes - before == len(batch):
            return {}
        ids = list({post_id for _, post_id in batch})
        first: dict[str, int] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            first.update(self.conn.execute(f"SELECT id, line FROM seen WHERE id IN ({marks})",  # noqa: S608
                                           chunk))
        # Every id is stored now, with the line it was first seen on (the batch is in file order).
        return {line: first[post_id] for line, post_id in batch if first[post_id] != line}

    def resolve(self, batch: list[tuple[int, Post | Rejected]]) -> list[tuple[int, Post | Rejected]]:
        """Turn every post of ``batch`` whose id was seen before into a rejection; remember the rest."""
        repeated = self.repeats([(line, row.post_id) for line, row in batch if isinstance(row, Post)])
        return [(line, duplicate_rejection(line, row.post_id, repeated[line]) if line in repeated else row)
                for line, row in batch]


def _lines(path: Path) -> Iterator[tuple[int, str, bool]]:
    """(line number, text, decoded cleanly) for each physical line, streaming."""
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            body = raw[3:] if number == 1 and raw.startswith(b"\xef\xbb\xbf") else raw
            try:
                yield number, body.decode("utf-8"), True
            except UnicodeDecodeError:
                yield number, body.decode("utf-8", errors="replace"), False


def _check_header(path: Path, columns: list[str]) -> None:
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        found = ", ".join(repr(c) for c in columns[:20]) or "nothing"
        raise InputError(
            f"{path}:1",
            f"missing required column {missing[0]!r}; expected {', '.join(REQUIRED)} "
            f"(optional: {', '.join(OPTIONAL)}), found {found}",
        )


def _csv_rows(path: Path) -> Iterator[tuple[int, dict | Rejected]]:
    bad_lines: set[int] = set()
    state = {"line": 0}

    def text_lines():
        for number, text, clean in _lines(path):
            state["line"] = number
            if not clean:
                bad_lines.add(number)
            yield text

    csv.field_size_limit(MAX_FIELD)
    # strict: a quote that never closes is an error at its row, not a field swallowing the file.
    reader = csv.reader(text_lines(), strict=True)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise InputError(f"{path}:1", f"cannot read the CSV header: {exc}") from None
    columns = [c.strip().lower() for c in header]
    _check_header(path, columns)
    # Each field's column, or the row's last + 1 (where a None is added) when the file has none.
    where = [columns.index(name) if name in columns else len(columns) for name in FIELDS]
    pick = operator.itemgetter(*where)
    last = state["line"]
    while True:
        start = last + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            last = state["line"]
            yield start, Rejected(start, f"malformed CSV row: {exc}")
            continue
        last = state["line"]
        if not values or (len(values) == 1 and not values[0].strip()):
            continue
        if any(n in bad_lines for n in range(start, last + 1)):
            yield start, Rejected(start, "not valid UTF-8 text")
            continue
        if len(values) != len(columns):
            yield start, Rejected(
                start, f"expected {len(columns)} fields as in the header, found {len(values)}"
            )
            continue
        values.append(None)
        yield start, pick(values)


def _jsonl_rows(path: Path) -> Iterator[tuple[int, dict | Rejected]]:
    checked = False
    for number, text, clean in _lines(path):
        if not text.strip():
            continue
        if not clean:
            yield number, Rejected(number, "not valid UTF-8 text")
            continue
        try:
            row = json.loads(text)
        except (ValueError, RecursionError) as exc:  # ValueError: e.g. a 5,000-digit integer
            if not checked:
                raise InputError(f"{path}:{number}", f"not valid JSON: {exc}") from None
            yield number, Rejected(number, f"not valid JSON: {getattr(exc, 'msg', exc)}")
            continue
        if not isinstance(row, dict):
            if not checked:
                raise InputError(f"{path}:{number}", "expected one JSON object per line")
            yield number, Rejected(number, "expected a JSON object")
            continue
        if not checked:
            _check_header(path, [str(k).strip().lower() for k in row])
            checked = True
        named = {str(k).strip().lower(): v for k, v in row.items()}
        yield number, tuple(map(named.get, FIELDS))


def to_post(row: tuple, source: str, tz: tzinfo | None) -> Post:
    """The post of one row from :func:`read_rows`.

    :raises ValueError: naming the field and what was expected, for a row that cannot be a post.
    """
    post_id, created, text, author, url, engagement = post_fields(row, tz)
    return Post(source=source, post_id=post_id, created_at=from_epoch(created), text=text,
                author=author, url=url, engagement=engagement)


def post_fields(row: tuple, tz: tzinfo | None) -> tuple[str, int, str, str | None, str | None,
                                                         int | None]:
    """What :func:`to_post` checks, without making the Post: (id, created_at in whole seconds since
    the epoch, as the store keeps it, text, author, url, engagement). An import makes its rows for
    the store straight from these.

    :raises ValueError: as :func:`to_post`.
    """
    post_id = row[_ID]
    if isinstance(post_id, int) and not isinstance(post_id, bool):
        post_id = str(post_id)
    if not isinstance(post_id, str) or not post_id.strip():
        raise ValueError("id: missing or empty; expected a non-empty string")
    post_id = post_id.strip()
    if len(post_id) > MAX_ID:
        raise ValueError(f"id: longer than {MAX_ID} characters")
    text = row[_TEXT]
    if not isinstance(text, str) or not text.strip():
        raise ValueError("text: missing or empty; expected the post's text")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text: {len(text)} characters, more than the {MAX_TEXT} a post can hold")
    if "\x00" in text:
        raise ValueError("text: contains a NUL character")
    # Only non-ASCII text can hold a surrogate. str.isascii is constant time: encoding every text
    # to look cost an import an eighth of its check.
    if not (post_id.isascii() and text.isascii()):
        for name, value in (("id", post_id), ("text", text)):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                # JSON's "\ud800" escape decodes to a lone surrogate that no database can store.
                raise ValueError(f"{name}: contains an unpaired surrogate (not valid Unicode text)") from None
    return (post_id, parse_epoch(row[_CREATED_AT], tz), text, _optional_str(row[_AUTHOR], "author"),
            _optional_str(row[_URL], "url"), _engagement(row[_ENGAGEMENT]))


def _optional_str(value, key: str) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ValueError(f"{key}: expected text, got {type(value).__name__}")
    return str(value).strip()[:2048]


def _engagement(value) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError("engagement: expected a whole number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"engagement: {str(value)[:20]!r} is not a whole number") from None
    if not math.isfinite(number) or number != int(number) or abs(number) >= 2**62:
        raise ValueError(f"engagement: {str(value)[:20]!r} is not a whole number")
    return int(number)
