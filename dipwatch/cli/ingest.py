"""``dipwatch import``, ``score`` and ``collect``: posts into the store, scored."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from dipwatch.cli.options import UsageFailure, handle_errors, open_store, parse_when, store_options


@click.command("import")
@store_options
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--brand", required=True, help="brand the posts mention (a new name becomes a brand)")
@click.option("--source", default="file", show_default=True, help="source label stored with the posts")
@click.option("--match", is_flag=True, help="keep only rows whose text matches the brand's terms")
@click.option("--tz", "tz", help="time zone of timestamps without an offset (e.g. Europe/London)")
@click.option("--skip-bad", is_flag=True,
              help="import the good rows even if some are rejected (default: reject the whole file)")
@handle_errors
def import_(db, config, file, brand, source, match, tz, skip_bad):
    """Import posts from a CSV or JSON Lines FILE (columns id, created_at, text; optional author,
    url, engagement). FILE may be a pipe or FIFO; ``-`` reads standard input."""
    from collectors.files import input_name
    from dipwatch.core.brands import normalise_brand_name
    from dipwatch.core.times import parse_zone
    from dipwatch.jobs.ingest import import_for_brand

    settings, store = open_store(db, config)
    zone = parse_zone(tz) if tz else None
    try:
        source = normalise_brand_name(source)
    except ValueError:
        raise UsageFailure(f"--source: {source!r} is not a valid label; expected 1-64 characters of "
                           "a-z, 0-9, '_' or '-'") from None
    report, chosen, new_brand = import_for_brand(settings, store, file, brand, source=source, match=match,
                                                 tz=zone, skip_bad=skip_bad)
    if new_brand:
        click.echo(f"New brand {chosen.key!r}: known from now on, matched by its name alone "
                   "(add it to dipwatch.toml for more terms).")
    name = input_name(file)
    for rejection in report.rejections:
        click.echo(f"{name}:{rejection.line}: rejected: {rejection.reason}", err=True)
    if report.rejected > len(report.rejections):
        click.echo(f"... and {report.rejected - len(report.rejections)} more rejected rows", err=True)
    counts = report.counts()
    click.echo(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in counts.items()))
    if report.rejected and not report.written:
        raise UsageFailure(f"{name}: {report.rejected} rows rejected; nothing was imported. Fix them, "
                           "or pass --skip-bad to import the other rows")


@click.command()
@store_options
@handle_errors
def score(db, config):
    """Score stored posts that the current scorer (VADER + lexicon version) has not scored."""
    from analysis.sentiment import scorer_id
    from dipwatch.jobs.ingest import score_missing

    _, store = open_store(db, config)
    click.echo(f"Scored {score_missing(store)} posts with {scorer_id()}.")


class JsonLines(logging.Formatter):
    """One JSON object per log record, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        import json

        return json.dumps({"time": datetime.fromtimestamp(record.created, UTC).isoformat(),
                           "level": record.levelname.lower(), "logger": record.name,
                           "message": record.getMessage()})


def setup_logging(log_format: str, verbose: bool) -> None:
    """Quiet under cron (warnings and errors only), progress on a terminal, JSON lines on request."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonLines())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
    interactive = sys.stderr.isatty()
    level = (logging.DEBUG if verbose else logging.INFO if interactive or log_format == "json"
             else logging.WARNING)
    for name in ("dipwatch", "collectors"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.propagate = False
        logger.setLevel(level)


@click.command()
@store_options
@click.option("--brand", "brand_keys", multiple=True, help="only this brand (repeatable)")
@click.option("--source", "source_names", multiple=True, help="only this source (repeatable)")
@click.option("--since", help="on a first run, fetch posts from this time on (ISO 8601 or a date)")
@click.option("--max-seconds", default=540.0, show_default=True, type=click.FloatRange(1),
              help="time budget of the whole run, so a stuck API cannot pile up scheduled runs")
@click.option("--wait", is_flag=True, help="wait for a run in progress instead of exiting")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("-v", "--verbose", is_flag=True, help="log every page")
@handle_errors
def collect(db, config, brand_keys, source_names, since, max_seconds, wait, log_format, verbose):
    """Collect new posts for every brand and source in the config (the scheduled job).

    Exit code 0: all sources ok; 1: some failed (the rest were stored); 2: bad config or missing
    credentials for a source (the other sources still ran)."""
    from dipwatch.jobs.collect import run_collect

    setup_logging(log_format, verbose)
    settings, store = open_store(db, config)
    code = run_collect(settings, store, list(brand_keys) or None, list(source_names) or None,
                       since=parse_when(since, "--since"), max_seconds=max_seconds, wait=wait)
    sys.exit(code)
