"""What the dashboard shows, as plain data: outage choices, metric cards, the posts of a window.

No Dash imports: callbacks unpack their inputs, call these, and hand the results to the layout.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import closing
from datetime import UTC, datetime, timedelta

from analysis.classifier import label_of
from analysis.headline import duration
from analysis.sentiment import scorer_id
from analysis.words import Term, distinctive_terms
from dipwatch.core.brands import Brand
from dipwatch.core.conventions import BUCKET_MINUTES
from dipwatch.core.records import Outage
from dipwatch.measures import BrandOutline, BrandView, as_of
from dipwatch.store import Store

POST_COLUMNS = ["time", "source", "sentiment", "label", "stars", "engagement", "text", "link"]
# The Overview's chart and details, worded once for the dashboard and the HTML report.
OVERVIEW_CHART_TITLE = "Share of posts negative, and posts, around the outage"
OVERVIEW_CHART_KEY = ("Blue line: share of posts negative (smoothed), with its 95% interval shaded. "
                      "Green band: normal for this brand (the baseline). Orange: the outage. "
                      "Below: posts per time step.")
ANALYST_SUMMARY = "Analyst figures: rise in baseline SDs, tone (VADER, -1 to +1), sentiment-hours, intervals"
WINDOW_TAIL = timedelta(hours=24)  # posts keep coming after the fix: show the day after the end too
MISSING = "n/a"
ARROW = "\u2192"


# formatting ---------------------------------------------------------------------------------
def fmt_number(value: float | None, places: int = 2) -> str:
    """``0.41``; ``n/a`` for None."""
    return MISSING if value is None else f"{value:.{places}f}"


def fmt_hours(value: float | None) -> str:
    """``14.0 h``; ``n/a`` for None."""
    return MISSING if value is None else f"{value:.1f} h"


def fmt_ratio(value: float | None) -> str:
    """``2.3x``; ``n/a`` for None."""
    return MISSING if value is None else f"{value:.1f}x"


def fmt_share(value: float | None) -> str:
    """``62%``; ``n/a`` for None."""
    return MISSING if value is None else f"{value * 100:.0f}%"


def fmt_time(value: datetime | None) -> str:
    """``21 Sep 2026 09:00 UTC``; ``n/a`` for None."""
    if value is None:
        return MISSING
    return value.astimezone(UTC).strftime("%d %b %Y %H:%M UTC")


def fmt_count(value: int | None) -> str:
    """``1,234``; ``n/a`` for None."""
    return MISSING if value is None else f"{value:,}"


# brands -------------------------------------------------------------------------------------
def ordered_brands(brands: Mapping[str, Brand]) -> dict[str, Brand]:
    """``brands`` in the dropdown's order, by display name ignoring case; the first is the default."""
    return dict(sorted(brands.items(), key=lambda item: item[1].name.lower()))


def unknown_brand_note(wanted: str | None, brands: Mapping[str, Brand], shown: str | None) -> str | None:
    """What to say when a link names a brand the database does not hold (a typo, or a brand of
    another deployment), rather than silently showing another one; None otherwise."""
    if not wanted or wanted in brands:
        return None
    instead = f"showing {brands[shown].name} instead" if shown in brands else "it has no brands yet"
    return f"This link names the brand {wanted!r}, which this database does not hold: {instead}."


def brand_options(brands: Mapping[str, Brand]) -> list[dict]:
    """Dropdown options of ``brands`` (in their order)."""
    return [{"label": brand.name, "value": key} for key, brand in brands.items()]


# outages ------------------------------------------------------------------------------------
def outage_label(outage: Outage) -> str:
    """``Checkout and payments failing (21 Sep 2026 09:00 UTC, 50.0 h)``, or ``... ongoing``."""
    if outage.end is None:
        return f"{outage.label} ({fmt_time(outage.start)}, ongoing)"
    hours = (outage.end - outage.start) / timedelta(hours=1)
    return f"{outage.label} ({fmt_time(outage.start)}, {fmt_hours(hours)})"


def outage_options(outages: Sequence[Outage]) -> list[dict]:
    """Dropdown options for a brand's outages (``store.list_outages`` or ``view.outages``), newest first.

    Takes the outages rather than a whole :class:`BrandView`: listing them needs no series.
    """
    ordered = sorted(outages, key=lambda o: o.start, reverse=True)
    return [{"label": outage_label(o), "value": o.id} for o in ordered]


def default_outage(outages: Sequence[Outage]) -> int | None:
    """The most recent outage's id, or None when there is none."""
    return max(outages, key=lambda o: o.start).id if outages else None


def find_outage(view: BrandView | BrandOutline, outage_id: int | None) -> Outage | None:
    """The outage ``outage_id`` of this brand; the most recent one when it is not this brand's."""
    by_id = {o.id: o for o in view.outages}
    if outage_id in by_id:
        return by_id[outage_id]
    fallback = default_outage(view.outages)
    return by_id.get(fallback) if fallback is not None else None


# metric cards -------------------------------------------------------------------------------
def recovery_text(m) -> str:
    """The recovery status in words: a time, ``ongoing``, ``not yet recovered`` or ``no baseline``."""
    if m.status == "recovered":
        return fmt_time(m.recovered_at)
    if m.status == "not recovered":
        return "not yet recovered"
    return m.status


def interval_text(interval: dict | None, name: str, hours: bool = False) -> str:
    """``95% interval 0.62-0.74`` from a bootstrap record, or "" when there is none."""
    if not interval:
        return ""
    low, high = interval.get(f"{name}_lo"), interval.get(f"{name}_hi")
    if low is None and high is None:
        return ""
    show = fmt_hours if hours else fmt_number
    level = round((interval.get("interval_level") or 0.95) * 100)
    upper = show(high) if high is not None else "never"
    return f"{level}% interval {show(low)} to {upper}"


def share_cards(m) -> list[tuple[str, str, str]]:
    """The share family's cards in plain units, what a comms team reads first: how negative, how
    loud, back to normal or not, and how many negative posts beyond the usual. Each says one thing;
    the headline rounds as they do (:func:`analysis.headline.duration`)."""
    if m.share_baseline is None:
        return []
    normal = f"normal {fmt_share(m.share_baseline)}"
    worst = (None if m.share_peak is None
             else f"at worst {fmt_share(m.share_peak)}, {fmt_time(m.share_peak_at)}")
    if m.share_during is not None:  # as the headline leads (analysis.headline.share_lead)
        negative = ("Negative posts", fmt_share(m.share_during),
                    "; ".join(part for part in ("during the outage", worst, normal) if part))
    elif worst is not None:
        negative = ("Negative posts", fmt_share(m.share_peak), f"{worst}; {normal}")
    else:
        negative = ("Negative posts", MISSING, f"{normal}; no time step with enough posts yet")
    status = m.share_status
    if status == "recovered":
        back = ("Back to normal", f"{duration(m.share_time_to_recover_h)} after the fix",
                f"at {fmt_time(m.share_recovered_at)}")
    elif status == "not recovered":
        back = ("Back to normal", "not yet", f"{duration(m.hours_since_end)} since the fix")
    elif status == "no data":
        back = ("Back to normal", "no data", f"no posts since {fmt_time(m.last_post_at)}")
    else:
        back = ("Back to normal", status, "the outage has not ended" if status == "ongoing" else "")
    volume = ("Volume", MISSING if m.volume_lift is None else f"{m.volume_lift:.1f}x usual",
              f"{fmt_number(m.posts_per_h_during, 1)} posts/h vs {fmt_number(m.baseline_posts_per_h, 1)}; "
              f"{fmt_count(m.posts_during)} posts during the outage")
    excess = ("Excess negative posts", fmt_count(None if m.excess_negative_posts is None
                                                 else round(m.excess_negative_posts)),
              "beyond the normal share, from the start to recovery")
    return [negative, volume, back, excess]


def share_details(m) -> list[tuple[str, str, str]]:
    """The share family's analyst figures: the rise in points and baseline SDs, the peak's
    interval, posts against voices."""
    if m.share_baseline is None:
        return []
    if m.share_rise_pts is None:
        rise = ("Rise in negative share", MISSING, "no peak to compare")
    else:
        sign = "+" if m.share_rise_pts >= 0 else ""
        sds = f"{m.share_rise_sd:.1f} baseline SDs" if m.share_rise_sd is not None else "SD not measured"
        rise = ("Rise in negative share", f"{sign}{m.share_rise_pts:.0f} points", sds)
    peak = ("Peak negative share, 95% interval",
            f"{fmt_share(m.share_peak_lo)} to {fmt_share(m.share_peak_hi)}"
            if m.share_peak_lo is not None else MISSING, "estimated, with the classifier's error rates")
    # The posts are on the Volume card; the tone's figures count voices, which can differ.
    voices = ("Voices during", fmt_count(m.voices_during),
              "one per author per time step, behind the tone figures; "
              f"baseline {fmt_count(m.baseline_posts)} posts")
    return [rise, peak, voices]


def tone_cards(m, interval: dict | None = None, shares: bool = False) -> list[tuple[str, str, str]]:
    """The tone family's cards (VADER's -1..+1 compound). Beside the share family (``shares``) its
    recovery is named as the tone's, so no card says "recovered" twice in two ways."""
    depth_note = (f"{m.dip_depth_sd:.1f} SD below baseline {fmt_number(m.baseline_mean)}"
                  if m.dip_depth_sd is not None else f"below baseline {fmt_number(m.baseline_mean)}")
    hours = duration if shares else fmt_hours  # beside the share's cards, rounded as they are
    if m.status == "recovered":
        recover = ("Time to recover", hours(m.time_to_recover_h), "from the outage's end")
    elif m.status == "not recovered":
        recover = ("Time to recover", "not yet recovered", f"{fmt_hours(m.hours_since_end)} since the end")
    elif m.status == "ongoing":
        recover = ("Time to recover", "ongoing", "the outage has not ended")
    else:
        recover = ("Time to recover", MISSING, "no baseline to recover to")
    depth_ci, trough_ci = interval_text(interval, "dip_depth"), interval_text(interval, "trough")
    recover_ci = interval_text(interval, "time_to_recover_h", hours=True)
    if recover_ci and m.status == "recovered":
        recover = (recover[0], recover[1], f"{recover[2]}; {recover_ci}")
    recovered = ("Recovered at", recovery_text(m), "smoothed sentiment back within 1 SD of baseline")
    if shares:
        recovered = ("Tone back to normal at", recovered[1], "VADER tone back within 1 SD of its baseline")
        recover = ("Tone's time to recover", *recover[1:])
    tone = [
        ("Dip depth", fmt_number(m.dip_depth), f"{depth_note}; {depth_ci}" if depth_ci else depth_note),
        ("Trough", fmt_number(m.trough),
         f"at {fmt_time(m.trough_at)}" + (f"; {trough_ci}" if trough_ci else "")),
        ("Time to trough", fmt_hours(m.time_to_trough_h), "from the outage's start"),
        recovered,
        recover,
        ("Sentiment-hours lost", fmt_number(m.sentiment_hours_lost, 1), "below baseline, start to recovery"),
    ]
    if shares:  # volume and posts are on the share family's cards; VADER's share would repeat it, worse
        return [(f"Tone: {t}" if not t.startswith("Tone") else t, v, n) for t, v, n in tone]
    return [
        *tone,
        ("Volume lift", fmt_ratio(m.volume_lift),
         f"{fmt_number(m.posts_per_h_during, 1)} posts/h vs {fmt_number(m.baseline_posts_per_h, 1)}"),
        ("Negative share", f"{fmt_share(m.negative_share_baseline)} {ARROW} "
         f"{fmt_share(m.negative_share_during)}", f"baseline {ARROW} during"),
        ("Posts during", fmt_count(m.posts_during), f"baseline: {fmt_count(m.baseline_posts)} posts"),
    ]


def overview_cards(m, interval: dict | None = None
                   ) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """(plain cards, analyst cards) of one outage's :class:`OutageMetrics`: with the share family
    measured, its plain cards lead and the tone's figures, SDs and intervals go to the details;
    without it, the tone's cards are the plain ones.

    :param interval: the outage's bootstrap record (``dipwatch.measures.interval_records``),
        shown under dip depth, trough and time to recover.
    """
    plain = share_cards(m)
    if not plain:
        return tone_cards(m, interval), []
    return plain, share_details(m) + tone_cards(m, interval, shares=True)


def cards(m, interval: dict | None = None) -> list[tuple[str, str, str]]:
    """Every card of :func:`overview_cards`, plain first (the report's and the tests' flat list)."""
    plain, details = overview_cards(m, interval)
    return plain + details


def sparse_warning(m) -> str | None:
    """A visible warning when a figure rests on too few posts (README "sparse data"), else None."""
    if m is None or not m.sparse:
        return None
    return f"Sparse data: {m.sparse_reason}. Treat these figures as rough."


def metrics_for(view: BrandView, outage_id: int | None):
    return next((m for m in view.metrics if m.outage_id == outage_id), None)


# posts --------------------------------------------------------------------------------------
def post_window(outage: Outage, now: datetime) -> tuple[datetime, datetime]:
    """From the outage's start to its end (or ``now``) plus a day."""
    return outage.start, (outage.end or now) + WINDOW_TAIL


def safe_link(url: str | None) -> str | None:
    """The URL when it is http(s); anything else (``javascript:``...) is not linked."""
    if url and url.lower().startswith(("https://", "http://")):
        return url
    return None


def post_row(post) -> dict:
    """One table / CSV row from a stored post mapping."""
    created = datetime.fromtimestamp(post["created_at"], UTC)
    return {
        "time": created.strftime("%Y-%m-%d %H:%M UTC"),
        "source": post["source"],
        "sentiment": round(float(post["compound"]), 3),
        # The class the share counts (the classifier's; VADER's label with the "vader" scorer).
        "label": label_of(post["p_negative"], post["p_neutral"], post["p_positive"]),
        "stars": post.get("rating"),  # App Store reviews: the customer's own 1-5 rating
        "engagement": post["engagement"],
        "text": post["text"],
        "link": safe_link(post["url"]),
    }


def window_posts(store: Store, brand: str, outage: Outage, limit: int = 200,
                 now: datetime | None = None) -> list[dict]:
    """The posts of ``outage``'s window, most negative first.

    :param now: where an ongoing window ends (default: the store's ``as_of``, else the clock).
    """
    start, end = post_window(outage, as_of(store, now))
    return posts_between(store, brand, start, end, limit)


def posts_between(store: Store, brand: str, start: datetime, end: datetime, limit: int,
                  contains: str | None = None, sources: Sequence[str] | None = None,
                  label: str | None = None) -> list[dict]:
    """Table rows of up to ``limit`` posts of ``brand`` in [start, end), most negative first.

    :param contains: keep only posts whose text contains this (case-insensitive); blank keeps all.
    :param sources: only these sources (all when empty); ``label``: only this sentiment class.
    """
    needle = (contains or "").strip().lower()
    rows: list[dict] = []
    # closing(): stopping early must release the generator's database connection at once. With a
    # needle the posts are searched in Python, so up to 20,000 are read instead of ``limit``.
    with closing(store.load_posts(brand, scorer_id(), start, end, order="sentiment",
                                  limit=20_000 if needle else limit, sources=sources,
                                  label=label)) as posts:
        for post in posts:
            if needle and needle not in post["text"].lower():
                continue
            rows.append(post_row(post))
            if len(rows) >= limit:
                break
    return rows


def window_words(store: Store, brand: Brand, start: datetime, end: datetime, since: datetime,
                 before: datetime, sources: Sequence[str] | None = None) -> list[Term]:
    """The words and phrases of the latest ``WINDOW_SAMPLE`` posts of [start, end) that are more
    frequent than in the latest ``BASELINE_SAMPLE`` posts of the baseline [since, before), the
    brand's own names left out; from ``sources`` only (all when empty)."""
    baseline = store.load_texts(brand.key, since, before, BASELINE_SAMPLE, sources)
    texts = store.load_texts(brand.key, start, end, WINDOW_SAMPLE, sources)
    return distinctive_terms(texts, baseline, drop=[*brand.terms, brand.name, brand.key])


# freshness ----------------------------------------------------------------------------------
STALE_AFTER = timedelta(hours=1)  # collection runs every 15 min in the ops guide: 1 h means 3+ missed


def fmt_age(age: timedelta) -> str:
    """``5 min``, ``3.2 h`` or ``2.0 days``."""
    minutes = max(0.0, age.total_seconds() / 60)
    if minutes < 90:
        return f"{minutes:.0f} min"
    hours = minutes / 60
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def freshness(rows: Sequence[dict], brand: str, now: datetime,
              last_post: datetime | None = None) -> tuple[str, bool]:
    """The freshness line of ``brand`` and whether it is stale.

    :param rows: ``store.collect_status(now)``; a brand with none was filled by ``dipwatch import``.
    :param last_post: the time of the brand's latest post, shown when nothing is collected.
    """
    mine = sorted((r for r in rows if r["brand"] == brand), key=lambda r: r["source"])
    if not mine:
        latest = f"; latest post {fmt_time(last_post)}" if last_post else ""
        return f"Posts imported from files (no scheduled collection){latest}.", False
    parts, stale = [], False
    for row in mine:
        if row["last_ok"] is None:
            part, stale = f"{row['source']}: never collected successfully", True
        else:
            age = now - row["last_ok"]
            part = f"{row['source']} {fmt_age(age)} ago"
            stale = stale or age > STALE_AFTER
        if row["last_status"] != "ok":
            error = (row.get("last_error") or "").splitlines()[0][:80] if row.get("last_error") else ""
            part += f" (last run {row['last_status']}{': ' + error if error else ''})"
            stale = True
        parts.append(part)
    text = "Last collection: " + ", ".join(parts) + "."
    if stale:
        text = f"Data may be out of date. {text}"
    return text, stale


# period -------------------------------------------------------------------------------------
PERIOD_DAYS = {"7d": 7, "30d": 30}


def period_window(period: str, outage: Outage | None, now: datetime,
                  params) -> tuple[datetime, datetime] | None:
    """The time range a period shows; None for all data.

    ``outage``: from the start of the selected outage's baseline to 72 h (the trough horizon) after
    its end, or to ``now`` while it is ongoing.
    """
    if period in PERIOD_DAYS:
        return now - timedelta(days=PERIOD_DAYS[period]), now
    if period == "outage" and outage is not None:
        end = (outage.end + timedelta(hours=params.trough_horizon_h)) if outage.end else now
        return outage.start - timedelta(days=params.baseline_days), min(end, now)
    return None


def overview_window(outage: Outage, now: datetime, recovered_at: datetime | None = None,
                    last_post: datetime | None = None) -> tuple[datetime, datetime]:
    """The time the Overview's chart shows: enough before the start to see normal (two days, or the
    outage's length up to two weeks), and after the end until two days past recovery (or past the
    end when it has not recovered), never beyond ``now`` nor far past the ``last_post``'s bucket (an
    ongoing outage whose posts stopped months ago would be a sliver of empty months). A 3-hour
    outage is not a sliver of 50 days."""
    limit = now if last_post is None else min(now, last_post + DATA_MARGIN)
    end = min(outage.end or now, limit)
    length = max(end - outage.start, timedelta(0))
    before = min(max(timedelta(days=2), length), timedelta(days=14))
    after = (recovered_at or end) + timedelta(days=2)
    return outage.start - before, max(min(after, limit), outage.start + DATA_MARGIN)


DATA_MARGIN = timedelta(hours=6)


# compare ------------------------------------------------------------------------------------
def compare_summary(brand_name: str, m, comparisons: Sequence, names: Mapping[str, str]) -> str:
    """What the comparison says in plain words, in the share of negative posts: how the brand's rose,
    whether each competitor's rose over the same time, and what that means. The method (difference
    in differences, on the tone) is for the details."""
    if m is None or m.share_baseline is None or m.share_during is None:
        return f"Not enough posts to say how {brand_name}'s share of negative posts moved in this outage."
    parts = [f"{brand_name}: {fmt_share(m.share_during)} of posts negative during the outage "
             f"(normal {fmt_share(m.share_baseline)})."]
    if not comparisons:
        return parts[0] + " No competitor with posts to compare with: add `competitors` to the brand."
    for c in comparisons:
        name, other = names.get(c.competitor, c.competitor), c.metrics
        if other.share_baseline is None or other.share_during is None:
            parts.append(f"{name}: too few posts over the same time to compare.")
            continue
        # Pooled over the whole window, not the peak: a competitor's smoothed share of a few posts
        # an hour jumps to 40-70% now and then at normal times (Shopwell in the demo).
        rose = other.share_during - other.share_baseline >= SHARED_RISE
        mine = m.share_during - m.share_baseline >= SHARED_RISE
        if mine:
            verdict = (f"so {name}'s customers were unhappy too: part of this may be a shared cause"
                       if rose else f"so the rise is {brand_name}'s own, not the market's")
        else:
            verdict = f"so {name}'s rose more" if rose else "so neither moved much"
        parts.append(f"{name} over the same time: {fmt_share(other.share_during)} "
                     f"(normal {fmt_share(other.share_baseline)}), {verdict}.")
    return " ".join(parts)


SHARED_RISE = 0.10  # ten points above normal over the whole window is a rise a reader would call one


def series_near(series, window: tuple[datetime, datetime] | None):
    """The buckets of ``series`` (indexed by time) in ``window`` and a tenth of its length either
    side; all of them when ``window`` is None.

    Speed, not content: plotly draws every point it is given, shown or not, and drawing was most of
    the first Timeline open (the demo's 1,201 hourly buckets: 0.94 s of drawing, 0.36 s for those of
    the period; measured with Plotly.newPlot in headless Chromium). The margin keeps a short pan
    drawn; "All data" still draws everything.
    """
    if window is None or series.empty:
        return series
    start, end = window
    pad = (end - start) / 10
    return series.loc[(series.index >= start - pad) & (series.index < end + pad)]


# clicked bucket -----------------------------------------------------------------------------
def clicked_bucket(click: dict | None, bucket_delta) -> tuple[datetime, datetime] | None:
    """The bucket [start, start + width) of a point clicked on the timeline (plotly ``clickData``,
    whose x is the bucket's start as naive UTC text); None when nothing usable was clicked."""
    points = (click or {}).get("points") or []
    if not points or not points[0].get("x"):
        return None
    try:
        start = datetime.fromisoformat(str(points[0]["x"]).replace(" ", "T"))
    except ValueError:
        return None
    start = start.replace(tzinfo=UTC) if start.tzinfo is None else start.astimezone(UTC)
    return start, start + bucket_delta


def clicked_at(click: dict | None) -> str | None:
    """The start of the time step clicked on the timeline (ISO 8601, UTC), None when none was."""
    found = clicked_bucket(click, timedelta(0))
    return found[0].isoformat() if found else None


def clicked_step(at: str | None, bucket: str) -> dict | None:
    """``{"start", "end"}`` (ISO 8601) of the ``bucket`` time step starting at ``at`` (see
    :func:`dashboard.state.parse_at`), or None for the whole outage window."""
    if not at:
        return None
    start = datetime.fromisoformat(at)
    end = start + timedelta(minutes=BUCKET_MINUTES[bucket])
    return {"start": start.isoformat(), "end": end.isoformat()}


# voices -------------------------------------------------------------------------------------
BASELINE_SAMPLE = 3000  # posts sampled from the baseline for the word comparison
WINDOW_SAMPLE = 2000


def voices_window(clicked: dict | None, outage: Outage | None, now: datetime
                  ) -> tuple[datetime, datetime, str] | None:
    """The time range whose posts Voices shows, and how to name it.

    :param clicked: ``{"start": iso, "end": iso}`` of a clicked time step, or None for the outage's
        window (:func:`post_window`).
    """
    if clicked:
        start, end = datetime.fromisoformat(clicked["start"]), datetime.fromisoformat(clicked["end"])
        return start, end, f"the time step from {fmt_time(start)} to {fmt_time(end)} (clicked on the chart)"
    if outage is None:
        return None
    start, end = post_window(outage, now)
    return start, end, f"the outage window and the day after, {fmt_time(start)} to {fmt_time(end)}"

