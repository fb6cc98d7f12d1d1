"""After a lexicon change, stored posts are scored again before the dashboard shows them."""

from __future__ import annotations

from datetime import UTC, datetime

from analysis.sentiment import scorer_id
from dipwatch.cli.serve import score_stale as _score_stale
from dipwatch.core.records import Post
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


def test_the_scorer_chosen_in_the_config_scores_and_measures(tmp_path, monkeypatch):
    """[sentiment] scorer = "vader" stores VADER alone under its own id; the default adds the model."""
    from click.testing import CliRunner

    from analysis import sentiment
    from dipwatch.cli.main import cli
    from dipwatch.store import Store

    posts = tmp_path / "posts.csv"
    posts.write_text('id,created_at,text\n'
                     '1,2026-03-01T10:00:00Z,"@acme please help, can\'t check out, thanks"\n',
                     encoding="utf-8")
    config = tmp_path / "dipwatch.toml"
    config.write_text('[sentiment]\nscorer = "vader"\n', encoding="utf-8")
    db = tmp_path / "d.db"
    monkeypatch.delenv("DIPWATCH_SCORER", raising=False)
    try:
        result = CliRunner().invoke(cli, ["import", str(posts), "--brand", "acme", "--db", str(db),
                                           "--config", str(config)])
        assert result.exit_code == 0, result.output
        plain_id = sentiment.scorer_id()
        assert "+model-" not in plain_id
    finally:
        sentiment.use_scorer("model")
    with Store(f"sqlite:///{db}") as store:
        ((_, compound),) = store.load_scores("acme", plain_id)
        assert compound > 0.05  # VADER alone reads the courtesy as praise
        assert store.unscored(sentiment.scorer_id())  # the model's scores are another scorer's
    config.write_text('[sentiment]\nscorer = "bert"\n', encoding="utf-8")
    bad = CliRunner().invoke(cli, ["score", "--db", str(db), "--config", str(config)])
    assert bad.exit_code == 2
    assert "sentiment.scorer: expected one of model, vader, got 'bert'" in bad.output
