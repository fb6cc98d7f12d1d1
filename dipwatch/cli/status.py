"""``dipwatch status`` and ``dipwatch brands``: what is collected, how fresh, for which brands.

``status`` reads an existing SQLite file with sqlite3 alone (dipwatch.store.lite): SQLAlchemy's
import would be most of the time it takes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from dipwatch.cli.options import handle_errors, open_store, store_options
from dipwatch.core.text import printable


@click.command()
@store_options
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table")
@handle_errors
def status(db, config, as_json):
    """Freshness of collection: per brand and source the last successful run and the last error."""
    import json

    from dipwatch.core.config import load_settings
    from dipwatch.core.times import plain
    from dipwatch.store.lite import collect_status_lite, flock_holder, sqlite_file

    # On an existing SQLite file, read it with sqlite3 alone: SQLAlchemy's import would be most of the
    # time this command takes. Anything else (PostgreSQL, a new file, another schema version, a
    # sqlite3 error) goes through the Store as every other command does, with its messages.
    settings = load_settings(db=db, config=config)
    now = datetime.now(UTC)
    rows = collect_status_lite(settings.db_url, now)
    if rows is None:
        from dipwatch.store import Store

        store = Store(settings.db_url)
        now = datetime.now(UTC)
        rows = store.collect_status(now)
        running = store.lock_holder("collect")
    else:
        running = flock_holder(Path(f"{sqlite_file(settings.db_url)}.collect.lock"))
    if as_json:
        click.echo(json.dumps([{k: plain(v) for k, v in row.items()} for row in rows], indent=2))
        return
    if running:
        since = datetime.fromtimestamp(running["since"], UTC) if running.get("since") else None
        click.echo("A collection is running" + (
            f" since {since:%Y-%m-%d %H:%M:%S} UTC ({(now - since).total_seconds() / 60:.0f} min)"
            if since else "") + (f", pid {running['pid']}" if running.get("pid") else "") + ".")
    elif not rows:
        click.echo("No collection has run yet (`dipwatch collect`).")
    for row in rows:
        ago = (f"{(now - row['last_ok']).total_seconds() / 3600:.1f} h ago" if row["last_ok"]
               else "never")
        line = (f"{row['brand']}\t{row['source']}\tlast ok: {ago}\tlast run: {row['last_status']}\t"
                f"posts in 24 h: {row['posts_24h']}")
        if row["last_error"]:
            line += f"\tlast error: {printable(row['last_error'])}"
        for warning in row.get("warnings") or []:  # a source degrading while it still answers
            line += f"\twarning: {printable(warning)}"
        click.echo(line)


@click.command()
@store_options
@handle_errors
def brands(db, config):
    """List the known brands, their terms and post counts."""
    from dipwatch.core.brands import known_brands

    settings, store = open_store(db, config)
    for key, brand in sorted(known_brands(settings, store).items()):
        terms = printable(", ".join(brand.terms))
        click.echo(f"{key}\t{brand.origin}\t{store.count_posts(key)} posts\tterms: {terms}")
