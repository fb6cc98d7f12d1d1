"""``dipwatch status``: the sqlite3-only read path (dipwatch.store.lite) answers exactly as the Store does,
without importing SQLAlchemy, and everything it cannot read goes through the Store as before."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dipwatch.core.records import Post
from dipwatch.store import SCHEMA_VERSION, ScoredPost, Store
from dipwatch.store import lite as store_lite
from dipwatch.store.lite import STATUS_SCHEMA_VERSIONS, collect_status_lite
from tests.adversarial.support import cli_env


def at_second(when: datetime) -> datetime:
    return datetime.fromtimestamp(int(when.timestamp()), UTC)


def scored(source: str, post_id: str, created_at: datetime, brands: tuple[str, ...]) -> ScoredPost:
    post = Post(source=source, post_id=post_id, created_at=created_at, text=f"{' '.join(brands)} is down")
    return ScoredPost(post=post, author_hash=None, mentions=[(b, b) for b in brands],
                      score=(-0.5, 0.0, 0.6, 0.4))


def fill(store: Store, now: datetime, edge: bool = False) -> None:
    """Runs of every kind status tells apart, and posts inside and outside the last 24 h before ``now``
    (with ``edge``, also one exactly at its start and one a second before: only exact for that now)."""
    started = now - timedelta(minutes=5)
    store.record_run("collect", "reddit", "acme", started, "ok", {"new": 3})
    store.record_run("collect", "reddit", "acme", started, "failed", {"new": 0}, "HTTP 503 from reddit")
    store.record_run("collect", "reddit", "acme", started, "partial", {"new": 1}, "time budget spent")
    store.record_run("collect", "bluesky", "acme", started, "ok", {"new": 2})
    store.record_run("collect", "bluesky", "globex", started, "failed", {"new": 0})  # no message
    store.record_run("collect", "mastodon", "globex", started, "failed", {"new": 0}, "timeout")
    store.record_run("collect", "hackernews", None, started, "ok", {"new": 0})  # a run with no brand
    store.record_run("import", "file", "acme", started, "ok", {"new": 9})  # not a collect run: left out
    store.record_run("backfill", "reddit", "initech", started, "ok", {"new": 9})
    start = at_second(now) - timedelta(hours=24)
    store.save_posts([
        scored("reddit", "r1", now - timedelta(hours=1), ("acme",)),
        scored("reddit", "r2", now - timedelta(hours=23), ("acme", "globex")),
        *([scored("reddit", "r3", start, ("acme",)),  # counted: the 24 h include their start
           scored("reddit", "r4", start - timedelta(seconds=1), ("acme",))] if edge else []),
        scored("reddit", "r5", now - timedelta(hours=30), ("acme",)),
        scored("bluesky", "b1", now - timedelta(minutes=10), ("acme", "globex")),
        scored("mastodon", "m1", now - timedelta(hours=2), ("initech",)),
        scored("file", "f1", now - timedelta(hours=2), ("acme",)),
    ], "vader-test")


@pytest.fixture
def filled(db_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{db_path}") as store:
        fill(store, datetime.now(UTC))
        yield store


@pytest.fixture
def paths(monkeypatch) -> list[str]:
    """Which path answered each status: "lite" (sqlite3 only) or "store" (SQLAlchemy)."""
    taken: list[str] = []
    lite, full = store_lite.collect_status_lite, Store.collect_status

    def spy_lite(url, now):
        rows = lite(url, now)
        if rows is not None:
            taken.append("lite")
        return rows

    def spy_store(self, now):
        taken.append("store")
        return full(self, now)

    monkeypatch.setattr(store_lite, "collect_status_lite", spy_lite)
    monkeypatch.setattr(Store, "collect_status", spy_store)
    return taken


# --- the light path returns exactly what the Store returns --------------------------------------


def test_light_path_returns_exactly_the_stores_collect_status(sqlite_store):
    now = at_second(datetime.now(UTC))
    fill(sqlite_store, now, edge=True)
    expected = sqlite_store.collect_status(now)
    rows = collect_status_lite(sqlite_store.url, now)
    assert rows == expected
    assert repr(rows) == repr(expected)  # same types too: int, not float; aware UTC datetimes
    by_pair = {(r["brand"], r["source"]): r for r in rows}
    assert list(by_pair) == [(None, "hackernews"), ("acme", "bluesky"), ("acme", "reddit"),
                             ("globex", "bluesky"), ("globex", "mastodon")]
    acme = by_pair[("acme", "reddit")]
    assert (acme["last_status"], acme["last_error"], acme["posts_24h"]) == ("partial", "time budget spent", 3)
    assert acme["last_ok"].tzinfo is UTC
    assert by_pair[("globex", "bluesky")]["last_error"] is None
    assert by_pair[("globex", "bluesky")]["last_error_at"] is not None
    assert by_pair[("globex", "bluesky")]["last_ok"] is None


def test_light_path_matches_at_another_now_and_on_an_empty_store(sqlite_store):
    assert collect_status_lite(sqlite_store.url, datetime.now(UTC)) == [] == sqlite_store.collect_status(
        datetime.now(UTC))
    fill(sqlite_store, datetime.now(UTC))
    later = datetime.now(UTC) + timedelta(hours=20)
    assert collect_status_lite(sqlite_store.url, later) == sqlite_store.collect_status(later)


def test_light_path_refuses_a_naive_now_as_the_store_does(filled):
    with pytest.raises(ValueError, match="naive datetime"):
        filled.collect_status(datetime(2026, 3, 1))
    with pytest.raises(ValueError, match="naive datetime"):
        collect_status_lite(filled.url, datetime(2026, 3, 1))


def test_light_path_reads_schema_versions_1_to_5_only(filled):
    now = datetime.now(UTC)
    assert SCHEMA_VERSION in STATUS_SCHEMA_VERSIONS, (
        "a new schema version: check dipwatch/store/freshness.py's queries against it, then add it")
    expected = filled.collect_status(now)
    for version in ("1", "2", "3", "4", "5"):
        filled.set_meta("schema_version", version)
        assert collect_status_lite(filled.url, now) == expected
    for version in ("6", "999", "0", "two"):
        filled.set_meta("schema_version", version)
        assert collect_status_lite(filled.url, now) is None


@pytest.mark.parametrize("url", [
    "postgresql+psycopg://user@db.example/dipwatch",
    "sqlite://",
    "sqlite:///:memory:",
    "sqlite+aiosqlite:///{db}",
    "sqlite:///{db}?timeout=5",
    "sqlite:///{missing}",
])
def test_light_path_leaves_to_the_store_what_it_cannot_read_as_is(filled, db_path, url):
    url = url.format(db=db_path, missing=db_path.with_name("missing.db"))
    assert collect_status_lite(url, datetime.now(UTC)) is None
    assert not db_path.with_name("missing.db").exists()


def test_light_path_on_files_that_are_not_a_dipwatch_database(tmp_path):
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database, not even close" * 100)
    empty = tmp_path / "empty.db"
    empty.touch()
    for path in (garbage, empty):
        assert collect_status_lite(f"sqlite:///{path}", datetime.now(UTC)) is None
    assert empty.read_bytes() == b""  # read-only: nothing was created in it


def test_light_path_takes_a_relative_sqlite_url_from_the_working_directory(filled, db_path, monkeypatch):
    monkeypatch.chdir(db_path.parent)
    now = datetime.now(UTC)
    assert collect_status_lite(f"sqlite:///{db_path.name}", now) == filled.collect_status(now)


# --- the command: same output through both paths --------------------------------------------------


@pytest.mark.parametrize("args", [[], ["--json"]], ids=["text", "json"])
def test_status_output_is_the_same_through_both_paths(cli_run, filled, db_path, paths, args):
    light = cli_run(["status", *args])
    # The same file through a URL the light path leaves to the Store (an option it does not parse).
    full = cli_run(["status", "--db", f"sqlite:///{db_path}?timeout=30", *args])
    assert paths == ["lite", "store"]
    assert (light.exit_code, full.exit_code) == (0, 0)
    assert light.stdout == full.stdout
    assert light.stderr == full.stderr == ""
    if args:
        rows = json.loads(light.stdout)
        assert len(rows) == 5
        assert rows[2] == {**rows[2], "source": "reddit", "brand": "acme", "last_status": "partial",
                           "last_error": "time budget spent", "posts_24h": 2}
    else:
        assert "acme\treddit\tlast ok: 0.0 h ago\tlast run: partial\tposts in 24 h: 2\t" \
               "last error: time budget spent" in light.stdout.splitlines()


def test_status_on_a_new_database_goes_through_the_store_and_creates_it(cli_run, db_path, paths):
    result = cli_run(["status"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "No collection has run yet (`dipwatch collect`).\n"
    assert paths == ["store"]
    assert db_path.is_file()
    assert cli_run(["status"]).stdout == result.stdout
    assert paths == ["store", "lite"]


def test_status_on_a_newer_schema_version_gives_the_stores_error(cli_run, filled, paths):
    filled.set_meta("schema_version", "999")
    result = cli_run(["status"])
    assert result.exit_code == 2
    assert "Error: database schema version 999 is newer than this dipwatch understands" in result.stderr
    assert paths == []  # the Store refused to open


def test_status_on_a_file_that_is_not_a_database_gives_the_stores_error(cli_run, write):
    write("garbage.db", "not a database, not even close\n" * 100)
    result = cli_run(["status", "--db", "garbage.db"])
    assert result.exit_code == 2
    assert result.stderr == "Error: cannot open database: file is not a database\n"


def test_status_on_an_unreachable_postgresql_gives_the_stores_error(cli_run):
    result = cli_run(["status", "--db", "postgresql+psycopg://nobody@127.0.0.1:1/none"])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: cannot open database: ")
    assert "Traceback" not in result.output


def test_status_with_a_bad_config_still_exits_2(cli_run, filled, write):
    write("dipwatch.toml", "[alerts]\nretries = 99\n")
    result = cli_run(["status", "--config", "dipwatch.toml"])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ")
    assert result.stderr.endswith("dipwatch.toml: alerts.retries: expected 1-10 attempts, got 99\n")


# --- start-up: status on SQLite never imports SQLAlchemy ------------------------------------------

RUN_AND_REPORT = """\
import sys
from dipwatch.cli.main import main
try:
    main()
except SystemExit as exc:
    code = exc.code
print("imported sqlalchemy:", sorted(m for m in sys.modules if m.split(".")[0] == "sqlalchemy")[:1],
      file=sys.stderr)
sys.exit(code)
"""


def status_subprocess(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", RUN_AND_REPORT, "status", *args], cwd=tmp_path,
                          env=cli_env(), capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("args", [[], ["--json"]], ids=["text", "json"])
def test_status_on_sqlite_does_not_import_sqlalchemy(filled, db_path, tmp_path, args):
    result = status_subprocess(tmp_path, "--db", str(db_path), *args)
    assert result.returncode == 0, result.stderr
    assert "reddit" in result.stdout
    assert result.stderr == "imported sqlalchemy: []\n"


def test_status_on_a_new_database_does_import_sqlalchemy(tmp_path):
    """The check above can fail: the Store's path (here, creating the database) imports it."""
    result = status_subprocess(tmp_path, "--db", str(tmp_path / "new.db"))
    assert result.returncode == 0, result.stderr
    assert result.stderr == "imported sqlalchemy: ['sqlalchemy']\n"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_status_shows_a_collection_in_progress_and_forgets_it_once_killed(tmp_path, backend):
    """While a process holds the collect lock (as ``dipwatch collect`` does), ``status`` says since when
    and which pid, instead of "No collection has run yet"; a killed run leaves nothing behind."""
    import os

    from click.testing import CliRunner

    from dipwatch.cli.main import cli

    url = f"sqlite:///{tmp_path / 'fresh.db'}" if backend == "sqlite" else os.environ.get("DIPWATCH_TEST_PG")
    if not url:
        pytest.skip("PostgreSQL test skipped: DIPWATCH_TEST_PG is not set (tests/pg.sh starts a server)")
    Store(url).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom dipwatch.store import Store\n"
         "with Store(sys.argv[1]).exclusive('collect') as got:\n"
         "    print(got, flush=True)\n    time.sleep(60)", url],
        stdout=subprocess.PIPE, text=True, env=cli_env())
    try:
        assert holder.stdout.readline().strip() == "True"
        shown = CliRunner().invoke(cli, ["status", "--db", url], env={"DIPWATCH_CONFIG": ""})
        assert shown.exit_code == 0, shown.output
        assert "A collection is running since " in shown.output
        assert f"pid {holder.pid}." in shown.output
        assert "No collection has run yet" not in shown.output
    finally:
        holder.kill()
        holder.wait()
    after = CliRunner().invoke(cli, ["status", "--db", url], env={"DIPWATCH_CONFIG": ""})
    assert after.output == "No collection has run yet (`dipwatch collect`).\n"
    if backend == "postgresql":
        from dipwatch.store import metadata

        with Store(url) as store:
            metadata.drop_all(store.engine)
