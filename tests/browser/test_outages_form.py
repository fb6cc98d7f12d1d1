"""The Outages tab in a real headless Chromium: times entered in a chosen time zone, removing asks
first, and detection says when a candidate falls in a competitor's outage (issue 18, item 4)."""

from __future__ import annotations

import pytest

from dashboard import ids
from tests.browser.test_dashboard import open_page

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (CI installs it)")
expect = sync_api.expect
expect.set_options(timeout=20_000)


def test_times_in_a_chosen_zone_and_remove_asks_first(writable_server, page):
    served = writable_server
    p = open_page(page, served, "?tab=outages")
    rows = p.locator(f"#{ids.OUTAGES_TABLE} td[data-dash-column='label']")
    expect(rows).to_have_count(3)
    expect(p.locator(f"#{ids.OUTAGES_TABLE}")).not_to_contain_text("--tz")
    p.locator(f"#{ids.FORM_TZ}").click()
    p.locator(".dash-dropdown-search").fill("London")
    p.locator(".dash-dropdown-option", has_text="Europe/London").first.click()
    expect(p.locator(f"#{ids.FORM_TZ}")).to_contain_text("Europe/London")
    # 19:00 in London on 2 October is 18:00 UTC (summer time).
    p.locator(f"#{ids.FORM_START}").fill("2026-10-02 19:00")
    p.locator(f"#{ids.FORM_END}").fill("2026-10-02 22:00")
    p.locator(f"#{ids.FORM_LABEL}").fill("App login failing")
    p.locator(f"#{ids.FORM_ADD}").click()
    expect(p.locator(f"#{ids.FORM_MESSAGE}")).to_contain_text("Added window 5: App login failing")
    row = p.locator(f"#{ids.OUTAGES_TABLE} tr", has_text="App login failing")
    expect(row.locator("td[data-dash-column='start']")).to_have_text("02 Oct 2026 18:00 UTC")
    # Selected, it reads back in the chosen zone.
    row.locator("input").check()
    expect(p.locator(f"#{ids.FORM_START}")).to_have_value("2026-10-02 19:00")
    # Remove asks first, naming the window; Cancel keeps it.
    box = p.locator(f"#{ids.REMOVE_BOX}")
    expect(box).to_be_hidden()
    p.locator(f"#{ids.FORM_REMOVE}").click()
    expect(box).to_be_visible()
    expect(box).to_contain_text("Remove window 5, App login failing")
    p.locator(f"#{ids.REMOVE_NO}").click()
    expect(box).to_be_hidden()
    expect(rows).to_have_count(4)
    p.locator(f"#{ids.FORM_REMOVE}").click()
    p.locator(f"#{ids.REMOVE_YES}").click()
    expect(p.locator(f"#{ids.FORM_MESSAGE}")).to_contain_text("Removed window 5")
    expect(rows).to_have_count(3)
    expect(box).to_be_hidden()
    page.assert_clean(served)


def test_detected_candidates_in_a_competitors_outage_say_so(writable_server, page):
    served = writable_server
    p = open_page(page, served, "?brand=shopwell&tab=outages")
    expect(p.locator(f"#{ids.OUTAGES_TABLE} td[data-dash-column='label']")).to_have_count(1)
    p.locator(f"#{ids.FORM_DETECT}").click()
    message = p.locator(f"#{ids.FORM_MESSAGE}")
    # The demo's Shopwell mentions rise on Brightmart's outage days (people comparing the two).
    expect(message).to_contain_text("fall in an outage of Brightmart")
    labels = p.locator(f"#{ids.OUTAGES_TABLE} td[data-dash-column='label']")
    expect(labels.filter(has_text="coincides with Brightmart's outage").first).to_be_visible()
    shown = labels.all_inner_texts()
    assert any(t.startswith("detected:") and "coincides" not in t for t in shown), shown
    page.assert_clean(served)
