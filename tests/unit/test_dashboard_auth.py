"""Basic authentication of the dashboard: users from the environment or a file, hashes refused at
start-up, one password check per session, failed sign-ins slowed down, and the exposure warning the
CLI prints."""

from __future__ import annotations

import base64

import pytest
from werkzeug.security import generate_password_hash

from dashboard import auth
from dashboard.auth import (
    AuthConfigError,
    auth_enabled,
    check_user,
    exposure_warning,
    install_auth,
    load_users,
)
from dashboard.sessions import SESSION_COOKIE, FailureThrottle, Sessions

# werkzeug's default (scrypt:32768:8:1), the cheapest accepted: ~0.1 s per check.
ALICE = generate_password_hash("correct horse")
BOB = generate_password_hash("battery staple")


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
    for password in ("hunter2", "hun$ter$2"):
        with pytest.raises(AuthConfigError) as raised:
            load_users({"DIPWATCH_DASHBOARD_USERS": f"alice:{password}"})
        assert "hun" not in str(raised.value)  # the secret is not echoed


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
    from dipwatch.core.config import Settings

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


@pytest.mark.parametrize(("hashed", "message"), [
    (generate_password_hash("pw", method="pbkdf2:sha256:1000"), "needs at least 600,000 iterations"),
    (generate_password_hash("pw", method="pbkdf2:sha1:1000000"), "must use sha256 or sha512"),
    (generate_password_hash("pw", method="scrypt:16384:8:1"), "weaker than werkzeug's default"),
    ("scrypt:32768:8$salt$00ff", "expected scrypt:n:r:p"),
    ("scrypt:30000:8:1$salt$00ff", "n must be a power of two"),
    ("md5$salt$00ff", "not a werkzeug hash method"),
    ("scrypt:32768:8:1$salt$not-hex", "not hexadecimal"),
    ("scrypt:32768:8:1$$00ff", "expected a werkzeug hash"),
])
def test_weak_or_malformed_hashes_are_refused_at_start_up(sqlite_store, db_url, hashed, message):
    from dashboard.app import create_app
    from dipwatch.core.config import Settings

    env = {"DIPWATCH_DASHBOARD_USERS": f"alice:{ALICE},bob:{hashed}"}
    with pytest.raises(AuthConfigError, match=message) as raised:
        create_app(Settings(db_url=db_url), sqlite_store, env=env)
    assert str(raised.value).startswith("DIPWATCH_DASHBOARD_USERS: user 'bob': ")


@pytest.fixture
def counted(monkeypatch):
    """The number of password checks (scrypt runs) the dashboard makes."""
    calls = []
    real = auth.check_password_hash
    monkeypatch.setattr(auth, "check_password_hash", lambda *a: calls.append(1) or real(*a))
    return calls


@pytest.fixture
def client(sqlite_store, db_url):
    from dashboard.app import create_app
    from dipwatch.core.config import Settings

    env = {"DIPWATCH_DASHBOARD_USERS": f"alice:{ALICE},bob:{BOB}"}
    return create_app(Settings(db_url=db_url), sqlite_store, env=env).server.test_client()


def test_the_password_is_checked_once_per_session(client, counted):
    first = client.get("/", headers=basic("alice", "correct horse"))
    assert first.status_code == 200
    cookie = first.headers["Set-Cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Path=/" in cookie
    assert "Secure" not in cookie  # served over http here: a Secure cookie would never come back
    for path in ("/_dash-layout", "/_dash-dependencies", "/", "/_dash-layout"):
        answer = client.get(path, headers=basic("alice", "correct horse"))
        assert answer.status_code == 200
        assert "Set-Cookie" not in answer.headers
    assert len(counted) == 1
    # The cookie alone is enough (a browser sends both; a client that keeps cookies needs no header).
    assert client.get("/_dash-layout").status_code == 200
    assert len(counted) == 1


def test_the_cookie_is_secure_over_https(client):
    answer = client.get("/", headers=basic("bob", "battery staple"), base_url="https://localhost")
    assert answer.status_code == 200
    assert "Secure" in answer.headers["Set-Cookie"]


def test_a_forged_expired_or_revoked_cookie_lets_nobody_in(client):
    now = [1_000_000.0]
    sessions = Sessions({"alice": ALICE, "bob": BOB}, seconds=60, clock=lambda: now[0])
    value = sessions.issue("alice")
    assert sessions.user_of(value) == "alice"
    name, expires, mac = value.split(".")
    bob_name = sessions.issue("bob").split(".")[0]
    for forged in (f"{bob_name}.{expires}.{mac}",            # alice's signature on bob's name
                   f"{name}.{int(expires) + 3600}.{mac}",    # a later expiry
                   f"{name}.{expires}.{'0' * len(mac)}", "", "x.y.z", f"%%%.{expires}.{mac}"):
        assert sessions.user_of(forged) is None, forged
    now[0] += 61
    assert sessions.user_of(value) is None  # expired
    now[0] -= 61
    # A new password (hash) or a removed user invalidates every cookie made before.
    assert Sessions({"alice": BOB}, clock=lambda: now[0]).user_of(value) is None
    assert Sessions({"bob": BOB}, clock=lambda: now[0]).user_of(value) is None
    # Through the app: a cookie made with another key is refused.
    client.set_cookie(SESSION_COOKIE, value)
    assert client.get("/_dash-layout").status_code == 401


def test_repeated_failures_wait_longer_and_longer():
    now = [0.0]
    throttle = FailureThrottle(free=3, max_delay=10, clock=lambda: now[0])
    assert [throttle.attempt("a") for _ in range(3)] == [0, 0, 0]
    assert throttle.attempt("a") == 2  # refused: counted attempts are not rechecked at once
    assert throttle.attempt("b") == 0  # another client is not affected
    now[0] += 2
    assert throttle.attempt("a") == 0
    assert throttle.attempt("a") == 4
    now[0] += 4
    assert throttle.attempt("a") == 0
    now[0] += 8
    assert throttle.attempt("a") == 0
    assert throttle.attempt("a") == 10  # capped at max_delay
    now[0] += 10_000  # forgotten after a quiet quarter of an hour
    assert [throttle.attempt("a") for _ in range(3)] == [0, 0, 0]
    throttle.succeeded("a")  # a right password takes its own attempt back
    assert throttle.attempt("a") == 0


def test_wrong_guesses_cost_no_password_checks_once_slowed_and_never_lock_out_a_session(client, counted):
    signed_in = client.get("/", headers=basic("alice", "correct horse"))
    assert signed_in.status_code == 200
    guesser = client.application.test_client()  # same address (127.0.0.1, as behind a proxy)
    answers = [guesser.get("/_dash-layout", headers=basic("alice", f"guess {i}")).status_code
               for i in range(20)]
    assert answers[:5] == [401] * 5
    assert set(answers[5:]) == {429}
    refused = guesser.get("/_dash-layout", headers=basic("alice", "correct horse"))
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert len(counted) == 1 + 5  # the sign-in and the five free guesses; the rest were not hashed
    # The user who signed in keeps working; a client at another address can still sign in.
    assert client.get("/_dash-layout").status_code == 200
    other = client.application.test_client()
    assert other.get("/", headers=basic("bob", "battery staple"),
                     environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 200


def test_the_cli_refuses_a_weak_hash_before_serving(db_url, sqlite_store):
    from click.testing import CliRunner

    from dipwatch.cli.main import cli

    weak = generate_password_hash("pw", method="pbkdf2:sha256:1000")
    result = CliRunner().invoke(cli, ["dashboard", "--db", db_url],
                                env={"DIPWATCH_DASHBOARD_USERS": f"alice:{weak}"})
    assert result.exit_code == 2, result.output
    assert "DIPWATCH_DASHBOARD_USERS: user 'alice': " in result.output
    assert "600,000 iterations" in result.output
