"""Voices: which posts the tab shows (window, filters, order), a page of them at a time, all of
them as a streamed CSV, and the caption that says what is shown.

The table pages on the server: each page is one query of ``VOICES_PAGE`` posts, so the whole window
(thousands of posts) can be read without sending it to the browser; the download reads the same
posts from the store row by row.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from analysis.sentiment import scorer_id
from dashboard import model
from dashboard.state import LABELS, VOICES_PAGE
from dipwatch.core.times import parse_time

DOWNLOAD_PATH = "/download/voices.csv"
# Table column -> the store's order; the text and link columns do not sort.
SORTS = {"time": "time", "sentiment": "sentiment", "label": "sentiment", "engagement": "engagement",
         "stars": "rating", "source": "source"}
ORDER_WORDS = {("sentiment", False): "most negative first", ("sentiment", True): "most positive first",
               ("time", False): "oldest first", ("time", True): "newest first",
               ("engagement", False): "least engagement first", ("engagement", True): "most engagement first",
               ("rating", False): "lowest stars first (reviews only have stars)",
               ("rating", True): "highest stars first (reviews only have stars)",
               ("source", False): "by source, A to Z", ("source", True): "by source, Z to A"}


@dataclass(frozen=True)
class VoicesQuery:
    """The posts Voices shows: ``brand``'s in [start, end) (``where`` names that range), filtered
    and ordered."""

    brand: str
    start: datetime
    end: datetime
    where: str
    sources: tuple[str, ...] = ()
    label: str | None = None  # None: every class
    contains: str = ""
    order: str = "sentiment"
    descending: bool = False

    def _filters(self) -> dict:
        return {"start": self.start, "end": self.end, "sources": list(self.sources), "label": self.label,
                "contains": self.contains}


def sort_of(sort_by: Sequence[dict] | None) -> tuple[str, bool]:
    """(store order, descending) of a DataTable ``sort_by``; most negative first by default."""
    for item in sort_by or ():
        order = SORTS.get(item.get("column_id"))
        if order:
            return order, item.get("direction") == "desc"
    return "sentiment", False


def find_query(views, brand_key: str, outage_id, bucket: str | None, sources, label: str | None,
               search: str | None, clicked: dict | None, sort: tuple[str, bool] = ("sentiment", False)):
    """(view, outage, query): the query is None when there is no window to read (no outage and
    nothing clicked)."""
    view = views.outline(brand_key, bucket or "1h", sources)
    outage = model.find_outage(view, outage_id)
    window = model.voices_window(clicked, outage, view.now)
    if window is None:
        return view, outage, None
    start, end, where = window
    query = VoicesQuery(brand_key, start, end, where, tuple(sorted(sources or ())),
                        None if label in (None, "", "all") else label, (search or "").strip(), *sort)
    return view, outage, query


def count(store, query: VoicesQuery) -> dict[str, int]:
    """``posts``, ``rated`` and ``engaged`` counts of the query's posts."""
    return store.count_window_posts(query.brand, scorer_id(), **query._filters())


def page_rows(store, query: VoicesQuery, page: int, size: int = VOICES_PAGE) -> list[dict]:
    """Table rows of page ``page`` (from 0) of the query's posts."""
    with closing(store.load_posts(query.brand, scorer_id(), order=query.order, descending=query.descending,
                                  limit=size, offset=page * size, **query._filters())) as posts:
        return [model.post_row(post) for post in posts]


def all_rows(store, query: VoicesQuery) -> Iterator[dict]:
    """Every post of the query as a CSV row, read from the store as they are written."""
    with closing(store.load_posts(query.brand, scorer_id(), order=query.order, descending=query.descending,
                                  **query._filters())) as posts:
        for post in posts:
            yield model.post_row(post)


def visible_columns(counts: dict[str, int]) -> list[str]:
    """The table's columns without those no post of the window fills (stars, engagement)."""
    empty = {"stars": not counts["rated"], "engagement": not counts["engaged"]}
    return [c for c in model.POST_COLUMNS if not empty.get(c)]


def caption(query: VoicesQuery, posts: int) -> str:
    """``1,204 negative posts containing "refund" from ..., most engagement first.``"""
    kind = f"{query.label} " if query.label else ""
    what = f"{posts:,} {kind}post{'' if posts == 1 else 's'}"
    search = f' containing "{query.contains}"' if query.contains else ""
    return (f"{what}{search} from {query.where}, {ORDER_WORDS[query.order, query.descending]}. "
            "Click a column header to sort (text and link do not sort).")


def download_href(query: VoicesQuery, outage_id) -> str:
    """The address of the query's posts as CSV (see :func:`query_from_args`)."""
    pairs = [("brand", query.brand), ("outage", "" if outage_id is None else outage_id),
             ("start", query.start.isoformat()), ("end", query.end.isoformat()),
             ("label", query.label or "all"), ("q", query.contains), ("order", query.order),
             ("desc", int(query.descending)), *(("source", s) for s in query.sources)]
    return DOWNLOAD_PATH + "?" + urlencode(pairs)


def query_from_args(args, brands: Sequence[str]) -> tuple[VoicesQuery, str]:
    """The query and file name a download address names (``args``: a Flask ``request.args``).

    :raises ValueError: naming the argument that is missing or wrong.
    """
    brand = args.get("brand", "")
    if brand not in brands:
        raise ValueError(f"brand: {brand!r} is not a brand of this dashboard")
    # Naive times are UTC, as the page writes them; parse_time's BadValueError is a ValueError.
    start = parse_time(args.get("start"), UTC, field="start")
    end = parse_time(args.get("end"), UTC, field="end")
    order = args.get("order", "sentiment")
    if order not in set(SORTS.values()):
        raise ValueError(f"order: expected one of {sorted(set(SORTS.values()))}")
    label = args.get("label", "all")
    if label not in LABELS:
        raise ValueError(f"label: expected one of {LABELS}")
    query = VoicesQuery(brand, start, end, "", tuple(sorted(args.getlist("source"))),
                        None if label == "all" else label, args.get("q", "").strip(), order,
                        args.get("desc") == "1")
    outage = args.get("outage") or "window"
    return query, f"dipwatch-{brand}-outage-{outage}-voices.csv"
