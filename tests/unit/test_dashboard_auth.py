"""Basic authentication of the dashboard: users from the environment or a file, and the exposure
warning the CLI prints."""

from __future__ import annotations

import base64

import pytest
from werkzeug.security import generate_password_hash

from dashboard.auth import (
    AuthConfigError,
    auth_enabled,
    check_user,
    exposure_warning,
    install_auth,
    load_users,
)

ALICE = generate_password_hash("correct horse", method="pbkdf2:sha256:1000")
BOB = generate_password_hash("battery staple", method="pbkdf2:sha256:1000")


def test_users_from_env_and_file(tmp_path):
    users_file = tmp_path / "users"
    users_file.write_text(f"# dashboard users\n\nbob:{BOB}\n", encoding="utf-8")
    env = {"DIPWATCH_DASHBOARD_USERS": f"alice:{ALICE}", "DIPWATCH_DASHBOARD_USERS_FILE": str(users_file)}
    assert load_users(env) == {"alice": ALICE, "bob": BOB}
    assert auth_enabled(env)
    assert not auth_enabled({})
    assert not auth_enabled({"DIPWATCH_DASHBOARD_USERS": " "})


@pytest.mark.parametrize(("env", "message"), [
    ({"DIPWATCH_DASHBOARD_USERS": "alice:secret"}, "DIPWATCH_DASHBOARD_USERS: expected name:hash"),
    ({"DIPWATCH_DASHBOARD_USERS": "alice"}, "expected name:hash"),
    ({"DIPWATCH_DASHBOARD_USERS": f"alice:{ALICE},alice:{BOB}"}, "user 'alice' is given twice"),
    ({"DIPWATCH_DASHBOARD_USERS_FILE": "/nonexistent/users"}, "cannot read /nonexistent/users"),
])
def test_bad_settings_name_the_variable(env, message):
    with pytest.raises(AuthConfigError, match=message):
        load_users(env)


def test_a_plain_password_is_never_accepted_as_a_hash():
    with pytest.raises(AuthConfigError) as raised:
        load_users({"DIPWATCH_DASHBOARD_USERS": "alice:hunter2"})
    assert "hunter2" not in str(raised.value)  # the secret is not echoed


def test_check_user():
    users = {"alice": ALICE}
    assert check_user(users, "alice", "correct horse")
    assert not check_user(users, "alice", "wrong")
    assert not check_user(users, "mallory", "correct horse")
    assert not check_user(users, None, None)


@pytest.mark.parametrize(("host", "warned"), [
    ("127.0.0.1", False), ("localhost", False), ("::1", False), ("127.0.0.2", False),
    ("0.0.0.0", True),  # noqa: S104 (the address the warning is about) ("192.168.1.10", True), ("::", True), ("dashboard.example.org", True),
])
def test_exposure_warning_without_auth(host, warned):
    warning = exposure_warning(host, {})
    assert (warning is not None) == warned
    if warned:
        assert host in warning
        assert "DIPWATCH_DASHBOARD_USERS" in warning
    assert exposure_warning(host, {"DIPWATCH_DASHBOARD_USERS": f"alice:{ALICE}"}) is None


def basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_the_dashboard_asks_for_a_login_when_users_are_set(sqlite_store, db_url):
    from dashboard.app import create_app
    from dipwatch.config import Settings

    env = {"DIPWATCH_DASHBOARD_USERS": f"alice:{ALICE}"}
    client = create_app(Settings(db_url=db_url), sqlite_store, env=env).server.test_client()
    for path in ("/", "/_dash-layout", "/_dash-dependencies"):
        refused = client.get(path)
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"].startswith('Basic realm="dipwatch"')
    assert client.get("/", headers=basic("alice", "wrong")).status_code == 401
    assert client.get("/", headers=basic("alice", "correct horse")).status_code == 200
    assert client.get("/_dash-layout", headers=basic("alice", "correct horse")).status_code == 200
    # Without users the dashboard is open (it binds 127.0.0.1 unless told otherwise).
    open_client = create_app(Settings(db_url=db_url), sqlite_store, env={}).server.test_client()
    assert open_client.get("/").status_code == 200
    assert install_auth(open_client.application, {}) is False
