"""Shared fixtures: a database in tmp_path, a file writer, and the CLI run through CliRunner."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from dipwatch.store import Store, metadata


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "dipwatch.db"


@pytest.fixture
def db_url(db_path: Path) -> str:
    return f"sqlite:///{db_path}"


PG_URL = os.environ.get("DIPWATCH_TEST_PG")


@pytest.fixture
def sqlite_store(db_url: str):
    with Store(db_url) as opened:
        yield opened


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, db_url: str):
    """The store on SQLite and on PostgreSQL (a server from tests/pg.sh, as .ci/run starts it)."""
    if request.param == "sqlite":
        with Store(db_url) as opened:
            yield opened
        return
    if not PG_URL:
        reason = "PostgreSQL test skipped: DIPWATCH_TEST_PG is not set (.ci/run starts a server)"
        print(reason)
        pytest.skip(reason)
    opened = Store(PG_URL)
    try:
        yield opened
    finally:
        metadata.drop_all(opened.engine)
        opened.close()


@pytest.fixture
def dump() -> Callable[[str], dict[str, list[tuple]]]:
    """Every row of every table of the database at ``url``, as tuples in row-id order."""

    def _dump(url: str) -> dict[str, list[tuple]]:
        with Store(url) as opened:
            tables = sa.MetaData()
            tables.reflect(opened.engine)
            with opened.engine.connect() as conn:
                return {name: [tuple(row) for row in conn.execute(sa.select(table))]
                        for name, table in sorted(tables.tables.items())}

    return _dump


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    """Write ``content`` (text as UTF-8 with the newlines given, or bytes) to ``tmp_path / name``."""

    def _write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
        return path

    return _write


@pytest.fixture
def cli_run(tmp_path: Path, db_path: Path, monkeypatch) -> Callable[[list[str]], Result]:
    """Run ``dipwatch ARGS`` in tmp_path on the tmp database, with no config but ./dipwatch.toml."""
    from dipwatch.cli.main import cli

    monkeypatch.chdir(tmp_path)

    def _run(args: list[str]) -> Result:
        runner = CliRunner()
        return runner.invoke(
            cli, [str(a) for a in args], catch_exceptions=False,
            env={"DIPWATCH_DB": str(db_path), "DIPWATCH_CONFIG": ""},
        )

    return _run
