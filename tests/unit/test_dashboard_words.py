"""Complaint words: terms more frequent in an outage's posts than at baseline."""

from __future__ import annotations

from dashboard.words import distinctive_terms, terms_of


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

    from dipwatch.posts import Post
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
