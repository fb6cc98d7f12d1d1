"""A source's login session kept between runs in a file only its owner can read (mode 0600).

Tokens are secrets: they never go in the store, whose rows anyone who can read the database reads (the
dashboard's user, a PostgreSQL role with SELECT, a backup), and they are never logged. The collect job
keeps each session in a file of its own beside the SQLite database (``<db>.bluesky-session``) or, for
PostgreSQL, under the user's state directory (see :func:`dipwatch.jobs.collect.session_path`); a source's
``session_file`` setting names another place.

The file is written to a temporary file created 0600 in the same directory and renamed over the old one,
so a run killed mid-write leaves the old session whole; a file that others can read is tightened to 0600
(with a warning) before it is used, and one owned by another user is not used at all.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

OWNER_ONLY = 0o600


class SessionFile:
    """One JSON object on disk, readable and writable by its owner only.

    :param path: where the session lives; its directory is created (0700) when missing.
    """

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)

    def load(self) -> dict[str, Any] | None:
        """The stored session, or None when there is none or it cannot be used (logged, never shown)."""
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("session file %s: cannot read it (%s); logging in again", self.path, exc.strerror)
            return None
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            log.warning("session file %s belongs to another user; not using it", self.path)
            return None
        if stat.S_IMODE(info.st_mode) & 0o077:
            log.warning("session file %s was readable by others (mode %o); made owner-only", self.path,
                        stat.S_IMODE(info.st_mode))
            os.chmod(self.path, OWNER_ONLY)
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            log.warning("session file %s is unreadable; logging in again", self.path)
            return None
        return data if isinstance(data, dict) else None

    def save(self, data: dict[str, Any]) -> None:
        """Replace the stored session with ``data`` (atomically, mode 0600)."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            os.fchmod(handle, OWNER_ONLY)  # mkstemp makes it 0600 already; say so rather than rely on it
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(data, out, separators=(",", ":"), sort_keys=True)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def clear(self) -> None:
        """Forget the stored session."""
        self.path.unlink(missing_ok=True)
