"""Delivering alerts: a JSON webhook (Slack/Teams incoming-webhook style) and email over SMTP.

Secrets (the webhook URL, SMTP user and password) come from the environment only and never appear
in logs, errors or the store: results record the channel, the status and the error's type.
"""

from __future__ import annotations

import json
import logging
import smtplib
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage

log = logging.getLogger("dipwatch.alerts")

DELIVERY_KEYS = {"webhook_url_env", "email_to", "email_from", "smtp_host", "smtp_port", "starttls",
                 "retries", "timeout", "dashboard_url"}


@dataclass(frozen=True)
class Delivery:
    """Where alerts go (section ``[alerts]`` of dipwatch.toml, secrets from the environment)."""

    webhook_url: str | None = None
    email_to: tuple[str, ...] = ()
    email_from: str = "dipwatch@localhost"
    smtp_host: str = "localhost"
    smtp_port: int = 587
    starttls: bool = True
    smtp_user: str | None = None
    smtp_password: str | None = None
    retries: int = 3
    timeout: float = 10.0
    dashboard_url: str = "http://127.0.0.1:8050"

    @property
    def channels(self) -> list[str]:
        return (["webhook"] if self.webhook_url else []) + (["email"] if self.email_to else [])


def delivery_from(table: Mapping, env: Mapping[str, str], where: str = "dipwatch.toml") -> Delivery:
    """Build the delivery settings from ``[alerts]`` and the environment.

    :raises ValueError: naming the key and what was expected.
    """
    for key in table:
        if key not in DELIVERY_KEYS:
            raise ValueError(
                f"{where}: alerts.{key}: unknown setting; expected one of {sorted(DELIVERY_KEYS)}")
    to = table.get("email_to", [])
    if isinstance(to, str):
        to = [to]
    if not isinstance(to, list) or not all(isinstance(a, str) and "@" in a for a in to):
        raise ValueError(f"{where}: alerts.email_to: expected a list of email addresses")
    port = table.get("smtp_port", 587)
    if not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError(f"{where}: alerts.smtp_port: expected a port number, got {port!r}")
    retries = table.get("retries", 3)
    if not isinstance(retries, int) or not 1 <= retries <= 10:
        raise ValueError(f"{where}: alerts.retries: expected 1-10 attempts, got {retries!r}")
    webhook_env = table.get("webhook_url_env", "DIPWATCH_WEBHOOK_URL")
    return Delivery(
        webhook_url=env.get(webhook_env) or None,
        email_to=tuple(to),
        email_from=str(table.get("email_from", "dipwatch@localhost")),
        smtp_host=str(table.get("smtp_host", "localhost")),
        smtp_port=port,
        starttls=bool(table.get("starttls", True)),
        smtp_user=env.get("DIPWATCH_SMTP_USER") or None,
        smtp_password=env.get("DIPWATCH_SMTP_PASSWORD") or None,
        retries=retries,
        timeout=float(table.get("timeout", 10.0)),
        dashboard_url=str(table.get("dashboard_url", "http://127.0.0.1:8050")).rstrip("/"),
    )


def send(delivery: Delivery, subject: str, text: str, link: str | None = None,
         sleep: Callable[[float], None] | None = None) -> dict[str, dict]:
    """Send one message on every configured channel, each retried up to ``retries`` times.

    :returns: per channel ``{"status": "ok"|"failed", "attempts": n, "error": type or status}``.
    """
    body = f"{subject}\n{text}" + (f"\n{link}" if link else "")
    sleep = sleep or time.sleep
    results = {}
    if delivery.webhook_url:
        results["webhook"] = _attempts(delivery, sleep, lambda: _post_webhook(delivery, body))
    if delivery.email_to:
        results["email"] = _attempts(delivery, sleep, lambda: _send_email(delivery, subject, body))
    for channel, result in results.items():
        if result["status"] != "ok":
            log.error("alert delivery by %s failed after %d attempts: %s", channel, result["attempts"],
                      result["error"])
    return results


class _PermanentError(Exception):
    """A failure that retrying cannot fix (a 4xx answer)."""


def _attempts(delivery: Delivery, sleep, action) -> dict:
    error = None
    for attempt in range(1, delivery.retries + 1):
        try:
            action()
            return {"status": "ok", "attempts": attempt}
        except _PermanentError as exc:
            return {"status": "failed", "attempts": attempt, "error": str(exc)}
        except (OSError, smtplib.SMTPException) as exc:
            # The exception's text can hold the URL or server reply; keep only its kind.
            error = type(exc).__name__
            if isinstance(exc, urllib.error.HTTPError):
                error = f"HTTP {exc.code}"
        if attempt < delivery.retries:
            sleep(min(2 ** (attempt - 1), 30))
    return {"status": "failed", "attempts": delivery.retries, "error": error}


def _post_webhook(delivery: Delivery, body: str) -> None:
    request = urllib.request.Request(  # noqa: S310 (the URL is the operator's own webhook)
        delivery.webhook_url, data=json.dumps({"text": body}).encode(), method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "dipwatch-alerts"},
    )
    try:
        with urllib.request.urlopen(request, timeout=delivery.timeout) as answer:  # noqa: S310
            answer.read(65536)
    except urllib.error.HTTPError as exc:
        if 400 <= exc.code < 500 and exc.code != 429:
            raise _PermanentError(f"HTTP {exc.code}") from None
        raise


def _send_email(delivery: Delivery, subject: str, body: str) -> None:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = delivery.email_from
    message["To"] = ", ".join(delivery.email_to)
    message.set_content(body)
    with smtplib.SMTP(delivery.smtp_host, delivery.smtp_port, timeout=delivery.timeout) as smtp:
        if delivery.starttls:
            smtp.starttls()
        if delivery.smtp_user:
            smtp.login(delivery.smtp_user, delivery.smtp_password or "")
        smtp.send_message(message)
