"""Alert episodes: evaluate the rules on what is stored, send each episode once, and all-clear.

One episode per (brand, key) at a time. A condition that holds on consecutive runs is one episode
(sent once); when it stops holding, the episode ends and a "back to normal" message goes out; the
same condition within ``cooldown_hours`` of that reopens the old episode silently. The episode is
recorded before its message is sent, so a re-run never sends it twice (a run killed between the two
may send nothing for it: at most once, by design).

A delivery that failed, or found no channel set, is recorded as such; while its episode is open,
each later run sends it again on the channels that have not taken it. Runs hold the store's
``alerts`` lock (the same kind of lock as ``collect``: an flock beside a SQLite file, an advisory lock
on PostgreSQL), so two runs at once cannot both open, or both send, one episode.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from analysis.alerts import AlertRules, outage_conditions, sentiment_condition, volume_condition
from dipwatch.core.config import Settings
from dipwatch.core.delivery import Delivery, delivery_from
from dipwatch.core.errors import BadValueError
from dipwatch.jobs.notify import send
from dipwatch.measures import as_of, brand_view
from dipwatch.store import Store

NO_CHANNEL = ("set DIPWATCH_WEBHOOK_URL (or the variable named by alerts.webhook_url_env) or "
              "alerts.email_to in dipwatch.toml")


@dataclass(frozen=True)
class Action:
    """What a check did for one episode: sent, retried (an undelivered alert sent again), cleared
    (the all-clear), reopened (in cool-down) or ongoing. ``results`` is ``{}`` when no channel is set."""

    brand: str
    key: str
    what: str
    summary: str
    results: dict | None = None


def dashboard_link(delivery: Delivery, brand: str, outage_id: int | None = None) -> str:
    query = {"brand": brand} | ({"outage": outage_id} if outage_id is not None else {})
    return f"{delivery.dashboard_url}/?{urlencode(query)}"


def _time(epoch: int, now: datetime) -> datetime:
    return datetime.fromtimestamp(epoch, now.tzinfo)


def _outage_of(key: str) -> int | None:
    prefix, _, rest = key.partition(":")
    return int(rest) if prefix in {"not_recovered", "detected"} and rest.isdigit() else None


def check_alerts(settings: Settings, store: Store, brand_keys: list[str] | None = None,
                 now: datetime | None = None, env: Mapping[str, str] | None = None,
                 sender: Callable[..., dict] = send) -> list[Action]:
    """Evaluate every brand's rules (config brands, or ``brand_keys``) and deliver what changed."""
    env = os.environ if env is None else env
    delivery = delivery_from(settings.alerts, env)
    brands = [settings.brands[k] for k in brand_keys] if brand_keys else list(settings.brands.values())
    actions: list[Action] = []
    # Waits for a run in progress rather than skipping: then this run evaluates what was stored
    # since, and sees the episodes the other one opened. Each delivery is bounded by its timeout.
    with store.exclusive("alerts", wait=True):
        now = as_of(store, now)
        for brand in brands:
            rules = brand.alerts if isinstance(brand.alerts, AlertRules) else AlertRules()
            if not rules.enabled:
                continue
            view = brand_view(settings, store, brand, now=now)  # its outages are the confirmed ones
            detected = [w for w in store.list_outages(brand.key) if w.origin == "detected"]
            conditions = [c for c in (
                sentiment_condition(brand.key, view.series, view.outages, rules, view.params, now),
                volume_condition(brand.key, view.series, rules, view.params, now),
            ) if c is not None]
            conditions += outage_conditions(brand.key, view.metrics, detected, rules, now)
            actions += _apply(store, delivery, sender, brand.key, conditions, rules, now)
    return actions


def undelivered(sent: dict | None, channels: list[str]) -> list[str]:
    """The configured ``channels`` that have not taken an alert whose recorded results are ``sent``.

    ``None`` (the run recording it died while sending) is taken as delivered: at most once.
    """
    if sent is None:
        return []
    return [ch for ch in channels if sent.get(ch, {}).get("status") != "ok"]


def _apply(store: Store, delivery: Delivery, sender, brand: str, conditions, rules: AlertRules,
           now: datetime) -> list[Action]:
    actions = []
    open_episodes = {a["key"]: a for a in store.open_alerts(brand)}
    active = {c.key for c in conditions}
    for condition in conditions:
        subject = f"dipwatch alert: {brand}"
        link = dashboard_link(delivery, brand, _outage_of(condition.key))
        episode = open_episodes.get(condition.key)
        what = "ongoing"
        if episode is None:
            episode = store.last_resolved_alert(brand, condition.key)
            cooldown = timedelta(hours=rules.cooldown_hours)
            if episode is not None and now - _time(episode["resolved_at"], now) < cooldown:
                store.update_alert(episode["id"], resolved_at=None, last_seen_at=now)
                what = "reopened"
            else:
                alert_id = store.start_alert(brand, condition.rule, condition.key, condition.summary, now)
                results = sender(delivery, subject, condition.summary, link)
                store.update_alert(alert_id, sent=results)
                actions.append(Action(brand, condition.key, "sent", condition.summary, results))
                continue
        else:
            store.update_alert(episode["id"], last_seen_at=now)
        pending = undelivered(episode["sent"], delivery.channels)
        if pending:  # failed before, or no channel was set then: send it where it has not arrived
            results = sender(delivery, subject, episode["summary"], link, channels=pending)
            store.update_alert(episode["id"], sent=episode["sent"] | results)
            actions.append(Action(brand, condition.key, "retried", episode["summary"], results))
        else:
            actions.append(Action(brand, condition.key, what, condition.summary))
    for key, episode in open_episodes.items():
        if key in active:
            continue
        store.update_alert(episode["id"], resolved_at=now)
        summary = f"Back to normal: {episode['summary']}"
        link = dashboard_link(delivery, brand, _outage_of(key))
        # The all-clear goes only where the alert arrived: "back to normal" about an alert nobody
        # saw would only puzzle (an alert still undelivered when its episode ends is not sent).
        told = [ch for ch in delivery.channels if ch not in undelivered(episode["sent"], delivery.channels)]
        results = sender(delivery, f"dipwatch: {brand} back to normal", summary, link, channels=told)
        store.update_alert(episode["id"], cleared=results)
        actions.append(Action(brand, key, "cleared", summary, results))
    return actions


def send_test(settings: Settings, brand: str, env: Mapping[str, str] | None = None,
              sender: Callable[..., dict] = send) -> dict:
    """Send a test message for ``brand`` on every configured channel."""
    delivery = delivery_from(settings.alerts, os.environ if env is None else env)
    if not delivery.channels:
        raise BadValueError(f"alerts: no channel configured: {NO_CHANNEL}")
    return sender(delivery, f"dipwatch test alert: {brand}",
                  f"This is a test of dipwatch alerts for {brand}.", dashboard_link(delivery, brand))
