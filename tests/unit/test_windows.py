"""analysis.windows: the outage file refuses NUL bytes naming the line; overlaps found in one sweep."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from analysis.windows import Window, WindowError, find_overlaps, read_windows_csv

NOW = datetime(2026, 6, 1, tzinfo=UTC)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("brand,start,end,label\nacme,2026-01-01T00:00:00Z,,ok\n"
         "acme,2026-01-02T00:00:00Z,,bad\x00label\n", 3),
        ("brand,start,end,label,note\nacme,2026-01-01T00:00:00Z,,ok,\x00\n", 2),
        ("brand,start,end,label\nacme,2026-01-01T00:00:00Z,,\"multi\nline \x00\"\n", 2),
        ("brand,start,end,label\x00\nacme,2026-01-01T00:00:00Z,,ok\n", 1),
    ],
    ids=["label", "ignored-column", "quoted-multiline", "header"],
)
def test_nul_bytes_are_refused_naming_the_line(text, line):
    with pytest.raises(WindowError, match=rf"^outages\.csv:{line}: contains a NUL byte"):
        read_windows_csv(text, "outages.csv", {"acme"})


def window(brand: str, start_h: float, end_h: float | None, label: str = "") -> Window:
    end = None if end_h is None else T0 + timedelta(hours=end_h)
    return Window(brand, T0 + timedelta(hours=start_h), end, label or f"{brand}@{start_h}")


def test_five_thousand_open_windows_make_one_note_each_not_every_pair():
    # Every window is open and starts at once: all 12.5 million pairs overlap. The report names each
    # window that overlaps an earlier one once (it took 76 s, listing every pair).
    windows = [window("acme", 0, None, f"w{i}") for i in range(5000)]
    pairs = find_overlaps(windows, NOW)
    assert len(pairs) == 4999
    assert {second.label for _, second in pairs} == {f"w{i}" for i in range(1, 5000)}


def test_one_pair_per_window_that_overlaps_an_earlier_one_and_it_does_overlap():
    rng = random.Random(5)
    for _ in range(300):
        windows = []
        for i in range(rng.randint(0, 12)):
            start = rng.randint(0, 40)
            end = rng.choice([None, start + rng.randint(1, 10)])
            windows.append(window(rng.choice(["acme", "globex"]), start, end, f"w{i}"))
        pairs = find_overlaps(windows, T0 + timedelta(hours=30))

        def span(w):
            return w.start, w.end or T0 + timedelta(hours=30)

        expected = set()
        for w in windows:  # brute force: overlaps a window of its brand that starts no later
            for other in windows:
                if (other is not w and other.brand == w.brand and span(other)[0] <= w.start
                        and w.start < span(other)[1]
                        and (span(other)[0] < w.start or windows.index(other) < windows.index(w))):
                    expected.add(w.label)
        assert {second.label for _, second in pairs} == expected
        for first, second in pairs:
            assert first.brand == second.brand
            assert span(first)[0] <= second.start < span(first)[1]


def test_windows_that_touch_do_not_overlap():
    assert find_overlaps([window("acme", 0, 2), window("acme", 2, 3), window("globex", 1, 5)], NOW) == []
