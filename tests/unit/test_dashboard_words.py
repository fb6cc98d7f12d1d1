"""Complaint words: terms more frequent in an outage's posts than at baseline."""

from __future__ import annotations

from analysis.words import distinctive_terms, terms_of


def test_terms_are_words_and_pairs_without_stopwords_or_brand_names():
    assert terms_of("The site is DOWN again, can't log in!", frozenset({"brightmart"})) == {
        "site", "down", "again", "can't", "log", "site down", "down again", "again can't", "can't log"}
    assert terms_of("Brightmart is down", frozenset({"brightmart"})) == {"down"}


def test_window_terms_are_ranked_against_baseline():
    window = ["checkout failing again"] * 6 + ["checkout is slow"] * 2 + ["love the prices"] * 2
    baseline = ["love the prices"] * 50 + ["checkout is quick"] * 50
    terms = distinctive_terms(window, baseline, drop=["Bright Mart"], top=5)
    names = [t.term for t in terms]
    # Never seen at baseline and in six of ten posts: the top complaints.
    assert names[:4] == ["again", "checkout failing", "failing", "failing again"]  # ties: by name
    first = terms[0]
    assert first.window_count == 6
    assert first.window_per_1000 == 600
    assert first.baseline_per_1000 == 0
    # "checkout" is in 8 of 10 window posts but half the baseline posts: a modest ratio.
    checkout = next(t for t in distinctive_terms(window, baseline, top=50) if t.term == "checkout")
    assert 1.5 < checkout.ratio < 1.7
    assert "prices" not in names  # as frequent as usual


def test_counts_are_per_post_and_rare_terms_are_left_out():
    window = ["down down down down"] * 2 + ["outage"] * 3
    terms = {t.term: t for t in distinctive_terms(window, [], min_count=3)}
    assert set(terms) == {"outage"}  # "down" is in only two posts, however often they repeat it
    assert distinctive_terms([], ["anything"]) == []


def test_words_read_only_the_chosen_sources(store):
    """The Voices tab's words follow the Sources filter: an App Store-only view compares App Store
    reviews, not Reddit threads."""
    from datetime import UTC, datetime, timedelta

    from dipwatch.core.records import Post
    from dipwatch.store import ScoredPost

    t0 = datetime(2026, 5, 1, tzinfo=UTC)
    store.save_posts([
        ScoredPost(Post(source, f"{source}-{i}", t0 + timedelta(minutes=i), f"Acme {source} post {i}"),
                   None, [("acme", "Acme")], (0.0, 0.0, 1.0, 0.0))
        for source in ("reddit", "appstore") for i in range(3)
    ], "s")
    end = t0 + timedelta(hours=1)
    only = store.load_texts("acme", t0, end, 100, ["appstore"])
    assert sorted(only) == [f"Acme appstore post {i}" for i in range(3)]
    assert len(store.load_texts("acme", t0, end, 100)) == 6
    latest = store.load_texts("acme", t0, end, 2, [])  # no sources chosen: all, the latest first
    assert sorted(latest) == ["Acme appstore post 2", "Acme reddit post 2"]


def by_text(window, baseline, drop=(), min_count=3):
    """The terms counted text by text with count_terms (what distinctive_terms counts all at once)."""
    from analysis.words import SMOOTHING, TOKEN, Term, count_terms

    dropped = frozenset(w for term in drop for w in TOKEN.findall(term.lower()))
    in_window, n_window = count_terms(window, dropped)
    at_baseline, n_baseline = count_terms(baseline, dropped)
    terms = []
    for term, count in in_window.items():
        if count >= min_count:
            rate = count / n_window
            usual = at_baseline.get(term, 0)
            terms.append(Term(term, count, 1000 * rate, 1000 * usual / max(n_baseline, 1),
                              rate / ((usual + SMOOTHING) / (n_baseline + 1))))
    return sorted(terms, key=lambda t: (-t.ratio, -t.window_count, t.term))


def test_counting_all_texts_at_once_equals_counting_text_by_text():
    import random

    rng = random.Random(4)
    words = ["down", "Down!", "can't", "'quoted'", "it's", "o''clock", "the", "is", "Acme", "ACME's", "x",
             "caf\u00e9", "stra\u00dfe", "\u212aelvin", "\u0130stanbul", "&amp;", "https://t.co/abc", "\n",
             "refund", "again", "still", "a-b", "I'M", "'''", "", "failing.", "LOG-IN"]

    def text():
        return " ".join(rng.choice(words) for _ in range(rng.randrange(0, 14)))

    for _ in range(40):
        window = [text() for _ in range(rng.randrange(1, 60))]
        baseline = [text() for _ in range(rng.randrange(0, 80))]
        for min_count in (1, 3):
            expected = by_text(window, baseline, ["Acme"], min_count)
            assert distinctive_terms(window, baseline, ["Acme"], top=10_000, min_count=min_count) == expected
            top = distinctive_terms(iter(window), iter(baseline), ["Acme"], min_count=min_count)
            assert top == expected[:15]


def test_a_text_holding_the_separator_is_counted_as_one_text():
    window = ["site down\x00again"] * 3 + ["site down"]
    assert distinctive_terms(window, ["all good"], min_count=3) == by_text(window, ["all good"])
    assert {t.term for t in distinctive_terms(window, [], min_count=4)} == {"site", "down", "site down"}
