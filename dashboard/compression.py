"""Compressed responses from the app itself (flask-compress): brotli or gzip, whichever the browser
takes, so a dashboard served without a reverse proxy does not send plotly.js's 4.8 MB as they are.

The JavaScript bundles are the same for the life of the process: each is compressed once per
encoding and kept. Everything else (callback answers, downloads) is compressed as it goes out.
"""

from __future__ import annotations

import threading

from flask_compress import Compress

KEPT_PREFIXES = ("/_dash-component-suites/", "/assets/")
NOT_KEPT = "-"  # the cache key of a response that must not be kept


class _Bundles:
    """flask-compress's cache backend: keeps compressed bundles, ignores every other response."""

    def __init__(self) -> None:
        self._kept: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            return self._kept.get(key)

    def set(self, key: str, value: bytes) -> None:
        if not key.endswith(";" + NOT_KEPT):
            with self._lock:
                self._kept[key] = value


def _cache_key(request) -> str:
    if request.method == "GET" and request.path.startswith(KEPT_PREFIXES):
        # The path, not the query: Dash puts a bundle's fingerprint in its path, and keyed on the
        # query string every `?x=N` of one bundle would keep another compressed copy of it.
        return request.path
    return NOT_KEPT


def install_compression(server) -> None:
    """Compress ``server``'s responses (a Flask app) with brotli or gzip."""
    server.config.update(
        # zstd and deflate add nothing for browsers that all take brotli and gzip.
        COMPRESS_ALGORITHM=["br", "gzip"],
        COMPRESS_ALGORITHM_STREAMING=["br"],
        COMPRESS_BR_LEVEL=5,  # plotly.min.js: 4.8 MB -> about 1 MB
        COMPRESS_CACHE_BACKEND=_Bundles,
        COMPRESS_CACHE_KEY=_cache_key,
    )
    Compress(server)
