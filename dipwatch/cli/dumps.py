"""`dipwatch backfill dump`: a brand's history from Reddit dump files, read and scored on a Dask cluster."""

from __future__ import annotations

import sys
from pathlib import Path

import click

EXIT_OK, EXIT_FAILED = 0, 1


def register(cli, outages) -> None:
    from dipwatch.cli.main import UsageFailure, handle_errors, open_store, store_options

    group = cli.commands.get("backfill")
    if group is None:
        @cli.group("backfill")
        def backfill_group():
            """Fill history that no scheduled collection saw, from archives."""

        group = backfill_group

    @group.command("dump")
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
