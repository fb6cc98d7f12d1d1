"""Alerts end to end: rules on a real store, a recording webhook server and a real SMTP server."""

from __future__ import annotations

import json
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest
from aiosmtpd.controller import Controller

from analysis.alerts import AlertRules, outage_conditions, sentiment_condition, volume_condition
from analysis.timeline import bucket_series, scores_frame
from dipwatch.core.config import load_settings
from dipwatch.core.params import MetricParams
from dipwatch.jobs.alerting import check_alerts
from dipwatch.store import Store

T0 = datetime(2026, 3, 1, tzinfo=UTC)
PARAMS = MetricParams(smoothing_buckets=1, baseline_days=2)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


# rules, on hand-built series ------------------------------------------------------------------
def hourly(values: dict[int, list[float]], until: int) -> pd.DataFrame:
    rows = [(int(at(h + 0.25).timestamp()), c) for h, cs in values.items() for c in cs]
    return bucket_series(scores_frame(rows), PARAMS, T0, at(until))


def calm(hours: range) -> dict[int, list[float]]:
    return {h: [0.4, 0.6] if h % 2 else [0.3, 0.5] for h in hours}  # means 0.5 / 0.4, SD ~0.05


def test_sentiment_rule_needs_every_one_of_the_latest_buckets_below_the_band():
    rules = AlertRules(sentiment_sd=2.0, sentiment_buckets=3)
    low = calm(range(48)) | {48: [-0.5], 49: [-0.5], 50: [-0.5]}
    condition = sentiment_condition("acme", hourly(low, 51), [], rules, PARAMS, at(51))
    assert condition is not None
    assert condition.key == "sentiment"
    assert "below its normal band (0.45 - 2 SD" in condition.summary
    # One bucket back inside the band is no alert; the bucket still filling (51) is ignored.
    recovering = low | {50: [0.45], 51: [-0.9]}
    assert sentiment_condition("acme", hourly(recovering, 51), [], rules, PARAMS, at(51.5)) is None


def test_volume_rule_compares_with_the_same_hour_in_earlier_weeks():
    rules = AlertRules(volume_multiple=3.0, volume_min_posts=10)
    weeks = {h: [0.1] * 4 for h in range(0, 24 * 14 + 1, 24 * 7)}  # 4 posts at this hour each week
    spike = weeks | {24 * 14: [0.1] * 13}
    condition = volume_condition("acme", hourly(spike, 24 * 14 + 1), rules, PARAMS, at(24 * 14 + 1))
    assert condition is not None
    assert "13 posts" in condition.summary
    assert "3.2x the usual 4.0" in condition.summary
    twelve = weeks | {24 * 14: [0.1] * 12}  # 12 is exactly 3x: not over it
    assert volume_condition("acme", hourly(twelve, 24 * 14 + 1), rules, PARAMS, at(24 * 14 + 1)) is None


def test_not_recovered_rule_counts_from_start_when_ongoing_and_from_end_otherwise():
    from dataclasses import dataclass

    @dataclass
    class M:
        outage_id: int
        label: str
        status: str
        start: datetime
        hours_since_end: float | None
        share_during: float | None = None  # no share family: the alert speaks in the tone only
        share_peak: float | None = None
        share_baseline: float | None = None

    rules = AlertRules(not_recovered_hours=24)
    metrics = [M(1, "orders halted", "ongoing", at(0), None), M(2, "checkout", "not recovered", at(0), 30.0),
               M(3, "login", "not recovered", at(0), 5.0), M(4, "app", "recovered", at(0), None)]
    found = outage_conditions("acme", metrics, [], rules, at(25))
    assert [c.key for c in found] == ["not_recovered:1", "not_recovered:2"]
    assert "ongoing for 25 h" in found[0].summary


# delivery, against local servers --------------------------------------------------------------
class Webhook:
    """A local incoming-webhook endpoint that records JSON bodies; can answer 500 or stall."""

    def __init__(self):
        self.bodies: list[dict] = []
        self.status = 200
        self.delay = 0.0
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.bodies.append(json.loads(body))
                threading.Event().wait(hook.delay)  # not time.sleep: tests patch that
                try:
                    self.send_response(hook.status)
                    self.end_headers()
                    self.wfile.write(b"ok")
                except BrokenPipeError:
                    pass  # the client gave up waiting: that is the point of the stalling test

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Mailbox:
    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's naming)
        self.messages.append(envelope.content.decode())
        return "250 OK"

    def __init__(self):
        self.messages: list[str] = []


@pytest.fixture
def webhook():
    hook = Webhook()
    yield hook
    hook.close()


@pytest.fixture
def mailbox():
    box = Mailbox()
    with socket.socket() as probe:  # aiosmtpd checks its own port on start, so it cannot take port 0
        probe.bind(("127.0.0.1", 0))
        box.port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


# Rules and metrics under which the posts of store_episode make a sentiment alert from hour 74.
RULES = "sentiment_sd = 2.0\nsentiment_buckets = 3\nvolume_multiple = 100\n"
METRICS = "[metrics]\nsmoothing_buckets = 1\nbaseline_days = 2\n"


def episode_store(tmp_path, webhook, mailbox, extra: str = ""):
    """Three calm days, then six bad hours (72-77), then calm again; rules on 1-hour buckets."""
    config = tmp_path / "dipwatch.toml"
    config.write_text(f"""
[brands.acme]
terms = ["Acme"]
[brands.acme.alerts]
{RULES}cooldown_hours = 6
{METRICS}[alerts]
email_to = ["comms@acme.example"]
smtp_host = "127.0.0.1"
smtp_port = {mailbox.port}
starttls = false
retries = 2
timeout = 1
dashboard_url = "http://dash.example:8050"
{extra}
""")
    settings = load_settings(db=str(tmp_path / "a.db"), config=config)
    store = Store(settings.db_url)
    store_episode(store, ["acme"])
    return settings, store


def store_episode(store: Store, brands: list[str]) -> None:
    """Three posts an hour naming Acme, mentioning each of ``brands``: calm but for hours 72-77."""
    from dipwatch.core.records import Post
    from dipwatch.jobs.ingest import save_batch

    batch = []
    for hour in range(96):
        bad = 72 <= hour < 78
        for i in range(3):
            text = "Acme is down, terrible, useless" if bad else "Acme is fine, nice prices"
            post = Post("file", f"{hour}-{i}", at(hour + i / 6), text)
            batch.append((post, [(brand, "Acme") for brand in brands]))
    save_batch(store, batch, store.get_meta("author_salt"))


ENV = {"DIPWATCH_SMTP_USER": ""}


def test_an_episode_sends_one_alert_and_one_all_clear(tmp_path, webhook, mailbox):
    settings, store = episode_store(tmp_path, webhook, mailbox)
    env = ENV | {"DIPWATCH_WEBHOOK_URL": webhook.url}
    assert check_alerts(settings, store, now=at(70), env=env) == []  # calm
    sent = check_alerts(settings, store, now=at(75), env=env)
    assert [(a.what, a.key) for a in sent] == [("sent", "sentiment")]
    assert sent[0].results == {"webhook": {"status": "ok", "attempts": 1},
                               "email": {"status": "ok", "attempts": 1}}
    for hour in (76, 77, 78):  # the episode persists across three scheduled runs: nothing new
        assert [a.what for a in check_alerts(settings, store, now=at(hour), env=env)] == ["ongoing"]
    cleared = check_alerts(settings, store, now=at(84), env=env)
    assert [a.what for a in cleared] == ["cleared"]
    assert len(webhook.bodies) == 2
    assert len(mailbox.messages) == 2
    alert_text, clear_text = (b["text"] for b in webhook.bodies)
    # The share of negative posts leads (signal-validity issue); the tone follows.
    assert alert_text.startswith("dipwatch alert: acme\nacme: 100% of posts negative (normal 0%); sentiment")
    assert alert_text.endswith("http://dash.example:8050/?brand=acme")
    assert clear_text.startswith("dipwatch: acme back to normal\nBack to normal: acme: 100% of posts")
    assert "Subject: dipwatch alert: acme" in mailbox.messages[0]
    (episode,) = store.list_alerts("acme")
    assert episode["resolved_at"] == at(84)
    assert episode["sent"]["webhook"]["status"] == "ok"
    assert episode["cleared"]["email"]["status"] == "ok"


def test_same_condition_within_the_cooldown_reopens_silently(tmp_path, webhook, mailbox):
    settings, store = episode_store(tmp_path, webhook, mailbox)
    env = ENV | {"DIPWATCH_WEBHOOK_URL": webhook.url}
    check_alerts(settings, store, now=at(75), env=env)
    check_alerts(settings, store, now=at(84), env=env)  # cleared at 84
    store.update_alert(store.list_alerts("acme")[0]["id"], resolved_at=at(74.5))
    reopened = check_alerts(settings, store, now=at(76), env=env)  # 1.5 h after it ended
    assert [a.what for a in reopened] == ["reopened"]
    assert len(webhook.bodies) == 2  # the alert and the all-clear; nothing for the reopening


def test_failing_webhook_is_retried_a_bounded_number_of_times_and_recorded(tmp_path, webhook, mailbox,
                                                                            monkeypatch):
    monkeypatch.setattr("dipwatch.jobs.notify.time.sleep", lambda s: None)
    settings, store = episode_store(tmp_path, webhook, mailbox)
    webhook.status = 500
    (action,) = check_alerts(settings, store, now=at(75), env=ENV | {"DIPWATCH_WEBHOOK_URL": webhook.url})
    assert action.results["webhook"] == {"status": "failed", "attempts": 2, "error": "HTTP 500"}
    assert action.results["email"]["status"] == "ok"  # one channel failing does not stop the other
    assert len(webhook.bodies) == 2
    assert store.list_alerts("acme")[0]["sent"]["webhook"]["status"] == "failed"
    # While the episode lasts, the next run sends it again where it failed, and only there.
    webhook.status = 200
    (retry,) = check_alerts(settings, store, now=at(76), env=ENV | {"DIPWATCH_WEBHOOK_URL": webhook.url})
    assert (retry.what, retry.results) == ("retried", {"webhook": {"status": "ok", "attempts": 1}})
    assert len(webhook.bodies) == 3
    assert webhook.bodies[-1]["text"].startswith(
        "dipwatch alert: acme\nacme: 100% of posts negative (normal 0%); sentiment")
    assert len(mailbox.messages) == 1
    assert store.list_alerts("acme")[0]["sent"] == {"webhook": {"status": "ok", "attempts": 1},
                                                    "email": {"status": "ok", "attempts": 1}}
    # Delivered everywhere: the runs after that send nothing.
    (ongoing,) = check_alerts(settings, store, now=at(77), env=ENV | {"DIPWATCH_WEBHOOK_URL": webhook.url})
    assert ongoing.what == "ongoing"
    assert (len(webhook.bodies), len(mailbox.messages)) == (3, 1)


def test_webhook_that_never_answers_times_out(tmp_path, webhook, mailbox, monkeypatch):
    monkeypatch.setattr("dipwatch.jobs.notify.time.sleep", lambda s: None)
    settings, store = episode_store(tmp_path, webhook, mailbox)
    webhook.delay = 3.0
    started = time.monotonic()
    (action,) = check_alerts(settings, store, now=at(75), env=ENV | {"DIPWATCH_WEBHOOK_URL": webhook.url})
    assert action.results["webhook"]["status"] == "failed"
    assert action.results["webhook"]["error"] == "TimeoutError"
    assert time.monotonic() - started < 6  # two attempts of the 1 s timeout, not the server's pace


def test_cli_check_list_and_test(tmp_path, webhook, mailbox, monkeypatch):
    from click.testing import CliRunner

    from dipwatch.cli.main import cli

    settings, store = episode_store(tmp_path, webhook, mailbox)
    store.set_meta("as_of", at(75).isoformat())
    runner = CliRunner()
    env = {"DIPWATCH_WEBHOOK_URL": webhook.url, "DIPWATCH_CONFIG": str(settings.config_path),
           "DIPWATCH_DB": str(tmp_path / "a.db")}
    result = runner.invoke(cli, ["alerts", "check"], env=env)
    assert result.exit_code == 0, result.output
    assert "sent: acme: 100% of posts negative (normal 0%); sentiment" in result.output
    assert runner.invoke(cli, ["alerts", "check"], env=env).output == ""  # nothing new to say
    listed = json.loads(runner.invoke(cli, ["alerts", "list", "--json"], env=env).output)
    assert [row["rule"] for row in listed] == ["sentiment"]
    tested = runner.invoke(cli, ["alerts", "test", "--brand", "acme"], env=env)
    assert tested.exit_code == 0
    assert "webhook: ok after 1 attempt(s)" in tested.output
    assert webhook.bodies[-1]["text"].startswith("dipwatch test alert: acme")
    assert webhook.url not in result.output + tested.output  # the secret URL is never printed
