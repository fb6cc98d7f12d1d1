"""File import: posts from CSV or JSON Lines files, streamed row by row.

Columns (CSV header or JSON keys): ``id``, ``created_at`` and ``text`` are required; ``author``,
``url`` and ``engagement`` are optional; anything else is ignored. ``created_at`` is ISO 8601 with an
offset or ``Z``, or integer seconds since the epoch; a naive time needs ``tz``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import operator
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import cast

from collectors.base import InputError
from dipwatch.core.records import Post
from dipwatch.core.times import from_epoch, parse_epoch

REQUIRED = ("id", "created_at", "text")
OPTIONAL = ("author", "url", "engagement")
# A row as read_rows gives it: these columns' values in this order, None where the file has none.
FIELDS = REQUIRED + OPTIONAL
_ID, _CREATED_AT, _TEXT, _AUTHOR, _URL, _ENGAGEMENT = range(len(FIELDS))
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
SNIFF_BYTES = 64 * 1024
READ_BUFFER = 1 << 20
STDIN = "-"  # the file name that means standard input
MAX_TEXT = 40_000  # Reddit's own limit for a self post; longer "posts" are broken rows
MAX_ID = 256
DEDUP_BATCH = 2000
MAX_FIELD = 1_000_000  # a CSV field longer than this is an unclosed quote swallowing the file
# The longest line read: a row's text is at most MAX_TEXT characters, up to 4 bytes each in UTF-8 and
# 12 as JSON escapes ("\ud83d\ude00" for one emoji), so 40,000 characters take at most 480,000
# bytes; with the other fields a good row stays well under this. Longer lines are refused as read.
MAX_LINE = 1 << 20
OVERLONG = f"line longer than {MAX_LINE:,} bytes (a post's text is at most {MAX_TEXT:,} characters)"


@dataclass(frozen=True)
class Rejected:
    """A row that could not be imported: its (first) line number and why."""

    line: int
    reason: str


def detect_format(head: bytes, path: Path) -> str:
    """Return ``csv`` or ``jsonl`` for the file ``path`` that starts with ``head`` (its first
    ``SNIFF_BYTES``), refusing anything else before a row is read. Only the name and these bytes
    are looked at: a pipe cannot be read twice.

    :raises InputError: for an empty, binary or unrecognisable file.
    """
    name = input_name(path)
    if not head.strip():
        raise InputError(name, "file is empty: expected a CSV header or JSON lines")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(name, "file is UTF-16: expected UTF-8 (re-save it as UTF-8)")
    if b"\x00" in head:
        raise InputError(name, "binary file (contains NUL bytes): expected CSV or JSON Lines text")
    first_line = head.split(b"\n", 1)[0]
    try:
        first_line.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # Only the header decides for the whole file; a bad byte in a later row rejects that row.
        if b"\n" in head or exc.start < len(first_line) - 4:
            raise InputError(
                f"{name}:1", f"not UTF-8 text (byte {exc.start}): expected UTF-8 CSV or JSON Lines"
            ) from None
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        first = head.decode("utf-8-sig", errors="replace").lstrip()
        fmt = "jsonl" if first.startswith("{") else "csv" if "," in first.split("\n", 1)[0] else None
    if fmt is None:
        raise InputError(name, "not a CSV or JSON Lines file: expected .csv, .jsonl or .ndjson")
    return fmt


def input_name(path: Path | str) -> str:
    """How messages name the input: its path, or ``<stdin>`` for ``-``."""
    return "<stdin>" if str(path) == STDIN else str(path)


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
    raw = _open(path)
    try:
        head = _read_head(raw, path)
        fmt = detect_format(head, path)
    except BaseException:
        raw.close()
        raise
    lines = _lines(io.BufferedReader(_Prefixed(head, raw), buffer_size=READ_BUFFER), path)
    return _csv_rows(path, lines) if fmt == "csv" else _jsonl_rows(path, lines)


def _open(path: Path) -> io.FileIO:
    """The input, opened once and unbuffered (``-``: standard input). A FIFO, ``/dev/stdin`` or a
    process substitution (``/dev/fd/63``) can be read only once: everything after this reads this."""
    try:
        return io.FileIO(0, closefd=False) if str(path) == STDIN else io.FileIO(path)
    except FileNotFoundError:
        raise InputError(input_name(path), "file not found") from None
    except IsADirectoryError:
        raise InputError(input_name(path), "is a directory: expected a CSV or JSON Lines file") from None
    except OSError as exc:
        raise InputError(input_name(path), f"cannot read: {exc.strerror}") from None


def _read_head(raw: io.FileIO, path: Path) -> bytes:
    """The first ``SNIFF_BYTES`` of ``raw`` (fewer at its end): a pipe gives what it has per read."""
    parts, size = [], 0
    try:
        while size < SNIFF_BYTES and (part := raw.read(SNIFF_BYTES - size)):
            parts.append(part)
            size += len(part)
    except OSError as exc:
        raise InputError(input_name(path), f"cannot read: {exc.strerror}") from None
    return b"".join(parts)


class _Prefixed(io.RawIOBase):
    """``head`` (already read from ``raw`` to detect the format), then the rest of ``raw``."""

    def __init__(self, head: bytes, raw: io.FileIO):
        super().__init__()
        self._head = memoryview(head)
        self._raw = raw

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head:
            count = min(len(buffer), len(self._head))
            buffer[:count] = self._head[:count]
            self._head = self._head[count:]
            return count
        return self._raw.readinto(buffer)

    def close(self) -> None:
        self._raw.close()
        super().close()


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
        return [(line, duplicate_rejection(line, row.post_id, repeated[line])
                 if line in repeated and isinstance(row, Post) else row)
                for line, row in batch]


def _lines(stream: io.BufferedReader, path: Path) -> Iterator[tuple[int, str, str | None]]:
    """(line number, text, what is wrong with the line or None) for each physical line, streaming,
    each read with a bound: a line longer than ``MAX_LINE`` bytes is refused as it is read (its
    text is then empty), so a 200 MB line costs no more memory than a short one (it took 633 MB)."""
    with stream:
        number = 0
        while True:
            try:
                raw = stream.readline(MAX_LINE + 1)
            except OSError as exc:
                raise InputError(f"{input_name(path)}:{number + 1}", f"cannot read: {exc.strerror}") from None
            if not raw:
                return
            number += 1
            if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
                while (rest := stream.readline(MAX_LINE)) and not rest.endswith(b"\n"):
                    pass  # the rest of the overlong line, read and dropped in bounded pieces
                yield number, "\n", OVERLONG
                continue
            body = raw[3:] if number == 1 and raw.startswith(b"\xef\xbb\xbf") else raw
            try:
                yield number, body.decode("utf-8"), None
            except UnicodeDecodeError:
                yield number, body.decode("utf-8", errors="replace"), "not valid UTF-8 text"


def _check_header(path: Path, columns: list[str]) -> None:
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        found = ", ".join(repr(c) for c in columns[:20]) or "nothing"
        raise InputError(
            f"{input_name(path)}:1",
            f"missing required column {missing[0]!r}; expected {', '.join(REQUIRED)} "
            f"(optional: {', '.join(OPTIONAL)}), found {found}",
        )


def _csv_rows(path: Path, lines: Iterator[tuple[int, str, str | None]]
              ) -> Iterator[tuple[int, tuple | Rejected]]:
    problems: dict[int, str] = {}  # line number: what is wrong with it (bad UTF-8, overlong)
    state = {"line": 0}

    def text_lines():
        for number, text, problem in lines:
            state["line"] = number
            if problem:
                problems[number] = problem
            yield text

    csv.field_size_limit(MAX_FIELD)
    # strict: a quote that never closes is an error at its row, not a field swallowing the file.
    reader = csv.reader(text_lines(), strict=True)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise InputError(f"{input_name(path)}:1", f"cannot read the CSV header: {exc}") from None
    except StopIteration:
        header = []
    if problems.get(1) == OVERLONG:
        raise InputError(f"{input_name(path)}:1", f"the CSV header is {OVERLONG}")
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
        problem = None
        for n in range(start, last + 1):
            found = problems.pop(n, None)
            problem = problem or found
        if problem:
            yield start, Rejected(start, problem)
            continue
        if not values or (len(values) == 1 and not values[0].strip()):
            continue
        if len(values) != len(columns):
            yield start, Rejected(
                start, f"expected {len(columns)} fields as in the header, found {len(values)}"
            )
            continue
        cast("list[str | None]", values).append(None)  # the value of a column the file does not have
        yield start, pick(values)


def _jsonl_rows(path: Path, lines: Iterator[tuple[int, str, str | None]]
                ) -> Iterator[tuple[int, tuple | Rejected]]:
    checked = False
    for number, text, problem in lines:
        if problem:
            yield number, Rejected(number, problem)
            continue
        if not text.strip():
            continue
        try:
            row = json.loads(text)
        except (ValueError, RecursionError) as exc:  # ValueError: e.g. a 5,000-digit integer
            if not checked:
                raise InputError(f"{input_name(path)}:{number}", f"not valid JSON: {exc}") from None
            yield number, Rejected(number, f"not valid JSON: {getattr(exc, 'msg', exc)}")
            continue
        if not isinstance(row, dict):
            if not checked:
                raise InputError(f"{input_name(path)}:{number}", "expected one JSON object per line")
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
