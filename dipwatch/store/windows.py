"""Outage windows: added by hand, imported from status pages (with their phases), detected and
confirmed."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import UTC, datetime

import sqlalchemy as sa

from dipwatch.core.records import Outage
from dipwatch.core.times import from_epoch, to_epoch
from dipwatch.store.records import outage_of
from dipwatch.store.tables import meta, outages


class WindowsMixin:
    """The outage windows of :class:`dipwatch.store.Store`."""

    def add_outages(self, rows: Sequence[dict]) -> list[int]:
        """Insert outage windows (keys: brand, start, end, label, severity, origin) in one transaction."""
        now = to_epoch(datetime.now(UTC))
        ids = []
        with self.engine.begin() as conn:
            for row in rows:
                ids.append(conn.execute(sa.insert(outages).values(
                    brand=row["brand"], starts_at=to_epoch(row["start"]),
                    ends_at=None if row.get("end") is None else to_epoch(row["end"]),
                    label=row["label"], severity=row.get("severity") or "unknown",
                    origin=row.get("origin", "manual"), external_id=row.get("external_id"),
                    created_at=now,
                )).inserted_primary_key[0])
        return ids

    def list_outages(self, brand: str | None = None) -> list[Outage]:
        query = sa.select(outages).order_by(outages.c.brand, outages.c.starts_at, outages.c.id)
        if brand is not None:
            query = query.where(outages.c.brand == brand)
        with self.engine.connect() as conn:
            return [outage_of(row) for row in conn.execute(query).mappings()]

    def get_outage(self, outage_id: int) -> Outage | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(outages).where(outages.c.id == outage_id)).mappings().first()
        return None if row is None else outage_of(row)

    def update_outage(self, outage_id: int, window) -> bool:
        """Replace the start, end, label and severity of outage ``outage_id`` with those of ``window``
        (an :class:`analysis.windows.Window` already validated); keep its id and origin."""
        values = {"starts_at": to_epoch(window.start),
                  "ends_at": None if window.end is None else to_epoch(window.end),
                  "label": window.label, "severity": window.severity}
        with self.engine.begin() as conn:
            return conn.execute(sa.update(outages).where(outages.c.id == outage_id).values(**values)
                                ).rowcount > 0

    def remove_outage(self, outage_id: int) -> bool:
        with self.engine.begin() as conn:
            return conn.execute(sa.delete(outages).where(outages.c.id == outage_id)).rowcount > 0

    # outage windows from status pages and detection ------------------------------------------
    # Phases (a status page's investigating/identified/monitoring/resolved times) live in ``meta``
    # under ``outage_phases:<id>`` as JSON, so no table changes (a later schema version may move
    # them to a table of their own).
    def upsert_outages(self, rows: Sequence[dict], keep_origins: Collection[str] = ("confirmed",)
                       ) -> list[tuple[int, str]]:
        """Insert or update windows keyed on ``(brand, external_id)``, all in one transaction.

        Re-importing the same incident updates its window instead of adding a second one. A row
        whose stored window has an origin in ``keep_origins`` (a detected window a person has
        confirmed) is left as it is.

        :param rows: keys brand, start, end, label, severity, origin, external_id (required) and
            optionally phases: a list of ``(status, aware datetime)``.
        :returns: ``(id, "added" | "updated" | "kept")`` for each row, in order.
        """
        now = to_epoch(datetime.now(UTC))
        results = []
        with self.engine.begin() as conn:
            for row in rows:
                if not row.get("external_id"):
                    raise ValueError("external_id: missing; needed to update a window on re-import")
                values = {
                    "starts_at": to_epoch(row["start"]),
                    "ends_at": None if row.get("end") is None else to_epoch(row["end"]),
                    "label": row["label"], "severity": row.get("severity") or "unknown",
                    "origin": row["origin"],
                }
                found = conn.execute(
                    sa.select(outages.c.id, outages.c.origin).where(
                        outages.c.brand == row["brand"], outages.c.external_id == row["external_id"])
                    .order_by(outages.c.id).limit(1)
                ).first()
                if found is None:
                    outage_id = conn.execute(sa.insert(outages).values(
                        brand=row["brand"], external_id=row["external_id"], created_at=now, **values,
                    )).inserted_primary_key[0]
                    action = "added"
                elif found.origin in keep_origins:
                    results.append((found.id, "kept"))
                    continue
                else:
                    outage_id = found.id
                    conn.execute(sa.update(outages).where(outages.c.id == outage_id).values(**values))
                    action = "updated"
                if "phases" in row:
                    key = f"outage_phases:{outage_id}"
                    conn.execute(sa.delete(meta).where(meta.c.key == key))
                    conn.execute(sa.insert(meta).values(key=key, value=json.dumps(
                        [[status, to_epoch(at)] for status, at in row["phases"]])))
                results.append((outage_id, action))
        return results

    def outage_phases(self, outage_id: int) -> list[tuple[str, datetime]]:
        """``(status, time)`` of each phase of a status-page window, oldest first; [] if none."""
        stored = self.get_meta(f"outage_phases:{outage_id}")
        return [(status, from_epoch(at)) for status, at in json.loads(stored)] if stored else []

    def confirm_outage(self, outage_id: int) -> Outage | None:
        """Turn a detected candidate (origin ``detected``) into an outage (origin ``confirmed``).

        :returns: the window as it is now, or None when there is no window ``outage_id``; a window
            of another origin is returned unchanged.
        """
        with self.engine.begin() as conn:
            conn.execute(sa.update(outages).where(
                outages.c.id == outage_id, outages.c.origin == "detected").values(origin="confirmed"))
            row = conn.execute(sa.select(outages).where(outages.c.id == outage_id)).mappings().first()
        return None if row is None else outage_of(row)
