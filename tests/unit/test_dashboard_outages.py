"""The Outages tab's form on a real store: the CLI's validation, edit in place, remove, confirm."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from analysis.windows import WindowError
from dashboard import ids
from dashboard.callbacks.outages import apply_change
from dashboard.views import ViewCache
from dipwatch.core.config import Settings


@pytest.fixture
def views(sqlite_store, db_url):
    sqlite_store.ensure_brand("acme", "Acme", ["acme"], origin="import")
    return ViewCache(Settings(db_url=db_url), sqlite_store)


def change(store, views, action, start="2026-10-01T18:00:00Z", end="2026-10-01T21:00:00Z", label="site down",
           severity="major", chosen=None):
    return apply_change(store, views, action, "acme", start, end, label, severity, chosen)


def test_add_edit_remove(sqlite_store, views):
    assert change(sqlite_store, views, ids.FORM_ADD) == "Added window 1: site down."
    assert change(sqlite_store, views, ids.FORM_SAVE, end="", label="still down", chosen=1) == (
        "Saved window 1: still down.")
    (window,) = sqlite_store.list_outages("acme")
    assert (window.id, window.end, window.label, window.origin) == (1, None, "still down", "manual")
    assert window.start == datetime(2026, 10, 1, 18, tzinfo=UTC)
    added = change(sqlite_store, views, ids.FORM_ADD, start="2026-10-01T20:00:00Z", label="app down")
    assert added.startswith("Added window 2: app down. Note: it overlaps another window")
    assert change(sqlite_store, views, ids.FORM_REMOVE, chosen=1) == "Removed window 1."
    assert [w.id for w in sqlite_store.list_outages("acme")] == [2]


@pytest.mark.parametrize(("fields", "message"), [
    ({"start": "yesterday"}, "start"),
    ({"end": "2026-10-01T17:00:00Z"}, r"end: 2026-10-01T17:00:00\+00:00 is not after start"),
    ({"label": "  "}, "label: empty"),
    ({"severity": "apocalyptic"}, "severity: 'apocalyptic'"),
])
def test_the_cli_validation_names_the_field(sqlite_store, views, fields, message):
    with pytest.raises(WindowError, match=message):
        change(sqlite_store, views, ids.FORM_ADD, **fields)
    assert sqlite_store.list_outages("acme") == []


def test_confirm_only_detected_candidates_and_require_a_selection(sqlite_store, views):
    sqlite_store.upsert_outages([{"brand": "acme", "start": datetime(2026, 10, 2, tzinfo=UTC),
                                  "end": datetime(2026, 10, 2, 3, tzinfo=UTC), "label": "detected: 90 posts",
                                  "origin": "detected", "external_id": "detected:1"}])
    change(sqlite_store, views, ids.FORM_ADD)
    assert change(sqlite_store, views, ids.FORM_CONFIRM, chosen=1) == (
        "Confirmed window 1: it now counts as an outage.")
    with pytest.raises(ValueError, match="window 2 is not a detected candidate"):
        change(sqlite_store, views, ids.FORM_CONFIRM, chosen=2)
    with pytest.raises(ValueError, match="select a window in the table first"):
        change(sqlite_store, views, ids.FORM_REMOVE)
