"""What ``dipwatch export -o PATH`` does to PATH, as real processes: a FIFO, a device node, a link to
standard output and a symlink stay what they are; an existing file keeps its mode and owner; ``-`` is
standard output; a missing folder or a full disk is one ``Error:`` line, exit 2, and nothing partial.

Device nodes and file owners are made only when the tests run as root (they skip, saying so,
otherwise); the devices are made in the test's own folder, never the system's /dev: the code before
the fix put a regular file in place of whatever path it was given (it did so to /dev/full once).
"""

from __future__ import annotations

import csv
import io
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from .support import CAN_MOUNT, cli_env, one_error_line, run_cli, tmpfs, write_posts_csv

ROWS = 400
ROOT = os.geteuid() == 0
NOBODY = 65534


@pytest.fixture(scope="module")
def filled(tmp_path_factory) -> Path:
    """A database holding ROWS posts of brand acme."""
    where = tmp_path_factory.mktemp("filled")
    write_posts_csv(where / "posts.csv", ROWS, seed=11)
    done = run_cli(["import", "posts.csv", "--brand", "acme", "--db", "f.db"], where)
    assert done.returncode == 0, done.stderr
    return where / "f.db"


@pytest.fixture(scope="module")
def expected(filled) -> bytes:
    """The export as bytes, as it goes to standard output (rows end in CRLF)."""
    done = export_to(filled, "-")
    assert done.returncode == 0, done.stderr
    assert len(list(csv.reader(io.StringIO(done.stdout.decode(), newline="")))) == ROWS + 1
    return done.stdout


def export_to(filled: Path, output, *more: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``dipwatch export posts --brand acme -o OUTPUT MORE...`` as a process; its output as bytes."""
    args = [sys.executable, "-m", "dipwatch.cli", "export", "posts", "--brand", "acme", "--db", str(filled),
            "-o", str(output), *more]
    return subprocess.run(args, cwd=cwd or filled.parent, env=cli_env(), capture_output=True, timeout=120,
                          check=False)


def test_a_fifo_is_written_into_and_stays_a_fifo(filled, expected, tmp_path):
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    done = export_to(filled, fifo)
    reader.join(30)
    assert done.returncode == 0, done.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert received == [expected]
    assert list(tmp_path.iterdir()) == [fifo]


@pytest.mark.skipif(not ROOT, reason="making a device node needs root")
def test_a_device_node_stays_a_device(filled, tmp_path):
    # A null device of our own, as /dev/null is (char 1, 3): renaming over /dev/null, as root, put a
    # world-readable file holding the export in its place.
    null = tmp_path / "null"
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    done = export_to(filled, null)
    assert done.returncode == 0, done.stderr
    assert stat.S_ISCHR(null.lstat().st_mode)
    assert null.lstat().st_rdev == os.makedev(1, 3)
    assert null.read_bytes() == b""


def test_a_link_to_standard_output_writes_to_standard_output(filled, expected, tmp_path):
    # /dev/stdout is a symlink to /proc/self/fd/1; this one is made here, so a failing run cannot
    # replace the system's.
    stdout = tmp_path / "stdout"
    stdout.symlink_to("/proc/self/fd/1")
    done = export_to(filled, stdout)
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected
    assert stdout.is_symlink()
    assert os.readlink(stdout) == "/proc/self/fd/1"


def test_dash_is_standard_output(filled, expected, tmp_path):
    done = export_to(filled, "-", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected
    assert list(tmp_path.iterdir()) == []


def test_parquet_to_a_pipe_with_dash(filled, tmp_path):
    done = export_to(filled, "-", "--format", "parquet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(done.stdout))
    assert table.num_rows == ROWS


def test_a_symlink_is_followed_to_its_target(filled, expected, tmp_path):
    target = tmp_path / "real" / "posts.csv"
    target.parent.mkdir()
    target.write_text("old\n")
    link = tmp_path / "latest.csv"
    link.symlink_to(target)
    done = export_to(filled, link)
    assert done.returncode == 0, done.stderr
    assert link.is_symlink()
    assert target.read_bytes() == expected
    assert sorted(p.name for p in target.parent.iterdir()) == ["posts.csv"]  # no .part left


def test_a_dangling_symlink_gets_its_target_made(filled, expected, tmp_path):
    link = tmp_path / "latest.csv"
    link.symlink_to(tmp_path / "made.csv")
    done = export_to(filled, link)
    assert done.returncode == 0, done.stderr
    assert link.is_symlink()
    assert (tmp_path / "made.csv").read_bytes() == expected


def test_an_existing_file_keeps_its_mode(filled, expected, tmp_path):
    private = tmp_path / "private.csv"
    private.write_text("old\n")
    private.chmod(0o600)
    done = export_to(filled, private)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(private.stat().st_mode) == 0o600  # it came back 0644
    assert private.read_bytes() == expected


@pytest.mark.skipif(not ROOT, reason="giving a file to another user needs root")
def test_an_existing_file_keeps_its_owner(filled, tmp_path):
    theirs = tmp_path / "theirs.csv"
    theirs.write_text("old\n")
    theirs.chmod(0o640)
    os.chown(theirs, NOBODY, NOBODY)
    done = export_to(filled, theirs)
    assert done.returncode == 0, done.stderr
    status = theirs.stat()
    assert (status.st_uid, status.st_gid, stat.S_IMODE(status.st_mode)) == (NOBODY, NOBODY, 0o640)


def test_a_new_file_gets_the_usual_mode(filled, tmp_path):
    done = export_to(filled, tmp_path / "new.csv")
    assert done.returncode == 0, done.stderr
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((tmp_path / "new.csv").stat().st_mode) == 0o666 & ~umask


def test_a_missing_folder_is_one_error_line(filled, tmp_path):
    nowhere = tmp_path / "nowhere"
    line = one_error_line(export_to(filled, nowhere / "posts.csv"))
    assert line == f"Error: {nowhere / 'posts.csv'}: the folder {nowhere} does not exist"
    assert list(tmp_path.iterdir()) == []


def test_a_parquet_name_writes_parquet(filled, tmp_path):
    done = export_to(filled, tmp_path / "posts.parquet")
    assert done.returncode == 0, done.stderr
    data = (tmp_path / "posts.parquet").read_bytes()
    assert data[:4] == b"PAR1"
    assert data[-4:] == b"PAR1"
    import pyarrow.parquet as pq

    assert pq.read_table(tmp_path / "posts.parquet").num_rows == ROWS
    explicit = export_to(filled, tmp_path / "really.parquet", "--format", "csv")
    assert (tmp_path / "really.parquet").read_bytes().startswith(b"source,post_id")
    assert explicit.returncode == 0


@pytest.mark.skipif(not ROOT, reason="making a device node needs root")
def test_a_full_device_is_one_error_line(filled, tmp_path):
    # A full device of our own, as /dev/full is (char 1, 7: every write fails with ENOSPC), never the
    # system's: the code before this fix renamed a regular file over the path it was given.
    full = tmp_path / "full"
    os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    line = one_error_line(export_to(filled, full))
    assert line == f"Error: {full}: cannot write: No space left on device"
    assert stat.S_ISCHR(full.lstat().st_mode)


@pytest.mark.skipif(not CAN_MOUNT, reason="mounting a tiny tmpfs needs root")
def test_a_full_disk_is_one_error_line_and_leaves_nothing(filled, tmp_path):
    # A real ENOSPC: a 64 KiB file system, smaller than the export (about 90 KiB).
    with tmpfs(tmp_path / "disk", "64k") as disk:
        (disk / "kept.csv").write_text("old\n")
        for output in (disk / "posts.csv", disk / "kept.csv"):
            line = one_error_line(export_to(filled, output))
            assert line == f"Error: {output}: cannot write: No space left on device"
        assert sorted(p.name for p in disk.iterdir()) == ["kept.csv"]  # no partial file, no .part
        assert (disk / "kept.csv").read_text() == "old\n"
