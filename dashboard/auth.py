"""HTTP basic authentication for the dashboard, with users from the environment or a file.

Users are ``name:hash`` pairs, the hash made by werkzeug (``python -c "from werkzeug.security import
generate_password_hash as g; print(g('secret'))"``), so no password is ever stored or passed in clear:

- ``DIPWATCH_DASHBOARD_USERS="alice:scrypt:32768:8:1$salt$hex,bob:pbkdf2:sha256:600000$salt$hex"``
- ``DIPWATCH_DASHBOARD_USERS_FILE=/etc/dipwatch/users`` (one ``name:hash`` a line; ``#`` comments)

Both may be set; a name in both must not differ. Checks take the same time whether or not the user
exists (an unknown name is checked against a dummy hash) and compare with werkzeug's constant-time
``check_password_hash``.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path

from werkzeug.security import check_password_hash, generate_password_hash

USERS_ENV = "DIPWATCH_DASHBOARD_USERS"
USERS_FILE_ENV = "DIPWATCH_DASHBOARD_USERS_FILE"
REALM = "dipwatch"
_DUMMY_HASH = generate_password_hash("not a password: makes unknown users cost as much as known ones")


class AuthConfigError(ValueError):
    """A users setting that cannot be read; the message names the variable or file and the entry."""


def _parse(entries: list[tuple[str, str]]) -> dict[str, str]:
    users: dict[str, str] = {}
    for where, entry in entries:
        name, sep, hashed = entry.strip().partition(":")
        name = name.strip()
        if not sep or not name or "$" not in hashed:
            raise AuthConfigError(f"{where}: expected name:hash with a werkzeug password hash "
                                  f"(method$salt$hash), got an entry starting {entry.strip()[:12]!r}")
        if users.get(name, hashed) != hashed:
            raise AuthConfigError(f"{where}: user {name!r} is given twice with different hashes")
        users[name] = hashed
    return users


def load_users(env: Mapping[str, str]) -> dict[str, str]:
    """User name -> password hash from ``DIPWATCH_DASHBOARD_USERS`` and ``..._USERS_FILE``.

    :raises AuthConfigError: on an entry that is not ``name:hash``, or a file that cannot be read.
    """
    entries = [(USERS_ENV, e) for e in (env.get(USERS_ENV) or "").split(",") if e.strip()]
    path = (env.get(USERS_FILE_ENV) or "").strip()
    if path:
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise AuthConfigError(f"{USERS_FILE_ENV}: cannot read {path}: {exc.strerror}") from None
        entries += [(f"{path}:{n}", line) for n, line in enumerate(lines, 1)
                    if line.strip() and not line.lstrip().startswith("#")]
    return _parse(entries)


def auth_enabled(env: Mapping[str, str]) -> bool:
    """True when at least one user is configured (a malformed setting raises instead)."""
    return bool(load_users(env))


def check_user(users: Mapping[str, str], name: str | None, password: str | None) -> bool:
    """Whether ``name`` and ``password`` match, in the same time for unknown names."""
    hashed = users.get(name or "")
    ok = check_password_hash(hashed or _DUMMY_HASH, password or "")
    return ok and hashed is not None


def install_auth(app, env: Mapping[str, str]) -> bool:
    """Require basic authentication on every request of ``app`` (a Dash app or its Flask server)
    when users are configured; return whether it did."""
    from flask import Response, request

    users = load_users(env)
    if not users:
        return False
    server = getattr(app, "server", app)

    @server.before_request
    def require_login():
        credentials = request.authorization
        if credentials is not None and credentials.type == "basic" and check_user(
                users, credentials.username, credentials.password):
            return None
        return Response("Sign in to see the dipwatch dashboard.\n", 401,
                        {"WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8"'})

    return True


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str, env: Mapping[str, str] | None = None) -> str | None:
    """A warning for serving on a network address without authentication, else None.

    :param env: where users are configured (default ``os.environ``).
    :raises AuthConfigError: when the users setting is malformed.
    """
    if is_loopback(host) or auth_enabled(os.environ if env is None else env):
        return None
    return (f"Warning: serving the dashboard on {host} without authentication: anyone who can reach this "
            f"machine can read it and edit outage windows. Set {USERS_ENV} or {USERS_FILE_ENV} "
            "(see README, 'Dashboard behind a reverse proxy'), or bind 127.0.0.1.")
