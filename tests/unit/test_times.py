"""dipwatch.core.times.parse_epoch: the same seconds and the same errors as parse_time, for every kind of
value a file gives."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from dipwatch.core.times import LATEST_EPOCH, parse_epoch, parse_time

VALUES = [0, 1, 1772389800, LATEST_EPOCH - 1, "1772389800", "0001772389800", " 1772389800 ",
          "2026-03-01T18:30:00Z", "2026-03-01T18:30:00.75+01:00", "2026-03-01 18:30:00", 1772389800.0,
          "١٧٧٢٣٨٩٨٠٠"]  # Arabic-Indic digits: int() reads them
BAD = [-1, "-5", LATEST_EPOCH, str(LATEST_EPOCH), 10**13, "", "  ", "yesterday", None, True, 1.5,
       float("nan"), "²", [], "2026-03-01T18:30:00"]


@pytest.mark.parametrize("value", VALUES)
def test_parse_epoch_gives_parse_times_whole_seconds(value):
    zone = ZoneInfo("Europe/London")
    assert parse_epoch(value, zone) == int(parse_time(value, zone).timestamp())


def test_a_fraction_of_a_second_is_dropped():
    whole = datetime(2026, 3, 1, 18, 30, tzinfo=UTC)
    assert parse_epoch("2026-03-01T18:30:00.999Z") == int(whole.timestamp())


@pytest.mark.parametrize("value", BAD)
def test_parse_epoch_refuses_what_parse_time_refuses_with_its_message(value):
    with pytest.raises(ValueError, match=r"^when: |invalid literal") as expected:
        parse_time(value, None, "when")
    with pytest.raises(ValueError, match=r"^when: |invalid literal") as got:
        parse_epoch(value, None, "when")
    assert str(got.value) == str(expected.value)
