"""Outages: the table of a brand's windows with their figures; add, edit, remove and confirm windows,
and detect candidates, with the CLI's validation (``analysis.windows.make_window``)."""

from __future__ import annotations

from datetime import UTC, datetime

from dash import Input, Output, State, ctx, no_update

from dashboard import ids
from dashboard.callbacks.downloads import csv_download
from dashboard.layout import render_message
from dashboard.tables import OUTAGE_COLUMNS, outage_rows
from dipwatch.core.brands import related_brands
from dipwatch.core.times import parse_zone


def register(app, store, views) -> None:

    @app.callback(
        Output(ids.OUTAGES_DATA, "data"), Output(ids.OUTAGES_DATA, "selected_rows"),
        Input(ids.BRAND, "value"), Input(ids.BUCKET, "value"), Input(ids.DATA_VERSION, "data"),
        Input(ids.TABS, "value"),
    )
    def show_outages(brand_key, bucket, _version, tab):
        if tab is not None and tab != "outages":  # built when its tab opens
            return no_update, no_update
        if not brand_key:
            return [], []
        view = views.view(brand_key, bucket or "1h")
        return outage_rows(store.list_outages(brand_key), {m.outage_id: m for m in view.metrics}), []

    @app.callback(
        Output(ids.FORM_START, "value"), Output(ids.FORM_END, "value"), Output(ids.FORM_LABEL, "value"),
        Output(ids.FORM_SEVERITY, "value"),
        Input(ids.OUTAGES_DATA, "selected_rows"), State(ids.OUTAGES_DATA, "data"),
        State(ids.FORM_TZ, "value"),
        prevent_initial_call=True,
    )
    def fill_form(selected, rows, zone):
        window = store.get_outage(rows[selected[0]]["id"]) if selected and rows and selected[0] < len(rows) \
            else None
        if window is None:  # nothing selected (the table was refreshed): an empty form for a new window
            return "", "", "", "unknown"
        return (_local(window.start, zone), _local(window.end, zone) if window.end else "", window.label,
                window.severity)

    @app.callback(
        Output(ids.FORM_MESSAGE, "children"), Output(ids.DATA_VERSION, "data"),
        Input(ids.FORM_ADD, "n_clicks"), Input(ids.FORM_SAVE, "n_clicks"), Input(ids.FORM_REMOVE, "n_clicks"),
        Input(ids.REMOVE_YES, "n_clicks"), Input(ids.FORM_CONFIRM, "n_clicks"),
        Input(ids.FORM_DETECT, "n_clicks"),
        State(ids.BRAND, "value"), State(ids.FORM_START, "value"), State(ids.FORM_END, "value"),
        State(ids.FORM_LABEL, "value"), State(ids.FORM_SEVERITY, "value"), State(ids.FORM_TZ, "value"),
        State(ids.OUTAGES_DATA, "selected_rows"), State(ids.OUTAGES_DATA, "data"),
        State(ids.DATA_VERSION, "data"),
        prevent_initial_call=True,
    )
    def change_outages(_add, _save, _remove, _yes, _confirm, _detect, brand_key, start, end, label, severity,
                       zone, selected, rows, version):
        action = ctx.triggered_id
        chosen = rows[selected[0]]["id"] if selected and rows and selected[0] < len(rows) else None
        try:
            text = apply_change(store, views, action, brand_key, start, end, label, severity, chosen, zone)
        except ValueError as exc:
            return render_message(str(exc)), no_update
        if text is None:  # asked, not done: "Remove selected" waits for its confirmation
            return None, no_update
        return render_message(text, ok=True), (version or 0) + 1

    @app.callback(
        Output(ids.REMOVE_BOX, "hidden"), Output(ids.REMOVE_QUESTION, "children"),
        Input(ids.FORM_REMOVE, "n_clicks"), Input(ids.REMOVE_NO, "n_clicks"), Input(ids.DATA_VERSION, "data"),
        Input(ids.OUTAGES_DATA, "selected_rows"), State(ids.OUTAGES_DATA, "data"),
        prevent_initial_call=True,
    )
    def ask_to_remove(_remove, _cancel, _version, selected, rows):
        """Removing a window cannot be undone: it waits for "Yes, remove it", naming the window."""
        row = rows[selected[0]] if selected and rows and selected[0] < len(rows) else None
        if ctx.triggered_id != ids.FORM_REMOVE or row is None:
            return True, None
        return False, (f"Remove window {row['id']}, {row.get('label')!s} ({row.get('start')}), for good? "
                       "Its figures go with it; this cannot be undone.")

    @app.callback(
        Output(ids.OUTAGES_DOWNLOAD, "data"),
        Input(ids.OUTAGES_DOWNLOAD_BUTTON, "n_clicks"), State(ids.BRAND, "value"), State(ids.BUCKET, "value"),
        prevent_initial_call=True,
    )
    def download_outages(_clicks, brand_key, bucket):
        view = views.view(brand_key, bucket or "1h")
        rows = outage_rows(store.list_outages(brand_key), {m.outage_id: m for m in view.metrics})
        return csv_download(OUTAGE_COLUMNS, rows, f"dipwatch-{brand_key}-outages.csv")


def _local(when: datetime, zone: str | None) -> str:
    """``2026-10-01 19:00`` in ``zone`` (UTC when unknown), as the form reads it back."""
    return when.astimezone(_zone(zone)).strftime("%Y-%m-%d %H:%M")


def _zone(name: str | None):
    """The zone to show times in; UTC for one it does not know (saving refuses that, see apply_change)."""
    try:
        return parse_zone(name or "UTC")
    except ValueError:
        return UTC


def apply_change(store, views, action: str, brand_key: str, start, end, label, severity,
                 chosen: int | None, zone: str | None = "UTC") -> str | None:
    """Carry out one button of the outage form; return what was done (None: nothing yet).

    :param zone: the time zone of start and end when they carry no offset (an IANA name).
    :raises ValueError: (a :class:`analysis.windows.WindowError` for bad fields) naming what is wrong.
    """
    from analysis.windows import find_overlaps, make_window

    if not brand_key:
        raise ValueError("brand: choose a brand first")
    if action in (ids.FORM_SAVE, ids.FORM_REMOVE, ids.REMOVE_YES, ids.FORM_CONFIRM) and chosen is None:
        raise ValueError("select a window in the table first")
    if action == ids.FORM_DETECT:
        return _detect(store, views, brand_key)
    if action == ids.FORM_REMOVE:
        return None  # the confirmation (see ask_to_remove) removes it
    if action == ids.REMOVE_YES:
        store.remove_outage(chosen)
        return f"Removed window {chosen}."
    if action == ids.FORM_CONFIRM:
        outage = store.confirm_outage(chosen)
        if outage is None or outage.origin != "confirmed":
            raise ValueError(f"window {chosen} is not a detected candidate; nothing to confirm")
        return f"Confirmed window {chosen}: it now counts as an outage."
    window = make_window(brand_key, (start or "").strip(), end, label, severity, views.brands(),
                         parse_zone(zone or "UTC"))
    if action == ids.FORM_SAVE:
        store.update_outage(chosen, window)
        done = f"Saved window {chosen}: {window.label}."
    else:
        (new_id,) = store.add_outages([{**window.__dict__, "origin": "manual"}])
        done = f"Added window {new_id}: {window.label}."
    overlaps = find_overlaps(store.list_outages(brand_key), datetime.now(UTC))
    if overlaps:
        first, second = overlaps[0]
        done += f" Note: it overlaps another window ({first.label} / {second.label})."
    return done


def _detect(store, views, brand_key: str) -> str:
    """Store detected candidate windows as ``dipwatch outages detect`` does (origin ``detected``);
    a candidate that falls in a related brand's outage says so in its label."""
    from dipwatch.measures import plan_detection

    brands = views.brands()
    plan = plan_detection(store, brand_key, brands)
    store.upsert_outages(plan.rows)
    candidates, fresh = plan.candidates, plan.fresh
    text = (f"{len(candidates)} candidate windows found; {len(fresh)} new or updated, "
            f"{len(candidates) - len(fresh)} overlap known outages.")
    if plan.coincides:
        related = sorted(related_brands(brands, brand_key))
        names = ", ".join(brands[k].name if k in brands else k for k in related)
        text += (f" {len(plan.coincides)} of the new fall in an outage of {names}: likely people "
                 "comparing the brands rather than an outage here; check before confirming.")
    return text
