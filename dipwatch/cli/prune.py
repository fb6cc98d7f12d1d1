"""`dipwatch prune`: delete stored items their authors deleted, as Reddit's terms require."""

from __future__ import annotations

import os
import re
import sys
from datetime import UTC, datetime, timedelta

import click

from dipwatch.cli.options import handle_errors, open_store, store_options
from dipwatch.core.conventions import EXIT_BAD_INPUT, EXIT_FAILED
from dipwatch.core.errors import BadValueError

DURATION = re.compile(r"^(\d+)\s*([mhdw])$")
UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """``30m``, ``12h``, ``1d``, ``2w``.

    :raises BadValueError: naming the option and what was expected.
    """
    found = DURATION.match(text.strip().lower())
    if not found:
        raise BadValueError(f"--older-than: {text!r} is not a duration; expected a number and m, h, d or "
                            "w (e.g. 1d)")
    return timedelta(**{UNITS[found.group(2)]: int(found.group(1))})


@click.command()
@store_options
@click.option("--source", type=click.Choice(["reddit"]), default="reddit", show_default=True)
@click.option("--older-than", help="only items created longer ago than this (e.g. 1d; default: all)")
@click.option("--max-seconds", default=3600.0, show_default=True, type=click.FloatRange(1))
@handle_errors
def prune(db, config, source, older_than, max_seconds):
    """Re-check stored items in batches of 100 and delete those deleted or removed at the source,
    with their scores (Reddit's terms require removing what authors deleted)."""
    from collectors.base import Budget, SourceUnavailableError
    from collectors.reddit import make_reddit
    from dipwatch.jobs.prune import prune as prune_gone

    settings, store = open_store(db, config)
    cutoff = datetime.now(UTC) - parse_duration(older_than) if older_than else None
    budget = Budget.seconds(max_seconds)
    try:
        collector = make_reddit(settings.sources.get(source, {}), os.environ)
    except SourceUnavailableError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT if exc.missing_config else EXIT_FAILED)
    report = prune_gone(store, collector, source, cutoff, budget)
    if report.error is not None:
        click.echo(f"checked: {report.checked}, removed: {report.removed}", err=True)
        click.echo(f"Error: {report.error}; run again to continue", err=True)
        sys.exit(EXIT_FAILED)
    click.echo(f"checked: {report.checked}, removed: {report.removed}")
