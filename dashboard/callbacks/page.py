"""The page around the tabs: the view's state in the URL and the controls, the sources filter, live
refresh while the selected outage is open, and the freshness line."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from dash import Input, Output, State, ctx, no_update

from dashboard import ids, model
from dashboard.layout import Landing
from dashboard.state import DEFAULT_TAB, ViewState, build_search, parse_at, parse_state, resolve_state
from dashboard.views import ViewCache
from dipwatch.measures import measured_windows
from dipwatch.store import Store


def selectable(store: Store, brand_key: str) -> list:
    """The brand's outage windows that can be selected (measured ones)."""
    return measured_windows(store.list_outages(brand_key))


class Windows:
    """The selectable windows of each brand, read once per state change."""

    def __init__(self, store: Store):
        self.store = store
        self._seen: dict[str, list] = {}

    def of(self, brand_key: str) -> list:
        if brand_key not in self._seen:
            self._seen[brand_key] = selectable(self.store, brand_key)
        return self._seen[brand_key]

    def ids(self, brand_key: str) -> list[int]:
        return [w.id for w in self.of(brand_key)]

    def default(self, brand_key: str) -> int | None:
        return model.default_outage(self.of(brand_key))


def resolved(store: Store, views: ViewCache, wanted: ViewState) -> tuple[ViewState, dict, list]:
    """``wanted`` with a brand that exists and an outage of it; the brands as they are now (one
    imported since start-up is listed, and its link opens it), and the chosen brand's windows."""
    windows = Windows(store)
    brands = model.ordered_brands(views.brands())
    state = resolve_state(wanted, list(brands), windows.ids, windows.default)
    return state, brands, windows.of(state.brand) if state.brand else []


def landing(store: Store, views: ViewCache, href: str | None) -> tuple[dict, Landing]:
    """The brands, and the view the page at ``href`` (its whole address) shows, its controls' values
    resolved as :func:`register_state`'s callback would (``href`` None: not known, the defaults)."""
    opened = Landing(href=href)
    wanted = parse_state(opened.address)
    state, brands, chosen = resolved(store, views, wanted)
    return brands, Landing(state=state, href=href, search=build_search(state),
                           outages=model.outage_options(chosen),
                           note=model.unknown_brand_note(wanted.brand, brands, state.brand),
                           step=model.clicked_step(state.at, state.bucket))


# The page's layout is built for the address the browser asked it for (dashboard.app.page_layout,
# from the request's Referer). When the server could not tell (no Referer: a proxy's
# Referrer-Policy, a privacy setting) or told wrong, the page reads its own address here and hands
# it to sync_state; otherwise it only puts the resolved view's query string in the address bar,
# without a new history entry, as sync_state would have.
CHECK_LANDING = """function (landing) {
    var now = window.location.search;
    if (landing && landing.address === now) {
        if (landing.search !== now) {
            window.history.replaceState(window.history.state, "",
                window.location.pathname + landing.search + window.location.hash);
        }
        return window.dash_clientside.no_update;
    }
    return now;
}"""


def register_state(app, store: Store, views: ViewCache, landed: bool = False) -> None:
    """The URL and the controls kept in step, and the sources of the chosen brand.

    :param landed: the layout is built for the page's address (:func:`landing`), so the state is not
        read from the address again when the page opens; False: it is, in a first round of its own
        before every other callback (the code path before, kept for benchmarks/dashboard_browser.py).
    """

    @app.callback(
        Output(ids.BRAND, "options"),
        Output(ids.BRAND, "value"), Output(ids.OUTAGE, "options"), Output(ids.OUTAGE, "value"),
        Output(ids.PERIOD, "value"), Output(ids.BUCKET, "value"), Output(ids.TABS, "value"),
        Output(ids.URL, "search"), Output(ids.BRAND_NOTE, "children"),
        Output(ids.VOICES_LABEL, "value"), Output(ids.POSTS_SEARCH, "value"), Output(ids.CLICKED, "data"),
        Input(ids.URL, "search"), Input(ids.BRAND, "value"), Input(ids.OUTAGE, "value"),
        Input(ids.PERIOD, "value"), Input(ids.BUCKET, "value"),
        Input(ids.DATA_VERSION, "data"), Input(ids.TIMELINE, "clickData"),
        Input(ids.VOICES_LABEL, "value"), Input(ids.POSTS_SEARCH, "value"),
        Input(ids.VOICES_WHOLE, "n_clicks"), Input(ids.LANDING_CHECK, "data"),
        State(ids.TABS, "value"), State(ids.CLICKED, "data"),
        prevent_initial_call=landed,
    )
    def sync_state(search, brand, outage, period, bucket, _version, click, label, text, _whole, address,
                   tab, clicked):
        # One callback owns the URL and what it holds, the Voices filters and clicked time step too,
        # so a copied link opens the same posts.
        trigger = ctx.triggered_id
        if trigger == ids.LANDING_CHECK:
            wanted = parse_state(address)
        elif trigger in (None, ids.URL):
            wanted = parse_state(search)
        else:
            at = (clicked or {}).get("start")
            if trigger == ids.TIMELINE:
                at = model.clicked_at(click) or at
            elif trigger in (ids.BRAND, ids.OUTAGE, ids.VOICES_WHOLE):
                at = None
            wanted = ViewState(brand, None if trigger == ids.BRAND else outage, period, bucket,
                               "voices" if trigger == ids.TIMELINE and click else tab, label or "all",
                               (text or "").strip(), parse_at(at))
        state, brands, chosen = resolved(store, views, wanted)
        current = {"brand": brand, "outage": outage, "period": period, "bucket": bucket, "tab": tab,
                   "label": label, "search": text, "at": None}  # "at" is sent as the clicked step
        changed = {k: (v if current[k] != v else no_update)
                   for k, v in vars(state).items()}
        step = model.clicked_step(state.at, state.bucket)
        new_search = build_search(state)
        return (model.brand_options(brands), changed["brand"], model.outage_options(chosen),
                changed["outage"], changed["period"], changed["bucket"], changed["tab"],
                new_search if new_search != (search or "") else no_update,
                model.unknown_brand_note(wanted.brand, brands, state.brand),
                changed["label"], changed["search"], step if step != clicked else no_update)

    if landed:
        app.clientside_callback(CHECK_LANDING, Output(ids.LANDING_CHECK, "data"), Input(ids.LANDING, "data"))

    # A tab opened by the user is written into the address in the browser, not by sync_state: with
    # the tab as one of its inputs, every tab's callbacks waited for that round trip (their brand and
    # outage are its outputs) before asking for the tab's content. pushState keeps Back to the tab
    # before; dcc.Location reads the address again on Back, and sync_state then selects the tab.
    # (Back to the very address Location last held changes nothing Location can see: assets/history.js
    # selects the tab the address names then.)
    app.clientside_callback(
        """function (tab) {
            var params = new URLSearchParams(window.location.search);
            if (tab === DEFAULT_TAB) { params.delete("tab"); } else { params.set("tab", tab); }
            var search = params.toString() ? "?" + params.toString() : "";
            if (search !== window.location.search) {
                window.history.pushState(null, "", window.location.pathname + search + window.location.hash);
            }
            return window.dash_clientside.no_update;
        }""".replace("DEFAULT_TAB", json.dumps(DEFAULT_TAB)),
        Output(ids.URL, "hash"), Input(ids.TABS, "value"), prevent_initial_call=True,
    )

    @app.callback(Output(ids.SOURCES, "options"), Input(ids.BRAND, "value"))
    def list_sources(brand_key):
        return [{"label": s, "value": s} for s in views.sources(brand_key)] if brand_key else []


def register_header(app, store: Store) -> None:
    """Live refresh while the selected outage is open, and the freshness line."""

    @app.callback(
        Output(ids.LIVE, "disabled"), Output(ids.LIVE_NOTE, "children"),
        Input(ids.BRAND, "value"), Input(ids.OUTAGE, "value"), Input(ids.DATA_VERSION, "data"),
    )
    def live_refresh(brand_key, outage_id, _version):
        windows = selectable(store, brand_key) if brand_key else []
        outage = next((w for w in windows if w.id == outage_id), None)
        if outage is None or outage.end is not None:
            return True, None
        return False, "Live: this outage is ongoing; the figures refresh every minute."

    @app.callback(
        Output(ids.FRESHNESS, "children"), Output(ids.FRESHNESS, "className"),
        Input(ids.BRAND, "value"), Input(ids.LIVE, "n_intervals"),
    )
    def show_freshness(brand_key, _tick):
        if not brand_key:
            return "", "freshness"
        now = datetime.now(UTC)
        span = store.time_range(brand_key)
        text, stale = model.freshness(store.collect_status(now), brand_key, now, span[1] if span else None)
        return text, "freshness stale" if stale else "freshness"
