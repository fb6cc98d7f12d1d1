"""HTTP basic authentication for the dashboard, with users from the environment or a file.

Users are ``name:hash`` pairs, the hash made by werkzeug (``python -c "from werkzeug.security import
generate_password_hash as g; print(g('secret'))"``), so no password is ever stored or passed in clear:

- ``DIPWATCH_DASHBOARD_USERS="alice:scrypt:32768:8:1$salt$hex,bob:pbkdf2:sha256:600000$salt$hex"``
- ``DIPWATCH_DASHBOARD_USERS_FILE=/etc/dipwatch/users`` (one ``name:hash`` a line; ``#`` comments)

Both may be set; a name in both must not differ. Checks take the same time whether or not the user
exists (an unknown name is checked against a dummy hash) and compare with werkzeug's constant-time
``check_password_hash``. A hash that is malformed or cheaper than werkzeug's default scrypt is refused
at start-up (:func:`hash_problem`).

A password check costs ~110 ms of CPU (scrypt), and a page load makes ~27 requests, so the password
is checked once per browser session, not per request (:mod:`dashboard.sessions`): the first request
that passes basic authentication gets a signed session cookie, and requests that carry a valid one
are let through without a password check. Failed checks are slowed down per client address.
"""

from __future__ import annotations

import ipaddress
import math
import os
from collections.abc import Mapping
from pathlib import Path

from werkzeug.security import check_password_hash, generate_password_hash

from dashboard.sessions import SESSION_COOKIE, SESSION_SECONDS, FailureThrottle, Sessions
from dipwatch.core.errors import BadValueError

USERS_ENV = "DIPWATCH_DASHBOARD_USERS"
USERS_FILE_ENV = "DIPWATCH_DASHBOARD_USERS_FILE"
REALM = "dipwatch"
_DUMMY_HASH = generate_password_hash("not a password: makes unknown users cost as much as known ones")


class AuthConfigError(BadValueError):
    """A users setting that cannot be read; the message names the variable or file and the entry."""


def _parse(entries: list[tuple[str, str]]) -> dict[str, str]:
    users: dict[str, str] = {}
    for where, entry in entries:
        name, sep, hashed = entry.strip().partition(":")
        name = name.strip()
        if not sep or not name or "$" not in hashed:
            # Only the name is echoed: what follows it may be a password pasted in place of its hash.
            whose = f" for user {name!r}" if sep and name else ""
            raise AuthConfigError(f"{where}: expected name:hash with a werkzeug password hash "
                                  f"(method$salt$hash){whose}")
        hashed = hashed.strip()
        problem = hash_problem(hashed)
        if problem:
            raise AuthConfigError(f"{where}: user {name!r}: {problem}; make a new hash with "
                                  "generate_password_hash (see README, 'Behind a reverse proxy')")
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


# The cheapest hashes accepted: werkzeug's default scrypt (n=32768, r=8, p=1: 32 MiB, ~110 ms here),
# and PBKDF2 at OWASP's 2023 minimums (Password Storage Cheat Sheet: 600,000 iterations of
# HMAC-SHA-256, 210,000 of HMAC-SHA-512). Checked once per session, so a strong hash costs nothing later.
SCRYPT_MIN_WORK = 32768 * 8 * 1
PBKDF2_MIN_ITERATIONS = {"sha256": 600_000, "sha512": 210_000}


def hash_problem(hashed: str) -> str | None:
    """What is wrong with a werkzeug password hash (``method$salt$hex``), or None when it is usable:
    an unknown or weak method, bad parameters, an empty salt, or a digest that is not hex."""
    method, _, rest = hashed.partition("$")
    salt, _, digest = rest.partition("$")
    if not salt or not digest:
        return "expected a werkzeug hash method$salt$hash"
    try:
        bytes.fromhex(digest)
    except ValueError:
        return "the hash part (after the second $) is not hexadecimal"
    name, *args = method.split(":")
    if name == "scrypt":
        if len(args) != 3 or not all(a.isdigit() for a in args):
            return f"expected scrypt:n:r:p, got {method!r}"
        n, r, p = map(int, args)
        if n < 2 or n & (n - 1) or min(r, p) < 1:
            return f"{method!r}: n must be a power of two, r and p at least 1"
        if n * r * p < SCRYPT_MIN_WORK:
            return f"{method!r} is weaker than werkzeug's default scrypt:32768:8:1"
        return None
    if name == "pbkdf2":
        if len(args) != 2 or not args[1].isdigit():
            return f"expected pbkdf2:sha256:iterations, got {method!r}"
        least = PBKDF2_MIN_ITERATIONS.get(args[0])
        if least is None:
            return f"{method!r}: pbkdf2 must use sha256 or sha512"
        if int(args[1]) < least:
            return f"{method!r}: pbkdf2:{args[0]} needs at least {least:,} iterations"
        return None
    # Not echoed: a password typed in place of a hash may contain "$", and this goes to logs.
    return "not a werkzeug hash method; expected scrypt:n:r:p or pbkdf2:sha256:iterations"


def check_user(users: Mapping[str, str], name: str | None, password: str | None) -> bool:
    """Whether ``name`` and ``password`` match, in the same time for unknown names."""
    hashed = users.get(name or "")
    ok = check_password_hash(hashed or _DUMMY_HASH, password or "")
    return ok and hashed is not None


def install_auth(app, env: Mapping[str, str]) -> bool:
    """Require basic authentication or a session cookie on every request of ``app`` (a Dash app
    or its Flask server) when users are configured; return whether it did."""
    users = load_users(env)
    if not users:
        return False
    server = getattr(app, "server", app)
    server.before_request(_login_check(users, Sessions(users), FailureThrottle()))
    server.after_request(_set_session_cookie)
    return True


def _login_check(users: Mapping[str, str], sessions: Sessions, throttle: FailureThrottle):
    """The before-request hook: a valid session cookie passes at the cost of one HMAC; otherwise
    the basic-auth password is checked (scrypt), unless this client failed too often lately."""
    from flask import Response, g, request

    def require_login():
        if sessions.user_of(request.cookies.get(SESSION_COOKIE)) is not None:
            return None
        credentials = request.authorization
        if credentials is None or credentials.type != "basic":
            return _challenge()
        client = request.remote_addr or "unknown"
        wait = throttle.attempt(client)
        if wait > 0:  # refused without hashing: parallel guesses cannot take the CPU from users
            return Response("Too many failed sign-ins from this address; try again later.\n", 429,
                            {"Retry-After": str(math.ceil(wait))})
        if not check_user(users, credentials.username, credentials.password):
            return _challenge()
        throttle.succeeded(client)
        g.dipwatch_session = sessions.issue(credentials.username)
        return None

    return require_login


def _challenge():
    from flask import Response

    return Response("Sign in to see the dipwatch dashboard.\n", 401,
                    {"WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8"'})


def _set_session_cookie(response):
    """After a password check passed: the session cookie, out of reach of scripts (HttpOnly), never
    sent by other sites' pages (SameSite=Strict), and Secure when the request came over https
    (gunicorn trusts X-Forwarded-Proto from a proxy on 127.0.0.1)."""
    from flask import g, request

    value = g.pop("dipwatch_session", None)
    if value is not None:
        response.set_cookie(SESSION_COOKIE, value, max_age=SESSION_SECONDS, path="/",
                            httponly=True, samesite="Strict", secure=request.is_secure)
    return response


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
