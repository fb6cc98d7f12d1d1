"""Crash safety and overlap of ``dipwatch collect``: a real process SIGKILLed at seeded random moments.

``dipwatch collect`` runs over two sources at once, Reddit (praw against reddit_server.py) and Hacker News
(the Algolia fake of hostile_servers.py), both slowed down so that kills land during start-up, between
pages, during page writes and in either source. Rounds start on a fresh database; each kill is followed by
``PRAGMA integrity_check`` and the next attempt resumes where the killed one stopped; a round ends with a
run that must complete, after which posts, mentions, scores and checkpoints must equal a clean
uninterrupted run's exactly (row ids and times left out), with nothing duplicated.

``DIPWATCH_ADVERSARIAL_COLLECT_KILLS`` sets the number of kills (default 25; the import crash tests add
theirs), ``DIPWATCH_ADVERSARIAL_SEED`` the seed.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from .hostile_servers import SUBREDDIT, HackerNews, Reddit, wait_until
from .support import cli_env, integrity, snapshot

KILLS = int(os.environ.get("DIPWATCH_ADVERSARIAL_COLLECT_KILLS", "25"))
SEED = int(os.environ.get("DIPWATCH_ADVERSARIAL_SEED", "20261001"))
PER_ROUND = 5  # attempts killed in a row on one database before a round's completing run
START_UP_SHARE = 0.2  # kills drawn in start-up, the rest mid-run
START_UP_WINDOW = (0.05, 0.6)  # seconds after the process starts (start-up takes 0.7 s or more)
RUN_WINDOW = (0.0, 2.5)  # seconds after the process's first request (a full run takes about 5 s)
REDDIT_PAGE_DELAY = 0.25  # each Reddit listing page (search and comments) during killed runs
HN_PAGE_DELAY = 0.12
SUBMISSIONS, HN_HITS = 150, 160
AUTHORS = ("alice", "bob", "someone")


@dataclass
class Sources:
    reddit: Reddit
    hackernews: HackerNews
    config: Path
    clean: dict  # the content of a clean, uninterrupted run
    clean_db: Path

    def slow(self, on: bool) -> None:
        self.reddit.state.page_delay = REDDIT_PAGE_DELAY if on else 0.0
        self.hackernews.delay = HN_PAGE_DELAY if on else 0.0

    def requests(self) -> int:
        """Requests both servers have seen (Reddit's token, listings and threads; Hacker News listings)."""
        return len(self.reddit.state.requests) + self.hackernews.listing_requests()

    def env(self, db: Path) -> dict[str, str]:
        return {**cli_env(DIPWATCH_DB=str(db), DIPWATCH_CONFIG=str(self.config)), **self.reddit.env()}


def write_config(path: Path, reddit: Reddit, hackernews: HackerNews) -> Path:
    path.write_text(f"""
[sources.reddit]
oauth_url = "{reddit.url}"
reddit_url = "{reddit.url}"

[sources.hackernews]
base_url = "{hackernews.url}"
hits_per_page = {hackernews.page_size}
timeout = 5

[brands.acme]
name = "Acme"
terms = ["Acme"]

[brands.acme.sources.reddit]
subreddits = ["{SUBREDDIT}"]

[brands.acme.sources.hackernews]
""", encoding="utf-8")
    return path


def content(db: Path) -> dict:
    """Posts, mentions, scores and checkpoints by natural keys (support.snapshot), duplicates kept."""
    found = snapshot(db, AUTHORS)
    with closing(sqlite3.connect(db)) as conn:
        found["checkpoints"] = sorted(conn.execute("SELECT source, brand, query, cursor FROM checkpoints"))
    return found


def posts_count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
            return conn.execute("SELECT count(*) FROM posts").fetchone()[0]
    except sqlite3.OperationalError:  # the schema does not exist yet
        return 0


def collect(sources: Sources, db: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "dipwatch.cli", "collect"], cwd=db.parent,
                            env=sources.env(db), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_first_request(sources: Sources, process: subprocess.Popen, seen: int) -> None:
    assert wait_until(lambda: sources.requests() > seen or process.poll() is not None, timeout=60)


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sources]:
    from dipwatch.core.config import load_settings
    from dipwatch.jobs.collect import run_collect
    from dipwatch.store import Store

    reddit, hackernews = Reddit().start(), HackerNews().start()
    reddit.populate_threads(SUBMISSIONS, comments_per_post=1)
    hackernews.populate(HN_HITS, datetime.now(UTC).replace(microsecond=0) - timedelta(hours=6),
                        step=timedelta(seconds=60))
    folder = tmp_path_factory.mktemp("collect-crash")
    config = write_config(folder / "dipwatch.toml", reddit, hackernews)
    clean_db = folder / "clean.db"
    settings = load_settings(db=str(clean_db), config=config)
    with Store(settings.db_url) as store:
        assert run_collect(settings, store, env=reddit.env()) == 0
    clean = content(clean_db)
    assert len(clean["posts"]) == 2 * SUBMISSIONS + HN_HITS
    assert len(clean["scores"]) == len(clean["posts"])
    yield Sources(reddit, hackernews, config, clean, clean_db)
    reddit.stop()
    hackernews.stop()


def test_collect_killed_at_random_moments_then_rerun_equals_a_clean_run(sources, tmp_path):
    rng = random.Random(SEED)
    kills, rounds, grew, in_hackernews = 0, 0, 0, 0
    while kills < KILLS:
        db = tmp_path / f"round{rounds}.db"
        sources.slow(True)
        for _ in range(PER_ROUND):
            before, hn_before = posts_count(db), sources.hackernews.listing_requests()
            requests = sources.requests()
            process = collect(sources, db)
            if rng.random() < START_UP_SHARE:  # during start-up: imports, config, opening the store
                deadline = time.monotonic() + rng.uniform(*START_UP_WINDOW)
            else:  # mid-run: timed from its first request, so a slow start-up does not eat the window
                wait_for_first_request(sources, process, requests)
                deadline = time.monotonic() + rng.uniform(*RUN_WINDOW)
            while time.monotonic() < deadline and process.poll() is None:
                time.sleep(0.01)
            if process.poll() is not None:  # it finished before its moment came: the round is complete
                _, err = process.communicate()
                assert process.returncode == 0, err[-3000:]
                break
            process.send_signal(signal.SIGKILL)
            if process.wait(timeout=10) == 0:  # it finished between the look above and the kill
                process.communicate()
                break
            assert process.returncode == -signal.SIGKILL, process.communicate()[1][-3000:]
            process.communicate()
            kills += 1
            if db.exists():
                assert integrity(db) == "ok", f"kill {kills}: the database is damaged"
            grew += posts_count(db) > before
            in_hackernews += sources.hackernews.listing_requests() > hn_before
            if kills >= KILLS:
                break
        sources.slow(False)
        done = subprocess.run([sys.executable, "-m", "dipwatch.cli", "collect"], cwd=tmp_path,
                              env=sources.env(db), capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr[-3000:]
        assert "Traceback" not in done.stderr
        assert integrity(db) == "ok"
        assert content(db) == sources.clean, f"round {rounds}: the store differs from a clean run's"
        rounds += 1
    assert kills >= KILLS
    assert grew >= 3, f"only {grew} of {kills} kills came after a page was stored"
    assert in_hackernews >= 2, f"only {in_hackernews} of {kills} kills came once Hacker News was read"


@pytest.mark.parametrize("database", ["fresh", "filled"])
def test_two_collect_runs_started_together_one_runs_one_exits_at_once(sources, database, tmp_path):
    """Two schedulers fire at the same moment: exactly one process collects both sources; the other exits
    0 at once, saying a run is in progress. On a fresh database (the first tick after installing) three
    times, as both processes then also create the schema; on a filled one (a copy of the clean run's)."""
    sources.slow(True)
    try:
        for attempt in range(3 if database == "fresh" else 1):
            db = tmp_path / f"dipwatch-{attempt}.db"
            if database == "filled":
                shutil.copy(sources.clean_db, db)
            first, second = collect(sources, db), collect(sources, db)
            ended: dict[int, float] = {}

            def both_done(pair=(first, second), ended=ended) -> bool:
                for number, process in enumerate(pair):
                    if process.poll() is not None and number not in ended:
                        ended[number] = time.monotonic()
                return len(ended) == 2

            assert wait_until(both_done, timeout=90, step=0.01), f"try {attempt}: a run did not end"
            outputs = [p.communicate() for p in (first, second)]
            codes = [p.returncode for p in (first, second)]
            errors = [err[-2000:] for _, err in outputs]
            assert codes == [0, 0], f"{database} database, try {attempt}: exit codes {codes}: {errors}"
            waiting = [n for n, (_, err) in enumerate(outputs) if "in progress" in err]
            assert len(waiting) == 1, f"try {attempt}: expected one 'in progress' exit: {errors}"
            loser, winner = waiting[0], 1 - waiting[0]
            assert ended[loser] < ended[winner] - 0.5, f"try {attempt}: the second run did not exit at once"
            assert "Traceback" not in errors[0] + errors[1]
            assert content(db) == sources.clean, f"try {attempt}: the store differs from a clean run's"
    finally:
        sources.slow(False)
