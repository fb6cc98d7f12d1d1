"""Crash safety: ``dipwatch import`` and ``dipwatch export`` SIGKILLed at seeded random moments.

Each import round starts on a fresh database and kills several attempts in a row, each attempt being
the re-run of the one killed before it; after every kill the database passes ``PRAGMA
integrity_check`` and holds whole batches only; the round ends with a run that must complete, after
which the store must equal a clean run's exactly. Kill moments are drawn per phase (start-up,
validation, writing) from the phase boundaries measured on the clean run, so the spread holds on a
slow or a fast machine. ``DIPWATCH_ADVERSARIAL_KILLS`` sets the number of import kills (default 25).
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

from dipwatch.jobs.ingest import BATCH

from .support import integrity, run_cli, snapshot, start_cli, write_posts_csv

KILLS = int(os.environ.get("DIPWATCH_ADVERSARIAL_KILLS", "25"))
EXPORT_KILLS = max(5, KILLS // 5)
SEED = int(os.environ.get("DIPWATCH_ADVERSARIAL_SEED", "20261001"))
ROWS = 2 * BATCH + BATCH // 2  # three batches: kills can land between commits
PER_ROUND = 6
AUTHORS = [f"u{k}" for k in range(97)]
PHASES = ("start-up", "validation", "write")


@dataclass(frozen=True)
class CleanRun:
    db: Path
    content: dict
    opened_after: float  # seconds from the process start until it had the database open


def _posts_state(db: Path) -> tuple[int, int, int] | None:
    """(posts, mentions, scores), or None while the schema does not exist yet."""
    if not db.exists():
        return None
    try:
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
            return tuple(conn.execute(
                "SELECT (SELECT count(*) FROM posts), (SELECT count(*) FROM mentions),"
                " (SELECT count(*) FROM scores)").fetchone())
    except sqlite3.OperationalError:
        return None


def _has_open(pid: int, path: Path) -> bool:
    """Whether process ``pid`` holds ``path`` open (Linux /proc): it is past start-up."""
    target = str(path.resolve())
    try:
        entries = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for entry in entries:
        try:
            if os.readlink(f"/proc/{pid}/fd/{entry}") == target:
                return True
        except OSError:
            continue
    return False


def _wait_for(proc, condition, limit: float = 60.0) -> bool:
    deadline = time.monotonic() + limit
    while proc.poll() is None and time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("crash")


@pytest.fixture(scope="module")
def posts_file(work: Path) -> Path:
    return write_posts_csv(work / "posts.csv", ROWS, seed=SEED)


@pytest.fixture(scope="module")
def clean(work: Path, posts_file: Path) -> CleanRun:
    """An import never interrupted: the reference content, and how long its start-up took."""
    db = work / "clean.db"
    started = time.monotonic()
    proc = start_cli(["import", posts_file, "--brand", "acme", "--db", db], work)
    _wait_for(proc, lambda: _has_open(proc.pid, db))
    opened_after = time.monotonic() - started
    out, err = proc.communicate()
    assert proc.returncode == 0, err
    assert f"new: {ROWS}" in out
    content = snapshot(db, AUTHORS)
    assert len(content["posts"]) == ROWS
    return CleanRun(db, content, opened_after)


def _check_after_kill(db: Path) -> int:
    """Integrity and batch atomicity after a kill; returns the posts stored."""
    if db.exists():
        assert integrity(db) == "ok"
    state = _posts_state(db)
    if state is None:
        return 0
    posts, mentions, scores = state
    # Each batch commits its posts, mentions and scores together: never a post without the others.
    assert posts == mentions == scores, state
    assert posts % BATCH == 0 or posts == ROWS, f"a partial batch was committed: {posts} posts"
    with closing(sqlite3.connect(db)) as conn:
        dupes = conn.execute("SELECT count(*) FROM (SELECT source, post_id FROM posts"
                             " GROUP BY source, post_id HAVING count(*) > 1)").fetchone()[0]
    assert dupes == 0
    return posts


def _kill_at(phase: str, proc, db: Path, rng: random.Random, startup: float, stored: int
             ) -> tuple[bool, bool]:
    """Kill ``proc`` at a random moment of ``phase``: before it opens the database (start-up), after
    it opened it (validating the file, then scoring the first batch), or after it committed a batch
    in this attempt (writing). Returns whether it was killed (not ended first), and whether it had the
    database open at that moment."""
    if phase == "start-up":
        time.sleep(rng.uniform(0.05, 1.0) * startup)
    elif phase == "validation":
        _wait_for(proc, lambda: _has_open(proc.pid, db))
        time.sleep(rng.uniform(0.0, 0.8))
    else:
        _wait_for(proc, lambda: (_posts_state(db) or (0,))[0] > stored)
        time.sleep(rng.uniform(0.0, 0.5))
    was_open = _has_open(proc.pid, db)
    if proc.poll() is not None:
        return False, was_open
    proc.kill()
    return True, was_open


def test_import_killed_at_random_moments_resumes_to_the_clean_result(work, posts_file, clean):
    rng = random.Random(SEED)
    kills, attempts, rounds = 0, 0, 0
    aimed = dict.fromkeys(PHASES, 0)
    seen = {"before the database was open": 0, "database open, no batch committed": 0,
            "batches committed by this attempt": 0}
    while kills < KILLS:
        assert attempts < KILLS * 3, f"only {kills} of {attempts} attempts were still running when killed"
        rounds += 1
        db = work / f"round{rounds}.db"
        for _ in range(PER_ROUND):
            phase = PHASES[attempts % len(PHASES)]
            attempts += 1
            stored = (_posts_state(db) or (0,))[0]
            proc = start_cli(["import", posts_file, "--brand", "acme", "--db", db], work)
            killed, was_open = _kill_at(phase, proc, db, rng, clean.opened_after, stored)
            if killed:
                kills += 1
                aimed[phase] += 1
            _out, err = proc.communicate()
            assert "Traceback" not in err, err
            now_stored = _check_after_kill(db)
            if proc.returncode == -9:
                key = ("batches committed by this attempt" if now_stored > stored
                       else "database open, no batch committed" if was_open
                       else "before the database was open")
                seen[key] += 1
            if kills >= KILLS:
                break
        final = run_cli(["import", posts_file, "--brand", "acme", "--db", db], work)
        assert final.returncode == 0, final.stderr
        assert integrity(db) == "ok"
        assert snapshot(db, AUTHORS) == clean.content, f"round {rounds}: store differs from a clean run"
    print(f"\nimport: {kills} SIGKILLs in {attempts} attempts over {rounds} rounds; aimed at {aimed}; "
          f"observed {seen}")
    assert all(seen.values()), f"the kills did not reach every phase: {seen}"


def test_export_killed_midway_never_leaves_a_partial_file(work, clean):
    """``export -o`` writes a temporary ``.part`` beside the output and renames it when done."""
    db = work / "export.db"
    shutil.copy(clean.db, db)
    out_dir = work / "exports"
    out_dir.mkdir()
    reference = run_cli(["export", "posts", "--brand", "acme", "--db", db, "-o", work / "full.csv"], work)
    assert reference.returncode == 0, reference.stderr
    full = (work / "full.csv").read_bytes()
    assert full.count(b"\n") > ROWS
    rng = random.Random(SEED + 1)
    kills, seen_part = 0, 0
    out = out_dir / "out.csv"
    for _ in range(EXPORT_KILLS * 3):
        out.unlink(missing_ok=True)
        before = set(out_dir.glob("*.part"))
        proc = start_cli(["export", "posts", "--brand", "acme", "--db", db, "-o", out], work)
        deadline = time.monotonic() + 60
        # Wait for the temporary file (the write has begun), then kill within the next fraction of a second.
        while (proc.poll() is None and not set(out_dir.glob("*.part")) - before
               and time.monotonic() < deadline):
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.3))
        if proc.poll() is None:
            proc.kill()
            kills += 1
        proc.communicate()
        assert not out.exists() or out.read_bytes() == full, "a killed export left a partial out.csv"
        seen_part += len(set(out_dir.glob("*.part")) - before)
        if kills >= EXPORT_KILLS:
            break
    assert kills >= EXPORT_KILLS, f"only {kills} exports were still running when killed"
    leftovers = sorted(p.name for p in out_dir.glob("*.part"))
    print(f"\nexport: {kills} SIGKILLs; temporary files left behind: {len(leftovers)} {leftovers[:3]}")
    # A later export still succeeds beside the leftovers and produces the whole file.
    again = run_cli(["export", "posts", "--brand", "acme", "--db", db, "-o", out], work)
    assert again.returncode == 0, again.stderr
    assert out.read_bytes() == full
    assert all(p.name.startswith(".out.csv.") for p in out_dir.glob("*.part"))
