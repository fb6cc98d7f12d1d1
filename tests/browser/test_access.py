"""Accessibility in a real headless Chromium: the keyboard alone reaches and operates the tabs and the
controls, and axe-core finds no serious or critical violation on any tab (issue 18, item 6).

axe-core is the npm package pinned in tests/browser/node/package.json; `.ci/run` installs it there
with `npm ci`. Locally: `npm ci --prefix tests/browser/node`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dashboard import ids
from dashboard.state import TABS
from tests.browser.test_dashboard import open_page, query

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (CI installs it)")
expect = sync_api.expect
expect.set_options(timeout=20_000)

AXE = Path(__file__).parent / "node" / "node_modules" / "axe-core" / "axe.min.js"
# What each tab shows once it has loaded (a tab is checked settled, not half drawn).
LOADED = {
    "overview": f"#{ids.CARDS} .metric-card",
    "timeline": f"#{ids.TIMELINE} .gtitle",
    "voices": f"#{ids.POSTS_TABLE} td",
    "outages": f"#{ids.OUTAGES_TABLE} td",
    "compare": f"#{ids.COMPARE_SHARE_GRAPH} .scatterlayer .trace",
}
MAX_TABS = 40  # Tab presses allowed to reach a control from the top of the page


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        reason = f"{AXE} is missing: run `npm ci --prefix tests/browser/node` (.ci/run does)"
        print(reason)
        pytest.skip(reason)
    return AXE.read_text(encoding="utf-8")


def settled(page, tab: str) -> None:
    expect(page.locator(LOADED[tab]).first).to_be_visible()
    expect(page.locator("[data-dash-is-loading='true']")).to_have_count(0)


def press_tab_until(page, selector: str) -> None:
    """Press Tab from where the focus is until it lands on ``selector``."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
    focused = page.evaluate("() => document.activeElement.outerHTML.slice(0, 200)")
    raise AssertionError(f"{MAX_TABS} presses of Tab never reached {selector}; focus is on {focused}")


def selected_tab(page) -> str:
    return page.locator(f"#{ids.TABS} [role=tab][aria-selected=true]").inner_text()


def test_keyboard_alone_opens_every_tab_and_operates_the_controls(server, page):
    p = open_page(page, server)
    settled(p, "overview")
    p.locator("body").focus()
    press_tab_until(p, f"#{ids.TABS} [role=tab]")
    assert selected_tab(p) == "Overview"
    # Arrows move between the tabs and open them; each tab's panel shows its own content.
    for name in ("timeline", "voices", "outages", "compare"):
        p.keyboard.press("ArrowRight")
        expect(p.locator(f"#{ids.TABS} [role=tab][aria-selected=true]")).to_have_text(TABS[name])
        settled(p, name)
        assert query(p)["tab"] == name
    p.keyboard.press("ArrowRight")  # wraps round to the first
    expect(p.locator(f"#{ids.TABS} [role=tab][aria-selected=true]")).to_have_text("Overview")
    expect(p.locator(LOADED["overview"]).first).to_be_visible()
    p.keyboard.press("End")
    expect(p.locator(f"#{ids.TABS} [role=tab][aria-selected=true]")).to_have_text("Compare")
    # Enter opens a tab too, and Tab goes on from the tab list into the panel.
    p.keyboard.press("Home")
    p.keyboard.press("ArrowRight")
    p.keyboard.press("Enter")
    expect(p.locator(f"#{ids.TABS} [role=tab][aria-selected=true]")).to_have_text("Timeline")
    # The chart: focused by Tab, a time step chosen with the arrows (its label shown and said in the
    # live region), opened in Voices with Enter, as a click opens it.
    press_tab_until(p, f"#{ids.TIMELINE}")
    p.keyboard.press("Home")
    p.keyboard.press("ArrowRight")
    expect(p.locator("#chart-live")).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d UTC: "))
    expect(p.locator(f"#{ids.TIMELINE} .hoverlayer .hovertext").first).to_be_visible()
    chosen = p.locator("#chart-live").inner_text().split(" UTC")[0]
    p.keyboard.press("Enter")
    expect(p.locator(f"#{ids.TABS} [role=tab][aria-selected=true]")).to_have_text("Voices")
    expect(p.locator(f"#{ids.POSTS_CAPTION}")).to_contain_text("from the time step")
    assert query(p)["at"] == chosen.replace(" ", "T") + "Z"
    p.go_back()  # to the Timeline, where the rest of the keyboard tour goes on
    expect(p.locator(f"#{ids.TABS} [role=tab][aria-selected=true]")).to_have_text("Timeline")
    p.locator(f"#{ids.TIMELINE}").focus()
    press_tab_until(p, f"#{ids.SERIES_DOWNLOAD_BUTTON}")

    # A dropdown: reached by Tab, opened by Enter, an option chosen with the arrows and Enter.
    p.locator("body").focus()
    press_tab_until(p, f"#{ids.PERIOD}")
    p.keyboard.press("Enter")
    expect(p.locator(".dash-dropdown-option").first).to_be_visible()
    p.wait_for_function("() => document.activeElement.matches('.dash-options-list-option-checkbox')")
    p.keyboard.press("ArrowDown")
    # Dash picks the option on Enter's keyup; a key held for no time at all is released after the
    # list has closed, so press it as a hand does.
    p.keyboard.press("Enter", delay=80)
    expect(p.locator(f"#{ids.PERIOD}")).not_to_contain_text("Around the outage")
    expect(p).to_have_url(re.compile(r"period="))
    # The time step: native radios, moved with the arrows.
    press_tab_until(p, f"#{ids.BUCKET} input[type=radio]")
    p.keyboard.press("ArrowRight")
    expect(p.locator(f"#{ids.BUCKET} input[value='1d']")).to_be_checked()
    expect(p).to_have_url(re.compile(r"bucket=1d"))
    page.assert_clean(server)


@pytest.mark.parametrize("tab", list(TABS))
def test_axe_finds_no_serious_or_critical_violation(server, page, axe_source, tab):
    p = open_page(page, server, f"?tab={tab}")
    settled(p, tab)
    p.add_script_tag(content=axe_source)
    violations = p.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ['violations']});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                            nodes: v.nodes.map(n => n.target.join(' '))}));
    }""")
    bad = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert bad == [], "\n".join(f"{v['impact']} {v['id']} ({v['help']}): {v['nodes'][:5]}" for v in bad)
    page.assert_clean(server)
