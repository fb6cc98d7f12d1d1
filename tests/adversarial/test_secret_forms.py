"""Secrets in echoes: a local server in front of Reddit's API echoes each request's headers back, in the
forms proxies, debugging endpoints and error pages use (a header block, JSON with ``/`` escaped, a query
string, an HTML title, the basic credentials decoded). A real ``dipwatch collect`` (the job, in process)
meets it; no form of the client secret, of ``base64(client_id:secret)`` or of the bearer token may reach
an error, a log line (DEBUG included) or the run log, not even a piece of one.
"""

from __future__ import annotations

import base64
import json
import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, quote_plus, urlencode

import prawcore
import pytest

from dipwatch.core.brands import Brand
from dipwatch.core.config import Settings
from dipwatch.jobs.collect import run_collect
from dipwatch.store import Store

CLIENT_ID = "dipwatch-client-ID"
# Reddit's secrets are letters, digits, _ and -; a praw.ini may hold other characters (a script app's
# password), and these make every encoded form differ from the raw one.
SECRET = "sek+rit/SENTINEL=42&x~y"
TOKEN = "bearer-TOKEN-sentinel-0123456789"
BASIC = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()


def echo(style: str, headers: dict[str, str], form: str) -> tuple[int, str, str]:
    """The echo of a request in ``style``: (status, content type, body), the credentials first, as
    the start of a reply is what errors quote."""
    auth = headers.get("Authorization", "")
    block = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    if style == "header block":
        return 502, "text/plain", f"Authorization: {auth}\r\n{block}\r\n{form}"
    if style == "json, slashes escaped":
        return 400, "application/json", json.dumps({"headers": headers, "form": form}).replace("/", "\\/")
    if style == "query string":
        return 400, "text/plain", "echo?" + urlencode({"authorization": auth, **headers})
    if style == "html title":
        return 400, "text/html", f"<html><title>Denied: {auth}</title><body>{block}</body></html>"
    if style == "decoded":
        user, _, password = base64.b64decode(auth.split()[-1]).decode().partition(":") if "Basic" in auth \
            else ("?", "", auth)
        encoded = base64.b64encode(password.encode()).decode()
        return 400, "text/plain", (f"user={user} password={password} url-encoded={quote(password, safe='')} "
                                   f"plus={quote_plus(password)} b64={encoded}")
    raise AssertionError(style)


STYLES = ["header block", "json, slashes escaped", "query string", "html title", "decoded"]


class EchoServer(ThreadingHTTPServer):
    """Echoes the token request (``where="token"``), or issues a token and echoes the API requests that
    carry it (``where="api"``)."""

    def __init__(self, style: str, where: str):
        self.style, self.where = style, where

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.answer()

            def do_POST(self):
                self.answer()

            def answer(self):
                server: EchoServer = self.server
                form = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                if self.path.startswith("/api/v1/access_token") and server.where == "api":
                    status, ctype = 200, "application/json"
                    body = json.dumps({"access_token": TOKEN, "token_type": "bearer", "expires_in": 86400,
                                       "scope": "*"})
                else:
                    status, ctype, body = echo(server.style, dict(self.headers.items()), form)
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def no_retry_sleep(monkeypatch):
    monkeypatch.setattr(prawcore.sessions.FiniteRetryStrategy, "_sleep_seconds", lambda self: None)


@pytest.fixture(params=[(style, where) for where in ("token", "api") for style in STYLES],
                ids=lambda p: f"{p[1]}-{p[0]}")
def echoing(request) -> Iterator[EchoServer]:
    server = EchoServer(*request.param)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def forbidden_pieces() -> set[str]:
    """Every 10-character piece of every form the credentials can take: a cut-off quote of a reply
    must not hold one either."""
    forms = {SECRET, BASIC, TOKEN}
    forms |= {quote(f, safe="") for f in forms} | {quote_plus(f) for f in forms}
    forms |= {f.replace("/", "\\/") for f in forms}
    forms |= {BASIC.rstrip("="), base64.b64encode(SECRET.encode()).decode()}
    return {f[i:i + 10] for f in forms for i in range(len(f) - 9)}


def test_no_form_of_a_credential_reaches_errors_logs_or_the_run_log(echoing, tmp_path, caplog,
                                                                    no_retry_sleep):
    caplog.set_level(logging.DEBUG)
    db = tmp_path / "d.db"
    settings = Settings(db_url=f"sqlite:///{db}", brands={"acme": Brand(
        key="acme", name="Acme", terms=("Acme",), sources={"reddit": {"subreddits": ["unitedkingdom"]}})},
        sources={"reddit": {"oauth_url": echoing.url, "reddit_url": echoing.url, "timeout": 5}})
    env = {"REDDIT_CLIENT_ID": CLIENT_ID, "REDDIT_CLIENT_SECRET": SECRET, "REDDIT_USER_AGENT": "t"}
    with Store(settings.db_url) as store:
        code = run_collect(settings, store, max_seconds=20, env=env)
    with closing(sqlite3.connect(db)) as conn:
        rows = conn.execute("SELECT status, message FROM runs").fetchall()
    assert code == 1
    assert rows
    assert all(status == "failed" for status, _ in rows), rows
    messages = " ".join(message for _, message in rows)
    assert "Reddit" in messages  # the error itself still says what failed
    leaked = sorted(p for p in forbidden_pieces() if p in messages + caplog.text)
    assert not leaked, f"{len(leaked)} pieces leaked, e.g. {leaked[:3]}:\n{messages}\n{caplog.text[-2000:]}"
