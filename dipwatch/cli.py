"""The ``dipwatch`` command line: a thin layer over jobs, measures and the store.

Exit codes: 0 ok; 1 some source failed (the others were stored); 2 bad input or config.
"""

from __future__ import annotations

import functools
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from dipwatch.text import printable

EXPORT_KINDS = ("posts", "timeline", "outages")
POST_COLUMNS = ["source", "post_id", "kind", "created_at", "brand", "term", "text", "url", "author_hash",
                "engagement", "rating", "compound", "pos", "neu", "neg", "label", "scorer",
                "p_negative", "p_neutral", "p_positive", "class"]
# The tone family (per vote with one author one voice), then the share family (per post): see README.
TIMELINE_COLUMNS = ["bucket", "posts", "mean", "negatives", "negative_share", "smoothed", "smoothed_lo",
                    "smoothed_hi", "post_count", "called_negative", "share", "share_smoothed", "share_lo",
                    "share_hi"]


class UsageFailure(click.ClickException):
    """A bad input or config: printed as ``Error: ...`` with exit code 2."""

    exit_code = 2

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


def handle_errors(func):
    """Turn the errors a user can cause into one clear line and exit code 2, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            if isinstance(exc, usage_errors()):
                raise UsageFailure(str(exc)) from None
            if "readonly database" in str(getattr(exc, "orig", "")):  # SQLite's "attempt to write a ..."
                raise UsageFailure("database: read-only (the file or its file system); this command writes "
                                   "to it, so run it where the database can be written") from None
            raise
    return wrapper


def usage_errors() -> tuple[type[Exception], ...]:
    """The exceptions a user can cause. Imported only once one is raised: dipwatch.store imports
    SQLAlchemy (~0.5 s), which ``dipwatch status`` on SQLite does not otherwise need."""
    from analysis.windows import WindowError
    from collectors.base import CollectorError
    from dipwatch.config import ConfigError
    from dipwatch.output import OutputError
    from dipwatch.store import StoreError

    return ConfigError, CollectorError, WindowError, StoreError, OutputError, ValueError


def open_store(db, config, demo: bool = False):
    from dipwatch.config import apply_scorer, load_settings
    from dipwatch.store import Store

    settings = load_settings(db=db, config=config)
    apply_scorer(settings)
    return settings, Store(settings.db_url)


def parse_when(value: str | None, name: str, tz=None) -> datetime | None:
    """A --from/--to style option: ISO 8601 (a bare date means midnight UTC) or epoch seconds."""
    from dipwatch.times import parse_time

    if value is None:
        return None
    text = value.strip()
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        text += "T00:00:00+00:00"
    try:
        return parse_time(text, tz, name)
    except ValueError as exc:
        raise UsageFailure(str(exc)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dipwatch")
def cli():
    """dipwatch: how customers' public sentiment dips during a brand's outage, and when it recovers."""


# demo and dashboard -------------------------------------------------------------------------
@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--port", default=8050, show_default=True, type=click.IntRange(1, 65535))
@click.option("--db", "db", default=str(Path("data") / "demo.db"), show_default=True,
              help="where the demo database is built (reused when it exists)")
@click.option("--rebuild", is_flag=True, help="rebuild the demo database from the scenario")
@click.option("--no-serve", is_flag=True, help="build the demo database and exit")
@handle_errors
def demo(host, port, db, rebuild, no_serve):
    """Build the demo database (simulated posts) and serve the dashboard on it."""
    from dipwatch.config import Settings, db_url_from
    from dipwatch.jobs import build_demo
    from dipwatch.store import Store

    path = Path(db)
    if rebuild:
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    settings = Settings(db_url=db_url_from(path))
    store = Store(settings.db_url)
    if store.get_meta("demo") is None:
        if store.count_posts():
            raise UsageFailure(f"{path}: holds data that is not the demo's; choose another --db")
        click.echo(f"Building the demo database {path} (simulated posts; takes a few seconds)...")
        count = build_demo(store)
        click.echo(f"Stored {count} simulated posts.")
    else:
        click.echo(f"Reusing the demo database {path} (--rebuild to start again).")
    if no_serve:
        return
    _serve(settings, store, host, port)


@cli.command()
@store_options
@click.option("--host", default="127.0.0.1", show_default=True,
              help="address to listen on (0.0.0.0 exposes it to your network)")
@click.option("--port", default=8050, show_default=True, type=click.IntRange(1, 65535))
@handle_errors
def dashboard(db, config, host, port):
    """Serve the dashboard on the store."""
    settings, store = open_store(db, config)
    _serve(settings, store, host, port)


def _score_stale(store) -> None:
    """Score posts the current scorer has not scored (after an upgrade changed the lexicon), so the
    dashboard never shows an empty chart over a full database."""
    from analysis.sentiment import scorer_id
    from dipwatch.jobs import score_missing

    if store.unscored(scorer_id(), limit=1):
        click.echo(f"Scoring stored posts with the current scorer {scorer_id()} (once)...")
        click.echo(f"Scored {score_missing(store)} posts.")


def _serve(settings, store, host, port):
    from dashboard.app import create_app, settle
    from dashboard.auth import exposure_warning

    if warning := exposure_warning(host):
        click.echo(warning, err=True)
    if store.read_only:
        click.echo("Note: the database is read-only: the dashboard shows it, and cannot add outage "
                   "windows or score posts in it.", err=True)
    else:
        _score_stale(store)
    app = create_app(settings, store, hosts=[host])
    settle()
    click.echo(f"dipwatch dashboard: http://{host}:{port}/  (Ctrl+C to stop)")
    app.run(host=host, port=port, debug=False)


# import and score ---------------------------------------------------------------------------
@cli.command("import")
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
    from dipwatch.brands import brand_from_name, known_brands, normalise_brand_name
    from dipwatch.jobs import import_file
    from dipwatch.times import parse_zone

    settings, store = open_store(db, config)
    zone = parse_zone(tz) if tz else None
    try:
        source = normalise_brand_name(source)
    except ValueError:
        raise UsageFailure(f"--source: {source!r} is not a valid label; expected 1-64 characters of "
                           "a-z, 0-9, '_' or '-'") from None
    brands = known_brands(settings, store)
    key = normalise_brand_name(brand)
    chosen = brands.get(key) or brand_from_name(brand)
    new_brand = key not in brands
    report = import_file(store, file, chosen, source=source, match=match, tz=zone, skip_bad=skip_bad)
    if new_brand and report.written:
        store.ensure_brand(chosen.key, chosen.name, chosen.terms, origin="import")
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


@cli.command()
@store_options
@handle_errors
def score(db, config):
    """Score stored posts that the current scorer (VADER + lexicon version) has not scored."""
    from analysis.sentiment import scorer_id
    from dipwatch.jobs import score_missing

    _, store = open_store(db, config)
    click.echo(f"Scored {score_missing(store)} posts with {scorer_id()}.")


@cli.command()
@store_options
@handle_errors
def brands(db, config):
    """List the known brands, their terms and post counts."""
    from dipwatch.brands import known_brands

    settings, store = open_store(db, config)
    for key, brand in sorted(known_brands(settings, store).items()):
        terms = printable(", ".join(brand.terms))
        click.echo(f"{key}\t{brand.origin}\t{store.count_posts(key)} posts\tterms: {terms}")


# collection ---------------------------------------------------------------------------------
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


@cli.command()
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
    from dipwatch.collect import run_collect

    setup_logging(log_format, verbose)
    settings, store = open_store(db, config)
    code = run_collect(settings, store, list(brand_keys) or None, list(source_names) or None,
                       since=parse_when(since, "--since"), max_seconds=max_seconds, wait=wait)
    sys.exit(code)


@cli.command()
@store_options
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table")
@handle_errors
def status(db, config, as_json):
    """Freshness of collection: per brand and source the last successful run and the last error."""
    import json

    from dipwatch.config import load_settings
    from dipwatch.store.lite import collect_status_lite, flock_holder, sqlite_file
    from dipwatch.times import plain

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


# outages ------------------------------------------------------------------------------------
@cli.group()
def outages():
    """Outage windows: add, import, list, remove."""


@outages.command("add")
@store_options
@click.option("--brand", required=True)
@click.option("--start", required=True, help="ISO 8601 with offset, e.g. 2026-10-01T18:00:00Z")
@click.option("--end", help="ISO 8601 with offset; leave out while the outage is ongoing")
@click.option("--label", required=True, help="short description, e.g. 'checkout down'")
@click.option("--severity", default="unknown", show_default=True,
              help="minor, major, critical, maintenance or unknown")
@click.option("--tz", "tz", help="time zone of times given without an offset")
@handle_errors
def outages_add(db, config, brand, start, end, label, severity, tz):
    """Add one outage window."""
    from analysis.windows import make_window
    from dipwatch.brands import known_brands
    from dipwatch.times import parse_zone

    settings, store = open_store(db, config)
    known = known_brands(settings, store)
    window = make_window(brand, start, end, label, severity, known, parse_zone(tz) if tz else None)
    (outage_id,) = store.add_outages([{**window.__dict__, "origin": "manual"}])
    click.echo(f"Added outage {outage_id}: {window.brand} {printable(window.label)}")
    _warn_overlaps(store, window.brand)


@outages.command("import")
@store_options
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--tz", "tz", help="time zone of times given without an offset")
@handle_errors
def outages_import(db, config, file, tz):
    """Import outage windows from a CSV FILE (brand,start,end,label[,severity]); all or nothing."""
    from analysis.windows import WindowError, read_windows_csv
    from dipwatch.brands import known_brands
    from dipwatch.times import parse_zone

    settings, store = open_store(db, config)
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise WindowError(f"{file}: not UTF-8 text; expected a CSV file") from None
    windows = read_windows_csv(text, str(file), known_brands(settings, store),
                               parse_zone(tz) if tz else None)
    ids = store.add_outages([{**w.__dict__, "origin": "import"} for w in windows])
    click.echo(f"Imported {len(ids)} outage windows from {file}.")
    for brand in sorted({w.brand for w in windows}):
        _warn_overlaps(store, brand)


SHOWN_OVERLAPS = 20


def _warn_overlaps(store, brand):
    from analysis.windows import find_overlaps

    overlaps = find_overlaps(store.list_outages(brand), datetime.now(UTC))
    for first, second in overlaps[:SHOWN_OVERLAPS]:
        click.echo(f"Note: outage {first.id} ({printable(first.label)}) overlaps outage {second.id} "
                   f"({printable(second.label)}); both are kept.", err=True)
    if len(overlaps) > SHOWN_OVERLAPS:
        click.echo(f"Note: ... and {len(overlaps) - SHOWN_OVERLAPS} more windows of {brand} overlap an "
                   "earlier one (`dipwatch outages list`).", err=True)


@outages.command("list")
@store_options
@click.option("--brand", help="only this brand's windows")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table")
@handle_errors
def outages_list(db, config, brand, as_json):
    """List outage windows."""
    import json

    from dipwatch.measures import plain, resolve_brand

    settings, store = open_store(db, config)
    key = resolve_brand(settings, store, brand).key if brand else None
    rows = [{k: plain(v) for k, v in o.__dict__.items()} for o in store.list_outages(key)]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(f"{row['id']}\t{row['brand']}\t{row['start']}\t{row['end'] or 'ongoing'}\t"
                   f"{row['severity']}\t{row['origin']}\t{printable(row['label'])}")


@outages.command("remove")
@store_options
@click.argument("outage_id", type=int)
@handle_errors
def outages_remove(db, config, outage_id):
    """Remove outage window OUTAGE_ID."""
    _, store = open_store(db, config)
    if not store.remove_outage(outage_id):
        raise UsageFailure(f"OUTAGE_ID: no outage with id {outage_id} (see `dipwatch outages list`)")
    click.echo(f"Removed outage {outage_id}.")


# report and export --------------------------------------------------------------------------
def interval_options(func):
    """``--resamples`` and ``--seed`` of the bootstrap intervals (report and export)."""
    func = click.option("--seed", default=0, show_default=True, help="seed of the bootstrap (same seed, "
                        "same intervals)")(func)
    return click.option("--resamples", default=200, show_default=True, type=click.IntRange(0, 10_000),
                        help="bootstrap resamples for the intervals (0: no intervals)")(func)


def _intervals(view, store, settings, chosen, resamples: int, seed: int) -> dict[int, dict]:
    """Bootstrap intervals of the ``chosen`` outages, as plain values, by outage id."""
    from dataclasses import replace

    from dipwatch.measures_extra import interval_records
    from dipwatch.times import plain

    if not resamples or not chosen:
        return {}
    wanted = {m.outage_id for m in chosen}
    only = replace(view, metrics=[m for m in view.metrics if m.outage_id in wanted])
    records = interval_records(only, store, settings, resamples=resamples, seed=seed,
                               voice=view.params.one_author_one_voice)
    return {key: {k: plain(v) for k, v in record.items()} for key, record in records.items()}


def _view(db, config, brand, bucket=None):
    from analysis.sentiment import scorer_id
    from dipwatch.measures import brand_view, resolve_brand

    settings, store = open_store(db, config)
    if store.unscored(scorer_id(), limit=1):
        click.echo(f"Warning: some stored posts are not scored by the current scorer {scorer_id()} and "
                   "are left out; run `dipwatch score`.", err=True)
    chosen = resolve_brand(settings, store, brand)
    params = settings.metrics.with_bucket(bucket) if bucket else settings.metrics
    return store, brand_view(settings, store, chosen, params)


def _select(view, outage_id):
    if outage_id is None:
        return view.metrics
    chosen = [m for m in view.metrics if m.outage_id == outage_id]
    if not chosen:
        raise UsageFailure(f"--outage: brand {view.brand.key!r} has no outage {outage_id} "
                           "(see `dipwatch outages list`)")
    return chosen


@cli.command()
@store_options
@click.option("--brand", required=True)
@click.option("--outage", "outage_id", type=int, help="only this outage (default: all of the brand's)")
@click.option("--json", "as_json", is_flag=True, help="one JSON record per outage")
@click.option("--html", "as_html", is_flag=True,
              help="write a self-contained HTML incident report of one outage (default: the latest)")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="file for --html (default: dipwatch-BRAND-outage-ID.html)")
@interval_options
@handle_errors
def report(db, config, brand, outage_id, as_json, as_html, output, resamples, seed):
    """Dip and recovery figures of a brand's outages, with the competitor comparison."""
    import json

    from analysis.headline import headline
    from dipwatch.measures import comparison_record, competitor_comparisons, metrics_record, resolve_brand

    settings, store = open_store(db, config)
    if as_html:
        from dashboard.report import incident_report
        from dipwatch.output import atomic_output

        name, text = incident_report(settings, store, resolve_brand(settings, store, brand), outage_id,
                                     resamples=resamples, seed=seed)
        target = output or Path(name)
        with atomic_output(target) as fh:
            fh.write(text)
        click.echo(f"Wrote the incident report to {target}.")
        return
    _, view = _view(db, config, brand)
    chosen = _select(view, outage_id)
    intervals = _intervals(view, store, settings, chosen, resamples, seed)
    records = []
    for metrics in chosen:
        outage = next(o for o in view.outages if o.id == metrics.outage_id)
        records.append({**metrics_record(metrics), **intervals.get(metrics.outage_id, {}),
                        "headline": headline(metrics), "competitors": [
            comparison_record(c) for c in competitor_comparisons(settings, store, view, outage)]})
    if as_json:
        click.echo(json.dumps(records, indent=2))
        return
    if not chosen:
        click.echo(f"{view.brand.key}: no outage windows yet (add one with `dipwatch outages add`).")
    for record in records:
        click.echo(f"outage {record['outage_id']}: {printable(record['label'])} ({record['status']})")
        click.echo(f"  {printable(record['headline'])}")
        for key, value in record.items():
            if key not in {"outage_id", "label", "status", "headline", "competitors"}:
                click.echo(f"  {key:<24} {'' if value is None else printable(value)}")
        for comp in record["competitors"]:
            did = "n/a" if comp["did"] is None else f"{comp['did']:+.3f}"
            click.echo(f"  vs {comp['competitor']}: difference in differences {did}"
                       + (f" ({printable(comp['note'])})" if comp["note"] else ""))


@cli.command()
@store_options
@click.argument("kind", type=click.Choice(EXPORT_KINDS))
@click.option("--brand", required=True)
@click.option("--from", "start", help="first time included (ISO 8601 or a date, UTC)")
@click.option("--to", "end", help="first time excluded (ISO 8601 or a date, UTC)")
@click.option("--bucket", type=click.Choice(["15min", "1h", "1d"]), help="timeline bucket size")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]),
              help="default: parquet for -o FILE.parquet, otherwise csv")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
              help="file to write, '-' for standard output (the default for CSV); a FIFO or device is "
                   "written into, a symlink's target replaced")
@interval_options
@handle_errors
def export(db, config, kind, brand, start, end, bucket, fmt, output, resamples, seed):
    """Export a brand's posts, timeline or outage metrics as CSV or Parquet."""
    from analysis.export import write_csv, write_parquet
    from dipwatch.output import STDOUT, atomic_output

    start_at, end_at = parse_when(start, "--from"), parse_when(end, "--to")
    if start_at and end_at and end_at <= start_at:
        raise UsageFailure("--to: must be after --from")
    if fmt is None:
        fmt = "parquet" if output is not None and output.suffix.lower() == ".parquet" else "csv"
    to_stdout = output is None or str(output) == STDOUT
    if fmt == "parquet" and to_stdout and (output is None or sys.stdout.isatty()):
        raise UsageFailure("--format parquet: needs -o FILE, or -o - into a pipe (Parquet is binary)")
    columns, rows = _export_rows(db, config, kind, brand, start_at, end_at, bucket, resamples, seed)
    with atomic_output(output or STDOUT, binary=fmt == "parquet") as fh:
        if fmt == "csv":
            count = write_csv(columns, rows, fh)
        else:
            count = write_parquet(columns, rows, fh, _parquet_kinds(kind, columns))
    if not to_stdout:
        click.echo(f"Wrote {count} rows to {output}.", err=True)


def _export_rows(db, config, kind, brand, start, end, bucket, resamples=0, seed=0):
    from analysis.classifier import label_of
    from analysis.sentiment import classify, scorer_id
    from dipwatch.measures import load_series, metrics_record, plain, resolve_brand
    from dipwatch.store import from_epoch

    if kind == "posts":
        settings, store = open_store(db, config)
        key = resolve_brand(settings, store, brand).key

        def rows():
            for row in store.load_posts(key, scorer_id(), start, end):
                yield {**row, "created_at": plain(from_epoch(row["created_at"])),
                       "label": classify(row["compound"]),
                       "class": label_of(row["p_negative"], row["p_neutral"], row["p_positive"]),
                       **{p: round(row[p], 4) for p in ("p_negative", "p_neutral", "p_positive")}}
        return POST_COLUMNS, rows()
    if kind == "timeline":
        settings, store = open_store(db, config)
        chosen = resolve_brand(settings, store, brand)
        params = settings.metrics.with_bucket(bucket) if bucket else settings.metrics
        span = store.time_range(chosen.key)
        if span is None:
            return TIMELINE_COLUMNS, []
        series = load_series(store, chosen.key, params, start or span[0],
                             (end - params.bucket_delta) if end else span[1])
        rows = ({"bucket": plain(ts.to_pydatetime()), "posts": int(row["posts"]),
                 "negatives": int(row["negatives"]), "post_count": int(row["post_count"]),
                 "called_negative": int(row["called_negative"]),
                 **{c: _number(row[c]) for c in ("mean", "negative_share", "smoothed", "smoothed_lo",
                                                 "smoothed_hi", "share", "share_smoothed", "share_lo",
                                                 "share_hi")}}
                for ts, row in series.iterrows())
        return TIMELINE_COLUMNS, rows
    from analysis.recovery import OutageMetrics
    from dipwatch.measures_extra import INTERVAL_FIELDS

    settings, store = open_store(db, config)
    store, view = _view(db, config, brand, bucket)
    chosen = [m for m in view.metrics
              if (start is None or m.start >= start) and (end is None or m.start < end)]
    intervals = _intervals(view, store, settings, chosen, resamples, seed)
    records = [{**metrics_record(m), **intervals.get(m.outage_id, {})} for m in chosen]
    return list(OutageMetrics.__dataclass_fields__) + list(INTERVAL_FIELDS), records


def _parquet_kinds(kind: str, columns: list[str]) -> dict[str, str]:
    """Each export column's kind for Parquet (``analysis.export.PARQUET_KINDS``): times as UTC
    timestamps, and a type for every column, also one with no value in the export."""
    if kind == "posts":
        numbers = ("compound", "pos", "neu", "neg", "p_negative", "p_neutral", "p_positive")
        return {c: "time" if c == "created_at" else "int" if c in ("engagement", "rating")
                else "float" if c in numbers else "text" for c in columns}
    if kind == "timeline":
        counts = ("posts", "negatives", "post_count", "called_negative")
        return {c: "time" if c == "bucket" else "int" if c in counts else "float" for c in columns}
    from analysis.recovery import OutageMetrics

    declared = {f.name: str(f.type) for f in OutageMetrics.__dataclass_fields__.values()}

    def of(column: str) -> str:
        annotation = declared.get(column, "float | None")
        if "datetime" in annotation:
            return "time"
        if annotation.startswith("bool"):
            return "bool"
        if annotation.startswith("int") or column == "resamples":
            return "int"
        return "text" if annotation.startswith("str") else "float"

    return {c: of(c) for c in columns}


def _number(value):
    import math

    value = float(value)
    return None if math.isnan(value) else round(value, 4)


def _register_more() -> None:
    from dipwatch.commands import register_all

    register_all(cli, outages)


_register_more()


def main():
    cli(prog_name="dipwatch")


if __name__ == "__main__":
    main()
