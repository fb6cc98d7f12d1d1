"""`dipwatch alerts check|test|list`."""

from __future__ import annotations

import json
import sys

import click

from dipwatch.cli.options import handle_errors, open_store, store_options
from dipwatch.core.conventions import EXIT_FAILED, EXIT_OK
from dipwatch.core.errors import BadValueError


@click.group()
def alerts():
    """Alerts: evaluate the rules, send a test message, list what was sent."""


@alerts.command("check")
@store_options
@click.option("--brand", "brand_keys", multiple=True, help="only this brand (repeatable)")
@handle_errors
def alerts_check(db, config, brand_keys):
    """Evaluate the alert rules on what is stored and deliver new alerts and all-clears
    (run it after `dipwatch collect`); alerts that could not be delivered are sent again on later
    runs while their episode lasts. Exit 1 when a delivery failed or no channel is set."""
    import os

    from dipwatch.core.delivery import delivery_from
    from dipwatch.core.text import printable
    from dipwatch.jobs.alerting import NO_CHANNEL, check_alerts
    from dipwatch.measures import resolve_brand

    settings, store = open_store(db, config)
    keys = [resolve_brand(settings, store, k).key for k in brand_keys] or None
    unknown = [k for k in keys or [] if k not in settings.brands]
    if unknown:
        raise BadValueError(f"--brand: {unknown[0]!r} has no rules: alerts need the brand in "
                            "dipwatch.toml")
    no_channel = not delivery_from(settings.alerts, os.environ).channels
    failed = no_channel
    for action in check_alerts(settings, store, keys):
        status = ""
        if action.results is not None:
            status = " [" + (", ".join(f"{ch}: {r['status']}" for ch, r in action.results.items())
                             or "not sent") + "]"
            failed |= any(r["status"] != "ok" for r in action.results.values())
        if action.what != "ongoing":
            click.echo(f"{action.what}: {printable(action.summary)}{status}")
    if no_channel:
        click.echo(f"alerts: no channel is set: {NO_CHANNEL}; alerts are recorded as undelivered "
                   "and sent once one is", err=True)
    sys.exit(EXIT_FAILED if failed else EXIT_OK)


@alerts.command("test")
@store_options
@click.option("--brand", required=True)
@handle_errors
def alerts_test(db, config, brand):
    """Send a test message on every configured channel."""
    from dipwatch.jobs.alerting import send_test
    from dipwatch.measures import resolve_brand

    settings, store = open_store(db, config)
    key = resolve_brand(settings, store, brand).key
    results = send_test(settings, key)
    for channel, result in results.items():
        click.echo(f"{channel}: {result['status']} after {result['attempts']} attempt(s)"
                   + (f" ({result['error']})" if result.get("error") else ""))
    sys.exit(EXIT_OK if all(r["status"] == "ok" for r in results.values()) else EXIT_FAILED)


@alerts.command("list")
@store_options
@click.option("--brand", help="only this brand")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def alerts_list(db, config, brand, as_json):
    """List alert episodes, newest first, with what was delivered."""
    from dipwatch.core.text import printable
    from dipwatch.core.times import plain

    _, store = open_store(db, config)
    rows = store.list_alerts(brand.lower() if brand else None)
    if as_json:
        click.echo(json.dumps([{k: plain(v) for k, v in r.items()} for r in rows], indent=2))
        return
    for row in rows:
        state = "ongoing" if row["resolved_at"] is None else f"ended {plain(row['resolved_at'])}"
        sent = ("unknown" if row["sent"] is None else ", ".join(
            f"{ch}: {r['status']}" for ch, r in row["sent"].items()) or "undelivered (no channel)")
        click.echo(f"{row['id']}\t{row['brand']}\t{row['rule']}\t{plain(row['started_at'])}\t{state}\t"
                   f"sent: {sent}\t{printable(row['summary'])}")
