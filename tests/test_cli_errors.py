"""Exit codes of errors: a user's mistake is one line and exit 2; anything else is a bug, shown with
its traceback and exit 1 (a ValueError from a bug is not "bad input")."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from dipwatch.cli.main import cli


def test_a_bad_option_value_is_one_line_and_exit_2(tmp_path):
    result = CliRunner().invoke(cli, ["outages", "add", "--db", str(tmp_path / "d.db"), "--brand", "acme",
                                      "--start", "2026-01-01T10:00:00", "--label", "x", "--tz", "Mars/Base"])
    assert result.exit_code == 2
    assert result.output.startswith("Error: ")
    assert "Mars/Base" in result.output
    assert "Traceback" not in result.output


def test_a_bug_raising_value_error_is_exit_1_with_its_traceback(tmp_path, monkeypatch):
    def broken(store, batch=5000):
        raise ValueError("a bug, not bad input")

    monkeypatch.setattr("dipwatch.jobs.ingest.score_missing", broken)
    result = CliRunner().invoke(cli, ["score", "--db", str(tmp_path / "d.db")])
    assert result.exit_code == 1
    assert isinstance(result.exception, ValueError)
    assert "Error: a bug" not in result.output


def test_the_console_shows_the_traceback_of_a_bug(tmp_path):
    code = ("import dipwatch.jobs.ingest as ingest\n"
            "def broken(store, batch=5000):\n    raise ValueError('a bug, not bad input')\n"
            "ingest.score_missing = broken\n"
            "from dipwatch.cli.main import main\nmain()\n")
    done = subprocess.run([sys.executable, "-c", code, "score", "--db", str(tmp_path / "d.db")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1
    assert "Traceback (most recent call last)" in done.stderr
    assert "ValueError: a bug, not bad input" in done.stderr
