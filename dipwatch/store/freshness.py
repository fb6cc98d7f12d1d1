"""The freshness of collection (``dipwatch status``, the dashboard's freshness line): its SQL once, run
by the standard library's sqlite3 (:mod:`dipwatch.store.lite`) or by SQLAlchemy (the Store).

Plain SQL with named parameters (``:name``), which both sqlite3 and SQLAlchemy's ``text()`` bind, on
the tables ``runs``, ``mentions`` and ``posts`` as :mod:`dipwatch.store.tables` declares them.

Imports nothing that imports SQLAlchemy: :mod:`dipwatch.store.lite` answers ``dipwatch status``
without paying its import (~0.55 s).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from dipwatch.core.times import from_epoch, to_epoch

# Runs ``sql`` with the named ``params`` and returns all its rows as tuples.
Run = Callable[[str, dict], list[tuple]]

PAIRS = "SELECT DISTINCT source, brand FROM runs WHERE command = 'collect' ORDER BY brand, source"
# ``{brand}`` is "brand = :brand", or "brand IS NULL" for a run with no brand (as SQLAlchemy renders
# ``runs.c.brand == None``); only these two fixed fragments are formatted in, every value is bound.
LAST = ("SELECT status, finished_at, counts FROM runs WHERE command = 'collect' AND source = :source "
        "AND {brand} ORDER BY id DESC LIMIT 1")
LAST_OK = ("SELECT max(finished_at) FROM runs WHERE command = 'collect' AND source = :source AND {brand} "
           "AND status = 'ok'")
LAST_ERROR = ("SELECT message, finished_at FROM runs WHERE command = 'collect' AND source = :source "
              "AND {brand} AND status != 'ok' ORDER BY id DESC LIMIT 1")
RECENT = ("SELECT count(*) FROM mentions JOIN posts ON posts.id = mentions.post "
          "WHERE mentions.{brand} AND posts.source = :source AND mentions.created_at >= :since")


def collect_status(run: Run, now: datetime) -> list[dict]:
    """Per (source, brand) collected: the last run, the last successful run, the last error, the posts
    of the last 24 h and the last run's warnings, ordered by brand then source.

    :param run: runs a statement on one read transaction (see :data:`Run`).
    :raises ValueError: when ``now`` is naive.
    """
    since = to_epoch(now) - 24 * 3600
    status = []
    for source, brand in run(PAIRS, {}):
        params = {"source": source, "brand": brand, "since": since}
        which = "brand IS NULL" if brand is None else "brand = :brand"
        last_status, last_finished, last_counts = run(LAST.format(brand=which), params)[0]
        ((last_ok,),) = run(LAST_OK.format(brand=which), params)
        last_error = run(LAST_ERROR.format(brand=which), params)
        ((recent,),) = run(RECENT.format(brand=which), params)
        status.append({
            "source": source, "brand": brand, "last_status": last_status,
            "last_run": from_epoch(last_finished), "last_ok": from_epoch(last_ok),
            "last_error": last_error[0][0] if last_error else None,
            "last_error_at": from_epoch(last_error[0][1]) if last_error else None,
            "posts_24h": recent, "warnings": run_warnings(last_counts),
        })
    return status


def run_warnings(counts: str | None) -> list[str]:
    """The warnings a collect run recorded in its ``counts`` (a degrading source: a feed gone silent)."""
    try:
        data = json.loads(counts or "{}")
    except ValueError:
        return []
    found = data.get("warnings") if isinstance(data, dict) else None
    return [str(w) for w in found] if isinstance(found, list) else []
