"""What the Voices and Compare tabs read through the view cache: the same windows, moment, series and
comparisons as measuring the brands whole, without measuring what they do not show."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from analysis.sentiment import scorer_id
from dashboard.views import ViewCache
from dipwatch.core.config import Settings
from dipwatch.core.records import Post
from dipwatch.measures import brand_series, brand_view, competitor_comparisons, known_brands
from dipwatch.store import ScoredPost

T0 = datetime(2026, 6, 1, tzinfo=UTC)
AS_OF = T0 + timedelta(days=20)


@pytest.fixture
def views(sqlite_store, db_url):
    rng = random.Random(9)
    store = sqlite_store
    for key, rival in (("acme", "rival"), ("rival", "acme")):
        store.ensure_brand(key, key.title(), [key], origin="import", competitors=[rival])
        items = []
        for i in range(1500):
            created = T0 + timedelta(minutes=rng.uniform(0, 20 * 24 * 60))
            dip = key == "acme" and T0 + timedelta(days=15) <= created < T0 + timedelta(days=15, hours=8)
            compound = max(-1.0, min(1.0, rng.gauss(-0.5 if dip else 0.2, 0.3)))
            items.append(ScoredPost(Post("reddit", f"{key}-{i}", created, f"{key} post {i}"),
                                    rng.choice([None, "a", "b"]), [(key, key)], (compound, 0, 1, 0)))
        store.save_posts(items, scorer_id())
    store.add_outages([
        {"brand": "acme", "start": T0 + timedelta(days=15), "end": T0 + timedelta(days=15, hours=8),
         "label": "down", "severity": "major", "origin": "manual"},
        {"brand": "acme", "start": T0 + timedelta(days=18), "end": None, "label": "slow", "severity": "minor",
         "origin": "manual"},
        {"brand": "rival", "start": T0 + timedelta(days=12), "end": T0 + timedelta(days=12, hours=3),
         "label": "blip", "severity": "minor", "origin": "manual"},
    ])
    store.set_meta("as_of", AS_OF.isoformat())
    return ViewCache(Settings(db_url=db_url), store)


def test_the_outline_has_the_windows_and_moment_of_the_view(views):
    outline = views.outline("acme", "1h")
    view = brand_view(views.settings, views.store, views.brands()["acme"], views.settings.metrics)
    assert (outline.brand, outline.params, outline.now, outline.outages) == (
        view.brand, view.params, view.now, view.outages)
    kept = views.view("acme", "1h")
    assert views.outline("acme", "1h") is kept  # once measured, the view itself


@pytest.mark.parametrize("bucket", ["15min", "1h"])
def test_a_competitors_series_is_its_views(views, bucket):
    params = views.settings.metrics.with_bucket(bucket)
    rival = brand_view(views.settings, views.store, views.brands()["rival"], params)
    windows, series = views.series("rival", params, rival.now)
    assert windows == rival.outages
    pd.testing.assert_frame_equal(series, rival.series)
    assert brand_series(views.store, "rival", params, rival.now)[0] == rival.outages
    kept = views.view("rival", bucket)
    assert views.series("rival", params, kept.now)[1] is kept.series  # read from the kept view


@pytest.mark.parametrize("bucket", ["15min", "1h"])
def test_comparisons_from_the_cache_equal_measuring_the_competitor(views, bucket):
    view = views.view("acme", bucket)
    rival = brand_view(views.settings, views.store, known_brands(views.settings, views.store)["rival"],
                       view.params, view.now)
    from analysis.compare import compare

    for outage in view.outages:
        others = [w for w in view.outages if w.id != outage.id]
        whole = [compare(view.series, others, "rival", rival.series, rival.outages, outage, view.params,
                         view.now)]
        assert competitor_comparisons(views.settings, views.store, view, outage) == whole
        cached = competitor_comparisons(views.settings, views.store, view, outage,
                                        lambda key: views.series(key, view.params, view.now))
        assert cached == whole
    assert whole[0].did is not None


def test_words_are_kept_until_the_brands_data_changes(views):
    built = []

    def build():
        built.append(1)
        return ["refund"]

    start = T0 + timedelta(days=15)
    window = (start, start + timedelta(days=1), start - timedelta(days=14), start)
    assert views.words("acme", window, None, build) == ["refund"]
    assert views.words("acme", window, [], build) == ["refund"]  # no sources chosen: all, the same words
    assert len(built) == 1
    views.store.add_outages([{"brand": "acme", "start": T0 + timedelta(days=2), "end": T0 + timedelta(days=3),
                              "label": "new", "severity": "minor", "origin": "manual"}])
    views.words("acme", window, None, build)
    assert len(built) == 2  # an edited window (or new posts) reads the words again


def test_window_words_compare_the_window_with_its_baseline(views):
    from dashboard.model import window_words

    brand = views.brands()["acme"]
    start = T0 + timedelta(days=15)
    views.store.save_posts([
        ScoredPost(Post("reddit", f"refund-{i}", start + timedelta(minutes=i), f"Acme refund please {i}"),
                   None, [("acme", "Acme")], (-0.5, 0, 1, 0)) for i in range(5)], scorer_id())
    terms = window_words(views.store, brand, start, start + timedelta(hours=8), start - timedelta(days=14),
                         start)
    assert terms[0].term in {"refund", "refund please", "please"}
    assert terms[0].baseline_per_1000 == 0
    assert all("acme" not in t.term for t in terms)


def test_voices_counts_are_kept_while_paging_and_renewed_by_new_posts(views):
    """Turning a page or the order reads only the page: the counts are kept (at 1M posts a count
    took 69 ms of a page flip's 125). New posts in the window count at once."""
    from dashboard.voices import VoicesQuery, count

    query = VoicesQuery("acme", T0 + timedelta(days=15), T0 + timedelta(days=16), "the outage")
    first = views.post_counts(query, lambda: count(views.store, query))
    reordered = VoicesQuery("acme", query.start, query.end, "the outage", order="time", descending=True)
    assert views.post_counts(reordered, lambda: pytest.fail("recounted for another order")) is first
    views.store.save_posts([ScoredPost(Post("reddit", "acme-new", T0 + timedelta(days=15, hours=1),
                                            "acme down"), "c", [("acme", "acme")], (-0.6, 0, 0, 1))],
                           scorer_id())
    assert views.post_counts(query, lambda: count(views.store, query))["posts"] == first["posts"] + 1


def test_a_view_asked_for_at_once_is_built_once(views):
    """A page's callbacks ask for the same view together (the status line and the tab): the second
    waits for the first's build instead of measuring the brand again beside it."""
    import threading
    import time

    builds, started = [], threading.Event()

    def slow_build():
        builds.append(1)
        started.set()
        time.sleep(0.2)
        return "measured"

    found = []
    first = threading.Thread(target=lambda: found.append(views._get(("k",), slow_build)))
    first.start()
    started.wait(5)
    second = threading.Thread(target=lambda: found.append(views._get(("k",), slow_build)))
    second.start()
    first.join(5)
    second.join(5)
    assert (found, len(builds)) == (["measured", "measured"], 1)

    def failing():
        raise RuntimeError("store gone")

    with pytest.raises(RuntimeError):  # a failed build is not kept, and the next ask builds again
        views._get(("bad",), failing)
    assert views._get(("bad",), lambda: "rebuilt") == "rebuilt"


def test_a_prefetched_view_is_the_one_callbacks_then_get(views, monkeypatch, caplog):
    """A page's layout starts measuring its brand (dashboard.app.page_layout): its callbacks then get
    that view, equal to measuring it, without measuring it again; a failed prefetch is logged, not
    kept, and the next ask measures it and raises as it would have."""
    import dashboard.views as module

    measured = []
    real = module.brand_view

    def counting(*args, **kwargs):
        measured.append(args[1] if len(args) > 1 else kwargs.get("brand_key"))
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "brand_view", counting)
    views.prefetch("acme", ["1h", "1h"]).join(30)  # the same step twice is measured once
    assert len(measured) == 1
    got = views.view("acme", "1h")
    assert len(measured) == 1  # from the prefetch, not measured again
    fresh = ViewCache(views.settings, views.store).view("acme", "1h")
    pd.testing.assert_frame_equal(got.series, fresh.series)

    def broken(*args, **kwargs):
        raise RuntimeError("store gone")

    views.clear()
    monkeypatch.setattr(module, "brand_view", broken)
    with caplog.at_level("WARNING", logger="dashboard.views"):
        views.prefetch("acme", ["1h"]).join(30)
    assert "measuring acme ahead of its page failed" in caplog.text
    with pytest.raises(RuntimeError, match="store gone"):
        views.view("acme", "1h")
