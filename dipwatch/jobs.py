"""Jobs: compose collectors, scoring and the store (import, score, demo build)."""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from analysis.sentiment import Score, ScoringPool, score_texts, scorer_id
from collectors.files import Rejected, read_posts
from dipwatch.brands import Brand
from dipwatch.posts import Post
from dipwatch.store import Checkpoint, ScoredPost, Store

BATCH = 2000
# Rows an import scores at once: at least analysis.sentiment.PARALLEL_MIN_TEXTS, so the block is
# scored on every core, then stored in transactions of BATCH; one block is held in memory at a time.
IMPORT_BLOCK = 20_000
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


def author_hash(salt: str, author: str | None) -> str | None:
    """A salted hash of the author: stable within one database, not reversible to the name."""
    if not author:
        return None
    return hashlib.sha256(f"{salt}\0{author}".encode()).hexdigest()[:32]


def score_new(store: Store, batch: list[tuple[Post, list[tuple[str, str]]]]) -> dict[tuple[str, str], Score]:
    """Score the posts of ``batch`` that are not stored yet: {(source, post_id): score}.

    A batch of 5,000 new posts or more is scored on every core (``analysis.sentiment.score_texts``).
    """
    fresh = [post for post, _ in _not_stored(store, batch)]
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
            score=(score.compound, score.pos, score.neu, score.neg) if score else None,
        ))
    return store.save_posts(items, scorer_id(), checkpoint)


def import_file(store: Store, path: Path, brand: Brand, source: str = "file", match: bool = False,
                tz: tzinfo | None = None, skip_bad: bool = False) -> ImportReport:
    """Import a CSV or JSONL file of posts for ``brand``.

    The file is read once: every row is validated, and the rows to import are kept in a temporary
    spool file. Unless ``skip_bad``, a file with any rejected row writes nothing, so a re-run after
    fixing it starts from a clean state. Then blocks of ``IMPORT_BLOCK`` rows are scored on every
    core while the previous block is stored, in transactions of ``BATCH``.

    :raises collectors.base.InputError: when the file as a whole is unusable (nothing is written).
    """
    report = ImportReport(str(path))
    with tempfile.TemporaryFile(prefix="dipwatch-import-") as spool:
        blocks = _validate_and_spool(path, source, tz, brand, match, skip_bad, report, spool)
        if report.rejected and not skip_bad:
            return report
        started = datetime.now(UTC)
        salt = store.get_meta("author_salt")
        spool.seek(0)
        with ScoringPool() as pool:
            waiting = None  # (block, its scores when they are ready)
            for _ in range(blocks):
                # Our own anonymous temp file, written above by this process: trusted data.
                block = pickle.load(spool)  # noqa: S301
                fresh = _not_stored(store, block)
                scoring = pool.submit([post.text for post, _ in fresh])
                if waiting is not None:
                    _save_block(store, *waiting, salt, report)
                waiting = (block, fresh, scoring)
            if waiting is not None:
                _save_block(store, *waiting, salt, report)
    report.written = True
    store.record_run("import", source, brand.key, started, "partial" if report.rejected else "ok",
                     report.counts(), message=str(path))
    return report


def _validate_and_spool(path: Path, source: str, tz: tzinfo | None, brand: Brand, match: bool,
                        skip_bad: bool, report: ImportReport, spool) -> int:
    """Read and check every row of ``path``; pickle the rows to import into ``spool`` in blocks of
    ``IMPORT_BLOCK`` (until a rejection, unless ``skip_bad``: then nothing will be imported).
    Returns the number of blocks written."""
    blocks = 0
    block: list[tuple[Post, list[tuple[str, str]]]] = []
    for _line, row in read_posts(path, source, tz):
        report.read += 1
        if isinstance(row, Rejected):
            report.rejected += 1
            if len(report.rejections) < SHOWN_REJECTIONS:
                report.rejections.append(row)
            continue
        term = brand.match(row.text) if match else brand.name
        if term is None:
            report.unmatched += 1
            continue
        if report.rejected and not skip_bad:
            continue  # still reading, to count and show the rejections; nothing will be stored
        block.append((row, [(brand.key, term)]))
        if len(block) >= IMPORT_BLOCK:
            pickle.dump(block, spool, pickle.HIGHEST_PROTOCOL)
            blocks += 1
            block = []
    if block:
        pickle.dump(block, spool, pickle.HIGHEST_PROTOCOL)
        blocks += 1
    return blocks


def _not_stored(store: Store, block: list[tuple[Post, list[tuple[str, str]]]]) -> list:
    """The rows of ``block`` whose post is not stored yet (only those are scored)."""
    by_source: dict[str, set[str]] = {}
    for post, _ in block:
        by_source.setdefault(post.source, set()).add(post.post_id)
    stored = {(s, pid) for s, ids in by_source.items() for pid in store.existing_post_ids(s, ids)}
    return [(post, found) for post, found in block if (post.source, post.post_id) not in stored]


def _save_block(store: Store, block: list[tuple[Post, list[tuple[str, str]]]], fresh: list,
                scoring, salt: str, report: ImportReport) -> None:
    """Store ``block`` once ``scoring`` gives the scores of its ``fresh`` rows."""
    scores = dict(zip(((post.source, post.post_id) for post, _ in fresh), scoring(), strict=True))
    for start in range(0, len(block), BATCH):
        _count(report, save_batch(store, block[start : start + BATCH], salt, scores=scores))


def _count(report: ImportReport, result) -> None:
    report.new += result.new
    report.existing += result.existing


def score_missing(store: Store, batch: int = 5000) -> int:
    """Score every stored post that has no score from the current scorer; return how many."""
    scorer, done = scorer_id(), 0
    while rows := store.unscored(scorer, batch):
        scores = score_texts(text for _, text in rows)
        store.save_scores(scorer, [
            (rowid, (s.compound, s.pos, s.neu, s.neg)) for (rowid, _), s in zip(rows, scores, strict=True)
        ])
        done += len(rows)
    return done


def build_demo(store: Store) -> int:
    """Fill ``store`` with the bundled demo scenario (simulated posts); return the posts stored."""
    from dipwatch.demo import generate_posts, load_scenario

    scenario = load_scenario()
    brands = {b.key: b for b in scenario.brands}
    for b in scenario.brands:
        store.ensure_brand(b.key, b.name, b.terms, origin="demo", competitors=b.competitors)
    salt = store.get_meta("author_salt")
    total = 0
    batch: list[tuple[Post, list[tuple[str, str]]]] = []
    for key, post in generate_posts(scenario):
        brand = brands[key]
        term = next((t for t in brand.terms if t.lower() in post.text.lower()), brand.name)
        batch.append((post, [(key, term)]))
        if len(batch) >= BATCH:
            total += save_batch(store, batch, salt).new
            batch = []
    total += save_batch(store, batch, salt).new
    store.add_outages([
        {"brand": o.brand, "start": o.start, "end": o.end, "label": o.label, "severity": o.severity,
         "origin": "demo"}
        for o in scenario.outages
    ])
    store.set_meta("as_of", scenario.as_of.isoformat())
    store.set_meta("demo", "simulated posts from the bundled demo scenario")
    return total


@contextmanager
def atomic_output(path: Path, binary: bool = False) -> Iterator:
    """Write to a temporary file beside ``path`` and rename it into place only on success, so an
    interrupted export never leaves a half-written file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent or ".")
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(fd, 0o666 & ~umask)  # mkstemp makes it private; an export gets the usual permissions
    try:
        mode = "wb" if binary else "w"
        with os.fdopen(fd, mode, **({} if binary else {"newline": "", "encoding": "utf-8"})) as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


