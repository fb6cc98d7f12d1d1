"""A full disk and a read-only database, for real: a 256 KiB tmpfs to fill, a tmpfs remounted read-only,
and a database file made immutable (chattr +i, which even root cannot write).

A full disk during an import is one ``Error:`` line naming the database or the temporary folder, exit 2,
and an intact database; a read-only database still answers ``status``, ``report``, ``export``,
``outages list`` and the dashboard, exactly as when it was writable, and a command that writes says
in one line that it cannot. Mounting needs root: the tests skip, saying so, without it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .support import (
    CAN_MOUNT,
    cli_env,
    integrity,
    one_error_line,
    remount_read_only,
    run_cli,
    tmpfs,
    write_posts_csv,
)

pytestmark = pytest.mark.skipif(not CAN_MOUNT, reason="mounting a tmpfs needs root")

ROWS = 5000  # about 0.5 MB of CSV: more than the 256 KiB disk holds as a database or a spool
READS = [
    ["status", "--json"],
    ["report", "--brand", "acme", "--json", "--resamples", "20"],
    ["export", "posts", "--brand", "acme"],
    ["export", "timeline", "--brand", "acme"],
    ["export", "outages", "--brand", "acme", "--resamples", "0"],
    ["outages", "list", "--json"],
]
WRITES = [
    ["import", "posts.csv", "--brand", "acme"],
    ["outages", "add", "--brand", "acme", "--start", "2026-03-02T00:00:00Z", "--label", "later"],
]


def dipwatch(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dipwatch.cli", *args], cwd=cwd, env=cli_env(**env),
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def posts(tmp_path_factory) -> Path:
    return write_posts_csv(tmp_path_factory.mktemp("posts") / "posts.csv", ROWS, seed=21)


def test_a_full_disk_under_the_database(posts, tmp_path):
    with tmpfs(tmp_path / "disk", "256k") as disk:
        db = disk / "full.db"
        line = one_error_line(dipwatch(["import", str(posts), "--brand", "acme", "--db", str(db)], tmp_path))
        assert line == f"Error: {db}: the database or its disk is full; nothing was imported"
        assert integrity(db) == "ok"


def test_a_full_temporary_folder(posts, tmp_path):
    db = tmp_path / "roomy.db"
    with tmpfs(tmp_path / "tmp", "256k") as spool:
        args = ["import", str(posts), "--brand", "acme", "--db", str(db)]
        line = one_error_line(dipwatch(args, tmp_path, TMPDIR=str(spool)))
        assert line.startswith(f"Error: {spool}: no space left for the import's temporary files")
        assert line.endswith("; nothing was imported")
        assert list(spool.iterdir()) == []
    assert integrity(db) == "ok"
    assert run_cli(["export", "posts", "--brand", "acme", "--db", db], tmp_path).returncode == 2  # no brand


@pytest.fixture(scope="module")
def writable(posts, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A filled database and what each read command printed while it was writable."""
    where = tmp_path_factory.mktemp("writable")
    shutil.copy(posts, where / "posts.csv")
    db = where / "w.db"
    for args in (WRITES[0], ["outages", "add", "--brand", "acme", "--start", "2026-03-01T13:00:00Z",
                             "--end", "2026-03-01T15:00:00Z", "--label", "checkout down"]):
        done = dipwatch([*args, "--db", str(db)], where)
        assert done.returncode == 0, done.stderr
    outputs = {}
    for args in READS:
        done = dipwatch([*args, "--db", str(db)], where)
        assert done.returncode == 0, done.stderr
        outputs[" ".join(args)] = done.stdout
    return db, outputs


def assert_reads_and_refuses_writes(db: Path, outputs: dict[str, str], cwd: Path) -> None:
    for args in READS:
        done = dipwatch([*args, "--db", str(db)], cwd)
        assert done.returncode == 0, f"{args}: {done.stderr}"
        assert "Traceback" not in done.stderr
        if args[0] != "status" and "report" not in args and "outages" not in args[:2]:  # as of "now"
            assert done.stdout == outputs[" ".join(args)], args
    for args in WRITES:
        line = one_error_line(dipwatch([*args, "--db", str(db)], cwd))
        assert line.startswith("Error: database: read-only"), line
    from dashboard.app import create_app
    from dipwatch.core.config import load_settings
    from dipwatch.measures import brand_view, resolve_brand
    from dipwatch.store import Store

    settings = load_settings(db=str(db), cwd=cwd, env={})
    with Store(settings.db_url) as store:
        assert store.read_only
        view = brand_view(settings, store, resolve_brand(settings, store, "acme"))
        assert [m.label for m in view.metrics] == ["checkout down"]
        assert view.metrics[0].posts_during > 0
        page = create_app(settings, store).server.test_client().get("/", headers={"Host": "127.0.0.1"})
        assert page.status_code == 200


def test_a_read_only_file_system(writable, tmp_path):
    db, outputs = writable
    with tmpfs(tmp_path / "ro", "16m") as disk:
        shutil.copy(db, disk / "w.db")
        shutil.copy(db.parent / "posts.csv", disk / "posts.csv")
        remount_read_only(disk)
        assert_reads_and_refuses_writes(disk / "w.db", outputs, disk)


def test_an_immutable_database_file(writable, tmp_path):
    db, outputs = writable
    shutil.copy(db, tmp_path / "w.db")
    shutil.copy(db.parent / "posts.csv", tmp_path / "posts.csv")
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(tmp_path / "w.db")], check=False).returncode:
        pytest.skip("chattr +i is not available on this file system")
    try:
        assert_reads_and_refuses_writes(tmp_path / "w.db", outputs, tmp_path)
    finally:
        subprocess.run([chattr, "-i", str(tmp_path / "w.db")], check=True)
