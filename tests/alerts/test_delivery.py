"""Delivery against endpoints that misbehave: answers that are not HTTP, a trickle, redirects, Slack
markup, and no channel at all. Each failure is recorded, reported (exit 1) and sent again later."""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from dipwatch.core.config import load_settings
from dipwatch.core.delivery import Delivery
from dipwatch.jobs.notify import send
from dipwatch.store import Store
from tests.alerts.test_alerts import METRICS, RULES, Webhook, at, mailbox, store_episode, webhook  # noqa: F401 (fixtures)


class RawServer:
    """A TCP server on 127.0.0.1 whose every connection is handed to ``reply(connection)`` after the
    request has been read: it may answer anything, or nothing like HTTP."""

    def __init__(self, reply: Callable[[socket.socket], None]):
        self.reply = reply
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/hook"
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(30)
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            length = int(next((line.split(b":")[1] for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length")), b"0"))
            while len(body) < length:
                body += conn.recv(65536)
            with contextlib.suppress(OSError):  # the client hung up: what a deadline does
                self.reply(conn)

    def close(self) -> None:
        self.stop.set()
        self.listener.close()


def two_brands(tmp_path, alerts: str = "retries = 2\ntimeout = 1\n") -> tuple:
    """Acme and Globex, both well below their normal band at hour 75 (the posts of episode_store)."""
    config = tmp_path / "dipwatch.toml"
    config.write_text(f"[brands.acme]\nterms = [\"Acme\"]\n[brands.acme.alerts]\n{RULES}"
                      f"[brands.globex]\nterms = [\"Acme\"]\n[brands.globex.alerts]\n{RULES}"
                      f"{METRICS}[alerts]\n{alerts}")
    settings = load_settings(db=str(tmp_path / "a.db"), config=config)
    store = Store(settings.db_url)
    store_episode(store, ["acme", "globex"])
    store.set_meta("as_of", at(75).isoformat())
    return settings, store


def cli(settings, store, env: dict[str, str]):
    from dipwatch.cli.main import cli as command

    env = {"DIPWATCH_CONFIG": str(settings.config_path), "DIPWATCH_DB": settings.db_url,
           "DIPWATCH_WEBHOOK_URL": None, "DIPWATCH_SMTP_USER": None} | env
    return CliRunner().invoke(command, ["alerts", "check"], env=env)


def not_http(conn: socket.socket) -> None:
    conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")  # something else listens where the webhook was


def long_header(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Pad: " + b"a" * 70000 + b"\r\n\r\n")


def cut_chunk(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n100\r\nshort")


def cut_body(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 500 Oops\r\nContent-Length: 1000\r\n\r\nshort")


@pytest.mark.parametrize(("reply", "error"), [(not_http, "BadStatusLine"), (long_header, "LineTooLong"),
                                              (cut_chunk, "IncompleteRead"), (cut_body, "HTTP 500")])
def test_an_answer_that_is_not_http_is_a_failed_delivery_sent_again_on_the_next_run(tmp_path, reply, error,
                                                                                      monkeypatch):
    monkeypatch.setattr("dipwatch.jobs.notify.time.sleep", lambda s: None)
    settings, store = two_brands(tmp_path)
    server = RawServer(reply)
    try:
        result = cli(settings, store, {"DIPWATCH_WEBHOOK_URL": server.url})
    finally:
        server.close()
    # Both brands evaluated and recorded, neither alert taken for sent, exit 1.
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.output.count("sent: ") == 2
    assert result.output.count("[webhook: failed]") == 2
    assert server.connections == 4  # two brands, two attempts each
    for brand in ("acme", "globex"):
        (episode,) = store.list_alerts(brand)
        assert episode["sent"] == {"webhook": {"status": "failed", "attempts": 2, "error": error}}
    with Webhook() as hook:
        again = cli(settings, store, {"DIPWATCH_WEBHOOK_URL": hook.url})
        assert again.exit_code == 0, again.output
        assert again.output.count("retried: ") == 2
        assert [b["text"].split("\n")[0] for b in hook.bodies] == ["dipwatch alert: acme",
                                                                   "dipwatch alert: globex"]
        assert cli(settings, store, {"DIPWATCH_WEBHOOK_URL": hook.url}).output == ""
        assert len(hook.bodies) == 2


def trickle(conn: socket.socket) -> None:
    """A status line, then a byte of header every 0.2 s for 8 s, then a good answer."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    for _ in range(40):
        threading.Event().wait(0.2)  # not time.sleep: the test patches that
        conn.sendall(b"a")
    conn.sendall(b"\r\nContent-Length: 2\r\n\r\nok")


def test_the_timeout_bounds_the_whole_exchange_not_each_read(monkeypatch):
    monkeypatch.setattr("dipwatch.jobs.notify.time.sleep", lambda s: None)
    server = RawServer(trickle)
    try:
        started = time.monotonic()
        results = send(Delivery(webhook_url=server.url, retries=2, timeout=1.0), "s", "t")
        took = time.monotonic() - started
    finally:
        server.close()
    assert results["webhook"] == {"status": "failed", "attempts": 2, "error": "TimeoutError"}
    assert took < 3.5  # two attempts of 1 s each, where every single read took 0.2 s


def test_email_to_a_trickling_server_is_bounded_too():
    listener = socket.create_server(("127.0.0.1", 0))

    def serve():  # an SMTP server's banner, a byte every 0.2 s
        conn, _ = listener.accept()
        with conn, contextlib.suppress(OSError):
            for _ in range(40):
                conn.sendall(b"2")
                threading.Event().wait(0.2)

    threading.Thread(target=serve, daemon=True).start()
    started = time.monotonic()
    results = send(Delivery(email_to=("a@b.example",), smtp_host="127.0.0.1",
                            smtp_port=listener.getsockname()[1], starttls=False, retries=1, timeout=1.0),
                   "s", "t")
    listener.close()
    assert results["email"]["status"] == "failed"
    assert time.monotonic() - started < 2.5


class Redirecting(Webhook):
    """Answers every POST with ``status`` and a Location; counts the GETs a redirect would bring."""

    def __init__(self, status: int):
        self.gets = 0
        self.posts = 0
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                hook.posts += 1
                self.send_response(status)
                self.send_header("Location", "/login")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self):
                hook.gets += 1
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirected_webhook_is_a_failure_that_says_why_never_a_get(status):
    with Redirecting(status) as hook:
        results = send(Delivery(webhook_url=hook.url, retries=3, timeout=2), "s", "t")
    assert results["webhook"]["status"] == "failed"
    assert results["webhook"]["attempts"] == 1  # retrying cannot fix a wrong URL
    assert results["webhook"]["error"].startswith(f"HTTP {status}: redirect not followed")
    assert (hook.posts, hook.gets) == (1, 0)


def test_slack_markup_in_labels_is_escaped_in_the_webhook_and_left_alone_in_email(webhook, mailbox):  # noqa: F811
    text = "acme: 'orders <!channel> <https://evil.example|status page> & <@U024BE7LH>' ongoing"
    results = send(Delivery(webhook_url=webhook.url, email_to=("a@b.example",), smtp_host="127.0.0.1",
                            smtp_port=mailbox.port, starttls=False), "dipwatch alert: acme", text,
                   "http://dash.example/?brand=acme&outage=3")
    assert {r["status"] for r in results.values()} == {"ok"}
    (body,) = webhook.bodies
    assert body["text"] == ("dipwatch alert: acme\nacme: 'orders &lt;!channel&gt; &lt;https://evil.example|"
                            "status page&gt; &amp; &lt;@U024BE7LH&gt;' ongoing\n"
                            "http://dash.example/?brand=acme&amp;outage=3")
    assert "<" not in body["text"]
    mail = email.message_from_string(mailbox.messages[0], policy=email.policy.default)
    assert text in mail.get_content()


def test_with_no_channel_alerts_are_recorded_undelivered_and_sent_once_one_is_set(tmp_path, webhook):  # noqa: F811
    settings, store = two_brands(tmp_path, alerts="")
    first = cli(settings, store, {})
    assert first.exit_code == 1
    assert "alerts: no channel is set" in first.output
    assert first.output.count("[not sent]") == 2
    assert [e["sent"] for e in store.list_alerts()] == [{}, {}]
    from dipwatch.cli.main import cli as command

    listed = CliRunner().invoke(command, ["alerts", "list"], env={
        "DIPWATCH_CONFIG": str(settings.config_path), "DIPWATCH_DB": settings.db_url})
    assert listed.output.count("sent: undelivered (no channel)") == 2
    assert cli(settings, store, {}).exit_code == 1  # still none: still said, nothing sent
    configured = cli(settings, store, {"DIPWATCH_WEBHOOK_URL": webhook.url})
    assert configured.exit_code == 0, configured.output
    assert configured.output.count("retried: ") == 2
    assert len(webhook.bodies) == 2
    assert cli(settings, store, {"DIPWATCH_WEBHOOK_URL": webhook.url}).output == ""
    assert len(webhook.bodies) == 2
    assert all(json.dumps(e["sent"]) == '{"webhook": {"status": "ok", "attempts": 1}}'
               for e in store.list_alerts())
