"""README "Running it for a team": its SQL makes a role that can use its database on PostgreSQL 15,
and its systemd and cron examples run the alerts whatever the collection's exit code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from dipwatch.store import Store, StoreError
from tests.conftest import PG_URL

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
TEAM = README[README.index("## Running it for a team"):README.index("## Performance")]


def blocks(text: str, kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", text, flags=re.DOTALL)


def test_the_systemd_unit_runs_alerts_after_a_failed_collection():
    unit = next(b for b in blocks(README, "ini") if "dipwatch collect" in b)
    assert "ExecStartPost=" not in unit  # skipped by systemd when the collection exits 1
    assert re.search(r"^ExecStopPost=\S+/dipwatch alerts check$", unit, flags=re.MULTILINE)
    assert "Type=oneshot" in unit


def test_the_cron_line_runs_alerts_whatever_collect_exits_with():
    (line,) = [b.strip() for b in blocks(README, "cron")]
    assert re.search(r"dipwatch collect --max-seconds 540; \S+/dipwatch alerts check; }$", line)
    assert ". /etc/dipwatch/env" in line


@pytest.fixture
def admin():
    """A superuser connection to the test server (tests/pg.sh), autocommitting."""
    if not PG_URL:
        pytest.skip("PostgreSQL test skipped: DIPWATCH_TEST_PG is not set (.ci/run starts a server)")
    import psycopg

    url = make_url(PG_URL)
    conn = psycopg.connect(host=url.host, port=url.port, user=url.username, dbname=url.database,
                           autocommit=True)
    if not conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]:
        pytest.skip("needs a superuser to create roles (tests/pg.sh gives one)")
    drop(conn)
    yield conn, url
    drop(conn)
    conn.close()


def drop(conn) -> None:
    for statement in ("DROP DATABASE IF EXISTS dipwatch_doc WITH (FORCE)",
                      "DROP DATABASE IF EXISTS dipwatch_doc_other WITH (FORCE)",
                      "DROP ROLE IF EXISTS dipwatch_doc"):
        conn.execute(statement)


def test_the_readmes_sql_gives_a_role_that_can_create_its_tables(admin):
    conn, url = admin
    (sql,) = blocks(TEAM, "sql")
    for line in sql.splitlines():
        if line.strip() and not line.startswith("\\"):  # \password is psql's, and asks on a terminal
            conn.execute(line.replace("dipwatch", "dipwatch_doc"))

    def as_role(database: str) -> str:
        return url.set(username="dipwatch_doc", database=database).render_as_string(hide_password=False)

    with Store(as_role("dipwatch_doc")) as store:
        assert store.schema_version() >= 3
    # Why the README insists on OWNER: a database owned by someone else refuses the role.
    conn.execute("CREATE DATABASE dipwatch_doc_other")
    with pytest.raises(StoreError, match="permission denied for schema public"):
        Store(as_role("dipwatch_doc_other"))
