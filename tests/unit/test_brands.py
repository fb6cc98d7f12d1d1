"""Brand matching: case-insensitive, on word boundaries, with exclusions and the configured spelling."""

from __future__ import annotations

import pytest

from dipwatch.core.brands import Brand, brand_from_name, normalise_brand_name

NEXT = Brand(key="next", name="Next", terms=("Next",))
MS = Brand(key="ms", name="M&S", terms=("M&S", "Marks & Spencer", "Marks and Spencer", "marksandspencer"))
ACME = Brand(key="acme", name="Acme", terms=("Acme", "Acme Retail", "acme.com"), exclude=("acme anvil",))


@pytest.mark.parametrize("text", ["nextdoor is noisy", "the nexthop router", "UNEXT is a streamer"])
def test_term_does_not_match_inside_another_word(text):
    assert NEXT.match(text) is None


@pytest.mark.parametrize("text", ["NEXT app is down", "next.co.uk won't load", "Next week", "#Next"])
def test_term_matches_any_case_on_word_boundaries(text):
    assert NEXT.match(text) == "Next"


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("queued at M&S for ages", "M&S"),
        ("Marks & Spencer app keeps crashing", "Marks & Spencer"),
        ("why is marks and spencer down", "Marks and Spencer"),
        ("follow @marksandspencer for updates", "marksandspencer"),
    ],
)
def test_each_alias_matches_in_a_sentence(text, term):
    assert MS.match(text) == term


@pytest.mark.parametrize("text", ["loved M&S today", "M&S's app is down", "(M&S)"])
def test_term_with_ampersand_matches_next_to_punctuation(text):
    assert MS.match(text) == "M&S"


def test_term_with_ampersand_does_not_match_inside_a_word():
    assert MS.match("SM&SX shares fell") is None


def test_domain_term_matches_in_a_sentence():
    assert ACME.match("visit acme.com now") == "acme.com"


def test_exclusion_blocks_a_mention_only_inside_the_excluded_phrase():
    assert ACME.match("bought an Acme anvil") is None
    assert ACME.match("Acme anvil, and the Acme site is down") == "Acme"


def test_most_specific_term_is_returned_in_configured_spelling():
    assert ACME.match("ACME RETAIL checkout failing") == "Acme Retail"
    assert ACME.match("acme is fine") == "Acme"


def test_multi_word_term_matches_across_extra_whitespace():
    assert ACME.match("the Acme   Retail\napp") == "Acme Retail"
    assert MS.match("Marks  and\tSpencer") == "Marks and Spencer"


def test_no_terms_match_nothing():
    assert ACME.match("a post about something else") is None


def test_brand_from_name_matches_by_its_name():
    brand = brand_from_name("Globex")
    assert (brand.key, brand.terms, brand.origin) == ("globex", ("Globex",), "import")
    assert brand.match("globex is down") == "Globex"


def test_normalise_brand_name_lowercases():
    assert normalise_brand_name("  Acme-UK_2 ") == "acme-uk_2"


@pytest.mark.parametrize("bad", ["Bad Name!", "", "-leading", "x" * 65])
def test_normalise_brand_name_rejects_saying_what_was_expected(bad):
    with pytest.raises(ValueError, match=r"expected 1-64 characters of a-z, 0-9, '_' or '-'"):
        normalise_brand_name(bad)
