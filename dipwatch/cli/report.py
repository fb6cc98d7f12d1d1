"""``dipwatch report`` and ``dipwatch export``: a brand's dip and recovery figures, its posts and its
timeline, on the terminal, as JSON, as an HTML incident report, as CSV or Parquet."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from dipwatch.cli.options import (
    UsageFailure,
    handle_errors,
    interval_options,
    open_store,
    parse_when,
    store_options,
)
from dipwatch.core.conventions import BUCKETS
from dipwatch.core.text import printable

EXPORT_KINDS = ("posts", "timeline", "outages")


def _warn_unscored(store) -> None:
    from analysis.sentiment import scorer_id

    if store.unscored(scorer_id(), limit=1):
        click.echo(f"Warning: some stored posts are not scored by the current scorer {scorer_id()} and "
                   "are left out; run `dipwatch score`.", err=True)


def _select(view, outage_id):
    if outage_id is None:
        return view.metrics
    chosen = [m for m in view.metrics if m.outage_id == outage_id]
    if not chosen:
        raise UsageFailure(f"--outage: brand {view.brand.key!r} has no outage {outage_id} "
                           "(see `dipwatch outages list`)")
    return chosen


@click.command()
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
    from dipwatch.jobs.export import outage_intervals
    from dipwatch.measures import (
        brand_view,
        comparison_record,
        competitor_comparisons,
        metrics_record,
        resolve_brand,
    )

    settings, store = open_store(db, config)
    if as_html:
        from dashboard.report import incident_report
        from dipwatch.jobs.output import atomic_output

        name, text = incident_report(settings, store, resolve_brand(settings, store, brand), outage_id,
                                     resamples=resamples, seed=seed)
        target = output or Path(name)
        with atomic_output(target) as fh:
            fh.write(text)
        click.echo(f"Wrote the incident report to {target}.")
        return
    _warn_unscored(store)
    view = brand_view(settings, store, resolve_brand(settings, store, brand), settings.metrics)
    chosen = _select(view, outage_id)
    intervals = outage_intervals(view, store, settings, chosen, resamples, seed)
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


@click.command()
@store_options
@click.argument("kind", type=click.Choice(EXPORT_KINDS))
@click.option("--brand", required=True)
@click.option("--from", "start", help="first time included (ISO 8601 or a date, UTC)")
@click.option("--to", "end", help="first time excluded (ISO 8601 or a date, UTC)")
@click.option("--bucket", type=click.Choice(list(BUCKETS)), help="timeline bucket size")
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
    from dipwatch.jobs.export import export_rows, parquet_kinds
    from dipwatch.jobs.output import STDOUT, atomic_output

    start_at, end_at = parse_when(start, "--from"), parse_when(end, "--to")
    if start_at and end_at and end_at <= start_at:
        raise UsageFailure("--to: must be after --from")
    if fmt is None:
        fmt = "parquet" if output is not None and output.suffix.lower() == ".parquet" else "csv"
    to_stdout = output is None or str(output) == STDOUT
    if fmt == "parquet" and to_stdout and (output is None or sys.stdout.isatty()):
        raise UsageFailure("--format parquet: needs -o FILE, or -o - into a pipe (Parquet is binary)")
    settings, store = open_store(db, config)
    if kind == "outages":
        _warn_unscored(store)
    columns, rows = export_rows(settings, store, kind, brand, start_at, end_at, bucket, resamples, seed)
    with atomic_output(output or STDOUT, binary=fmt == "parquet") as fh:
        if fmt == "csv":
            count = write_csv(columns, rows, fh)
        else:
            count = write_parquet(columns, rows, fh, parquet_kinds(kind, columns))
    if not to_stdout:
        click.echo(f"Wrote {count} rows to {output}.", err=True)
