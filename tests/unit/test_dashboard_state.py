"""The view's state in the URL: parsed leniently, built without defaults, resolved to what exists."""

from __future__ import annotations

import pytest

from dashboard.state import ViewState, build_search, parse_state, resolve_state


def test_a_full_link_round_trips():
    state = ViewState(brand="shopwell", outage=4, period="all", bucket="1d", tab="timeline")
    search = build_search(state)
    assert search == "?brand=shopwell&outage=4&period=all&bucket=1d&tab=timeline"
    assert parse_state(search) == state


def test_voices_filters_and_clicked_step_round_trip():
    state = ViewState(brand="brightmart", outage=3, tab="voices", label="negative", search="refund me",
                      at="2026-10-17T14:00Z")
    search = build_search(state)
    assert search == ("?brand=brightmart&outage=3&tab=voices&label=negative&q=refund+me"
                      "&at=2026-10-17T14%3A00Z")
    assert parse_state(search) == state
    # A time with an offset is read as UTC; anything else is no clicked step, an unknown class all.
    assert parse_state("?at=2026-10-17T16:00:00%2B02:00&label=angry").at == "2026-10-17T14:00Z"
    assert parse_state("?at=yesterday&label=angry") == ViewState()


def test_defaults_are_left_out_of_the_link():
    assert build_search(ViewState(brand="brightmart", outage=3)) == "?brand=brightmart&outage=3"
    assert build_search(ViewState()) == ""


@pytest.mark.parametrize(("search", "expected"), [
    ("", ViewState()),
    (None, ViewState()),
    ("brand=BrightMart&outage=3", ViewState(brand="brightmart", outage=3)),  # an alert's link, without "?"
    ("?outage=abc&bucket=2h&tab=admin&period=1y", ViewState()),  # unknown values fall back
    ("?brand=&outage=-1", ViewState()),
    ("?brand=a&brand=b", ViewState(brand="a")),
])
def test_parsing_never_fails(search, expected):
    assert parse_state(search) == expected


def test_resolve_keeps_a_valid_choice_and_replaces_an_invalid_one():
    outages = {"brightmart": [1, 2, 3], "shopwell": [4]}

    def resolve(state):
        return resolve_state(state, ["brightmart", "shopwell"], outages.__getitem__,
                             lambda brand: max(outages[brand]))

    assert resolve(ViewState(brand="shopwell", outage=4)) == ViewState(brand="shopwell", outage=4)
    # Another brand's outage, or none: the brand's latest.
    assert resolve(ViewState(brand="brightmart", outage=4)) == ViewState(brand="brightmart", outage=3)
    # An unknown brand: the first brand.
    assert resolve(ViewState(brand="nosuch", outage=4, tab="voices")) == ViewState(
        brand="brightmart", outage=3, tab="voices")
    assert resolve_state(ViewState(brand="x", outage=1), [], None, None) == ViewState()


@pytest.mark.parametrize(("referer", "expected"), [
    ("http://127.0.0.1:8050/?brand=shopwell&outage=4#x",
     ("http://127.0.0.1:8050/?brand=shopwell&outage=4", "?brand=shopwell&outage=4")),
    ("https://dash.example/", ("https://dash.example/", "")),  # the bare page, or a Referer cut to the origin
    (None, None),  # no Referer: a Referrer-Policy of no-referrer
    ("", None),
    ("http://[::1/?brand=x", None),  # malformed: no address, not an error
    ("http://127.0.0.1:8050/other/?brand=x", None),  # not the dashboard's page
    ("/?brand=x", None),  # not a whole address
])
def test_the_page_address_is_read_from_the_referer_or_not_at_all(referer, expected):
    from dashboard.app import page_address
    from dashboard.layout import Landing

    href = page_address(referer, "/")
    assert (href, Landing(href=href).address) == (expected or (None, None))


def test_a_layout_asked_for_by_a_page_is_built_for_its_address(tmp_path):
    # The page's controls are set from its address (through its Referer) as sync_state would set
    # them, so its callbacks ask for that view at once; without a Referer the page reads it itself.
    import json

    from dashboard.app import create_app
    from dipwatch.core.config import Settings
    from dipwatch.jobs.demo import build_demo
    from dipwatch.store import Store

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    with Store(url) as store:
        build_demo(store)
        app = create_app(Settings(db_url=url), store, env={})
        client = app.server.test_client()

        def layout(referer=None) -> dict:
            response = client.get("/_dash-layout", headers={"Referer": referer} if referer else {})
            assert response.headers["Cache-Control"] == "no-store"
            assert "Referer" in response.headers["Vary"]
            found = {}

            def walk(node):
                if isinstance(node, dict):
                    props = node.get("props", {})
                    if "id" in props:
                        found[props["id"]] = props
                    for value in props.values():
                        walk(value)
                elif isinstance(node, list):
                    for item in node:
                        walk(item)
            walk(json.loads(response.data))
            return found

        opened = layout("http://127.0.0.1:8050/?brand=SHOPWELL&bucket=1d&tab=voices&label=negative&q=down")
        assert (opened["brand-dropdown"]["value"], opened["bucket-radio"]["value"], opened["tabs"]["value"],
                opened["voices-label"]["value"], opened["posts-search"]["value"]) == \
            ("shopwell", "1d", "voices", "negative", "down")
        outage = opened["outage-dropdown"]["value"]
        assert outage in [o["value"] for o in opened["outage-dropdown"]["options"]]
        assert opened["landing"]["data"] == {
            "address": "?brand=SHOPWELL&bucket=1d&tab=voices&label=negative&q=down",
            "search": f"?brand=shopwell&outage={outage}&bucket=1d&tab=voices&label=negative&q=down"}
        assert opened["url"]["search"] == opened["landing"]["data"]["search"]
        # A brand the database does not hold: the default one, and the page says so.
        unknown = layout("http://127.0.0.1:8050/?brand=nosuch")
        assert unknown["brand-dropdown"]["value"] == "brightmart"
        assert "nosuch" in unknown["brand-note"]["children"]
        # No Referer: the defaults, and the page is told the layout was not built for its address.
        blind = layout()
        assert blind["landing"].get("data") is None
        assert "search" not in blind["url"]
        # The brand a page opens on is measured while the browser loads the page's scripts.
        import threading

        for thread in threading.enumerate():
            if thread.name.startswith("prefetch-"):
                thread.join(30)
        kept = {key[1] for key in app.server.config["DIPWATCH_VIEWS"]._items if key[0] == "view"}
        assert {"shopwell", "brightmart"} <= kept


def test_the_tabs_back_selects_are_the_pages_tabs_in_order():
    # assets/history.js selects a tab by its place in the tab list on Back; the list must be TABS.
    import json
    import re
    from pathlib import Path

    from dashboard.state import TABS

    script = (Path(__file__).resolve().parents[2] / "dashboard" / "assets" / "history.js").read_text()
    listed = re.search(r"var TABS = (\[[^\]]*\]);", script)
    assert listed is not None
    assert json.loads(listed.group(1)) == list(TABS)
