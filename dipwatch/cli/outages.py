"""``dipwatch outages add | import | import-statuspage | detect | confirm | list | remove``: the
outage windows every figure is measured against."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from dipwatch.cli.options import UsageFailure, handle_errors, open_store, parse_when, store_options
from dipwatch.core.text import printable

SHOWN_OVERLAPS = 20


@click.group()
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
    from dipwatch.core.times import parse_zone
    from dipwatch.jobs.outages import add_window

    settings, store = open_store(db, config)
    outage_id, window = add_window(settings, store, brand, start, end, label, severity,
                                   parse_zone(tz) if tz else None)
    click.echo(f"Added outage {outage_id}: {window.brand} {printable(window.label)}")
    _warn_overlaps(store, window.brand)


@outages.command("import")
@store_options
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--tz", "tz", help="time zone of times given without an offset")
@handle_errors
def outages_import(db, config, file, tz):
    """Import outage windows from a CSV FILE (brand,start,end,label[,severity]); all or nothing."""
    from dipwatch.core.times import parse_zone
    from dipwatch.jobs.outages import import_windows

    settings, store = open_store(db, config)
    ids, windows = import_windows(settings, store, file, parse_zone(tz) if tz else None)
    click.echo(f"Imported {len(ids)} outage windows from {file}.")
    for brand in sorted({w.brand for w in windows}):
        _warn_overlaps(store, brand)


def _warn_overlaps(store, brand):
    from analysis.windows import find_overlaps

    overlaps = find_overlaps(store.list_outages(brand), datetime.now(UTC))
    for first, second in overlaps[:SHOWN_OVERLAPS]:
        click.echo(f"Note: outage {first.id} ({printable(first.label)}) overlaps outage {second.id} "
                   f"({printable(second.label)}); both are kept.", err=True)
    if len(overlaps) > SHOWN_OVERLAPS:
        click.echo(f"Note: ... and {len(overlaps) - SHOWN_OVERLAPS} more windows of {brand} overlap an "
                   "earlier one (`dipwatch outages list`).", err=True)


@outages.command("import-statuspage")
@store_options
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--brand", required=True, help="brand whose status page this is")
@handle_errors
def import_statuspage(db, config, file, brand):
    """Import incidents from a Statuspage v2 incidents.json or summary.json FILE as outage windows.

    Each incident is a window from its start to its resolution (open while unresolved), its impact
    the severity; importing the same incident again updates its window. All or nothing."""
    from dipwatch.jobs.outages import import_statuspage as store_incidents

    settings, store = open_store(db, config)
    results, incidents = store_incidents(settings, store, file, brand)
    added = sum(action == "added" for _, action in results)
    click.echo(f"Imported {len(results)} incidents from {file}: {added} new, "
               f"{len(results) - added} updated.")
    for (outage_id, action), incident in zip(results, incidents, strict=True):
        state = "ongoing" if incident.end is None else "resolved"
        click.echo(f"  {outage_id}\t{action}\t{incident.severity}\t{state}\t{printable(incident.label)}")


@outages.command()
@store_options
@click.option("--brand", required=True)
@click.option("--from", "start", help="first time scored (ISO 8601 or a date, UTC); history before it is "
                                      "still the baseline")
@click.option("--to", "end", help="first time not scored (ISO 8601 or a date, UTC)")
@handle_errors
def detect(db, config, brand, start, end):
    """Propose outage windows where mention volume rises well above the brand's usual level for that
    hour of the week and the negative share does not fall.

    Candidates are stored with origin 'detected' and count as outages only once confirmed
    (`dipwatch outages confirm ID`); running again updates them."""
    from dipwatch.core.brands import known_brands
    from dipwatch.core.times import plain
    from dipwatch.jobs.outages import detect_into_store
    from dipwatch.measures import resolve_brand

    settings, store = open_store(db, config)
    chosen = resolve_brand(settings, store, brand)
    start_at, end_at = parse_when(start, "--from"), parse_when(end, "--to")
    if start_at and end_at and end_at <= start_at:
        raise UsageFailure("--to: must be after --from")
    try:
        found = detect_into_store(store, chosen.key, start_at, end_at,
                                  brands=known_brands(settings, store))
    except ValueError as exc:
        raise UsageFailure(f"--brand {chosen.key}: {exc}") from None
    candidates, fresh = found.candidates, found.fresh
    click.echo(f"{chosen.key}: {len(candidates)} candidate windows; "
               f"{len(candidates) - len(fresh)} overlap known outages and were not stored.")
    for (outage_id, action), candidate in zip(found.results, fresh, strict=True):
        click.echo(f"  {outage_id}\t{action}\t{plain(candidate.start)}\t{plain(candidate.end)}\t"
                   f"score {candidate.score:.1f}\t{candidate.posts} posts (usual "
                   f"{candidate.expected_posts:.0f})"
                   + (f"\tcoincides with {found.coincides[candidate.start]}"
                      if candidate.start in found.coincides else ""))
    if found.coincides:
        click.echo(f"{len(found.coincides)} of them fall in an outage of a related brand: likely people "
                   "comparing the brands rather than an outage here.")
    if fresh:
        click.echo("Check each one; `dipwatch outages confirm ID` makes it an outage, "
                   "`dipwatch outages remove ID` drops it.")


@outages.command()
@store_options
@click.argument("outage_id", type=int)
@handle_errors
def confirm(db, config, outage_id):
    """Confirm detected candidate OUTAGE_ID as an outage (it then counts in reports and exports)."""
    _, store = open_store(db, config)
    outage = store.confirm_outage(outage_id)
    if outage is None:
        raise UsageFailure(f"OUTAGE_ID: no outage with id {outage_id} (see `dipwatch outages list`)")
    if outage.origin != "confirmed":
        raise UsageFailure(f"OUTAGE_ID: outage {outage_id} is not a detected candidate (origin "
                           f"{outage.origin}); nothing to confirm")
    click.echo(f"Confirmed outage {outage_id}: {outage.brand} {printable(outage.label)}")


@outages.command("list")
@store_options
@click.option("--brand", help="only this brand's windows")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table")
@handle_errors
def outages_list(db, config, brand, as_json):
    """List outage windows."""
    import json

    from dipwatch.core.times import plain
    from dipwatch.measures import resolve_brand

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
