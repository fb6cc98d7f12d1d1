"""DNS rebinding: the dashboard, served for real on a free port without authentication, answers only the
names it is reached by, and takes callbacks (POSTs) only from pages of those names. Raw HTTP requests
set the ``Host`` and ``Origin`` a rebound or foreign page's browser would send."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from click.testing import CliRunner

from dipwatch.core.config import Settings
from dipwatch.store import Store

FOREIGN_HOSTS = ["evil.example", "evil.example:{port}", "127.0.0.1.evil.example:{port}",
                 "localhost.evil.example", "10.0.0.8:{port}", "[::2]:{port}", "localhost:{port}:x", "",
                 "evil.example:{port}@127.0.0.1", "[::1", "0x7f.1"]
LOOPBACK_HOSTS = ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST", "[::1]:{port}", "127.0.0.1",
                  "localhost.:{port}", "127.8.9.10:80"]
FOREIGN_ORIGINS = ["http://evil.example", "http://evil.example:{port}", "https://127.0.0.1.evil.example",
                   "null", "file://", "http://10.0.0.8:{port}"]
LOOPBACK_ORIGINS = ["http://127.0.0.1:{port}", "http://localhost:3000", "http://[::1]:{port}"]
PATHS = ["/", "/_dash-layout", "/_dash-dependencies", "/?brand=acme"]
CALLBACK = "/_dash-update-component"


@contextmanager
def served(tmp_path, env: dict[str, str] | None = None, hosts=()) -> Iterator[int]:
    from werkzeug.serving import make_server

    from dashboard.app import create_app

    with Store(f"sqlite:///{tmp_path / 'd.db'}") as store:
        app = create_app(Settings(db_url=store.url), store, env=env or {}, hosts=hosts)
        httpd = make_server("127.0.0.1", 0, app.server, threaded=True)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield httpd.server_port
        finally:
            httpd.shutdown()
            thread.join(timeout=10)


def raw(port: int, method: str, path: str, host: str | None, origin: str | None = None,
        body: bytes | None = None) -> tuple[int, bytes]:
    """One request with exactly the ``Host`` (None: none at all) and ``Origin`` given."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        if host is not None:
            conn.putheader("Host", host)
        if origin is not None:
            conn.putheader("Origin", origin)
        if body is not None:
            conn.putheader("Content-Type", "application/json")
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


def callback_body(port: int) -> bytes:
    """A real callback request of the page (its first server-side callback, inputs left empty)."""
    status, text = raw(port, "GET", "/_dash-dependencies", f"127.0.0.1:{port}")
    assert status == 200
    dep = next(d for d in json.loads(text) if not d.get("clientside_function"))
    output = dep["output"]
    parts = output.strip(".").split("...") if output.startswith("..") else [output]
    outputs = [dict(zip(("id", "property"), p.rsplit(".", 1), strict=True)) for p in parts]
    inputs = [{**item, "value": None} for item in dep["inputs"]]
    return json.dumps({"output": output, "outputs": outputs if len(outputs) > 1 else outputs[0],
                       "inputs": inputs, "state": [{**s, "value": None} for s in dep.get("state", [])],
                       "changedPropIds": []}).encode()


def test_without_auth_only_loopback_hosts_are_answered_and_only_loopback_origins_post(tmp_path):
    with served(tmp_path) as port:
        body = callback_body(port)
        cases = 0
        for host in FOREIGN_HOSTS:
            for path in PATHS:
                status, text = raw(port, "GET", path, host.format(port=port))
                assert status == 400, (host, path, status, text[:200])
                assert b"dipwatch" not in text.lower().replace(b"dipwatch_dashboard_hosts", b"")
                cases += 1
            status, _ = raw(port, "POST", CALLBACK, host.format(port=port), body=body)
            assert status == 400, (host, status)
            cases += 1
        for host in LOOPBACK_HOSTS:
            for path in PATHS:
                status, _ = raw(port, "GET", path, host.format(port=port))
                assert status == 200, (host, path, status)
                cases += 1
        for origin in FOREIGN_ORIGINS:
            status, text = raw(port, "POST", CALLBACK, f"127.0.0.1:{port}", origin.format(port=port), body)
            assert status == 403, (origin, status, text[:200])
            cases += 1
        for origin in [*LOOPBACK_ORIGINS, None]:  # no Origin: not a browser's cross-site request
            status, text = raw(port, "POST", CALLBACK, f"localhost:{port}",
                               None if origin is None else origin.format(port=port), body)
            assert status == 200, (origin, status, text[:300])
            cases += 1
        # A foreign page may still GET with its Origin (a script or image tag): it only reads the page
        # if the Host is ours, which a rebound page's is not.
        status, _ = raw(port, "GET", "/", f"127.0.0.1:{port}", "http://evil.example")
        assert status == 200
    print(f"\nrebinding: {cases} raw requests, every foreign Host 400, every foreign Origin 403")


def test_configured_hosts_and_the_host_flag_are_answered_too(tmp_path):
    env = {"DIPWATCH_DASHBOARD_HOSTS": "dash.internal, Dipwatch.Example.com:443"}
    with served(tmp_path, env=env, hosts=["box.lan"]) as port:
        body = callback_body(port)
        for host in ["dash.internal", f"dash.internal:{port}", "dipwatch.example.com", "box.lan:8050"]:
            assert raw(port, "GET", "/", host)[0] == 200, host
            assert raw(port, "POST", CALLBACK, host, f"https://{host}", body)[0] == 200, host
        assert raw(port, "GET", "/", "evil.example")[0] == 400
        assert raw(port, "POST", CALLBACK, "dash.internal", "https://evil.example", body)[0] == 403


def test_with_auth_the_check_applies_only_when_hosts_are_configured(tmp_path):
    from werkzeug.security import generate_password_hash

    # werkzeug's default hash: a weaker one is refused at start-up (dashboard.auth.hash_problem).
    users = {"DIPWATCH_DASHBOARD_USERS": f"alice:{generate_password_hash('pw')}"}
    with served(tmp_path, env=users) as port:
        assert raw(port, "GET", "/", "dipwatch.example.com")[0] == 401  # the proxy's name: sign in
    with served(tmp_path, env=users | {"DIPWATCH_DASHBOARD_HOSTS": "dipwatch.example.com"}) as port:
        assert raw(port, "GET", "/", "evil.example")[0] == 400
        assert raw(port, "GET", "/", "dipwatch.example.com")[0] == 401


def test_dashboard_command_allows_the_host_it_was_given(monkeypatch, tmp_path):
    import dashboard.app
    from dipwatch.cli.main import cli

    seen = {}

    class Served:
        def run(self, **kwargs):
            seen["run"] = kwargs

    def create_app(settings, store, env=None, hosts=()):
        seen["hosts"] = list(hosts)
        return Served()

    monkeypatch.setattr(dashboard.app, "create_app", create_app)
    monkeypatch.setattr(dashboard.app, "settle", lambda: None)
    result = CliRunner().invoke(cli, ["dashboard", "--db", str(tmp_path / "x.db"), "--host", "box.lan"],
                                env={"DIPWATCH_CONFIG": ""})
    assert result.exit_code == 0, result.output
    assert seen == {"hosts": ["box.lan"], "run": {"host": "box.lan", "port": 8050, "debug": False}}


@pytest.mark.parametrize(("value", "name"), [("a.example:80", "a.example"), ("[::1]:8050", "::1"),
                                             ("LOCALHOST.", "localhost"), ("a:b", None), ("[::1", None),
                                             (":80", None), ("[::1]x", None)])
def test_host_names_are_read_strictly(value, name):
    from dashboard.hosts import host_name

    assert host_name(value) == name
