"""Every source checks its ``[sources.NAME]`` table the same way (collectors.base.checked_settings):
``true`` where a number is expected is refused, naming the key, though Python counts a bool as an int."""

from __future__ import annotations

import pytest

from collectors.appstore import make_appstore
from collectors.arcticshift import make_arcticshift
from collectors.base import SourceUnavailableError
from collectors.bluesky import make_bluesky
from collectors.hackernews import make_hackernews
from collectors.mastodon import make_mastodon
from collectors.reddit import make_reddit

# One int and one float setting of each source.
SOURCES = [
    ("reddit", make_reddit, "comment_limit", "max_retry_after"),
    ("hackernews", make_hackernews, "hits_per_page", "timeout"),
    ("arcticshift", make_arcticshift, "limit", "timeout"),
    ("bluesky", make_bluesky, "lookback_hours", "timeout"),
    ("mastodon", make_mastodon, "lookback_hours", "timeout"),
    ("appstore", make_appstore, "max_pages", "timeout"),
]


@pytest.mark.parametrize(("source", "make", "int_key", "float_key"), SOURCES, ids=[s[0] for s in SOURCES])
@pytest.mark.parametrize("kind", ["int", "float"])
def test_a_bool_where_a_number_is_expected_is_refused(source, make, int_key, float_key, kind):
    key = int_key if kind == "int" else float_key
    with pytest.raises(SourceUnavailableError) as caught:
        make({key: True}, {})
    assert caught.value.missing_config
    assert str(caught.value).endswith(f".{key}: expected {kind}, got True")


@pytest.mark.parametrize(("source", "make", "int_key", "float_key"), SOURCES, ids=[s[0] for s in SOURCES])
def test_an_unknown_key_is_refused_with_the_known_ones(source, make, int_key, float_key):
    expected = f"sources.{source}.colour: unknown setting; expected one of"
    with pytest.raises(SourceUnavailableError, match=expected):
        make({"colour": "blue"}, {})
