"""Credentials kept out of error messages, log lines and the run log, in every form a reply may echo.

A server, a proxy or a captive portal that echoes the request shows the client secret as sent: inside
``Authorization: Basic base64(client_id:secret)``, URL-encoded in a query string or form, with ``/``
escaped as ``\\/`` by a JSON encoder, or decoded again in plain text. Errors quote the start of such
replies, so each form is replaced before anything is cut to length: a cut through a base64 form
would leave part of it unmatched (and the part decodes to part of the secret).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MASK = "***"
# Any Authorization or Proxy-Authorization value, also secrets we were not told about (the bearer
# token Reddit issued): as a header line, a JSON member or a query parameter.
_AUTH_VALUE = re.compile(
    r"""((?:proxy-)?authorization["']?\s*[:=]\s*["']?(?:basic|bearer|token)?(?:\s+|\+|%20)?)"""
    r"""[A-Za-z0-9+/=._~%\\-]{6,}""", re.IGNORECASE)
_TOKEN_FIELD = re.compile(r"""((?:access|refresh)_token["']?\s*[:=]\s*["']?)[A-Za-z0-9._~+/=-]{6,}""",
                          re.IGNORECASE)


def _encodings(text: str) -> set[str]:
    return {text, quote(text, safe=""), quote_plus(text), quote(text), text.replace("/", "\\/")}


def _base64_forms(data: str) -> set[str]:
    forms = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        encoded = encode(data.encode("utf-8")).decode("ascii")
        for form in (encoded, encoded.rstrip("=")):
            forms |= _encodings(form)
    return forms


def secret_forms(secrets: Iterable[str | None], client_id: str | None = None) -> tuple[str, ...]:
    """Every form of ``secrets`` to take out of text, longest first: each raw, URL-encoded, JSON-escaped
    and in base64, and ``client_id:secret`` in base64 (HTTP basic authentication), also encoded."""
    forms: set[str] = set()
    for secret in filter(None, secrets):
        forms |= _encodings(secret) | _base64_forms(secret)
        if client_id:
            forms |= _base64_forms(f"{client_id}:{secret}")
    return tuple(sorted((f for f in forms if len(f) >= 4), key=len, reverse=True))


def redact(text: str, forms: Iterable[str]) -> str:
    """``text`` with each of ``forms`` (from :func:`secret_forms`) and every authorization value masked."""
    for form in forms:
        text = text.replace(form, MASK)
    text = _AUTH_VALUE.sub(lambda m: m.group(1) + MASK, text)
    return _TOKEN_FIELD.sub(lambda m: m.group(1) + MASK, text)
