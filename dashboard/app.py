"""The Dash app: built from the settings and an open store, and served by Flask."""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Iterable, Mapping

import dash

from dashboard.auth import auth_enabled, install_auth
from dashboard.callbacks import register_callbacks
from dashboard.compression import install_compression
from dashboard.hosts import install_host_check
from dashboard.layout import STYLESHEET, build_layout
from dashboard.model import ordered_brands
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
        load plotly.js while the page is idle (``assets/plotly_early.js``) and draw the timeline
        near its period only (:func:`dashboard.model.series_near`); off only to measure what they
        save (benchmarks/dashboard_browser.py).
    """
    store.map_for_reading()
    app = dash.Dash(__name__, title="dipwatch", update_title=None, serve_locally=True,
                    suppress_callback_exceptions=False,
                    assets_ignore="" if speedups else re.escape(PLOTLY_EARLY))
    watch = SettingsWatch(settings, CONFIG_CHECK_SECONDS, warn=app.logger.warning)
    ordered = ordered_brands(known_brands(settings, store))
    default = next(iter(ordered), None)
    demo_note = DEMO_NOTE if store.get_meta("demo") else None
    # lang: screen readers pick the voice from it (axe: html-has-lang).
    app.index_string = app.index_string.replace("<html>", '<html lang="en">', 1).replace(
        "{%css%}", "{%css%}\n<style>" + STYLESHEET + "</style>")
    app.layout = build_layout(ordered, default, demo_note)
    # Kept on the server's config so benchmarks and tests can empty the cache of measured views.
    # The callbacks read the settings through ``watch``: an edited dipwatch.toml needs no restart.
    app.server.config["DIPWATCH_DRAW_ALL"] = not speedups  # the timeline draws only near its period
    app.server.config["DIPWATCH_VIEWS"] = register_callbacks(app, watch, store)
    env = os.environ if env is None else env
    install_host_check(app, env, hosts, auth=auth_enabled(env))  # first: a foreign host gets no sign-in
    install_auth(app, env)
    if speedups:
        install_compression(app.server)
    return app


def settle() -> None:
    """Call once the app is built, before serving: take everything made at start-up (modules, the
    layout, the callbacks) out of the garbage collector's view. Otherwise every full collection
    walks all of it again: a 125-140 ms pause in whichever request sets it off, the slowest
    callbacks of the 1M-post benchmark."""
    gc.collect()
    gc.freeze()
