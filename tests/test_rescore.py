"""After a lexicon change, stored posts are scored again before the dashboard shows them."""

from __future__ import annotations

from datetime import UTC, datetime

from analysis.sentiment import scorer_id
from dipwatch.cli import _score_stale
from dipwatch.posts import Post
from dipwatch.store import ScoredPost


def test_posts_scored_by_an_older_scorer_are_scored_again(store, capsys):
    post = Post("file", "p1", datetime(2026, 3, 1, tzinfo=UTC), "Acme website is down again")
    store.save_posts([ScoredPost(post, None, [("acme", "Acme")], (0.0, 0.0, 1.0, 0.0))],
                     "vader-3.3.2+outage-00000000")
    assert store.unscored(scorer_id())  # the old score does not count for the current scorer
    assert store.load_scores("acme", scorer_id()) == []
    _score_stale(store)
    assert "Scored 1 posts." in capsys.readouterr().out
    ((_, compound),) = store.load_scores("acme", scorer_id())
    assert compound < -0.05  # the current lexicon reads "is down" as negative
    _score_stale(store)
    assert capsys.readouterr().out == ""  # nothing left to do
