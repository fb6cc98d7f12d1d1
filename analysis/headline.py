"""The headline of an outage in plain words, for the dashboard, the report and alerts."""

from __future__ import annotations

from analysis.recovery import OutageMetrics


def _hours(value: float) -> str:
    if value < 48:
        return f"{value:.0f} h" if value >= 10 else f"{value:.1f} h"
    return f"{value / 24:.1f} days"


def headline(m: OutageMetrics) -> str:
    """One or two sentences a comms director can read at a glance.

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
        tail = f"recovered {_hours(m.time_to_recover_h)} after the fix"
    elif m.status == "ongoing":
        tail = "the outage is still ongoing"
        if m.trough is not None:
            tail += f" (lowest point so far {m.trough:.2f}, normal is {m.baseline_mean:.2f})"
    else:
        tail = f"not yet recovered, {_hours(m.hours_since_end)} since the site came back"
    text = f"{first}; {tail}."
    if m.sparse:
        text += f" Few posts: {m.sparse_reason}."
    return text
