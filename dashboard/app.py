"""The Dash app: built from the settings and an open store, and served by Flask."""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import urlsplit

import dash
import flask

from dashboard.auth import auth_enabled, install_auth
from dashboard.callbacks import register_callbacks
from dashboard.callbacks.page import landing
from dashboard.compression import install_compression
from dashboard.hosts import install_host_check
from dashboard.layout import STYLESHEET, build_layout
from dashboard.model import ordered_brands
from dashboard.views import ViewCache
from dipwatch.core.config import Settings, SettingsWatch
from dipwatch.measures import known_brands
from dipwatch.store import Store

DEMO_NOTE = "Demo data: these posts are simulated"
PLOTLY_EARLY = "plotly_early.js"
CONFIG_CHECK_SECONDS = 2.0  # how often a running dashboard looks whether dipwatch.toml changed


def create_app(settings: Settings, store: Store, env: Mapping[str, str] | None = None,
               hosts: Iterable[str] = (), speedups: bool = True) -> dash.Dash:
    """The dashboard over ``store``; assets are served by the app itself (no CDN).

    :param env: where basic-authentication users are read from (default ``os.environ``; see
        :mod:`dashboard.auth`): with users configured, every request must sign in.
    :param hosts: names the dashboard is served as besides loopback ones (``--host``); see
        :mod:`dashboard.hosts`.
    :param speedups: send responses brotli- or gzip-compressed (:mod:`dashboard.compression`),
        load plotly.js while the page is idle (``assets/plotly_early.js``), draw the timeline
        near its period only (:func:`dashboard.model.series_near`) and build the layout for the
        page's address (:func:`page_layout`); off only to measure what they save
        (benchmarks/dashboard_browser.py).
    """
    store.map_for_reading()
    app = dash.Dash(__name__, title="dipwatch", update_title=None, serve_locally=True,
                    suppress_callback_exceptions=False,
                    assets_ignore="" if speedups else re.escape(PLOTLY_EARLY))
    watch = SettingsWatch(settings, CONFIG_CHECK_SECONDS, warn=app.logger.warning)
    demo_note = DEMO_NOTE if store.get_meta("demo") else None
    # lang: screen readers pick the voice from it (axe: html-has-lang).
    app.index_string = app.index_string.replace("<html>", '<html lang="en">', 1).replace(
        "{%css%}", "{%css%}\n<style>" + STYLESHEET + "</style>")
    # Kept on the server's config so benchmarks and tests can empty the cache of measured views.
    # The callbacks read the settings through ``watch``: an edited dipwatch.toml needs no restart.
    views = ViewCache(watch, store)
    if speedups:  # each page's layout built for its address, when it asks for it
        app.layout = page_layout(store, views, demo_note, app.config.requests_pathname_prefix)
    else:  # one layout, and the address read by a first round of callbacks
        ordered = ordered_brands(known_brands(settings, store))
        app.layout = build_layout(ordered, next(iter(ordered), None), demo_note)
    app.server.config["DIPWATCH_DRAW_ALL"] = not speedups  # the timeline draws only near its period
    app.server.config["DIPWATCH_VIEWS"] = register_callbacks(app, watch, store, views, landed=speedups)
    if speedups:
        @app.server.after_request
        def _layout_is_per_page(response):
            # The layout differs with the page that asks for it: no cache may answer another page.
            if flask.request.path.endswith("_dash-layout"):
                response.headers["Cache-Control"] = "no-store"
                response.vary.add("Referer")
            return response
    env = os.environ if env is None else env
    install_host_check(app, env, hosts, auth=auth_enabled(env))  # first: a foreign host gets no sign-in
    install_auth(app, env)
    if speedups:
        install_compression(app.server)
    return app


def page_address(referer: str | None, page_path: str) -> str | None:
    """The address of the page that asks for its layout, read from the request's Referer (without
    a fragment, which browsers do not send); None when there is none, or it is not this app's page
    at ``page_path``.

    The browser sends the page's address with its request for ``/_dash-layout``. A Referrer-Policy
    (a proxy's, or the browser's) may cut it to the origin or leave it out, and a client other than
    the page may send anything: the page compares the address the layout was built for with its own
    and corrects itself when they differ (``dashboard.callbacks.page.CHECK_LANDING``). Nothing read
    here is trusted further than :func:`dashboard.state.parse_state` trusts a link."""
    try:
        parts = urlsplit(referer or "")
    except ValueError:  # a malformed header (e.g. "http://[::1") is no address
        return None
    if not parts.scheme or not parts.netloc or parts.path != page_path:
        return None
    return parts._replace(fragment="").geturl()


def page_layout(store: Store, views: ViewCache, demo_note: str | None, page_path: str) -> Callable:
    """The layout as a function of the request: built for the page's address, so the page asks for
    its view in the first round of callbacks, not after a round that reads the address (at
    1,000,000 posts that round waited ~300 ms behind plotly.js being compiled; see the README)."""

    def layout():
        address = None
        if flask.has_request_context() and flask.request.path.endswith("_dash-layout"):
            address = page_address(flask.request.headers.get("Referer"), page_path)
        brands, opened = landing(store, views, address)
        if address is not None and opened.state.brand:
            # The status line is measured at the configured step, the Timeline at the page's.
            views.prefetch(opened.state.brand, (views.settings.metrics.bucket, opened.state.bucket))
        return build_layout(brands, opened.state.brand, demo_note, opened)

    return layout


def settle() -> None:
    """Call once the app is built, before serving: take everything made at start-up (modules, the
    layout, the callbacks) out of the garbage collector's view. Otherwise every full collection
    walks all of it again: a 125-140 ms pause in whichever request sets it off, the slowest
    callbacks of the 1M-post benchmark."""
    gc.collect()
    gc.freeze()
