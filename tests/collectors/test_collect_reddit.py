"""The collect job with the Reddit collector: re-runs, SIGKILL mid-run, overlapping runs, one brand failing.

praw runs against the local Reddit server (reddit_server.py); the job against a SQLite file in tmp_path.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from reddit_server import RedditServer, populate

from dipwatch.core.brands import Brand
from dipwatch.core.config import Settings
from dipwatch.jobs.collect import run_collect
from dipwatch.store import Store

CLI = [sys.executable, "-c", "from dipwatch.cli.main import main; main()"]


def settings_for(server: RedditServer, db_path: Path, **brands: list[str]) -> Settings:
    by_key = {key: Brand(key=key, name=key.title(), terms=(key.title(),),
                         sources={"reddit": {"subreddits": subs}}) for key, subs in brands.items()}
    return Settings(db_url=f"sqlite:///{db_path}", brands=by_key,
                    sources={"reddit": {"oauth_url": server.url, "reddit_url": server.url}})


def write_config(server: RedditServer, path: Path) -> Path:
    path.write_text(
        f'[sources.reddit]\noauth_url = "{server.url}"\nreddit_url = "{server.url}"\n\n'
        '[brands.acme]\nname = "Acme"\nterms = ["Acme"]\n\n'
        '[brands.acme.sources.reddit]\nsubreddits = ["unitedkingdom"]\n', encoding="utf-8")
    return path


def stored(db_path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db_path) as conn:
        return sorted(conn.execute("SELECT source, post_id FROM posts"))


def runs(db_path: Path) -> list[dict]:
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("SELECT brand, status, counts, message FROM runs ORDER BY id").fetchall()
    return [{"brand": b, "status": s, **json.loads(c), "message": m} for b, s, c, m in rows]


def cli_env(reddit_env: dict[str, str], db_path: Path, config: Path) -> dict[str, str]:
    return {**os.environ, **reddit_env, "DIPWATCH_DB": str(db_path), "DIPWATCH_CONFIG": str(config)}


def test_second_run_adds_only_new_items(reddit_server, reddit_env, tmp_path):
    db_path = tmp_path / "dipwatch.db"
    settings = settings_for(reddit_server, db_path, acme=["unitedkingdom"])
    populate(reddit_server.state, "unitedkingdom", 150, comments_per_post=1)
    with Store(settings.db_url) as store:
        assert run_collect(settings, store, env=reddit_env) == 0
        first = stored(db_path)
        populate(reddit_server.state, "unitedkingdom", 4, comments_per_post=2)
        assert run_collect(settings, store, env=reddit_env) == 0
    assert len(first) == 300
    assert len(stored(db_path)) == 300 + 12
    assert [(r["status"], r["new"]) for r in runs(db_path)] == [("ok", 300), ("ok", 12)]
    assert runs(db_path)[1]["fetched"] == 12  # nothing stored before was fetched again


def test_killed_runs_then_rerun_store_what_a_clean_run_stores(reddit_server, reddit_env, tmp_path):
    state = reddit_server.state
    populate(state, "unitedkingdom", 400, comments_per_post=1)
    clean_db = tmp_path / "clean.db"
    with Store(f"sqlite:///{clean_db}") as store:
        assert run_collect(settings_for(reddit_server, clean_db, acme=["unitedkingdom"]), store,
                           env=reddit_env) == 0
    clean = stored(clean_db)
    assert len(clean) == 800

    db_path = tmp_path / "killed.db"
    env = cli_env(reddit_env, db_path, write_config(reddit_server, tmp_path / "dipwatch.toml"))
    state.page_delay = 0.4  # each search page takes 0.4 s: kills land between and during page writes
    rng = random.Random(20240611)
    killed_with_data = 0
    for _ in range(4):
        before = len(stored(db_path)) if db_path.exists() else 0
        process = subprocess.Popen([*CLI, "collect"], env=env, cwd=tmp_path,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started = time.monotonic()
        while not state.paths() or time.monotonic() - started < 0.2:  # let it get going
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 1.2))
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=10) == -signal.SIGKILL
        state.requests.clear()
        killed_with_data += len(stored(db_path)) > before if db_path.exists() else 0
    assert killed_with_data >= 1  # at least one kill came after some pages were written

    state.page_delay = 0.0
    done = subprocess.run([*CLI, "collect"], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert stored(db_path) == clean
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT COUNT(*) FROM mentions").fetchone() == (800,)
        scored = conn.execute("SELECT COUNT(DISTINCT post) FROM scores").fetchone()
        assert scored == (800,)


def test_second_collect_process_exits_at_once_while_one_runs(reddit_server, reddit_env, tmp_path):
    state = reddit_server.state
    populate(state, "unitedkingdom", 300)
    state.page_delay = 1.0
    db_path = tmp_path / "dipwatch.db"
    env = cli_env(reddit_env, db_path, write_config(reddit_server, tmp_path / "dipwatch.toml"))
    first = subprocess.Popen([*CLI, "collect"], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while not state.paths() and time.monotonic() < deadline:
            time.sleep(0.02)
        started = time.monotonic()
        second = subprocess.run([*CLI, "collect"], env=env, cwd=tmp_path, capture_output=True,
                                text=True, timeout=60, check=False)
        assert second.returncode == 0
        assert "in progress" in second.stderr
        assert first.poll() is None  # the second did not wait for the first
        assert time.monotonic() - started < 10
    finally:
        _, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert len(stored(db_path)) == 300


def test_other_brands_collected_when_one_brand_fails_with_503s(reddit_server, reddit_env, tmp_path):
    state = reddit_server.state
    state.add_submission("unitedkingdom", "Acme is down", "")
    state.add_submission("CasualUK", "Globex is down", "")
    state.fail("status", "/r/unitedkingdom/search/", times=3, status=503)
    db_path = tmp_path / "dipwatch.db"
    settings = settings_for(reddit_server, db_path, acme=["unitedkingdom"], globex=["CasualUK"])
    with Store(settings.db_url) as store:
        assert run_collect(settings, store, env=reddit_env) == 1
    log = {r["brand"]: r for r in runs(db_path)}
    assert log["acme"]["status"] == "failed"
    assert "503 server error" in log["acme"]["message"]
    assert (log["globex"]["status"], log["globex"]["new"]) == ("ok", 1)
    assert len(stored(db_path)) == 1


@pytest.mark.parametrize("missing", ["REDDIT_CLIENT_SECRET"])
def test_missing_credentials_exit_2_and_say_what_to_set(reddit_server, reddit_env, tmp_path, missing):
    db_path = tmp_path / "dipwatch.db"
    env = cli_env(reddit_env, db_path, write_config(reddit_server, tmp_path / "dipwatch.toml"))
    del env[missing]
    done = subprocess.run([*CLI, "collect"], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 2
    assert missing in done.stderr
    assert "dipwatch import" in done.stderr


def test_prune_deletes_what_authors_deleted_with_its_scores(reddit_server, reddit_env, tmp_path):
    db_path = tmp_path / "dipwatch.db"
    config = write_config(reddit_server, tmp_path / "dipwatch.toml")
    state = reddit_server.state
    names = [state.add_submission("unitedkingdom", f"Acme is down {n}", "x") for n in range(5)]
    env = cli_env(reddit_env, db_path, config)
    subprocess.run([*CLI, "collect"], env=env, check=True, timeout=60)
    assert len(stored(db_path)) == 5
    state.deleted[names[1]] = "[deleted]"
    state.deleted[names[3]] = "[removed]"
    result = subprocess.run([*CLI, "prune", "--source", "reddit"], env=env, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "checked: 5, removed: 2"
    assert stored(db_path) == sorted(("reddit", n) for n in names if n not in (names[1], names[3]))
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM scores").fetchone()[0] == 3
        assert conn.execute("SELECT count(*) FROM mentions").fetchone()[0] == 3
    ancient = subprocess.run([*CLI, "prune", "--older-than", "5200w"], env=env, capture_output=True,
                             text=True, timeout=60, check=False)
    assert ancient.stdout.strip() == "checked: 0, removed: 0"  # nothing is a century old
    bad = subprocess.run([*CLI, "prune", "--older-than", "soon"], env=env, capture_output=True, text=True,
                         timeout=60, check=False)
    assert bad.returncode == 2
    assert "--older-than: 'soon' is not a duration" in bad.stderr
