"""Measured brand views, kept for a few minutes so switching tabs, outages and back does not re-measure.

Every callback of one page change needs the same view (cards, chart, posts, comparison); measuring a
brand takes from a few hundred milliseconds (demo) to seconds (large stores). A view is reused while
its brand's outage windows and posts (count and latest time) are unchanged and it is younger than
``ttl`` seconds: new posts and an edited window show at once, and "now" (hours since an outage
ended) moves on at least every ``ttl``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from analysis.sentiment import scorer_id
from analysis.uncertainty import DEFAULT_RESAMPLES
from dipwatch.core.config import Settings, SettingsWatch
from dipwatch.measures import BrandOutline, BrandView, brand_outline, brand_series, brand_view, known_brands
from dipwatch.store import Store

if TYPE_CHECKING:
    from datetime import datetime

    import pandas as pd

    from dipwatch.core.params import MetricParams
    from dipwatch.core.records import Outage

# As many as the report and exports draw, so the cards show their intervals: the rollup's sums
# resampled all at once take 10-40 ms for the selected outage (1,000,000 posts, hourly buckets).
INTERVAL_RESAMPLES = DEFAULT_RESAMPLES


class ViewCache:
    """Brand views and bootstrap intervals by (brand, bucket, sources, data), for ``ttl`` seconds."""

    def __init__(self, settings: Settings | SettingsWatch, store: Store, ttl: float = 300.0, size: int = 64):
        self.store, self.ttl, self.size = store, ttl, size
        self._watch = settings if isinstance(settings, SettingsWatch) else SettingsWatch(settings)
        self._seen = self._watch.current()
        self._items: OrderedDict = OrderedDict()
        self._building: dict = {}  # key -> Event set once its build has ended
        self._lock = threading.Lock()

    @property
    def settings(self) -> Settings:
        """The current settings: an edited dipwatch.toml (brands, metrics) applies without a restart,
        and empties the cache, whose views were measured with the settings before."""
        current = self._watch.current()
        if current is not self._seen:
            self._seen = current
            self.clear()
        return current

    def _get(self, key, build):
        """The value kept under ``key``, else ``build()``'s, built once: a request that asks while
        another builds it waits for that one. A page's callbacks ask for the same view at once (the
        status line on every tab, and the tab's own); each measured it, and on two cores the two
        builds took 230 ms each where one takes 120 (1,000,000 posts). No build asks for another
        key, so a wait cannot go round in a circle."""
        now = time.monotonic()
        with self._lock:
            found = self._items.get(key)
            if found is not None and now - found[0] < self.ttl:
                self._items.move_to_end(key)
                return found[1]
            building = self._building.get(key)
            if building is None:
                building = self._building[key] = threading.Event()
                owner = True
            else:
                owner = False
        if not owner:
            building.wait()
            with self._lock:
                found = self._items.get(key)
            if found is not None:
                return found[1]
            return self._get(key, build)  # the build failed (or the cache was emptied): try it here
        try:
            value = build()  # outside the lock: other keys are read and built meanwhile
            with self._lock:
                self._items[key] = (now, value)
                self._items.move_to_end(key)
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        finally:
            with self._lock:
                del self._building[key]
            building.set()
        return value

    def _windows_key(self, brand_key: str) -> tuple:
        windows = tuple((w.id, w.start, w.end, w.label, w.origin) for w in self.store.list_outages(brand_key))
        return windows, self.store.brand_stamp(brand_key, scorer_id())

    def brands(self) -> dict:
        """The brands of the config and the store as they are now (one small query): a brand that
        ``dipwatch import`` creates while the dashboard runs can be opened at once."""
        return known_brands(self.settings, self.store)

    def sources(self, brand_key: str) -> list[str]:
        """The sources of the brand's posts (for the filter), re-read at most once a ``ttl``."""
        return self._get(("sources", brand_key), lambda: self.store.brand_sources(brand_key))

    def view(self, brand_key: str, bucket: str = "1h", sources: Sequence[str] | None = None) -> BrandView:
        """The measured view of ``brand_key`` on ``bucket`` buckets, over ``sources`` (all when empty)."""
        chosen = tuple(sorted(sources or ()))
        key = ("view", brand_key, bucket, chosen, self._windows_key(brand_key))

        def build():
            brand = self.brands()[brand_key]
            params = self.settings.metrics.with_bucket(bucket)
            return brand_view(self.settings, self.store, brand, params, sources=chosen)

        return self._get(key, build)

    def _cached(self, key):
        """The value kept under ``key`` while it is fresh, else None (nothing is built)."""
        with self._lock:
            found = self._items.get(key)
        return found[1] if found is not None and time.monotonic() - found[0] < self.ttl else None

    def outline(self, brand_key: str, bucket: str = "1h", sources: Sequence[str] | None = None
                ) -> BrandView | BrandOutline:
        """The brand, params, moment and outage windows of :meth:`view` without measuring the brand:
        its cached view when there is one (so the same "now"), else read in a few milliseconds."""
        chosen = tuple(sorted(sources or ()))
        found = self._cached(("view", brand_key, bucket, chosen, self._windows_key(brand_key)))
        if found is not None:
            return found
        return brand_outline(self.settings, self.store, self.brands()[brand_key],
                             self.settings.metrics.with_bucket(bucket))

    def series(self, brand_key: str, params: MetricParams, now: datetime
               ) -> tuple[list[Outage], pd.DataFrame]:
        """The measured outage windows and series (all sources) of ``brand_key`` on ``params``'s
        buckets as of ``now``: those of its cached view when it was measured with ``params`` at
        ``now``, else read (without measuring its outages) and kept. A competitor's, for Compare."""
        key = self._windows_key(brand_key)
        view = self._cached(("view", brand_key, params.bucket, (), key))
        if view is not None and view.params == params and view.now == now:
            return view.outages, view.series
        return self._get(("series", brand_key, params, now, key),
                         lambda: brand_series(self.store, brand_key, params, now))

    def competitor_series(self, view: BrandView) -> list[tuple[str, pd.DataFrame]]:
        """(display name, series) of each of ``view``'s brand's competitors on its buckets, as of its
        ``now``, for the Timeline's and Compare's competitor lines."""
        brands = self.brands()
        return [(brands[key].name, self.series(key, view.params, view.now)[1])
                for key in view.brand.competitors if key in brands]

    def words(self, brand_key: str, window: tuple, sources: Sequence[str] | None, build):
        """``build()`` (the Voices tab's words of ``window``), kept like a view: changing the label
        or the search, which do not change the words, reads only the posts again."""
        key = ("words", brand_key, window, tuple(sorted(sources or ())), self._windows_key(brand_key))
        return self._get(key, build)

    def post_counts(self, query, build) -> dict:
        """``build()`` (the counts of the Voices query's posts), kept like a view: turning a page or
        changing the order reads only the page of posts."""
        key = ("counts", replace(query, order="", descending=False), self._windows_key(query.brand))
        return self._get(key, build)

    def intervals(self, view: BrandView, outage_id: int, sources: Sequence[str] | None = None) -> dict | None:
        """The bootstrap record of one outage of ``view`` (None when it was not measured)."""
        from dipwatch.measures import interval_records

        metrics = [m for m in view.metrics if m.outage_id == outage_id]
        if sources or not metrics or metrics[0].baseline_mean is None or not metrics[0].posts_during:
            return None  # nothing to resample (and intervals cover all sources: none when filtered)
        key = ("intervals", view.brand.key, view.params.bucket, outage_id, self._windows_key(view.brand.key))
        return self._get(key, lambda: interval_records(
            replace(view, metrics=metrics), self.store, self.settings, resamples=INTERVAL_RESAMPLES,
            seed=0, voice=view.params.one_author_one_voice).get(outage_id))

    def prefetch(self, brand_key: str, buckets: Sequence[str]) -> threading.Thread:
        """Start measuring the brand's views on ``buckets`` (all sources) in a thread of their own;
        return it. A page's layout is asked for ~150 ms before its callbacks (the browser loads the
        scripts in between), and the callbacks then find the view measured, or being measured and
        wait for it, instead of measuring it themselves. A failed build is logged and not kept: the
        callback that asks next builds it again and shows the error as it would have."""

        def measure():
            for bucket in dict.fromkeys(buckets):
                try:
                    self.view(brand_key, bucket)
                except Exception:  # a thread's error would go nowhere else
                    logging.getLogger(__name__).warning("measuring %s ahead of its page failed", brand_key,
                                                        exc_info=True)

        thread = threading.Thread(target=measure, name=f"prefetch-{brand_key}", daemon=True)
        thread.start()
        return thread

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
