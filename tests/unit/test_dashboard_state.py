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
