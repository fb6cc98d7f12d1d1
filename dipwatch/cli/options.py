"""What every command shares: the store and interval options, opening the store, --from/--to times,
and how a command ends on an error.

Only user errors exit 2 (one line, no traceback): dipwatch.core.errors.UserError and its kin, the
store's and the collectors' errors, a dashboard auth file that cannot be used, and click's usage
errors. Any other exception is a bug: it propagates, so Python shows its traceback and exits 1.
"""

from __future__ import annotations

import functools
from datetime import datetime

import click

from dipwatch.core.conventions import EXIT_BAD_INPUT
from dipwatch.core.errors import UserError


class UsageFailure(click.ClickException):
    """A bad input or config: printed as ``Error: ...`` with exit code 2."""

    exit_code = EXIT_BAD_INPUT

    def show(self, file=None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True)


def store_options(func):
    """``--db`` and ``--config`` on every command that reads the store (like sqlite-utils' bundles)."""
    func = click.option("--config", "config", type=click.Path(dir_okay=False),
                        help="brands config file [env DIPWATCH_CONFIG; default ./dipwatch.toml]")(func)
    func = click.option(
        "--db", "db", help="database path or SQLAlchemy URL [env DIPWATCH_DB; default data/dipwatch.db]"
    )(func)
    return func


def interval_options(func):
    """``--resamples`` and ``--seed`` of the bootstrap intervals (report, export, event-study)."""
    func = click.option("--seed", default=0, show_default=True, help="seed of the bootstrap (same seed, "
                        "same intervals)")(func)
    return click.option("--resamples", default=200, show_default=True, type=click.IntRange(0, 10_000),
                        help="bootstrap resamples for the intervals (0: no intervals)")(func)


def handle_errors(func):
    """Turn the errors a user can cause into one clear line and exit code 2, never a traceback;
    let every other exception through (a traceback and exit code 1)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            if isinstance(exc, UserError):  # the store's, the collectors' and auth settings' too
                raise UsageFailure(str(exc)) from None
            if "readonly database" in str(getattr(exc, "orig", "")):  # SQLite's "attempt to write a ..."
                raise UsageFailure("database: read-only (the file or its file system); this command writes "
                                   "to it, so run it where the database can be written") from None
            raise
    return wrapper


def open_store(db, config):
    """The settings (flag > env > config file > default) and the store they name, with the
    configured scorer chosen for this process."""
    from analysis.scorers import apply_scorer
    from dipwatch.core.config import load_settings
    from dipwatch.store import Store

    settings = load_settings(db=db, config=config)
    apply_scorer(settings)
    return settings, Store(settings.db_url)


def parse_when(value: str | None, name: str, tz=None) -> datetime | None:
    """A --from/--to style option: ISO 8601 (a bare date means midnight UTC) or epoch seconds."""
    from dipwatch.core.times import parse_time

    if value is None:
        return None
    text = value.strip()
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        text += "T00:00:00+00:00"
    try:
        return parse_time(text, tz, name)
    except ValueError as exc:
        raise UsageFailure(str(exc)) from None
