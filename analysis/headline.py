"""The headline of an outage in plain words, for the dashboard, the report and alerts."""

from __future__ import annotations

from datetime import datetime

from analysis.recovery import OutageMetrics

SEPARATOR = " \u00b7 "  # a middle dot between the status line's parts



def duration(value: float | None) -> str:
    """Hours as people say them, the one rounding of the headline, status line and cards:
    ``4.5 h`` under 10 h, ``14 h`` under two days, then ``2.1 days``."""
    if value is None:  # the status says there is a time; a figure without one says so
        return "an unknown time"
    if value < 48:
        return f"{value:.0f} h" if value >= 10 else f"{value:.1f} h"
    return f"{value / 24:.1f} days"


def _percent(share: float) -> str:
    """A share as a whole percentage, as the cards round it (``dashboard.model.fmt_share``)."""
    return f"{share * 100:.0f}%"


def share_measured(m: OutageMetrics) -> bool:
    """Whether ``m`` speaks in the share of negative posts: it has a baseline share, or its posts
    stopped (a data gap) so that "no data" is the share's own status. Otherwise the tone speaks."""
    return m.share_baseline is not None or (m.share_status == "no data" and m.data_gap_h is not None)


def headline(m: OutageMetrics) -> str:
    """One or two sentences a comms director can read at a glance, in the share of negative posts
    when it is measured (``share_headline``), else in the tone (``tone_headline``)."""
    return share_headline(m) if share_measured(m) else tone_headline(m)


def status_line(m: OutageMetrics, now: datetime) -> str:
    """The status in capitals and plain units, for a glance: e.g. "NOT RECOVERED · day 10 · 79% of
    posts negative (normal 13%) · 2.0x volume" (the share of the posts during the outage). In the
    share family when it is measured, else in the tone's status.

    :param now: the moment the figures are measured at (the view's ``now``), for the outage's day.
    """
    shares = share_measured(m)
    status = m.share_status if shares else m.status
    first = status.upper()
    recover_h = m.share_time_to_recover_h if shares else m.time_to_recover_h
    if status == "recovered" and recover_h is not None:
        first += f" {duration(recover_h)} after the fix"
    parts = [first]
    if status != "recovered":
        parts.append(f"day {int((now - m.start).total_seconds() // 86_400) + 1}")
    if status == "no data" and m.data_gap_h is not None:
        parts.append(f"no posts for {duration(m.data_gap_h)}")
    if shares and share_lead(m) and m.share_baseline is not None:
        parts.append(f"{share_lead(m)} of posts negative (normal {_percent(m.share_baseline)})")
    elif shares and m.share_baseline is not None:
        parts.append(f"normal {_percent(m.share_baseline)} of posts negative")
    elif not shares and m.dip_depth is not None:
        parts.append(f"sentiment {m.dip_depth:.2f} below normal")
    if m.volume_lift is not None:
        parts.append(f"{m.volume_lift:.1f}x volume")
    return SEPARATOR.join(parts)


def share_lead(m: OutageMetrics) -> str | None:
    """The share the headline and status line lead with: of all the posts during the outage, as
    its share in the window (``share_during``), else the peak as "up to". Not the peak first: over a
    long outage the highest of hundreds of noisy buckets overstates it (the demo's ten-day outage:
    95% at worst, 80% of its 6,640 posts)."""
    if m.share_during is not None:
        return _percent(m.share_during)
    return None if m.share_peak is None else f"up to {_percent(m.share_peak)}"


def share_headline(m: OutageMetrics) -> str:
    """e.g. "79% of posts negative during the outage (normal 13%), 2.0x the usual volume; not yet
    back to normal, 14 h since the site came back."
    """
    lead = share_lead(m)
    if m.share_baseline is None:
        first = f"Not enough posts before {m.label!r} to say what normal was"
    elif lead is None:
        first = f"No posts yet to measure (normal {_percent(m.share_baseline)} negative)"
    elif m.share_during is not None:
        first = f"{lead} of posts negative during the outage (normal {_percent(m.share_baseline)})"
    else:  # the peak, as "up to"
        first = f"{lead.capitalize()} of posts negative (normal {_percent(m.share_baseline)})"
    if m.volume_lift is not None:
        first += f", {m.volume_lift:.1f}x the usual volume"
    status = m.share_status
    if status == "recovered":
        tail = f"back to normal {duration(m.share_time_to_recover_h)} after the fix"
    elif status == "ongoing":
        tail = "the outage is still ongoing"
    elif status == "not recovered":
        tail = f"not yet back to normal, {duration(m.hours_since_end)} since the site came back"
    elif status == "no data":
        tail = (f"no posts for {duration(m.data_gap_h)}, so nothing says whether it recovered"
                if m.data_gap_h is not None else "no posts to measure")
    else:
        tail = f"{m.posts_during:,} posts during it"
    text = f"{first}; {tail}."
    if m.sparse:
        text += f" Few posts: {m.sparse_reason}."
    return text


def tone_headline(m: OutageMetrics) -> str:
    """The headline in VADER's tone (mean compound), for series without the share.

    e.g. "Sentiment fell 0.41 below normal, 2.3x the usual volume; not yet recovered, 14 h since
    the site came back."
    """
    if m.baseline_mean is None:
        return (f"Not enough data before {m.label!r} to say what normal was; "
                f"{m.posts_during:,} posts during it.")
    parts = []
    if m.dip_depth is not None and m.dip_depth > 0:
        parts.append(f"Sentiment fell {m.dip_depth:.2f} below normal")
    elif m.dip_depth is not None:
        parts.append("Sentiment did not fall below normal")
    else:
        parts.append("No posts yet to measure sentiment")
    if m.volume_lift is not None:
        parts.append(f"{m.volume_lift:.1f}x the usual volume")
    first = ", ".join(parts)
    if m.status == "recovered":
        tail = f"recovered {duration(m.time_to_recover_h)} after the fix"
    elif m.status == "ongoing":
        tail = "the outage is still ongoing"
        if m.trough is not None:
            tail += f" (lowest point so far {m.trough:.2f}, normal is {m.baseline_mean:.2f})"
    else:
        tail = f"not yet recovered, {duration(m.hours_since_end)} since the site came back"
    text = f"{first}; {tail}."
    if m.sparse:
        text += f" Few posts: {m.sparse_reason}."
    return text
