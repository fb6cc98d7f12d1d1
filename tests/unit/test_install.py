"""The command that upgrades dipwatch where it was installed from, named by the error an older host
gives on a database a newer dipwatch has upgraded."""

from __future__ import annotations

import pytest

from dipwatch.core.install import upgrade_command
from dipwatch.store import SCHEMA_VERSION, Store, StoreError

PY = "/srv/dipwatch/venv/bin/python"


@pytest.mark.parametrize(("origin", "command"), [
    (None, f"{PY} -m pip install --upgrade dipwatch"),
    ({"url": "https://github.com/acme/dipwatch.git",
      "vcs_info": {"vcs": "git", "commit_id": "ab12", "requested_revision": "main"}},
     f"{PY} -m pip install --upgrade git+https://github.com/acme/dipwatch.git@main"),
    ({"url": "https://github.com/acme/dipwatch.git", "vcs_info": {"vcs": "git", "commit_id": "ab12"}},
     f"{PY} -m pip install --upgrade git+https://github.com/acme/dipwatch.git"),
    ({"url": "file:///opt/dipwatch%20src", "dir_info": {}},
     f"(the new release unpacked in '/opt/dipwatch src') {PY} -m pip install '/opt/dipwatch src'"),
    ({"url": "file:///tmp/dipwatch-0.1.0-py3-none-any.whl", "archive_info": {}},
     f"{PY} -m pip install --upgrade (the newer file than dipwatch-0.1.0-py3-none-any.whl)"),
])
def test_upgrade_command_follows_where_dipwatch_came_from(origin, command):
    assert upgrade_command(origin or {}, PY) == command


def test_a_git_checkout_is_pulled_and_installed_again(tmp_path):
    (tmp_path / ".git").mkdir()
    editable = upgrade_command({"url": f"file://{tmp_path}", "dir_info": {"editable": True}}, PY)
    assert editable == f"git -C {tmp_path} pull && {PY} -m pip install -e {tmp_path}"
    plain = upgrade_command({"url": f"file://{tmp_path}", "dir_info": {}}, PY)
    assert plain == f"git -C {tmp_path} pull && {PY} -m pip install {tmp_path}"


def test_an_older_dipwatch_refuses_a_newer_schema_and_names_the_upgrade(db_url, monkeypatch):
    with Store(db_url) as store:
        store.set_meta("schema_version", str(SCHEMA_VERSION + 1))
    monkeypatch.setattr("dipwatch.core.install.installed_from", lambda: None)
    with pytest.raises(StoreError) as refused:
        Store(db_url)
    message = str(refused.value)
    assert message.startswith(f"database schema version {SCHEMA_VERSION + 1} is newer than this "
                              f"dipwatch understands ({SCHEMA_VERSION}): ")
    assert message.endswith(" -m pip install --upgrade dipwatch")
    import sqlite3

    with sqlite3.connect(db_url.removeprefix("sqlite:///")) as conn:  # nothing was written to it
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (
            str(SCHEMA_VERSION + 1),)
