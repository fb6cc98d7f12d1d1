"""Import and scoring: posts from files and collectors, scored in batches and saved with their
mentions and checkpoint (one transaction per batch)."""

from __future__ import annotations

import errno
import functools
import hashlib
import operator
import pickle
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path

import sqlalchemy as sa

from analysis.sentiment import Score, ScoringPool, score_texts, scorer_id
from collectors.files import Rejected, SeenIds, duplicate_rejection, input_name, post_fields, read_rows
from dipwatch.core.brands import Brand, brand_from_name, known_brands, normalise_brand_name
from dipwatch.core.config import Settings
from dipwatch.core.records import Checkpoint, Post
from dipwatch.store import (
    ROW_POST_ID,
    ROW_SCORE,
    ROW_SOURCE,
    ROW_TEXT,
    ScoredPost,
    Store,
    StoreError,
)

BATCH = 2000
# Rows an import scores at once (on its ScoringPool), then stores in one transaction; two blocks are held
# in memory at a time (one scored, one stored). Larger transactions write the rollup's and the
# indexes' hot pages fewer times: 2,000-row transactions took 25% longer.
IMPORT_BLOCK = 20_000
# Rows an import's workers check at once (the file is read in this process, checked in the workers).
PARSE_CHUNK = 5000
SHOWN_REJECTIONS = 20


@dataclass
class ImportReport:
    """What an import did: rows read, new, already stored, not matching, rejected."""

    path: str
    read: int = 0
    new: int = 0
    existing: int = 0
    unmatched: int = 0
    rejected: int = 0
    rejections: list[Rejected] = field(default_factory=list)
    written: bool = False

    def counts(self) -> dict:
        return {"read": self.read, "new": self.new, "already_stored": self.existing,
                "unmatched": self.unmatched, "rejected": self.rejected}


@functools.lru_cache(maxsize=2**16)  # authors post again: an import hashed each of them per post
def author_hash(salt: str, author: str | None) -> str | None:
    """A salted hash of the author: stable within one database, not reversible to the name."""
    if not author:
        return None
    return hashlib.sha256(f"{salt}\0{author}".encode()).hexdigest()[:32]


def score_new(store: Store, batch: list[tuple[Post, list[tuple[str, str]]]]) -> dict[tuple[str, str], Score]:
    """Score the posts of ``batch`` that are not stored yet: {(source, post_id): score}.

    A batch of 5,000 new posts or more is scored on every core (``analysis.sentiment.score_texts``).
    """
    fresh = _not_stored(store, [post for post, _ in batch])
    return dict(zip(((p.source, p.post_id) for p in fresh), score_texts(p.text for p in fresh), strict=True))


def save_batch(store: Store, batch: list[tuple[Post, list[tuple[str, str]]]], salt: str,
               checkpoint: Checkpoint | None = None, scores: dict[tuple[str, str], Score] | None = None):
    """Score the posts of ``batch`` that are not stored yet, then store the whole batch (and the
    checkpoint that covers it) in one transaction.

    :param scores: the new posts' scores, from ``score_new`` on a block holding this batch; default:
        score them here. A post with no score here is taken to be stored already.
    """
    scored = score_new(store, batch) if scores is None else scores
    items = []
    for post, mentions in batch:
        score = scored.get((post.source, post.post_id))
        items.append(ScoredPost(
            post=post,
            author_hash=author_hash(salt, post.author),
            mentions=mentions,
            score=score.row if score else None,
        ))
    return store.save_posts(items, scorer_id(), checkpoint)


def import_file(store: Store, path: Path, brand: Brand, source: str = "file", match: bool = False,
                tz: tzinfo | None = None, skip_bad: bool = False) -> ImportReport:
    """Import a CSV or JSONL file of posts for ``brand``.

    The file is read once, in this process; its rows are checked in worker processes (one fewer than
    the CPUs), in chunks of ``PARSE_CHUNK``, and the rows to import are kept in a temporary spool
    file. Unless ``skip_bad``, a file with any rejected row writes nothing, so a re-run after fixing
    it starts from a clean state. Then blocks of ``IMPORT_BLOCK`` rows are scored by the workers
    while this process stores the previous block, each block in one transaction.

    :raises collectors.base.InputError: when the file as a whole is unusable (nothing is written).
    """
    report = ImportReport(input_name(path))
    salt = store.get_meta("author_salt")
    rows = read_rows(path)  # the format and the header are checked here, before any worker starts
    try:
        return _import_rows(store, rows, report, salt, brand, source, match, tz, skip_bad)
    except (OSError, sqlite3.OperationalError, sa.exc.OperationalError) as exc:
        if not _disk_full(exc):
            raise
        if isinstance(exc, sa.exc.OperationalError):
            where = sa.engine.make_url(store.url).render_as_string(hide_password=True)
            where = where.removeprefix("sqlite:///")
            what = "the database or its disk is full"
        else:  # the spool, or SeenIds' private database: both in the temporary folder
            where = tempfile.gettempdir()
            what = ("no space left for the import's temporary files (about the size of the input; "
                    "TMPDIR can point to a roomier folder)")
        stored = (f"; {report.new} new posts were stored before it, in whole blocks, and a re-run "
                  "skips them" if report.new else "; nothing was imported")
        raise StoreError(f"{where}: {what}{stored}") from None


def import_for_brand(settings: Settings, store: Store, path: Path, brand: str, source: str = "file",
                     match: bool = False, tz: tzinfo | None = None,
                     skip_bad: bool = False) -> tuple[ImportReport, Brand, bool]:
    """Import a file's posts for ``brand``, a known brand or a new one named so (then matched by its
    name alone, and known from then on once a post is stored).

    :returns: the report, the brand and whether it was made a new brand.
    """
    brands = known_brands(settings, store)
    key = normalise_brand_name(brand)
    chosen = brands.get(key) or brand_from_name(brand)
    report = import_file(store, path, chosen, source=source, match=match, tz=tz, skip_bad=skip_bad)
    # Only the import that records the brand announces it: two importing it at once both wrote.
    new_brand = key not in brands and bool(report.written) and store.ensure_brand(
        chosen.key, chosen.name, chosen.terms, origin="import")
    return report, chosen, new_brand


def _disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says a disk (or a quota) is full: ENOSPC or EDQUOT from the OS, SQLite's
    SQLITE_FULL, PostgreSQL's class 53100 (disk_full)."""
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    orig = getattr(exc, "orig", exc)
    return ("database or disk is full" in str(orig) or getattr(orig, "sqlite_errorname", "") == "SQLITE_FULL"
            or getattr(orig, "sqlstate", None) == "53100")


def _import_rows(store: Store, rows, report: ImportReport, salt: str, brand: Brand, source: str,
                 match: bool, tz: tzinfo | None, skip_bad: bool) -> ImportReport:
    """The rest of :func:`import_file`, once the file's format and header are known good."""
    # One pool for both steps: its workers fork once, from this process while it is still small.
    with tempfile.TemporaryFile(prefix="dipwatch-import-") as spool, ScoringPool(beside=True) as pool:
        check = _RowCheck(source, tz, brand, match, salt)
        chunks = _check_and_spool(pool.map(check, _chunks(rows, PARSE_CHUNK)), skip_bad, report, spool)
        if report.rejected and not skip_bad:
            return report
        started = datetime.now(UTC)
        spool.seek(0)
        waiting = None  # (block, its new rows, their scores when they are ready)
        for block in _spooled_blocks(spool, chunks):
            fresh = _not_stored(store, block, _ROW_KEY)
            scoring = pool.rows([row[ROW_TEXT] for row in fresh])
            if waiting is not None:
                _save_block(store, *waiting, report)
            waiting = (block, fresh, scoring)
        if waiting is not None:
            _save_block(store, *waiting, report)
    report.written = True
    store.record_run("import", source, brand.key, started, "partial" if report.rejected else "ok",
                     report.counts(), message=report.path)
    return report


@dataclass(frozen=True)
class _RowCheck:
    """What a worker needs to turn raw rows into posts to import (pickled with every chunk)."""

    source: str
    tz: tzinfo | None
    brand: Brand
    match: bool
    salt: str

    def __call__(self, rows: list[tuple[int, dict | Rejected]]) -> tuple[list, list[Rejected], bytes]:
        """Check one chunk of rows from :func:`collectors.files.read_rows`.

        :returns: ``(line, post id, matched)`` of every good row, the rejected rows, and the pickled
            :class:`dipwatch.store.PostRow` of the good rows that mention the brand, not scored yet
            (the caller writes these bytes to the spool as they are: they are pickled once, here).
        """
        good, rejected, kept = [], [], []
        for line, row in rows:
            if isinstance(row, Rejected):
                rejected.append(row)
                continue
            try:  # the checks of to_post, without making a Post only to take it apart again
                post_id, created, text, author, url, engagement = post_fields(row, self.tz)
            except ValueError as exc:
                rejected.append(Rejected(line, str(exc)))
                continue
            term = self.brand.match(text) if self.match else self.brand.name
            good.append((line, post_id, term is not None))
            if term is not None:  # PostRow's fields, as a plain tuple: a named tuple is pickled
                # through its class, 5x slower to write and 3x to read
                kept.append((self.source, post_id, "post", created, text,
                             author_hash(self.salt, author), url, None, engagement, None,
                             ((self.brand.key, term),), None))
        return good, rejected, pickle.dumps(kept, pickle.HIGHEST_PROTOCOL)


def _check_and_spool(checked: Iterator[tuple], skip_bad: bool, report: ImportReport, spool) -> int:
    """Count the ``checked`` chunks (what :class:`_RowCheck` gives, in file order), reject repeated
    ids, and write the rows to import to ``spool`` (until a rejection, unless ``skip_bad``: then
    nothing will be imported). Returns the number of chunks written."""
    written = 0
    with closing(SeenIds()) as seen:
        for good, rejected, blob in checked:
            repeated = seen.repeats([(line, post_id) for line, post_id, _ in good])
            report.read += len(good) + len(rejected)
            rejected += [duplicate_rejection(line, post_id, repeated[line]) for line, post_id, _ in good
                         if line in repeated]
            report.unmatched += sum(1 for line, _, matched in good if not matched and line not in repeated)
            report.rejected += len(rejected)
            shown = SHOWN_REJECTIONS - len(report.rejections)
            report.rejections += sorted(rejected, key=lambda r: r.line)[:max(shown, 0)]
            if report.rejected and not skip_bad:
                continue  # still reading, to count and show the rejections; nothing will be stored
            if any(matched and line in repeated for line, _, matched in good):  # rare: drop repeats
                # The pickled rows are the good rows that matched, in the same order.
                firsts = [line not in repeated for line, _, matched in good if matched]
                kept = pickle.loads(blob)  # noqa: S301 (our own worker's output, not outside data)
                blob = pickle.dumps([row for row, first in zip(kept, firsts, strict=True) if first],  # noqa: PLW2901
                                    pickle.HIGHEST_PROTOCOL)
            spool.write(len(blob).to_bytes(8, "little"))
            spool.write(blob)
            written += 1
    return written


def _chunks(rows, size: int) -> Iterator[list]:
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _spooled_blocks(spool, chunks: int) -> Iterator[list]:
    """The spooled rows again, in blocks of at least ``IMPORT_BLOCK``."""
    block: list = []
    for _ in range(chunks):
        size = int.from_bytes(spool.read(8), "little")
        # Our own anonymous temp file, written above by this process: trusted data.
        block += pickle.loads(spool.read(size))  # noqa: S301
        if len(block) >= IMPORT_BLOCK:
            yield block
            block = []
    if block:
        yield block


_POST_KEY = operator.attrgetter("source", "post_id")
_ROW_KEY = operator.itemgetter(ROW_SOURCE, ROW_POST_ID)


def _not_stored(store: Store, block: list, key=_POST_KEY) -> list:
    """The posts of ``block`` not stored yet (only those are scored): the block itself when none
    is. ``key`` gives an item's (source, post id): :class:`Post` by default, ``_ROW_KEY`` for
    :class:`dipwatch.store.PostRow` fields as tuples."""
    by_source: dict[str, set[str]] = {}
    for source, post_id in map(key, block):
        by_source.setdefault(source, set()).add(post_id)
    stored = {(s, pid) for s, ids in by_source.items() for pid in store.existing_post_ids(s, ids)}
    if not stored:
        return block
    return [item for item in block if key(item) not in stored]


def _save_block(store: Store, block: list[tuple], fresh: list[tuple], scoring,
                report: ImportReport) -> None:
    """Store ``block`` in one transaction, once ``scoring`` gives the scores of its ``fresh`` rows."""
    if fresh is block:  # all new: the usual case
        rows = [(*row[:ROW_SCORE], score) for row, score in zip(block, scoring(), strict=True)]
    else:
        scores = dict(zip(map(id, fresh), scoring(), strict=True))
        rows = [(*row[:ROW_SCORE], scores.get(id(row))) for row in block]
    _count(report, store.save_rows(rows, scorer_id()))


def _count(report: ImportReport, result) -> None:
    report.new += result.new
    report.existing += result.existing


def score_missing(store: Store, batch: int = 5000) -> int:
    """Score every stored post that has no score from the current scorer; return how many."""
    scorer, done = scorer_id(), 0
    while rows := store.unscored(scorer, batch):
        scores = score_texts(text for _, text in rows)
        store.save_scores(scorer, [
            (rowid, s.row) for (rowid, _), s in zip(rows, scores, strict=True)
        ])
        done += len(rows)
    return done
