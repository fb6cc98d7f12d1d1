"""``dipwatch demo`` and ``dipwatch dashboard``: serve the dashboard (on the demo database or the store)."""

from __future__ import annotations

from pathlib import Path

import click

from dipwatch.cli.options import handle_errors, open_store, store_options


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--port", default=8050, show_default=True, type=click.IntRange(1, 65535))
@click.option("--db", "db", default=str(Path("data") / "demo.db"), show_default=True,
              help="where the demo database is built (reused when it exists)")
@click.option("--rebuild", is_flag=True, help="rebuild the demo database from the scenario")
@click.option("--no-serve", is_flag=True, help="build the demo database and exit")
@handle_errors
def demo(host, port, db, rebuild, no_serve):
    """Build the demo database (simulated posts) and serve the dashboard on it."""
    from dipwatch.jobs.demo import build_demo, open_demo

    path = Path(db)
    settings, store, empty = open_demo(path, rebuild)
    if empty:
        click.echo(f"Building the demo database {path} (simulated posts; takes a few seconds)...")
        count = build_demo(store)
        click.echo(f"Stored {count} simulated posts.")
    else:
        click.echo(f"Reusing the demo database {path} (--rebuild to start again).")
    if no_serve:
        return
    _serve(settings, store, host, port)


@click.command()
@store_options
@click.option("--host", default="127.0.0.1", show_default=True,
              help="address to listen on (0.0.0.0 exposes it to your network)")
@click.option("--port", default=8050, show_default=True, type=click.IntRange(1, 65535))
@handle_errors
def dashboard(db, config, host, port):
    """Serve the dashboard on the store."""
    settings, store = open_store(db, config)
    _serve(settings, store, host, port)


def score_stale(store) -> None:
    """Score posts the current scorer has not scored (after an upgrade changed the lexicon), so the
    dashboard never shows an empty chart over a full database."""
    from analysis.sentiment import scorer_id
    from dipwatch.jobs.ingest import score_missing

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
        score_stale(store)
    app = create_app(settings, store, hosts=[host])
    settle()
    click.echo(f"dipwatch dashboard: http://{host}:{port}/  (Ctrl+C to stop)")
    app.run(host=host, port=port, debug=False)
