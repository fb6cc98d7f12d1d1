"""Where alerts go: the ``[alerts]`` section of dipwatch.toml read into one frozen record.

Secrets (the webhook URL, SMTP user and password) come from the environment only. Sending is
``dipwatch.jobs.notify``'s job; the config checks the section with :func:`delivery_from` at start-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dipwatch.core.errors import BadValueError

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

    :raises BadValueError: naming the key and what was expected.
    """
    for key in table:
        if key not in DELIVERY_KEYS:
            raise BadValueError(
                f"{where}: alerts.{key}: unknown setting; expected one of {sorted(DELIVERY_KEYS)}")
    to = table.get("email_to", [])
    if isinstance(to, str):
        to = [to]
    if not isinstance(to, list) or not all(isinstance(a, str) and "@" in a for a in to):
        raise BadValueError(f"{where}: alerts.email_to: expected a list of email addresses")
    port = table.get("smtp_port", 587)
    if not isinstance(port, int) or not 0 < port < 65536:
        raise BadValueError(f"{where}: alerts.smtp_port: expected a port number, got {port!r}")
    retries = table.get("retries", 3)
    if not isinstance(retries, int) or not 1 <= retries <= 10:
        raise BadValueError(f"{where}: alerts.retries: expected 1-10 attempts, got {retries!r}")
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
