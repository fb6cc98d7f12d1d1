"""`dipwatch backfill reddit`: fill a subreddit's history for a brand from the Arctic Shift archive."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import click

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


@dataclass
class BackfillReport:
    """What a backfill did: items read per kind, matched (kept), new, and how it ended."""

    status: str = "ok"  # ok | partial | failed
    read: dict[str, int] = field(default_factory=lambda: {"posts": 0, "comments": 0})
    kept: int = 0
    new: int = 0
    error: str | None = None

    def counts(self) -> dict:
        return {"posts_read": self.read["posts"], "comments_read": self.read["comments"], "kept": self.kept,
                "new": self.new}


def backfill(store, brand, subreddit: str, start: datetime, end: datetime, source_settings: Mapping,
             budget, env: Mapping[str, str]) -> BackfillReport:
    """Store ``brand``'s posts and comments in ``subreddit`` created in ``[start, end)``, from Arctic Shift.

    Resumable: each page is stored with the checkpoint ``backfill:<subreddit>:<start>:<end>`` in one
    transaction, so a run killed or out of budget continues where it stopped; items land in source
    ``reddit`` under the live collector's ids, so nothing already collected is stored twice.

    :raises SourceUnavailableError: for bad ``[sources.arcticshift]`` settings or a refusing service.
    """
    from collectors.arcticshift import make_arcticshift
    from collectors.base import BudgetExceededError, CollectorError, SourceUnavailableError
    from dipwatch.core.records import Checkpoint
    from dipwatch.jobs.ingest import save_batch

    collector = make_arcticshift(source_settings, env)
    report = BackfillReport(read=collector.read)
    started = datetime.now(UTC)
    salt = store.get_meta("author_salt")
    checkpoints = store.get_checkpoints(collector.name, brand.key)
    first, last = int(start.timestamp()), int(end.timestamp())
    try:
        for page in collector.backfill_pages(brand, subreddit, first, last, checkpoints, budget):
            checkpoint = Checkpoint(collector.name, brand.key, *page.checkpoint) if page.checkpoint else None
            result = save_batch(store, [(post, [(brand.key, term)]) for post, term in page.posts], salt,
                                checkpoint)
            report.kept += len(page.posts)
            report.new += result.new
    except BudgetExceededError as exc:
        report.status, report.error = "partial", str(exc)
    except SourceUnavailableError as exc:
        if exc.missing_config:
            raise
        report.status, report.error = "failed", str(exc)
    except CollectorError as exc:
        report.status, report.error = "failed", str(exc)
    span = f"arcticshift r/{subreddit} {start.isoformat()}..{end.isoformat()}"
    store.record_run("backfill", collector.name, brand.key, started, report.status, report.counts(),
                     message=report.error or span)
    return report


def register(cli, outages) -> None:
    from dipwatch.cli.main import UsageFailure, handle_errors, open_store, parse_when, store_options

    group = cli.commands.get("backfill")
    if group is None:
        @cli.group("backfill")
        def backfill_group():
            """Fill history that no scheduled collection saw, from archives."""

        group = backfill_group

    @group.command("reddit")
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
                report = backfill(store, chosen, name, first, last, settings.sources.get("arcticshift", {}),
                                  Budget.seconds(max_seconds), os.environ)
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
