"""`dipwatch prune`: delete stored items their authors deleted, as Reddit's terms require."""

from __future__ import annotations

import os
import re
import sys
from datetime import UTC, datetime, timedelta

import click

from dipwatch.core.errors import BadValueError

DURATION = re.compile(r"^(\d+)\s*([mhdw])$")
UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """``30m``, ``12h``, ``1d``, ``2w``.

    :raises BadValueError: naming the option and what was expected.
    """
    found = DURATION.match(text.strip().lower())
    if not found:
        raise BadValueError(f"--older-than: {text!r} is not a duration; expected a number and m, h, d or w "
                         "(e.g. 1d)")
    return timedelta(**{UNITS[found.group(2)]: int(found.group(1))})


def register(cli, outages) -> None:
    from dipwatch.cli.main import handle_errors, open_store, store_options

    @cli.command()
    @store_options
    @click.option("--source", type=click.Choice(["reddit"]), default="reddit", show_default=True)
    @click.option("--older-than", help="only items created longer ago than this (e.g. 1d; default: all)")
    @click.option("--max-seconds", default=3600.0, show_default=True, type=click.FloatRange(1))
    @handle_errors
    def prune(db, config, source, older_than, max_seconds):
        """Re-check stored items in batches of 100 and delete those deleted or removed at the source,
        with their scores (Reddit's terms require removing what authors deleted)."""
        from collectors.base import Budget, CollectorError, SourceUnavailableError
        from collectors.reddit import make_reddit, prune_deleted

        settings, store = open_store(db, config)
        cutoff = datetime.now(UTC) - parse_duration(older_than) if older_than else None
        budget = Budget.seconds(max_seconds)
        try:
            collector = make_reddit(settings.sources.get(source, {}), os.environ)
        except SourceUnavailableError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2 if exc.missing_config else 1)
        checked = removed = 0
        try:
            for batch in store.post_ids(source, created_before=cutoff):
                gone = prune_deleted(collector, batch, budget)
                removed += store.delete_posts(source, gone)
                checked += len(batch)
        except CollectorError as exc:
            click.echo(f"checked: {checked}, removed: {removed}", err=True)
            click.echo(f"Error: {exc}; run again to continue", err=True)
            sys.exit(1)
        click.echo(f"checked: {checked}, removed: {removed}")
