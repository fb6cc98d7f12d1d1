"""A brand imported while the dashboard runs opens by its URL in a real browser, without a restart."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from dashboard import ids

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (CI installs it)")
expect = sync_api.expect

POSTS = """id,created_at,text
nc-1,2026-10-10T09:00:00Z,Newco checkout is down again
nc-2,2026-10-10T10:00:00Z,Newco site back up and working
"""


def test_a_brand_imported_while_the_dashboard_runs_opens_by_url(writable_server, page, tmp_path):
    from dipwatch.cli.main import cli

    p = page.page
    p.goto(writable_server.url + "/?brand=newco")
    # Not known yet: the page falls back to the first brand, and says so.
    expect(p.locator(f"#{ids.BRAND}")).to_contain_text("Brightmart", timeout=40_000)
    expect(p).to_have_url(re.compile(r"brand=brightmart"))
    expect(p.locator(f"#{ids.BRAND_NOTE}")).to_contain_text("names the brand 'newco'")

    posts = tmp_path / "newco.csv"
    posts.write_text(POSTS, encoding="utf-8")
    result = CliRunner().invoke(cli, ["import", str(posts), "--brand", "Newco",
                                      "--db", str(writable_server.db_path)], env={"DIPWATCH_CONFIG": ""})
    assert result.exit_code == 0, result.output

    p.goto(writable_server.url + "/?brand=newco")
    expect(p.locator(f"#{ids.BRAND}")).to_contain_text("Newco", timeout=40_000)
    expect(p).to_have_url(re.compile(r"brand=newco"))
    expect(p.locator(f"#{ids.BRAND_NOTE}")).to_be_empty()
    expect(p.locator(f"#{ids.FRESHNESS}")).to_contain_text("Posts imported from files")
    p.locator(f"#{ids.BRAND}").click()  # the dropdown lists it beside the brands of start-up
    expect(p.locator(".dash-dropdown-option", has_text="Newco")).to_have_count(1)
    expect(p.locator(".dash-dropdown-option", has_text="Shopwell")).to_have_count(1)
    page.assert_clean(writable_server)
