"""The view's state in the URL: brand, outage, period, bucket and tab as a query string, and the
Voices tab's filters (class, search) and clicked time step.

A copied link opens the same view; alerts link to ``/?brand=X&outage=ID``. Parsing never fails: a
value that is missing or not one of the choices falls back to the default, so an old or hand-edited
link still opens a page.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from urllib.parse import parse_qs, urlencode

from dipwatch.core.conventions import BUCKETS

TABS = {"overview": "Overview", "timeline": "Timeline", "voices": "Voices", "outages": "Outages",
        "compare": "Compare"}
PERIODS = {"outage": "Around the outage", "7d": "Last 7 days", "30d": "Last 30 days", "all": "All data"}
DEFAULT_BUCKET = "1h"
DEFAULT_PERIOD = "outage"
DEFAULT_TAB = "overview"
LABELS = ("all", "negative", "neutral", "positive")
VOICES_PAGE = 15  # posts per page of the Voices table, paged on the server
SEARCH_CHARS = 200  # a search longer than this in a link is cut
AT_FORMAT = "%Y-%m-%dT%H:%MZ"


@dataclass(frozen=True)
class ViewState:
    """What the page shows; ``brand`` and ``outage`` are None until chosen."""

    brand: str | None = None
    outage: int | None = None
    period: str = DEFAULT_PERIOD
    bucket: str = DEFAULT_BUCKET
    tab: str = DEFAULT_TAB
    label: str = "all"  # Voices: the sentiment class shown
    search: str = ""  # Voices: text the posts contain
    at: str | None = None  # Voices: the start of the clicked time step (AT_FORMAT, UTC)


def parse_at(value: str | None) -> str | None:
    """``value`` as a UTC time in ``AT_FORMAT``, or None when it is not a time."""
    from datetime import UTC

    from dipwatch.core.times import parse_time

    try:
        return parse_time((value or "").strip(), UTC, field="at").strftime(AT_FORMAT)
    except ValueError:
        return None


def parse_state(search: str | None) -> ViewState:
    """The state in a query string (``?brand=x&outage=3``, with or without the ``?``)."""
    values = parse_qs((search or "").lstrip("?"), keep_blank_values=False)

    def first(key: str) -> str | None:
        found = values.get(key)
        return found[0].strip() if found else None

    outage = first("outage")
    period, bucket, tab = first("period"), first("bucket"), first("tab")
    return ViewState(
        brand=(first("brand") or "").lower() or None,
        outage=int(outage) if outage and outage.isdigit() else None,
        period=period if period in PERIODS else DEFAULT_PERIOD,
        bucket=bucket if bucket in BUCKETS else DEFAULT_BUCKET,
        tab=tab if tab in TABS else DEFAULT_TAB,
        label=first("label") if first("label") in LABELS else "all",
        search=(first("q") or "")[:SEARCH_CHARS],
        at=parse_at(first("at")),
    )


def build_search(state: ViewState) -> str:
    """The query string of ``state``, leaving out defaults and unset values (``?brand=x&outage=3``)."""
    defaults = ViewState()
    names = {"search": "q"}
    pairs = [(names.get(key, key), value) for key, value in asdict(state).items()
             if value is not None and (key in ("brand", "outage") or value != getattr(defaults, key))]
    return "?" + urlencode(pairs) if pairs else ""


def resolve_state(state: ViewState, brands: list[str], outages_of, default_outage) -> ViewState:
    """``state`` with a brand that exists and an outage of that brand.

    :param brands: brand keys in display order (the first is the default).
    :param outages_of: brand key -> the ids of its selectable outages.
    :param default_outage: brand key -> the id to select when the state names none of the brand's.
    """
    brand = state.brand if state.brand in brands else (brands[0] if brands else None)
    if brand is None:
        return replace(state, brand=None, outage=None)
    outage = state.outage if state.outage in outages_of(brand) else default_outage(brand)
    return replace(state, brand=brand, outage=outage)
