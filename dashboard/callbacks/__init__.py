"""Thin callbacks: unpack the inputs, ask the model, build the figure and components, return them.

One module per tab (overview, timeline, voices, outages, compare) and ``page`` for what surrounds
them (the state in the URL, live refresh, freshness). Heavy views are only built while their tab is
open; the measured brand view is shared through :class:`dashboard.views.ViewCache`. Helpers are
module-level functions, never closures inside the ``register`` functions.
"""

from __future__ import annotations

from dashboard.callbacks import compare, outages, overview, page, timeline, voices
from dashboard.views import ViewCache
from dipwatch.core.config import Settings, SettingsWatch
from dipwatch.store import Store

__all__ = ["register_callbacks"]


def register_callbacks(app, settings: Settings | SettingsWatch, store: Store,
                       views: ViewCache | None = None, landed: bool = False) -> ViewCache:
    """Wire the page's controls to the model, reading from ``store``; return the view cache.

    :param settings: the settings, or a :class:`SettingsWatch` that reads an edited config again.
    :param landed: the layout is built for each page's address (``dashboard.app.page_layout``).
    """
    views = views or ViewCache(settings, store)
    page.register_state(app, store, views, landed)
    page.register_header(app, store)
    overview.register(app, views)
    timeline.register(app, store, views)
    voices.register(app, store, views)
    outages.register(app, store, views)
    compare.register(app, store, views)
    return views
