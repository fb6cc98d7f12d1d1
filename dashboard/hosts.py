"""Which ``Host`` and ``Origin`` the dashboard answers: protection against DNS rebinding.

A web page on ``evil.example`` can make its own name resolve to 127.0.0.1 a moment later and then, as
far as the browser knows, read its own origin: the dashboard on this machine, which without
authentication answers anyone. Such requests carry ``Host: evil.example``. So without authentication
the dashboard answers only the names a person uses to reach it: loopback names (``localhost``,
127.0.0.1, ``[::1]``, any port), the ``--host`` given to ``dipwatch dashboard``, and the names in
``DIPWATCH_DASHBOARD_HOSTS`` (comma-separated; ``*`` for any). Other hosts get 400. A POST (every
Dash callback is one: ``/_dash-update-component``) that names an ``Origin`` must come from one of
those names too (403): another site's page cannot drive it from a browser on this machine.

With basic authentication on, a rebound page cannot sign in, and a proxy in front decides which names
reach the dashboard: the check applies then only when ``DIPWATCH_DASHBOARD_HOSTS`` is set.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from dashboard.auth import is_loopback

HOSTS_ENV = "DIPWATCH_DASHBOARD_HOSTS"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def host_name(value: str) -> str | None:
    """The name of a ``Host`` header value (``name``, ``name:port``, ``[v6]:port``), lowercased;
    None when it is not one."""
    value = value.strip().lower()
    if value.startswith("["):
        name, bracket, port = value[1:].partition("]")
        port = port[1:] if port.startswith(":") else port
    else:
        name, bracket, port = value.partition(":")
        bracket = "]"
    if not name or not bracket or (port and not port.isdigit()):
        return None
    return name.rstrip(".")


def allowed_hosts(env: Mapping[str, str], names: Iterable[str] = ()) -> frozenset[str]:
    """The names configured in ``DIPWATCH_DASHBOARD_HOSTS`` and ``names`` (the ``--host`` given)."""
    given = [*(env.get(HOSTS_ENV) or "").split(","), *names]
    return frozenset(n for n in (host_name(g) if g.strip() != "*" else "*" for g in given if g.strip()) if n)


def host_allowed(name: str | None, allowed: frozenset[str]) -> bool:
    return name is not None and ("*" in allowed or name in allowed or is_loopback(name))


def install_host_check(app, env: Mapping[str, str], names: Iterable[str] = (), auth: bool = False) -> bool:
    """Answer 400 to requests for other hosts and 403 to POSTs from other origins (module doc);
    return whether the check was installed."""
    from flask import Response, request

    if auth and not (env.get(HOSTS_ENV) or "").strip():
        return False
    allowed = allowed_hosts(env, names)
    server = getattr(app, "server", app)

    @server.before_request
    def check_host():
        if not host_allowed(host_name(request.host), allowed):
            return Response(f"This dashboard answers only to localhost and the names in {HOSTS_ENV}.\n",
                            400, {"Content-Type": "text/plain; charset=utf-8"})
        origin = request.headers.get("Origin")
        if request.method not in SAFE_METHODS and origin is not None and not host_allowed(
                host_name(urlsplit(origin).netloc) if "://" in origin else None, allowed):
            return Response("Requests from other sites are refused.\n", 403,
                            {"Content-Type": "text/plain; charset=utf-8"})
        return None

    return True
