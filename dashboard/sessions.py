"""Session cookies and the slow-down of failed sign-ins, for :mod:`dashboard.auth`.

The cookie is ``<name, base64url>.<expiry, Unix seconds>.<HMAC-SHA256, hex>``. Its key is derived
from the user's stored password hash, so every gunicorn worker and every host with the same users
accepts it without a shared secret to configure, and a user whose hash changes (new password,
removed user) loses every cookie made before. What a stolen cookie gives: that user's access until
it expires (``SESSION_SECONDS`` after the sign-in; it is not renewed by use) or their hash changes;
never the password, and nothing on another site. Whoever can read the users' hashes can make
cookies, as they could already try passwords against the hashes offline: keep the users file
readable by the dashboard's account only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Mapping

SESSION_COOKIE = "dipwatch_session"
SESSION_SECONDS = 8 * 3600  # a working day: one password check per user per worker per day
FREE_FAILURES = 5           # failed checks per client before each further one must wait
MAX_DELAY = 60.0            # the longest wait between two checks of a failing client, seconds
FORGET_AFTER = 900.0        # a client's failures are forgotten after this long without an attempt


class Sessions:
    """Issues and checks signed session cookies for ``users`` (name -> werkzeug password hash)."""

    def __init__(self, users: Mapping[str, str], seconds: int = SESSION_SECONDS,
                 clock: Callable[[], float] = time.time):
        self._keys = {name: hmac.new(hashed.encode(), b"dipwatch session cookie v1", hashlib.sha256).digest()
                      for name, hashed in users.items()}
        self.seconds, self._clock = seconds, clock

    def _mac(self, name: str, expires: int) -> str:
        return hmac.new(self._keys[name], f"{name}\n{expires}".encode(), hashlib.sha256).hexdigest()

    def issue(self, name: str) -> str:
        """A cookie value for ``name`` (a configured user), valid for ``seconds``."""
        expires = int(self._clock()) + self.seconds
        encoded = base64.urlsafe_b64encode(name.encode()).decode().rstrip("=")
        return f"{encoded}.{expires}.{self._mac(name, expires)}"

    def user_of(self, value: str | None) -> str | None:
        """The user a cookie value was issued to, or None when it is missing, forged, expired or
        made for a user (or a hash) that is no longer configured."""
        encoded, _, rest = (value or "").partition(".")
        expires, _, mac = rest.partition(".")
        if not expires.isdigit() or int(expires) <= self._clock():
            return None
        try:
            name = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        if name not in self._keys:
            return None
        return name if hmac.compare_digest(self._mac(name, int(expires)), mac) else None


class FailureThrottle:
    """Slows down password checks per client address after repeated failures.

    Every check is counted before it runs, and a success takes its own count back, so parallel
    wrong guesses are counted as they arrive rather than when their ~110 ms checks end. After
    ``free`` failures a client may try once every 2, 4, 8... seconds (at most ``max_delay``), and is
    refused in between without hashing anything. A session cookie is checked before this, so a
    signed-in user never waits for someone else's guesses, even behind a proxy where every client
    has the proxy's address. Kept per worker process.
    """

    def __init__(self, free: int = FREE_FAILURES, max_delay: float = MAX_DELAY,
                 clock: Callable[[], float] = time.monotonic):
        self.free, self.max_delay, self._clock = free, max_delay, clock
        self._failures: dict[str, tuple[int, float]] = {}  # client -> (count, time of the last attempt)
        self._lock = threading.Lock()

    def attempt(self, client: str) -> float:
        """0 when ``client`` may have its password checked now (and the attempt is counted), else
        the seconds it must still wait."""
        now = self._clock()
        with self._lock:
            if len(self._failures) > 10_000:
                self._forget(now)
            count, last = self._failures.get(client, (0, 0.0))
            if now - last > FORGET_AFTER:
                count = 0
            if count >= self.free:
                wait = last + min(self.max_delay, 2.0 ** (count - self.free + 1)) - now
                if wait > 0:
                    return wait
            self._failures[client] = (count + 1, now)
            return 0.0

    def succeeded(self, client: str) -> None:
        """Take back the count of an attempt whose password was right."""
        with self._lock:
            count, last = self._failures.get(client, (1, 0.0))
            if count <= 1:
                self._failures.pop(client, None)
            else:
                self._failures[client] = (count - 1, last)

    def _forget(self, now: float) -> None:
        for client in [c for c, (_, last) in self._failures.items() if now - last > FORGET_AFTER]:
            del self._failures[client]
