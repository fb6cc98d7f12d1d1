"""``dipwatch backfill reddit | dump``: history that no scheduled collection saw, from the Arctic
Shift archive or from Reddit dump files (read and scored on a Dask cluster)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from dipwatch.cli.options import UsageFailure, handle_errors, open_store, parse_when, store_options
from dipwatch.core.conventions import EXIT_FAILED, EXIT_OK


@click.group()
def backfill():
    """Fill history that no scheduled collection saw, from archives."""


@backfill.command("reddit")
@store_options
@click.option("--brand", required=True, help="a brand in dipwatch.toml (its terms decide what is kept)")
@click.option("--subreddit", required=True, help="the subreddit, e.g. unitedkingdom or r/unitedkingdom")
@click.option("--from", "start", required=True, help="start (ISO 8601 or a date, UTC), inclusive")
@click.option("--to", "end", required=True, help="end (ISO 8601 or a date, UTC), exclusive")
@click.option("--max-seconds", default=3600.0, show_default=True, type=click.FloatRange(1),
              help="time budget; run the same command again to continue where it stopped")
@handle_errors
def backfill_reddit(db, config, brand, subreddit, start, end, max_seconds):
    """Store a brand's Reddit posts and comments in a subreddit between two times, from the Arctic
    Shift archive (no Reddit credentials). Posts that mention the brand are kept with all their
    comments; other comments only if they mention it. Items join the live `reddit` source under the
    same ids, so nothing is stored twice; an interrupted run resumes where it stopped.

    Exit code 0: done; 1: the archive failed or the time budget ran out (run it again to continue);
    2: bad input or config."""
    import os

    from collectors.arcticshift import normalise_subreddit
    from collectors.base import Budget, SourceUnavailableError
    from dipwatch.jobs.backfill import backfill as backfill_subreddit

    first, last = parse_when(start, "--from"), parse_when(end, "--to")
    if first >= last:
        raise UsageFailure(f"--from {start} is not before --to {end}: expected a non-empty time range")
    name = normalise_subreddit(subreddit)
    settings, store = open_store(db, config)
    chosen = settings.brands.get(brand.strip().lower())
    if chosen is None:
        where = settings.config_path or "dipwatch.toml"
        raise UsageFailure(f"--brand: {brand!r} is not a brand in {where} (a backfill needs its terms)")
    try:
        with store.exclusive(f"backfill-reddit-{chosen.key}") as acquired:
            if not acquired:
                click.echo(f"another backfill for {chosen.key} is running; this one exits", err=True)
                sys.exit(EXIT_FAILED)
            report = backfill_subreddit(store, chosen, name, first, last,
                                        settings.sources.get("arcticshift", {}), Budget.seconds(max_seconds),
                                        os.environ)
    except SourceUnavailableError as exc:
        raise UsageFailure(str(exc)) from None
    click.echo(f"r/{name} {first:%Y-%m-%d %H:%M}..{last:%Y-%m-%d %H:%M} UTC for {chosen.key}: "
               f"{report.read['posts']} posts and {report.read['comments']} comments read, "
               f"{report.kept} kept, {report.new} new")
    if report.status != "ok":
        hint = "; run the same command again to continue" if report.status == "partial" else ""
        click.echo(f"Error: {report.status}: {report.error}{hint}", err=True)
        sys.exit(EXIT_FAILED)
    sys.exit(EXIT_OK)


@backfill.command("dump")
@store_options
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--brand", required=True, help="the brand whose terms decide which lines are kept")
@click.option("--scheduler", metavar="tcp://HOST:PORT",
              help="run on this Dask cluster (its workers must see FILES at the same paths) "
                   "[default: a local cluster]")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1),
              help="worker processes of the local cluster (ignored with --scheduler)")
@click.option("--partition-mb", default=64.0, show_default=True, type=click.FloatRange(0, min_open=True),
              help="size of the byte ranges an uncompressed file is split into (a .zst file is read "
                   "whole: zstd cannot be entered in the middle)")
@handle_errors
def backfill_dump(db, config, files, brand, scheduler, workers, partition_mb):
    """Store a brand's posts and comments from Reddit dump FILES (Pushshift or Arctic Shift monthly
    files: newline-delimited JSON, .zst or uncompressed), read, matched and scored on a Dask cluster.
    Items join the live `reddit` source under the same ids, so nothing is stored twice; a re-run
    skips the parts of files already done. Lines that are not Reddit items are counted and shown.

    Exit code 0: done; 1: a part of a file failed (run again to retry it); 2: bad input."""
    from dipwatch.jobs.backfill_dask import backfill_dumps, open_client, plan
    from dipwatch.measures import resolve_brand

    settings, store = open_store(db, config)
    chosen = resolve_brand(settings, store, brand)
    if not chosen.terms:
        raise UsageFailure(f"--brand: {chosen.key} has no terms to match")
    partition_bytes = max(1, int(partition_mb * 2**20))
    plan(files, partition_bytes)  # a file that is not a dump ends the command before a cluster starts
    try:
        with open_client(scheduler, workers) as client:
            report = backfill_dumps(store, client, chosen, files, partition_bytes)
    except OSError as exc:  # distributed's "Timed out trying to connect to tcp://..."
        if not scheduler:
            raise
        raise UsageFailure(f"--scheduler: cannot reach {scheduler}: {exc}") from None
    done = f" ({report.skipped} done before)" if report.skipped else ""
    click.echo(f"{chosen.key}: {report.lines} lines read, {report.matched} matched, {report.new} new, "
               f"{report.bad} bad lines; {report.partitions} partitions{done}")
    for bad in report.bad_lines:
        click.echo(f"bad line: {bad.where()}: {bad.reason}", err=True)
    if report.bad > len(report.bad_lines):
        click.echo(f"... and {report.bad - len(report.bad_lines)} more bad lines", err=True)
    for error in report.errors:
        click.echo(f"Error: {error}", err=True)
    sys.exit(EXIT_FAILED if report.errors else EXIT_OK)
