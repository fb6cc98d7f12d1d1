"""Alerts exactly once: two real ``dipwatch alerts check`` processes started together, on SQLite and on
PostgreSQL, against a webhook that takes a second to answer each message.

The brand has three conditions at once (sentiment below its band, an outage ongoing past the rule's
hours, a detected candidate), so a run is still sending when the other one starts evaluating. Each
round must end with one episode per condition and one message per episode, and the all-clear round
with one "back to normal" per episode.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from dipwatch.store import Store, alerts, metadata
from tests.alerts.test_alerts import METRICS, RULES, Webhook, at, store_episode

from .support import start_cli

ROUNDS = 3  # per database; each round is one alert phase and one all-clear phase
CONFIG = (f'[brands.acme]\nterms = ["Acme"]\n[brands.acme.alerts]\n{RULES}not_recovered_hours = 1\n'
          f"cooldown_hours = 0\n{METRICS}[alerts]\nretries = 1\ntimeout = 5\n")
CONDITIONS = 3


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path: Path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'alerts.db'}"
        return
    url = os.environ.get("DIPWATCH_TEST_PG")
    if not url:
        pytest.skip("PostgreSQL test skipped: DIPWATCH_TEST_PG is not set (tests/pg.sh starts a server)")
    yield url
    with Store(url) as store:
        metadata.drop_all(store.engine)


def both_check(tmp_path: Path, url: str, hook: Webhook, now: datetime) -> list[tuple[int, str, str]]:
    """Two ``alerts check`` processes at once; their exit codes and output."""
    with Store(url) as store:
        store.set_meta("as_of", now.isoformat())
    env = {"DIPWATCH_DB": url, "DIPWATCH_CONFIG": str(tmp_path / "dipwatch.toml"),
           "DIPWATCH_WEBHOOK_URL": hook.url}
    runs = [start_cli(["alerts", "check"], tmp_path, env) for _ in range(2)]
    return [(run.wait(timeout=120), *run.communicate()) for run in runs]


def test_two_concurrent_checks_open_each_episode_once_and_send_each_message_once(tmp_path, database):
    (tmp_path / "dipwatch.toml").write_text(CONFIG)
    with Store(database) as store:
        store_episode(store, ["acme"])
        store.add_outages([
            {"brand": "acme", "start": at(72), "label": "checkout down", "severity": "major"},
            {"brand": "acme", "start": at(73), "end": at(74), "label": "volume spike", "origin": "detected"},
        ])
    for attempt in range(ROUNDS):
        with Webhook() as hook:
            hook.delay = 1.0
            results = both_check(tmp_path, database, hook, at(75))
            assert [code for code, _, _ in results] == [0, 0], results
            with Store(database) as store:
                episodes = store.list_alerts("acme")
            keys = sorted(e["key"] for e in episodes)
            assert len(keys) == CONDITIONS, (attempt, keys)  # one episode per key
            assert len(set(keys)) == CONDITIONS
            assert len(hook.bodies) == CONDITIONS, (attempt, [b["text"] for b in hook.bodies])
            assert len({b["text"] for b in hook.bodies}) == CONDITIONS
            assert sum(out.count("sent: ") for _, out, _ in results) == CONDITIONS

            # The outages end and sentiment is back: all clear.
            with Store(database) as store, store.engine.begin() as conn:
                conn.execute(sa.text("UPDATE outages SET ends_at = starts_at + 3600"))
                conn.execute(sa.text("UPDATE outages SET origin = 'manual' WHERE origin = 'detected'"))
            hook.bodies.clear()
            results = both_check(tmp_path, database, hook, at(90))
            assert [code for code, _, _ in results] == [0, 0], results
            texts = [b["text"] for b in hook.bodies]
            assert len(texts) == CONDITIONS, (attempt, texts)
            assert all(t.startswith("dipwatch: acme back to normal") for t in texts)
        with Store(database) as store, store.engine.begin() as conn:  # the next round starts afresh
            conn.execute(alerts.delete())
            conn.execute(sa.text("UPDATE outages SET ends_at = NULL WHERE label = 'checkout down'"))
            conn.execute(sa.text("UPDATE outages SET origin = 'detected' WHERE label = 'volume spike'"))
