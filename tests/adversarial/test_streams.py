"""Imports from streams and hostile line lengths: real ``dipwatch import`` processes reading a pipe on
standard input (``-`` and ``/dev/stdin``), a process substitution and a named FIFO (os.mkfifo), which
can be read only once; and a 200 MB single line, which is refused as it is read, in bounded memory.
"""

from __future__ import annotations

import gzip
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from pathlib import Path

import pytest

from .support import cli_env, write_posts_csv

ROWS = 300
JSONL = "".join(f'{{"id": "j{i}", "created_at": {1_772_366_400 + i}, "text": "Acme down {i}"}}\n'
                for i in range(ROWS))
# The memory of an import of a 200 MB line: 633 MB before lines were bounded as read, 52 MB after.
MEMORY_BOUND_KB = 200 * 1024
GZIP, BASH = shutil.which("gzip") or "gzip", shutil.which("bash") or "bash"


def dipwatch(*args: str) -> list[str]:
    return [sys.executable, "-m", "dipwatch.cli", *args]


def stored(db: Path) -> int:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute("SELECT count(*) FROM posts").fetchone()[0]


@pytest.fixture
def posts_gz(tmp_path) -> Path:
    plain = write_posts_csv(tmp_path / "posts.csv", ROWS, seed=3)
    packed = tmp_path / "posts.csv.gz"
    with plain.open("rb") as src, gzip.open(packed, "wb") as dst:
        shutil.copyfileobj(src, dst)
    plain.unlink()
    return packed


def import_from_pipe(tmp_path: Path, source: str, data: bytes) -> subprocess.CompletedProcess:
    db = tmp_path / "s.db"
    return subprocess.run(dipwatch("import", source, "--brand", "acme", "--db", str(db)), input=data,
                          cwd=tmp_path, env=cli_env(), capture_output=True, timeout=120, check=False)


@pytest.mark.parametrize("source", ["-", "/dev/stdin"])
def test_zcat_into_import_reads_the_pipe_once(tmp_path, posts_gz, source):
    # `zcat posts.csv.gz | dipwatch import - --brand acme`: a real gzip process writing a pipe.
    db = tmp_path / "s.db"
    with subprocess.Popen([GZIP, "-dc", str(posts_gz)], stdout=subprocess.PIPE) as zcat:
        done = subprocess.run(dipwatch("import", source, "--brand", "acme", "--db", str(db)),
                              stdin=zcat.stdout, cwd=tmp_path, env=cli_env(), capture_output=True, text=True,
                              timeout=120, check=False)
        zcat.stdout.close()
    assert done.returncode == 0, done.stderr
    assert f"read: {ROWS}, new: {ROWS}" in done.stdout
    assert stored(db) == ROWS


def test_jsonl_on_standard_input_is_told_from_its_content(tmp_path):
    done = import_from_pipe(tmp_path, "-", JSONL.encode())
    assert done.returncode == 0, done.stderr
    assert stored(tmp_path / "s.db") == ROWS


def test_errors_on_standard_input_name_it(tmp_path):
    empty = import_from_pipe(tmp_path, "-", b"")
    assert empty.returncode == 2
    assert empty.stderr.decode() == "Error: <stdin>: file is empty: expected a CSV header or JSON lines\n"
    bad = import_from_pipe(tmp_path, "-", b"id,created_at,text\nx1,yesterday,Acme\n")
    assert bad.returncode == 2
    assert "<stdin>:2: rejected: created_at: 'yesterday' is not a date" in bad.stderr.decode()


def test_process_substitution(tmp_path, posts_gz):
    db = tmp_path / "s.db"
    command = f'{" ".join(dipwatch())} import <(zcat "{posts_gz}") --brand acme --db "{db}"'
    done = subprocess.run([BASH, "-c", command], cwd=tmp_path, env=cli_env(), capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert stored(db) == ROWS


@pytest.mark.parametrize("content", ["csv", "jsonl"])
def test_named_fifo_is_opened_and_read_once(tmp_path, posts_gz, content):
    # A writer that opens the FIFO once: a reader that opened it twice (to sniff the format, then to
    # read) hung on its second open or lost what the first read took.
    fifo = tmp_path / "posts.fifo"
    os.mkfifo(fifo)
    data = gzip.decompress(posts_gz.read_bytes()) if content == "csv" else JSONL.encode()
    opened = []

    def write_once():
        with fifo.open("wb") as fh:
            opened.append(True)
            fh.write(data)

    writer = threading.Thread(target=write_once, daemon=True)
    writer.start()
    db = tmp_path / "s.db"
    done = subprocess.run(dipwatch("import", str(fifo), "--brand", "acme", "--db", str(db)), cwd=tmp_path,
                          env=cli_env(), capture_output=True, text=True, timeout=60, check=False)
    writer.join(10)
    assert done.returncode == 0, done.stderr
    assert opened == [True]
    assert stored(db) == ROWS


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_a_200_mb_line_is_refused_as_read_in_bounded_memory(tmp_path, suffix):
    path = tmp_path / f"big{suffix}"
    with path.open("w", encoding="utf-8") as fh:
        if suffix == ".csv":
            fh.write("id,created_at,text\nok1,1772366400,Acme fine\nbig,1772366400,Acme ")
        else:
            fh.write('{"id": "ok1", "created_at": 1772366400, "text": "Acme fine"}\n'
                     '{"id": "big", "created_at": 1772366400, "text": "Acme ')
        for _ in range(200):
            fh.write("a" * 1_000_000)
        fh.write("\n" if suffix == ".csv" else '"}\n')
        fh.write("ok2,1772366401,Acme fine\n" if suffix == ".csv"
                 else '{"id": "ok2", "created_at": 1772366401, "text": "Acme fine"}\n')
    db = tmp_path / "s.db"
    # A fresh interpreter whose only children are the import and its workers: their peak memory.
    measure = ("import resource, subprocess, sys; done = subprocess.run(sys.argv[1:]); "
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(done.returncode)")
    command = dipwatch("import", str(path), "--brand", "acme", "--db", str(db), "--skip-bad")
    done = subprocess.run([sys.executable, "-c", measure, *command], cwd=tmp_path, env=cli_env(),
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    line = 3 if suffix == ".csv" else 2  # after the CSV header
    assert f"{path}:{line}: rejected: line longer than 1,048,576 bytes" in done.stderr
    assert "read: 3, new: 2" in done.stdout
    peak_kb = int(done.stdout.strip().splitlines()[-1])
    assert peak_kb < MEMORY_BOUND_KB, f"peak {peak_kb / 1024:.0f} MB"
    assert stored(db) == 2
