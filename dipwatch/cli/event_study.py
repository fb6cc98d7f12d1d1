"""``dipwatch event-study``: a brand's (or several brands') outages aligned at their start."""

from __future__ import annotations

import click

from dipwatch.cli.options import UsageFailure, handle_errors, interval_options, open_store, store_options
from dipwatch.core.text import printable


@click.command("event-study")
@store_options
@click.option("--brand", "brand_names", multiple=True, required=True, help="brand whose outages to align "
              "(repeatable: several brands' outages are pooled)")
@click.option("--hours", default=72, show_default=True, type=click.IntRange(1, 24 * 30),
              help="hours from each outage's start")
@click.option("--json", "as_json", is_flag=True, help="JSON with the outages used, the skipped ones and "
              "one row per hour")
@click.option("--csv", "as_csv", is_flag=True, help="CSV rows: hour, mean_abnormal, lo, hi, outages")
@interval_options
@handle_errors
def event_study_command(db, config, brand_names, hours, as_json, as_csv, resamples, seed):
    """Mean abnormal sentiment by hour from the start of every confirmed outage of the brands.

    Abnormal sentiment is an outage's smoothed sentiment minus its own baseline mean; the mean at
    each hour is over the outages with posts then (column 'outages'), and lo/hi are a seeded 95%
    bootstrap interval that resamples whole outages. Outages without a baseline are left out (listed
    on standard error)."""
    import json
    import sys

    from analysis.event_study import STUDY_COLUMNS, event_study
    from dipwatch.core.times import plain
    from dipwatch.measures import event_items, resolve_brand

    if as_json and as_csv:
        raise UsageFailure("--json and --csv: choose one")
    settings, store = open_store(db, config)
    keys = list(dict.fromkeys(resolve_brand(settings, store, name).key for name in brand_names))
    items, skipped = event_items(settings, store, keys)
    for record in skipped:
        label = printable(record["label"])
        click.echo(f"Note: left out outage {record['outage_id']} ({record['brand']}: {label}): "
                   f"{record['reason']}.", err=True)
    study = event_study(items, settings.metrics.with_bucket("1h"), hours=hours, resamples=resamples,
                        seed=seed)
    rows = [{c: _value(row[c]) for c in STUDY_COLUMNS} for row in study.to_dict("records")]
    if as_csv:
        from analysis.export import write_csv

        write_csv(STUDY_COLUMNS, rows, sys.stdout)
        return
    if as_json:
        used = [{"outage_id": w.id, "brand": w.brand, "label": w.label, "start": plain(w.start),
                 "baseline_mean": plain(float(b))} for w, _, b in items]
        click.echo(json.dumps({"brands": keys, "hours": hours, "resamples": resamples, "seed": seed,
                               "outages": used, "skipped": skipped, "rows": rows}, indent=2))
        return
    if not items:
        click.echo(f"{', '.join(keys)}: no confirmed outages with a baseline to align.")
        return
    click.echo(f"Event study of {len(items)} outages ({', '.join(keys)}): smoothed sentiment minus each "
               f"outage's baseline mean, by hour from start; 95% interval over outages.")
    click.echo(f"{'hour':>4}  {'mean':>7}  {'lo':>7}  {'hi':>7}  outages")
    for row in rows:
        click.echo(f"{row['hour']:>4}  {_cell(row['mean_abnormal'])}  {_cell(row['lo'])}  "
                   f"{_cell(row['hi'])}  {row['outages']:>7}")


def _value(value):
    """Plain JSON/CSV value: ints stay ints, floats rounded to 4 places (-0.0 shown as 0.0, since a
    baseline mean of 24 equal scores can differ from each of them in the last bit), NaN becomes None."""
    import math

    if isinstance(value, int):
        return value
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 4) + 0.0
    return value


def _cell(value) -> str:
    return f"{'':>7}" if value is None else f"{value:>+7.3f}"
