"""``dipwatch outages import-statuspage | detect | confirm``: outage windows from status pages and
from the posts themselves."""

from __future__ import annotations

from pathlib import Path

import click

from dipwatch.cli.main import UsageFailure, handle_errors, open_store, parse_when, store_options
from dipwatch.core.text import printable


def register(cli, outages) -> None:
    """Attach this module's commands to the ``outages`` group."""
    del cli
    outages.add_command(import_statuspage)
    outages.add_command(detect)
    outages.add_command(confirm)


@click.command("import-statuspage")
@store_options
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--brand", required=True, help="brand whose status page this is")
@handle_errors
def import_statuspage(db, config, file, brand):
    """Import incidents from a Statuspage v2 incidents.json or summary.json FILE as outage windows.

    Each incident is a window from its start to its resolution (open while unresolved), its impact
    the severity; importing the same incident again updates its window. All or nothing."""
    from analysis.statuspage import StatuspageError, parse_statuspage
    from analysis.windows import make_window
    from dipwatch.core.brands import known_brands

    settings, store = open_store(db, config)
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise StatuspageError(f"{file}: not UTF-8 text; expected Statuspage v2 JSON") from None
    incidents = parse_statuspage(text, str(file))
    known = known_brands(settings, store)
    rows = []
    for incident in incidents:
        window = make_window(brand, incident.start, incident.end, incident.label, incident.severity, known)
        rows.append({**window.__dict__, "origin": "statuspage", "external_id": incident.external_id,
                     "phases": [(p.status, p.at) for p in incident.phases]})
    results = store.upsert_outages(rows)
    added = sum(action == "added" for _, action in results)
    click.echo(f"Imported {len(results)} incidents from {file}: {added} new, "
               f"{len(results) - added} updated.")
    for (outage_id, action), incident in zip(results, incidents, strict=True):
        state = "ongoing" if incident.end is None else "resolved"
        click.echo(f"  {outage_id}\t{action}\t{incident.severity}\t{state}\t{printable(incident.label)}")


@click.command()
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
    from analysis.detect import DetectParams
    from dipwatch.measures import detect_candidates, resolve_brand

    settings, store = open_store(db, config)
    chosen = resolve_brand(settings, store, brand)
    start_at, end_at = parse_when(start, "--from"), parse_when(end, "--to")
    if start_at and end_at and end_at <= start_at:
        raise UsageFailure("--to: must be after --from")
    params = DetectParams()
    try:
        candidates = detect_candidates(store, chosen.key, params, start_at, end_at)
    except ValueError as exc:
        raise UsageFailure(f"--brand {chosen.key}: {exc}") from None
    known = [w for w in store.list_outages(chosen.key) if w.origin != "detected"]
    fresh = [c for c in candidates
             if not any(c.start < (w.end or c.end) and c.end > w.start for w in known)]
    rows = [{"brand": chosen.key, "start": c.start, "end": c.end, "severity": "unknown",
             "origin": "detected", "external_id": f"detected:{int(c.start.timestamp())}",
             "label": _label(c)} for c in fresh]
    results = store.upsert_outages(rows)
    click.echo(f"{chosen.key}: {len(candidates)} candidate windows; "
               f"{len(candidates) - len(fresh)} overlap known outages and were not stored.")
    for (outage_id, action), candidate in zip(results, fresh, strict=True):
        click.echo(f"  {outage_id}\t{action}\t{_plain(candidate.start)}\t{_plain(candidate.end)}\t"
                   f"score {candidate.score:.1f}\t{candidate.posts} posts (usual "
                   f"{candidate.expected_posts:.0f})")
    if fresh:
        click.echo("Check each one; `dipwatch outages confirm ID` makes it an outage, "
                   "`dipwatch outages remove ID` drops it.")


@click.command()
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


def _label(candidate) -> str:
    share = "" if candidate.negative_share is None else f", negative share {candidate.negative_share:.0%}"
    return (f"detected: {candidate.posts} posts vs usual {candidate.expected_posts:.0f}{share} "
            f"(score {candidate.score:.1f})")


def _plain(when) -> str:
    from dipwatch.core.times import plain

    return plain(when)
