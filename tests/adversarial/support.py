"""Helpers of the adversarial suite: generated post files, the CLI as a subprocess or through CliRunner,
and a database snapshot that compares two stores by content rather than by row ids."""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from click.testing import CliRunner, Result

REPO = Path(__file__).resolve().parents[2]
WORDS = ("acme", "down", "outage", "great", "terrible", "love", "hate", "slow", "app", "checkout", "broken",
         "fixed", "thanks", "again", "refund", "support", "queue", "login", "error", "payment", "failed")
BASE_EPOCH = 1_772_366_400  # 2026-03-01T12:00:00Z
# Mounting a file system (a tiny one, to fill; a read-only one) needs root; tests that do skip without.
CAN_MOUNT = os.geteuid() == 0 and shutil.which("mount") is not None
MOUNT, UMOUNT = shutil.which("mount") or "mount", shutil.which("umount") or "umount"


def write_posts_csv(path: Path, rows: int, seed: int, prefix: str = "p") -> Path:
    """A valid import file of ``rows`` posts with ids ``{prefix}0..``, a minute apart, mentioning Acme."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("id,created_at,text,author,url,engagement\n")
        for i in range(rows):
            text = "Acme " + " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12)))
            fh.write(f"{prefix}{i},{BASE_EPOCH + i * 60},{text},u{i % 97},"
                     f"https://example.com/{prefix}{i},{rng.randint(0, 500)}\n")
    return path


def cli_env(**extra: str) -> dict[str, str]:
    """The environment of a dipwatch subprocess: this checkout first on the path, no config file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIPWATCH_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["DIPWATCH_CONFIG"] = ""
    env.update(extra)
    return env


def start_cli(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """``python -m dipwatch.cli ARGS`` as a real process, its output captured; ``env`` adds to
    :func:`cli_env`."""
    return subprocess.Popen([sys.executable, "-m", "dipwatch.cli", *map(str, args)], cwd=cwd,
                            env=cli_env(**(env or {})), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def run_cli(args: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dipwatch.cli", *map(str, args)], cwd=cwd,
                          env=cli_env(), capture_output=True, text=True, timeout=timeout, check=False)


def invoke(args: list[str], cwd: Path) -> Result:
    """``dipwatch ARGS`` through CliRunner in ``cwd``, exceptions caught so a traceback shows as one."""
    from dipwatch.cli.main import cli

    old = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=True,
                                  env={"DIPWATCH_CONFIG": "", "DIPWATCH_DB": None})
    finally:
        os.chdir(old)


def assert_clean_outcome(result: Result) -> None:
    """Exit 0, or exit 2 with one ``Error:`` line; never an escaped exception or a traceback."""
    text = result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"exception reached the user: {result.exception!r}\n{text[-2000:]}")
    assert "Traceback" not in text, text[-2000:]
    assert result.exit_code in (0, 2), f"exit {result.exit_code}:\n{text[-2000:]}"
    if result.exit_code == 2:
        errors = [line for line in text.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1, f"expected one 'Error:' line:\n{text[-2000:]}"
        assert len(errors[0]) > len("Error: ") + 10, errors[0]


def one_error_line(done: subprocess.CompletedProcess) -> str:
    """The one ``Error:`` line of a process that exited 2 (its stderr as text or bytes), no traceback."""
    stderr = done.stderr if isinstance(done.stderr, str) else done.stderr.decode()
    assert done.returncode == 2, stderr
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("Error: "), stderr
    return lines[0]


def integrity(db: Path) -> str:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def snapshot(db: Path, authors: Iterable[str] = ()) -> dict[str, list[tuple]]:
    """The store's content by natural keys, row ids and collection times left out; lists sorted,
    duplicates kept. Author hashes are salted per database, so each is shown as the author of
    ``authors`` it is the hash of (``?`` when none is)."""
    from dipwatch.jobs.ingest import author_hash

    with closing(sqlite3.connect(db)) as conn:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "posts" not in tables:
            return {"posts": [], "mentions": [], "scores": [], "brands": [], "outages": []}

        (salt,) = conn.execute("SELECT value FROM meta WHERE key = 'author_salt'").fetchone()
        names = {author_hash(salt, a): a for a in authors}

        def rows(sql: str) -> list[tuple]:
            return sorted(conn.execute(sql).fetchall(), key=repr)

        posts = [(*row[:5], None if row[5] is None else names.get(row[5], "?"), *row[6:])
                 for row in rows("SELECT source, post_id, kind, created_at, text, author_hash, url,"
                                 " parent_id, engagement, rating FROM posts")]

        return {
            "posts": posts,
            "mentions": rows("SELECT p.source, p.post_id, m.brand, m.term, m.created_at FROM mentions m"
                             " JOIN posts p ON p.id = m.post"),
            "scores": rows("SELECT p.source, p.post_id, s.scorer, s.compound, s.pos, s.neu, s.neg"
                           " FROM scores s JOIN posts p ON p.id = s.post"),
            "brands": rows("SELECT key, name, terms, competitors, origin FROM brands"),
            "outages": rows("SELECT brand, starts_at, ends_at, label, severity, origin FROM outages"),
        }


def dump(db: Path) -> dict[str, list[tuple]]:
    """Every row of every table, exactly (ids and timestamps included): 'nothing changed' means this."""
    if not db.exists():
        return {}
    with closing(sqlite3.connect(db)) as conn:
        tables = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name")
        # A table without a rowid (voices) is read in its primary key's order.
        return {n: conn.execute(f'SELECT * FROM "{n}"'  # noqa: S608
                                + ("" if "WITHOUT ROWID" in sql.upper() else " ORDER BY rowid")).fetchall()
                for n, sql in tables.fetchall()}


@contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` (``64k``) mounted at the new folder ``where``, unmounted at the end: a real
    disk to fill (ENOSPC) or to remount read-only (:func:`remount_read_only`)."""
    where.mkdir()
    subprocess.run([MOUNT, "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run([UMOUNT, str(where)], check=True)


def remount_read_only(where: Path) -> None:
    subprocess.run([MOUNT, "-o", "remount,ro", str(where)], check=True)
