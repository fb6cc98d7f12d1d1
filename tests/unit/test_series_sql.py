"""The series summed by the database equals the series bucketed in pandas, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from dipwatch.core.params import MetricParams
from dipwatch.core.records import Post
from dipwatch.measures import load_series, load_series_voiced
from dipwatch.store import ScoredPost

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def fill(store, scorer: str) -> None:
    rng = random.Random(3)
    items = []
    for i in range(600):
        author = rng.choice(["ann", "bob", "cy", None])  # None: no author, each post its own voice
        post = Post("file", f"p{i}", T0 + timedelta(minutes=rng.uniform(0, 60 * 48)), "Acme", author=author)
        compound = rng.choice([-0.8, -0.05, -0.04, 0.0, 0.3, 0.9])
        items.append(ScoredPost(post, author and f"hash-{author}", [("acme", "Acme")], (compound, 0, 1, 0)))
    store.save_posts(items, scorer)


@pytest.mark.parametrize("voice", [True, False])
@pytest.mark.parametrize("bucket", ["15min", "1h", "1d"])
def test_database_sums_equal_pandas_buckets(store, monkeypatch, voice, bucket):
    monkeypatch.setattr("dipwatch.measures.scorer_id", lambda: "test-scorer")
    monkeypatch.setattr("dipwatch.measures.scorer_id", lambda: "test-scorer")
    fill(store, "test-scorer")
    params = MetricParams(bucket=bucket, one_author_one_voice=voice)
    start, end = T0 + timedelta(minutes=7), T0 + timedelta(hours=47, minutes=50)
    summed = load_series(store, "acme", params, start, end)
    bucketed = load_series_voiced(store, "acme", params, start, end, voice=voice)
    assert summed.index.equals(bucketed.index)
    assert summed["posts"].tolist() == bucketed["posts"].tolist()
    assert summed["negatives"].tolist() == bucketed["negatives"].tolist()  # -0.05 counts as negative
    for column in ("mean", "negative_share", "smoothed", "smoothed_lo", "smoothed_hi"):
        assert np.allclose(summed[column], bucketed[column], equal_nan=True, atol=1e-12), column
    if voice:  # three named authors at most per bucket, plus the anonymous posts one by one
        plain = load_series(store, "acme", params.__class__(bucket=bucket, one_author_one_voice=False),
                            start, end)
        assert summed["posts"].sum() < plain["posts"].sum()
