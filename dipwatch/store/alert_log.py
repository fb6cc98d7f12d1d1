"""The alerts' episodes and their deliveries."""

from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa

from dipwatch.core.times import from_epoch, to_epoch
from dipwatch.store.tables import alerts


class AlertLogMixin:
    """The alert episodes of :class:`dipwatch.store.Store`."""

    @staticmethod
    def _deliveries(row: dict) -> dict:
        """An alert row with its delivery results decoded: None while unknown (not sent yet, or the
        run died sending it), ``{}`` when no channel was set, else the results per channel."""
        for key in ("sent", "cleared"):
            row[key] = json.loads(row[key]) if row[key] else None
        return row

    def open_alerts(self, brand: str) -> list[dict]:
        """Episodes of ``brand`` still going on (times as epoch seconds, deliveries decoded)."""
        query = sa.select(alerts).where(alerts.c.brand == brand, alerts.c.resolved_at.is_(None))
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(alerts.c.id)).mappings()
            return [self._deliveries(dict(row)) for row in rows]

    def last_resolved_alert(self, brand: str, key: str) -> dict | None:
        query = (sa.select(alerts).where(alerts.c.brand == brand, alerts.c.key == key,
                                         alerts.c.resolved_at.is_not(None))
                 .order_by(alerts.c.resolved_at.desc()).limit(1))
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else self._deliveries(dict(row))

    def start_alert(self, brand: str, rule: str, key: str, summary: str, now: datetime) -> int:
        with self.engine.begin() as conn:
            return conn.execute(sa.insert(alerts).values(
                brand=brand, rule=rule, key=key, summary=summary, started_at=to_epoch(now),
                last_seen_at=to_epoch(now),
            )).inserted_primary_key[0]

    def update_alert(self, alert_id: int, **values) -> None:
        """Set columns of one alert; datetimes become epoch seconds, dicts JSON."""
        converted = {
            k: to_epoch(v) if isinstance(v, datetime) else json.dumps(v) if isinstance(v, dict) else v
            for k, v in values.items()
        }
        with self.engine.begin() as conn:
            conn.execute(sa.update(alerts).where(alerts.c.id == alert_id).values(**converted))

    def list_alerts(self, brand: str | None = None, limit: int = 100) -> list[dict]:
        query = sa.select(alerts).order_by(alerts.c.id.desc()).limit(limit)
        if brand is not None:
            query = query.where(alerts.c.brand == brand)
        with self.engine.connect() as conn:
            rows = [dict(row) for row in conn.execute(query).mappings()]
        for row in rows:
            for key in ("started_at", "last_seen_at", "resolved_at"):
                row[key] = from_epoch(row[key])
            self._deliveries(row)
        return rows
