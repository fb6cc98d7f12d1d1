"""Delivering alerts: a JSON webhook (Slack/Teams incoming-webhook style) and email over SMTP.

Secrets (the webhook URL, SMTP user and password) come from the environment only and never appear
in logs, errors or the store: results record the channel, the status and the error's type.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import smtplib
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Collection
from email.message import EmailMessage

from dipwatch.core.delivery import Delivery

log = logging.getLogger("dipwatch.alerts")

def send(delivery: Delivery, subject: str, text: str, link: str | None = None,
         sleep: Callable[[float], None] | None = None,
         channels: Collection[str] | None = None) -> dict[str, dict]:
    """Send one message on every configured channel, each retried up to ``retries`` times.

    :param channels: only these of the configured channels (default: all of them).
    :returns: per channel ``{"status": "ok"|"failed", "attempts": n, "error": type or status}``.
    """
    body = f"{subject}\n{text}" + (f"\n{link}" if link else "")
    sleep = sleep or time.sleep
    wanted = set(delivery.channels if channels is None else channels)
    results = {}
    if delivery.webhook_url and "webhook" in wanted:
        results["webhook"] = _attempts(delivery, sleep, lambda: _post_webhook(delivery, slack_escape(body)))
    if delivery.email_to and "email" in wanted:
        results["email"] = _attempts(delivery, sleep, lambda: _send_email(delivery, subject, body))
    for channel, result in results.items():
        if result["status"] != "ok":
            log.error("alert delivery by %s failed after %d attempts: %s", channel, result["attempts"],
                      result["error"])
    return results


def slack_escape(text: str) -> str:
    """``text`` with Slack's control characters escaped (``&``, ``<``, ``>`` as ``&amp;`` ``&lt;``
    ``&gt;``, as Slack's "Formatting text" guide asks), so an outage label such as ``<!channel>`` or
    ``<https://evil.example|your bank>`` shows as typed instead of pinging everyone or hiding a link.
    Teams shows the same entities as the characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class _PermanentError(Exception):
    """A failure that retrying cannot fix (a 4xx answer, a redirect)."""


def _attempts(delivery: Delivery, sleep, action) -> dict:
    error = None
    for attempt in range(1, delivery.retries + 1):
        try:
            action()
            return {"status": "ok", "attempts": attempt}
        except _PermanentError as exc:
            return {"status": "failed", "attempts": attempt, "error": str(exc)}
        except Exception as exc:  # any failure is a failed delivery, never a crash
            # OSError and SMTP errors, but also answers that are not HTTP (http.client's BadStatusLine,
            # IncompleteRead, LineTooLong), which once escaped and lost an already recorded alert.
            # The exception's text can hold the URL or server reply; keep only its kind.
            error = type(exc).__name__
            if isinstance(exc, urllib.error.HTTPError):
                error = f"HTTP {exc.code}"
        if attempt < delivery.retries:
            sleep(min(2 ** (attempt - 1), 30))
    return {"status": "failed", "attempts": delivery.retries, "error": error}


class _Deadline:
    """One deadline over a whole exchange (connect, send, every read of the answer).

    A socket timeout bounds each read alone: an endpoint trickling a byte a second never trips it.
    At the deadline, unless the exchange was marked :meth:`done`, this shuts the watched connections
    down, which ends whatever read or write is waiting on them; :meth:`__exit__` then raises
    ``TimeoutError`` whatever came of it (a cut answer can parse as a complete one: http.client takes
    the end of the stream for the end of the headers).
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self.expired = False
        self.finished = False
        self._watched: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def remaining(self) -> float:
        return max(self.at - time.monotonic(), 0.001)

    def watch(self, sock: socket.socket) -> socket.socket:
        """Shut ``sock`` down at the deadline. A duplicate of it is kept: TLS detaches the original
        object, and shutting down any descriptor of a connection ends it for all of them."""
        with self._lock:
            self._watched.append(sock.dup())
            if self.expired:
                self._watched[-1].shutdown(socket.SHUT_RDWR)
        return sock

    def done(self) -> None:
        """The message was delivered: from now on the deadline cuts nothing."""
        with self._lock:
            self.finished = True

    def _expire(self) -> None:
        with self._lock:
            if self.finished:
                return
            self.expired = True
            for sock in self._watched:
                with contextlib.suppress(OSError):  # already closed by its owner
                    sock.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, kind, exc, tb) -> None:
        self._timer.cancel()
        with self._lock:
            for sock in self._watched:
                sock.close()
        if self.expired and not isinstance(exc, _PermanentError):
            raise TimeoutError(f"no complete exchange within {self.seconds:g} s") from None


def _watched(connection_class, deadline: _Deadline):
    """A factory of ``connection_class`` connections whose sockets ``deadline`` watches."""
    def connect(host, **kwargs):
        connection = connection_class(host, **kwargs)
        create = connection._create_connection  # http.client opens every socket through this attribute
        connection._create_connection = lambda *a, **k: deadline.watch(create(*a, **k))
        return connection
    return connect


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Follow no redirect: urllib turns the POST into a bodiless GET on 301/302/303, which a
    login page then answers 200, and the alert was recorded as delivered."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # urllib then raises HTTPError with the 3xx code


def _opener(deadline: _Deadline) -> urllib.request.OpenerDirector:
    class Plain(urllib.request.HTTPHandler):
        def http_open(self, req):
            return self.do_open(_watched(http.client.HTTPConnection, deadline), req)

    class Secure(urllib.request.HTTPSHandler):
        def https_open(self, req):
            return self.do_open(_watched(http.client.HTTPSConnection, deadline), req,
                                context=self._context)

    return urllib.request.build_opener(Plain, Secure, _NoRedirect)


def _post_webhook(delivery: Delivery, body: str) -> None:
    request = urllib.request.Request(  # noqa: S310 (the URL is the operator's own webhook)
        delivery.webhook_url, data=json.dumps({"text": body}).encode(), method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "dipwatch-alerts"},
    )
    with _Deadline(delivery.timeout) as deadline:
        try:
            with _opener(deadline).open(request, timeout=deadline.remaining()) as answer:
                answer.read(65536)
                deadline.done()
        except urllib.error.HTTPError as exc:
            if 300 <= exc.code < 400:
                raise _PermanentError(f"HTTP {exc.code}: redirect not followed (a redirected POST "
                                      "arrives as a GET without the message); set the webhook's "
                                      "final URL") from None
            if 400 <= exc.code < 500 and exc.code != 429:
                raise _PermanentError(f"HTTP {exc.code}") from None
            raise


class _SMTP(smtplib.SMTP):
    """smtplib's client with its connection watched by a deadline."""

    def __init__(self, deadline: _Deadline, host: str, port: int):
        self.deadline = deadline
        super().__init__(host, port, timeout=deadline.remaining())

    def _get_socket(self, host, port, timeout):
        return self.deadline.watch(super()._get_socket(host, port, timeout))


def _send_email(delivery: Delivery, subject: str, body: str) -> None:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = delivery.email_from
    message["To"] = ", ".join(delivery.email_to)
    message.set_content(body)
    with _Deadline(delivery.timeout) as deadline, _SMTP(deadline, delivery.smtp_host,
                                                         delivery.smtp_port) as smtp:
        if delivery.starttls:
            smtp.starttls()
        if delivery.smtp_user:
            smtp.login(delivery.smtp_user, delivery.smtp_password or "")
        smtp.send_message(message)
        deadline.done()  # QUIT may still be cut: smtplib ignores a server that hung up by then
