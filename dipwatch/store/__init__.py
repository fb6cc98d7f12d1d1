"""The store: the only package that speaks SQL (SQLAlchemy Core; SQLite by default, PostgreSQL by URL).

Split by noun, behind one :class:`Store`:

- ``tables``: the tables and the constants of their upkeep; ``records``: what the store takes and
  gives (ScoredPost, PostRow, SaveResult, StoreError; Outage and Checkpoint are the kernel's records)
- ``schema``: creating, checking and upgrading the schema; ``opening``: pragmas, read-only files
- ``bulk``: the write path's SQL machinery (compiled once, at the driver's speed) and the writers' lock
- ``post_writes`` / ``post_reads``: posts with their mentions and scores, brands
- ``rollup_sums`` (pure arithmetic) and ``series``: the series rollup kept with the posts, and its reads
- ``windows``: outage windows; ``runlog``: runs, checkpoints and locks; ``alert_log``: alert episodes
- ``freshness``: the freshness SQL, run by SQLAlchemy here and by sqlite3 alone in ``lite``

The names are imported on first use (PEP 562): ``dipwatch status`` imports ``dipwatch.store.lite``,
which must not pay for SQLAlchemy (~0.55 s). No module of the package is named as a table
(``posts``, ``rollup``, ...): importing it would shadow the table's name here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Where each public name lives; ``from dipwatch.store import X`` finds it here. (Epoch helpers and
# the sentiment thresholds are the kernel's: dipwatch.core.times, dipwatch.core.conventions.)
_HOMES = {
    "facade": ("Store",),
    "records": ("ROW_POST_ID", "ROW_SCORE", "ROW_SOURCE", "ROW_TEXT", "PostRow", "SaveResult", "ScoredPost",
                "StoreError"),
    "tables": ("ROLLUP_SIZES", "SCHEMA_VERSION", "alerts", "brand_sources", "brands", "checkpoints",
               "mentions", "meta", "metadata", "outages", "posts", "rollup", "runs", "scores", "voices"),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}
__all__ = [  # what _HOMES lists (a literal, for the linters)
    "ROLLUP_SIZES",
    "ROW_POST_ID",
    "ROW_SCORE",
    "ROW_SOURCE",
    "ROW_TEXT",
    "SCHEMA_VERSION",
    "PostRow",
    "SaveResult",
    "ScoredPost",
    "Store",
    "StoreError",
    "alerts",
    "brand_sources",
    "brands",
    "checkpoints",
    "mentions",
    "meta",
    "metadata",
    "outages",
    "posts",
    "rollup",
    "runs",
    "scores",
    "voices",
]

if TYPE_CHECKING:
    from dipwatch.store.facade import Store
    from dipwatch.store.records import (
        ROW_POST_ID,
        ROW_SCORE,
        ROW_SOURCE,
        ROW_TEXT,
        PostRow,
        SaveResult,
        ScoredPost,
        StoreError,
    )
    from dipwatch.store.tables import (
        ROLLUP_SIZES,
        SCHEMA_VERSION,
        alerts,
        brand_sources,
        brands,
        checkpoints,
        mentions,
        meta,
        metadata,
        outages,
        posts,
        rollup,
        runs,
        scores,
        voices,
    )


def __getattr__(name: str) -> Any:
    module = _HOME_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'dipwatch.store' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"dipwatch.store.{module}"), name)
    globals()[name] = value
    return value
