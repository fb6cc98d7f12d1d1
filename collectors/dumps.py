"""Reddit dump files: one submission or comment per line, as JSON, plain or zstd-compressed.

The monthly files published by Pushshift and Arctic Shift (``RS_YYYY-MM.zst`` submissions,
``RC_YYYY-MM.zst`` comments) are Reddit's own JSON: ``id``, ``created_utc``, ``subreddit``, ``author``,
``title``/``selftext`` or ``body``. Each line that mentions a brand becomes a
:class:`~dipwatch.core.records.Post`
through the live collector's own mapping (:func:`collectors.reddit_items.submission_to_post`,
:func:`collectors.reddit_items.comment_to_post`), in source ``reddit`` under the fullname ``t3_<id>`` /
``t1_<id>``: an item collected live and read from a dump is stored once. Unlike the live collector, a
comment is kept only when it names the brand itself: submissions and comments come in different files,
so a comment's thread is not known while its file is read.

A file is read in partitions, so a cluster can share it: a plain file in byte ranges (a range holds the
lines that start inside it: it begins after the first newline at or after its start, and its last line
ends at the first newline at or after its end), a zstd file whole. A zstd stream cannot be entered in
the middle: splitting one needs a seek table (the zstd seekable format), which the published dumps do not
have.

A line that is not a Reddit item (not JSON, not an object, neither ``title`` nor ``body``, no ``id`` or
``created_utc``) is counted and reported, never fatal: the dumps hold a few truncated lines where their
crawler was cut off. The values of those fields are checked only on the lines that name the brand, the
only ones made into Posts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import zstandard

from collectors.base import CollectorError, InputError
from collectors.reddit_items import comment_to_post, submission_to_post
from dipwatch.core.brands import Brand
from dipwatch.core.records import Post

SOURCE = "reddit"  # dump items join the live collector's, under the same ids
# Pushshift's dumps from 2021 on are compressed with `zstd --long=31`: a 2 GiB window, more than the
# 128 MiB that zstandard allows by default ("Frame requires too much memory for decoding").
MAX_WINDOW = 2**31
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
OTHER_COMPRESSIONS = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz"}
READ_SIZE = 2**20
SHOWN_BAD = 20  # bad lines kept with their place and reason per partition; all are counted


class DumpReadError(CollectorError):
    """A partition could not be read to its end (a truncated or corrupt zstd stream)."""


@dataclass(frozen=True)
class Partition:
    """The part of a dump file one task reads: the lines that start in bytes ``[start, end)``.

    A zstd file is one partition, ``[0, compressed size)``.
    """

    path: str
    start: int
    end: int
    compressed: bool = False

    @property
    def name(self) -> str:
        return os.path.basename(self.path)

    @property
    def key(self) -> str:
        """The partition's checkpoint query, e.g. ``dump:RC_2009-06.zst:0-4838``."""
        return f"dump:{self.name}:{self.start}-{self.end}"


@dataclass(frozen=True)
class BadLine:
    """A line that is not a Reddit item.

    :param line: its line number in the file (from 1) where known: in a zstd file or a plain file's
        first partition; None in a later byte range, which does not count the lines before it.
    :param offset: the byte offset of its start in the file (in the decompressed stream for zstd).
    """

    name: str
    line: int | None
    offset: int
    reason: str

    def where(self) -> str:
        return f"{self.name}:{self.line}" if self.line is not None else f"{self.name} at byte {self.offset}"


@dataclass
class Scan:
    """What reading one partition found: lines read, the matching posts (with the term), bad lines."""

    partition: Partition
    lines: int = 0
    matches: list[tuple[Post, str]] = field(default_factory=list)
    bad: int = 0
    bad_lines: list[BadLine] = field(default_factory=list)
    error: str | None = None  # set when the partition could not be read to its end


def partitions(path: str | Path, partition_bytes: int) -> list[Partition]:
    """The partitions of the dump file at ``path``: byte ranges of at most ``partition_bytes`` for a
    plain file, the whole file for a zstd one.

    :raises InputError: the file is missing, a directory, or compressed with something other than zstd.
    """
    path = str(path)
    if not os.path.isfile(path):
        raise InputError(path, "no such file (expected a Reddit dump: .zst or newline-delimited JSON)")
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        head = fh.read(6)
    if head.startswith(ZSTD_MAGIC):
        return [Partition(path, 0, size, compressed=True)]
    for magic, kind in OTHER_COMPRESSIONS.items():
        if head.startswith(magic):
            raise InputError(path, f"{kind}-compressed; expected zstd (.zst) or uncompressed "
                                   "newline-delimited JSON")
    step = max(1, partition_bytes)
    return [Partition(path, start, min(start + step, size)) for start in range(0, size, step)] or [
        Partition(path, 0, 0)]


def scan_partition(partition: Partition, brand: Brand) -> Scan:
    """Read ``partition`` and keep the items that mention ``brand`` (``Brand.match`` on the post text:
    title and selftext, or body)."""
    scan = Scan(partition)
    numbered = partition.compressed or partition.start == 0
    try:
        with open(partition.path, "rb") as fh:
            lines = _zstd_lines(fh) if partition.compressed else _range_lines(fh, partition.start,
                                                                                partition.end)
            for number, (offset, raw) in enumerate(lines, start=1):
                if not raw.strip():
                    continue
                scan.lines += 1
                try:
                    data = json.loads(raw.rstrip(b"\r\n").decode())
                    # Most lines do not name the brand: only those that do become Posts (half the time
                    # of a line goes into building one).
                    term = brand.match(item_text(data))
                    if term is not None:
                        scan.matches.append((line_to_post(data), term))
                except (ValueError, KeyError, TypeError, OverflowError, OSError) as exc:
                    scan.bad += 1
                    if len(scan.bad_lines) < SHOWN_BAD:
                        scan.bad_lines.append(BadLine(partition.name, number if numbered else None, offset,
                                                      _reason(exc)))
    except (DumpReadError, OSError) as exc:
        scan.error = f"{partition.name}: {exc}"
    return scan


def item_text(data: Any) -> str:
    """The text a dump line's item gets as a Post (what :func:`line_to_post` would give it, without the
    cost of building the Post), after checking the fields every item needs.

    :raises ValueError, TypeError: the line is not a Reddit item; :raises KeyError: a field is missing.
    """
    if not isinstance(data, dict):
        raise TypeError(f"a JSON {type(data).__name__}, not an object")
    if "title" not in data and "body" not in data:
        raise ValueError("neither a submission (no title) nor a comment (no body)")
    if "created_utc" not in data:
        raise KeyError("created_utc")
    if not data.get("id") and not data.get("name"):
        raise KeyError("id")
    if "title" in data:
        # As collectors.reddit_items.submission_to_post: the title alone for a link post.
        title, selftext = data.get("title") or "", data.get("selftext") or ""
        return f"{title}\n\n{selftext}" if selftext else title
    return data.get("body") or ""


def line_to_post(data: Any) -> Post:
    """A dump line's JSON object as a Post: a submission if it has a ``title``, a comment if a ``body``.

    The fullname is ``name``, else ``id`` with the kind's prefix (a dump line need not carry ``name``).

    :raises ValueError: the object is not a Reddit item; :raises KeyError: a required field is missing.
    """
    if not isinstance(data, dict):
        raise TypeError(f"a JSON {type(data).__name__}, not an object")
    if "title" in data:
        prefix, to_post = "t3_", submission_to_post
    elif "body" in data:
        prefix, to_post = "t1_", comment_to_post
    else:
        raise ValueError("neither a submission (no title) nor a comment (no body)")
    ident, name = data.get("id"), data.get("name")
    if not ident or not name:
        if ident:
            name = prefix + str(ident)
        elif name:
            ident = str(name).split("_", 1)[-1]
        else:
            raise KeyError("id")
        data = {**data, "id": ident, "name": name}
    return to_post(data)


def _reason(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"no {exc.args[0]!r} field"
    if isinstance(exc, json.JSONDecodeError):
        return f"not JSON ({exc.msg}: column {exc.colno})"
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 (byte {exc.start})"
    return f"not a Reddit item ({str(exc)[:80]})"


def _range_lines(fh: BinaryIO, start: int, end: int) -> Iterator[tuple[int, bytes]]:
    """(offset, line) for the lines of ``fh`` that start in ``[start, end)``."""
    position = 0
    if start > 0:
        # Byte start-1 decides: a newline there means a line starts exactly at `start` and is ours.
        fh.seek(start - 1)
        position = start - 1 + len(fh.readline())
    for line in fh:
        if position >= end:
            return
        yield position, line
        position += len(line)


def _zstd_lines(fh: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """(offset in the decompressed stream, line) for every line of a zstd file."""
    position, rest = 0, b""
    for chunk in _zstd_chunks(fh):
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        for line in lines:
            yield position, line
            position += len(line) + 1
    if rest:
        yield position, rest


def _zstd_chunks(fh: BinaryIO) -> Iterator[bytes]:
    """The decompressed bytes of every frame of a zstd file, in pieces.

    zstandard's stream reader ends quietly at a truncated frame (a half-downloaded dump): the
    decompressor's ``eof`` flag is checked instead, so the end of such a file is an error.
    """
    decompressor = zstandard.ZstdDecompressor(max_window_size=MAX_WINDOW)
    frame, fed = decompressor.decompressobj(), False
    try:
        while data := fh.read(READ_SIZE):
            while data:
                fed = True
                out = frame.decompress(data)
                if out:
                    yield out
                if not frame.eof:
                    break
                data = frame.unused_data  # the start of the next frame, if any
                frame, fed = decompressor.decompressobj(), False
    except zstandard.ZstdError as exc:
        raise DumpReadError(f"corrupt zstd data: {exc}") from None
    if fed:
        raise DumpReadError("the zstd stream ends in the middle of a frame (a truncated download?)")
